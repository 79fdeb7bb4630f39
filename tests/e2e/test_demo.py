"""``fleetcheck demo`` end to end: generate, replay over HTTPS, scan, report.

One run of the full-size demo (2 x 5,000 pods) is shared by the assertions:
every planted gotcha is caught, nothing unplanted fails, only GETs reached
the replay server, the reports exist, and the README's table is the
generator's list.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fleetcheck.demorun import planted_table_markdown

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | subprocess.CompletedProcess[str]]:
    root = tmp_path_factory.mktemp("demo")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "fleetcheck.cli",
            "demo",
            "--workdir",
            str(root / "work"),
            "--report-dir",
            str(root / "reports"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=root,
    )
    return {"run": run, "work": root / "work", "reports": root / "reports"}


def _plants(demo: dict) -> list[dict[str, str]]:
    return json.loads((demo["work"] / "snapshots" / "planted.json").read_text())


def _results(demo: dict) -> dict:
    return json.loads((demo["reports"] / "results.json").read_text())


def test_demo_catches_every_planted_gotcha(demo: dict) -> None:
    run = demo["run"]
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "planted gotchas caught:" in run.stdout
    for name in ("results.json", "junit.xml", "scorecard.html", "metrics.prom"):
        assert (demo["reports"] / name).stat().st_size > 0
    doc = _results(demo)
    assert {c["name"] for c in doc["clusters"]} == {
        "prod-us-east",
        "prod-eu-west",
        "canary-eu-west",
        "dev",
        "edge-001",
        "prod-eks-us-east",
        "dev-eks-eu-west",
        "edge-k3s-002",
    }
    failing = {(r["cluster"], r["code"]): r for r in doc["results"] if r["outcome"] == "fail"}
    for plant in _plants(demo):
        record = failing.get((plant["cluster"], plant["code"]))
        assert record is not None, f"not caught: {plant}"
        if plant["object"]:
            assert any(plant["object"] in o for o in record["objects"]) or plant["object"] in record["message"], plant


def test_demo_results_follow_the_shipped_schema_with_facts_and_drift(demo: dict) -> None:
    from tests.results_contract import problems

    doc = _results(demo)
    assert problems(doc) == []
    assert doc["drift"] is not None and doc["drift"]["clusters"] == len(doc["clusters"])
    for cluster in doc["clusters"]:
        known = [name for name, value in cluster["facts"].items() if value is not None]
        assert "kubernetes.version" in known and "cni" in known, cluster["name"]


def test_demo_flags_nothing_on_the_clean_parts(demo: dict) -> None:
    planted: dict[tuple[str, str], set[str]] = {}
    for plant in _plants(demo):
        planted.setdefault((plant["cluster"], plant["code"]), set()).add(plant["object"])
    for record in _results(demo)["results"]:
        if record["outcome"] != "fail":
            continue
        key = (record["cluster"], record["code"])
        assert key in planted, f"unplanted failure: {key}: {record['message'][:300]}"
        if "" in planted[key]:
            continue
        extra = [o for o in record["objects"] if not any(p in o for p in planted[key])]
        assert not extra, f"{key}: flags clean objects {extra[:5]}"


def test_demo_errors_nothing(demo: dict) -> None:
    errors = [(r["cluster"], r["code"], r["message"]) for r in _results(demo)["results"] if r["outcome"] == "error"]
    assert errors == []


def test_demo_sent_only_gets(demo: dict) -> None:
    lines = (demo["work"] / "requests.jsonl").read_text().splitlines()
    assert len(lines) > 50
    assert {json.loads(line)["method"] for line in lines} == {"GET"}


def test_readme_lists_the_planted_gotchas(demo: dict) -> None:
    readme = (REPO / "README.md").read_text()
    section = readme.split("<!-- planted:start -->\n", 1)[1].split("<!-- planted:end -->", 1)[0]
    assert section == planted_table_markdown(_plants(demo))


def test_demo_scorecard_in_chromium(demo: dict, tmp_path: Path) -> None:
    """The demo's own report, with a hostile label planted, in real headless Chromium."""
    import os
    import shutil

    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
    chromium = os.environ.get("FLEETCHECK_CHROMIUM", "/usr/bin/chromium")
    if not shutil.which(chromium):
        pytest.skip(f"no Chromium at {chromium}")
    doc = _results(demo)
    xss = "<script>alert(1)</script>"
    doc["clusters"][0]["labels"]["note"] = xss
    saved = tmp_path / "results.json"
    saved.write_text(json.dumps(doc))
    rendered = subprocess.run(
        [sys.executable, "-m", "fleetcheck.cli", "report", str(saved), "--report-dir", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert rendered.returncode == 0, rendered.stderr
    page_file = tmp_path / "out" / "scorecard.html"
    args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=chromium,
            args=args,
            headless=True,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            dialogs: list[str] = []
            page = context.new_page()
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.goto(page_file.as_uri())
            assert page.locator("#matrix-table tbody tr").count() == len(doc["clusters"]) == 8
            assert page.locator("#matrix-table .lv", has_text="alert(1)").first.inner_text().strip().endswith(xss)
            first = doc["clusters"][0]["name"]
            page.goto(page_file.as_uri() + f"#cluster-{first}")
            drill = page.locator(f"#cluster-{first}")
            drill.locator("summary").first.click()
            assert drill.locator("text=FC-").count() > 0
            page.screenshot(path=str(tmp_path / "demo-scorecard.png"), full_page=True)
            assert (tmp_path / "demo-scorecard.png").stat().st_size > 10_000
            assert dialogs == []
        finally:
            context.close()


def test_demo_junit_has_one_identity_per_cluster_and_check(demo: dict) -> None:
    """GitLab keys tests by classname + name: every case distinct, every failure naming its cluster."""
    from junitparser import Error, Failure, JUnitXml

    xml = JUnitXml.fromfile(str(demo["reports"] / "junit.xml"))
    cases = [(suite.name, case) for suite in xml for case in suite]
    assert len(cases) == len(_results(demo)["results"])
    assert len({(case.classname, case.name) for _, case in cases}) == len(cases)
    for cluster, case in cases:
        assert case.classname.startswith(f"{cluster}.")
        assert case._elem.get("file", "").startswith("checks/test_"), case.name
        for result in case.result:
            if isinstance(result, Failure | Error):
                assert result.message.startswith(f"{cluster}: ") and f"cluster: {cluster}" in result.text
                assert "``" not in result.text


def test_demo_sarif_and_policy_reports_validate(demo: dict) -> None:
    import yaml

    from tests.reports.schemas import report_validator, sarif_validator, schema_errors

    sarif = json.loads((demo["reports"] / "fleetcheck.sarif").read_text())
    assert not schema_errors(sarif_validator(), sarif)
    fails = [r for r in _results(demo)["results"] if r["outcome"] == "fail"]
    from fleetcheck.reports.sarif import MAX_OBJECTS

    assert len(sarif["runs"][0]["results"]) == sum(max(1, min(MAX_OBJECTS, len(r["objects"]))) for r in fails)
    clusters = {c["name"] for c in _results(demo)["clusters"]}
    for folder in ("policyreports", "openreports"):
        validator = report_validator(folder)
        files = sorted((demo["reports"] / folder).glob("*.yaml"))
        assert {f.stem for f in files} == clusters
        for path in files:
            report = yaml.safe_load(path.read_text())
            assert not schema_errors(validator, report), path


def test_demo_reports_show_no_raw_markup(demo: dict) -> None:
    """The check docs' ``code`` pairs are rendered: none reaches the scorecard, the summary or the SARIF text."""
    page = (demo["reports"] / "scorecard.html").read_text()
    assert "``" not in page
    assert page.count("<code>") > 100
    assert "``" not in (demo["reports"] / "summary.md").read_text()
    sarif = json.loads((demo["reports"] / "fleetcheck.sarif").read_text())
    assert all("``" not in rule["help"]["text"] for rule in sarif["runs"][0]["tool"]["driver"]["rules"])
