"""The pytest plugin: options, parametrization over the fleet, verdict records, reports.

Registered through the ``pytest11`` entry point, so plain ``pytest checks/``
finds it. It is inert in a session that collects no fleetcheck check (the
project's own tests, or any other suite in the same environment).

Flow: ``pytest_generate_tests`` gives every check one case per selected
cluster (ids are cluster names); the ``cluster`` fixture prefetches the
kinds the check declared it reads, so a forbidden kind errors at setup;
``pytest_runtest_makereport`` turns each case into a :class:`ResultRecord`
(carried on the report so pytest-xdist brings it back to the controller);
``pytest_sessionfinish`` scores and writes the reports.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import time
import warnings
from collections import Counter
from collections.abc import Generator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import BaseModel

from fleetcheck.budget import DEFAULT_CHECK_TIMEOUT, check_budget, ledger_of
from fleetcheck.catalog import CheckSpec, spec_of
from fleetcheck.errors import EXIT_CONFIG, ConfigError, FleetcheckError
from fleetcheck.outcomes import CheckFailed, bounded_message
from fleetcheck.redact import redact
from fleetcheck.registry.profile import Profile
from fleetcheck.results import CheckInfo, ClusterSummary, ResultRecord, ResultsDocument
from fleetcheck.runstate import RunOptions, RunState, parse_shard
from fleetcheck.state.base import ClusterUnreachable, KindUnavailable
from fleetcheck.view import ClusterView, FleetView

__all__ = ["RECORD_ATTR", "build_document", "scored_document"]

#: attribute on TestReport carrying the JSON record (survives xdist serialisation)
RECORD_ATTR = "fleetcheck_record"
_RUN_KEY = pytest.StashKey[RunState]()
_RECORDS_KEY = pytest.StashKey[list[ResultRecord]]()
_STARTED_KEY = pytest.StashKey[str]()
#: why the session stopped before deciding every case (set on Ctrl-C / SIGTERM)
_INTERRUPTED_KEY = pytest.StashKey[str]()
#: the check cases collected in this process (unknown on an xdist controller)
_PLANNED_KEY = pytest.StashKey[int]()
_PLANNED_BY_CLUSTER_KEY = pytest.StashKey[dict[str, int]]()


def _report_formats(value: str) -> tuple[str, ...]:
    """``--report-formats`` parsed (imported only when the option is given); a bad name is a usage error."""
    import argparse

    from fleetcheck.reports import parse_report_formats

    try:
        return parse_report_formats(value)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(exc.one_line()) from None


#: the prefix of every pytest spelling of fleetcheck's options (``--profile`` is also pytest-profiling's)
OPTION_PREFIX = "--fleetcheck-"
_LEGACY: list[tuple[str, dict[str, Any]]] = []


class _PrefixedGroup:
    """Registers ``--X`` as ``--fleetcheck-X`` (same ``dest``), and remembers ``--X`` as a legacy spelling.

    ``fleetcheck run`` keeps the short names (it translates them); under
    plain pytest the short spelling is added later, only where no other
    plugin took it (:func:`pytest_load_initial_conftests`).
    """

    def __init__(self, group: pytest.OptionGroup) -> None:
        self._group = group

    def addoption(self, name: str, **attrs: Any) -> None:
        """Add the prefixed option; keep the short one for later."""
        short = name.removeprefix("--")
        # its own dest too: pytest-profiling's ``--profile`` stores into ``profile``
        attrs.setdefault("dest", "fleetcheck_" + short.replace("-", "_"))
        self._group.addoption(OPTION_PREFIX + short, **attrs)
        _LEGACY.append((name, attrs))


def _taken_names(parser: pytest.Parser) -> set[str] | None:
    """Every option string registered so far, or None when pytest's parser cannot be read."""
    try:
        groups = [parser._anonymous, *parser._groups]  # no public listing of another plugin's options
        return {opt_name for group in groups for option in group.options for opt_name in option.names()}
    except AttributeError:
        return None


