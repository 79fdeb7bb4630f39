"""``fleetcheck run``: pytest over the check folders, then the gate's verdict.

pytest does the running (parametrization, xdist, ``-k``, ``-x`` ...); this
module only assembles its arguments, picks up the scored results document
the plugin built, and turns it into the documented exit code.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Generator, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

import pytest

from fleetcheck.catalog import check_dirs
from fleetcheck.core.exit_codes import signal_exit_code
from fleetcheck.core.plugin_options import PLUGIN_OPTIONS
from fleetcheck.errors import EXIT_CONFIG, ConfigError
from fleetcheck.gate import GateResult, evaluate_gate
from fleetcheck.results import ResultsDocument

__all__ = [
    "DocumentCatcher",
    "SignalInterrupt",
    "exit_code_for",
    "interrupt_on_signals",
    "pytest_args_for",
    "run_scan",
]

_INI = Path(__file__).resolve().parent / "pytest-run.ini"


class SignalInterrupt(KeyboardInterrupt):
    """SIGINT or SIGTERM during a command: unwinds like Ctrl-C, and remembers which signal it was."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def exit_code_for(exc: BaseException) -> int:
    """The shell's convention for a run ended by a signal: 128 + its number (130 SIGINT, 143 SIGTERM)."""
    return signal_exit_code(int(getattr(exc, "signum", signal.SIGINT)))


