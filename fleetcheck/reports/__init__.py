"""Reports rendered from a scored :class:`~fleetcheck.results.ResultsDocument`.

Every report reads only the document, never checks, clusters or the
network, so ``fleetcheck report results.json`` re-renders all of them from a
saved run, byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fleetcheck.errors import ConfigError
from fleetcheck.reports.html import render_html, write_html
from fleetcheck.reports.json_report import read_results_json, write_results_json
from fleetcheck.reports.junit import render_junit, write_junit
from fleetcheck.reports.markdown import render_markdown
from fleetcheck.reports.metrics import MetricsPushError, push_metrics, render_metrics, write_metrics
from fleetcheck.reports.policyreport import FORMATS, render_policy_reports
from fleetcheck.reports.sarif import render_sarif
from fleetcheck.reports.terminal import render_summary
from fleetcheck.reports.writing import ReportWriteError, new_run_id, run_ids, write_report_set
from fleetcheck.results import ResultsDocument
from fleetcheck.scoring import is_scored, score_document

__all__ = [
    "REPORT_FILES",
    "REPORT_FOLDERS",
    "REPORT_FORMATS",
    "MetricsPushError",
    "ReportWriteError",
    "parse_report_formats",
    "push_metrics",
    "read_results_json",
    "render_html",
    "render_junit",
    "render_markdown",
    "render_metrics",
    "render_policy_reports",
    "render_sarif",
    "render_summary",
    "run_ids",
    "with_run_id",
    "write_html",
    "write_junit",
    "write_metrics",
    "write_reports",
    "write_results_json",
]

#: Every report format, in the order ``--report-formats`` lists them; all are written by default.
REPORT_FORMATS: tuple[str, ...] = ("json", "junit", "html", "metrics", "sarif", "policyreport", "markdown")
#: Report kind -> file name inside the report folder.
REPORT_FILES: dict[str, str] = {
    "json": "results.json",
    "junit": "junit.xml",
    "html": "scorecard.html",
    "metrics": "metrics.prom",
    "sarif": "fleetcheck.sarif",
    "markdown": "summary.md",
}
#: Report kind -> the folders it writes, one file per cluster.
REPORT_FOLDERS: dict[str, tuple[str, ...]] = {"policyreport": tuple(FORMATS)}


def parse_report_formats(value: str | None, source: str = "--report-formats") -> tuple[str, ...]:
    """``"junit,html"`` as formats (``None``, ``""`` or ``all``: every one); unknown names are a :class:`ConfigError`.

    ``results.json`` is always written, listed or not: it is the run's
    contract (CHECKS.md) and what ``fleetcheck report`` re-renders from.
    """
    if value is None or value.strip() in ("", "all"):
        return REPORT_FORMATS
    wanted = [part.strip().lower() for part in value.split(",") if part.strip()]
    unknown = [name for name in wanted if name not in REPORT_FORMATS]
    if unknown:
        raise ConfigError(
            source,
            "",
            f"unknown report format {', '.join(map(repr, unknown))}",
            f"use a comma-separated list of {', '.join(REPORT_FORMATS)} (or all)",
        )
    return tuple(name for name in REPORT_FORMATS if name in wanted or name == "json")


def with_run_id(doc: ResultsDocument) -> ResultsDocument:
    """``doc`` carrying a ``run_id`` (its own when it has one, so a re-render keeps the saved run's id)."""
    if doc.run_id:
        return doc
    return doc.model_copy(update={"run_id": new_run_id()})


def _render(doc: ResultsDocument, formats: tuple[str, ...]) -> dict[str, bytes]:
    renderers: dict[str, Callable[[ResultsDocument], bytes]] = {
        "junit": render_junit,
        "html": lambda d: render_html(d).encode("utf-8"),
        "metrics": lambda d: render_metrics(d).encode("utf-8"),
        "sarif": render_sarif,
        "markdown": lambda d: render_markdown(d).encode("utf-8"),
    }
    rendered: dict[str, bytes] = {}
    for kind in formats:
        if kind in renderers:
            rendered[REPORT_FILES[kind]] = renderers[kind](doc)
        elif kind == "policyreport":
            rendered |= render_policy_reports(doc)
    rendered[REPORT_FILES["json"]] = doc.to_json_bytes()  # last: moved into place after the others
    return rendered


def write_reports(
    doc: ResultsDocument,
    report_dir: Path,
    *,
    lock_timeout: float | None = None,
    formats: tuple[str, ...] | None = None,
) -> dict[str, Path]:
    """Score ``doc`` unless it already is, write the reports of ``formats`` (default all) together, return their paths.

    The keys are the kinds of :data:`REPORT_FILES` written, and the folders
    of :data:`REPORT_FOLDERS`. ``results.json`` is always written, scored,
    so re-rendering from it reproduces the other files exactly. All files
    are rendered first, then written whole or not at all under the folder's
    lock (:mod:`fleetcheck.reports.writing`), and the files of formats not
    selected are removed, so the folder holds one run; an I/O failure raises
    :class:`ReportWriteError` and leaves the previous set in place.
    """
    report_dir = Path(report_dir)
    selected = REPORT_FORMATS if formats is None else tuple(f for f in REPORT_FORMATS if f in formats or f == "json")
    if not is_scored(doc):
        doc = score_document(doc)
    doc = with_run_id(doc)
    unselected = [kind for kind in REPORT_FORMATS if kind not in selected]
    remove = [REPORT_FILES[k] for k in unselected if k in REPORT_FILES]
    remove += [folder for k in unselected for folder in REPORT_FOLDERS.get(k, ())]
    write_report_set(_render(doc, selected), report_dir, lock_timeout=lock_timeout, remove=remove)
    paths = {kind: report_dir / REPORT_FILES[kind] for kind in selected if kind in REPORT_FILES}
    paths |= {folder: report_dir / folder for kind in selected for folder in REPORT_FOLDERS.get(kind, ())}
    return paths
