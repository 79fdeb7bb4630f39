"""Pins the scoring formula documented in fleetcheck/scoring.py."""

from __future__ import annotations

import pytest

from fleetcheck.results import FACTORS, CheckInfo, ClusterSummary, ResultRecord, ResultsDocument
from fleetcheck.scoring import (
    GRADES,
    NO_GRADE,
    SEVERITY_WEIGHTS,
    fleet_summary,
    grade_for,
    is_scored,
    round_half_up,
    score_document,
    score_records,
)


def rec(
    code: str, outcome: str, severity: str = "high", factor: str = "single-idp", cluster: str = "c1"
) -> ResultRecord:
    return ResultRecord(
        cluster=cluster,
        code=code,
        factor=factor,
        severity=severity,  # type: ignore[arg-type]
        outcome=outcome,  # type: ignore[arg-type]
        title=f"title of {code}",
    )


def doc(records: list[ResultRecord], clusters: list[str] | None = None, **kwargs: object) -> ResultsDocument:
    names = clusters if clusters is not None else sorted({r.cluster for r in records})
    return ResultsDocument(
        started="2026-11-24T10:00:00Z",
        clusters=[ClusterSummary(name=n) for n in names],
        results=records,
        **kwargs,  # type: ignore[arg-type]
    )


def test_weights_are_the_documented_ones() -> None:
    assert dict(SEVERITY_WEIGHTS) == {"critical": 10, "high": 5, "medium": 3, "low": 1, "info": 0}


@pytest.mark.parametrize(
    ("num", "den", "expected"),
    [(1, 2, 1), (3, 2, 2), (5, 2, 3), (125, 2, 63), (800, 13, 62), (0, 5, 0), (100, 1, 100), (2, 3, 1)],
)
def test_round_half_up(num: int, den: int, expected: int) -> None:
    assert round_half_up(num, den) == expected


def test_round_half_up_rejects_zero_denominator() -> None:
    with pytest.raises(ValueError, match="denominator"):
        round_half_up(1, 0)


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        (100, "A"),
        (90, "A"),
        (89, "B"),
        (80, "B"),
        (79, "C"),
        (70, "C"),
        (69, "D"),
        (60, "D"),
        (59, "F"),
        (0, "F"),
        (None, None),
    ],
)
def test_grade_thresholds(score: int | None, grade: str | None) -> None:
    assert grade_for(score) == grade


def test_docstring_worked_example() -> None:
    records = [
        rec("FC-OIDC-001", "pass", "high"),
        rec("FC-OIDC-002", "fail", "high"),
        rec("FC-OIDC-005", "pass", "medium"),
        rec("FC-OIDC-003", "error", "high"),
        rec("FC-OIDC-004", "waived", "critical"),
    ]
    factors, score, grade, caps = score_records(records)
    idp = factors["single-idp"]
    assert (idp.score, idp.grade, idp.coverage) == (62, "D", 75)
    # only one factor has data, so the cluster score is that factor's
    assert (score, grade) == (62, "D")
    assert caps == []


def test_weighted_by_severity() -> None:
    factors, *_ = score_records([rec("A", "pass", "critical"), rec("B", "fail", "low")])
    assert factors["single-idp"].score == round_half_up(100 * 10, 11) == 91


def test_skip_and_waived_leave_the_denominator() -> None:
    factors, *_ = score_records([rec("A", "pass"), rec("B", "skip", "critical"), rec("C", "waived", "critical")])
    assert factors["single-idp"].score == 100
    assert factors["single-idp"].coverage == 100


def test_error_is_never_a_pass_and_lowers_coverage_only() -> None:
    only_pass, *_ = score_records([rec("A", "pass"), rec("B", "fail")])
    with_error, *_ = score_records([rec("A", "pass"), rec("B", "fail"), rec("C", "error", "critical")])
    assert with_error["single-idp"].score == only_pass["single-idp"].score == 50
    assert with_error["single-idp"].coverage == 67
    assert only_pass["single-idp"].coverage == 100


@pytest.mark.parametrize(
    "outcomes",
    [[], ["skip"], ["waived"], ["error"], ["error", "skip", "waived"]],
)
def test_no_decided_check_is_no_data_never_100(outcomes: list[str]) -> None:
    factors, score, grade, _ = score_records([rec(f"C{i}", o) for i, o in enumerate(outcomes)])
    assert factors["single-idp"].score is None
    assert factors["single-idp"].grade is None
    assert score is None and grade is None


