"""FC-CNI-001..003 over fleets of real-shaped snapshots, run as fleetcheck runs them (pytester)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from fleetcheck.replay import ReplayServer
from fleetcheck.state.snapshot import load_snapshot

ECR = "602401143452.dkr.ecr.eu-west-1.amazonaws.com"


def agent(k8s: ModuleType, cni: str, version: str) -> dict[str, Any]:
    """The CNI's node agent DaemonSet, shaped like its upstream manifest."""
    if cni == "calico":
        return k8s.daemonset(
            "calico-node",
            "kube-system",
            [("calico-node", f"quay.io/calico/node:{version}")],
            init=[("upgrade-ipam", f"quay.io/calico/cni:{version}"), ("install-cni", f"quay.io/calico/cni:{version}")],
            labels={"k8s-app": "calico-node"},
        )
    if cni == "cilium":
        return k8s.daemonset(
            "cilium",
            "kube-system",
            [("cilium-agent", f"quay.io/cilium/cilium:{version}")],
            init=[("config", f"quay.io/cilium/cilium:{version}"), ("mount-cgroup", f"quay.io/cilium/cilium:{version}")],
            labels={"k8s-app": "cilium", "app.kubernetes.io/part-of": "cilium"},
        )
    if cni == "aws":
        return k8s.daemonset(
            "aws-node",
            "kube-system",
            [
                ("aws-node", f"{ECR}/amazon-k8s-cni:{version}"),
                ("aws-eks-nodeagent", f"{ECR}/amazon/aws-network-policy-agent:v1.4.1"),
            ],
            init=[("aws-vpc-cni-init", f"{ECR}/amazon-k8s-cni-init:{version}")],
            labels={"k8s-app": "aws-node", "app.kubernetes.io/name": "aws-node"},
        )
    if cni == "flannel":
        return k8s.daemonset(
            "kube-flannel-ds",
            "kube-flannel",
            [("kube-flannel", f"ghcr.io/flannel-io/flannel:{version}")],
            init=[
                ("install-cni-plugin", "ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel3"),
                ("install-cni", f"ghcr.io/flannel-io/flannel:{version}"),
            ],
            labels={"app": "flannel", "k8s-app": "flannel", "tier": "node"},
        )
    raise ValueError(cni)


def cluster(k8s: ModuleType, root: Path, name: str, *agents: tuple[str, str], version: str = "v1.31.4") -> Path:
    """A snapshot with kube-proxy, CoreDNS and the given CNI agents."""
    objects = [
        k8s.daemonset("kube-proxy", "kube-system", [("kube-proxy", "registry.k8s.io/kube-proxy:v1.31.4")]),
        *k8s.deployment_family("coredns", "kube-system", [("coredns", "registry.k8s.io/coredns/coredns:v1.11.3")]),
        *(agent(k8s, cni, tag) for cni, tag in agents),
    ]
    return k8s.write_snapshot(root, name, objects, server_version=version)


def test_known_cni_found_or_not(k8s: ModuleType, tmp_path: Path, run_checks: Callable[..., Any]) -> None:
    good = cluster(k8s, tmp_path, "prod-a", ("calico", "v3.31.6"))
    impostor = k8s.daemonset("cilium", "kube-system", [("cilium-agent", "registry.example.com/platform/netdebug:1.0")])
    exporter = k8s.daemonset(
        "node-exporter", "monitoring", [("node-exporter", "quay.io/prometheus/node-exporter:v1.8.2")]
    )
    bad = k8s.write_snapshot(
        tmp_path,
        "prod-b",
        [
            k8s.daemonset("kube-proxy", "kube-system", [("kube-proxy", "registry.k8s.io/kube-proxy:v1.31.4")]),
            impostor,
            exporter,
        ],
    )
    run = run_checks("test_cni.py", good, bad)
    assert run.outcomes("FC-CNI-001") == {"prod-a": "pass", "prod-b": "fail"}
    verdict = run["FC-CNI-001", "prod-b"]
    assert verdict.objects == ["kube-system/DaemonSet/cilium"]
    assert verdict.message.startswith(
        "no known CNI found: none of the 3 DaemonSets (kube-system/DaemonSet/cilium, kube-system/DaemonSet/kube-proxy, "
        "monitoring/DaemonSet/node-exporter) is the node agent of a known CNI; kube-system/DaemonSet/cilium is named "
        "like cilium's agent but runs registry.example.com/platform/netdebug:1.0; expected a DaemonSet such as "
        "anetd, antrea-agent, aws-node, azure-cns, calico-node, canal, cilium, flannel, kindnet, kube-flannel-ds, "
        "kube-router, netd, ovnkube-node, rke2-flannel, sdn, weave-net "
        "running that CNI's image"
    )
    assert "FC-CNI-001 [prod-b] fail: no known CNI found" in run.stdout
    # the fleet checks do not pretend: nothing to compare on either cluster
    assert run["FC-CNI-002", "prod-b"].outcome == "skip"
    assert run["FC-CNI-002", "prod-b"].message == "no known CNI found on this cluster (FC-CNI-001 reports it)"
    assert run["FC-CNI-002", "prod-a"].outcome == "skip"
    assert run["FC-CNI-002", "prod-a"].message.startswith(
        "no standard: no other cluster of cohort profile default has a known value to compare with"
    )


