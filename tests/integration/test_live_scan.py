"""The whole path against replayed clusters: kubeconfig -> official client -> checks -> records.

Each test reads the replay server's request log, which is the proof of what
fleetcheck sent: only GETs, one list per kind per cluster.
"""

from __future__ import annotations

import json
import socket
from collections import Counter
from pathlib import Path

import pytest

from fleetcheck.registry.kubeconfig import merge_kubeconfigs
from fleetcheck.replay import ReplayServer
from fleetcheck.state.live import LiveClusterState, LiveOptions
from tests.integration.conftest import QUOTA_CHECKS, write_fleet


def _records(report_dir: Path) -> dict[tuple[str, str], dict]:
    doc = json.loads((report_dir / "results.json").read_text())
    return {(r["cluster"], r["code"]): r for r in doc["results"]}


def test_live_state_paginates_and_reads_the_date_header(replay: ReplayServer, tmp_path: Path) -> None:
    kubeconfig = replay.write_kubeconfig(tmp_path / "kubeconfig")
    state = LiveClusterState("prod-a", merge_kubeconfigs([kubeconfig]), "prod-a", LiveOptions(page_size=500))
    pods = state.fetch("pods")
    assert len(pods.items) == 1200
    assert pods.requests == 3  # 500 + 500 + 200
    assert pods.read_at is not None
    assert state.version.minor_version == "1.31"
    assert not state.serves("velero.io/v1 schedules")  # CRD not installed: 404, not an error
    assert state.serves("limitranges")
    state.close()


def test_scan_gives_verdicts_and_sends_only_gets_once_per_kind(
    replay: ReplayServer, tmp_path: Path, pytester: pytest.Pytester
) -> None:
    fleet = write_fleet(tmp_path, replay, ["prod-a", "prod-b"])
    reports = tmp_path / "reports"
    result = pytester.runpytest_inprocess(str(QUOTA_CHECKS), "--fleet", str(fleet), "--report-dir", str(reports))
    result.assert_outcomes(passed=3, failed=3)
    records = _records(reports)
    assert records[("prod-a", "FC-QUOTA-001")]["outcome"] == "pass"
    failing = records[("prod-b", "FC-QUOTA-001")]
    assert failing["outcome"] == "fail"
    assert failing["objects"] == ["Namespace/legacy-0", "Namespace/legacy-1"]
    assert "2 of 5 tenant namespaces" in failing["message"]
    assert records[("prod-b", "FC-QUOTA-003")]["objects"] == ["team-a/ResourceQuota/compute"]

    log = replay.request_log
    assert log, "the scan reached the replay server"
    assert {r.method for r in log} == {"GET"}
    first_pages = Counter((r.cluster, r.path) for r in log if "continue=" not in r.query)
    repeated = {key: n for key, n in first_pages.items() if n > 1}
    assert not repeated, f"a kind was listed more than once: {repeated}"
    lists = {path for (_, path) in first_pages if path.endswith(("/namespaces", "/resourcequotas", "/limitranges"))}
    assert lists == {"/api/v1/namespaces", "/api/v1/resourcequotas", "/api/v1/limitranges"}


def test_forbidden_kind_errors_only_the_checks_that_read_it(
    replay: ReplayServer, tmp_path: Path, pytester: pytest.Pytester
) -> None:
    replay.add_fault("prod-b", r"/limitranges$", status=403)
    fleet = write_fleet(tmp_path, replay, ["prod-a", "prod-b"])
    reports = tmp_path / "reports"
    pytester.runpytest_inprocess(str(QUOTA_CHECKS), "--fleet", str(fleet), "--report-dir", str(reports))
    records = _records(reports)
    errored = records[("prod-b", "FC-QUOTA-002")]
    assert errored["outcome"] == "error"
    assert "403 Forbidden" in errored["message"]
    assert "'list' on 'limitranges'" in errored["message"]
    assert records[("prod-b", "FC-QUOTA-001")]["outcome"] == "fail"
    assert records[("prod-b", "FC-QUOTA-003")]["outcome"] == "fail"
    assert records[("prod-a", "FC-QUOTA-002")]["outcome"] == "pass"


def test_unreachable_cluster_errors_without_stopping_the_scan(
    replay: ReplayServer, tmp_path: Path, pytester: pytest.Pytester
) -> None:
    fleet = write_fleet(tmp_path, replay, ["prod-a", "prod-b"])
    kubeconfig = tmp_path / "kubeconfig"
    with socket.socket() as probe:  # a loopback port nobody listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    text = kubeconfig.read_text().replace(replay.urls["prod-b"], f"https://127.0.0.1:{closed_port}")
    kubeconfig.write_text(text)
    reports = tmp_path / "reports"
    pytester.runpytest_inprocess(str(QUOTA_CHECKS), "--fleet", str(fleet), "--report-dir", str(reports))
    records = _records(reports)
    for code in ("FC-QUOTA-001", "FC-QUOTA-002", "FC-QUOTA-003"):
        assert records[("prod-b", code)]["outcome"] == "error"
        assert "cannot connect" in records[("prod-b", code)]["message"]
    assert records[("prod-a", "FC-QUOTA-001")]["outcome"] == "pass"
    doc = json.loads((reports / "results.json").read_text())
    reach = {c["name"]: c["reachable"] for c in doc["clusters"]}
    assert reach == {"prod-a": True, "prod-b": False}


def test_snapshot_round_trip_gives_identical_verdicts(
    replay: ReplayServer, two_clusters: list[Path], tmp_path: Path, pytester: pytest.Pytester
) -> None:
    """live -> fleetcheck snapshot -> scan the snapshot: the same verdicts as the original folders."""
    from fleetcheck.state.snapshot_writer import write_snapshot

    kubeconfig = replay.write_kubeconfig(tmp_path / "kubeconfig")
    merged = merge_kubeconfigs([kubeconfig])
    copies = []
    for name in ("prod-a", "prod-b"):
        state = LiveClusterState(name, merged, name)
        capture = write_snapshot(
            state, tmp_path / "copies" / name, ["namespaces", "resourcequotas", "limitranges", "pods"], name=name
        )
        state.close()
        assert capture.failed == {}
        copies.append(capture.folder)

    def verdicts(dirs: list[Path], out: Path) -> dict[tuple[str, str], tuple[str, list[str]]]:
        args = [str(QUOTA_CHECKS), "--report-dir", str(out)]
        for d in dirs:
            args += ["--snapshot", str(d)]
        pytester.runpytest_inprocess(*args)
        return {k: (r["outcome"], r["objects"]) for k, r in _records(out).items()}

    original = verdicts(two_clusters, tmp_path / "r1")
    round_tripped = verdicts(copies, tmp_path / "r2")
    assert original == round_tripped
    assert original[("prod-b", "FC-QUOTA-001")][0] == "fail"