def test_info_checks_do_not_score() -> None:
    factors, *_ = score_records([rec("A", "fail", "info", factor="owned")])
    assert factors["owned"].score is None
    assert factors["owned"].coverage == 100
    factors, *_ = score_records([rec("A", "fail", "info", factor="owned"), rec("B", "pass", "low", factor="owned")])
    assert factors["owned"].score == 100


def test_error_only_factor_has_zero_coverage() -> None:
    factors, *_ = score_records([rec("A", "error")])
    assert factors["single-idp"].coverage == 0
    assert factors["boring"].coverage is None


def test_every_factor_is_present_in_order() -> None:
    factors, *_ = score_records([rec("A", "pass", factor="bounded")])
    assert list(factors) == list(FACTORS)
    assert [f for f, s in factors.items() if s.score is not None] == ["bounded"]


def test_unknown_factor_is_scored_after_the_twelve() -> None:
    factors, *_ = score_records([rec("A", "pass", factor="zz-custom"), rec("B", "pass", factor="aa-custom")])
    assert list(factors)[12:] == ["aa-custom", "zz-custom"]


def test_cluster_score_is_mean_of_integer_factor_scores() -> None:
    records = [
        rec("A", "pass", factor="boring"),  # 100
        rec("B", "pass", "high", factor="managed"),
        rec("C", "fail", "medium", factor="managed"),  # 5/8 -> 63
        rec("D", "fail", factor="bounded"),  # 0
        rec("E", "error", factor="owned"),  # no data: not in the mean
    ]
    factors, score, grade, _ = score_records(records)
    assert [factors[f].score for f in ("boring", "managed", "bounded", "owned")] == [100, 63, 0, None]
    assert score == round_half_up(163, 3) == 54
    assert grade == "F"


def test_failed_critical_caps_cluster_and_factor_grade_at_d() -> None:
    records = [rec(f"P{i}", "pass", "critical", factor=f) for i, f in enumerate(FACTORS)]
    records.append(rec("X", "fail", "critical", factor="single-idp"))
    factors, score, grade, caps = score_records(records)
    assert factors["single-idp"].score == 50
    assert score is not None and score >= 90
    assert grade == "D"
    assert len(caps) == 1 and "X" in caps[0] and "capped at D" in caps[0]
    records[-1] = rec("X", "fail", "critical", factor="boring")
    records += [rec(f"Q{i}", "pass", "critical", factor="boring") for i in range(20)]
    factors, *_ = score_records(records)
    assert factors["boring"].score == 95
    assert factors["boring"].grade == "D"


def test_critical_cap_does_not_raise_a_lower_grade() -> None:
    _, score, grade, _ = score_records([rec("X", "fail", "critical")])
    assert (score, grade) == (0, "F")


def test_low_coverage_caps_grade_at_c() -> None:
    records = [rec("A", "pass"), rec("B", "error"), rec("C", "error"), rec("D", "pass")]
    factors, score, grade, caps = score_records(records)
    assert factors["single-idp"].coverage == 50
    assert (score, grade) == (100, "C")
    assert any("50%" in c and "capped at C" in c for c in caps)
    # at the floor is fine
    records = [rec("A", "pass"), rec("B", "pass"), rec("C", "pass"), rec("D", "error")]
    _, _, grade, caps = score_records(records)
    assert (grade, caps) == ("A", [])


def test_score_document_fills_clusters_and_is_pure() -> None:
    original = doc([rec("A", "pass", cluster="c1"), rec("B", "fail", cluster="c2")], clusters=["c1", "c2", "empty"])
    before = original.to_json_bytes()
    scored = score_document(original)
    assert original.to_json_bytes() == before
    assert not is_scored(original) and is_scored(scored)
    by_name = {c.name: c for c in scored.clusters}
    assert (by_name["c1"].score, by_name["c1"].grade) == (100, "A")
    assert (by_name["c2"].score, by_name["c2"].grade) == (0, "F")
    assert (by_name["empty"].score, by_name["empty"].grade) == (None, None)
    c2 = by_name["c2"]
    assert c2.counts == {"pass": 0, "fail": 1, "skip": 0, "error": 0, "waived": 0}
    assert c2.failures["high"] == 1
    assert c2.coverage == 100


def test_clusters_only_named_by_results_are_added_sorted() -> None:
    scored = score_document(doc([rec("A", "pass", cluster="zeta"), rec("A", "pass", cluster="alpha")], clusters=["m"]))
    assert [c.name for c in scored.clusters] == ["m", "alpha", "zeta"]


