"""FC-IMG-001..003 over snapshot folders of real-shaped objects, run as fleetcheck runs them (pytester)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

DIGEST = "sha256:" + "9f86d081884c7d659a2feaa0c55ad015" * 2
EU_REGISTRIES = {"eu-west": ["registry.eu-west.example.com", "*.dkr.ecr.eu-west-1.amazonaws.com"]}


def local_cluster(k8s: ModuleType) -> list[dict[str, Any]]:
    """A cluster that does everything right: regional registries, pinned images."""
    return [
        *k8s.deployment_family("web", "shop", [("web", "registry.eu-west.example.com/shop/web:1.4.2")]),
        *k8s.daemonset_family(
            "node-exporter",
            "monitoring",
            [("node-exporter", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/prometheus/node-exporter:v1.8.2")],
        ),
        k8s.cronjob("report", "billing", [("report", f"registry.eu-west.example.com/billing/report@{DIGEST}")]),
    ]


def test_local_pinned_images_pass(
    k8s: ModuleType, tmp_path: Path, run_checks: Callable[..., Any], write_profile: Callable[..., Path]
) -> None:
    snap = k8s.write_snapshot(tmp_path, "prod-eu-west-1", local_cluster(k8s), labels={"region": "eu-west"})
    run = run_checks("test_images.py", snap, profile=write_profile(registries=EU_REGISTRIES))
    assert run.outcomes("FC-IMG-001") == {"prod-eu-west-1": "pass"}
    assert run.outcomes("FC-IMG-002") == {"prod-eu-west-1": "pass"}
    assert run.outcomes("FC-IMG-003") == {"prod-eu-west-1": "pass"}
    assert run["FC-IMG-004", "prod-eu-west-1"].outcome == "skip"
    assert "live" in run["FC-IMG-004", "prod-eu-west-1"].message


def hub_cluster(k8s: ModuleType) -> list[dict[str, Any]]:
    web = k8s.deployment_family("web", "shop", [("web", "nginx:1.25")], init=[("wait-db", "busybox:1.36")])
    debugged = k8s.pod(
        "web-debug",
        "shop",
        [("web", "registry.eu-west.example.com/shop/web:1.4.2")],
        ephemeral=[("debugger-x7k2q", "nicolaka/netshoot:v0.13")],
    )
    return [
        *web,
        debugged,
        k8s.pod("toolbox", "ops", [("shell", "index.docker.io/library/alpine:3.20")]),
        *k8s.daemonset_family(
            "calico-node",
            "kube-system",
            [("calico-node", "docker.io/calico/node:v3.31.6")],
            init=[("install-cni", "docker.io/calico/cni:v3.31.6")],
        ),
        k8s.statefulset("redis", "shop", [("redis", "registry-1.docker.io/bitnami/redis:7.2.5")]),
        k8s.cronjob("cleanup", "ops", [("cleanup", "registry.eu-west.example.com/ops/cleanup:1.0")]),
    ]


def test_docker_hub_explicit_and_implicit_fail_once_per_object(
    k8s: ModuleType, tmp_path: Path, run_checks: Callable[..., Any], write_profile: Callable[..., Path]
) -> None:
    snap = k8s.write_snapshot(tmp_path, "prod-eu-west-1", hub_cluster(k8s), labels={"region": "eu-west"})
    run = run_checks("test_images.py", snap, profile=write_profile(registries=EU_REGISTRIES))
    verdict = run["FC-IMG-001", "prod-eu-west-1"]
    assert verdict.outcome == "fail"
    # one finding per object: the Deployment, not its ReplicaSet or Pods; the DaemonSet, not its Pods
    assert sorted(verdict.objects) == [
        "kube-system/DaemonSet/calico-node",
        "ops/Pod/toolbox",
        "shop/Deployment/web",
        "shop/Pod/web-debug",
        "shop/StatefulSet/redis",
    ]
    message = verdict.message
    assert message.startswith("5 objects pull images from Docker Hub; expected a registry allowed for region eu-west")
    assert "registry.eu-west.example.com, *.dkr.ecr.eu-west-1.amazonaws.com" in message
    assert "nginx:1.25 (implicitly docker.io/library/nginx:1.25) (container web)" in message
    assert "busybox:1.36 (implicitly docker.io/library/busybox:1.36) (init container wait-db)" in message
    assert (
        "nicolaka/netshoot:v0.13 (implicitly docker.io/nicolaka/netshoot:v0.13) (ephemeral container debugger-x7k2q)"
        in message
    )
    assert "index.docker.io/library/alpine:3.20 (= docker.io/library/alpine:3.20) (container shell)" in message
    assert "registry-1.docker.io/bitnami/redis:7.2.5 (= docker.io/bitnami/redis:7.2.5)" in message
    assert "docker.io/calico/node:v3.31.6 (container calico-node)" in message
    assert "cleanup" not in message
    # what the CI log shows
    assert "FC-IMG-001 [prod-eu-west-1] fail: 5 objects pull images from Docker Hub" in run.stdout
    # the same images are outside the region's registries too
    assert run["FC-IMG-002", "prod-eu-west-1"].outcome == "fail"
    assert set(run["FC-IMG-002", "prod-eu-west-1"].objects) == set(verdict.objects)


def test_docker_hub_allowed_by_region_pattern_or_setting(
    k8s: ModuleType, tmp_path: Path, run_checks: Callable[..., Any], write_profile: Callable[..., Path]
) -> None:
    objects = [
        k8s.pod("toolbox", "ops", [("shell", "alpine:3.20")]),
        k8s.pod("netshoot", "ops", [("shell", "nicolaka/netshoot:v0.13")]),
        k8s.pod("calico", "ops", [("shell", "docker.io/calico/ctl:v3.31.6")]),
    ]
    snap = k8s.write_snapshot(tmp_path, "dev-eu-west-1", objects, labels={"region": "eu-west"})
    profile = write_profile(
        registries={"eu-west": ["docker.io/library/*"], "*": ["docker.io/calico/*"]},
        settings={"FC-IMG-001": {"allowed_images": ["docker.io/nicolaka/netshoot:*"]}},
    )
    run = run_checks("test_images.py", snap, profile=profile)
    assert run["FC-IMG-001", "dev-eu-west-1"].outcome == "pass"
    # FC-IMG-002 knows nothing of FC-IMG-001's setting: netshoot is outside the region's registries
    assert run["FC-IMG-002", "dev-eu-west-1"].objects == ["ops/Pod/netshoot"]


def test_registry_not_allowed_for_region(
    k8s: ModuleType, tmp_path: Path, run_checks: Callable[..., Any], write_profile: Callable[..., Path]
) -> None:
    objects = [
        *local_cluster(k8s),
        *k8s.deployment_family("api", "shop", [("api", "registry.us-east.example.com/shop/api:2.0.1")]),
        k8s.deployment("metrics", "monitoring", [("agent", "quay.io/prometheus/prometheus:v2.54.1")]),
        k8s.deployment("acme", "shop", [("acme", "ghcr.io/acme/worker:5.1")]),
        k8s.deployment("coredns", "kube-system", [("coredns", "%s.dkr.ecr.%s.%s/eks/coredns:v1.11.1-eksbuild.1")]),
    ]
    snap = k8s.write_snapshot(tmp_path, "prod-eu-west-1", objects, labels={"region": "eu-west"})
    profile = write_profile(
        registries={**EU_REGISTRIES, "us-east": ["registry.us-east.example.com"], "*": ["ghcr.io/acme/*"]}
    )
    run = run_checks("test_images.py", snap, profile=profile)
    verdict = run["FC-IMG-002", "prod-eu-west-1"]
    assert verdict.outcome == "fail"
    assert sorted(verdict.objects) == [
        "kube-system/Deployment/coredns",
        "monitoring/Deployment/metrics",
        "shop/Deployment/api",
    ]
    assert verdict.message.startswith(
        "3 objects use images from registries not allowed for region eu-west; expected one of:"
    )
    assert (
        "registry.eu-west.example.com, *.dkr.ecr.eu-west-1.amazonaws.com, ghcr.io/acme/* (profile test)"
        in verdict.message
    )
    assert (
        "registry.us-east.example.com/shop/api:2.0.1 comes from registry.us-east.example.com (container api)"
        in verdict.message
    )
    assert "quay.io/prometheus/prometheus:v2.54.1 comes from quay.io" in verdict.message
    assert "'%s.dkr.ecr.%s.%s/eks/coredns:v1.11.1-eksbuild.1' is not a valid image reference" in verdict.message
    # the placeholder is no Docker Hub image and has no readable tag: the other checks leave it alone
    assert run["FC-IMG-001", "prod-eu-west-1"].outcome == "pass"
    assert run["FC-IMG-003", "prod-eu-west-1"].outcome == "pass"


def test_registry_check_skips_when_the_profile_lists_none(
    k8s: ModuleType, tmp_path: Path, run_checks: Callable[..., Any], write_profile: Callable[..., Path]
) -> None:
    objects = local_cluster(k8s)
    eu = k8s.write_snapshot(tmp_path, "prod-eu-west-1", objects, labels={"region": "eu-west"})
    unlabelled = k8s.write_snapshot(tmp_path, "lab-1", objects)
    run = run_checks("test_images.py", eu, unlabelled, profile=write_profile(registries={"us-east": ["quay.io"]}))
    assert run["FC-IMG-002", "prod-eu-west-1"].outcome == "skip"
    assert run["FC-IMG-002", "prod-eu-west-1"].message == (
        "profile test lists no allowed registries for region eu-west (set registries: {eu-west: [...]} or a '*' entry)"
    )
    assert run["FC-IMG-002", "lab-1"].outcome == "skip"
    assert "no 'region' label" in run["FC-IMG-002", "lab-1"].message
    # FC-IMG-001 still judges: Docker Hub is never local
    assert run["FC-IMG-001", "lab-1"].outcome == "pass"


def test_unpinned_images(
    k8s: ModuleType, tmp_path: Path, run_checks: Callable[..., Any], write_profile: Callable[..., Path]
) -> None:
    objects = [
        *k8s.deployment_family("web", "shop", [("web", "registry.eu-west.example.com/shop/web")]),
        k8s.daemonset(
            "kube-router",
            "kube-system",
            [("kube-router", "docker.io/cloudnativelabs/kube-router")],
            init=[("install-cni", "docker.io/cloudnativelabs/kube-router")],
        ),
        k8s.pod("scratch", "ops", [("main", "registry.eu-west.example.com/ops/tool:latest")]),
        k8s.pod("pinned", "ops", [("main", f"registry.eu-west.example.com/ops/tool:latest@{DIGEST}")]),
        k8s.pod("local", "ops", [("main", "localhost:5000/ops/tool")]),
    ]
    snap = k8s.write_snapshot(tmp_path, "prod-eu-west-1", objects, labels={"region": "eu-west"})
    run = run_checks("test_images.py", snap, profile=write_profile(registries=EU_REGISTRIES))
    verdict = run["FC-IMG-003", "prod-eu-west-1"]
    assert verdict.outcome == "fail"
    assert verdict.objects == [
        "shop/Deployment/web",
        "kube-system/DaemonSet/kube-router",
        "ops/Pod/scratch",
        "ops/Pod/local",
    ]
    assert verdict.message.startswith("4 objects run unpinned images; expected a version tag or a digest (@sha256:...)")
    assert (
        "kube-system/DaemonSet/kube-router: docker.io/cloudnativelabs/kube-router: no tag (the runtime pulls :latest) "
        "and no digest (init container install-cni), docker.io/cloudnativelabs/kube-router: no tag" in verdict.message
    )
    assert "ops/Pod/scratch: registry.eu-west.example.com/ops/tool:latest: tag :latest and no digest" in verdict.message
    assert "ops/Pod/pinned" not in verdict.message


def test_cluster_without_workloads_is_skipped(k8s: ModuleType, tmp_path: Path, run_checks: Callable[..., Any]) -> None:
    snap = k8s.write_snapshot(tmp_path, "empty", [k8s.namespace("default")])
    run = run_checks("test_images.py", snap)
    for code in ("FC-IMG-001", "FC-IMG-003"):
        assert run[code, "empty"].outcome == "skip"
        assert run[code, "empty"].message == "no Pods and no workload pod templates to judge"


def test_single_finding_reads_as_one(k8s: ModuleType, tmp_path: Path, run_checks: Callable[..., Any]) -> None:
    snap = k8s.write_snapshot(tmp_path, "dev-1", k8s.deployment_family("web", "shop", [("web", "nginx")]))
    run = run_checks("test_images.py", snap)
    assert run["FC-IMG-001", "dev-1"].message.startswith("1 object pulls images from Docker Hub; expected a regional")
    assert run["FC-IMG-003", "dev-1"].message.startswith("1 object runs unpinned images;")


def test_image_checks_document_what_why_fix_references() -> None:
    from fleetcheck.catalog import load_catalog

    catalog = load_catalog([Path(__file__).resolve().parents[3] / "checks" / "test_images.py"])
    specs = {s.code: s for s in catalog.sorted()}
    assert sorted(specs) == ["FC-IMG-001", "FC-IMG-002", "FC-IMG-003", "FC-IMG-004"]
    for spec in specs.values():
        assert spec.docs.missing() == [], spec.code
        assert spec.factor == "local-images" and spec.success
    assert specs["FC-IMG-004"].scope == "live"
    assert [s.severity for s in specs.values()] == ["high", "medium", "medium", "medium"]
