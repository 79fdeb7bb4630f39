"""Slim projections keep every field a check reads, and change no verdict.

The audit runs every built-in check on the small demo fleet with Pods that
record each field read, and fails when a check reads a Pod field the
projection drops; a second scan with projections on must give exactly the
verdicts of the scan with ``--full-objects``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fleetcheck.core.kinds import ResourceRef
from fleetcheck.demo import demo_fleet_spec, generate_fleet
from fleetcheck.runner import pytest_args_for
from fleetcheck.state.base import KindList
from fleetcheck.state.projection import KEEP, POD_FIELDS, Fields, project, project_items
from fleetcheck.state.snapshot import load_snapshot
from fleetcheck.state.snapshot_state import SnapshotClusterState

NESTED = ("-q", "--tb=native", "-p", "no:randomly", "-p", "no:hypothesispytest", "-p", "no:benchmark")

Path_ = tuple[str, ...]


def _pod() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web-1",
            "namespace": "shop",
            "labels": {"app": "web"},
            "annotations": {"backup.velero.io/backup-volumes": "data"},
            "ownerReferences": [{"kind": "ReplicaSet", "name": "web-abc", "controller": True}],
            "managedFields": [
                {
                    "manager": "argocd-controller",
                    "operation": "Apply",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:a": {}},
                }
            ],
        },
        "spec": {
            "nodeName": "node-1",
            "containers": [
                {
                    "name": "web",
                    "image": "registry.example.com/web:1.0",
                    "command": ["/web"],
                    "args": ["--port=80"],
                    "env": [{"name": "A", "value": "b"}],
                    "resources": {"requests": {"cpu": "1"}},
                }
            ],
            "initContainers": [{"name": "init", "image": "busybox:1.36", "volumeMounts": []}],
            "volumes": [
                {"name": "data", "persistentVolumeClaim": {"claimName": "data-web-1"}},
                {"name": "token", "projected": {"sources": []}},
            ],
            "tolerations": [{"key": "x"}],
        },
        "status": {"phase": "Running", "conditions": [{"type": "Ready"}], "containerStatuses": [{"name": "web"}]},
    }


def test_pod_projection_keeps_what_checks_read() -> None:
    pod = _pod()
    slim = project(pod, POD_FIELDS)
    assert slim == {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web-1",
            "namespace": "shop",
            "labels": {"app": "web"},
            "annotations": {"backup.velero.io/backup-volumes": "data"},
            "ownerReferences": [{"kind": "ReplicaSet", "name": "web-abc", "controller": True}],
            "managedFields": [{"manager": "argocd-controller", "operation": "Apply"}],
        },
        "spec": {
            "nodeName": "node-1",
            "containers": [
                {"name": "web", "image": "registry.example.com/web:1.0", "command": ["/web"], "args": ["--port=80"]}
            ],
            "initContainers": [{"name": "init", "image": "busybox:1.36", "volumeMounts": []}],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data-web-1"}}, {"name": "token"}],
        },
        "status": {"phase": "Running"},
    }
    assert pod == _pod(), "the input is not changed"


def test_other_kinds_only_lose_managed_fields_bodies() -> None:
    deployment = {
        "metadata": {"name": "d", "managedFields": [{"manager": "kubectl", "fieldsV1": {}}]},
        "spec": {"x": 1},
    }
    plain = {"metadata": {"name": "e"}, "spec": {"y": 2}}
    slim = project_items("deployments.apps", [deployment, plain])
    assert slim[0] == {"metadata": {"name": "d", "managedFields": [{"manager": "kubectl"}]}, "spec": {"x": 1}}
    assert slim[1] is plain, "an object without managedFields is not copied"
    assert deployment["metadata"]["managedFields"] == [{"manager": "kubectl", "fieldsV1": {}}]


def test_odd_shapes_pass_through() -> None:
    odd = {"spec": {"containers": "not-a-list", "volumes": [None, "x"]}, "status": None}
    assert project(odd, POD_FIELDS) == {"spec": {"containers": "not-a-list", "volumes": [None, "x"]}, "status": None}
    assert project_items("pods", []) == []


def test_the_state_projects_only_when_asked(tmp_path: Path) -> None:
    folder = generate_fleet(tmp_path, demo_fleet_spec(small=True))[-1]
    full = SnapshotClusterState(load_snapshot(folder))
    slim = SnapshotClusterState(load_snapshot(folder))
    slim.projection = True
    pods_full, pods_slim = full.list("pods"), slim.list("pods")
    assert len(pods_full) == len(pods_slim) > 0
    assert "tolerations" in pods_full[0]["spec"]
    assert "tolerations" not in pods_slim[0]["spec"]
    assert [p["metadata"] for p in pods_full] == [p["metadata"] for p in pods_slim]
    assert slim.list("namespaces") == full.list("namespaces")


# -- the audit: what checks read of a Pod -------------------------------------------------------------------


class Recorder:
    """The field paths read (``("spec", "containers", "[]", "image")``)."""

    def __init__(self) -> None:
        self.paths: set[Path_] = set()


def _wrap(value: Any, path: Path_, recorder: Recorder) -> Any:
    if isinstance(value, dict):
        return RecordingDict(value, path, recorder)
    if isinstance(value, list):
        return RecordingList(value, path, recorder)
    return value


class RecordingDict(dict[str, Any]):
    """A dict that records which keys are read, and hands out recording children."""

    def __init__(self, data: dict[str, Any], path: Path_, recorder: Recorder) -> None:
        super().__init__(data)
        self._path = path
        self._recorder = recorder

    def _child(self, key: str) -> Path_:
        path = (*self._path, key)
        self._recorder.paths.add(path)
        return path

    def __getitem__(self, key: str) -> Any:
        return _wrap(super().__getitem__(key), self._child(key), self._recorder)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        path = self._child(key)
        return _wrap(super().__getitem__(key), path, self._recorder) if super().__contains__(key) else default

    def __contains__(self, key: object) -> bool:
        self._child(str(key))
        return super().__contains__(key)

    def __iter__(self) -> Iterator[str]:
        self._child("*")
        return super().__iter__()

    def keys(self) -> Any:
        self._child("*")
        return super().keys()

    def items(self) -> Any:
        self._child("*")
        return [(k, _wrap(v, (*self._path, k), self._recorder)) for k, v in super().items()]

    def values(self) -> Any:
        self._child("*")
        return [_wrap(v, (*self._path, k), self._recorder) for k, v in super().items()]


class RecordingList(list[Any]):
    """A list whose elements record what is read of them (path element ``[]``)."""

    def __init__(self, data: list[Any], path: Path_, recorder: Recorder) -> None:
        super().__init__(data)
        self._path = (*path, "[]")
        self._recorder = recorder

    def __iter__(self) -> Iterator[Any]:
        for value in super().__iter__():
            yield _wrap(value, self._path, self._recorder)

    def __getitem__(self, index: Any) -> Any:
        value = super().__getitem__(index)
        if isinstance(index, slice):
            return RecordingList(value, self._path[:-1], self._recorder)
        return _wrap(value, self._path, self._recorder)


def _kept(path: Path_, fields: Fields) -> bool:
    node: Any = fields
    for part in path:
        if node is KEEP:
            return True
        if isinstance(node, list):
            if part != "[]":
                return False
            node = node[0]
            continue
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


@pytest.fixture(scope="module")
def demo_dirs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return generate_fleet(tmp_path_factory.mktemp("projection-demo"), demo_fleet_spec(small=True))


def _verdicts(report_dir: Path) -> dict[tuple[str, str], tuple[str, str, tuple[str, ...]]]:
    doc = json.loads((report_dir / "results.json").read_text())
    return {(r["cluster"], r["code"]): (r["outcome"], r["message"], tuple(r["objects"])) for r in doc["results"]}


def _scan(pytester: pytest.Pytester, dirs: list[Path], report_dir: Path, *extra: str) -> None:
    args = pytest_args_for(
        fleet=None, snapshots=[str(d) for d in dirs], profile=None, clusters=(), report_dir=report_dir
    )
    result = pytester.runpytest_inprocess(*args, *NESTED, *extra)
    assert result.ret in (0, 1), result.stdout.str()[-3000:]


def test_no_check_reads_a_pod_field_the_projection_drops(
    demo_dirs: list[Path], pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    recorder = Recorder()
    original = SnapshotClusterState._fetch

    def recording_fetch(self: SnapshotClusterState, ref: ResourceRef) -> KindList:
        listed = original(self, ref)
        if ref.key != "pods":
            return listed
        items = [RecordingDict(pod, (), recorder) for pod in listed.items]
        return KindList(ref, items, served=listed.served, read_at=listed.read_at)

    monkeypatch.setattr(SnapshotClusterState, "_fetch", recording_fetch)
    _scan(pytester, demo_dirs, tmp_path / "full", "--full-objects")
    assert ("spec", "containers", "[]", "image") in recorder.paths, "the audit saw the image checks read Pods"
    assert ("status", "phase") in recorder.paths, "the audit saw FC-COST-001 read Pods"
    dropped = sorted(".".join(p) for p in recorder.paths if not _kept(p, POD_FIELDS))
    assert not dropped, f"checks read Pod fields the projection drops (add them to POD_FIELDS): {dropped}"


def test_projection_changes_no_verdict(demo_dirs: list[Path], pytester: pytest.Pytester, tmp_path: Path) -> None:
    _scan(pytester, demo_dirs, tmp_path / "full", "--full-objects")
    _scan(pytester, demo_dirs, tmp_path / "slim")
    full, slim = _verdicts(tmp_path / "full"), _verdicts(tmp_path / "slim")
    assert slim == full
    assert any(outcome == "fail" for outcome, _, _ in full.values())
