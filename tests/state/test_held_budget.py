"""The prefetch window's byte budget: how many clusters' listed objects a scan holds at once.

Unit tests of the admission rule (:class:`fleetcheck.state.held.HeldBudget`), then a live run through the
official client against the replay server: with a budget smaller than one cluster, a serial scan holds one
cluster at a time; with none, the count alone bounds it; the cluster being judged is always listed.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from fleetcheck.replay import ReplayServer
from fleetcheck.runstate import RunOptions, RunState
from fleetcheck.state.held import HeldBudget
from fleetcheck.state.snapshot import load_snapshot
from tests.integration.clusters import write_cluster

MB = 1024 * 1024
NAMES = [f"edge-{i}" for i in range(6)]


def test_nothing_ahead_is_admitted_before_a_cluster_has_been_weighed() -> None:
    budget = HeldBudget(4, 100 * MB)
    assert budget.admit("a", ["b", "c"]) == ["a"]
    budget.listing("a")
    assert budget.admit("a", ["b", "c"]) == []  # still listing a: its weight is unknown
    budget.listed("a", 10 * MB)
    assert budget.admit("a", ["b", "c", "d", "e", "f"]) == ["b", "c", "d", "e"]  # the count bounds it here


def test_the_byte_budget_stops_the_window_and_never_skips_ahead() -> None:
    budget = HeldBudget(16, 25 * MB)
    budget.listing("a")
    budget.listed("a", 10 * MB)
    assert budget.admit("a", ["b", "c", "d"]) == ["b"]  # 10 held + 10 estimated for b = 20; c would make 30
    budget.listing("b")
    assert budget.admit("a", ["b", "c", "d"]) == []  # b, listing, counts at the estimate
    budget.released("a")
    budget.listed("b", 2 * MB)
    # the estimate is the largest recent cluster (10 MB): 2 held + 10 (c) + 10 (d) = 22; e would make 32
    assert budget.admit("b", ["c", "d", "e"]) == ["c", "d"]


def test_the_judged_cluster_is_admitted_whatever_it_weighs() -> None:
    budget = HeldBudget(16, 1 * MB)
    budget.listing("huge")
    budget.listed("huge", 500 * MB)
    budget.released("huge")
    assert budget.admit("next", ["after"]) == ["next"]  # alone: the budget holds nothing else


def test_no_byte_bound_admits_by_count_and_snapshots_weigh_nothing() -> None:
    unbounded = HeldBudget(2, None)
    assert unbounded.admit("a", ["b", "c", "d"]) == ["a", "b", "c"]
    snapshots = HeldBudget(2, 1)  # a 1-byte budget: snapshot states are 0 bytes, so only the count matters
    snapshots.listing("a")
    snapshots.listed("a", 0)
    assert snapshots.admit("a", ["b", "c", "d"]) == ["b", "c"]


@pytest.fixture
def replayed(tmp_path: Path) -> Iterator[tuple[Path, ReplayServer]]:
    folders = [write_cluster(tmp_path / "snaps", name) for name in NAMES]
    with ReplayServer([load_snapshot(f) for f in folders]) as server:
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
        fleet = tmp_path / "fleet.yaml"
        fleet.write_text(yaml.safe_dump({"clusters": [{"name": n, "kubeconfig": str(kubeconfig)} for n in NAMES]}))
        yield fleet, server


def _walk(run: RunState) -> int:
    """Judge the fleet as a serial scan does (window at each case, release after the last); the most held at once."""
    plan = {name: ["namespaces", "pods"] for name in NAMES}
    for name in NAMES:
        for _case in range(3):
            run.prefetch_window(plan, name)
            run._prefetch[name].result(timeout=30)
        run.release(name)
    return run.held.peak_clusters


def test_a_budget_smaller_than_a_cluster_holds_one_cluster_at_a_time(replayed: tuple[Path, ReplayServer]) -> None:
    fleet, server = replayed
    run = RunState(RunOptions(fleet_file=str(fleet), prefetch_workers=4, prefetch_bytes=1))
    try:
        assert _walk(run) == 1
        assert run.state(NAMES[0]).held_bytes == 0  # released
        pod_lists = [r.cluster for r in server.request_log if r.path == "/api/v1/pods" and "continue" not in r.query]
        assert sorted(pod_lists) == sorted(NAMES)  # every cluster judged, each listed once
    finally:
        run.close()


def test_without_a_byte_bound_the_count_bounds_the_window(replayed: tuple[Path, ReplayServer]) -> None:
    fleet, _ = replayed
    run = RunState(RunOptions(fleet_file=str(fleet), prefetch_workers=4, prefetch_bytes=None))
    try:
        assert _walk(run) == 5  # the judged cluster and the 4 ahead of it
    finally:
        run.close()


def test_live_lists_are_weighed_in_response_bytes(replayed: tuple[Path, ReplayServer]) -> None:
    fleet, _ = replayed
    run = RunState(RunOptions(fleet_file=str(fleet)))
    try:
        state = run.state(NAMES[0])
        pods = state.fetch("pods")
        assert pods.size > 0 and state.held_bytes >= pods.size
    finally:
        run.close()


@pytest.mark.parametrize("value", ["-1", "lots", "nan"])
def test_a_bad_prefetch_mb_is_a_one_line_usage_error(tmp_path: Path, value: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "fleetcheck.cli", "run", "--snapshot", str(tmp_path), "--prefetch-mb", value],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "prefetch-mb" in result.stderr and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
