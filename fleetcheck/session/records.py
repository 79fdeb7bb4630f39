"""The verdict records of one session: made from each deciding report, collected where the session ends.

:func:`record_for` turns a case's pytest outcome into a
:class:`~fleetcheck.results.ResultRecord` (through
:mod:`fleetcheck.verdicts`); the plugin carries it on the report as JSON
under :data:`RECORD_ATTR`, so pytest-xdist brings it back to the controller.
:class:`RecordCollector`, a plugin object, keeps the records, prints a line
as each cluster's last case is decided, and remembers why a session was
interrupted, so the reports can say the run is incomplete.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import orjson
import pytest

from fleetcheck.session.cases import cluster_of, is_xdist
from fleetcheck.session.run import run_of

if TYPE_CHECKING:  # a session that collects no check imports none of these
    from fleetcheck.catalog import CheckSpec
    from fleetcheck.results import ResultRecord

__all__ = ["RECORD_ATTR", "RecordCollector", "interrupted_by", "record_for", "skip_reason"]

#: attribute on TestReport carrying the JSON record (survives xdist serialisation)
RECORD_ATTR = "fleetcheck_record"


def skip_reason(report: pytest.TestReport) -> str:
    """The reason pytest recorded for a skip, raw (:func:`record_for` redacts and cleans it)."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        reason = str(longrepr[2])
        return reason[len("Skipped: ") :] if reason.startswith("Skipped: ") else reason
    return str(longrepr or "")


def record_for(
    item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport, spec: CheckSpec, cluster_name: str
) -> ResultRecord:
    """The case's verdict (:func:`fleetcheck.verdicts.record_from_outcome`), under its profile's waivers."""
    from fleetcheck.verdicts import CaseOutcome, apply_waivers, record_from_outcome, severity_for

    run = run_of(item.config)
    profile = run.profile_for(run.fleet.get(cluster_name))
    case = CaseOutcome(
        passed=report.passed,
        skipped=report.skipped,
        skip_reason=skip_reason(report) if report.skipped else "",
        raised=call.excinfo.value if call.excinfo is not None else None,
        phase=report.when or "call",
        duration_s=report.duration,
    )
    record = record_from_outcome(
        spec, cluster_name, severity_for(spec, profile), case, lambda: run.state(cluster_name).version.git_version
    )
    return apply_waivers(record, profile, datetime.now(UTC).date())


def interrupted_by(exc: BaseException) -> str | None:
    """Why a session stopped, for the reports: Ctrl-C or the signal ``fleetcheck run`` turned into one.

    None for anything else (``pytest.exit``, a configuration error, is not an interruption).
    """
    if not isinstance(exc, KeyboardInterrupt):
        return None
    signum = getattr(exc, "signum", None)
    try:
        name = signal.Signals(signum).name if isinstance(signum, int) else "SIGINT (Ctrl-C)"
    except ValueError:  # a number that names no signal: say the number rather than lose the interruption
        name = f"signal {signum}"
    return f"interrupted by {name}"


class RecordCollector:
    """Keeps the verdict records of one session (a plugin object, so nested sessions never mix)."""

    NAME = "fleetcheck-records"

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.records: list[ResultRecord] = []
        #: why the session stopped before deciding every case (set on Ctrl-C / SIGTERM)
        self.interrupted: str | None = None
        #: the check cases collected in this process (None under xdist: the controller collects none)
        self.planned: int | None = None
        self._planned_by_cluster: dict[str, int] | None = None
        self._left: dict[str, int] | None = None
        self._mine: dict[str, list[ResultRecord]] = {}
        self._mark = time.monotonic()  # when the previous cluster finished (cases run cluster by cluster)

    def count_planned(self, session: pytest.Session) -> None:
        """After collection: the cases per cluster (serial runs only), announced in one line."""
        if is_xdist(self.config):
            return  # under xdist the controller collects nothing, and a worker collects all but runs its share
        per_cluster = Counter(name for item in session.items if (name := cluster_of(item)) is not None)
        self.planned = sum(per_cluster.values())
        self._planned_by_cluster = dict(per_cluster)
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if per_cluster and reporter is not None and self.config.get_verbosity() >= -1:
            run = run_of(self.config)
            profiles = Counter(run.profile_for(run.fleet.get(name)).name for name in per_cluster)
            spelled = ", ".join(f"{name} ({n})" for name, n in profiles.most_common())
            reporter.write_line(
                f"fleetcheck: checking {len(per_cluster)} clusters, {sum(per_cluster.values())} cases "
                f"(profile{'s' if len(profiles) > 1 else ''} {spelled})"
            )

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Collect records on the controller (or the only process); xdist brings workers' reports here."""
        payload = getattr(report, RECORD_ATTR, None)
        if payload:
            from fleetcheck.results import ResultRecord

            record = ResultRecord.model_validate(orjson.loads(payload))
            self.records.append(record)
            self._progress(record)

    def _progress(self, record: ResultRecord) -> None:
        """A line when a cluster's last case is decided (serial runs, which know each cluster's cases)."""
        if self._left is None:
            self._left = dict(self._planned_by_cluster or {})
        if record.cluster not in self._left:
            return
        self._mine.setdefault(record.cluster, []).append(record)
        self._left[record.cluster] -= 1
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if self._left[record.cluster] == 0 and reporter is not None and self.config.get_verbosity() >= -1:
            from fleetcheck.reports.terminal import progress_line

            records = self._mine.pop(record.cluster)
            started, self._mark = self._mark, time.monotonic()
            reporter.write_line(progress_line(record.cluster, records, self._mark - started))

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        """Ctrl-C, or a signal ``fleetcheck run`` turned into one: the reports will say the run is incomplete."""
        reason = interrupted_by(excinfo.value)
        if reason is not None:
            self.interrupted = reason
