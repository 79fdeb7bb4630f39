"""FC-ADDON-001..003 on real-shaped Deployments and DaemonSets (``kubectl get deploy,ds -A -o json``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.checks.gotcha_kit import meta, profile, scan, write_snapshot

Obj = dict[str, Any]
HELD = ("namespaces", "nodes", "deployments.apps", "daemonsets.apps", "statefulsets.apps")


def workload(kind: str, name: str, namespace: str, image: str, *, labels: dict[str, str] | None = None) -> Obj:
    labels = labels or {"app.kubernetes.io/name": name}
    spec: Obj = {
        "revisionHistoryLimit": 10,
        "selector": {"matchLabels": labels},
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "containers": [
                    {
                        "image": image,
                        "imagePullPolicy": "IfNotPresent",
                        "name": name,
                        "resources": {"requests": {"cpu": "100m", "memory": "70Mi"}},
                        "terminationMessagePath": "/dev/termination-log",
                        "terminationMessagePolicy": "File",
                    }
                ],
                "dnsPolicy": "ClusterFirst",
                "restartPolicy": "Always",
                "schedulerName": "default-scheduler",
                "serviceAccountName": name,
                "terminationGracePeriodSeconds": 30,
            },
        },
    }
    if kind == "Deployment":
        spec |= {"replicas": 2, "strategy": {"type": "RollingUpdate"}}
    else:
        spec |= {"updateStrategy": {"type": "RollingUpdate"}}
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": meta(name, namespace, generation=3, labels=labels),
        "spec": spec,
        "status": {"observedGeneration": 3},
    }


def _base(coredns: str = "v1.13.1", proxy: str = "v1.35.1") -> list[Obj]:
    return [
        workload("Deployment", "coredns", "kube-system", f"registry.k8s.io/coredns/coredns:{coredns}"),
        workload("DaemonSet", "kube-proxy", "kube-system", f"registry.k8s.io/kube-proxy:{proxy}"),
        workload("Deployment", "metrics-server", "kube-system", "registry.k8s.io/metrics-server/metrics-server:v0.7.2"),
    ]


def test_retired_components(pytester: pytest.Pytester, tmp_path: Path) -> None:
    clean = write_snapshot(tmp_path / "clean", _base(), held=HELD)
    nginx = workload(
        "Deployment",
        "ingress-nginx-controller",
        "ingress-nginx",
        "mirror.example.com/ingress-nginx/controller:v1.11.3@sha256:" + "a" * 64,
    )
    retired = write_snapshot(tmp_path / "retired", [*_base(), nginx], held=HELD)
    verdicts = scan(pytester, "test_addons.py", clean, retired)
    assert verdicts.outcome("FC-ADDON-001", "clean") == "pass"
    assert verdicts.outcome("FC-ADDON-001", "retired") == "fail"
    message = verdicts.message("FC-ADDON-001", "retired")
    assert "ingress-nginx, retired 2026-03-31" in message
    assert "https://kubernetes.io/blog/2025/11/11/ingress-nginx-retirement/" in message
    assert verdicts.objects("FC-ADDON-001", "retired") == ["ingress-nginx/Deployment/ingress-nginx-controller"]
    allowed = profile(tmp_path / "p.yaml", {"FC-ADDON-001": {"allow": ["ingress-nginx"]}})
    assert scan(pytester, "test_addons.py", retired, profile=allowed).outcome("FC-ADDON-001", "retired") == "pass"


def test_addon_floors(pytester: pytest.Pytester, tmp_path: Path) -> None:
    clean = write_snapshot(tmp_path / "clean", _base(), held=HELD)
    behind = write_snapshot(tmp_path / "behind", _base(coredns="v1.11.1", proxy="v1.33.7"), held=HELD)
    eks_objects = [
        workload(
            "Deployment",
            "coredns",
            "kube-system",
            "602401143452.dkr.ecr.eu-west-1.amazonaws.com/eks/coredns:v1.11.3-eksbuild.2",
        ),
        workload(
            "DaemonSet",
            "kube-proxy",
            "kube-system",
            "602401143452.dkr.ecr.eu-west-1.amazonaws.com/eks/kube-proxy:v1.31.2-minimal-eksbuild.3",
        ),
    ]
    eks = write_snapshot(tmp_path / "eks", eks_objects, held=HELD, server_version="v1.31.4-eks-2d98532")
    bare = write_snapshot(tmp_path / "bare", [], held=HELD)
    verdicts = scan(pytester, "test_addons.py", clean, behind, eks, bare)
    assert verdicts.outcome("FC-ADDON-002", "clean") == "pass"
    assert verdicts.outcome("FC-ADDON-002", "behind") == "fail"
    message = verdicts.message("FC-ADDON-002", "behind")
    assert "kube-system/Deployment/coredns: CoreDNS v1.11.1 is older than v1.13.1, shipped for 1.35" in message
    assert "kube-system/DaemonSet/kube-proxy: kube-proxy v1.33.7 is not the cluster's minor 1.35" in message
    assert verdicts.outcome("FC-ADDON-002", "eks") == "pass"
    assert verdicts.outcome("FC-ADDON-002", "bare") == "skip"
    assert "CoreDNS (not installed)" in verdicts.message("FC-ADDON-002", "bare")
    old_eks = write_snapshot(
        tmp_path / "oldeks",
        [eks_objects[0], workload("DaemonSet", "kube-proxy", "kube-system", "x.ecr/eks/kube-proxy:v1.29.0-eksbuild.1")],
        held=HELD,
        server_version="v1.31.4-eks-2d98532",
    )
    failing = scan(pytester, "test_addons.py", old_eks)
    assert failing.outcome("FC-ADDON-002", "oldeks") == "fail"
    text = failing.message("FC-ADDON-002", "oldeks")
    assert "provider builds (CoreDNS, kube-proxy) compared on their upstream version" in text
    assert "metrics-server (not installed)" in text


def test_cluster_autoscaler_minor(pytester: pytest.Pytester, tmp_path: Path) -> None:
    def cas(tag: str) -> Obj:
        image = f"registry.k8s.io/autoscaling/cluster-autoscaler:{tag}"
        return workload("Deployment", "cluster-autoscaler", "kube-system", image)

    good = write_snapshot(tmp_path / "good", [*_base(), cas("v1.35.0")], held=HELD)
    bad = write_snapshot(tmp_path / "bad", [*_base(), cas("v1.32.1")], held=HELD)
    none = write_snapshot(tmp_path / "none", _base(), held=HELD)
    verdicts = scan(pytester, "test_addons.py", good, bad, none)
    assert verdicts.outcome("FC-ADDON-003", "good") == "pass"
    assert verdicts.outcome("FC-ADDON-003", "bad") == "fail"
    assert "cluster-autoscaler v1.32.1 is minor 1.32" in verdicts.message("FC-ADDON-003", "bad")
    assert verdicts.objects("FC-ADDON-003", "bad") == ["kube-system/Deployment/cluster-autoscaler"]
    assert verdicts.outcome("FC-ADDON-003", "none") == "skip"


def test_not_captured_is_an_error(pytester: pytest.Pytester, tmp_path: Path) -> None:
    snap = write_snapshot(tmp_path / "partial", [], held=("namespaces", "nodes"))
    verdicts = scan(pytester, "test_addons.py", snap)
    assert verdicts.outcome("FC-ADDON-001", "partial") == "error"
    assert "deployments" in verdicts.message("FC-ADDON-001", "partial")
