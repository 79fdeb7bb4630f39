"""Reports rendered from a scored :class:`~fleetcheck.results.ResultsDocument`.

Every report reads only the document, never checks, clusters or the
network, so ``fleetcheck report results.json`` re-renders all of them from a
saved run, byte for byte.
"""

from __future__ import annotations

from pathlib import Path

from fleetcheck.reports.html import render_html, write_html
from fleetcheck.reports.json_report import read_results_json, write_results_json
from fleetcheck.reports.junit import render_junit, write_junit
from fleetcheck.reports.metrics import MetricsPushError, push_metrics, render_metrics, write_metrics
from fleetcheck.reports.terminal import render_summary
from fleetcheck.reports.writing import ReportWriteError, new_run_id, run_ids, write_report_set
from fleetcheck.results import ResultsDocument
from fleetcheck.scoring import is_scored, score_document

__all__ = [
    "REPORT_FILES",
    "MetricsPushError",
    "ReportWriteError",
    "push_metrics",
    "read_results_json",
    "render_html",
    "render_junit",
    "render_metrics",
    "render_summary",
    "run_ids",
    "with_run_id",
    "write_html",
    "write_junit",
    "write_metrics",
    "write_reports",
    "write_results_json",
]

#: Report kind -> file name inside the report folder.
REPORT_FILES: dict[str, str] = {
    "json": "results.json",
    "junit": "junit.xml",
    "html": "scorecard.html",
    "metrics": "metrics.prom",
}


def with_run_id(doc: ResultsDocument) -> ResultsDocument:
    """``doc`` carrying a ``run_id`` (its own when it has one, so a re-render keeps the saved run's id)."""
    if getattr(doc, "run_id", None):
        return doc
    return doc.model_copy(update={"run_id": new_run_id()})


def write_reports(doc: ResultsDocument, report_dir: Path, *, lock_timeout: float | None = None) -> dict[str, Path]:
    """Score ``doc`` unless it already is, write every report into ``report_dir`` together, return their paths.

    The keys are those of :data:`REPORT_FILES`. ``results.json`` is written
    scored, so re-rendering from it reproduces the other files exactly. All
    files are rendered first, then written whole or not at all under the
    folder's lock (:mod:`fleetcheck.reports.writing`); an I/O failure raises
    :class:`ReportWriteError` and leaves the previous set in place.
    """
    report_dir = Path(report_dir)
    if not is_scored(doc):
        doc = score_document(doc)
    doc = with_run_id(doc)
    rendered = {
        REPORT_FILES["junit"]: render_junit(doc),
        REPORT_FILES["html"]: render_html(doc).encode("utf-8"),
        REPORT_FILES["metrics"]: render_metrics(doc).encode("utf-8"),
        REPORT_FILES["json"]: doc.to_json_bytes(),  # last: moved into place after the others
    }
    write_report_set(rendered, report_dir, lock_timeout=lock_timeout)
    return {kind: report_dir / name for kind, name in REPORT_FILES.items()}
