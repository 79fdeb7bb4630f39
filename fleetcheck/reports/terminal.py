"""What a person reads in the terminal: each finding once, a line per cluster as it finishes, the summary.

Worst clusters come first and the table is capped, because in CI the last
screen of a log is all anyone reads. Text is laid out by ``rich`` (tables,
word wrapping) and never cut: a message longer than the line wraps, a name
too long for its column folds, so a CI log without a terminal shows all of
it. Every string from a cluster is passed through
:func:`~fleetcheck.reports.escape.one_line` and handed to rich as plain
:class:`~rich.text.Text` (never markup): a label value must not be able to
move the cursor, recolour the log or open a link.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Sequence

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from fleetcheck.core.refs import more
from fleetcheck.reports.escape import one_line
from fleetcheck.results import SEVERITIES, ClusterSummary, ResultRecord, ResultsDocument
from fleetcheck.scoring import GRADES, NO_GRADE, fleet_summary, grade_for, is_scored, score_document

__all__ = [
    "FACTOR_ABBREVIATIONS",
    "NO_TTY_WIDTH",
    "console_width",
    "incomplete_line",
    "profiles_text",
    "progress_line",
    "render_findings",
    "render_summary",
    "render_table",
    "stdout_width",
]

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

#: Line width without a terminal (CI logs): wide enough for the factor columns, and nothing is cut anyway.
NO_TTY_WIDTH = 100

_STYLES = {
    "A": "green",
    "B": "green",
    "C": "yellow",
    "D": "red",
    "F": "bold red",
    "dim": "dim",
    "bold": "bold",
    "bad": "red",
    "warn": "yellow",
}
_MIN_NAME = 12
_FIXED = 2 + 1 + 5 + 2 + 9 + 1 + 3  # grade, score, failures c/h/m/l, errors (with gaps)


def console_width(isatty: bool, terminal_width: int | None) -> int:
    """The width to lay text out at: the terminal's, else ``$COLUMNS``, else :data:`NO_TTY_WIDTH`."""
    if isatty and terminal_width:
        return max(terminal_width, 40)
    columns = os.environ.get("COLUMNS", "")
    return max(int(columns), 40) if columns.isdigit() else NO_TTY_WIDTH


def _render(renderables: Iterable[RenderableType], *, color: bool, width: int) -> str:
    """Lay ``renderables`` out at ``width`` columns; ANSI colours only when ``color``."""
    console = Console(
        width=width,
        color_system="standard" if color else None,
        force_terminal=color,
        no_color=not color,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=False,
    )
    with console.capture() as captured:
        for renderable in renderables:
            console.print(renderable, crop=False)
    return "\n".join(line.rstrip() for line in captured.get().splitlines())


def _style(style: str | None, color: bool) -> str:
    return _STYLES[style] if color and style else ""


def _worst_first(cluster: ClusterSummary) -> tuple[int, int, str]:
    # no data first (you know nothing about it), then lowest score
    return (0 if cluster.score is None else 1, cluster.score or 0, cluster.name)


def _failures(cluster: ClusterSummary) -> list[int]:
    failures = cluster.failures
    return [int(failures.get(sev, 0)) for sev in ("critical", "high", "medium", "low")]


def _errors(cluster: ClusterSummary) -> int:
    counts = cluster.counts
    return int(counts.get("error", 0))


def profiles_text(clusters: Sequence[ClusterSummary], fallback: str) -> str:
    """``profile prod`` or ``profiles demo-prod (3), demo-dev (1)``: what the clusters really use."""
    counts = Counter(one_line(c.profile_name or c.profile) for c in clusters)
    if not counts:
        return f"profile {one_line(fallback)}"
    if len(counts) == 1:
        return f"profile {next(iter(counts))}"
    return "profiles " + ", ".join(f"{name} ({n})" for name, n in counts.most_common())


def incomplete_line(doc: ResultsDocument) -> str | None:
    """``INCOMPLETE: interrupted by SIGINT after 78 of 213 cases ...`` for a run cut short, else None."""
    if doc.complete:
        return None
    planned = f" of {doc.planned}" if doc.planned is not None else ""
    return (
        f"INCOMPLETE: {one_line(doc.incomplete_reason or 'the run was cut short')}; {doc.decided}{planned} cases "
        "decided, so the grades below count only those"
    )


