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
from fleetcheck.results import ResultsDocument
from fleetcheck.scoring import is_scored, score_document

__all__ = [
    "REPORT_FILES",
    "MetricsPushError",
    "push_metrics",
    "read_results_json",
    "render_html",
    "render_junit",
    "render_metrics",
    "render_summary",
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


def write_reports(doc: ResultsDocument, report_dir: Path) -> dict[str, Path]:
    """Score ``doc`` unless it already is, write every report into ``report_dir``, return their paths.

    The keys are those of :data:`REPORT_FILES`. ``results.json`` is written
    scored, so re-rendering from it reproduces the other files exactly.
    """
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    if not is_scored(doc):
        doc = score_document(doc)
    paths = {kind: report_dir / name for kind, name in REPORT_FILES.items()}
    write_results_json(doc, paths["json"])
    write_junit(doc, paths["junit"])
    write_html(doc, paths["html"])
    write_metrics(doc, paths["metrics"])
    return paths
