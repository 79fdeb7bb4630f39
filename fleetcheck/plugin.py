"""The pytest plugin: wiring only (options, parametrization, fixtures, budgets, verdict records, reports).

Registered through the ``pytest11`` entry point, so plain ``pytest checks/``
finds it. It is inert in a session that collects no fleetcheck check (the
project's own tests, or any other suite in the same environment).

Flow: ``pytest_generate_tests`` gives every check one case per selected
cluster (ids are cluster names); the ``cluster`` fixture prefetches the
kinds the check declared it reads, so a forbidden kind errors at setup;
``pytest_runtest_makereport`` turns each case into a :class:`ResultRecord`
through :mod:`fleetcheck.verdicts` (carried on the report so pytest-xdist
brings it back to the controller); ``pytest_sessionfinish`` builds the
document (:mod:`fleetcheck.verdicts`), scores it (:mod:`fleetcheck.scoring`)
and writes the reports (:mod:`fleetcheck.reports`). The options are
:mod:`fleetcheck.options`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Generator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import pytest

from fleetcheck.errors import EXIT_CONFIG, ConfigError, FleetcheckError
from fleetcheck.options import add_options, add_short_spellings, run_options
from fleetcheck.redact import redact

if TYPE_CHECKING:  # a session that collects no check imports none of these (see _spec_of and _run)
    from pydantic import BaseModel

    from fleetcheck.catalog import CheckSpec
    from fleetcheck.results import CheckInfo, ResultRecord, ResultsDocument
    from fleetcheck.runstate import RunState
    from fleetcheck.verdicts import RunFacts
    from fleetcheck.view import ClusterView, FleetView

__all__ = ["RECORD_ATTR", "scored_document"]

#: attribute on TestReport carrying the JSON record (survives xdist serialisation)
RECORD_ATTR = "fleetcheck_record"
_RUN_KEY = pytest.StashKey["RunState"]()
_RECORDS_KEY = pytest.StashKey["list[ResultRecord]"]()
_STARTED_KEY = pytest.StashKey[str]()
#: why the session stopped before deciding every case (set on Ctrl-C / SIGTERM)
_INTERRUPTED_KEY = pytest.StashKey[str]()
#: the check cases collected in this process (unknown on an xdist controller)
_PLANNED_KEY = pytest.StashKey[int]()
_PLANNED_BY_CLUSTER_KEY = pytest.StashKey[dict[str, int]]()
_PATHS_KEY = pytest.StashKey[dict[str, str]]()
_DOC_KEY = pytest.StashKey["ResultsDocument"]()


def _spec_of(obj: Any) -> CheckSpec | None:
    """The check declared on ``obj``; None, without importing the catalog, for anything that is not a check.

    :func:`fleetcheck.catalog.check` marks each check function with ``__fleetcheck__`` (read by
    :func:`fleetcheck.catalog.spec_of`); a plain test has none, so a pytest session of other tests
    never imports the catalog and pays nothing for the plugin.
    """
    if getattr(obj, "__fleetcheck__", None) is None:
        return None
    from fleetcheck.catalog import spec_of

    return spec_of(obj)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """Add the short option spellings no other installed plugin registered (:mod:`fleetcheck.options`)."""
    add_short_spellings(parser)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Fleetcheck's options, spelt ``--fleetcheck-NAME`` under pytest (:mod:`fleetcheck.options`)."""
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    """Get ready; the run state is made when a check first asks for it (:func:`_run`), never before."""
    config.addinivalue_line("markers", "fleetcheck(code): a fleetcheck check (set by @fleetcheck.check)")
    config.stash[_RECORDS_KEY] = []
    config.pluginmanager.register(RecordCollector(config), f"fleetcheck-records-{id(config)}")
    config.stash[_STARTED_KEY] = _now()
    if config.getoption("fleetcheck_shard", None) and not config.getoption("fleetcheck_facts", None):
        from fleetcheck.runstate import shard_needs_facts  # a usage error, found before anything is loaded

        raise pytest.UsageError(f"fleetcheck: {shard_needs_facts().one_line()}")


def pytest_unconfigure(config: pytest.Config) -> None:
    """Close connections and stop prefetching."""
    run = config.stash.get(_RUN_KEY, None)
    if run is not None:
        run.close()


