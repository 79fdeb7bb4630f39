"""FC-INGRESS-001 and FC-MESH-001: detection, the fleet standard (declared or majority), versions, ties."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

INGRESS, MESH = "FC-INGRESS-001", "FC-MESH-001"
MODULE = "test_ingress_mesh.py"
DIGEST = "sha256:" + "4f" * 32


def _ingress_nginx(k8s: ModuleType, cluster: str, version: str) -> list[dict[str, Any]]:
    controller = k8s.deployment(
        "ingress-nginx-controller",
        "ingress-nginx",
        f"registry.k8s.io/ingress-nginx/controller:{version}@{DIGEST}",
        cluster=cluster,
        labels={"app.kubernetes.io/component": "controller", "app.kubernetes.io/managed-by": "Helm"},
    )
    return [controller, k8s.ingress_class("nginx", "k8s.io/ingress-nginx", cluster=cluster, default=True)]


def _istiod(k8s: ModuleType, cluster: str, version: str, name: str = "istiod") -> dict[str, Any]:
    return k8s.deployment(
        name, "istio-system", f"docker.io/istio/pilot:{version}", cluster=cluster, labels={"istio": "pilot"}
    )


def _fleet(k8s: ModuleType) -> dict[str, list[dict[str, Any]]]:
    alb = k8s.deployment(
        "aws-load-balancer-controller",
        "kube-system",
        "public.ecr.aws/eks/aws-load-balancer-controller:v2.9.2",
        cluster="ing-b",
    )
    return {
        "ing-a": [*_ingress_nginx(k8s, "ing-a", "v1.11.3"), _istiod(k8s, "ing-a", "1.22.3")],
        "ing-b": [
            *_ingress_nginx(k8s, "ing-b", "v1.11.2"),
            alb,
            k8s.ingress_class("alb", "ingress.k8s.aws/alb", cluster="ing-b"),
            _istiod(k8s, "ing-b", "1.23.1-distroless"),
        ],
        "ing-c": [*_ingress_nginx(k8s, "ing-c", "v1.8.1"), _istiod(k8s, "ing-c", "1.22.3")],
        "ing-d": [
            k8s.deployment("traefik", "traefik", "docker.io/traefik:v3.1.4", cluster="ing-d"),
            k8s.ingress_class("traefik", "traefik.io/ingress-controller", cluster="ing-d", default=True),
        ],
    }


@pytest.fixture
def fleet_snapshots(k8s: ModuleType, tmp_path: Path) -> dict[str, Path]:
    return {name: k8s.write_snapshot(tmp_path / "fleet", name, objs) for name, objs in _fleet(k8s).items()}


def test_majority_standard_and_versions(
    pytester: pytest.Pytester, k8s: ModuleType, fleet_snapshots: dict[str, Path]
) -> None:
    results = k8s.run_checks(pytester, MODULE, list(fleet_snapshots.values()))

    assert results.outcome(INGRESS, "ing-a") == "pass", results.message(INGRESS, "ing-a")
    assert results.outcome(INGRESS, "ing-b") == "pass", results.message(INGRESS, "ing-b")
    assert results.outcome(INGRESS, "ing-c") == "fail"
    assert results.message(INGRESS, "ing-c") == (
        "ingress-nginx 1.8.1 (ingress-nginx/Deployment/ingress-nginx-controller) is 3 minors behind the standard "
        "1.11 (majority: 2 of 3 clusters of cohort profile default: ing-a, ing-b; not counted: ing-d (value unknown)); "
        "expected 1.11 +/- 1 minor"
    )
    assert results.objects(INGRESS, "ing-c") == ["ingress-nginx/Deployment/ingress-nginx-controller"]
    assert results.outcome(INGRESS, "ing-d") == "fail"
    assert results.message(INGRESS, "ing-d") == (
        "ingress controller is traefik 3.1.4 (traefik/Deployment/traefik), not ingress-nginx; expected the fleet "
        "standard ingress-nginx (majority: 3 of 4 clusters of cohort profile default: ing-a, ing-b, ing-c)"
    )
    assert results.objects(INGRESS, "ing-d") == ["traefik/Deployment/traefik"]

    for cluster in ("ing-a", "ing-b", "ing-c"):
        assert results.outcome(MESH, cluster) == "pass", results.message(MESH, cluster)
    assert results.outcome(MESH, "ing-d") == "fail"
    assert results.message(MESH, "ing-d") == (
        "no service mesh found; expected istio (majority: 3 of 4 clusters of cohort profile default: ing-a, ing-b, "
        "ing-c)"
    )


def test_declared_standard_with_minor_and_alias(
    pytester: pytest.Pytester, k8s: ModuleType, fleet_snapshots: dict[str, Path], tmp_path: Path
) -> None:
    profile = k8s.write_profile(tmp_path, "edge", standards={"ingress": "nginx@1.9", "mesh": "linkerd"})
    chosen = [fleet_snapshots[name] for name in ("ing-a", "ing-c", "ing-d")]

    results = k8s.run_checks(pytester, MODULE, chosen, profile=profile)

    assert results.outcome(INGRESS, "ing-a") == "fail"
    assert results.message(INGRESS, "ing-a") == (
        "ingress-nginx 1.11.3 (ingress-nginx/Deployment/ingress-nginx-controller) is 2 minors ahead of the standard "
        "1.9 (declared by profile edge (standards.ingress)); expected 1.9 +/- 1 minor"
    )
    assert results.outcome(INGRESS, "ing-c") == "pass"
    assert results.message(INGRESS, "ing-d").endswith(
        "not ingress-nginx; expected the fleet standard ingress-nginx@1.9 "
        "(declared by profile edge (standards.ingress))"
    )
    assert results.outcome(MESH, "ing-a") == "fail"
    assert results.message(MESH, "ing-a").startswith(
        "service mesh is istio 1.22.3 (istio-system/Deployment/istiod), not linkerd"
    )


def test_even_split_is_said_and_no_standard_when_nobody_runs_one(
    pytester: pytest.Pytester, k8s: ModuleType, tmp_path: Path
) -> None:
    linkerd = k8s.deployment(
        "linkerd-destination", "linkerd", "cr.l5d.io/linkerd/controller:stable-2.14.10", cluster="mesh-l"
    )
    cilium_config = k8s.configmap(
        "cilium-config",
        "kube-system",
        {"enable-envoy-config": "true", "kube-proxy-replacement": "true", "cluster-name": "mesh-c"},
        cluster="mesh-c",
    )
    cilium = k8s.daemonset("cilium", "kube-system", "quay.io/cilium/cilium:v1.16.3", cluster="mesh-c")
    snapshots = [
        k8s.write_snapshot(tmp_path, "mesh-l", [linkerd]),
        k8s.write_snapshot(tmp_path, "mesh-c", [cilium_config, cilium]),
    ]

    results = k8s.run_checks(pytester, MODULE, snapshots)

    for cluster in ("mesh-l", "mesh-c"):
        assert results.outcome(MESH, cluster) == "skip"
        assert results.message(MESH, cluster) == (
            "no fleet standard service mesh: no product is run by more than half of the 2 clusters of cohort profile "
            "default (cilium on 1 (mesh-c); linkerd on 1 (mesh-l)); declare standards.mesh in profile default or name "
            "a reference cluster (--reference-cluster NAME, or reference_cluster in the profile)"
        )
        assert results.outcome(INGRESS, cluster) == "skip"
        assert results.message(INGRESS, cluster).startswith(
            "most clusters of cohort profile default run no ingress controller (no product on more than half of its "
            "2 readable clusters): there is no standard"
        )

    profile = k8s.write_profile(tmp_path, "typo", standards={"ingress": "ingres-nginx"})
    results = k8s.run_checks(pytester, MODULE, snapshots, profile=profile)
    assert results.outcome(INGRESS, "mesh-l") == "error"
    assert "standards.ingress: unknown ingress 'ingres-nginx'" in results.message(INGRESS, "mesh-l")


@pytest.fixture(scope="module")
def detection() -> ModuleType:
    """The check module itself, for its detection functions (loaded by path; checks/ is not a package)."""
    name = "_fleetcheck_tests_ingress_mesh_module"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[3] / "checks" / MODULE
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


def test_detection_of_gateways_classes_and_unversioned_images(k8s: ModuleType, detection: ModuleType) -> None:
    gateway = k8s.deployment(
        "istio-ingressgateway", "istio-system", "docker.io/istio/proxyv2:1.22.3", labels={"istio": "ingressgateway"}
    )
    egress = k8s.deployment("istio-egressgateway", "istio-system", "docker.io/istio/proxyv2:1.22.3")
    haproxy = k8s.daemonset("haproxy-ingress", "haproxy", "haproxytech/kubernetes-ingress@" + DIGEST)
    edge = k8s.deployment("linkerd-destination", "linkerd", "cr.l5d.io/linkerd/controller:edge-24.11.8")
    consul = k8s.deployment("consul-connect-injector", "consul", "hashicorp/consul-k8s-control-plane:1.6.1")
    classes = [
        k8s.ingress_class("alb", "ingress.k8s.aws/alb"),
        k8s.ingress_class("internal", "example.com/in-house-proxy"),
    ]

    found = detection.detect([gateway, egress, edge, consul], [haproxy], classes, [])

    assert sorted(found.ingress) == ["aws-load-balancer-controller", "example.com/in-house-proxy", "haproxy", "istio"]
    assert [c.describe() for c in found.ingress["istio"]] == [
        "istio 1.22.3 (istio-system/Deployment/istio-ingressgateway)"
    ]
    assert found.ingress["haproxy"][0].version_note == "no tag (digest only, or untagged)"
    assert found.ingress["aws-load-balancer-controller"][0].source == "IngressClass/alb"
    assert sorted(found.mesh) == ["consul", "linkerd"]
    assert found.mesh["linkerd"][0].version is None
    assert "edge release edge-24.11.8" in found.mesh["linkerd"][0].version_note
    assert str(found.mesh["consul"][0].version) == "1.6.1"