def _summary_table(clusters: Sequence[ClusterSummary], factors: Sequence[str], color: bool) -> Table:
    table = Table(
        box=None, pad_edge=False, show_edge=False, padding=(0, 1), header_style=_style("bold", color), expand=False
    )
    table.add_column("cluster", overflow="fold", no_wrap=False)
    table.add_column("gr", no_wrap=True)
    table.add_column("score", justify="right", no_wrap=True)
    for factor in factors:
        table.add_column(FACTOR_ABBREVIATIONS[factor], justify="right", no_wrap=True)
    table.add_column("c/h/m/l", justify="right", no_wrap=True)
    table.add_column("err", justify="right", no_wrap=True)
    for cluster in clusters:
        grade = cluster.grade or "-"
        cells = [
            Text(one_line(cluster.name)),
            Text(grade, style=_style(grade if grade in GRADES else "dim", color)),
            Text("-" if cluster.score is None else str(cluster.score)),
        ]
        for factor in factors:
            factor_score = cluster.factors.get(factor)
            value = None if factor_score is None else factor_score.score
            cells.append(
                Text(
                    "-" if value is None else str(value),
                    style=_style("dim" if value is None else grade_for(value), color),
                )
            )
        failures = _failures(cluster)
        cells.append(
            Text("/".join(map(str, failures)), style=_style("bad" if failures[0] or failures[1] else None, color))
        )
        errors = _errors(cluster)
        cells.append(Text(str(errors), style=_style("warn" if errors else None, color)))
        table.add_row(*cells)
    return table


def render_summary(doc: ResultsDocument, *, color: bool, width: int, max_clusters: int = 40) -> str:
    """The fleet summary of ``doc`` (scored first if needed), laid out at ``width`` columns, nothing cut.

    Per-factor columns are shown only when they fit next to a readable
    cluster name; ``max_clusters`` caps the rows (worst first).
    """
    if not is_scored(doc):
        doc = score_document(doc)
    fleet = fleet_summary(doc)
    width = max(width, 40)
    factors = list(FACTOR_ABBREVIATIONS)
    longest = max((len(one_line(c.name)) for c in doc.clusters), default=7)
    if min(max(longest, 7), width - _FIXED - 4 * len(factors)) < _MIN_NAME:
        factors = []

    grade_text = f"{fleet.grade} ({fleet.score})" if fleet.grade else "no data"
    parts: list[RenderableType] = [
        Text(
            f"fleetcheck: {fleet.clusters} clusters, {profiles_text(doc.clusters, doc.profile)}, "
            f"started {one_line(doc.started)}, fleet {grade_text}",
            style=_style("bold", color),
        ),
        Text(
            "grades "
            + "  ".join(f"{g} {fleet.grades.get(g, 0)}" for g in (*GRADES, NO_GRADE))
            + f"   errors {fleet.outcomes.get('error', 0)}   waived {fleet.outcomes.get('waived', 0)}"
        ),
        Text(""),
    ]
    ordered = sorted(doc.clusters, key=_worst_first)
    parts.append(_summary_table(ordered[:max_clusters], factors, color))
    if len(ordered) > max_clusters:
        parts.append(Text(f"... {more(len(ordered) - max_clusters)} clusters (all in scorecard.html)"))
    if factors:
        legend = ", ".join(f"{FACTOR_ABBREVIATIONS[f]} {f}" for f in factors)
        parts += [Text(""), Text(f"factors: {legend}; - no data; c/h/m/l failed critical/high/medium/low")]
    if fleet.unreachable:
        names = ", ".join(one_line(n) for n in fleet.unreachable)
        parts += [Text(""), Text(f"unreachable: {names}", style=_style("warn", color))]
    if fleet.top_fixes:
        parts += [Text(""), Text("top fixes across the fleet", style=_style("bold", color))]
        fixes = Table(box=None, pad_edge=False, show_edge=False, show_header=False, padding=(0, 1), expand=False)
        fixes.add_column("rank", no_wrap=True)
        fixes.add_column("fix", overflow="fold")  # a wrapped fix stays indented under its own text
        for rank, fix in enumerate(fleet.top_fixes[:5], start=1):
            clusters = ", ".join(one_line(n) for n in fix.clusters[:3])
            if len(fix.clusters) > 3:
                clusters += f", +{len(fix.clusters) - 3}"
            fixes.add_row(
                Text(f"{rank}."),
                Text(
                    f"{one_line(fix.code)} [{fix.severity}] {one_line(fix.title)} "
                    f"- {len(fix.clusters)} cluster{'s' if len(fix.clusters) != 1 else ''} ({clusters})"
                ),
            )
        parts.append(fixes)
    notice = incomplete_line(doc)
    if notice:
        parts += [Text(""), Text(notice, style=_style("warn", color))]
    return _render(parts, color=color, width=width)


