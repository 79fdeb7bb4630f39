"""The live state's two non-kind reads: the serving certificate of its own TLS handshake, and /metrics (bounded)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fleetcheck.registry.kubeconfig import merge_kubeconfigs
from fleetcheck.replay import ReplayServer
from fleetcheck.state.base import MetricsUnavailable
from fleetcheck.state.live import LiveClusterState, LiveOptions
from fleetcheck.state.snapshot import load_snapshot
from fleetcheck.state.snapshot_state import SnapshotClusterState
from tests.checks.gotcha_kit import namespace, write_snapshot

SIZE = "apiserver_storage_size_bytes"


def _folder(tmp_path: Path, metrics: str | None = None) -> Path:
    folder = write_snapshot(tmp_path / "c1", [namespace("shop")])
    if metrics is not None:
        (folder / "metrics.txt").write_text(metrics, encoding="utf-8")
    return folder


def test_serving_certificate_comes_from_the_first_request_and_costs_none(tmp_path: Path) -> None:
    with ReplayServer([load_snapshot(_folder(tmp_path))], tls_validity=timedelta(days=3)) as server:
        state = LiveClusterState("c1", merge_kubeconfigs([server.write_kubeconfig(tmp_path / "kc")]), "c1")
        try:
            assert state.serving_certificate is None  # nothing sent yet: not seen, never a made-up value
            _ = state.version
            served = state.serving_certificate
            assert served is not None
            assert state.request_count == 1
        finally:
            state.close()
        paths = [record.path for record in server.request_log]
    assert paths == ["/version"]
    assert "CN=127.0.0.1" in served.subject and "CN=fleetcheck replay CA" in served.issuer
    assert abs(served.not_after - (datetime.now(UTC) + timedelta(days=3))) < timedelta(minutes=5)


def test_snapshot_state_has_no_certificate_and_no_metrics(tmp_path: Path) -> None:
    state = SnapshotClusterState(load_snapshot(_folder(tmp_path, f"{SIZE} 5\n")))
    assert state.serving_certificate is None
    with pytest.raises(MetricsUnavailable, match="only a live API server serves /metrics"):
        state.metric_samples([SIZE])


def test_metrics_are_read_once_per_family_and_bounded(tmp_path: Path) -> None:
    text = f'# TYPE {SIZE} gauge\n{SIZE}{{storage_cluster_id="etcd-0"}} 123\n' + "# padding\n" * 200
    with ReplayServer([load_snapshot(_folder(tmp_path, text))]) as server:
        kubeconfig = merge_kubeconfigs([server.write_kubeconfig(tmp_path / "kc")])
        state = LiveClusterState("c1", kubeconfig, "c1")
        small = LiveClusterState("c1", kubeconfig, "c1", LiveOptions(metrics_max_bytes=100))
        try:
            first = state.metric_samples([SIZE])
            again = state.metric_samples([SIZE])
            with pytest.raises(MetricsUnavailable, match="larger than 100 bytes"):
                small.metric_samples([SIZE])
            with pytest.raises(MetricsUnavailable, match="larger than 100 bytes"):  # remembered, not re-read
                small.metric_samples([SIZE])
        finally:
            state.close()
            small.close()
        metrics_gets = [record for record in server.request_log if record.path == "/metrics"]
    assert first == again and first[SIZE][0].value == 123 and first[SIZE][0].labels == {"storage_cluster_id": "etcd-0"}
    assert len(metrics_gets) == 2  # one per state: the second read of each came from its memory
