"""FC-NODE-001..004 on real-shaped Node objects (``kubectl get nodes -o json`` status.nodeInfo)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fleetcheck.facts.nodes import kernel_family, os_family, read_nodes, runtime_family
from fleetcheck.reference_data import node_lifecycle
from tests.checks.gotcha_kit import meta, profile, scan, write_snapshot

Obj = dict[str, Any]
UBUNTU = ("Ubuntu 24.04.1 LTS", "6.8.0-49-generic", "containerd://2.3.0")


def node(
    name: str,
    kubelet: str = "v1.35.1",
    os_image: str = UBUNTU[0],
    kernel: str = UBUNTU[1],
    runtime: str = UBUNTU[2],
    operating_system: str = "linux",
) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": meta(
            name,
            labels={
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": operating_system,
                "node.kubernetes.io/instance-type": "m6i.xlarge",
            },
            annotations={"node.alpha.kubernetes.io/ttl": "0"},
        ),
        "spec": {"podCIDR": "10.64.1.0/24", "providerID": f"aws:///eu-west-1a/i-0{abs(hash(name)) % 10**12:012d}"},
        "status": {
            "addresses": [{"address": "10.20.0.11", "type": "InternalIP"}, {"address": name, "type": "Hostname"}],
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": "6f1c2b9e-6d0b-4f7e-9a51-0f8f1f4b7c11",
                "containerRuntimeVersion": runtime,
                "kernelVersion": kernel,
                "kubeProxyVersion": "",
                "kubeletVersion": kubelet,
                "machineID": "ec2a0c1b7d9f4e2a8b6c5d4e3f2a1b0c",
                "operatingSystem": operating_system,
                "osImage": os_image,
                "systemUUID": "ec2a0c1b-7d9f-4e2a-8b6c-5d4e3f2a1b0c",
            },
        },
    }


def test_families_parse_real_node_info() -> None:
    assert os_family("Ubuntu 22.04.5 LTS") == "Ubuntu 22.04"
    assert os_family("Amazon Linux 2") == "Amazon Linux 2"
    assert os_family("Amazon Linux 2023.6.20241010") == "Amazon Linux 2023"
    assert os_family("Bottlerocket OS 1.26.1 (aws-k8s-1.31)") == "Bottlerocket OS 1.26"
    assert kernel_family("5.10.228-219.884.amzn2.x86_64") == "5.10"
    assert runtime_family("containerd://1.7.24") == "containerd 1.7"
    assert runtime_family("not a runtime") is None
    inventory = read_nodes([node("a"), node("b"), node("c", runtime="containerd://1.7.24")])
    assert inventory.primary("runtime") == "containerd 2.3"
    tie = read_nodes([node("a"), node("b", runtime="containerd://1.7.24")])
    assert tie.primary("runtime") is None  # a tie is unknown, not a guess


def test_amazon_linux_2_row_does_not_match_al2023() -> None:
    row = next(r for r in node_lifecycle().operating_systems if r.prefix == "Amazon Linux 2")
    assert row.matches("Amazon Linux 2")
    assert not row.matches("Amazon Linux 2023.6.20241010")


def test_kubelet_skew(pytester: pytest.Pytester, tmp_path: Path) -> None:
    good = write_snapshot(tmp_path / "good", [node("n1"), node("n2", kubelet="v1.32.4")])
    bad = write_snapshot(
        tmp_path / "bad",
        [node("n1"), node("old", kubelet="v1.31.9"), node("ahead", kubelet="v1.36.0"), node("odd", kubelet="")],
    )
    eks = write_snapshot(
        tmp_path / "eks", [node("ip-10-0-1-5", kubelet="v1.31.2-eks-94953ac")], server_version="v1.31.4-eks-2d98532"
    )
    verdicts = scan(pytester, "test_nodes.py", good, bad, eks)
    assert verdicts.outcome("FC-NODE-001", "good") == "pass"
    assert verdicts.outcome("FC-NODE-001", "eks") == "pass"
    assert verdicts.outcome("FC-NODE-001", "bad") == "fail"
    message = verdicts.message("FC-NODE-001", "bad")
    assert "Node/old: kubelet v1.31.9 is 4 minors behind the API server" in message
    assert "Node/ahead: kubelet v1.36.0 is newer than the API server" in message
    assert "expected 1.32 to 1.35" in message
    assert "1 nodes report no parsable kubelet version (odd)" in message
    assert verdicts.objects("FC-NODE-001", "bad") == ["Node/old", "Node/ahead"]


def test_node_drift_against_the_cohort(pytester: pytest.Pytester, tmp_path: Path) -> None:
    a = write_snapshot(tmp_path / "a", [node("a1"), node("a2")])
    b = write_snapshot(tmp_path / "b", [node("b1"), node("b2")])
    c = write_snapshot(
        tmp_path / "c",
        [
            node("c1"),
            node("c2"),
            node("c3", os_image="Ubuntu 22.04.5 LTS", kernel="5.15.0-126-generic"),
            node(
                "win", os_image="Windows Server 2022 Datacenter", kernel="10.0.20348.2762", operating_system="windows"
            ),
        ],
    )
    verdicts = scan(pytester, "test_nodes.py", a, b, c)
    assert verdicts.outcome("FC-NODE-002", "a") == "pass"
    assert verdicts.outcome("FC-NODE-002", "c") == "fail"
    message = verdicts.message("FC-NODE-002", "c")
    assert "Node/c3: OS image Ubuntu 22.04.5 LTS, kernel 5.15.0-126-generic" in message
    assert "expected OS image Ubuntu 24.04 (majority: 3 of 3 clusters" in message
    assert verdicts.objects("FC-NODE-002", "c") == ["Node/c3"]  # the Windows node is not compared


def test_node_drift_split_and_alone_skip(pytester: pytest.Pytester, tmp_path: Path) -> None:
    a = write_snapshot(tmp_path / "a", [node("a1")])
    b = write_snapshot(
        tmp_path / "b",
        [node("b1", runtime="containerd://1.7.24", kernel="6.1.0-1", os_image="Debian GNU/Linux 12 (bookworm)")],
    )
    verdicts = scan(pytester, "test_nodes.py", a, b)
    assert verdicts.outcome("FC-NODE-002", "a") == "skip"
    assert "no value holds more than half" in verdicts.message("FC-NODE-002", "a")
    alone = scan(pytester, "test_nodes.py", write_snapshot(tmp_path / "solo", [node("s1")]))
    assert alone.outcome("FC-NODE-002", "solo") == "skip"


def test_end_of_life(pytester: pytest.Pytester, tmp_path: Path) -> None:
    good = write_snapshot(tmp_path / "good", [node("n1")])
    old = write_snapshot(
        tmp_path / "old",
        [
            node(
                "al2", os_image="Amazon Linux 2", kernel="5.10.228-219.884.amzn2.x86_64", runtime="containerd://1.7.23"
            ),
            node("focal", os_image="Ubuntu 20.04.6 LTS", kernel="5.4.0-200-generic"),
            node("al2023", os_image="Amazon Linux 2023.6.20241010", kernel="6.1.112-122.189.amzn2023.x86_64"),
        ],
    )
    unknown = write_snapshot(tmp_path / "unknown", [node("n1", os_image="Talos (v1.8.3)", runtime="cri-o://1.31.2")])
    verdicts = scan(pytester, "test_nodes.py", good, old, unknown)
    assert verdicts.outcome("FC-NODE-003", "good") == "pass"
    assert verdicts.outcome("FC-NODE-003", "old") == "fail"
    message = verdicts.message("FC-NODE-003", "old")
    assert "Node/al2: OS Amazon Linux 2 past end of life since 2025-11-26" in message
    assert "runtime containerd://1.7.23 past end of life since 2026-09-30" in message
    assert "Node/focal: OS Ubuntu 20.04.6 LTS past end of life since 2025-05-31" in message
    assert "node_lifecycle.yaml (" in message
    assert "no date known for OS Amazon Linux 2023.6.20241010" in message  # no row: said, not "supported"
    assert verdicts.objects("FC-NODE-003", "old") == ["Node/al2", "Node/focal"]
    assert verdicts.outcome("FC-NODE-003", "unknown") == "skip"
    assert "no end-of-life date known" in verdicts.message("FC-NODE-003", "unknown")


def test_end_of_life_profile_rows(pytester: pytest.Pytester, tmp_path: Path) -> None:
    snap = write_snapshot(tmp_path / "talos", [node("n1", os_image="Talos (v1.8.3)", runtime="containerd://2.3.0")])
    prof = profile(tmp_path / "p.yaml", {"FC-NODE-003": {"os_end_of_life": {"Talos": "2025-12-31"}}})
    verdicts = scan(pytester, "test_nodes.py", snap, profile=prof)
    assert verdicts.outcome("FC-NODE-003", "talos") == "fail"
    assert "profile setting os_end_of_life" in verdicts.message("FC-NODE-003", "talos")


def test_cgroup_v1_declared(pytester: pytest.Pytester, tmp_path: Path) -> None:
    v134 = write_snapshot(tmp_path / "edge", [node("n1", kubelet="v1.34.3")], server_version="v1.34.3")
    v135 = write_snapshot(tmp_path / "plant", [node("n1")])
    v133 = write_snapshot(tmp_path / "older", [node("n1", kubelet="v1.33.7")], server_version="v1.33.7")
    unknown = write_snapshot(tmp_path / "unknown", [node("n1")])
    prof = profile(
        tmp_path / "p.yaml", {"FC-NODE-004": {"cgroup_version": {"edge": 1, "plant": 1, "older": 1, "good": 2}}}
    )
    good = write_snapshot(tmp_path / "good", [node("n1")])
    verdicts = scan(pytester, "test_nodes.py", v134, v135, v133, unknown, good, profile=prof)
    assert verdicts.outcome("FC-NODE-004", "edge") == "fail"
    assert "the next minor, 1.35, refuses cgroup v1" in verdicts.message("FC-NODE-004", "edge")
    assert "settings.FC-NODE-004.cgroup_version[edge]" in verdicts.message("FC-NODE-004", "edge")
    assert verdicts.outcome("FC-NODE-004", "plant") == "fail"
    assert "failCgroupV1: false" in verdicts.message("FC-NODE-004", "plant")
    assert verdicts.outcome("FC-NODE-004", "older") == "pass"
    assert verdicts.outcome("FC-NODE-004", "good") == "pass"
    assert verdicts.outcome("FC-NODE-004", "unknown") == "skip"
    assert "the cgroup version is unknown: the API does not show it" in verdicts.message("FC-NODE-004", "unknown")


def test_bad_cgroup_setting_is_a_config_error(pytester: pytest.Pytester, tmp_path: Path) -> None:
    snap = write_snapshot(tmp_path / "x", [node("n1")])
    prof = profile(tmp_path / "p.yaml", {"FC-NODE-004": {"cgroup_version": {"x": 3}}})
    from tests.harness import NESTED_OPTIONS

    result = pytester.runpytest_inprocess(
        str(Path(__file__).resolve().parents[3] / "checks" / "test_nodes.py"),
        "--snapshot",
        str(snap),
        "--profile",
        str(prof),
        "--no-reports",
        *NESTED_OPTIONS,
    )
    assert result.ret != 0
    assert "cgroup_version" in result.stdout.str() + result.stderr.str()
