"""The pytest plugin: wiring only (options, parametrization, ordering, fixtures, budgets, verdicts on reports).

Registered through the ``pytest11`` entry point, so plain ``pytest checks/``
finds it. It is inert in a session that collects no fleetcheck check (the
project's own tests, or any other suite in the same environment).

Flow: ``pytest_generate_tests`` gives every check one case per selected
cluster (ids are cluster names); ``pytest_collection_modifyitems`` runs them
cluster by cluster, fleet comparisons last; the ``cluster`` fixture
prefetches the kinds the check declared it reads, so a forbidden kind
errors at setup; ``pytest_runtest_makereport`` turns each deciding report
into a :class:`~fleetcheck.results.ResultRecord` (carried on the report
under :data:`RECORD_ATTR`, so pytest-xdist brings it back to the controller).

Where the rest went: what a session accumulates lives on plugin objects of
:mod:`fleetcheck.session`, registered from ``pytest_configure``:

- :mod:`fleetcheck.session.sharing`: xdist scheduling, ``--shard``, the fact
  exchange and releasing a cluster after its last case (``FactSharing``);
- :mod:`fleetcheck.session.records`: the records, per-cluster progress,
  interrupts (``RecordCollector``, ``record_for``);
- :mod:`fleetcheck.session.finish`: the results document, scoring, reports,
  push and terminal summary (``SessionFinish``);
- :mod:`fleetcheck.session.cases` and :mod:`fleetcheck.session.run`: what an
  item is to fleetcheck, and the run state made on first use.

The options are :mod:`fleetcheck.options`; the pure verdict logic (outcome
mapping, severity, waivers, the document) is :mod:`fleetcheck.verdicts`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import orjson
import pytest

from fleetcheck.errors import ConfigError, FleetcheckError
from fleetcheck.options import add_options, add_short_spellings
from fleetcheck.redact import redact
from fleetcheck.session import FactSharing, RecordCollector, SessionFinish, part_of, register
from fleetcheck.session.cases import cluster_of, compares, is_xdist, spec_of
from fleetcheck.session.records import RECORD_ATTR, record_for
from fleetcheck.session.run import existing_run, exit_on_config_error, run_of

if TYPE_CHECKING:  # a session that collects no check imports none of these (see fleetcheck.session.cases.spec_of)
    from pydantic import BaseModel

    from fleetcheck.results import ResultsDocument
    from fleetcheck.view import ClusterView, FleetView

__all__ = ["RECORD_ATTR", "scored_document"]


def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """Add the short option spellings no other installed plugin registered (:mod:`fleetcheck.options`)."""
    add_short_spellings(parser)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Fleetcheck's options, spelt ``--fleetcheck-NAME`` under pytest (:mod:`fleetcheck.options`)."""
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    """Register the session's objects (:mod:`fleetcheck.session`); the run state is made when a check asks."""
    config.addinivalue_line("markers", "fleetcheck(code): a fleetcheck check (set by @fleetcheck.check)")
    register(config)
    if config.getoption("fleetcheck_shard", None) and not config.getoption("fleetcheck_facts", None):
        from fleetcheck.runstate import shard_needs_facts  # a usage error, found before anything is loaded

        raise pytest.UsageError(f"fleetcheck: {shard_needs_facts().one_line()}")


def pytest_unconfigure(config: pytest.Config) -> None:
    """Close connections and stop prefetching."""
    run = existing_run(config)
    if run is not None:
        run.close()


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
    run = run_of(metafunc.config)
    try:
        clusters = run.selected()
        names = [c.name for c in clusters if spec is None or run.profile_for(c).selects(spec.code)]
    except ConfigError as exc:
        exit_on_config_error(exc)
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
    slots = [i for i, item in enumerate(items) if cluster_of(item) is not None]
    if slots:
        order = {name: i for i, name in enumerate(run_of(config).fleet.names())}
        cases = sorted(
            (items[i] for i in slots),
            key=lambda item: (compares(item), order.get(cluster_of(item) or "", 1 << 30)),
        )
        for slot, item in zip(slots, cases, strict=True):
            items[slot] = item


@pytest.hookimpl(trylast=True)  # the items are final: every reordering and deselection is done
def pytest_collection_finish(session: pytest.Session) -> None:
    """Hand the collected cases on, in this order: the checks to the finish, sharing starts, the records count."""
    part_of(session.config, SessionFinish).collected(session)
    part_of(session.config, FactSharing).start(session)  # may end the session: a bad --shard or facts folder
    part_of(session.config, RecordCollector).count_planned(session)


@pytest.fixture
def cluster(request: pytest.FixtureRequest) -> ClusterView:
    """The cluster this case judges; the kinds the check reads are listed before it runs."""
    name = str(request.param)
    run = run_of(request.config)
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
    plan = part_of(request.config, FactSharing).plan(request.session)
    if not is_xdist(request.config):
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
        return run_of(request.config).fleet_view()
    except ConfigError as exc:
        raise FleetcheckError(exc.one_line()) from None


@pytest.fixture
def settings(request: pytest.FixtureRequest, cluster: ClusterView) -> BaseModel | None:
    """The check's thresholds under the cluster's profile (validated)."""
    spec = spec_of(request.function)
    if spec is None:
        return None
    try:
        return run_of(request.config).settings_for(spec, cluster.profile)
    except ConfigError as exc:
        raise FleetcheckError(exc.one_line()) from None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """Run a check's body under its time budget, charged to its cluster (:mod:`fleetcheck.budget`)."""
    name = cluster_of(item)
    spec = spec_of(getattr(item, "function", None))
    if name is None or spec is None:
        return (yield)
    from fleetcheck.budget import check_budget, ledger_of

    run = run_of(item.config)
    api_seconds = float(getattr(run.state(name), "request_seconds", 0.0) or 0.0)
    with check_budget(
        ledger_of(item.config), name, spec.code, run.options.check_timeout, run.options.cluster_timeout, api_seconds
    ):
        return (yield)


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

        record = record_for(item, call, report, spec, str(callspec.params["cluster"]))
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


def scored_document(config: pytest.Config) -> ResultsDocument | None:
    """The scored document of a finished session (None when no check ran)."""
    try:
        return part_of(config, SessionFinish).doc
    except LookupError:  # the plugin was not configured in this session (``-p no:fleetcheck``)
        return None
