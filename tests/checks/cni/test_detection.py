"""CNI detection (fleetcheck.facts.cni) on upstream manifests, sonobuoy captures and real-shaped DaemonSets."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from fleetcheck.facts.cni import SemVer, detect_cni, normalize_cni_name
from fleetcheck.state.snapshot import load_snapshot

DIGEST = "sha256:" + "4f1b2a3c5d6e7f80" * 4


_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.cache
def _daemonsets_in(path: Path) -> tuple[dict[str, Any], ...]:
    """The DaemonSets of a manifest (parsed once: the rendered Calico manifest is 300 kB of CRDs)."""
    docs = [d for d in yaml.load_all(path.read_text(), Loader=_LOADER) if isinstance(d, dict)]
    return tuple(d for d in docs if d.get("kind") == "DaemonSet")


def manifest_daemonsets(corpus: Path, number: str) -> list[dict[str, Any]]:
    (path,) = sorted((corpus / "manifests").glob(f"{number}_*"))
    return copy.deepcopy(list(_daemonsets_in(path)))


@pytest.mark.parametrize(
    ("number", "cni", "version", "daemonset", "image"),
    [
        (
            "09",
            "aws-vpc-cni",
            "v1.23.0",
            "kube-system/DaemonSet/aws-node",
            "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.23.0",
        ),
        ("11", "flannel", "v0.28.9", "kube-flannel/DaemonSet/kube-flannel-ds", "ghcr.io/flannel-io/flannel:v0.28.9"),
        ("12", "cilium", "v1.18.12", "kube-system/DaemonSet/cilium", "quay.io/cilium/cilium:v1.18.12"),
        ("13", "calico", "v3.31.6", "kube-system/DaemonSet/calico-node", "docker.io/calico/node:v3.31.6"),
    ],
)
def test_corpus_manifests(corpus: Path, number: str, cni: str, version: str, daemonset: str, image: str) -> None:
    detection = detect_cni(manifest_daemonsets(corpus, number))
    primary = detection.primary
    assert primary is not None
    assert (primary.cni, str(primary.version), primary.daemonset, primary.image) == (cni, version, daemonset, image)
    assert detection.policy_engines == () and detection.others == () and detection.near_misses == ()


def test_corpus_kube_router_untagged_version_is_unknown(corpus: Path) -> None:
    detection = detect_cni(manifest_daemonsets(corpus, "14"))
    primary = detection.primary
    assert primary is not None
    assert (primary.cni, primary.version, primary.version_note) == ("kube-router", None, "image has no tag")
    assert primary.container == "kube-router"  # the agent container, not the init container with the same image
    assert detection.describe() == (
        "kube-router version unknown (image has no tag) "
        "(kube-system/DaemonSet/kube-router, image docker.io/cloudnativelabs/kube-router)"
    )


def test_corpus_aws_node_with_calico_for_policy(corpus: Path) -> None:
    detection = detect_cni(manifest_daemonsets(corpus, "13") + manifest_daemonsets(corpus, "09"))
    assert detection.cni == "aws-vpc-cni"
    assert [m.cni for m in detection.policy_engines] == ["calico"]
    assert detection.others == ()
    assert detection.describe().startswith("aws-vpc-cni v1.23.0 (kube-system/DaemonSet/aws-node, image ")
    assert " with policy engine calico v3.31.6 (kube-system/DaemonSet/calico-node" in detection.describe()


@pytest.mark.parametrize(
    ("capture", "cni", "version", "note"),
    [
        ("aws-kubeadm-v1.8", "calico", "v2.6.2", "v2.6.2"),
        ("kind-v1.14", "kindnet", "v0.1.0", "0.1.0"),
        ("kind-v1.21-e2e", "kindnet", "None", "image tag v20210326-1e038dc5 is not a MAJOR.MINOR version"),
        ("kind-v1.21-quick", "kindnet", "None", "image tag v20210326-1e038dc5 is not a MAJOR.MINOR version"),
    ],
)
def test_sonobuoy_captures(corpus: Path, capture: str, cni: str, version: str, note: str) -> None:
    snapshot = load_snapshot(corpus / "sonobuoy" / capture)
    detection = detect_cni(snapshot.objects["daemonsets.apps"])
    primary = detection.primary
    assert primary is not None
    assert (primary.cni, str(primary.version), primary.version_note) == (cni, version, note)
    assert primary.daemonset.startswith("kube-system/DaemonSet/")
    # kube-proxy, ip-masq-agent, calico-etcd and sonobuoy's DaemonSets are no CNI
    assert len(detection.matches) == 1


def test_calico_v1_8_capture_takes_the_version_from_calico_node_not_install_cni(corpus: Path) -> None:
    snapshot = load_snapshot(corpus / "sonobuoy" / "aws-kubeadm-v1.8")
    primary = detect_cni(snapshot.objects["daemonsets.apps"]).primary
    assert primary is not None
    assert (primary.container, primary.image) == ("calico-node", "quay.io/calico/node:v2.6.2")


@pytest.mark.parametrize(
    ("name", "namespace", "containers", "init", "cni", "version"),
    [
        (
            "weave-net",
            "kube-system",
            [("weave", "weaveworks/weave-kube:2.8.1"), ("weave-npc", "weaveworks/weave-npc:2.8.1")],
            [],
            "weave",
            "v2.8.1",
        ),
        (
            "antrea-agent",
            "kube-system",
            [
                ("antrea-agent", "antrea/antrea-agent-ubuntu:v2.1.0"),
                ("antrea-ovs", "antrea/antrea-agent-ubuntu:v2.1.0"),
            ],
            [("install-cni", "antrea/antrea-agent-ubuntu:v2.1.0")],
            "antrea",
            "v2.1.0",
        ),
        (
            "ovnkube-node",
            "ovn-kubernetes",
            [("ovnkube-controller", "ghcr.io/ovn-org/ovn-kubernetes/ovn-kube-ubuntu:v1.0.0")],
            [],
            "ovn-kubernetes",
            "v1.0.0",
        ),
        ("kindnet", "kube-system", [("kindnet-cni", "docker.io/kindest/kindnetd:v1.4.0")], [], "kindnet", "v1.4.0"),
        (
            "calico-node",
            "calico-system",
            [("calico-node", "mcr.microsoft.com/oss/calico/node:v3.24.6")],
            [("install-cni", "mcr.microsoft.com/oss/calico/cni:v3.24.6")],
            "calico",
            "v3.24.6",
        ),
        (
            "kube-flannel-ds-amd64",
            "kube-system",
            [("kube-flannel", "quay.io/coreos/flannel:v0.11.0-amd64")],
            [("install-cni", "quay.io/coreos/flannel:v0.11.0-amd64")],
            "flannel",
            "v0.11.0",
        ),
        (
            "cilium",
            "kube-system",
            [("cilium-agent", f"quay.io/cilium/cilium:v1.16.5@{DIGEST}")],
            [],
            "cilium",
            "v1.16.5",
        ),
    ],
)
def test_known_cnis_from_real_shaped_daemonsets(
    k8s: ModuleType,
    name: str,
    namespace: str,
    containers: list[tuple[str, str]],
    init: list[tuple[str, str]],
    cni: str,
    version: str,
) -> None:
    detection = detect_cni(
        [
            k8s.daemonset("kube-proxy", "kube-system", [("kube-proxy", "registry.k8s.io/kube-proxy:v1.31.4")]),
            k8s.daemonset(name, namespace, containers, init=init),
        ]
    )
    primary = detection.primary
    assert primary is not None
    assert (primary.cni, str(primary.version), primary.daemonset) == (cni, version, f"{namespace}/DaemonSet/{name}")


def test_openshift_ovn_digest_only_is_found_by_container_name_with_version_unknown(k8s: ModuleType) -> None:
    image = f"quay.io/openshift-release-dev/ocp-v4.0-art-dev@{DIGEST}"
    ds = k8s.daemonset(
        "ovnkube-node", "openshift-ovn-kubernetes", [("ovn-controller", image), ("ovnkube-controller", image)]
    )
    primary = detect_cni([ds]).primary
    assert primary is not None
    assert (primary.cni, primary.container, primary.version, primary.version_note) == (
        "ovn-kubernetes",
        "ovn-controller",
        None,
        "image has a digest and no tag",
    )


def test_canal_is_flannel_networking_with_calico_policy(k8s: ModuleType) -> None:
    canal = k8s.daemonset(
        "canal",
        "kube-system",
        [("calico-node", "docker.io/calico/node:v3.29.1"), ("kube-flannel", "docker.io/flannel/flannel:v0.26.2")],
        init=[("install-cni", "docker.io/calico/cni:v3.29.1")],
    )
    detection = detect_cni([canal])
    assert detection.cni == "flannel"
    assert [(m.cni, str(m.version)) for m in detection.policy_engines] == [("calico", "v3.29.1")]


def test_name_alone_or_image_alone_is_not_a_cni(k8s: ModuleType) -> None:
    impostor = k8s.daemonset("calico-node", "kube-system", [("calico-node", "registry.example.com/tools/netdebug:1.0")])
    debugger = k8s.daemonset("netdebug", "ops", [("debug", "quay.io/cilium/cilium:v1.18.12")])
    detection = detect_cni([impostor, debugger])
    assert detection.primary is None
    assert detection.describe() == "no known CNI"
    assert detection.near_misses == (
        "kube-system/DaemonSet/calico-node is named like calico's agent but runs "
        "registry.example.com/tools/netdebug:1.0",
    )
    assert detection.daemonsets == ("kube-system/DaemonSet/calico-node", "ops/DaemonSet/netdebug")


def test_two_cnis_without_a_host_is_a_half_done_migration(k8s: ModuleType) -> None:
    detection = detect_cni(
        [
            k8s.daemonset("cilium", "kube-system", [("cilium-agent", "quay.io/cilium/cilium:v1.18.12")]),
            k8s.daemonset("weave-net", "kube-system", [("weave", "weaveworks/weave-kube:2.8.1")]),
        ]
    )
    assert detection.cni == "cilium"
    assert [m.cni for m in detection.others] == ["weave"]
    assert detection.describe().endswith(
        "; also found weave 2.8.1 (kube-system/DaemonSet/weave-net, image weaveworks/weave-kube:2.8.1)"
    )


@pytest.mark.parametrize(
    ("image", "note"),
    [
        ("quay.io/cilium/cilium", "image has no tag"),
        ("quay.io/cilium/cilium:latest", "image tag is :latest"),
        (f"quay.io/cilium/cilium@{DIGEST}", "image has a digest and no tag"),
        ("quay.io/cilium/cilium:stable", "image tag stable is not a MAJOR.MINOR version"),
    ],
)
def test_unknown_versions_say_why(k8s: ModuleType, image: str, note: str) -> None:
    primary = detect_cni([k8s.daemonset("cilium", "kube-system", [("cilium-agent", image)])]).primary
    assert primary is not None
    assert (primary.version, primary.version_note) == (None, note)
    assert primary.version_text == f"version unknown ({note})"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v3.31.6", SemVer(3, 31, 6)),
        ("1.18", SemVer(1, 18, 0)),
        ("v1.23.0-eksbuild.1", SemVer(1, 23, 0)),
        ("v1.9.1-flannel3", SemVer(1, 9, 1)),
        ("0.1.0", SemVer(0, 1, 0)),
        ("v20210326-1e038dc5", None),
        ("latest", None),
        ("v3", None),
    ],
)
def test_semver(text: str, expected: SemVer | None) -> None:
    assert SemVer.parse(text) == expected


def test_semver_distance() -> None:
    assert SemVer(3, 31, 6).minors_from(SemVer(3, 29)) == 2
    assert SemVer(3, 29, 0).minors_from(SemVer(3, 31)) == -2
    assert SemVer(2, 6, 2).minors_from(SemVer(3, 31)) is None
    assert SemVer(3, 31, 6).minor_version == "v3.31"


@pytest.mark.parametrize(
    ("written", "name"),
    [
        ("Calico", "calico"),
        ("aws-node", "aws-vpc-cni"),
        ("VPC-CNI", "aws-vpc-cni"),
        ("weave-net", "weave"),
        ("ovn", "ovn-kubernetes"),
        (" cilium ", "cilium"),
        ("kube-flannel", "flannel"),
    ],
)
def test_normalize_cni_name(written: str, name: str) -> None:
    assert normalize_cni_name(written) == name
