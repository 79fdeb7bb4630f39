"""Turn result records into 12-factor scores, cluster grades and a fleet summary.

Scoring reads only :class:`~fleetcheck.results.ResultRecord` outcomes (plus the
catalog's titles for the fleet summary); it never runs or imports checks. It is
a pure, deterministic function of the document, so a saved ``results.json``
scores the same way tomorrow.

The formula (pinned by ``tests/scoring/``)
------------------------------------------

**Weights.** Each check weighs by its severity: ``critical 10, high 5,
medium 3, low 1, info 0``. The scale is roughly geometric so one critical
failure costs as much as two highs, and a pile of low findings cannot hide a
critical one. ``info`` checks (e.g. "consolidation candidate") are advice,
not non-conformance, so they never move a score.

**Outcomes.** For one cluster and one factor:

* *applicable* = records with outcome ``pass``, ``fail`` or ``error``.
  ``skip`` (not applicable here) and ``waived`` (risk accepted by a person,
  with a reason and expiry) leave the factor entirely.
* *decided* = ``pass`` and ``fail``. An ``error`` is never a pass and never a
  fail: we could not tell.

**Factor score** = ``round(100 * Σ weight(pass) / Σ weight(decided))``, rounded
half up. When no decided check carries weight (nothing decided, or only
``info`` checks) the score is ``None``: "no data", never 100, because the
absence of evidence is not conformance.

**Factor coverage** = ``round(100 * count(decided) / count(applicable))``:
how much of the factor we could actually judge. Errors lower it; ``None``
when nothing applied.

**Letter grades** from a score: ``A >= 90 > B >= 80 > C >= 70 > D >= 60 > F``.
A factor with a failed ``critical`` check is capped at D.

**Cluster score** = the mean (rounded half up) of the *integer* factor scores
that have data. Every factor counts the same, whatever its number of checks,
because the 12 factors are the model's axes; averaging the displayed integers
lets a reader recompute the number from the scorecard.

**Cluster grade** = the letter of the cluster score, then two caps, each
recorded in ``grade_caps`` so the report can say why:

1. any failed ``critical`` check caps the grade at **D** (a static token file
   on the API server is not offset by good backups);
2. cluster coverage (decided / applicable over all factors) below
   :data:`COVERAGE_FLOOR` caps the grade at **C**: a cluster where most checks
   errored has not earned an A.

A cluster with no factor data has score and grade ``None``.

**Fleet summary** (:class:`FleetSummary`, declared in :mod:`fleetcheck.results`
and stored as the document's ``fleet`` field): grade distribution, factors worst-first (mean of the
clusters' factor scores), *gotchas* (codes failing in more than half of the
fleet's clusters) and *top fixes* (failing codes ranked by
``clusters affected x severity weight``, i.e. the sum of the weights of the
failing records, one per cluster, since a profile may set a code's severity
per cluster; weight-0 codes are left out).

Worked example
--------------

Cluster ``dev``, factor ``single-idp``: FC-OIDC-001 (high) pass,
FC-OIDC-002 (high) fail, FC-OIDC-005 (medium) pass, FC-OIDC-003 (high)
error, FC-OIDC-004 (critical) waived. Applicable = 4 (the waiver leaves),
decided = 3, so coverage = round(100 * 3/4) = 75. Score = round(100 *
(5 + 3) / (5 + 5 + 3)) = round(61.54) = 62 -> D.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence

from fleetcheck.core.grades import GRADE_THRESHOLDS, GRADES, NO_GRADE
from fleetcheck.results import (
    FACTORS,
    OUTCOMES,
    SEVERITIES,
    ClusterSummary,
    CodeSummary,
    FactorScore,
    FactorSummary,
    FleetSummary,
    ResultRecord,
    ResultsDocument,
)

__all__ = [
    "COVERAGE_CAP",
    "COVERAGE_FLOOR",
    "CRITICAL_CAP",
    "GRADES",
    "GRADE_THRESHOLDS",
    "NO_GRADE",
    "SCORING_METHOD",
    "SEVERITY_WEIGHTS",
    "CodeSummary",
    "FactorSummary",
    "FleetSummary",
    "factor_order",
    "fleet_summary",
    "grade_for",
    "is_scored",
    "round_half_up",
    "score_document",
    "score_records",
]

#: Names this version of the formula; stored in the fleet summary so a re-render knows what it shows.
SCORING_METHOD = "fleetcheck-score/1"

SEVERITY_WEIGHTS: Mapping[str, int] = {"critical": 10, "high": 5, "medium": 3, "low": 1, "info": 0}

#: Cluster coverage (percent) below which the grade is capped at C.
COVERAGE_FLOOR = 75
CRITICAL_CAP = "D"
COVERAGE_CAP = "C"

_DECIDED = frozenset({"pass", "fail"})
_APPLICABLE = frozenset({"pass", "fail", "error"})


def round_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half up, in integers.

    Python's ``round`` rounds half to even (61.5 -> 62 but 62.5 -> 62), which
    reads as a bug on a scorecard; integer arithmetic also avoids float drift.
    """
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    return (2 * numerator + denominator) // (2 * denominator)


