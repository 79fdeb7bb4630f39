"""FC-GITOPS-001: top-level tenant workloads are counted once, by the marks Argo CD, Flux and Helm leave."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from fleetcheck.facts.ownership import OwnershipRules, manager_of, workload_census

CODE = "FC-GITOPS-001"
MODULE = "test_gitops.py"
IMAGE = "registry.eu-west.example.com/shop/{name}:1.4.2"


def _argocd(k8s: ModuleType, group: str, kind: str, namespace: str, name: str) -> dict[str, Any]:
    labels, annotations = k8s.argocd_marks("shop", group, kind, namespace, name)
    return {"labels": labels, "annotations": annotations}


def _managed_cluster(k8s: ModuleType, cluster: str) -> list[dict[str, Any]]:
    """Every tenant workload carries a tool's marks; what controllers create from them carries none."""
    objects: list[dict[str, Any]] = [
        k8s.namespace(n, cluster=cluster) for n in ("kube-system", "monitoring", "shop", "payments")
    ]
    for name in ("cart", "checkout", "catalog"):
        dep = k8s.deployment(
            name, "shop", IMAGE.format(name=name), cluster=cluster, **_argocd(k8s, "apps", "Deployment", "shop", name)
        )
        objects += [dep, *k8s.replicaset_and_pods(dep, cluster=cluster)]
    flux = {
        "kustomize.toolkit.fluxcd.io/name": "payments",
        "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
    }
    objects.append(k8s.statefulset("ledger", "payments", IMAGE.format(name="ledger"), cluster=cluster, labels=flux))
    helm = k8s.deployment(
        "redis",
        "payments",
        "registry.eu-west.example.com/bitnami/redis:7.4.1",
        cluster=cluster,
        labels={"app.kubernetes.io/managed-by": "Helm", "helm.sh/chart": "redis-20.3.0"},
        annotations={"meta.helm.sh/release-name": "redis", "meta.helm.sh/release-namespace": "payments"},
    )
    objects += [helm, *k8s.replicaset_and_pods(helm, cluster=cluster)]
    # label tracking (Argo CD before 3.0): only app.kubernetes.io/instance
    objects.append(
        k8s.cronjob(
            "reindex",
            "shop",
            IMAGE.format(name="reindex"),
            cluster=cluster,
            labels={"app.kubernetes.io/instance": "shop"},
        )
    )
    objects.append(
        k8s.job("reindex-29000000", "shop", IMAGE.format(name="reindex"), cluster=cluster, cronjob_owner="reindex")
    )
    # an operator's CR owns this StatefulSet: judged through the CR, not counted
    objects.append(
        k8s.statefulset(
            "prometheus-shop",
            "shop",
            "quay.io/prometheus/prometheus:v3.0.1",
            cluster=cluster,
            owner=("monitoring.coreos.com/v1", "Prometheus", "shop"),
        )
    )
    # system namespaces are not tenants, however they were applied
    objects.append(k8s.deployment("coredns", "kube-system", "registry.k8s.io/coredns/coredns:v1.11.3", cluster=cluster))
    objects.append(k8s.deployment("grafana", "monitoring", "grafana/grafana:11.3.0", cluster=cluster))
    return objects


def _drifted_cluster(k8s: ModuleType, cluster: str) -> list[dict[str, Any]]:
    objects = _managed_cluster(k8s, cluster)
    hotfix = k8s.deployment(
        "checkout-hotfix",
        "shop",
        IMAGE.format(name="checkout"),
        cluster=cluster,
        annotations={"kubectl.kubernetes.io/last-applied-configuration": '{"apiVersion":"apps/v1"}\n'},
    )
    objects += [hotfix, *k8s.replicaset_and_pods(hotfix, cluster=cluster)]
    objects.append(
        k8s.pod(
            "debug",
            "payments",
            "registry.eu-west.example.com/tools/netshoot:0.13",
            cluster=cluster,
            managed_fields=[{"manager": "kubectl-run", "operation": "Update", "apiVersion": "v1"}],
        )
    )
    # a bare Pod with labels of its own is a hand-made workload, whoever wrote it
    objects.append(
        k8s.pod(
            "scratch",
            "payments",
            "registry.eu-west.example.com/tools/netshoot:0.13",
            cluster=cluster,
            labels={"app": "scratch"},
            managed_fields=[{"manager": "kubectl-create", "operation": "Update", "apiVersion": "v1"}],
        )
    )
    objects.append(k8s.job("backfill-2026-11", "payments", IMAGE.format(name="backfill"), cluster=cluster))
    return objects