@contextmanager
def interrupt_on_signals() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into :class:`SignalInterrupt` for the block, so pytest stops as on Ctrl-C.

    Without it SIGTERM (what Kubernetes sends a CronJob's pod) kills the
    process before any report says the run was cut short. A signal the
    parent set to be ignored (a background job of a non-interactive shell)
    stays ignored. The handlers are restored afterwards.
    """

    def on_signal(signum: int, frame: FrameType | None) -> None:
        raise SignalInterrupt(signum)

    previous: dict[signal.Signals, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(sig) is not signal.SIG_IGN:
            previous[sig] = signal.signal(sig, on_signal)
    try:
        yield
    finally:
        for restored, handler in previous.items():
            if handler is not None:  # None: set outside Python, nothing to give back
                signal.signal(restored, handler)


class DocumentCatcher:
    """A pytest plugin object that keeps the scored document after the session, and any interrupt."""

    def __init__(self) -> None:
        self.document: ResultsDocument | None = None
        #: the exit code a signal asks for (130, 143), None when the session was not interrupted
        self.interrupt_exit: int | None = None

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        """Remember a Ctrl-C or SIGTERM (not ``pytest.exit``, which is a configuration error)."""
        if isinstance(excinfo.value, KeyboardInterrupt):
            self.interrupt_exit = exit_code_for(excinfo.value)

    @pytest.hookimpl(wrapper=True)
    def pytest_cmdline_parse(self, pluginmanager: pytest.PytestPluginManager, args: list[str]) -> Generator[None]:
        """An argument neither fleetcheck nor pytest knows: fleetcheck's one-line usage error, not pytest's usage."""
        try:
            return (yield)
        except pytest.UsageError as exc:
            lines = [line for line in str(exc).splitlines() if ": error: " in line] or [str(exc)]
            raise PassthroughUsageError(lines[0].split(": error: ", 1)[-1].strip()) from None

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """Read the document the fleetcheck plugin stashed at session finish."""
        from fleetcheck.plugin import scored_document

        self.document = scored_document(config)


class PassthroughUsageError(ConfigError):
    """pytest rejected an argument ``fleetcheck run`` handed on to it."""

    def __init__(self, message: str) -> None:
        super().__init__(
            "run", "arguments", message, "see 'fleetcheck run --help' (arguments fleetcheck does not know go to pytest)"
        )


def _prefixed(arg: str) -> str:
    """``--page-size=5`` -> ``--fleetcheck-page-size=5``: the plugin's pytest spelling; other args unchanged."""
    name, sep, value = arg.partition("=")
    return f"--fleetcheck-{name[2:]}{sep}{value}" if name in PLUGIN_OPTIONS else arg


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
    # the plugin's pytest spellings carry a prefix, so they cannot collide with another plugin's (--profile)
    if fleet:
        args += ["--fleetcheck-fleet", fleet]
    for snap in snapshots:
        args += ["--fleetcheck-snapshot", snap]
    if profile:
        args += ["--fleetcheck-profile", profile]
    for glob in clusters:
        args += ["--fleetcheck-cluster", glob]
    args += ["--fleetcheck-report-dir", str(report_dir)]
    passthrough = [_prefixed(a) for a in passthrough]
    if not any(a in ("-v", "--verbose") or a.startswith("-vv") for a in passthrough):
        # pytest one step quieter: no session header or per-file dots, fleetcheck prints a line per cluster;
        # a user's ``-q`` on top leaves just the summary, ``-v`` brings pytest's per-case lines back
        args.append("-q")
    if any(a == "-n" or a.startswith(("-n", "--numprocesses")) for a in passthrough) and not any(
        a.startswith("--dist") for a in passthrough
    ):
        passthrough += ["--dist", "loadgroup"]
    return args + passthrough


def incomplete_note(doc: ResultsDocument | None) -> str:
    """One line on an interrupted scan: how far it got, and that its reports say so."""
    if doc is None:
        return "interrupted before any case was decided; no reports written"
    planned = f" of {doc.planned}" if doc.planned is not None else ""
    return (
        f"{doc.incomplete_reason or 'interrupted'} after {doc.decided}{planned} cases; "
        'the reports are marked incomplete (results.json "complete": false)'
    )


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
    output_format: str = "text",
) -> int:
    """Run the scan and return the gate's exit code.

    ``output_format="json"``: stdout carries one JSON summary (fleet, clusters,
    gate, reports); everything pytest and the plugin print goes to stderr.
    """
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
    data_out = sys.stdout
    with contextlib.redirect_stdout(sys.stderr) if output_format == "json" else contextlib.nullcontext():
        ret = pytest.main(args, plugins=[catcher])
        if catcher.interrupt_exit is not None:  # before the config check: pytest reports both as exit 2
            print(f"fleetcheck: {incomplete_note(catcher.document)}", file=sys.stderr)
            _print_json_summary(data_out, catcher.document, None, output_format)
            return catcher.interrupt_exit
        if ret in (pytest.ExitCode.USAGE_ERROR, EXIT_CONFIG):
            return EXIT_CONFIG
        gate = evaluate_gate(
            catcher.document, fail_on=fail_on, max_errors=max_errors, baseline=baseline_doc, min_grade=min_grade
        )
        for line in gate.details:
            print(f"fleetcheck gate: {line}")
        verdict = {0: "passed", 1: "FAILED"}.get(gate.code, "UNDECIDED")
        print(f"fleetcheck gate: {verdict}: {gate.reason}", file=sys.stderr if gate.code else sys.stdout)
    _print_json_summary(data_out, catcher.document, gate, output_format)
    return gate.code


def _print_json_summary(out: TextIO, doc: ResultsDocument | None, gate: GateResult | None, output_format: str) -> None:
    """``fleetcheck run --format json``: the run's summary as one JSON object on ``out``."""
    if output_format != "json":
        return
    import orjson

    payload: dict[str, Any] = {"complete": False, "decided": 0, "planned": None, "clusters": []}
    if doc is not None:
        payload = {
            "complete": doc.complete,
            "decided": doc.decided,
            "planned": doc.planned,
            "incomplete_reason": doc.incomplete_reason,
            "started": doc.started,
            "fleet": doc.fleet.model_dump(mode="json") if doc.fleet is not None else None,
            "clusters": [
                {
                    "name": c.name,
                    "profile": c.profile_name or c.profile,
                    "grade": c.grade,
                    "score": c.score,
                    "failures": c.failures,
                    "counts": c.counts,
                }
                for c in doc.clusters
            ],
        }
    if gate is not None:
        payload["gate"] = {"exit_code": gate.code, "reason": gate.reason, "details": gate.details}
    out.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode() + "\n")
    out.flush()
