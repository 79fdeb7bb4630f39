"""Replayed clusters for end-to-end tests: real HTTPS, real kubeconfig, the official client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from fleetcheck.replay import ReplayServer
from fleetcheck.state.snapshot import load_snapshot
from tests.integration.clusters import write_cluster

REPO = Path(__file__).resolve().parents[2]
QUOTA_CHECKS = REPO / "checks" / "test_quota.py"


@pytest.fixture
def two_clusters(tmp_path: Path) -> list[Path]:
    """A clean cluster and one with two unbounded namespaces and a hot quota."""
    root = tmp_path / "snapshots"
    return [
        write_cluster(root, "prod-a", pods=1200),
        write_cluster(root, "prod-b", bad_namespaces=2, hot_quota=True, labels={"env": "prod", "region": "us-east"}),
    ]


@pytest.fixture
def replay(two_clusters: list[Path]) -> Iterator[ReplayServer]:
    server = ReplayServer([load_snapshot(p) for p in two_clusters])
    with server:
        yield server


def write_fleet(tmp_path: Path, server: ReplayServer, names: list[str]) -> Path:
    """A fleet file naming the replay server's contexts."""
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    fleet = {"defaults": {"kubeconfig": str(kubeconfig)}, "clusters": [{"name": n, "context": n} for n in names]}
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(fleet), encoding="utf-8")
    return path