def _run(config: pytest.Config) -> RunState:
    """The session's run state, made on first use: a session that collects no check never loads the fleet code."""
    run = config.stash.get(_RUN_KEY, None)
    if run is None:
        from fleetcheck.runstate import RunState

        try:
            run = RunState(run_options(config))
        except ConfigError as exc:
            _exit_on_config_error(exc)
            raise  # pragma: no cover - pytest.exit raised
        config.stash[_RUN_KEY] = run
    return run


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
    spec = _spec_of(metafunc.function)
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
    """Drop checks no selected cluster runs, and run the cases cluster by cluster, fleet comparisons last.

    An empty parameter set (no cluster's profile selects the check) would
    show as a skip. Grouping by cluster (a stable sort, in fleet order, in
    the check cases' own slots) lets a cluster be listed shortly before its
    cases and released after the last of them (``RunState.prefetch_window``);
    fleet comparisons (cases using the ``fleet`` fixture) come after every
    cluster's own cases, in the same order, so they read the facts of peers
    already released instead of holding every peer's objects.
    """
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        is_check = _spec_of(getattr(item, "function", None)) is not None
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
        cases = sorted(
            (items[i] for i in slots),
            key=lambda item: (_compares(item), order.get(_cluster_of(item) or "", 1 << 30)),
        )
        for slot, item in zip(slots, cases, strict=True):
            items[slot] = item


def _cluster_of(item: pytest.Item) -> str | None:
    """The cluster a check's case judges (None for anything else)."""
    callspec = getattr(item, "callspec", None)
    if callspec is None or _spec_of(getattr(item, "function", None)) is None:
        return None
    param = callspec.params.get("cluster")
    return param if isinstance(param, str) else None


def _compares(item: pytest.Item) -> bool:
    """A fleet comparison's case (its check takes the ``fleet`` fixture): it reads peers' facts."""
    return "fleet" in getattr(item, "fixturenames", ())


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
            spec = _spec_of(getattr(item, "function", None))
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
    spec = _spec_of(request.function)
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
        run.prefetch_window(plan, name)  # this cluster and the next ``--fetch-workers`` in case order
    run.prefetch(name, plan.get(name, spec.reads)).result()
    if "fleet" in request.fixturenames and run.sharing is None:  # peers with no case here: their facts only
        for future in run.prefetch_peer_facts([peer for peer in run.fleet.names() if peer not in plan]):
            future.result()
    from fleetcheck.state.base import KindReleased  # deferred: a session without checks never loads the state

    for kind in spec.reads:  # a kind that could not be read errors the case, before or after the release
        # read fine and let go: a fleet comparison ordered last reads the facts instead
        with contextlib.suppress(KindReleased):
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
    spec = _spec_of(request.function)
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
    spec = _spec_of(getattr(item, "function", None))
    if name is None or spec is None:
        return (yield)
    from fleetcheck.budget import check_budget, ledger_of

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


def _record_for(
    item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport, spec: CheckSpec, cluster_name: str
) -> ResultRecord:
    """The case's verdict (:func:`fleetcheck.verdicts.record_from_outcome`), under its profile's waivers."""
    from fleetcheck.verdicts import CaseOutcome, apply_waivers, record_from_outcome, severity_for

    run = _run(item.config)
    profile = run.profile_for(run.fleet.get(cluster_name))
    case = CaseOutcome(
        passed=report.passed,
        skipped=report.skipped,
        skip_reason=_skip_reason(report) if report.skipped else "",
        raised=call.excinfo.value if call.excinfo is not None else None,
        phase=report.when or "call",
        duration_s=report.duration,
    )
    record = record_from_outcome(
        spec, cluster_name, severity_for(spec, profile), case, lambda: run.state(cluster_name).version.git_version
    )
    return apply_waivers(record, profile, datetime.now(UTC).date())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """Attach the verdict record to the report that decides the case."""
    report: pytest.TestReport = yield
    spec = _spec_of(getattr(item, "function", None))
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
            from fleetcheck.results import ResultRecord

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