def test_scoring_is_deterministic_and_idempotent() -> None:
    records = [rec(f"C{i}", ["pass", "fail", "error", "skip"][i % 4], cluster=f"c{i % 3}") for i in range(30)]
    first = score_document(doc(records))
    assert score_document(doc(records)).to_json_bytes() == first.to_json_bytes()
    assert score_document(first).to_json_bytes() == first.to_json_bytes()


def test_scored_document_round_trips_through_json() -> None:
    scored = score_document(doc([rec("A", "pass"), rec("B", "fail", "critical")]))
    again = ResultsDocument.model_validate_json(scored.to_json_bytes())
    assert again.to_json_bytes() == scored.to_json_bytes()
    assert fleet_summary(again) == fleet_summary(scored)


def _fleet_doc() -> ResultsDocument:
    records = []
    for i in range(5):
        name = f"c{i}"
        records.append(rec("FC-IMG-001", "fail" if i < 4 else "pass", "high", "local-images", name))
        records.append(rec("FC-OIDC-004", "fail" if i == 0 else "pass", "critical", "single-idp", name))
        records.append(rec("FC-QUOTA-003", "fail" if i < 3 else "pass", "low", "bounded", name))
        records.append(rec("FC-COST-001", "fail", "info", "owned", name))
        records.append(rec("FC-DNS-001", "fail" if i < 2 else "pass", "high", "explicit-dns", name))
    checks = {"FC-IMG-001": CheckInfo(code="FC-IMG-001", title="No docker.io", factor="local-images", severity="high")}
    return score_document(doc(records, checks=checks))


def test_fleet_grade_distribution_has_every_key() -> None:
    fleet = fleet_summary(_fleet_doc())
    assert list(fleet.grades) == [*GRADES, NO_GRADE]
    assert sum(fleet.grades.values()) == fleet.clusters == 5


def test_top_fixes_rank_by_clusters_times_weight() -> None:
    fleet = fleet_summary(_fleet_doc())
    ranked = [(f.code, f.impact) for f in fleet.top_fixes]
    # IMG 4x5=20, DNS 2x5=10, OIDC 1x10=10 (tie: heavier weight first), QUOTA 3x1=3; info left out
    assert ranked == [("FC-IMG-001", 20), ("FC-OIDC-004", 10), ("FC-DNS-001", 10), ("FC-QUOTA-003", 3)]
    top = fleet.top_fixes[0]
    assert top.title == "title of FC-IMG-001"
    assert top.clusters == ["c0", "c1", "c2", "c3"] and top.share == 80


def test_gotchas_are_codes_failing_in_most_clusters() -> None:
    fleet = fleet_summary(_fleet_doc())
    assert [g.code for g in fleet.gotchas] == ["FC-COST-001", "FC-IMG-001", "FC-QUOTA-003"]


def test_worst_factors_first_no_data_last() -> None:
    fleet = fleet_summary(_fleet_doc())
    names = [f.factor for f in fleet.factors]
    assert names[:4] == ["local-images", "bounded", "explicit-dns", "single-idp"]
    assert fleet.factors[0].score == 20 and fleet.factors[0].clusters_failing == 4
    assert all(f.score is None for f in fleet.factors[4:])
    assert set(names) == set(FACTORS)


def test_per_cluster_severity_from_profiles() -> None:
    records = [rec("X", "fail", "critical", cluster="prod"), rec("X", "fail", "low", cluster="dev")]
    fleet = fleet_summary(score_document(doc(records)))
    (fix,) = fleet.top_fixes
    assert (fix.severity, fix.impact, fix.clusters) == ("critical", 11, ["dev", "prod"])


def test_unreachable_clusters_are_listed() -> None:
    base = doc([rec("A", "error", cluster="gone"), rec("A", "pass", cluster="ok")])
    base = base.model_copy(
        update={"clusters": [ClusterSummary(name="gone", reachable=False), ClusterSummary(name="ok", reachable=True)]}
    )
    fleet = fleet_summary(score_document(base))
    assert fleet.unreachable == ["gone"]
    assert fleet.grades[NO_GRADE] == 1 and fleet.grades["A"] == 1


def test_empty_document() -> None:
    scored = score_document(ResultsDocument(started="2026-11-24T10:00:00Z"))
    fleet = fleet_summary(scored)
    assert fleet.clusters == 0 and fleet.score is None and fleet.top_fixes == [] and fleet.gotchas == []
