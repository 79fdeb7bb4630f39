"""A cohort's standard is decided once per question, not once per member (which made fleet checks quadratic)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from fleetcheck.facts import builtin
from fleetcheck.facts.cni import CniDetection
from fleetcheck.registry.fleet import ClusterEntry
from fleetcheck.registry.profile import Profile
from fleetcheck.state.snapshot import load_snapshot
from fleetcheck.state.snapshot_state import SnapshotClusterState
from fleetcheck.view import ClusterView, FleetView
from tests.facts import fleet_kit as kit


def _fleet(tmp_path: Path, sides: dict[str, kit.Variant], reference: str | None = None) -> FleetView:
    profile = Profile(name="p")
    views = [
        ClusterView(
            ClusterEntry(name=name, snapshot="x"),
            profile,
            SnapshotClusterState(load_snapshot(kit.write_cluster(tmp_path, name, side, "prod"))),
        )
        for name, side in sides.items()
    ]
    return FleetView(views, reference)


def _primary(detection: CniDetection) -> str | None:
    return detection.primary.cni if detection.primary is not None else None


_READS: Counter[str] = Counter()


def _asked(detection: CniDetection) -> str | None:
    """A module-level function (nothing captured): counts how often a member's value is read."""
    _READS[str(_primary(detection))] += 1
    return _primary(detection)


def test_a_cohort_of_n_reads_each_member_once_per_question(tmp_path: Path) -> None:
    fleet = _fleet(tmp_path, {"a": kit.A, "b": kit.A, "c": kit.B, "d": kit.A})
    _READS.clear()
    standards = [fleet.compare(member, builtin.CNI, _asked) for member in fleet]
    assert sum(_READS.values()) == 4  # one reading per member for the four comparisons (16 without the memo)
    assert all(s is standards[0] for s in standards)
    assert standards[0].kind == "majority" and standards[0].outliers == ("c",)


def test_a_lambda_made_afresh_per_call_is_the_same_question(tmp_path: Path) -> None:
    fleet = _fleet(tmp_path, {"a": kit.A, "b": kit.A, "c": kit.B})
    first = [fleet.compare(member, builtin.CNI, lambda d: _primary(d)) for member in fleet]
    assert first[0] is first[1] is first[2]


def test_captured_values_make_different_questions(tmp_path: Path) -> None:
    fleet = _fleet(tmp_path, {"a": kit.A, "b": kit.A, "c": kit.B})
    expected = {name: _primary(fleet.get(name).fact(builtin.CNI)) for name in ("a", "c")}

    def runs(product: str | None):  # type: ignore[no-untyped-def]
        return lambda d: _primary(d) == product

    on_a = fleet.compare(fleet.get("a"), builtin.CNI, runs(expected["a"]))
    on_c = fleet.compare(fleet.get("a"), builtin.CNI, runs(expected["c"]))
    assert on_a is not on_c
    assert on_a.expected is True and on_a.outliers == ("c",)
    assert on_c.expected is False and on_c.outliers == ("c",)


def test_unhashable_captures_are_decided_afresh(tmp_path: Path) -> None:
    fleet = _fleet(tmp_path, {"a": kit.A, "b": kit.A})
    reads: Counter[str] = Counter()  # captured, and unhashable: the question cannot be told apart, so never memoised

    def asked(detection: CniDetection) -> str | None:
        reads[str(_primary(detection))] += 1
        return _primary(detection)

    one = fleet.compare(fleet.get("a"), builtin.CNI, asked)
    two = fleet.compare(fleet.get("b"), builtin.CNI, asked)
    assert one is not two and one == two
    assert sum(reads.values()) == 4


def test_the_reference_cluster_is_told_so_and_the_others_share_its_standard(tmp_path: Path) -> None:
    fleet = _fleet(tmp_path, {"a": kit.A, "b": kit.B, "c": kit.B}, reference="a")
    of_reference = fleet.compare(fleet.get("a"), builtin.CNI, _primary)
    of_b = fleet.compare(fleet.get("b"), builtin.CNI, _primary)
    of_c = fleet.compare(fleet.get("c"), builtin.CNI, _primary)
    assert of_reference.kind == "is-reference" and not of_reference.decided
    assert of_b is of_c and of_b.kind == "reference" and of_b.outliers == ("b", "c")
