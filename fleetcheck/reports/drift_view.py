"""The scorecard's drift view: per cohort, each dimension's standard, who set it, and the clusters that differ.

Rendered from the run's :class:`~fleetcheck.facts.drift.DriftReport` (the
``drift`` of ``results.json``), so ``fleetcheck report`` re-renders it from
a saved document. This module only prepares rows for
``templates/_drift.html.j2`` (autoescaped, no script); every text is
passed through :func:`~fleetcheck.reports.escape.clean_text`. Size is
bounded: at most :data:`MAX_COHORTS` cohorts, the report's own bounds per
dimension (names listed up to ``MAX_LISTED``, counts exact).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from fleetcheck.facts.drift import DimensionDrift, DriftReport
from fleetcheck.reports.escape import clean_text
from fleetcheck.results import ResultsDocument

__all__ = ["DriftCohortView", "DriftRowView", "DriftSection", "drift_report_of", "drift_section"]

MAX_COHORTS = 50
#: outliers shown inline per row (the rest behind "and N more", all in results.json)
INLINE_OUTLIERS = 8
_SET_BY_WORDS = {
    "declared": "declared by the profile",
    "reference": "reference cluster",
    "majority": "majority",
    "newest": "newest in the cohort",
    "split": "split: no standard",
    "no quorum": "no quorum",
    "no standard": "no standard",
}


@dataclass(frozen=True)
class DriftRowView:
    """One dimension of one cohort, ready to show."""

    name: str
    title: str
    family: str
    standard: str
    set_by: str
    set_by_css: str
    source: str
    outliers: list[tuple[str, str]]
    outliers_more: int
    values: list[tuple[str, int]]
    unknown: list[str]
    unknown_more: int
    unreadable: list[tuple[str, str]]
    unreadable_more: int
    check: str
    check_title: str
    #: the anchor of the check's section in the check reference, when the run documents the check
    check_anchor: str
    fix: str
    informational: bool
    drifted: bool


@dataclass(frozen=True)
class DriftCohortView:
    """One cohort's table."""

    cohort: str
    clusters: int
    drifted: int
    rows: list[DriftRowView]


@dataclass(frozen=True)
class DriftSection:
    """What ``_drift.html.j2`` renders (None from :func:`drift_section`: no drift in the document)."""

    cohorts: list[DriftCohortView]
    cohorts_more: int
    dimensions: int
    reference_cluster: str
    note: str


def drift_report_of(doc: ResultsDocument) -> DriftReport | str | None:
    """The document's ``drift`` as a report; None when it has none; a one-line reason when it is malformed."""
    raw: Any = doc.drift
    if raw is None:
        return None
    if isinstance(raw, DriftReport):
        return raw
    try:
        return DriftReport.model_validate(raw)
    except ValidationError as exc:
        return f"the drift block of results.json is not a fleetcheck/drift/v1 report ({exc.error_count()} errors)"


def _row(row: DimensionDrift, documented: set[str]) -> DriftRowView:
    values = [(clean_text(g.value), g.count) for g in row.values] if row.set_by == "split" else []
    return DriftRowView(
        name=clean_text(row.name),
        title=clean_text(row.title),
        family=clean_text(row.family),
        standard=clean_text(row.standard) if row.standard is not None else "",
        set_by=_SET_BY_WORDS.get(row.set_by, clean_text(row.set_by)),
        set_by_css="setby-" + row.set_by.replace(" ", "-"),
        source=clean_text(row.source),
        outliers=[(clean_text(o.cluster), clean_text(o.value)) for o in row.outliers[:INLINE_OUTLIERS]],
        outliers_more=max(0, row.outliers_count - min(len(row.outliers), INLINE_OUTLIERS)),
        values=values,
        unknown=[clean_text(n) for n in row.unknown[:INLINE_OUTLIERS]],
        unknown_more=max(0, row.unknown_count - min(len(row.unknown), INLINE_OUTLIERS)),
        unreadable=[(clean_text(u.cluster), clean_text(u.value)) for u in row.unreadable[:INLINE_OUTLIERS]],
        unreadable_more=max(0, row.unreadable_count - min(len(row.unreadable), INLINE_OUTLIERS)),
        check=clean_text(row.check or ""),
        check_title=clean_text(row.check_title),
        check_anchor=f"check-{clean_text(row.check)}" if row.check and row.check in documented else "",
        fix=clean_text(row.fix),
        informational=row.informational,
        drifted=row.drifted,
    )


def drift_section(doc: ResultsDocument) -> DriftSection | None:
    """The drift view of ``doc``, or None when the run recorded no drift report."""
    report = drift_report_of(doc)
    if report is None:
        return None
    if isinstance(report, str):
        return DriftSection([], 0, 0, "", report)
    documented = set(doc.checks)
    cohorts = [
        DriftCohortView(
            cohort=clean_text(c.cohort),
            clusters=c.clusters,
            drifted=len(c.drifted),
            # drifted dimensions first, each group in the report's order
            rows=sorted((_row(r, documented) for r in c.dimensions), key=lambda r: not r.drifted),
        )
        for c in report.cohorts[:MAX_COHORTS]
    ]
    return DriftSection(
        cohorts=cohorts,
        cohorts_more=max(0, len(report.cohorts) - MAX_COHORTS),
        dimensions=report.dimensions,
        reference_cluster=clean_text(report.reference_cluster or ""),
        note="",
    )
