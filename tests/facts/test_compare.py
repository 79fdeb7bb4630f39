"""The one comparison rule, alone: no pytest session, no cluster, just readings."""

from __future__ import annotations

import pytest

from fleetcheck.facts.compare import Reading, Reference, cohort_key, cohort_label, decide


def readings(**values: str | None) -> list[Reading[str]]:
    return [Reading(name, value) for name, value in values.items()]


def test_declared_value_wins_over_everything() -> None:
    std = decide(
        "a",
        readings(a="calico", b="cilium", c="cilium"),
        cohort="profile p",
        profile="p",
        declared="calico",
        declared_as="standards.cni",
        reference=Reference(Reading("b", "cilium"), "--reference-cluster"),
    )
    assert (std.value, std.kind, std.source) == ("calico", "declared", "declared by profile p (standards.cni)")
    assert std.outliers == ("b", "c")


def test_reference_cluster_sets_the_standard_and_is_not_judged_itself() -> None:
    ref = Reference(Reading("c", "cilium"), "--reference-cluster")
    std = decide("a", readings(a="calico", b="calico", c="cilium"), cohort="profile p", profile="p", reference=ref)
    assert (std.value, std.kind, std.source) == ("cilium", "reference", "reference cluster c (--reference-cluster)")
    own = decide("c", readings(a="calico", c="cilium"), cohort="profile p", profile="p", reference=ref)
    assert (own.value, own.kind) == (None, "is-reference")


def test_an_unreadable_or_unknown_reference_decides_nothing_and_says_why() -> None:
    broken = Reference(Reading[str]("r", None, "cannot list daemonsets on r: 403"), "profile p reference_cluster")
    std = decide("a", readings(a="calico", b="calico"), cohort="profile p", profile="p", reference=broken)
    assert (std.value, std.kind) == (None, "reference-unreadable")
    assert (
        std.source
        == "cannot read the reference cluster r (profile p reference_cluster): cannot list daemonsets on r: 403"
    )
    unknown = decide(
        "a", readings(a="calico"), cohort="profile p", profile="p", reference=Reference(Reading[str]("r"), "x")
    )
    assert (unknown.kind, unknown.source) == (
        "reference-unknown",
        "no standard: the reference cluster r (x) has no known value to compare with",
    )


def test_strict_majority_names_its_holders_and_outliers() -> None:
    std = decide("d", readings(a="calico", b="calico", c="calico", d="cilium"), cohort="profile p", profile="p")
    assert (std.value, std.kind) == ("calico", "majority")
    assert std.source == "majority: 3 of 4 clusters of cohort profile p: a, b, c"
    assert std.outliers == ("d",)


def test_a_plurality_is_not_a_majority_and_a_split_names_the_values() -> None:
    std = decide(
        "a",
        readings(a="calico", b="calico", c="cilium", d="flannel"),
        cohort="profile p",
        profile="p",
        declared_as="standards.cni",
    )
    assert (std.value, std.kind) == (None, "split")
    assert std.source == (
        "no fleet standard: no value holds more than half of the 4 clusters of cohort profile p with a known value "
        "(calico on 2 (a, b), cilium on 1 (c), flannel on 1 (d)); declare standards.cni in profile p or name a "
        "reference cluster (--reference-cluster NAME, or reference_cluster in the profile)"
    )


def test_unreadable_and_unknown_peers_never_vote_and_are_named() -> None:
    votes = [
        Reading("a", "calico"),
        Reading("b", "calico"),
        Reading("c", "cilium"),
        Reading[str]("x", None, "cannot list daemonsets on x: 403"),
        Reading[str]("y"),
        Reading[str]("z"),
    ]
    std = decide("c", votes, cohort="profile p", profile="p")
    assert std.source == "majority: 2 of 3 clusters of cohort profile p: a, b"  # 2 of 6 would be no majority
    assert std.says.endswith(
        "; not counted: x (unreadable: cannot list daemonsets on x: 403), y (value unknown), z (value unknown)"
    )


@pytest.mark.parametrize("values", [{"a": "calico"}, {"a": "calico", "b": None}])
def test_quorum_is_two_known_values(values: dict[str, str | None]) -> None:
    std = decide("a", readings(**values), cohort="profile p", profile="p", declared_as="standards.cni")
    assert (std.value, std.kind) == (None, "alone")
    assert std.source.startswith("no standard: no other cluster of cohort profile p has a known value to compare with")


def test_newest_is_the_largest_known_value_with_the_same_voters() -> None:
    std = decide(
        "c",
        [Reading("a", (1, 31)), Reading("b", (1, 30)), Reading("c", (1, 29)), Reading[tuple[int, int]]("x", None, "e")],
        cohort="profile p",
        profile="p",
        derive="newest",
        show=lambda v: f"{v[0]}.{v[1]}",
    )
    assert (std.value, std.kind) == ((1, 31), "newest")
    assert std.says == "the newest of 3 clusters of cohort profile p: 1.31 on a; not counted: x (unreadable: e)"


def test_cohort_by_labels_splits_a_profile() -> None:
    keys = ["env", "region"]
    prod_eu = cohort_key("p", keys, {"env": "prod", "region": "eu"})
    assert prod_eu == cohort_key("p", keys, {"env": "prod", "region": "eu", "team": "x"})
    assert prod_eu != cohort_key("p", keys, {"env": "prod", "region": "us"})
    assert prod_eu != cohort_key("q", keys, {"env": "prod", "region": "eu"})
    assert cohort_label("p", keys, {"env": "prod"}) == "profile p, env=prod, region=unset"
    assert cohort_key("p", [], {"env": "x"}) == cohort_key("p", [], {"env": "y"})