def grade_for(score: int | None) -> str | None:
    """The letter for a 0-100 score (None for no data)."""
    if score is None:
        return None
    for grade, minimum in GRADE_THRESHOLDS:
        if score >= minimum:
            return grade
    return "F"


def _cap(grade: str | None, cap: str) -> str | None:
    """The worse of ``grade`` and ``cap``."""
    if grade is None:
        return None
    return grade if GRADES.index(grade) >= GRADES.index(cap) else cap


def factor_order(factors: Iterable[str]) -> list[str]:
    """The 12 factors in scorecard order, then any others (third-party packs) sorted."""
    extra = sorted(set(factors) - set(FACTORS))
    return [*FACTORS, *extra]


def _counts(records: Sequence[ResultRecord]) -> dict[str, int]:
    tally: Counter[str] = Counter(r.outcome for r in records)
    return {outcome: tally.get(outcome, 0) for outcome in OUTCOMES}


def _score_factor(records: Sequence[ResultRecord]) -> FactorScore:
    """Score one cluster's records of one factor (see the module docstring)."""
    decided = [r for r in records if r.outcome in _DECIDED]
    applicable = sum(1 for r in records if r.outcome in _APPLICABLE)
    decided_weight = sum(SEVERITY_WEIGHTS[r.severity] for r in decided)
    passed_weight = sum(SEVERITY_WEIGHTS[r.severity] for r in decided if r.outcome == "pass")
    score = round_half_up(100 * passed_weight, decided_weight) if decided_weight else None
    grade = grade_for(score)
    if any(r.outcome == "fail" and r.severity == "critical" for r in records):
        grade = _cap(grade, CRITICAL_CAP)
    coverage = round_half_up(100 * len(decided), applicable) if applicable else None
    return FactorScore(score=score, grade=grade, coverage=coverage, counts=_counts(records))


def score_records(
    records: Sequence[ResultRecord], factors: Iterable[str] = FACTORS
) -> tuple[dict[str, FactorScore], int | None, str | None, list[str]]:
    """Score one cluster's records: ``(factors, score, grade, grade_caps)``.

    Every factor in ``factors`` (plus any a record names) gets an entry, so a
    scorecard column is never missing, only "no data".
    """
    by_factor: dict[str, list[ResultRecord]] = defaultdict(list)
    for record in records:
        by_factor[record.factor].append(record)
    factor_scores = {name: _score_factor(by_factor.get(name, [])) for name in factor_order([*factors, *by_factor])}
    with_data = [fs.score for fs in factor_scores.values() if fs.score is not None]
    score = round_half_up(sum(with_data), len(with_data)) if with_data else None
    grade = grade_for(score)
    caps: list[str] = []
    if grade is not None:
        critical = sorted({r.code for r in records if r.outcome == "fail" and r.severity == "critical"})
        if critical:
            grade = _cap(grade, CRITICAL_CAP)
            caps.append(f"critical check failed ({', '.join(critical)}): grade capped at {CRITICAL_CAP}")
        coverage = _coverage(records)
        if coverage is not None and coverage < COVERAGE_FLOOR:
            grade = _cap(grade, COVERAGE_CAP)
            caps.append(
                f"only {coverage}% of applicable checks could be decided "
                f"(below {COVERAGE_FLOOR}%): grade capped at {COVERAGE_CAP}"
            )
    return factor_scores, score, grade, caps


def _coverage(records: Sequence[ResultRecord]) -> int | None:
    decided = sum(1 for r in records if r.outcome in _DECIDED)
    applicable = sum(1 for r in records if r.outcome in _APPLICABLE)
    return round_half_up(100 * decided, applicable) if applicable else None


def _score_cluster(summary: ClusterSummary, records: Sequence[ResultRecord]) -> ClusterSummary:
    factors, score, grade, caps = score_records(records)
    failures: Counter[str] = Counter(r.severity for r in records if r.outcome == "fail")
    return summary.model_copy(
        update={
            "factors": factors,
            "score": score,
            "grade": grade,
            "coverage": _coverage(records),
            "counts": _counts(records),
            "failures": {sev: failures.get(sev, 0) for sev in SEVERITIES},
            "grade_caps": caps,
        }
    )


