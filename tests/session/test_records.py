"""The records side of a session, without running one: skip reasons, interruptions, the session's objects.

``tests/cli/test_interrupt.py`` interrupts real scans; here the pieces
they rely on are held to their rules, failure side included.
"""

from __future__ import annotations

import signal

import pytest

from fleetcheck.plugin import scored_document
from fleetcheck.session import FactSharing, RecordCollector, SessionFinish, part_of
from fleetcheck.session.finish import stopped
from fleetcheck.session.records import interrupted_by, skip_reason


def _report(longrepr: tuple[str, int, str] | str | None) -> pytest.TestReport:
    """A real skip report, as pytest stores it (a skip's longrepr is a (path, line, reason) tuple)."""
    return pytest.TestReport(
        "checks/test_x.py::test_x[a]", ("checks/test_x.py", 3, "test_x"), {}, "skipped", longrepr, "setup"
    )


@pytest.mark.parametrize(
    ("longrepr", "reason"),
    [
        (("checks/test_x.py", 3, "Skipped: no CNI found"), "no CNI found"),
        (("checks/test_x.py", 3, "waived until 2030-01-01"), "waived until 2030-01-01"),
        ("a plain text", "a plain text"),
        (None, ""),
    ],
)
def test_the_skip_reason_is_what_pytest_recorded_without_its_prefix(
    longrepr: tuple[str, int, str] | str | None, reason: str
) -> None:
    assert skip_reason(_report(longrepr)) == reason


def test_an_interruption_names_the_signal() -> None:
    assert interrupted_by(KeyboardInterrupt()) == "interrupted by SIGINT (Ctrl-C)"
    term = KeyboardInterrupt()
    term.signum = int(signal.SIGTERM)  # type: ignore[attr-defined]  # how ``fleetcheck run`` tags a SIGTERM
    assert interrupted_by(term) == "interrupted by SIGTERM"


def test_a_number_that_names_no_signal_is_still_an_interruption() -> None:
    odd = KeyboardInterrupt()
    odd.signum = 4242  # type: ignore[attr-defined]
    assert interrupted_by(odd) == "interrupted by signal 4242"


@pytest.mark.parametrize("exc", [pytest.exit.Exception("bad profile", returncode=2), RuntimeError("boom")])
def test_an_exit_or_an_error_is_not_an_interruption(exc: BaseException) -> None:
    assert interrupted_by(exc) is None


def test_why_a_session_stopped_early() -> None:
    assert stopped(None, False, False) is None
    assert stopped(None, "stopping after 1 failures", False) == "stopped early: stopping after 1 failures"
    assert stopped(None, False, "Interrupted: 1 error") == "stopped early: Interrupted: 1 error"
    assert stopped("interrupted by SIGTERM", "stopping after 1 failures", False) == "interrupted by SIGTERM"


def test_each_configured_session_has_its_own_objects(pytester: pytest.Pytester) -> None:
    first, second = pytester.parseconfigure(), pytester.parseconfigure()
    assert part_of(first, RecordCollector) is not part_of(second, RecordCollector)
    assert part_of(first, SessionFinish) is not part_of(second, SessionFinish)
    assert part_of(first, FactSharing) is not part_of(second, FactSharing)
    records = part_of(first, RecordCollector)
    with pytest.raises(KeyboardInterrupt) as ctrl_c:
        raise KeyboardInterrupt
    records.pytest_keyboard_interrupt(ctrl_c)
    assert records.interrupted == "interrupted by SIGINT (Ctrl-C)"
    assert part_of(second, RecordCollector).interrupted is None
    assert part_of(first, SessionFinish).records is records
    assert scored_document(first) is None, "a session that ran no check has no document"


def test_a_session_without_the_plugin_has_no_objects_and_no_document(pytester: pytest.Pytester) -> None:
    config = pytester.parseconfigure("-p", "no:fleetcheck")
    with pytest.raises(LookupError, match="no RecordCollector registered as 'fleetcheck-records'"):
        part_of(config, RecordCollector)
    assert scored_document(config) is None
