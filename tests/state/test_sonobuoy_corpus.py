"""Integration: the four real sonobuoy captures in ../shared/corpus/sonobuoy load with the right counts."""

from __future__ import annotations

import pytest

from fleetcheck.state.snapshot import load_snapshot
from fleetcheck.state.snapshot_state import SnapshotClusterState
from tests.builders import REPO

CORPUS = REPO.parent / "shared" / "corpus" / "sonobuoy"

#: capture -> (nodes, pods, daemonsets, server version); pods and DaemonSets deduplicated (sonobuoy 0.14
#: wrote every namespace's objects into each namespace's folder)
EXPECTED = {
    "aws-kubeadm-v1.8": (3, 19, 4, "v1.8.4"),
    "kind-v1.14": (1, 16, 6, "v1.14.2"),
    "kind-v1.21-e2e": (1, 22, 3, "v1.21.1"),
    "kind-v1.21-quick": (1, 22, 3, "v1.21.1"),
}

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the sonobuoy corpus is not at {CORPUS}")


@pytest.mark.parametrize("capture", sorted(EXPECTED))
def test_capture_loads(capture: str) -> None:
    nodes, pods, daemonsets, version = EXPECTED[capture]
    state = SnapshotClusterState(load_snapshot(CORPUS / capture))
    assert len(state.list("nodes")) == nodes
    assert len(state.list("pods")) == pods
    assert len(state.list("daemonsets")) == daemonsets
    assert state.version.git_version == version
    assert all(p["kind"] == "Pod" and p["metadata"].get("namespace") for p in state.list("pods"))
    assert state.snapshot.captured is not None
    assert state.snapshot.captured_source == "newest timestamp in the snapshot"


def test_old_capture_folds_legacy_groups_and_bare_arrays() -> None:
    state = SnapshotClusterState(load_snapshot(CORPUS / "aws-kubeadm-v1.8"))
    names = {d["metadata"]["name"] for d in state.list("apps/v1 daemonsets")}
    assert "calico-node" in names
    assert state.version.minor == 8
    assert not state.serves("velero.io/v1 schedules")


def test_v1_14_daemonsets_are_extensions_v1beta1_served_as_apps() -> None:
    state = SnapshotClusterState(load_snapshot(CORPUS / "kind-v1.14"))
    assert {d["apiVersion"] for d in state.list("daemonsets.apps")} == {"extensions/v1beta1"}
    assert len(state.list("leases")) >= 1


def test_e2e_capture_has_quotas_and_crds() -> None:
    state = SnapshotClusterState(load_snapshot(CORPUS / "kind-v1.21-e2e"))
    quotas = state.list("resourcequotas")
    assert {q["metadata"]["namespace"] for q in quotas} == {"resourcequota-9871"}
    assert state.serves("customresourcedefinitions.apiextensions.k8s.io")
    assert any(ns["metadata"]["name"] == "kube-node-lease" for ns in state.list("namespaces"))
