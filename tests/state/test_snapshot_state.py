"""A snapshot folder as a ClusterState: served or not, zero objects or not installed, and its version.

The builder writes a complete capture (an empty List for every kind it has no objects of, the CRDs
included); what a snapshot does not hold is tested in test_snapshot_completeness.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from fleetcheck.core.kinds import parse_kind
from fleetcheck.state.base import KindUnavailable, ServerVersion
from fleetcheck.state.snapshot import load_snapshot
from fleetcheck.state.snapshot_state import SnapshotClusterState
from tests.builders import crd, k8s_list, namespace, pod, write_json, write_snapshot


def _state(folder: Path) -> SnapshotClusterState:
    return SnapshotClusterState(load_snapshot(folder))


def test_builtin_kind_with_an_empty_list_is_served_and_empty(tmp_path: Path) -> None:
    state = _state(write_snapshot(tmp_path / "s", [namespace("team-a")]))
    listed = state.fetch("limitranges")
    assert listed.served is True
    assert listed.items == []
    assert state.serves("apps/v1 daemonsets")
    assert state.list("namespaces")[0]["metadata"]["name"] == "team-a"


def test_custom_kind_without_crd_is_not_served_when_the_crds_were_captured(tmp_path: Path) -> None:
    state = _state(write_snapshot(tmp_path / "s", [namespace("team-a")]))
    assert state.serves("velero.io/v1 schedules") is False
    assert state.list("velero.io/v1 schedules") == []


def test_custom_kind_with_crd_and_an_empty_list_is_served(tmp_path: Path) -> None:
    folder = write_snapshot(tmp_path / "s", [crd("velero.io", "schedules", "Schedule")])
    state = _state(folder)
    assert state.serves("schedules.velero.io") is True
    assert state.list("schedules.velero.io") == []
    assert state.serves("velero.io/v1 backups") is False


def test_custom_kind_with_objects_but_no_crd_is_served(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    schedule = {"apiVersion": "velero.io/v1", "kind": "Schedule", "metadata": {"name": "daily", "namespace": "velero"}}
    write_json(folder / "schedules.json", k8s_list([schedule]))
    state = _state(folder)
    assert state.serves("velero.io/v1 schedules")
    assert [s["metadata"]["name"] for s in state.list("schedules.velero.io")] == ["daily"]


def test_legacy_group_objects_answer_the_modern_name(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    ds = {
        "apiVersion": "extensions/v1beta1",
        "kind": "DaemonSet",
        "metadata": {"name": "calico-node", "namespace": "kube-system"},
    }
    write_json(folder / "extensions_v1beta1_daemonsets.json", [ds])
    state = _state(folder)
    assert [d["metadata"]["name"] for d in state.list("daemonsets")] == ["calico-node"]
    assert state.list(parse_kind("extensions/v1beta1 daemonsets")) == state.list("apps/v1 daemonsets")


def test_version_and_time_come_from_the_snapshot(tmp_path: Path) -> None:
    state = _state(write_snapshot(tmp_path / "s", [pod("a", "p")], server_version="v1.31.4"))
    assert state.version == ServerVersion(1, 31, "v1.31.4")
    assert state.version.minor_version == "1.31"
    assert state.server_time == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert state.read_time("pods") == state.server_time
    assert state.is_live is False


def test_missing_version_is_kind_unavailable_with_the_fix(tmp_path: Path) -> None:
    state = _state(write_snapshot(tmp_path / "s", [pod("a", "p")], name="edge-7", server_version=None))
    with pytest.raises(KindUnavailable) as info:
        _ = state.version
    assert info.value.cluster == "edge-7"
    assert "edge-7" in str(info.value)
    assert "serverVersion: v1.31.4" in info.value.reason
    assert "cluster.yaml" in info.value.reason


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("v1.31.4", ServerVersion(1, 31, "v1.31.4")),
        ("1.29.0", ServerVersion(1, 29, "v1.29.0")),
        (
            {"major": "1", "minor": "21+", "gitVersion": "v1.21.14-eks-18ef993"},
            ServerVersion(1, 21, "v1.21.14-eks-18ef993"),
        ),
        ({"gitVersion": "v1.27.3+k3s1"}, ServerVersion(1, 27, "v1.27.3+k3s1")),
        ({"major": "1", "minor": "8"}, ServerVersion(1, 8, "v1.8.0")),
    ],
)
def test_server_version_parsing(payload: str | dict[str, str], expected: ServerVersion) -> None:
    assert ServerVersion.parse(payload) == expected
