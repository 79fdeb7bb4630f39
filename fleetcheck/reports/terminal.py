"""The summary printed at the end of a run: one line per cluster, then what to fix first.

Worst clusters come first and the table is capped, because in CI the last
screen of a log is all anyone reads. Every string from a cluster is passed
through :func:`~fleetcheck.reports.escape.one_line` before it is padded or
coloured: a label value must not be able to move the cursor or recolour the
log.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from fleetcheck.reports.escape import one_line, truncate
from fleetcheck.results import ClusterSummary, ResultsDocument
from fleetcheck.scoring import GRADES, NO_GRADE, fleet_summary, grade_for, is_scored, score_document

__all__ = ["FACTOR_ABBREVIATIONS", "render_summary"]

#: Three-letter column heads for the 12 factors (the legend under the table spells them out).
FACTOR_ABBREVIATIONS: dict[str, str] = {
    "boring": "BOR",
    "managed": "MAN",
    "observable": "OBS",
    "single-idp": "IDP",
    "recoverable": "REC",
    "tested": "TST",
    "time-synced": "TIM",
    "explicit-dns": "DNS",
    "local-images": "IMG",
    "bounded": "BND",
    "owned": "OWN",
    "portable-data": "DAT",
}

_RESET = "\x1b[0m"
_STYLES = {
    "A": "\x1b[32m",
    "B": "\x1b[32m",
    "C": "\x1b[33m",
    "D": "\x1b[31m",
    "F": "\x1b[1;31m",
    "dim": "\x1b[2m",
    "bold": "\x1b[1m",
    "bad": "\x1b[31m",
    "warn": "\x1b[33m",
}
_MIN_NAME = 12
_FIXED = 2 + 1 + 5 + 2 + 9 + 1 + 3  # grade, score, failures c/h/m/l, errors (with gaps)


def _style(text: str, style: str | None, color: bool) -> str:
    return f"{_STYLES[style]}{text}{_RESET}" if color and style else text


def _worst_first(cluster: ClusterSummary) -> tuple[int, int, str]:
    # no data first (you know nothing about it), then lowest score
    return (0 if cluster.score is None else 1, cluster.score or 0, cluster.name)


def _failures(cluster: ClusterSummary) -> list[int]:
    failures = (cluster.model_extra or {}).get("failures") or {}
    return [int(failures.get(sev, 0)) for sev in ("critical", "high", "medium", "low")]


def _errors(cluster: ClusterSummary) -> int:
    counts = (cluster.model_extra or {}).get("counts") or {}
    return int(counts.get("error", 0))


def _row(cluster: ClusterSummary, name_width: int, factors: Sequence[str], color: bool) -> str:
    name = truncate(one_line(cluster.name), name_width).ljust(name_width)
    grade = cluster.grade or "-"
    score = "-" if cluster.score is None else str(cluster.score)
    cells = [name, _style(grade.ljust(2), grade if grade in GRADES else "dim", color), score.rjust(5)]
    for factor in factors:
        factor_score = cluster.factors.get(factor)
        value = None if factor_score is None else factor_score.score
        text = "-".rjust(3) if value is None else str(value).rjust(3)
        cells.append(_style(text, "dim" if value is None else grade_for(value), color))
    failures = _failures(cluster)
    fail_text = "/".join(str(n) for n in failures).rjust(9)
    cells.append(_style(fail_text, "bad" if failures[0] or failures[1] else None, color))
    errors = _errors(cluster)
    cells.append(_style(str(errors).rjust(3), "warn" if errors else None, color))
    return " ".join(cells)


def render_summary(doc: ResultsDocument, *, color: bool, width: int, max_clusters: int = 40) -> str:
    """A compact text summary of ``doc`` (scored first if needed), at most ``width`` columns wide.

    Per-factor columns are shown only when they fit next to a readable
    cluster name; ``max_clusters`` caps the rows (worst first).
    """
    if not is_scored(doc):
        doc = score_document(doc)
    fleet = fleet_summary(doc)
    width = max(width, 40)
    factors = list(FACTOR_ABBREVIATIONS)
    longest = max((len(one_line(c.name)) for c in doc.clusters), default=7)
    name_width = min(max(longest, 7), width - _FIXED - 4 * len(factors))
    if name_width < _MIN_NAME:
        factors = []
        name_width = max(min(max(longest, 7), width - _FIXED), 7)

    grade_text = f"{fleet.grade} ({fleet.score})" if fleet.grade else "no data"
    lines = [
        _style(
            truncate(
                one_line(
                    f"fleetcheck: {fleet.clusters} clusters, profile {doc.profile}, "
                    f"started {doc.started}, fleet {grade_text}"
                ),
                width,
            ),
            "bold",
            color,
        ),
        truncate(
            "grades "
            + "  ".join(f"{g} {fleet.grades.get(g, 0)}" for g in (*GRADES, NO_GRADE))
            + f"   errors {fleet.outcomes.get('error', 0)}   waived {fleet.outcomes.get('waived', 0)}",
            width,
        ),
        "",
    ]
    header = ["cluster".ljust(name_width), "gr", "score", *(FACTOR_ABBREVIATIONS[f] for f in factors)]
    header += ["c/h/m/l".rjust(9), "err"]
    lines.append(_style(" ".join(header), "bold", color))
    ordered = sorted(doc.clusters, key=_worst_first)
    lines += [_row(c, name_width, factors, color) for c in ordered[:max_clusters]]
    if len(ordered) > max_clusters:
        lines.append(f"... and {len(ordered) - max_clusters} more clusters (all in scorecard.html)")
    if factors:
        legend = ", ".join(f"{FACTOR_ABBREVIATIONS[f]} {f}" for f in factors)
        lines += ["", *textwrap.wrap(f"factors: {legend}; - no data; c/h/m/l failed critical/high/medium/low", width)]
    if fleet.unreachable:
        names = ", ".join(one_line(n) for n in fleet.unreachable)
        lines += ["", _style(truncate(f"unreachable: {names}", width), "warn", color)]
    if fleet.top_fixes:
        lines += ["", _style("top fixes across the fleet", "bold", color)]
        for rank, fix in enumerate(fleet.top_fixes[:5], start=1):
            clusters = ", ".join(one_line(n) for n in fix.clusters[:3])
            if len(fix.clusters) > 3:
                clusters += f", +{len(fix.clusters) - 3}"
            text = (
                f"{rank}. {one_line(fix.code)} [{fix.severity}] {one_line(fix.title)} "
                f"- {len(fix.clusters)} cluster{'s' if len(fix.clusters) != 1 else ''} ({clusters})"
            )
            lines.append(truncate(text, width))
    return "\n".join(lines)