def test_cni_outlier_fails_against_the_majority(
    k8s: ModuleType, tmp_path: Path, run_checks: Callable[..., Any]
) -> None:
    snaps = [
        cluster(k8s, tmp_path, "prod-a", ("cilium", "v1.18.12")),
        cluster(k8s, tmp_path, "prod-b", ("cilium", "v1.18.3")),
        cluster(k8s, tmp_path, "prod-c", ("calico", "v3.31.6")),
    ]
    run = run_checks("test_cni.py", *snaps)
    assert run.outcomes("FC-CNI-002") == {"prod-a": "pass", "prod-b": "pass", "prod-c": "fail"}
    verdict = run["FC-CNI-002", "prod-c"]
    assert verdict.objects == ["kube-system/DaemonSet/calico-node"]
    assert verdict.message == (
        "CNI is calico v3.31.6 (kube-system/DaemonSet/calico-node, image quay.io/calico/node:v3.31.6); expected the "
        "fleet standard cilium (majority: 2 of 3 clusters of cohort profile default: prod-a, prod-b)"
    )


def test_declared_standard_wins_over_the_majority(
    k8s: ModuleType, tmp_path: Path, run_checks: Callable[..., Any], write_profile: Callable[..., Path]
) -> None:
    snaps = [
        cluster(k8s, tmp_path, "prod-a", ("cilium", "v1.18.12")),
        cluster(k8s, tmp_path, "prod-b", ("cilium", "v1.18.3")),
        cluster(k8s, tmp_path, "prod-c", ("calico", "v3.31.6")),
    ]
    run = run_checks("test_cni.py", *snaps, profile=write_profile(standards={"cni": "Calico"}))
    assert run.outcomes("FC-CNI-002") == {"prod-a": "fail", "prod-b": "fail", "prod-c": "pass"}
    assert run["FC-CNI-002", "prod-a"].message.endswith(
        "expected the fleet standard calico (declared by profile test (standards.cni))"
    )


def test_even_split_fails_nobody(k8s: ModuleType, tmp_path: Path, run_checks: Callable[..., Any]) -> None:
    snaps = [
        cluster(k8s, tmp_path, "prod-a", ("cilium", "v1.18.12")),
        cluster(k8s, tmp_path, "prod-b", ("calico", "v3.31.6")),
    ]
    run = run_checks("test_cni.py", *snaps)
    assert run.outcomes("FC-CNI-002") == {"prod-a": "skip", "prod-b": "skip"}
    assert run["FC-CNI-002", "prod-a"].message == (
        "no fleet standard: no value holds more than half of the 2 clusters of cohort profile default with a known "
        "value (calico on 1 (prod-b), cilium on 1 (prod-a)); declare standards.cni in profile default or name a "
        "reference cluster (--reference-cluster NAME, or reference_cluster in the profile)"
    )


