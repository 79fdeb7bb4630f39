"""``fleetcheck run``: pytest over the check folders, then the gate's verdict.

pytest does the running (parametrization, xdist, ``-k``, ``-x`` ...); this
module only assembles its arguments, picks up the scored results document
the plugin built, and turns it into the documented exit code.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from fleetcheck.catalog import check_dirs
from fleetcheck.errors import EXIT_CONFIG
from fleetcheck.gate import evaluate_gate
from fleetcheck.results import ResultsDocument

__all__ = ["DocumentCatcher", "pytest_args_for", "run_scan"]

_INI = Path(__file__).resolve().parent / "pytest-run.ini"


class DocumentCatcher:
    """A pytest plugin object that keeps the scored document after the session."""

    def __init__(self) -> None:
        self.document: ResultsDocument | None = None

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """Read the document the fleetcheck plugin stashed at session finish."""
        from fleetcheck.plugin import scored_document

        self.document = scored_document(config)


def pytest_args_for(
    *,
    fleet: str | None,
    snapshots: Sequence[str],
    profile: str | None,
    clusters: Sequence[str],
    report_dir: Path,
    extra_checks: Sequence[str] = (),
    passthrough: Sequence[str] = (),
) -> list[str]:
    """The pytest command line for a scan."""
    dirs = [str(d) for d in check_dirs(extra_checks)]
    args = [*dirs, "-c", str(_INI), "--rootdir", str(Path(dirs[0]).parent)]
    if fleet:
        args += ["--fleet", fleet]
    for snap in snapshots:
        args += ["--snapshot", snap]
    if profile:
        args += ["--profile", profile]
    for glob in clusters:
        args += ["--cluster", glob]
    args += ["--report-dir", str(report_dir)]
    passthrough = list(passthrough)
    if any(a == "-n" or a.startswith(("-n", "--numprocesses")) for a in passthrough) and not any(
        a.startswith("--dist") for a in passthrough
    ):
        passthrough += ["--dist", "loadgroup"]
    return args + passthrough


def run_scan(
    *,
    fleet: str | None,
    snapshots: Sequence[str],
    profile: str | None,
    clusters: Sequence[str],
    report_dir: Path,
    extra_checks: Sequence[str] = (),
    fail_on: str = "high",
    max_errors: float = 0.5,
    pytest_args: Sequence[str] = (),
    baseline: Path | None = None,
    min_grade: str | None = None,
    shard: str | None = None,
) -> int:
    """Run the scan and return the gate's exit code."""
    from fleetcheck.reports.json_report import read_results_json

    baseline_doc = read_results_json(baseline) if baseline is not None else None
    args = pytest_args_for(
        fleet=fleet,
        snapshots=snapshots,
        profile=profile,
        clusters=clusters,
        report_dir=report_dir,
        extra_checks=extra_checks,
        passthrough=[*pytest_args, *(["--shard", shard] if shard else [])],
    )
    catcher = DocumentCatcher()
    ret = pytest.main(args, plugins=[catcher])
    if ret in (pytest.ExitCode.USAGE_ERROR, EXIT_CONFIG):
        return EXIT_CONFIG
    if ret == pytest.ExitCode.INTERRUPTED:
        return 130
    gate = evaluate_gate(
        catcher.document, fail_on=fail_on, max_errors=max_errors, baseline=baseline_doc, min_grade=min_grade
    )
    for line in gate.details:
        print(f"fleetcheck gate: {line}")
    verdict = {0: "passed", 1: "FAILED"}.get(gate.code, "UNDECIDED")
    print(f"fleetcheck gate: {verdict}: {gate.reason}", file=sys.stderr if gate.code else sys.stdout)
    return gate.code
