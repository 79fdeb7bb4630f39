"""The scorecard's drift view: rendered from the run's DriftReport, escaped, bounded, and checked in Chromium."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from fleetcheck.facts.drift import DriftReport, drift
from fleetcheck.reports.drift_view import drift_section
from fleetcheck.reports.html import render_html, write_html
from fleetcheck.results import CheckInfo, ClusterSummary, ResultsDocument
from fleetcheck.runstate import RunOptions, RunState
from tests.facts import fleet_kit as kit

CHROMIUM = os.environ.get("FLEETCHECK_CHROMIUM", "/usr/bin/chromium")
XSS = "<img src=x onerror=alert(1)>"


def _document(tmp_path: Path, *, hostile: bool = False) -> ResultsDocument:
    sides = {"a": kit.A, "b": kit.A, "c": kit.A, "d": kit.B}
    snaps = tuple(str(kit.write_cluster(tmp_path / "snaps", n, s, "prod")) for n, s in sides.items())
    checks = {
        "FC-CNI-002": CheckInfo(
            code="FC-CNI-002",
            title="CNI differs from the fleet standard",
            factor="boring",
            severity="high",
            scope="fleet",
            fix="Migrate the cluster to the fleet's CNI (``calico``).",
        )
    }
    report = drift(RunState(RunOptions(snapshots=snaps)).fleet_view(), checks)
    payload = report.to_json()
    if hostile:
        row = payload["cohorts"][0]["dimensions"][0]
        row["outliers"] = [{"cluster": "d", "value": XSS}]
        row["outliers_count"] = 1
    return ResultsDocument(
        started="2026-11-24T10:00:00Z",
        clusters=[ClusterSummary(name=n) for n in sides],
        checks=checks,
        drift=payload,
    )


def test_the_view_escapes_cluster_text_and_links_only_documented_checks(tmp_path: Path) -> None:
    doc = _document(tmp_path, hostile=True)
    html = render_html(doc)
    assert '<section id="drift">' in html
    assert XSS not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'href="#check-FC-CNI-002"' in html  # documented in the run: linked
    assert 'href="#check-FC-DNS-002"' not in html  # not in doc.checks: named, not linked to nothing
    assert "informational" in html
    section = drift_section(doc)
    assert section is not None and section.cohorts[0].rows[0].drifted  # drifted rows first


def test_no_drift_no_section_and_a_malformed_block_is_said(tmp_path: Path) -> None:
    plain = ResultsDocument(started="2026-11-24T10:00:00Z")
    assert drift_section(plain) is None
    assert '<section id="drift">' not in render_html(plain)
    broken = ResultsDocument(started="2026-11-24T10:00:00Z", drift={"cohorts": "nope"})
    assert "is not a fleetcheck/drift/v1 report" in render_html(broken)


def test_the_view_is_bounded(tmp_path: Path) -> None:
    doc = _document(tmp_path)
    report = DriftReport.model_validate(doc.drift)
    cohort = report.cohorts[0]
    many = report.model_copy(
        update={"cohorts": tuple(cohort.model_copy(update={"cohort": f"c{i}"}) for i in range(500))}
    )
    big = doc.model_copy(update={"drift": many.to_json()})
    section = drift_section(big)
    assert section is not None and len(section.cohorts) == 50 and section.cohorts_more == 450
    assert len(render_html(big)) < 60 * len(render_html(doc))


@pytest.mark.skipif(
    not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)) and not shutil.which(CHROMIUM),
    reason=f"no Chromium at {CHROMIUM} (set FLEETCHECK_CHROMIUM)",
)
def test_the_drift_view_in_chromium(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
    html = write_html(_document(tmp_path, hostile=True), tmp_path / "scorecard.html")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            dialogs: list[str] = []
            outside: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.route(
                "**/*",
                lambda r: (
                    r.continue_() if r.request.url.startswith("file:") else (outside.append(r.request.url), r.abort())
                ),
            )
            page.goto(html.as_uri())
            section = page.locator("#drift")
            assert section.is_visible()
            cni = section.locator('tr[data-dimension="cni"]')
            assert "calico" in cni.inner_text() and "d: cilium" in cni.inner_text()
            assert "majority" in cni.inner_text()
            link = cni.locator('a[href="#check-FC-CNI-002"]')
            assert link.count() == 1 and page.locator("#check-FC-CNI-002").count() == 1
            proxy = section.locator('tr[data-dimension="kube_proxy.mode"]')
            assert "informational" in proxy.inner_text()
            assert "onerror" in section.inner_text()  # shown as text
            section.scroll_into_view_if_needed()
            page.screenshot(path=str(tmp_path / "drift.png"), full_page=False, clip=None)
            if os.environ.get("FLEETCHECK_SCREENSHOT_DIR"):  # to look at it: FLEETCHECK_SCREENSHOT_DIR=/tmp
                shutil.copy(tmp_path / "drift.png", os.environ["FLEETCHECK_SCREENSHOT_DIR"])
            assert not dialogs and not outside
        finally:
            browser.close()
