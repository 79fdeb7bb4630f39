"""The provider's own namespaces are not tenants for FC-STALE-003, FC-COST-001 and FC-PV-001/002 either.

On a GKE cluster, Managed Service for Prometheus (``gmp-system``) is rolled
out by Google every few days and runs a collector per node: counted as a
tenant it makes an idle, nearly empty cluster look busy. On AKS, Azure
Policy's ``gatekeeper-system`` is Microsoft's, not a team's data. The same
objects on a cluster that shows no provider are a tenant's, and judged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.builders import namespace, write_snapshot
from tests.harness import REPO, Verdicts, run_checks

Obj = dict[str, Any]
CHECKS = [REPO / "checks" / f"test_{name}.py" for name in ("stale", "cost", "storage")]
_GKE_VERSION = "v1.31.4-gke.1256000"
_AKS_LABELS = {
    "agentpool": "nodepool1",
    "kubernetes.azure.com/cluster": "MC_rg-prod_aks-prod_westeurope",
    "kubernetes.azure.com/mode": "system",
    "kubernetes.azure.com/role": "agent",
}


def _node(name: str, labels: dict[str, str], provider_id: str, kubelet: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "uid": f"uid-{name}", "labels": labels},
        "spec": {"providerID": provider_id},
        "status": {
            "conditions": [{"type": "Ready", "status": "True", "lastHeartbeatTime": "2026-11-24T09:59:40Z"}],
            "nodeInfo": {"kubeletVersion": kubelet},
        },
    }


def _deployment(ns: str, name: str, created: str) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "uid": f"uid-{ns}-{name}", "creationTimestamp": created},
        "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": name, "image": f"r.example/{name}:1"}]}}},
        "status": {"conditions": [{"type": "Progressing", "status": "True", "lastUpdateTime": created}]},
    }


def _pod(ns: str, name: str, *, host_path: str | None = None) -> Obj:
    spec: Obj = {"nodeName": "node-1", "containers": [{"name": "c", "image": "r.example/app:1.0"}]}
    if host_path:
        spec["volumes"] = [{"name": "data", "hostPath": {"path": host_path}}]
        spec["containers"][0]["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": ns,
            "uid": f"uid-{ns}-{name}",
            "creationTimestamp": "2026-08-01T00:00:00Z",
        },
        "spec": spec,
        "status": {"phase": "Running"},
    }


def _claim(ns: str, name: str, storage_class: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": ns, "uid": f"uid-{ns}-{name}"},
        "spec": {"storageClassName": storage_class, "accessModes": ["ReadWriteOnce"]},
        "status": {"phase": "Bound"},
    }


def _old_namespace(name: str) -> Obj:
    """A namespace as old as the cluster (created with it, a year before capture)."""
    ns = namespace(name)
    ns["metadata"]["creationTimestamp"] = "2025-11-01T00:00:00Z"
    return ns


def _gke_shaped(root: Path, name: str, *, gke: bool) -> Path:
    """An idle team beside a busy gmp-system: GKE-labelled nodes and version, or nothing that says GKE."""
    labels = {"cloud.google.com/gke-nodepool": "default-pool", "cloud.google.com/gke-os-distribution": "cos"}
    nodes = [
        _node(
            f"gke-prod-default-pool-1a2b3c4d-{i}" if gke else f"node-{i}",
            labels if gke else {},
            f"gce://proj/europe-west1-b/node-{i}" if gke else "",
            _GKE_VERSION if gke else "v1.31.4",
        )
        for i in range(3)
    ]
    objects = [
        *nodes,
        *(_old_namespace(n) for n in ("default", "kube-system", "gmp-system", "team-a")),
        _deployment("gmp-system", "gmp-operator", "2026-11-22T03:00:00Z"),  # rolled out by Google two days ago
        _deployment("team-a", "api", "2026-08-01T00:00:00Z"),  # the only team: untouched for 115 days
        *(_pod("gmp-system", f"collector-{i}") for i in range(24)),
        *(_pod("team-a", f"api-{i}") for i in range(3)),
    ]
    return write_snapshot(
        root / name, objects, name=name, server_version=_GKE_VERSION if gke else "v1.31.4", labels={"tier": "dev"}
    )


def _aks_shaped(root: Path, name: str, *, aks: bool) -> Path:
    """A prod cluster whose only PVC and hostPath pod are Azure Policy's (gatekeeper-system)."""
    nodes = [
        _node(
            "aks-nodepool1-12345678-vmss000000" if aks else "node-1",
            _AKS_LABELS if aks else {},
            "azure:///subscriptions/0000/resourceGroups/mc_rg/providers/Microsoft.Compute/virtualMachineScaleSets/"
            "aks-nodepool1-12345678-vmss/virtualMachines/0"
            if aks
            else "",
            "v1.31.4",
        )
    ]
    objects = [
        *nodes,
        *(namespace(n) for n in ("default", "kube-system", "gatekeeper-system")),
        _claim("gatekeeper-system", "audit-cache", "managed-csi"),
        _pod("gatekeeper-system", "gatekeeper-audit-0", host_path="/var/lib/gatekeeper"),
    ]
    return write_snapshot(root / name, objects, name=name, labels={"tier": "prod"})


def _run(pytester: pytest.Pytester, *folders: Path) -> Verdicts:
    args = [arg for folder in folders for arg in ("--snapshot", str(folder))]
    return run_checks(pytester, CHECKS[0], *map(str, CHECKS[1:]), *args)


def test_gmp_system_is_googles_on_gke_and_a_tenant_elsewhere(pytester: pytest.Pytester, tmp_path: Path) -> None:
    verdicts = _run(pytester, _gke_shaped(tmp_path, "gke", gke=True), _gke_shaped(tmp_path, "plain", gke=False))
    # on GKE only team-a counts: idle for months, and 3 pods
    assert verdicts.outcome("FC-STALE-003", "gke") == "fail", verdicts.message("FC-STALE-003", "gke")
    assert "gmp-operator" not in verdicts.message("FC-STALE-003", "gke")
    assert verdicts.outcome("FC-COST-001", "gke") == "fail"
    assert "team-a 3" in verdicts.message("FC-COST-001", "gke")
    assert "gmp-system" not in verdicts.message("FC-COST-001", "gke")
    # where nothing says GKE, gmp-system is somebody's namespace: recent and busy
    assert verdicts.outcome("FC-STALE-003", "plain") == "pass"
    assert verdicts.outcome("FC-COST-001", "plain") == "pass"


def test_gatekeeper_system_is_azures_on_aks_and_a_tenant_elsewhere(pytester: pytest.Pytester, tmp_path: Path) -> None:
    verdicts = _run(pytester, _aks_shaped(tmp_path, "aks", aks=True), _aks_shaped(tmp_path, "plain", aks=False))
    assert verdicts.outcome("FC-PV-001", "aks") == "skip"
    assert verdicts.message("FC-PV-001", "aks") == "no PersistentVolumeClaims in tenant namespaces"
    assert verdicts.outcome("FC-PV-002", "aks") == "skip"
    assert verdicts.outcome("FC-PV-001", "plain") == "fail"
    assert verdicts.objects("FC-PV-001", "plain") == ["gatekeeper-system/PersistentVolumeClaim/audit-cache"]
    assert verdicts.outcome("FC-PV-002", "plain") == "fail"
    assert verdicts.objects("FC-PV-002", "plain") == ["gatekeeper-system/Pod/gatekeeper-audit-0"]