def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """Add the short spellings (``--profile``, ``--snapshot`` ...) that no other installed plugin registered.

    Entry-point and ``-p`` plugins have registered their options by now, so a
    short name another plugin owns is left to it (pytest-profiling keeps
    ``--profile``; use ``--fleetcheck-profile``) instead of crashing pytest.
    """
    taken = _taken_names(parser)
    if taken is None:
        return
    group = parser.getgroup("fleetcheck")
    for name, attrs in _LEGACY:
        if name not in taken:
            help_text = f"short for {OPTION_PREFIX}{name.removeprefix('--')}"
            group.addoption(name, **{**attrs, "help": help_text})
            taken.add(name)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Fleetcheck's options, spelt ``--fleetcheck-NAME`` under pytest (``fleetcheck run`` takes ``--NAME``)."""
    _LEGACY.clear()
    group = _PrefixedGroup(parser.getgroup("fleetcheck", "fleet conformance checks"))
    group.addoption("--fleet", metavar="FILE", help="fleet file (default: every context of $KUBECONFIG)")
    group.addoption(
        "--snapshot", action="append", default=[], metavar="DIR", help="scan snapshot folders as the fleet (repeatable)"
    )
    group.addoption("--profile", metavar="NAME|FILE", help="profile for every cluster (default: the fleet's)")
    group.addoption(
        "--cluster",
        action="append",
        default=[],
        metavar="GLOB",
        help="only give verdicts for matching clusters (repeatable); fleet checks still compare all",
    )
    group.addoption("--report-dir", default="reports", metavar="DIR", help="where reports go (default: reports)")
    group.addoption("--no-reports", action="store_true", help="write no report files")
    group.addoption(
        "--report-formats",
        type=_report_formats,
        default=None,
        metavar="LIST",
        help="comma-separated: json,junit,html,metrics,sarif,policyreport,markdown (default: all; json always)",
    )
    group.addoption(
        "--cluster-timeout",
        type=float,
        default=120.0,
        metavar="S",
        help="time budget for one cluster's API reads and check bodies; past it the cluster's remaining checks error",
    )
    group.addoption(
        "--check-timeout",
        type=float,
        default=DEFAULT_CHECK_TIMEOUT,
        metavar="S",
        help=f"time budget for one check body (default {DEFAULT_CHECK_TIMEOUT:g}; 0: none); past it the check errors",
    )
    group.addoption("--pushgateway", metavar="URL", help="push metrics.prom to this Prometheus Pushgateway")
    group.addoption("--page-size", type=int, default=500, metavar="N", help="objects per list page (default 500)")
    group.addoption("--shard", metavar="K/N", help="give verdicts for the K-th of N slices of the fleet")
    group.addoption("--read-timeout", type=float, default=30.0, metavar="S", help="per-request read timeout")
    group.addoption("--connect-timeout", type=float, default=5.0, metavar="S", help="per-request connect timeout")
    group.addoption(
        "--exec-timeout",
        type=float,
        default=30.0,
        metavar="S",
        help="seconds a kubeconfig exec credential plugin may take (default 30); past it that cluster's checks error",
    )
    group.addoption(
        "--fetch-workers",
        type=int,
        default=16,
        metavar="N",
        help="clusters listed at once (default 16); a serial run lists every selected cluster up front",
    )
    group.addoption(
        "--reference-cluster",
        metavar="NAME",
        help="compare every fleet check with this cluster (unless the profile declares the standard)",
    )
    group.addoption(
        "--full-objects",
        action="store_true",
        help="keep listed objects whole (default: slim projections, see docs/performance.md)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Create the run state; nothing is loaded until a check asks for a cluster."""
    config.addinivalue_line("markers", "fleetcheck(code): a fleetcheck check (set by @fleetcheck.check)")
    options = RunOptions(
        fleet_file=config.getoption("fleetcheck_fleet"),
        snapshots=tuple(config.getoption("fleetcheck_snapshot") or ()),
        profile=config.getoption("fleetcheck_profile"),
        cluster_globs=tuple(config.getoption("fleetcheck_cluster") or ()),
        report_dir=Path(config.getoption("fleetcheck_report_dir")),
        connect_timeout=config.getoption("fleetcheck_connect_timeout"),
        read_timeout=config.getoption("fleetcheck_read_timeout"),
        cluster_timeout=config.getoption("fleetcheck_cluster_timeout"),
        check_timeout=config.getoption("fleetcheck_check_timeout") or None,
        exec_timeout=config.getoption("fleetcheck_exec_timeout"),
        page_size=config.getoption("fleetcheck_page_size"),
        shard=parse_shard(config.getoption("fleetcheck_shard")) if config.getoption("fleetcheck_shard") else None,
        prefetch_workers=max(1, config.getoption("fleetcheck_fetch_workers")),
        slim_objects=not config.getoption("fleetcheck_full_objects"),
        reference_cluster=config.getoption("fleetcheck_reference_cluster"),
    )
    config.stash[_RUN_KEY] = RunState(options)
    config.stash[_RECORDS_KEY] = []
    config.pluginmanager.register(RecordCollector(config), f"fleetcheck-records-{id(config)}")
    config.stash[_STARTED_KEY] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pytest_unconfigure(config: pytest.Config) -> None:
    """Close connections and stop prefetching."""
    run = config.stash.get(_RUN_KEY, None)
    if run is not None:
        run.close()


def _run(config: pytest.Config) -> RunState:
    return config.stash[_RUN_KEY]


def _exit_on_config_error(exc: ConfigError) -> None:
    pytest.exit(f"fleetcheck: {exc.one_line()}", returncode=EXIT_CONFIG)


def _parametrizes_cluster_itself(metafunc: pytest.Metafunc) -> bool:
    """A test that parametrizes its own ``cluster`` argument is not a check (and must not load the fleet)."""
    for marker in metafunc.definition.iter_markers("parametrize"):
        argnames = marker.args[0] if marker.args else marker.kwargs.get("argnames", ())
        names = [n.strip() for n in argnames.split(",")] if isinstance(argnames, str) else list(argnames)
        if "cluster" in names:
            return True
    return False


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One case per selected cluster whose profile selects the check."""
    if "cluster" not in metafunc.fixturenames or _parametrizes_cluster_itself(metafunc):
        return
    spec = spec_of(metafunc.function)
    run = _run(metafunc.config)
    try:
        clusters = run.selected()
        names = [c.name for c in clusters if spec is None or run.profile_for(c).selects(spec.code)]
    except ConfigError as exc:
        _exit_on_config_error(exc)
        return
    # the group mark rides on each parameter, so it exists from collection on, whatever the hook order
    # (xdist ``--dist loadgroup`` keeps a cluster's cases, and so its cache, on one worker)
    params = [pytest.param(name, marks=pytest.mark.xdist_group(name), id=name) for name in names]
    metafunc.parametrize("cluster", params, indirect=True)


@pytest.hookimpl(trylast=True)  # after any reordering plugin (pytest-randomly): its order is kept per cluster
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Drop checks no selected cluster runs, and run the cases cluster by cluster.

    An empty parameter set (no cluster's profile selects the check) would
    show as a skip. Grouping by cluster (a stable sort, in fleet order, in
    the check cases' own slots) lets each cluster finish, and report its
    progress line, long before the scan does.
    """
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        is_check = spec_of(getattr(item, "function", None)) is not None
        if is_check and callspec is not None and "cluster" in callspec.params:
            param = callspec.params["cluster"]
            if not isinstance(param, str):  # the empty parameter set: no cluster's profile selects it
                dropped.append(item)
                continue
        kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
    slots = [i for i, item in enumerate(items) if _cluster_of(item) is not None]
    if slots:
        order = {name: i for i, name in enumerate(_run(config).fleet.names())}
        cases = sorted((items[i] for i in slots), key=lambda item: order.get(_cluster_of(item) or "", 1 << 30))
        for slot, item in zip(slots, cases, strict=True):
            items[slot] = item


def _cluster_of(item: pytest.Item) -> str | None:
    """The cluster a check's case judges (None for anything else)."""
    callspec = getattr(item, "callspec", None)
    if callspec is None or spec_of(getattr(item, "function", None)) is None:
        return None
    param = callspec.params.get("cluster")
    return param if isinstance(param, str) else None


def _is_xdist(config: pytest.Config) -> bool:
    """An xdist worker, or a controller that hands the cases to workers."""
    return hasattr(config, "workerinput") or bool(config.getoption("numprocesses", None, skip=False) or 0)


_PLAN_KEY = pytest.StashKey[dict[str, list[str]]]()


def _prefetch_plan(session: pytest.Session) -> dict[str, list[str]]:
    """Cluster -> the kinds its cases read, in the order the clusters' first cases run; built once per session."""
    plan = session.stash.get(_PLAN_KEY, None)
    if plan is None:
        kinds: dict[str, set[str]] = {}
        for item in session.items:
            name = _cluster_of(item)
            spec = spec_of(getattr(item, "function", None))
            if name is not None and spec is not None:
                kinds.setdefault(name, set()).update(spec.reads)
        plan = {name: sorted(wanted) for name, wanted in kinds.items()}
        session.stash[_PLAN_KEY] = plan
    return plan


@pytest.fixture
def cluster(request: pytest.FixtureRequest) -> ClusterView:
    """The cluster this case judges; the kinds the check reads are listed before it runs."""
    name = str(request.param)
    run = _run(request.config)
    spec = spec_of(request.function)
    try:
        view = run.view(name)
    except ConfigError as exc:
        raise FleetcheckError(exc.one_line()) from None
    if spec is None:
        return view
    if spec.scope == "live":
        if not view.is_live:
            pytest.skip("live check: needs a live API server; this cluster is a snapshot")
        if not view.profile.probes.enabled:
            pytest.skip(f"live probes are disabled by profile {view.profile.name}")
    plan = _prefetch_plan(request.session)
    if not _is_xdist(request.config):
        run.prefetch_all(plan)  # a serial run lists every selected cluster, ``--fetch-workers`` at a time
    run.prefetch(name, plan.get(name, spec.reads)).result()
    if "fleet" in request.fixturenames:  # a comparison reads its peers: list them in the pool, not one by one
        for future in run.prefetch_peers(run.fleet.names(), spec.reads):
            future.result()
    for kind in spec.reads:
        view.state.fetch(kind)
    return view


@pytest.fixture(scope="session")
def fleet(request: pytest.FixtureRequest) -> FleetView:
    """Every registered cluster, for fleet comparisons."""
    try:
        return _run(request.config).fleet_view()
    except ConfigError as exc:
        raise FleetcheckError(exc.one_line()) from None


@pytest.fixture
def settings(request: pytest.FixtureRequest, cluster: ClusterView) -> BaseModel | None:
    """The check's thresholds under the cluster's profile (validated)."""
    spec = spec_of(request.function)
    if spec is None:
        return None
    try:
        return _run(request.config).settings_for(spec, cluster.profile)
    except ConfigError as exc:
        raise FleetcheckError(exc.one_line()) from None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """Run a check's body under its time budget, charged to its cluster (:mod:`fleetcheck.budget`)."""
    name = _cluster_of(item)
    spec = spec_of(getattr(item, "function", None))
    if name is None or spec is None:
        return (yield)
    run = _run(item.config)
    api_seconds = float(getattr(run.state(name), "request_seconds", 0.0) or 0.0)
    with check_budget(
        ledger_of(item.config), name, spec.code, run.options.check_timeout, run.options.cluster_timeout, api_seconds
    ):
        return (yield)


def _skip_reason(report: pytest.TestReport) -> str:
    """The reason pytest recorded for a skip, raw (``_record_for`` redacts and cleans it)."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        reason = str(longrepr[2])
        return reason[len("Skipped: ") :] if reason.startswith("Skipped: ") else reason
    return str(longrepr or "")


def _apply_waivers(record: ResultRecord, profile: Profile, today: date) -> ResultRecord:
    """A matching, unexpired waiver turns ``fail`` into ``waived``; an expired one says so."""
    import fnmatch

    for waiver in profile.waivers:
        if not waiver.matches(record.code, record.cluster):
            continue
        info = {"reason": waiver.reason, "expires": waiver.expires.isoformat(), "ticket": waiver.ticket or ""}
        if waiver.expired(today):
            record.message += f" (waiver expired {waiver.expires.isoformat()}: {waiver.reason})"
            record.waiver = {**info, "status": "expired"}
            continue
        if waiver.objects is not None and record.objects:
            pattern = waiver.objects
            left = [o for o in record.objects if not fnmatch.fnmatchcase(o, pattern)]
            if left:
                record.objects = left
                record.message += f" ({len(left)} objects not covered by the waiver for {pattern})"
                continue
            unseen = int(getattr(record, "objects_total", 0) or 0) - len(record.objects)
            if unseen > 0:  # objects past the cap were never listed: the waiver cannot be shown to cover them
                record.message += f" ({unseen:,} objects past the list cap not matched against the waiver {pattern})"
                continue
        record.outcome = "waived"
        record.waiver = {**info, "status": "active"}
        return record
    return record


def _record_for(
    item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport, spec: CheckSpec, cluster_name: str
) -> ResultRecord:
    run = _run(item.config)
    entry = run.fleet.get(cluster_name)
    profile = run.profile_for(entry)
    severity = profile.severity_of(spec.code, spec.severity)
    extra: dict[str, Any] = {}
    objects: list[str] = []
    if report.skipped:
        outcome, message = "skip", _skip_reason(report)
    elif report.passed:
        outcome, message = "pass", spec.success
    else:
        exc = call.excinfo.value if call.excinfo is not None else None
        if isinstance(exc, CheckFailed):
            outcome, message, objects = "fail", exc.message, exc.objects
            if exc.objects_total > len(objects):
                extra["objects_total"] = exc.objects_total
        elif isinstance(exc, AssertionError) and report.when == "call":
            outcome, message = "fail", str(exc).split("\nassert ")[0].strip() or "assertion failed"
        elif isinstance(exc, KindUnavailable | FleetcheckError):
            outcome, message = "error", str(exc)
            if isinstance(exc, ClusterUnreachable):
                extra["unreachable"] = True
        else:
            outcome = "error"
            message = f"internal error in {spec.code}: {type(exc).__name__}: {exc}" if exc else "unknown error"
    # the one place cluster text enters a verdict: every report and the terminal show only what passed here
    message = bounded_message(message)  # redacted first, then cut
    objects = [redact(o) for o in objects]
    state = run.state(cluster_name)
    extra["server_version"] = None
    if not extra.get("unreachable"):
        with warnings.catch_warnings():  # a report hook must not turn a transport warning into an INTERNALERROR
            warnings.simplefilter("ignore")
            with contextlib.suppress(FleetcheckError):
                version = state.version.git_version
                extra["server_version"] = redact(version) if isinstance(version, str) else version
    record = ResultRecord(
        cluster=cluster_name,
        code=spec.code,
        factor=spec.factor,
        severity=severity,
        outcome=outcome,
        message=" ".join(message.split()) if outcome != "fail" else message.strip(),
        objects=objects,
        title=spec.title,
        scope=spec.scope,
        duration_s=round(report.duration, 4),
        **extra,
    )
    if record.outcome == "fail":
        record = _apply_waivers(record, profile, datetime.now(UTC).date())
    return record


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """Attach the verdict record to the report that decides the case."""
    report: pytest.TestReport = yield
    spec = spec_of(getattr(item, "function", None))
    callspec = getattr(item, "callspec", None)
    if spec is None or callspec is None or not isinstance(callspec.params.get("cluster"), str):
        return report
    deciding = report.when == "call" or (report.when == "setup" and not report.passed)
    if deciding:
        from fleetcheck.reports.escape import clean_text  # terminal-safe text (no ANSI or control characters)

        record = _record_for(item, call, report, spec, str(callspec.params["cluster"]))
        setattr(report, RECORD_ATTR, record.model_dump_json())
        if record.outcome == "skip" and isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
            # ``pytest -rA`` prints this reason: the record's text (redacted), without control characters
            path, line, _ = report.longrepr
            report.longrepr = (str(path), int(line or 0), "Skipped: " + clean_text(record.message))
        elif record.outcome == "waived":
            # accepted by a waiver: pytest counts it as skipped, with the waiver's reason
            waiver = record.waiver or {}
            report.outcome = "skipped"
            report.longrepr = (
                str(item.path),
                item.location[1] or 0,
                clean_text(f"{spec.code} waived until {waiver.get('expires')}: {waiver.get('reason')}"),
            )
        elif record.outcome in ("fail", "error"):
            # a verdict, not a crash: show the finding instead of a traceback
            report.longrepr = clean_text(f"{spec.code} [{record.cluster}] {record.outcome}: {record.message}")
    # captured output and logs pytest may print (``-rA``, failures) pass the same redaction
    report.sections = [(title, redact(content)) for title, content in report.sections]
    return report


#: outcome -> the word pytest shows for a check's case (``-v`` lines, ``-r`` summary): pytest's own words
_WORDS = {"pass": "PASSED", "fail": "FAILED", "error": "ERROR", "skip": "SKIPPED", "waived": "SKIPPED"}


@pytest.hookimpl(tryfirst=True)
def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> tuple[str, str, str] | None:
    """A check's deciding report: pytest's own category (so its counts hold), no progress dot.

    fleetcheck prints a line per cluster instead of the dots, and under
    ``--tb=no`` (how ``fleetcheck run`` calls pytest) each finding once.
    """
    payload = getattr(report, RECORD_ATTR, None)
    if not payload:
        return None
    if report.passed:
        category = "passed"
    elif report.skipped:
        category = "skipped"
    else:
        category = "failed" if report.when == "call" else "error"
    word = _WORDS.get(str(orjson.loads(payload).get("outcome", "")), "ERROR")
    return category, "", word


class RecordCollector:
    """Keeps the verdict records of one session (a plugin object, so nested sessions never mix)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self._left: dict[str, int] | None = None
        self._mine: dict[str, list[ResultRecord]] = {}
        self._mark = time.monotonic()  # when the previous cluster finished (cases run cluster by cluster)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Collect records on the controller (or the only process); xdist brings workers' reports here."""
        payload = getattr(report, RECORD_ATTR, None)
        if payload:
            record = ResultRecord.model_validate(orjson.loads(payload))
            self.config.stash[_RECORDS_KEY].append(record)
            self._progress(record)

    def _progress(self, record: ResultRecord) -> None:
        """A line when a cluster's last case is decided (serial runs, which know each cluster's cases)."""
        if self._left is None:
            planned: dict[str, int] | None = self.config.stash.get(_PLANNED_BY_CLUSTER_KEY, None)
            self._left = dict(planned or {})
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
        if isinstance(excinfo.value, KeyboardInterrupt):  # not ``pytest.exit`` (a configuration error)
            signum = getattr(excinfo.value, "signum", None)
            name = signal.Signals(signum).name if isinstance(signum, int) else "SIGINT (Ctrl-C)"
            self.config.stash[_INTERRUPTED_KEY] = f"interrupted by {name}"


def _completeness(session: pytest.Session, decided: int) -> dict[str, Any]:
    """``complete``, ``decided``, ``planned`` and ``incomplete_reason`` of the results document.

    A run is complete when nothing stopped it early (a signal, ``-x`` /
    ``--maxfail``) and, where this process collected the cases, each one
    reached a verdict.
    """
    config = session.config
    planned = config.stash.get(_PLANNED_KEY, None)
    reason = config.stash.get(_INTERRUPTED_KEY, None)
    if reason is None and (session.shouldfail or session.shouldstop):
        reason = f"stopped early: {session.shouldfail or session.shouldstop}"
    if reason is None and planned is not None and decided < planned:
        reason = f"{planned - decided} of {planned} cases gave no verdict"
    return {"complete": reason is None, "decided": decided, "planned": planned, "incomplete_reason": reason}


def build_document(config: pytest.Config) -> ResultsDocument | None:
    """The run's ``results.json`` document, or None when no check ran."""
    records = config.stash[_RECORDS_KEY]
    if not records:
        return None
    run = _run(config)
    order = {name: i for i, name in enumerate(run.fleet.names())}
    records = sorted(records, key=lambda r: (order.get(r.cluster, 1 << 30), r.code))
    checks = _catalog(config, {r.code for r in records})
    clusters = []
    for entry in run.fleet.clusters:
        mine = [r for r in records if r.cluster == entry.name]
        if not mine:
            continue
        versions = [str(v) for r in mine if (v := getattr(r, "server_version", None))]
        decided = [r for r in mine if r.outcome != "skip"]
        unreachable = bool(decided) and all(getattr(r, "unreachable", False) for r in decided)
        clusters.append(
            ClusterSummary(
                # names key the records and are validated identifiers (fleet file pattern, no ':', '=', '@'),
                # so they stay as they are; label values and the source may come from a management cluster
                name=entry.name,
                labels={key: redact(value) for key, value in entry.labels.items()},
                profile=entry.profile,
                profile_name=run.profile_for(entry).name,
                source=redact(entry.source),
                server_version=versions[0] if versions else None,
                reachable=not unreachable,
            )
        )
    from fleetcheck.reports.writing import new_run_id

    extra: dict[str, Any] = {
        "run_id": new_run_id(),
        "fleet_order": run.fleet.names(),
        "waivers": _waiver_report(run, records),
    }
    if run.options.shard is not None:
        extra["shard"] = f"{run.options.shard[0]}/{run.options.shard[1]}"
    return ResultsDocument(
        **extra,
        started=config.stash[_STARTED_KEY],
        finished=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        profile=run.default_profile_name,
        clusters=clusters,
        results=records,
        checks=dict(sorted(checks.items())),
    )


def _waiver_report(run: RunState, records: list[ResultRecord]) -> list[dict[str, Any]]:
    """Every waiver of the profiles in use: active (matched a finding), expired, or stale (matched nothing)."""
    report: list[dict[str, Any]] = []
    seen: set[str] = set()
    for entry in run.fleet.clusters:
        profile = run.profile_for(entry)
        if profile.name in seen:
            continue
        seen.add(profile.name)
        for waiver in profile.waivers:
            hits = [
                r
                for r in records
                if r.waiver and r.waiver.get("reason") == waiver.reason and waiver.matches(r.code, r.cluster)
            ]
            if any(r.waiver and r.waiver.get("status") == "expired" for r in hits) or waiver.expired(
                datetime.now(UTC).date()
            ):
                status = "expired"
            elif hits:
                status = "active"
            else:
                status = "stale"
            report.append(
                {
                    "profile": profile.name,
                    "code": waiver.code,
                    "clusters": waiver.clusters,
                    "objects": waiver.objects or "",
                    "reason": waiver.reason,
                    "expires": waiver.expires.isoformat(),
                    "ticket": waiver.ticket or "",
                    "status": status,
                    "matched": len(hits),
                }
            )
    return report


def _specs(config: pytest.Config) -> list[CheckSpec]:
    """The checks collected in this process (none on an xdist controller: its workers collect)."""
    session_items: list[pytest.Item] = getattr(config, "_fleetcheck_items", [])
    seen: dict[str, CheckSpec] = {}
    for item in session_items:
        spec = spec_of(getattr(item, "function", None))
        if spec is not None:
            seen[spec.code] = spec
    return list(seen.values())


def _check_locations(config: pytest.Config) -> list[Path]:
    """Where this run's checks live: the built-in folder and packs, and the paths pytest was given."""
    from fleetcheck.catalog import check_dirs

    found = check_dirs()
    base = Path(config.invocation_params.dir)
    for arg in config.args:
        path = base / str(arg).split("::", 1)[0]
        if path.exists() and path not in found:
            found.append(path)
    return found


def _catalog(config: pytest.Config, codes: set[str]) -> dict[str, CheckInfo]:
    """The catalog entries of the checks that gave a verdict, the same serially and under xdist.

    Serially the collected items name them; an xdist controller collects
    nothing, so the codes its workers reported are looked up in the catalog
    of the run's check folders (declarations only, nothing runs).
    """
    specs = {spec.code: spec for spec in _specs(config) if spec.code in codes}
    if codes - specs.keys():
        from fleetcheck.catalog import load_catalog

        try:
            catalog = load_catalog(_check_locations(config))
        except Exception as exc:  # the catalog is documentation: a module that will not import costs its docs only
            logging.getLogger(__name__).warning(
                "check catalog unavailable for %s: %s", sorted(codes - specs.keys()), exc
            )
        else:
            specs |= {code: spec for code, spec in catalog.checks.items() if code in codes and code not in specs}
    return {code: specs[code].info() for code in sorted(specs)}


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Keep the collected checks for the catalog part of ``results.json``."""
    session.config._fleetcheck_items = list(session.items)  # type: ignore[attr-defined]
    if not _is_xdist(session.config):  # an xdist controller collects nothing: its workers know the count
        per_cluster = Counter(name for item in session.items if (name := _cluster_of(item)) is not None)
        session.config.stash[_PLANNED_KEY] = sum(per_cluster.values())
        session.config.stash[_PLANNED_BY_CLUSTER_KEY] = dict(per_cluster)
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if per_cluster and reporter is not None and session.config.get_verbosity() >= -1:
            run = _run(session.config)
            profiles = Counter(run.profile_for(run.fleet.get(name)).name for name in per_cluster)
            spelled = ", ".join(f"{name} ({n})" for name, n in profiles.most_common())
            reporter.write_line(
                f"fleetcheck: checking {len(per_cluster)} clusters, {sum(per_cluster.values())} cases "
                f"(profile{'s' if len(profiles) > 1 else ''} {spelled})"
            )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Score and write reports (on the controller only, never on xdist workers)."""
    config = session.config
    if hasattr(config, "workerinput"):
        return
    try:
        doc = build_document(config)
    except ConfigError:
        return
    if doc is None:
        return
    from fleetcheck.scoring import score_document

    scored = score_document(doc.model_copy(update=_completeness(session, len(doc.results))))
    config.stash[_DOC_KEY] = scored
    config.stash[_PATHS_KEY] = {}
    if not config.getoption("fleetcheck_no_reports"):
        from fleetcheck.reports import ReportWriteError, write_reports

        try:
            paths = write_reports(
                scored, _run(config).options.report_dir, formats=config.getoption("fleetcheck_report_formats")
            )
        except ReportWriteError as exc:
            # one line, no traceback, exit 2 (``fleetcheck run`` maps it to a usage/config error, never a verdict)
            sys.stderr.write(exc.one_line() + "\n")
            session.exitstatus = EXIT_CONFIG
            return
        config.stash[_PATHS_KEY] = {k: str(v) for k, v in paths.items()}
    gateway = config.getoption("fleetcheck_pushgateway")
    if gateway:
        _push(config, scored, gateway)


def _push(config: pytest.Config, doc: ResultsDocument, url: str) -> None:
    """Push the metrics; a push that fails is reported, and never changes the verdicts."""
    from fleetcheck.reports import push_metrics

    try:
        push_metrics(doc, url)
        config.stash[_PATHS_KEY]["pushgateway"] = url
    except (FleetcheckError, OSError) as exc:
        config.stash[_PATHS_KEY]["pushgateway"] = f"push to {url} failed: {exc}"


_PATHS_KEY = pytest.StashKey[dict[str, str]]()
_DOC_KEY = pytest.StashKey[ResultsDocument]()


def scored_document(config: pytest.Config) -> ResultsDocument | None:
    """The scored document of a finished session (None when no check ran)."""
    return config.stash.get(_DOC_KEY, None)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """The fleet summary table, then where the reports are."""
    doc = config.stash.get(_DOC_KEY, None)
    if doc is None:
        return
    from fleetcheck.reports.terminal import console_width, render_findings, render_summary

    color = terminalreporter.isatty and os.environ.get("NO_COLOR") is None
    writer = getattr(terminalreporter, "_tw", None)
    width = console_width(bool(terminalreporter.isatty), writer.fullwidth if writer is not None else None)
    # ``-qq`` (``fleetcheck run -q``): just the summary; with a traceback style pytest lists the failures itself
    if config.get_verbosity() >= -1 and config.option.tbstyle == "no":
        findings = render_findings(doc, color=color, width=width)
        if findings:
            terminalreporter.write_sep("=", "fleetcheck findings")
            terminalreporter.write_line(findings)
    terminalreporter.write_sep("=", "fleetcheck summary")
    terminalreporter.write_line(render_summary(doc, color=color, width=width))
    for waiver in getattr(doc, "waivers", None) or []:
        if waiver["status"] != "active":
            terminalreporter.write_line(
                f"waiver {waiver['status']}: {waiver['code']} on {waiver['clusters']} ({waiver['reason']}, "
                f"expires {waiver['expires']}) in profile {waiver['profile']}"
            )
    for name, path in sorted(config.stash[_PATHS_KEY].items()):
        terminalreporter.write_line(f"{name}: {path}")
