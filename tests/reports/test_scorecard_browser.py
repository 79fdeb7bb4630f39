"""The scorecard in a real headless Chromium: it renders, drills down, runs no injected script, fetches nothing."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fleetcheck.reports.html import write_html
from fleetcheck.results import FACTORS, ResultsDocument

CHROMIUM = os.environ.get("FLEETCHECK_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)) and not shutil.which(CHROMIUM):
    pytest.skip(f"no Chromium at {CHROMIUM} (set FLEETCHECK_CHROMIUM)", allow_module_level=True)

WAIT_MS = 10_000


def _wait_open(page: Any, selector: str) -> None:
    """Wait until the <details> is open.

    A locator assertion, not ``page.wait_for_function("...")``: a string predicate is re-evaluated with eval on
    every poll after the first, which the scorecard's CSP (no 'unsafe-eval') refuses, so that wait failed
    whenever the first poll came before the click's handler had opened the element.
    """
    sync_api.expect(page.locator(selector)).to_have_attribute("open", "", timeout=WAIT_MS)


@pytest.fixture
def browser_page(tmp_path: Path) -> Iterator[tuple[Any, list[str], list[str]]]:
    """A fresh profile's page that records dialogs and refuses every request not for a file: URL."""
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            args=ARGS,
            headless=True,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            dialogs: list[str] = []
            outside: list[str] = []

            def route(route: Any) -> None:
                if route.request.url.startswith("file:"):
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            context.route("**/*", route)
            page = context.new_page()
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            yield page, dialogs, outside
        finally:
            context.close()


def test_scorecard_in_chromium(
    scored: ResultsDocument, xss: str, tmp_path: Path, browser_page: tuple[Any, list[str], list[str]]
) -> None:
    page, dialogs, outside = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    html = write_html(scored, tmp_path / "scorecard.html")
    page.goto(html.as_uri())

    # the matrix: 12 factor columns, one row per cluster
    heads = page.locator("#matrix-table thead th.f").all_inner_texts()
    assert [h.strip() for h in heads] == list(FACTORS)
    rows = page.locator("#matrix-table tbody tr")
    assert rows.count() == len(scored.clusters)
    assert rows.first.locator("td.cell").count() == 12

    # the XSS label is shown as text, and nothing ran
    label = page.locator("#matrix-table .lv", has_text="alert(1)")
    assert label.first.inner_text() == xss
    assert page.evaluate("document.querySelectorAll('script').length") == 1

    # sorting by score puts the lowest first
    page.locator("#matrix-table thead th", has_text="Score").click()
    first = page.locator("#matrix-table tbody tr").first.locator("td.c-name a").inner_text()
    assert first == min(scored.clusters, key=lambda c: c.score if c.score is not None else -1).name

    # grouping by env inserts group headers
    page.select_option("#group-by", label="env")
    assert page.locator("#matrix-table tr.group").count() == len({c.labels.get("env") for c in scored.clusters})
    assert "env = prod" in page.locator("#matrix-table tr.group").all_inner_texts()[-1]

    # filtering hides rows
    page.fill("#filter", "edge")
    assert page.locator("#matrix-table tbody tr:not(.group):visible").count() == 1
    page.fill("#filter", "")

    # drill down: the matrix link opens the cluster's details
    details = page.locator("#cluster-prod-eu-west > details")
    assert details.get_attribute("open") is None
    page.locator("#matrix-table a[href='#cluster-prod-eu-west']").click()
    _wait_open(page, "#cluster-prod-eu-west > details")
    assert details.locator("article.finding").first.is_visible()
    assert details.locator(".cap").inner_text().startswith("Grade limited")
    body = details.inner_text().lower()  # h4 headings are text-transform: uppercase
    assert "could not decide" in body and "waived" in body and "ops-1234" in body

    # a failure's doc link opens the check reference
    details.locator("a.why").first.click()
    sync_api.expect(page).to_have_url(re.compile(r"#check-"), timeout=WAIT_MS)
    target = page.evaluate("decodeURIComponent(location.hash.slice(1))")
    assert page.locator(f"details[id='{target}']").get_attribute("open") is not None

    page.goto(html.as_uri() + "#cluster-prod-eu-west")
    _wait_open(page, "#cluster-prod-eu-west > details")
    page.screenshot(path=str(tmp_path / "scorecard-cluster.png"))
    page.goto(html.as_uri())
    shot = tmp_path / "scorecard.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    page.emulate_media(media="print")
    page.screenshot(path=str(tmp_path / "scorecard-print.png"), full_page=True)

    assert dialogs == [], "a script from the data ran"
    assert outside == [], f"the page tried to fetch {outside}"
    assert errors == []