def _code_summaries(doc: ResultsDocument, total: int) -> list[CodeSummary]:
    """Every failing code with the clusters it fails in.

    Severity belongs to the profile, so it may differ between clusters: a
    cluster counts with the weight of its own record, and the code is shown
    with the most severe one.
    """
    weights: dict[str, dict[str, int]] = defaultdict(dict)
    severities: dict[str, set[str]] = defaultdict(set)
    first: dict[str, ResultRecord] = {}
    for record in doc.results:
        if record.outcome == "fail":
            per_cluster = weights[record.code]
            weight = SEVERITY_WEIGHTS[record.severity]
            per_cluster[record.cluster] = max(weight, per_cluster.get(record.cluster, 0))
            severities[record.code].add(record.severity)
            first.setdefault(record.code, record)
    summaries = []
    for code, per_cluster in weights.items():
        record = first[code]
        info = doc.checks.get(code)
        severity = min(severities[code], key=SEVERITIES.index)
        summaries.append(
            CodeSummary(
                code=code,
                title=record.title or (info.title if info else ""),
                factor=record.factor,
                severity=severity,
                weight=SEVERITY_WEIGHTS[severity],
                clusters=sorted(per_cluster),
                impact=sum(per_cluster.values()),
                share=round_half_up(100 * len(per_cluster), total) if total else 0,
            )
        )
    return summaries


def _fleet(doc: ResultsDocument, clusters: Sequence[ClusterSummary]) -> FleetSummary:
    grades = Counter(c.grade or NO_GRADE for c in clusters)
    scores = [c.score for c in clusters if c.score is not None]
    fleet_score = round_half_up(sum(scores), len(scores)) if scores else None

    factor_names = factor_order(name for c in clusters for name in c.factors)
    failing_clusters: dict[str, set[str]] = defaultdict(set)
    failures: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    for record in doc.results:
        if record.outcome == "fail":
            failing_clusters[record.factor].add(record.cluster)
            failures[record.factor] += 1
        elif record.outcome == "error":
            errors[record.factor] += 1
    factor_summaries = []
    for name in factor_names:
        values = [fs.score for c in clusters if (fs := c.factors.get(name)) is not None and fs.score is not None]
        mean = round_half_up(sum(values), len(values)) if values else None
        factor_summaries.append(
            FactorSummary(
                factor=name,
                score=mean,
                grade=grade_for(mean),
                clusters_with_data=len(values),
                clusters_failing=len(failing_clusters[name]),
                failures=failures[name],
                errors=errors[name],
            )
        )
    position = {name: i for i, name in enumerate(factor_names)}
    factor_summaries.sort(key=lambda f: (f.score is None, f.score or 0, position[f.factor]))

    total = len(clusters)
    codes = _code_summaries(doc, total)
    gotchas = sorted(
        (c for c in codes if 2 * len(c.clusters) > total),
        key=lambda c: (-len(c.clusters), -c.weight, c.code),
    )
    top_fixes = sorted((c for c in codes if c.impact > 0), key=lambda c: (-c.impact, -c.weight, c.code))
    outcomes = _counts(doc.results)
    failed: Counter[str] = Counter(r.severity for r in doc.results if r.outcome == "fail")
    return FleetSummary(
        method=SCORING_METHOD,
        clusters=total,
        score=fleet_score,
        grade=grade_for(fleet_score),
        grades={g: grades.get(g, 0) for g in (*GRADES, NO_GRADE)},
        outcomes=outcomes,
        failures={sev: failed.get(sev, 0) for sev in SEVERITIES},
        factors=factor_summaries,
        gotchas=gotchas,
        top_fixes=top_fixes,
        unreachable=sorted(c.name for c in clusters if c.reachable is False),
    )


def score_document(doc: ResultsDocument) -> ResultsDocument:
    """A new document with every cluster's factors, score and grade, and the ``fleet`` summary.

    Clusters named only by results (not in ``doc.clusters``) are added, sorted
    by name, so no verdict is lost from the scorecard. Idempotent: scoring a
    scored document recomputes the same numbers from the records.
    """
    by_cluster: dict[str, list[ResultRecord]] = defaultdict(list)
    for record in doc.results:
        by_cluster[record.cluster].append(record)
    known = {c.name for c in doc.clusters}
    summaries = [*doc.clusters, *(ClusterSummary(name=n) for n in sorted(set(by_cluster) - known))]
    clusters = [_score_cluster(c, by_cluster.get(c.name, [])) for c in summaries]
    fleet = _fleet(doc, clusters)
    return doc.model_copy(update={"clusters": clusters, "fleet": fleet})


def is_scored(doc: ResultsDocument) -> bool:
    """Whether ``doc`` carries a fleet summary (as :func:`score_document` leaves it)."""
    return doc.fleet is not None


def fleet_summary(doc: ResultsDocument) -> FleetSummary:
    """The document's fleet summary, scoring it first when it has none."""
    scored = doc if doc.fleet is not None else score_document(doc)
    return scored.fleet or FleetSummary()