def test_vpc_cni_with_calico_policy_counts_as_vpc_cni(
    k8s: ModuleType, tmp_path: Path, run_checks: Callable[..., Any]
) -> None:
    snaps = [
        cluster(k8s, tmp_path, "eks-a", ("aws", "v1.23.0"), ("calico", "v3.31.6")),
        cluster(k8s, tmp_path, "eks-b", ("aws", "v1.23.0")),
        cluster(k8s, tmp_path, "eks-c", ("aws", "v1.22.4")),
        cluster(k8s, tmp_path, "kops-d", ("flannel", "v0.28.9")),
    ]
    run = run_checks("test_cni.py", *snaps)
    assert run.outcomes("FC-CNI-002") == {"eks-a": "pass", "eks-b": "pass", "eks-c": "pass", "kops-d": "fail"}
    verdict = run["FC-CNI-002", "kops-d"]
    assert verdict.objects == ["kube-flannel/DaemonSet/kube-flannel-ds"]
    assert verdict.message.startswith(
        "CNI is flannel v0.28.9 (kube-flannel/DaemonSet/kube-flannel-ds, image ghcr.io/flannel-io/flannel:v0.28.9); "
        "expected the fleet standard aws-vpc-cni (majority: 3 of 4 clusters of cohort profile default: eks-a, eks-b, "
        "eks-c)"
    )
    assert run.outcomes("FC-CNI-003") == {"eks-a": "pass", "eks-b": "pass", "eks-c": "pass", "kops-d": "skip"}


def test_cni_version_against_the_most_common_minor(
    k8s: ModuleType, tmp_path: Path, run_checks: Callable[..., Any]
) -> None:
    snaps = [
        cluster(k8s, tmp_path, "prod-a", ("cilium", "v1.18.12")),
        cluster(k8s, tmp_path, "prod-b", ("cilium", "v1.18.3")),
        cluster(k8s, tmp_path, "prod-c", ("cilium", "v1.17.0")),
        cluster(k8s, tmp_path, "prod-d", ("cilium", "v1.16.5")),
        cluster(k8s, tmp_path, "prod-e", ("cilium", "latest")),
    ]
    # 2 of the 4 known minors are v1.18: a plurality, not a majority (issue 13's one rule): nobody is judged
    plurality = run_checks("test_cni.py", *snaps)
    assert set(plurality.outcomes("FC-CNI-003").values()) == {"skip"}
    assert "no value holds more than half of the 4 clusters" in plurality["FC-CNI-003", "prod-d"].message
    snaps.append(cluster(k8s, tmp_path, "prod-f", ("cilium", "v1.18.5")))
    run = run_checks("test_cni.py", *snaps)
    assert run.outcomes("FC-CNI-003") == {
        "prod-a": "pass",
        "prod-b": "pass",
        "prod-c": "pass",
        "prod-d": "fail",
        "prod-e": "skip",
        "prod-f": "pass",
    }
    verdict = run["FC-CNI-003", "prod-d"]
    assert verdict.objects == ["kube-system/DaemonSet/cilium"]
    assert verdict.message == (
        "cilium v1.16.5 (kube-system/DaemonSet/cilium, image quay.io/cilium/cilium:v1.16.5) is 2 minors behind the "
        "standard v1.18 (majority: 3 of 5 clusters of cohort profile default: prod-a, prod-b, prod-f; not counted: "
        "prod-e (value unknown)); expected v1.18 +/- 1 minor"
    )
    assert run["FC-CNI-003", "prod-e"].message == (
        "cilium version unknown: image tag is :latest "
        "(kube-system/DaemonSet/cilium, image quay.io/cilium/cilium:latest)"
    )


def test_cni_version_tie_is_a_split_not_the_newest(
    k8s: ModuleType, tmp_path: Path, run_checks: Callable[..., Any]
) -> None:
    """Before issue 13 a tie went to the newest; the one rule skips a split and says how to settle it."""
    snaps = [
        cluster(k8s, tmp_path, "prod-a", ("calico", "v3.28.2")),
        cluster(k8s, tmp_path, "prod-b", ("calico", "v3.31.6")),
    ]
    run = run_checks("test_cni.py", *snaps)
    assert run.outcomes("FC-CNI-003") == {"prod-a": "skip", "prod-b": "skip"}
    assert (
        "(v3.28 on 1 (prod-a), v3.31 on 1 (prod-b)); declare standards.cni_version"
        in run["FC-CNI-003", "prod-a"].message
    )
    settled = run_checks("test_cni.py", *snaps, args=("--reference-cluster", "prod-b"))
    assert settled.outcomes("FC-CNI-003") == {"prod-a": "fail", "prod-b": "skip"}
    assert (
        "is 3 minors behind the standard v3.31 (reference cluster prod-b (--reference-cluster))"
        in settled["FC-CNI-003", "prod-a"].message
    )