def _specs(config: pytest.Config) -> list[CheckSpec]:
    """The checks collected in this process (none on an xdist controller: its workers collect)."""
    session_items: list[pytest.Item] = getattr(config, "_fleetcheck_items", [])
    seen: dict[str, CheckSpec] = {}
    for item in session_items:
        spec = _spec_of(getattr(item, "function", None))
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
    specs = _specs(config)
    if codes - {spec.code for spec in specs}:
        from fleetcheck.catalog import load_catalog

        try:
            specs += load_catalog(_check_locations(config)).checks.values()
        except Exception as exc:  # the catalog is documentation: a module that will not import costs its docs only
            logging.getLogger(__name__).warning("check catalog unavailable for %s: %s", sorted(codes), exc)
    from fleetcheck.verdicts import catalog_entries

    return catalog_entries(specs, codes)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Keep the collected checks for the catalog part of ``results.json``."""
    session.config._fleetcheck_items = list(session.items)  # type: ignore[attr-defined]
    _start_sharing(session)
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


_LEFT_KEY = pytest.StashKey[Counter[str]]()
#: clusters whose cases here are all fleet comparisons: released after the last of those
_COMPARES_ONLY_KEY = pytest.StashKey[set[str]]()
_SHARES_KEY = pytest.StashKey[bool]()


def _shares_facts(config: pytest.Config) -> bool:
    """Whether this xdist controller's workers exchange facts: a fleetcheck scan under ``-n`` with load balancing."""
    if config.stash.get(_SHARES_KEY, None) is None:
        dist = config.getoption("dist", "no", skip=True)
        scan = bool(config.getoption("fleetcheck_fleet") or config.getoption("fleetcheck_snapshot")) or (
            config.inipath is not None and config.inipath.name == "pytest-run.ini"
        )
        config.stash[_SHARES_KEY] = scan and dist in ("load", "loadscope", "loadgroup", "loadfile", "worksteal")
    return config.stash[_SHARES_KEY]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Each cluster's cases to the worker that owns it (:mod:`fleetcheck.xdist_scheduling`)."""
    if not _shares_facts(config):
        return None
    from xdist.workermanage import parse_tx_spec_config  # type: ignore[import-untyped]  # xdist ships no py.typed

    from fleetcheck.xdist_scheduling import ClusterScheduling, controller_sharing

    run = _run(config)
    try:
        owner_of, sharing = controller_sharing(run, _facts_folder(config), len(parse_tx_spec_config(config)))
    except ConfigError as exc:
        _exit_on_config_error(exc)
        return None
    run.share(sharing)  # the controller owns nothing: the document's facts and drift are read from the workers'
    return ClusterScheduling(config, log, owner_of)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Tell each worker where the run's facts are exchanged."""
    if _shares_facts(node.config):
        node.workerinput["fleetcheck_facts_dir"] = str(_facts_folder(node.config))


def _facts_folder(config: pytest.Config) -> Path:
    """``--facts DIR``, else a folder in the session's base temp, which every worker of this run can reach."""
    given = _run(config).options.facts_dir
    if given is not None:
        return given
    factory = config._tmp_path_factory  # type: ignore[attr-defined]  # pytest's own session factory, no public getter
    return Path(factory.getbasetemp()) / "fleetcheck-facts"


def _start_sharing(session: pytest.Session) -> None:
    """An xdist worker or a ``--shard --facts`` run: own a slice, list it and publish its facts in the pool."""
    config = session.config
    config.stash[_LEFT_KEY], config.stash[_COMPARES_ONLY_KEY] = _release_after(session.items)
    if not config.stash[_LEFT_KEY]:
        return  # no check collected: nothing to own, list or publish (and no run state to make)
    run = _run(config)
    workerinput = getattr(config, "workerinput", None)
    try:
        if workerinput is not None and workerinput.get("fleetcheck_facts_dir"):
            from fleetcheck.xdist_scheduling import worker_sharing

            sharing = worker_sharing(
                run, Path(workerinput["fleetcheck_facts_dir"]), workerinput["workerid"], workerinput["workercount"]
            )
            if sharing is not None:
                run.share(sharing)
        else:
            run.share_shard()
        if run.sharing is not None and session.items:
            run.publish_owned(_prefetch_plan(session))
    except ConfigError as exc:
        _exit_on_config_error(exc)


def _release_after(items: Sequence[pytest.Item]) -> tuple[Counter[str], set[str]]:
    """Per cluster, how many cases run before its objects are released; and the clusters with comparisons only.

    A cluster's own cases are counted (its fleet comparisons, run later, read
    its facts); one whose cases here are all fleet comparisons is released
    after the last of them.
    """
    own = Counter(name for item in items if (name := _cluster_of(item)) is not None and not _compares(item))
    every = Counter(name for item in items if (name := _cluster_of(item)) is not None)
    return Counter({name: own.get(name) or total for name, total in every.items()}), set(every) - set(own)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, None, None]:
    """After a cluster's last case in this process, let go of its objects (its facts are kept)."""
    result = yield
    name = _cluster_of(item)
    left = item.config.stash.get(_LEFT_KEY, None)
    counted = not _compares(item) or name in item.config.stash.get(_COMPARES_ONLY_KEY, set())
    if name is not None and left is not None and left[name] > 0 and counted:
        left[name] -= 1
        if left[name] == 0:
            _run(item.config).release(name)
    return result


