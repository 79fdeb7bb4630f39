"""Selecting report formats, and the new files joining the one staged, locked, run-id-stamped set."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetcheck.errors import ConfigError
from fleetcheck.reports import REPORT_FORMATS, parse_report_formats, run_ids, write_reports
from fleetcheck.results import ResultsDocument


def test_every_format_by_default_and_one_run_id(scored: ResultsDocument, tmp_path: Path) -> None:
    paths = write_reports(scored, tmp_path)
    assert {"sarif", "markdown", "policyreports", "openreports"} <= set(paths)
    ids = run_ids(tmp_path)
    assert "fleetcheck.sarif" in ids and "summary.md" in ids
    assert sum(1 for name in ids if name.startswith(("policyreports/", "openreports/"))) == 2 * len(scored.clusters)
    assert len(set(ids.values())) == 1 and None not in ids.values(), ids


def test_selected_formats_only_and_stale_files_removed(scored: ResultsDocument, tmp_path: Path) -> None:
    write_reports(scored, tmp_path)
    paths = write_reports(scored, tmp_path, formats=parse_report_formats("junit,sarif"))
    assert set(paths) == {"json", "junit", "sarif"}, "results.json is always written"
    left = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))
    assert left == ["fleetcheck.sarif", "junit.xml", "results.json"], "no report of the older run stays beside"
    ids = run_ids(tmp_path)
    assert {ids["results.json"], ids["junit.xml"], ids["fleetcheck.sarif"]} == {ids["results.json"]}


def test_a_cluster_that_left_leaves_no_policy_report(scored: ResultsDocument, tmp_path: Path) -> None:
    write_reports(scored, tmp_path)
    assert (tmp_path / "policyreports" / "dev.yaml").is_file()
    fewer = scored.model_copy(
        update={
            "clusters": [c for c in scored.clusters if c.name != "dev"],
            "results": [r for r in scored.results if r.cluster != "dev"],
            "run_id": None,
        }
    )
    write_reports(fewer, tmp_path)
    assert not (tmp_path / "policyreports" / "dev.yaml").exists()
    assert not (tmp_path / "openreports" / "dev.yaml").exists()
    assert len(set(run_ids(tmp_path).values())) == 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".fleetcheck-staging-")]


def test_a_failed_write_keeps_the_previous_folder(scored: ResultsDocument, tmp_path: Path) -> None:
    from fleetcheck.reports import ReportWriteError

    write_reports(scored, tmp_path)
    before = (tmp_path / "policyreports" / "dev.yaml").read_bytes()
    blocker = tmp_path / "fleetcheck.sarif"
    blocker.unlink()
    blocker.mkdir()  # a folder where a file must go: os.replace fails
    (blocker / "keep").write_text("x")
    with pytest.raises(ReportWriteError):
        write_reports(scored.model_copy(update={"run_id": None}), tmp_path)
    assert (tmp_path / "policyreports" / "dev.yaml").read_bytes() == before


@pytest.mark.parametrize("value", ["", "all", None])
def test_all_spellings(value: str | None) -> None:
    assert parse_report_formats(value) == REPORT_FORMATS


def test_unknown_format_is_one_line_naming_the_fix() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_report_formats("junit,pdf")
    line = caught.value.one_line()
    assert "'pdf'" in line and "sarif" in line and "\n" not in line


def test_the_plugin_option_rejects_an_unknown_format(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_ok():\n    assert True\n")
    result = pytester.runpytest_subprocess("--report-formats", "junit,pdf", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "unknown report format 'pdf'" in result.stderr.str()
    assert "Traceback" not in result.stderr.str() + result.stdout.str()