def test_declared_cni_version_and_major_mismatch(
    k8s: ModuleType, tmp_path: Path, run_checks: Callable[..., Any], write_profile: Callable[..., Path]
) -> None:
    snaps = [
        cluster(k8s, tmp_path, "prod-a", ("calico", "v2.6.2")),
        cluster(k8s, tmp_path, "prod-b", ("calico", "v3.30.1")),
        cluster(k8s, tmp_path, "prod-c", ("calico", "v3.33.0")),
        cluster(k8s, tmp_path, "prod-d", ("cilium", "v1.18.12")),
    ]
    profile = write_profile(standards={"cni": "calico", "cni_version": "3.31"})
    run = run_checks("test_cni.py", *snaps, profile=profile)
    assert run.outcomes("FC-CNI-003") == {"prod-a": "fail", "prod-b": "pass", "prod-c": "fail", "prod-d": "skip"}
    assert run["FC-CNI-003", "prod-a"].message == (
        "calico v2.6.2 (kube-system/DaemonSet/calico-node, image quay.io/calico/node:v2.6.2) is another major "
        "version than the standard v3.31 (declared by profile test (standards.cni_version)); expected v3.31 +/- 1 minor"
    )
    assert "is 2 minors ahead of the standard v3.31" in run["FC-CNI-003", "prod-c"].message
    assert run["FC-CNI-003", "prod-d"].message == (
        "the cluster runs cilium, not the standard calico (declared by profile test (standards.cni)); versions of "
        "different CNIs are not compared (FC-CNI-002 reports it)"
    )
    bad = run_checks("test_cni.py", *snaps[:2], profile=write_profile("bad", standards={"cni_version": "three"}))
    assert bad.outcomes("FC-CNI-003") == {"prod-a": "error", "prod-b": "error"}
    assert "standards.cni_version: 'three' is not a version" in bad["FC-CNI-003", "prod-a"].message


def test_unreadable_daemonsets_are_an_error_and_left_out_of_the_majority(
    k8s: ModuleType, tmp_path: Path, run_checks: Callable[..., Any]
) -> None:
    names = {"prod-a": ("calico", "v3.31.6"), "prod-b": ("calico", "v3.31.2"), "prod-c": ("cilium", "v1.18.12")}
    snapshots = [load_snapshot(cluster(k8s, tmp_path / "snaps", name, spec)) for name, spec in names.items()]
    snapshots.append(load_snapshot(cluster(k8s, tmp_path / "snaps", "prod-x", ("cilium", "v1.18.12"))))
    with ReplayServer(snapshots) as server:
        server.add_fault("prod-x", r"/daemonsets", status=403)
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
        fleet = tmp_path / "fleet.yaml"
        clusters = [{"name": s.name, "context": s.name} for s in snapshots]
        fleet.write_text(yaml.safe_dump({"defaults": {"kubeconfig": str(kubeconfig)}, "clusters": clusters}))
        run = run_checks("test_cni.py", fleet=fleet)
    assert run.outcomes("FC-CNI-001") == {"prod-a": "pass", "prod-b": "pass", "prod-c": "pass", "prod-x": "error"}
    assert "daemonsets" in run["FC-CNI-001", "prod-x"].message
    assert run.outcomes("FC-CNI-002") == {"prod-a": "pass", "prod-b": "pass", "prod-c": "fail", "prod-x": "error"}
    message = run["FC-CNI-002", "prod-c"].message
    assert (
        "(majority: 2 of 3 clusters of cohort profile default: prod-a, prod-b; not counted: prod-x (unreadable: "
        in (message)
    )


@pytest.mark.parametrize("module", ["test_cni.py"])
def test_every_check_documents_what_why_fix_references(module: str) -> None:
    from fleetcheck.catalog import load_catalog

    catalog = load_catalog([Path(__file__).resolve().parents[3] / "checks" / module])
    specs = [s for s in catalog.sorted() if s.code.startswith("FC-CNI-")]
    assert [s.code for s in specs] == ["FC-CNI-001", "FC-CNI-002", "FC-CNI-003"]
    for spec in specs:
        assert spec.docs.missing() == [], spec.code
        assert spec.success and spec.factor == "boring"