def _finding_order(record: ResultRecord, fleet_order: dict[str, int]) -> tuple[int, int, str, int]:
    severity = SEVERITIES.index(record.severity) if record.severity in SEVERITIES else len(SEVERITIES)
    return (0 if record.outcome == "fail" else 1, severity, record.code, fleet_order.get(record.cluster, 1 << 30))


def render_findings(doc: ResultsDocument, *, color: bool, width: int) -> str | None:
    """Every failed and undecided case once: code, cluster, then the whole message, wrapped.

    Failures first (most severe first, a check's clusters together), then
    the cases that could not be decided. None when there is nothing to show.
    """
    order = {name: i for i, name in enumerate(doc.fleet_order)}
    shown = sorted((r for r in doc.results if r.outcome in ("fail", "error")), key=lambda r: _finding_order(r, order))
    if not shown:
        return None
    table = Table(box=None, pad_edge=False, show_edge=False, show_header=False, padding=(0, 1), expand=False)
    table.add_column("code", no_wrap=True)
    table.add_column("cluster", overflow="fold", max_width=max(12, width // 5))
    table.add_column("message", overflow="fold", ratio=1)
    for record in shown:
        tag = record.severity if record.outcome == "fail" else "error"
        style = "bad" if record.outcome == "fail" and record.severity in ("critical", "high") else "warn"
        table.add_row(
            Text(f"{one_line(record.code)} {tag}", style=_style(style, color)),
            Text(one_line(record.cluster), style=_style("bold", color)),
            Text(one_line(record.message) or "(no message)"),
        )
    fails = sum(1 for r in shown if r.outcome == "fail")
    undecided = len(shown) - fails
    title = f"findings: {fails} failed" + (f", {undecided} could not be decided" if undecided else "")
    return _render([Text(title, style=_style("bold", color)), table], color=color, width=width)


def progress_line(cluster: str, records: Sequence[ResultRecord], seconds: float) -> str:
    """``prod-us-east: 43 cases in 3.1 s: 31 pass, 10 fail, 2 error`` when a cluster's last case is decided."""
    counts = Counter(r.outcome for r in records)
    spelled = ", ".join(f"{counts[o]} {o}" for o in ("pass", "fail", "error", "skip", "waived") if counts[o])
    return f"{one_line(cluster)}: {len(records)} cases in {seconds:.1f} s: {spelled}"


def render_table(headers: Sequence[str], rows: Iterable[Sequence[object]], *, width: int | None) -> str:
    """A plain table (``fleetcheck checks``, ``clusters``): columns as wide as their widest cell.

    ``width`` None (no terminal: a pipe, a file, a CI log) lays each row on
    one line, however long, so ``grep`` and ``cut`` see whole rows; with a
    width, long cells wrap inside their column. Nothing is cut either way.
    """
    table = Table(box=None, pad_edge=False, show_edge=False, padding=(0, 1), expand=False)
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*(Text(one_line(cell)) for cell in row))
    return _render([table], color=False, width=width or 100_000)


def stdout_width() -> int | None:
    """The terminal's width when stdout is one, else None (no wrapping)."""
    import shutil
    import sys

    return shutil.get_terminal_size().columns if sys.stdout.isatty() else None
