"""Dimension extraction on real-shaped objects: a value, unknown (None), or an error naming the unreadable kind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetcheck.facts.dimensions import (
    STATIC_DIMENSIONS,
    dimension_names,
    dimension_reads,
    facts_document,
    read_dimension,
)
from fleetcheck.facts.dimensions.network import addon_images, kube_proxy_mode
from fleetcheck.facts.nodes import NODE_INVENTORY, read_nodes
from fleetcheck.registry.profile import load_profile
from fleetcheck.runstate import RunOptions, RunState
from tests.facts import fleet_kit as kit

REPO = Path(__file__).resolve().parents[2]
SONOBUOY = REPO.parent / "shared" / "corpus" / "sonobuoy"


def _node(name: str, kubelet: str, arch: str = "amd64") -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/arch": arch}},
        "status": {
            "nodeInfo": {
                "architecture": arch,
                "containerRuntimeVersion": "containerd://1.7.22",
                "kernelVersion": "6.8.0-1015-aws",
                "kubeletVersion": kubelet,
                "operatingSystem": "linux",
                "osImage": "Ubuntu 24.04.1 LTS",
            }
        },
    }


def test_every_dimension_is_documented_and_there_are_at_least_30() -> None:
    names = dimension_names()
    assert len(names) >= 30 and len(set(names)) == len(names)
    for dimension in STATIC_DIMENSIONS:
        assert dimension.title and len(dimension.doc) > 20 and dimension.unknown_when, dimension.name
        assert dimension.reads or dimension.reads_version, dimension.name
    documented = (REPO / "docs" / "drift.md").read_text()
    for name in names:
        assert f"`{name}`" in documented, f"docs/drift.md does not document {name}"


def test_kinds_are_listed_once_by_resource() -> None:
    reads = dimension_reads([load_profile("default")])
    assert len(reads) == len(set(reads))
    assert "nodes" in reads and "velero.io/v1 schedules" in reads


def _node_dimension(name: str) -> Any:
    return next(d for d in STATIC_DIMENSIONS if d.name == name)


def test_node_dimensions_spread_and_unknown_from_the_one_node_fact() -> None:
    """The node dimensions project FC-NODE-*'s NODE_INVENTORY: distinct values, unknown when no node says."""
    assert _node_dimension("nodes.kubelet_versions").fact is NODE_INVENTORY
    inventory = read_nodes([_node("a", "v1.31.4"), _node("b", "v1.30.9", "arm64"), _node("c", "v1.31.4")])
    assert _node_dimension("nodes.kubelet_versions").project(inventory) == ("v1.30.9", "v1.31.4")
    assert _node_dimension("nodes.architectures").project(inventory) == ("amd64", "arm64")
    assert _node_dimension("nodes.container_runtimes").project(inventory) == ("containerd://1.7.22",)
    assert _node_dimension("nodes.kubelet_versions").project(read_nodes([])) is None  # unknown, not "none"
    assert _node_dimension("nodes.kubelet_versions").project(read_nodes([{"metadata": {"name": "x"}}])) is None


def test_kube_proxy_mode_from_its_configmap_or_its_replacement() -> None:
    proxy = {
        "metadata": {"name": "kube-proxy", "namespace": "kube-system"},
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "kube-proxy", "image": "registry.k8s.io/kube-proxy:v1.31.4"}]}
            }
        },
    }
    config = {
        "metadata": {"name": "kube-proxy", "namespace": "kube-system"},
        "data": {"config.conf": 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nmode: "ipvs"\n'},
    }
    empty_mode = {**config, "data": {"config.conf": "mode: \n"}}
    cilium = {
        "metadata": {"name": "cilium-config", "namespace": "kube-system"},
        "data": {"kube-proxy-replacement": "true"},
    }
    assert kube_proxy_mode([proxy], [config]) == "kube-proxy ipvs"
    assert kube_proxy_mode([proxy], [empty_mode]) == "kube-proxy iptables"
    assert kube_proxy_mode([], [cilium]) == "replaced by cilium"
    assert kube_proxy_mode([], []) is None  # k3s embeds kube-proxy: unknown


def test_addon_versions_from_images() -> None:
    coredns = {
        "metadata": {"name": "coredns", "namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}},
        "spec": {"template": {"spec": {"containers": [{"image": "registry.k8s.io/coredns/coredns:v1.11.3"}]}}},
    }
    cm = {
        "metadata": {"name": "cert-manager", "namespace": "cert-manager"},
        "spec": {"template": {"spec": {"containers": [{"image": "quay.io/jetstack/cert-manager-controller:v1.15.3"}]}}},
    }
    found = addon_images([coredns, cm])
    assert (found.dns_server, found.cert_manager) == ("coredns 1.11.3", ("v1.15.3",))
    assert addon_images([]).dns_server is None


def test_a_cluster_reads_values_unknowns_and_errors(tmp_path: Path) -> None:
    folder = kit.write_cluster(tmp_path, "c", kit.A, "prod")
    info = yaml.safe_load((folder / "cluster.yaml").read_text())
    info["unreadable"] = {"nodes": "403 Forbidden: nodes is forbidden"}
    (folder / "cluster.yaml").write_text(yaml.safe_dump(info))
    view = RunState(RunOptions(snapshots=(str(folder),))).view("c")
    by_name = {d.name: d for d in STATIC_DIMENSIONS}
    assert read_dimension(view, by_name["cni"]).value == "calico"
    assert read_dimension(view, by_name["dns.upstreams"]).value == ("10.0.0.2", "10.0.0.3")
    assert read_dimension(view, by_name["ingress.controllers"]).value == ("ingress-nginx",)
    assert read_dimension(view, by_name["gitops.coverage"]).value is None  # no tenant workload: unknown
    kubelets = read_dimension(view, by_name["nodes.kubelet_versions"])
    assert kubelets.value is None and kubelets.error is not None and "403 Forbidden" in kubelets.error
    document = facts_document(view)
    assert list(document) == list(dimension_names())
    assert document["cni"] == "calico" and document["nodes.kubelet_versions"] is None
    assert document["dns.stub_domains"] == []
    assert isinstance(document["rbac.fingerprint"], dict) and document["rbac.fingerprint"]["count"] == 2


def test_a_hostile_value_is_clipped_and_redacted(tmp_path: Path) -> None:
    from fleetcheck.facts.dimensions import clip

    assert len(clip("x" * 10_000)) <= 160
    assert "hunter2" not in clip("https://user:hunter2@metrics.example.com/api/v1/write")
    assert "\n" not in clip("a\nb\x1b[31m")


@pytest.mark.skipif(not SONOBUOY.is_dir(), reason=f"no sonobuoy corpus at {SONOBUOY}")
def test_sonobuoy_captures_show_real_values() -> None:
    folders = sorted(str(p) for p in SONOBUOY.iterdir() if p.is_dir())
    run = RunState(RunOptions(snapshots=tuple(folders)))
    by_name = {d.name: d for d in STATIC_DIMENSIONS}
    kind = run.view("kind-v1.21-quick")
    assert read_dimension(kind, by_name["provider"]).value == "kind"
    assert read_dimension(kind, by_name["kubernetes.minor"]).value == "1.21"
    assert read_dimension(kind, by_name["nodes.container_runtimes"]).value == ("containerd://1.5.2",)
    aws = run.view("aws-kubeadm-v1.8")
    assert read_dimension(aws, by_name["cni"]).value == "calico"
    assert read_dimension(aws, by_name["dns.server"]).value == "kube-dns 1.14.5"
