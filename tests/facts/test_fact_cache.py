"""Facts are computed at most once per cluster per run, errors included, and read only what they declare."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from fleetcheck.errors import BudgetExceeded, FleetcheckError
from fleetcheck.facts import builtin, cni
from fleetcheck.facts.key import Fact, FactDefinitionError, FactInput
from fleetcheck.registry.fleet import ClusterEntry
from fleetcheck.registry.profile import Profile
from fleetcheck.runstate import BrokenClusterState
from fleetcheck.state.snapshot import load_snapshot
from fleetcheck.state.snapshot_state import SnapshotClusterState
from fleetcheck.view import ClusterView
from tests.facts import fleet_kit as kit
from tests.harness import NESTED_OPTIONS


def view_of(state: Any, name: str) -> ClusterView:
    return ClusterView(ClusterEntry(name=name, snapshot="x"), Profile(name="p"), state)


def test_one_extraction_per_cluster_even_from_many_threads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: Counter[int] = Counter()
    real = cni.detect_cni

    def counting(daemonsets: Any, nodes: Any = None) -> cni.CniDetection:
        calls[id(daemonsets)] += 1
        return real(daemonsets, nodes)

    monkeypatch.setattr(cni, "detect_cni", counting)
    view = view_of(SnapshotClusterState(load_snapshot(kit.write_cluster(tmp_path, "a", kit.A, "prod"))), "a")
    results: list[cni.CniDetection] = []
    threads = [threading.Thread(target=lambda: results.append(view.fact(builtin.CNI))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sum(calls.values()) == 1
    assert len(results) == 8 and all(r is results[0] for r in results)
    assert results[0].primary is not None and results[0].primary.cni == "calico"
    assert view.facts_computed == {"cni": 1}


def test_an_error_is_computed_once_and_raised_again_as_the_same_error() -> None:
    view = view_of(BrokenClusterState("gone", "connection refused"), "gone")
    with pytest.raises(FleetcheckError) as first:
        view.fact(builtin.CNI)
    with pytest.raises(FleetcheckError) as second:
        view.fact(builtin.CNI)
    # the same error (class, message), raised as a copy: the cached object's traceback would keep every
    # raiser's frames alive (tests/state/test_cached_errors.py)
    assert type(second.value) is type(first.value) and second.value.args == first.value.args
    assert "connection refused" in str(first.value)
    assert view.facts_computed == {"cni": 1}


def test_a_fact_cut_short_by_a_time_budget_tells_later_readers_what_happened(tmp_path: Path) -> None:
    """The first reader ran out of time; later readers get an error naming the fact, not its budget message."""
    runs: list[int] = []

    def slow(source: FactInput) -> int:
        runs.append(1)
        raise BudgetExceeded("FC-X-001 ran past its budget of 30 s (--check-timeout)")

    fact = Fact("slow-thing", "takes too long on hostile data", ("configmaps",), slow)
    view = view_of(SnapshotClusterState(load_snapshot(kit.write_cluster(tmp_path, "a", kit.A, "prod"))), "a")
    with pytest.raises(BudgetExceeded):
        view.fact(fact)
    with pytest.raises(FleetcheckError) as later:
        view.fact(fact)
    assert not isinstance(later.value, BudgetExceeded)
    assert str(later.value) == (
        "the slow-thing fact could not be computed within a time budget "
        "(FC-X-001 ran past its budget of 30 s (--check-timeout))"
    )
    assert runs == [1]


def test_a_fact_that_lists_an_undeclared_kind_is_a_bug_said_at_once(tmp_path: Path) -> None:
    def sneaky(source: FactInput) -> int:
        return len(source.list("secrets"))

    fact = Fact("sneaky", "reads what it does not declare", ("configmaps",), sneaky)
    view = view_of(SnapshotClusterState(load_snapshot(kit.write_cluster(tmp_path, "a", kit.A, "prod"))), "a")
    with pytest.raises(FactDefinitionError, match="secrets"):
        view.fact(fact)
    with pytest.raises(ValueError):
        Fact("typo", "a kind that does not parse", ("not a kind!",), sneaky)


def test_cni_fact_is_detected_once_per_cluster_across_cni_and_tier_checks(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FC-CNI-001/002/003 and FC-TIER-003 all read the CNI of every cluster: one detection per cluster."""
    calls: list[int] = []
    real = cni.detect_cni

    def counting(daemonsets: Any, nodes: Any = None) -> cni.CniDetection:
        calls.append(1)
        return real(daemonsets, nodes)

    monkeypatch.setattr(cni, "detect_cni", counting)
    sides = {"a": (kit.A, "canary"), "b": (kit.A, "prod"), "c": (kit.B, "prod")}
    args: list[str] = []
    for name, (side, tier) in sides.items():
        args += ["--snapshot", str(kit.write_cluster(tmp_path, name, side, tier))]
    result = pytester.runpytest_inprocess(
        str(kit.CHECKS / "test_cni.py"),
        str(kit.CHECKS / "test_tiers.py"),
        *args,
        "--no-reports",
        "-q",
        *NESTED_OPTIONS,
    )
    assert "FC-TIER-003 [a] fail" in result.stdout.str()  # the tier check did read the CNI of its prod peers
    assert len(calls) == len(sides), result.stdout.str()
