"""A replayed snapshot never answers "none" for what it did not capture.

A kind the capture could not read (``cluster.yaml`` ``unreadable:``) or never captured (no file, no
``kinds:`` entry) is answered 403 with the reason, so a live scan of the replay errors the checks that
need it, exactly as a scan of the folder itself does; a kind held with zero objects is an empty list.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from fleetcheck.registry.kubeconfig import merge_kubeconfigs
from fleetcheck.replay import ReplayServer
from fleetcheck.state.base import KindUnavailable
from fleetcheck.state.live import LiveClusterState
from fleetcheck.state.snapshot import load_snapshot


def _partial_snapshot(folder: Path) -> Path:
    folder.mkdir()
    empty = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": []}
    (folder / "namespaces.json").write_text(json.dumps(empty), encoding="utf-8")
    meta = {
        "name": "partial",
        "captured": "2026-11-24T10:00:00Z",
        "serverVersion": "v1.31.4",
        "unreadable": {"pods": 'pods is forbidden: User "scanner" cannot list resource "pods"'},
        "partial": True,
    }
    (folder / "cluster.yaml").write_text(yaml.safe_dump(meta), encoding="utf-8")
    return folder


def test_unreadable_and_uncaptured_kinds_are_forbidden_and_held_ones_are_served(tmp_path: Path) -> None:
    snapshot = load_snapshot(_partial_snapshot(tmp_path / "partial"))
    with ReplayServer([snapshot]) as server:
        state = LiveClusterState("partial", merge_kubeconfigs([server.write_kubeconfig(tmp_path / "kc")]), "partial")
        try:
            assert state.list("namespaces") == []
            with pytest.raises(KindUnavailable) as pods:
                state.fetch("pods")
            with pytest.raises(KindUnavailable) as configmaps:
                state.fetch("configmaps")
        finally:
            state.close()
    assert pods.value.status == 403
    assert "the snapshot could not capture it" in pods.value.reason
    assert configmaps.value.status == 403
    assert "the snapshot holds no such objects" in configmaps.value.reason
