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
from fleetcheck.results import SEVERITIES, ResultsDocument

__all__ = ["DocumentCatcher", "gate_exit_code", "pytest_args_for", "run_scan"]

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


def gate_exit_code(doc: ResultsDocument | None, fail_on: str, max_errors: float) -> tuple[int, str]:
    """0 passed, 1 gate failed, 3 could not decide; with a one-line reason."""
    if doc is None:
        return 3, "no check ran: nothing was decided"
    decided = [r for r in doc.results if r.outcome in ("pass", "fail", "error")]
    errors = [r for r in decided if r.outcome == "error"]
    if decided and len(errors) / len(decided) > max_errors:
        return 3, f"{len(errors)} of {len(decided)} checks errored (over {max_errors:.0%}): the scan could not decide"
    if fail_on == "never":
        return 0, "gate disabled (--fail-on never)"
    limit = SEVERITIES.index(fail_on)
    blocking = [r for r in doc.results if r.outcome == "fail" and SEVERITIES.index(r.severity) <= limit]
    if blocking:
        codes = sorted({r.code for r in blocking})
        shown = ", ".join(codes[:8]) + (" ..." if len(codes) > 8 else "")
        return 1, f"{len(blocking)} findings at or above {fail_on} ({shown})"
    return 0, f"no finding at or above {fail_on}"


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
) -> int:
    """Run the scan and return the gate's exit code."""
    args = pytest_args_for(
        fleet=fleet,
        snapshots=snapshots,
        profile=profile,
        clusters=clusters,
        report_dir=report_dir,
        extra_checks=extra_checks,
        passthrough=pytest_args,
    )
    catcher = DocumentCatcher()
    ret = pytest.main(args, plugins=[catcher])
    if ret in (pytest.ExitCode.USAGE_ERROR, EXIT_CONFIG):
        return EXIT_CONFIG
    if ret == pytest.ExitCode.INTERRUPTED:
        return 130
    code, reason = gate_exit_code(catcher.document, fail_on, max_errors)
    print(
        f"fleetcheck gate: {'passed' if code == 0 else 'FAILED' if code == 1 else 'UNDECIDED'}: {reason}",
        file=sys.stderr if code else sys.stdout,
    )
    return code