def _stopped(session: pytest.Session) -> str | None:
    """Why the session stopped early (a signal, ``-x`` / ``--maxfail``), or None."""
    reason = session.config.stash.get(_INTERRUPTED_KEY, None)
    if reason is None and (session.shouldfail or session.shouldstop):
        reason = f"stopped early: {session.shouldfail or session.shouldstop}"
    return reason


def _facts_and_drift(run: RunState, judged: Sequence[str], checks: Mapping[str, CheckInfo]) -> RunFacts:
    """Each judged cluster's ``facts`` and the fleet's ``drift``: the one place the document's facts come from.

    Read here, on the controller, from the run's views (the dimension
    kinds of clusters not listed yet are listed in the prefetch pool
    first). A cluster whose facts cannot be read gets nulls, never a value;
    a drift report that cannot be made is left out, with a warning.
    """
    from fleetcheck.facts.dimensions import dimension_names, dimension_reads, facts_document
    from fleetcheck.facts.drift import drift
    from fleetcheck.verdicts import RunFacts

    profiles = {p.name: p for p in (run.profile_for(entry) for entry in run.fleet.clusters)}
    if run.sharing is None:  # exchanging facts: peers' (and, on an xdist controller, all) facts are read, not listed
        for future in run.prefetch_peers(run.fleet.names(), dimension_reads(profiles.values())):
            future.exception()  # wait; a kind that failed is cached as its error, which its facts then show
    clusters: dict[str, Any] = {}
    for name in judged:
        try:
            clusters[name] = facts_document(run.view(name))
        except Exception:  # a cluster that cannot be opened, or a bug in one fact: unknown, never made up
            logging.getLogger(__name__).warning("facts of cluster %s unreadable", name, exc_info=True)
            clusters[name] = dict.fromkeys(dimension_names())
    try:
        report: dict[str, Any] | None = drift(run.fleet_view(), checks).to_json()
    except Exception:  # the drift view is an addition: a failure costs it alone, never the verdicts
        logging.getLogger(__name__).warning("fleet drift not computed", exc_info=True)
        report = None
    return RunFacts(clusters, report)


def _session_document(session: pytest.Session) -> ResultsDocument | None:
    """The run's unscored ``results.json`` document, or None when no check ran."""
    config = session.config
    records = config.stash[_RECORDS_KEY]
    if not records:
        return None
    run = _run(config)
    entries = run.fleet.clusters
    profiles = {entry.name: run.profile_for(entry) for entry in entries}
    judged = {r.cluster for r in records}
    checks = _catalog(config, {r.code for r in records})
    from fleetcheck.reports.writing import new_run_id
    from fleetcheck.verdicts import build_document, completeness, waiver_report

    return build_document(
        records=records,
        entries=entries,
        profile_names={name: profile.name for name, profile in profiles.items()},
        run_profile=run.default_profile_name,
        checks=checks,
        started=config.stash[_STARTED_KEY],
        finished=_now(),
        done=completeness(len(records), config.stash.get(_PLANNED_KEY, None), _stopped(session)),
        run_id=new_run_id(),
        shard=run.options.shard,
        waivers=waiver_report(profiles.values(), records, datetime.now(UTC).date()),
        facts=_facts_and_drift(run, [e.name for e in entries if e.name in judged], checks),
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Build, score and write the reports (on the controller only, never on xdist workers)."""
    config = session.config
    if hasattr(config, "workerinput"):
        run = config.stash.get(_RUN_KEY, None)  # None: this worker ran no check, so it published nothing
        if run is not None:
            run.wait_published()  # peers and the controller read them after this worker is gone
        return
    try:
        doc = _session_document(session)
    except ConfigError:
        return
    if doc is None:
        return
    from fleetcheck.scoring import score_document

    scored = score_document(doc)
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
    for waiver in doc.waivers:
        if waiver.status != "active":
            terminalreporter.write_line(
                f"waiver {waiver.status}: {waiver.code} on {waiver.clusters} ({waiver.reason}, "
                f"expires {waiver.expires}) in profile {waiver.profile}"
            )
    for name, path in sorted(config.stash[_PATHS_KEY].items()):
        terminalreporter.write_line(f"{name}: {path}")
