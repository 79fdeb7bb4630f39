from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from fleetcheck.reports import REPORT_FILES, REPORT_FOLDERS, read_results_json, write_reports
from fleetcheck.reports.html import render_html
from fleetcheck.results import FACTORS, ResultsDocument
from fleetcheck.scoring import fleet_summary, score_document

lxml_html = pytest.importorskip("lxml.html", reason="lxml parses the scorecard")


def parse(text: str):  # type: ignore[no-untyped-def]
    return lxml_html.document_fromstring(text)


@pytest.fixture
def page(scored: ResultsDocument) -> str:
    return render_html(scored)


def test_self_contained(page: str) -> None:
    tree = parse(page)
    assert not tree.xpath("//link | //iframe | //img | //object | //embed | //script[@src]")
    # in-page anchors, and the check docs' references: links a reader may follow, never fetched by the page
    for link in tree.xpath("//a[@href]"):
        href = link.get("href")
        assert href.startswith("#") or (href.startswith("https://") and "noreferrer" in link.get("rel", "")), href
    assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", page)
    assert not re.search(r"\bsrc=", page)


def test_csp_allows_only_the_pages_own_script(page: str) -> None:
    tree = parse(page)
    (csp,) = tree.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    (script,) = tree.xpath("//script")
    digest = base64.b64encode(hashlib.sha256(script.text.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp


def test_label_xss_renders_as_text(page: str, xss: str) -> None:
    assert xss not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    tree = parse(page)
    assert len(tree.xpath("//script")) == 1
    assert any(xss in (el.text_content() or "") for el in tree.xpath("//span[@class='lv']"))


def test_matrix_has_twelve_factor_columns_and_a_row_per_cluster(page: str, scored: ResultsDocument) -> None:
    tree = parse(page)
    heads = [
        th.text_content().strip() for th in tree.xpath("//table[@id='matrix-table']/thead//th[contains(@class,'f')]")
    ]
    assert heads == list(FACTORS)
    rows = tree.xpath("//table[@id='matrix-table']/tbody/tr")
    assert [r.xpath("string(td[1]/a)") for r in rows] == sorted(c.name for c in scored.clusters)
    for row in rows:
        assert len(row.xpath("td[contains(@class,'cell')]")) == 12
    edge = next(r for r in rows if r.xpath("string(td[1]/a)") == "edge-001")
    assert "no data" in edge.text_content() and "unreachable" in edge.text_content()


def test_cluster_views_anchor_and_content(page: str, scored: ResultsDocument) -> None:
    tree = parse(page)
    for cluster in scored.clusters:
        (section,) = tree.xpath(f"//section[@id='cluster-{cluster.name}']")
        text = section.text_content()
        assert cluster.grade in section.xpath("string(.//summary/span[contains(@class,'grade')])")
        failing = [r for r in scored.results if r.cluster == cluster.name and r.outcome == "fail"]
        assert len(section.xpath(".//article[@class='finding']")) == len(failing)
        for record in failing:
            assert record.code in text
        if any(r.cluster == cluster.name and r.outcome == "error" for r in scored.results):
            assert "Could not decide" in text
        if any(r.cluster == cluster.name and r.outcome == "waived" for r in scored.results):
            assert "Waived" in text and "migration to quotas tracked" in text and "OPS-1234" in text
    prod = tree.xpath("//section[@id='cluster-prod-eu-west']")[0].text_content()
    assert "How to fix" in prod and "grade capped at D" in prod
    assert "red value" in prod and "\x1b" not in page


def test_fleet_sections(page: str, scored: ResultsDocument) -> None:
    fleet = fleet_summary(scored)
    tree = parse(page)
    fixes = tree.xpath("//ol[@class='fixes']/li")
    assert len(fixes) == min(10, len(fleet.top_fixes))
    assert fleet.top_fixes[0].code in fixes[0].text_content()
    assert tree.xpath("//section[@id='exceptions']")
    for code in scored.checks:
        assert tree.xpath(f"//details[@id='check-{code}']")
    assert "What it checks" in page and "Why it matters" in page


def test_rendering_is_deterministic_and_reproducible(document: ResultsDocument, tmp_path: Path) -> None:
    first = write_reports(document, tmp_path / "run")
    folders = {folder for names in REPORT_FOLDERS.values() for folder in names}
    assert {k: p.name for k, p in first.items() if k not in folders} == REPORT_FILES
    assert all(first[k].is_file() for k in REPORT_FILES) and all(first[f].is_dir() for f in folders)
    saved = read_results_json(first["json"])
    second = write_reports(saved, tmp_path / "again")
    for kind in REPORT_FILES:
        assert first[kind].read_bytes() == second[kind].read_bytes(), kind
    for folder in folders:
        names = sorted(p.name for p in first[folder].iterdir())
        assert names and names == sorted(p.name for p in second[folder].iterdir())
        for name in names:
            assert (first[folder] / name).read_bytes() == (second[folder] / name).read_bytes(), name


def test_render_html_scores_unscored_documents(document: ResultsDocument, scored: ResultsDocument) -> None:
    assert render_html(document) == render_html(scored)


def test_html_grows_linearly(make_doc: Callable[..., ResultsDocument], fleet_of: Callable[[int], list]) -> None:
    small = render_html(score_document(make_doc(fleet_of(50))))
    large = render_html(score_document(make_doc(fleet_of(500))))
    assert len(large) < 12 * len(small)
    for tag in ("<details", "<tr", "<article"):
        assert large.count(tag) < 12 * small.count(tag), tag
    tree = parse(large)
    assert len(tree.xpath("//table[@id='matrix-table']/tbody/tr")) == 500
    assert len(tree.xpath("//section[@class='cluster']")) == 500


def test_empty_and_catalog_less_documents(tmp_path: Path) -> None:
    empty = ResultsDocument(started="2026-11-24T10:00:00Z")
    text = render_html(empty)
    assert "no data" in text and "Nothing to fix" in text and "carry no check catalog" in text
    odd = ResultsDocument.model_validate(
        {
            "started": "2026-11-24T10:00:00Z",
            "results": [
                {"cluster": "x", "code": "EXT-1", "factor": "custom", "severity": "low", "outcome": "fail"},
                {"cluster": "x", "code": "EXT-2", "factor": "boring", "severity": "high", "outcome": "error"},
            ],
        }
    )
    tree = parse(render_html(odd))
    heads = tree.xpath("//table[@id='matrix-table']/thead//th[contains(@class,'f')]")
    assert [h.text_content() for h in heads][-1] == "custom"
    assert tree.xpath("//section[@id='cluster-x']//article[@class='finding']")


def test_check_docs_render_as_code_and_paragraphs(scored: ResultsDocument) -> None:
    """The docstrings' ``code`` pairs become escaped <code>, paragraphs reflow; no raw pair remains."""
    info = scored.checks["FC-DNS-001"]
    doc = info.model_copy(
        update={
            "what": "forwards ``.`` to\n``/etc/resolv.conf`` on\nthe node.\n\nCounts toward *explicit-dns*.",
            "fix": "set ``forward . <script>x</script>`` in\nthe Corefile.",
        }
    )
    page = render_html(scored.model_copy(update={"checks": {**scored.checks, "FC-DNS-001": doc}}))
    assert "``" not in page
    tree = parse(page)
    what = tree.xpath("//details[@id='check-FC-DNS-001']//dd")[0]
    paragraphs = what.xpath("./p")
    assert [p.text_content() for p in paragraphs] == [
        "forwards . to /etc/resolv.conf on the node.",
        "Counts toward explicit-dns.",
    ]
    assert [c.text_content() for c in what.xpath(".//code")] == [".", "/etc/resolv.conf"]
    assert "<code>forward . &lt;script&gt;x&lt;/script&gt;</code>" in page
    assert not tree.xpath("//script[not(@src)][contains(., 'x')][position()>1]")
