"""An interrupted scan says so: SIGINT/SIGTERM mid-check exits 130/143 and nothing reads as a complete run.

The child runs in its own process group with SIGINT at its default (a
signal sent to a background job of a non-interactive shell is ignored, and
a parent that ignores SIGINT would hand that on). An extra check folder
holds one check that writes a marker file and then waits: the marker proves
the check phase started, so the signal lands in the middle of the scan, not
before or after it, without any sleep in the test.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.builders import namespace, write_snapshot

DEADLINE_S = 120.0

HOLD_CHECK = '''\
import threading
from pathlib import Path

from fleetcheck import check


@check("FC-HOLD-001", title="Holds the scan", factor="owned", severity="info", reads=["namespaces"])
def test_hold(cluster):
    """Holds the scan until it is interrupted.

    What: writes a marker, then waits.
    Why: a test interrupts the scan while a check runs.
    Fix: none.
    References: tests/cli/test_interrupt.py
    """
    Path({marker!r}).write_text(cluster.name, encoding="utf-8")
    threading.Event().wait(25)
'''


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _hold_folder(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "hold"
    folder.mkdir()
    marker = tmp_path / "check-phase-started"
    (folder / "test_hold.py").write_text(HOLD_CHECK.format(marker=str(marker)), encoding="utf-8")
    return folder, marker


def _interrupt(args: list[str], cwd: Path, marker: Path, sig: signal.Signals) -> subprocess.CompletedProcess[str]:
    """Start ``fleetcheck ARGS``, wait for the marker (polling, with a deadline), send ``sig``, collect the exit."""
    out, err = cwd / "stdout.txt", cwd / "stderr.txt"
    with out.open("w") as stdout, err.open("w") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-m", "fleetcheck.cli", *args],
            cwd=cwd,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
            preexec_fn=_default_sigint,  # only resets one signal disposition before exec
        )
        try:
            deadline = time.monotonic() + DEADLINE_S
            while not marker.exists():
                if child.poll() is not None:
                    pytest.fail(f"exited {child.returncode} before the check phase: {err.read_text()[-2000:]}")
                if time.monotonic() > deadline:
                    pytest.fail(f"no check started within {DEADLINE_S:g} s: {out.read_text()[-2000:]}")
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.wait(timeout=0.05)
            if sig == signal.SIGINT:
                os.killpg(child.pid, sig)  # what Ctrl-C does: the whole foreground group
            else:
                child.send_signal(sig)  # what Kubernetes does: the main process
            code = child.wait(timeout=DEADLINE_S)
        finally:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
    return subprocess.CompletedProcess(args, code, out.read_text(), err.read_text())


def _assert_nothing_reads_complete(reports: Path, run: subprocess.CompletedProcess[str]) -> None:
    doc = json.loads((reports / "results.json").read_text())  # written, and marked: the cases decided are kept
    assert doc["complete"] is False
    assert "interrupted by SIG" in doc["incomplete_reason"]
    assert 0 < doc["decided"] < doc["planned"], (doc["decided"], doc["planned"])
    assert len(doc["results"]) == doc["decided"]
    assert not any(r["code"] == "FC-HOLD-001" for r in doc["results"])  # the case cut off has no verdict
    junit = (reports / "junit.xml").read_text()
    assert 'name="complete" value="false"' in junit
    assert "fleetcheck_run_complete 0" in (reports / "metrics.prom").read_text()
    assert "\nfleetcheck_run_complete 1" not in (reports / "metrics.prom").read_text()
    assert "incomplete-run" in (reports / "scorecard.html").read_text()
    assert "INCOMPLETE" in run.stdout
    assert f"after {doc['decided']} of {doc['planned']} cases" in run.stderr


def _snapshots(tmp_path: Path) -> list[str]:
    args: list[str] = []
    for name in ("prod-a", "prod-b"):
        write_snapshot(tmp_path / "snaps" / name, [namespace("kube-system"), namespace("team-a")], name=name)
        args += ["--snapshot", str(tmp_path / "snaps" / name)]
    return args


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupted_run_exits_by_signal_and_marks_reports_incomplete(
    tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    hold, marker = _hold_folder(tmp_path)
    args = ["run", *_snapshots(tmp_path), "--checks", str(hold), "--report-dir", "reports", "-p", "no:randomly"]
    run = _interrupt(args, tmp_path, marker, sig)
    assert run.returncode == code, run.stdout[-3000:] + run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    assert "gate: passed" not in run.stdout
    _assert_nothing_reads_complete(tmp_path / "reports", run)


def test_interrupted_demo_claims_no_catch(tmp_path: Path) -> None:
    hold, marker = _hold_folder(tmp_path)
    args = ["demo", "--small", "--workdir", "work", "--report-dir", "reports", "--checks", str(hold)]
    run = _interrupt(args, tmp_path, marker, signal.SIGINT)
    assert run.returncode == 130, run.stdout[-3000:] + run.stderr[-3000:]
    assert "gotchas caught" not in run.stdout + run.stderr
    _assert_nothing_reads_complete(tmp_path / "reports", run)


def test_signals_are_restored_after_the_command() -> None:
    from fleetcheck.runner import SignalInterrupt, exit_code_for, interrupt_on_signals

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SignalInterrupt) as caught, interrupt_on_signals():
        os.kill(os.getpid(), signal.SIGTERM)  # the handler runs at the next bytecode, inside the block
    assert exit_code_for(caught.value) == 143
    assert signal.getsignal(signal.SIGTERM) is before


def test_an_ignored_sigint_stays_ignored() -> None:
    from fleetcheck.runner import interrupt_on_signals

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with interrupt_on_signals():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_config_error_is_not_an_interrupt(tmp_path: Path) -> None:
    """pytest reports a collection error and Ctrl-C both as exit 2: only a signal gives 130."""
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "test_bad.py").write_text("import nosuchmodule_fleetcheck\n", encoding="utf-8")
    args = ["run", *_snapshots(tmp_path), "--checks", str(bad), "--report-dir", "reports"]
    run = subprocess.run(
        [sys.executable, "-m", "fleetcheck.cli", *args], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 2, run.stdout[-2000:] + run.stderr[-2000:]
    assert "interrupted" not in run.stderr
    assert "Traceback" not in run.stderr
    assert "nosuchmodule_fleetcheck" in run.stderr