AXE = Path(
    os.environ.get("FLEETCHECK_AXE", Path(__file__).resolve().parents[2] / ".ci/js/node_modules/axe-core/axe.min.js")
)


def test_axe_core_finds_no_violations(
    scored: ResultsDocument, tmp_path: Path, browser_page: tuple[Any, list[str], list[str]]
) -> None:
    """Colour contrast >= 4.5:1 and the rest of axe's rules, with every details element open."""
    if not AXE.is_file():
        pytest.skip(f"no axe-core at {AXE} (scripts/setup.sh --test installs it with npm)")
    page, _dialogs, _outside = browser_page
    page.goto(write_html(scored, tmp_path / "scorecard.html").as_uri())
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    # evaluated through the DevTools protocol: the page's CSP (rightly) refuses an injected <script>
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    violations = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, nodes: v.nodes.slice(0, 3).map(n => n.failureSummary + ' @ ' + n.target)}))"
    )
    assert violations == []


def test_axe_core_catches_low_contrast(tmp_path: Path, browser_page: tuple[Any, list[str], list[str]]) -> None:
    if not AXE.is_file():
        pytest.skip(f"no axe-core at {AXE} (scripts/setup.sh --test installs it with npm)")
    page, _dialogs, _outside = browser_page
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!doctype html><html lang="en"><title>t</title><main><p style="color:#fff;background:#e2620f">'
        "white on the old orange</p></main></html>"
    )
    page.goto(bad.as_uri())
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    ids = page.evaluate("async () => (await axe.run(document)).violations.map(v => v.id)")
    assert "color-contrast" in ids


def test_usable_at_390_px(
    scored: ResultsDocument, tmp_path: Path, browser_page: tuple[Any, list[str], list[str]]
) -> None:
    """A phone: the page does not scroll sideways and every factor bar keeps a visible track."""
    page, _dialogs, _outside = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(write_html(scored, tmp_path / "scorecard.html").as_uri() + "#cluster-prod-eu-west")
    _wait_open(page, "#cluster-prod-eu-west > details")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    tracks = page.evaluate(
        "Array.from(document.querySelectorAll('.factor-bars .track, #cluster-prod-eu-west .track'))"
        ".map(t => { const r = t.getBoundingClientRect(); return [r.left, r.right, r.width]; })"
    )
    assert len(tracks) == 24
    for left, right, width in tracks:
        assert width >= 60 and left >= 0 and right <= 390, (left, right, width)
    page.screenshot(path=str(tmp_path / "scorecard-390.png"), full_page=True)


def test_print_keeps_object_lists_and_reference_collapsed(
    scored: ResultsDocument, tmp_path: Path, browser_page: tuple[Any, list[str], list[str]]
) -> None:
    page, _dialogs, _outside = browser_page
    page.goto(write_html(scored, tmp_path / "scorecard.html").as_uri())
    lists = "Array.from(document.querySelectorAll('details.more-objects, details.minor, details.check, .affected'))"
    before = page.evaluate(f"{lists}.map(d => d.open)")
    assert before.count(False) > len(scored.checks), "the reference and object lists start collapsed"
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert page.evaluate("Array.from(document.querySelectorAll('.cluster > details')).every(d => d.open)")
    assert page.evaluate(f"{lists}.map(d => d.open)") == before, "printing opens no object list or check doc"
    page.evaluate("window.dispatchEvent(new Event('afterprint'))")
    assert page.evaluate("Array.from(document.querySelectorAll('.cluster > details')).some(d => d.open)") is False
