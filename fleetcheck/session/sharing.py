"""Scale-out and release: which process lists which cluster, and when a cluster's objects are let go.

:class:`FactSharing` is a plugin object (one per pytest config) whose
methods are the hooks of this concern:

- on an xdist controller, ``pytest_xdist_make_scheduler`` sends each
  cluster's cases to the worker that owns it
  (:mod:`fleetcheck.xdist_scheduling`) and ``pytest_configure_node`` tells
  every worker the folder the run's facts are exchanged in;
- after collection (:meth:`FactSharing.start`), an xdist worker or a
  ``--shard K/N --facts DIR`` run owns a slice of the fleet, lists it and
  publishes its facts; a worker waits for its publications at session end;
- after a cluster's last case in this process, ``pytest_runtest_teardown``
  releases its objects (its facts are kept): :class:`Releases` counts.

The decisions (:func:`exchanges_facts`, :class:`Releases`) are plain code,
tested without a pytest session.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Generator, Iterable
from pathlib import Path
from typing import Any

import pytest

from fleetcheck.errors import ConfigError
from fleetcheck.session.cases import check_cases, cluster_of, compares, kinds_by_cluster
from fleetcheck.session.run import existing_run, exit_on_config_error, run_of

__all__ = ["LOAD_BALANCING", "FactSharing", "Releases", "exchanges_facts"]

#: xdist ``--dist`` modes that balance cases over workers (the scheduler fleetcheck installs replaces them)
LOAD_BALANCING = frozenset({"load", "loadscope", "loadgroup", "loadfile", "worksteal"})


def exchanges_facts(dist: str, scan: bool) -> bool:
    """Whether an xdist controller's workers exchange facts: a fleetcheck scan, balanced over workers.

    ``scan`` says the session scans a fleet (a fleet file or a snapshot was
    given, or ``fleetcheck run`` wrote the session's ini); ``--dist each``
    or ``no`` keeps xdist's own scheduling and no facts are exchanged.
    """
    return scan and dist in LOAD_BALANCING


class Releases:
    """Per cluster, how many of its cases in this process are left before its objects are released.

    A cluster's own cases are counted (its fleet comparisons, ordered after
    every cluster's own cases, read its facts, not its objects); a cluster
    whose cases here are all fleet comparisons is released after the last of
    those.
    """

    def __init__(self, cases: Iterable[tuple[str, bool]]) -> None:
        """``cases``: (cluster, whether the case is a fleet comparison), for every check case of this process."""
        own: Counter[str] = Counter()
        every: Counter[str] = Counter()
        for name, comparison in cases:
            every[name] += 1
            if not comparison:
                own[name] += 1
        self.left = Counter({name: own.get(name) or total for name, total in every.items()})
        self.compares_only = set(every) - set(own)

    def __bool__(self) -> bool:
        """Whether this process has any check case at all."""
        return bool(self.left)

    def finished(self, name: str, comparison: bool) -> bool:
        """Count one finished case; True exactly once per cluster, when its objects are to be released."""
        counted = not comparison or name in self.compares_only
        if not counted or self.left[name] <= 0:
            return False
        self.left[name] -= 1
        return self.left[name] == 0


class FactSharing:
    """The scale-out and release hooks of one session; state on the object (see the module docstring)."""

    NAME = "fleetcheck-sharing"

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self._shares: bool | None = None
        self._plan: dict[str, list[str]] | None = None
        self._releases: Releases | None = None

    def shares_facts(self) -> bool:
        """Whether this xdist controller's workers exchange facts (decided once, :func:`exchanges_facts`)."""
        if self._shares is None:
            config = self.config
            scan = bool(config.getoption("fleetcheck_fleet") or config.getoption("fleetcheck_snapshot")) or (
                config.inipath is not None and config.inipath.name == "pytest-run.ini"
            )
            self._shares = exchanges_facts(str(config.getoption("dist", "no", skip=True)), scan)
        return self._shares

    def plan(self, session: pytest.Session) -> dict[str, list[str]]:
        """Cluster -> the kinds its cases read, in the order the clusters' first cases run; built once."""
        if self._plan is None:
            self._plan = kinds_by_cluster((name, spec.reads) for name, spec, _ in check_cases(session.items))
        return self._plan

    def facts_folder(self) -> Path:
        """``--facts DIR``, else a folder in the session's base temp, which every worker of this run can reach."""
        given = run_of(self.config).options.facts_dir
        if given is not None:
            return given
        factory = self.config._tmp_path_factory  # type: ignore[attr-defined]  # pytest's own factory, no public getter
        return Path(factory.getbasetemp()) / "fleetcheck-facts"

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        """Each cluster's cases to the worker that owns it (:mod:`fleetcheck.xdist_scheduling`)."""
        if not self.shares_facts():
            return None
        from xdist.workermanage import parse_tx_spec_config  # type: ignore[import-untyped]  # xdist ships no py.typed

        from fleetcheck.xdist_scheduling import ClusterScheduling, controller_sharing

        run = run_of(config)
        try:
            owner_of, sharing = controller_sharing(run, self.facts_folder(), len(parse_tx_spec_config(config)))
        except ConfigError as exc:
            exit_on_config_error(exc)
        run.share(sharing)  # the controller owns nothing: the document's facts and drift are read from the workers'
        return ClusterScheduling(config, log, owner_of)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """Tell each worker where the run's facts are exchanged."""
        if self.shares_facts():
            node.workerinput["fleetcheck_facts_dir"] = str(self.facts_folder())

    def start(self, session: pytest.Session) -> None:
        """After collection: count the releases; an xdist worker or a ``--shard --facts`` run owns, lists, publishes."""
        self._releases = Releases((name, comparison) for name, _, comparison in check_cases(session.items))
        if not self._releases:
            return  # no check collected: nothing to own, list or publish (and no run state to make)
        run = run_of(self.config)
        workerinput = getattr(self.config, "workerinput", None)
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
                run.publish_owned(self.plan(session))
        except ConfigError as exc:
            exit_on_config_error(exc)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, None, None]:
        """After a cluster's last case in this process, let go of its objects (its facts are kept)."""
        result = yield
        name = cluster_of(item)
        if name is not None and self._releases is not None and self._releases.finished(name, compares(item)):
            run_of(item.config).release(name)
        return result

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """On an xdist worker: keep the facts it publishes readable until they are all written."""
        if hasattr(self.config, "workerinput"):
            run = existing_run(self.config)  # None: this worker ran no check, so it published nothing
            if run is not None:
                run.wait_published()  # peers and the controller read them after this worker is gone
