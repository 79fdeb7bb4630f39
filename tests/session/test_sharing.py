"""Scale-out decisions of a session, without a pytest session: release counting, fact sharing, the prefetch plan.

The hooks of :class:`fleetcheck.session.sharing.FactSharing` only feed these
(``tests/integration/test_scale_out.py`` drives them in real ``-n 2`` and
``--shard`` runs); here each decision is held to its rule, failure side included.
"""

from __future__ import annotations

import pytest

from fleetcheck.session.cases import kinds_by_cluster
from fleetcheck.session.sharing import LOAD_BALANCING, Releases, exchanges_facts


def _finish_all(releases: Releases, cases: list[tuple[str, bool]]) -> list[str]:
    """The clusters released, in order, as each case finishes."""
    return [name for name, comparison in cases if releases.finished(name, comparison)]


def test_a_cluster_is_released_after_its_last_own_case_not_before() -> None:
    cases = [("a", False), ("a", False), ("b", False), ("a", True), ("b", True)]
    releases = Releases(cases)
    assert releases.finished("a", False) is False, "released after the first of two own cases"
    assert releases.finished("a", False) is True
    assert releases.finished("b", False) is True
    # the fleet comparisons ordered after them read facts: they neither count nor release again
    assert releases.finished("a", True) is False
    assert releases.finished("b", True) is False


def test_a_cluster_with_comparisons_only_is_released_after_the_last_of_them() -> None:
    cases = [("a", False), ("c", True), ("a", True), ("c", True)]
    releases = Releases(cases)
    assert releases.compares_only == {"c"}
    assert _finish_all(releases, cases) == ["a", "c"]


def test_each_cluster_is_released_exactly_once_however_many_cases_finish() -> None:
    releases = Releases([("a", False)])
    assert [releases.finished("a", False) for _ in range(3)] == [True, False, False]
    assert releases.left["a"] == 0, "the count went below zero"


def test_a_cluster_with_no_case_here_is_never_released() -> None:
    releases = Releases([("a", False)])
    assert releases.finished("peer", False) is False
    assert releases.finished("peer", True) is False
    assert "peer" not in releases.compares_only


def test_a_process_without_check_cases_has_nothing_to_release() -> None:
    assert not Releases([])
    assert Releases([("a", True)])


@pytest.mark.parametrize("dist", sorted(LOAD_BALANCING))
def test_a_scan_balanced_over_workers_exchanges_facts(dist: str) -> None:
    assert exchanges_facts(dist, scan=True)


@pytest.mark.parametrize(("dist", "scan"), [("no", True), ("each", True), ("load", False), ("loadgroup", False)])
def test_xdist_keeps_its_own_scheduling_otherwise(dist: str, scan: bool) -> None:
    assert not exchanges_facts(dist, scan=scan)


def test_the_prefetch_plan_lists_clusters_in_first_case_order_with_every_kind_once() -> None:
    plan = kinds_by_cluster([("b", ["pods"]), ("a", ["nodes", "pods"]), ("b", ["configmaps", "pods"]), ("a", [])])
    assert list(plan) == ["b", "a"]
    assert plan == {"b": ["configmaps", "pods"], "a": ["nodes", "pods"]}
    assert kinds_by_cluster([]) == {}
