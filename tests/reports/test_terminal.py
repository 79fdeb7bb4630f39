from __future__ import annotations

import re
from collections.abc import Callable

from fleetcheck.reports.terminal import FACTOR_ABBREVIATIONS, render_summary
from fleetcheck.results import FACTORS, ClusterSummary, ResultsDocument
from fleetcheck.scoring import fleet_summary, score_document

ANSI = re.compile("\x1b\\[")
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def test_plain_text_has_no_escapes(scored: ResultsDocument) -> None:
    text = render_summary(scored, color=False, width=120)
    assert not CONTROL.search(text)
    assert all(len(line) <= 120 for line in text.splitlines())
    header = next(line for line in text.splitlines() if line.startswith("cluster"))
    assert all(FACTOR_ABBREVIATIONS[f] in header for f in FACTORS)
    for cluster in scored.clusters:
        row = next(line for line in text.splitlines() if line.startswith(cluster.name + " "))
        assert f" {cluster.score} " in row and f" {cluster.grade} " in row
    assert "top fixes across the fleet" in text
    assert fleet_summary(scored).top_fixes[0].code in text
    assert "unreachable: edge-001" in text


def test_worst_cluster_first(scored: ResultsDocument) -> None:
    text = render_summary(scored, color=False, width=120)
    rows = [line.split()[0] for line in text.splitlines()[4:9]]
    worst = min(scored.clusters, key=lambda c: c.score if c.score is not None else -1)
    assert rows[0] == worst.name


def test_colour_only_when_asked(scored: ResultsDocument) -> None:
    assert ANSI.search(render_summary(scored, color=True, width=120))
    assert not ANSI.search(render_summary(scored, color=False, width=120))


def test_data_cannot_inject_escapes(make_doc: Callable[..., ResultsDocument]) -> None:
    doc = make_doc([("evil\x1b[2J\x1b]0;pwned\x07\rname", {"env": "x"})])
    text = render_summary(score_document(doc), color=True, width=120)
    stripped = re.sub("\x1b\\[[0-9;]*m", "", text)  # only our own SGR colours may remain
    assert not CONTROL.search(stripped)
    assert "evilname" in stripped


def test_narrow_terminal_drops_factor_columns(scored: ResultsDocument) -> None:
    text = render_summary(scored, color=False, width=60)
    assert "BOR" not in text
    assert all(len(line) <= 60 for line in text.splitlines())
    assert "prod-us-east" in text


def test_rows_are_capped(make_doc: Callable[..., ResultsDocument], fleet_of: Callable[[int], list]) -> None:
    doc = score_document(make_doc(fleet_of(30)))
    text = render_summary(doc, color=False, width=120, max_clusters=10)
    assert "... and 20 more clusters" in text
    assert sum(1 for line in text.splitlines() if line.startswith("cluster-")) == 10


def test_unscored_and_empty_documents() -> None:
    text = render_summary(ResultsDocument(started="t", clusters=[ClusterSummary(name="a")]), color=False, width=80)
    assert "no data" in text and "a " in text