@pytest.fixture
def snapshots(k8s: ModuleType, tmp_path: Path) -> list[Path]:
    return [
        k8s.write_snapshot(tmp_path, "prod-managed", _managed_cluster(k8s, "prod-managed")),
        k8s.write_snapshot(tmp_path, "prod-drifted", _drifted_cluster(k8s, "prod-drifted")),
        k8s.write_snapshot(
            tmp_path,
            "edge-empty",
            [k8s.namespace("kube-system", cluster="edge-empty"), k8s.deployment("coredns", "kube-system", "c:1")],
        ),
    ]


def test_managed_drifted_and_empty_clusters(pytester: pytest.Pytester, k8s: ModuleType, snapshots: list[Path]) -> None:
    results = k8s.run_checks(pytester, MODULE, snapshots)

    assert results.outcome(CODE, "prod-managed") == "pass", results.message(CODE, "prod-managed")

    assert results.outcome(CODE, "prod-drifted") == "fail"
    message = results.message(CODE, "prod-drifted")
    assert message.startswith(
        "6 of 9 top-level workloads in 2 tenant namespaces are managed by GitOps or Helm (Argo CD 4, Flux 1, Helm 1): "
        "67%, below the threshold of 90%; 1 owned by other controllers not counted (1 by Prometheus); "
        "1 kubectl run debug Pod not counted (payments/Pod/debug); 3 unmanaged: "
    )
    assert "shop/Deployment/checkout-hotfix: applied with kubectl apply" in message
    # the kubectl run Pod (only label run=debug, no owner, field manager kubectl-run) is named apart, not a finding
    assert "payments/Pod/debug:" not in message
    assert "payments/Pod/scratch: written by kubectl-create" in message
    assert "payments/Job/backfill-2026-11: no GitOps or Helm marks" in message
    assert sorted(results.objects(CODE, "prod-drifted")) == [
        "payments/Job/backfill-2026-11",
        "payments/Pod/scratch",
        "shop/Deployment/checkout-hotfix",
    ]

    assert results.outcome(CODE, "edge-empty") == "skip"
    assert results.message(CODE, "edge-empty") == "no top-level workloads in the 0 tenant namespaces"


def test_a_profile_may_lower_the_threshold(
    pytester: pytest.Pytester, k8s: ModuleType, snapshots: list[Path], tmp_path: Path
) -> None:
    profile = k8s.write_profile(tmp_path, "dev", settings={CODE: {"threshold_percent": 60}})

    results = k8s.run_checks(pytester, MODULE, snapshots[:2], profile=profile)

    assert results.outcome(CODE, "prod-drifted") == "pass", results.message(CODE, "prod-drifted")


def test_label_tracking_can_be_turned_off_and_extra_keys_added(k8s: ModuleType) -> None:
    objects = _managed_cluster(k8s, "x")
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"], []).append(obj)
    plural = {
        "deployments": "Deployment",
        "statefulsets": "StatefulSet",
        "daemonsets": "DaemonSet",
        "cronjobs": "CronJob",
        "jobs": "Job",
        "replicasets": "ReplicaSet",
        "pods": "Pod",
    }

    def lister(kind: str) -> list[dict[str, Any]]:
        return by_kind.get(plural[kind], [])

    strict = workload_census(lister, {"shop", "payments"}, OwnershipRules(argocd_label=None))
    assert [w.ref for w in strict.unmanaged] == ["shop/CronJob/reindex"]

    kapp = k8s.deployment("kapp-app", "shop", "x:1", labels={"kapp.k14s.io/app": "1700000000"})
    assert manager_of(kapp) is None
    manager = manager_of(kapp, OwnershipRules(extra_keys=("kapp.k14s.io/app",)))
    assert manager is not None and str(manager) == "kapp.k14s.io/app: 1700000000"
    ssa = k8s.deployment("flux-ssa", "shop", "x:1")
    ssa["metadata"]["managedFields"] = [{"manager": "kustomize-controller", "operation": "Apply"}]
    assert str(manager_of(ssa)) == "Flux: field manager kustomize-controller"


def test_kubectl_run_pod_is_recognised_only_by_its_exact_marks(k8s: ModuleType) -> None:
    from fleetcheck.facts.ownership import is_kubectl_run_pod

    image = "busybox:1.36"
    assert is_kubectl_run_pod(k8s.pod("debug", "shop", image, managed_fields=[{"manager": "kubectl-run"}]))
    assert is_kubectl_run_pod(k8s.pod("debug", "shop", image))  # older servers record no managedFields
    # another label, another name, an owner or another field manager: an ordinary bare Pod
    assert not is_kubectl_run_pod(k8s.pod("debug", "shop", image, labels={"run": "debug", "team": "a"}))
    assert not is_kubectl_run_pod(k8s.pod("debug", "shop", image, labels={"run": "other"}))
    assert not is_kubectl_run_pod(k8s.pod("debug", "shop", image, owner=("v1", "Node", "worker-1")))
    assert not is_kubectl_run_pod(k8s.pod("debug", "shop", image, managed_fields=[{"manager": "argocd-controller"}]))
