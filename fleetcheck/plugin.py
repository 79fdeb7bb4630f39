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
import os
import warnings
from collections.abc import Generator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import BaseModel

from fleetcheck.catalog import CheckSpec, spec_of
from fleetcheck.errors import EXIT_CONFIG, ConfigError, FleetcheckError
from fleetcheck.outcomes import CheckFailed
from fleetcheck.registry.profile import Profile
from fleetcheck.results import ClusterSummary, ResultRecord, ResultsDocument
from fleetcheck.runstate import RunOptions, RunState, parse_shard
from fleetcheck.state.base import ClusterUnreachable, KindUnavailable
from fleetcheck.view import ClusterView, FleetView

__all__ = ["RECORD_ATTR", "build_document", "scored_document"]

#: attribute on TestReport carrying the JSON record (survives xdist serialisation)
RECORD_ATTR = "fleetcheck_record"
_RUN_KEY = pytest.StashKey[RunState]()
_RECORDS_KEY = pytest.StashKey[list[ResultRecord]]()
_STARTED_KEY = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Fleetcheck's options (also accepted by ``fleetcheck run``)."""
    group = parser.getgroup("fleetcheck", "fleet conformance checks")
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
        "--cluster-timeout",
        type=float,
        default=120.0,
        metavar="S",
        help="wall-clock budget for one cluster's API reads; past it the cluster's remaining checks error",
    )
    group.addoption("--pushgateway", metavar="URL", help="push metrics.prom to this Prometheus Pushgateway")
    group.addoption("--page-size", type=int, default=500, metavar="N", help="objects per list page (default 500)")
    group.addoption("--shard", metavar="K/N", help="give verdicts for the K-th of N slices of the fleet")
    group.addoption("--read-timeout", type=float, default=30.0, metavar="S", help="per-request read timeout")
    group.addoption("--connect-timeout", type=float, default=5.0, metavar="S", help="per-request connect timeout")
    group.addoption(
        "--fetch-workers",
        type=int,
        default=16,
        metavar="N",
        help="clusters listed at once (default 16); a serial run lists every selected cluster up front",
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
        fleet_file=config.getoption("fleet"),
        snapshots=tuple(config.getoption("snapshot") or ()),
        profile=config.getoption("profile"),
        cluster_globs=tuple(config.getoption("cluster") or ()),
        report_dir=Path(config.getoption("report_dir")),
        connect_timeout=config.getoption("connect_timeout"),
        read_timeout=config.getoption("read_timeout"),
        cluster_timeout=config.getoption("cluster_timeout"),
        page_size=config.getoption("page_size"),
        shard=parse_shard(config.getoption("shard")) if config.getoption("shard") else None,
        prefetch_workers=max(1, config.getoption("fetch_workers")),
        slim_objects=not config.getoption("full_objects"),
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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Drop checks no selected cluster runs (their empty parameter set would show as a skip)."""
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


def _skip_reason(report: pytest.TestReport) -> str:
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
        elif isinstance(exc, AssertionError) and report.when == "call":
            outcome, message = "fail", str(exc).split("\nassert ")[0].strip() or "assertion failed"
        elif isinstance(exc, KindUnavailable | FleetcheckError):
            outcome, message = "error", str(exc)
            if isinstance(exc, ClusterUnreachable):
                extra["unreachable"] = True
        else:
            outcome = "error"
            message = f"internal error in {spec.code}: {type(exc).__name__}: {exc}" if exc else "unknown error"
    state = run.state(cluster_name)
    extra["server_version"] = None
    if not extra.get("unreachable"):
        with warnings.catch_warnings():  # a report hook must not turn a transport warning into an INTERNALERROR
            warnings.simplefilter("ignore")
            with contextlib.suppress(FleetcheckError):
                extra["server_version"] = state.version.git_version
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
        if record.outcome == "waived":
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
    return report


class RecordCollector:
    """Keeps the verdict records of one session (a plugin object, so nested sessions never mix)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Collect records on the controller (or the only process); xdist brings workers' reports here."""
        payload = getattr(report, RECORD_ATTR, None)
        if payload:
            self.config.stash[_RECORDS_KEY].append(ResultRecord.model_validate(orjson.loads(payload)))


def build_document(config: pytest.Config) -> ResultsDocument | None:
    """The run's ``results.json`` document, or None when no check ran."""
    records = config.stash[_RECORDS_KEY]
    if not records:
        return None
    run = _run(config)
    order = {name: i for i, name in enumerate(run.fleet.names())}
    records = sorted(records, key=lambda r: (order.get(r.cluster, 1 << 30), r.code))
    checks = {s.code: s.info() for s in _specs(config)}
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
                name=entry.name,
                labels=dict(entry.labels),
                profile=entry.profile,
                source=entry.source,
                server_version=versions[0] if versions else None,
                reachable=not unreachable,
            )
        )
    extra: dict[str, Any] = {"fleet_order": run.fleet.names(), "waivers": _waiver_report(run, records)}
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
    session_items: list[pytest.Item] = getattr(config, "_fleetcheck_items", [])
    seen: dict[str, CheckSpec] = {}
    for item in session_items:
        spec = spec_of(getattr(item, "function", None))
        if spec is not None:
            seen[spec.code] = spec
    return list(seen.values())


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Keep the collected checks for the catalog part of ``results.json``."""
    session.config._fleetcheck_items = list(session.items)  # type: ignore[attr-defined]


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

    scored = score_document(doc)
    config.stash[_DOC_KEY] = scored
    config.stash[_PATHS_KEY] = {}
    if not config.getoption("no_reports"):
        from fleetcheck.reports import write_reports

        paths = write_reports(scored, _run(config).options.report_dir)
        config.stash[_PATHS_KEY] = {k: str(v) for k, v in paths.items()}
    gateway = config.getoption("pushgateway")
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
    from fleetcheck.reports.terminal import render_summary

    color = terminalreporter.isatty and os.environ.get("NO_COLOR") is None
    width = getattr(terminalreporter, "_tw", None)
    fullwidth = width.fullwidth if width is not None else 100
    terminalreporter.write_sep("=", "fleetcheck summary")
    terminalreporter.write_line(render_summary(doc, color=color, width=fullwidth))
    for waiver in getattr(doc, "waivers", None) or []:
        if waiver["status"] != "active":
            terminalreporter.write_line(
                f"waiver {waiver['status']}: {waiver['code']} on {waiver['clusters']} ({waiver['reason']}, "
                f"expires {waiver['expires']}) in profile {waiver['profile']}"
            )
    for name, path in sorted(config.stash[_PATHS_KEY].items()):
        terminalreporter.write_line(f"{name}: {path}")
