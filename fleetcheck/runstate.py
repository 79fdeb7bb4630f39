"""The state of one fleetcheck run: fleet, profiles, cluster states, check settings.

One object per pytest session, kept in the session's stash by the plugin.
It builds everything lazily (a run that collects no checks loads nothing),
opens one :class:`ClusterState` per cluster on first use, and prefetches
the kinds the selected checks read, concurrently, so that each kind is
listed once per cluster however many checks read it.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ValidationError

from fleetcheck.catalog import CheckSpec
from fleetcheck.errors import ConfigError
from fleetcheck.kinds import ResourceRef
from fleetcheck.registry.fleet import ClusterEntry, Fleet, load_fleet
from fleetcheck.registry.profile import Profile, load_profile
from fleetcheck.registry.yamlfile import config_error_from_validation
from fleetcheck.state.base import ClusterState, ClusterUnreachable, KindList, ServerVersion
from fleetcheck.view import ClusterView, FleetView

__all__ = ["BrokenClusterState", "RunOptions", "RunState", "parse_shard", "shard_slice"]


def shard_slice(names: list[str], k: int, n: int) -> list[str]:
    """The k-th (1-based) of n slices: every n-th name in sorted order.

    Sorting makes the split independent of the order clusters are listed in;
    every cluster is in exactly one slice.
    """
    return [name for i, name in enumerate(sorted(names)) if i % n == k - 1]


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/3"`` -> (2, 3); raises :class:`ConfigError` on anything else."""
    try:
        k_text, n_text = text.split("/", 1)
        k, n = int(k_text), int(n_text)
    except ValueError:
        raise ConfigError("--shard", "K/N", f"{text!r} is not K/N", "write e.g. --shard 1/3") from None
    if not 1 <= k <= n:
        raise ConfigError("--shard", "K/N", f"{text!r}: K must be between 1 and N", "write e.g. --shard 1/3")
    return k, n


class _CollectorPause:
    """Keeps the cyclic garbage collector out of the way while cluster states are filled (thread-safe).

    A fleet's listed objects are millions of long-lived, acyclic dicts and
    lists; every full collection would walk all of them again, and the heap
    grows by a full collection's trigger ratio many times while a fleet is
    listed. While any prefetch runs the collector is paused; when the last
    one ends, what was listed is moved to the permanent generation
    (``gc.freeze``), out of every later collection's way (objects are still
    freed by reference counting), and the collector resumes.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._was_enabled = False

    def __enter__(self) -> None:
        with self._lock:
            if self._depth == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._depth += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                gc.freeze()
                if self._was_enabled:
                    gc.enable()


@dataclass(frozen=True)
class RunOptions:
    """What the user asked for (pytest options or CLI flags)."""

    fleet_file: str | None = None
    snapshots: tuple[str, ...] = ()
    profile: str | None = None
    cluster_globs: tuple[str, ...] = ()
    report_dir: Path = Path("reports")
    #: (k, n): scan the k-th (1-based) of n slices of the fleet
    shard: tuple[int, int] | None = None
    #: clusters listed at once (``--fetch-workers``); one connection per cluster, so this hides round trips
    prefetch_workers: int = 16
    #: keep slim projections of listed objects (:mod:`fleetcheck.state.projection`); ``--full-objects`` turns it off
    slim_objects: bool = True
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    cluster_timeout: float | None = 120.0
    page_size: int = 500


class BrokenClusterState(ClusterState):
    """A cluster whose state could not even be opened (bad credentials in its kubeconfig, bad snapshot).

    Every read raises, so its checks become ``error`` with the reason, and the
    rest of the fleet is scanned as usual.
    """

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(name)
        self.reason = reason

    def _fetch(self, ref: ResourceRef) -> KindList:
        raise ClusterUnreachable(self.name, ref, self.reason)

    @property
    def version(self) -> ServerVersion:
        """Never known."""
        raise ClusterUnreachable(self.name, ResourceRef("", "v1", "version", "Version", False), self.reason)

    @property
    def server_time(self) -> datetime:
        """Never known."""
        raise ClusterUnreachable(self.name, ResourceRef("", "v1", "version", "Version", False), self.reason)


@dataclass
class RunState:
    """Lazily built fleet, profiles and states for one run."""

    options: RunOptions
    _fleet: Fleet | None = None
    _profiles: dict[str, Profile] = field(default_factory=dict)
    _states: dict[str, ClusterState] = field(default_factory=dict)
    _views: dict[str, ClusterView] = field(default_factory=dict)
    _prefetch: dict[str, Future[None]] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _pool: ThreadPoolExecutor | None = None
    _prefetching_all: bool = False
    _collector: _CollectorPause = field(default_factory=_CollectorPause)

    @property
    def fleet(self) -> Fleet:
        """The registry (loaded on first use; raises :class:`ConfigError`)."""
        with self._lock:
            if self._fleet is None:
                opts = self.options
                self._fleet = load_fleet(opts.fleet_file, snapshots=list(opts.snapshots) or None, profile=opts.profile)
            return self._fleet

    @property
    def default_profile_name(self) -> str:
        """The run's profile as named in ``results.json``."""
        return self.options.profile or self.fleet.default_profile

    def selected(self) -> list[ClusterEntry]:
        """Clusters that get verdicts (``--cluster`` globs, ``--shard``); fleet checks still compare with all."""
        chosen = self.fleet.matching(list(self.options.cluster_globs))
        if self.options.shard is None:
            return chosen
        k, n = self.options.shard
        mine = set(shard_slice(self.fleet.names(), k, n))
        return [c for c in chosen if c.name in mine]

    def profile(self, name: str) -> Profile:
        """A profile by name or path, loaded once."""
        with self._lock:
            if name not in self._profiles:
                self._profiles[name] = load_profile(name)
            return self._profiles[name]

    def profile_for(self, entry: ClusterEntry) -> Profile:
        """The profile judging ``entry``."""
        return self.profile(entry.profile)

    def settings_for(self, spec: CheckSpec, profile: Profile) -> BaseModel | None:
        """The check's settings under ``profile``, validated against the check's model."""
        if spec.settings_model is None:
            return None
        raw = profile.settings.get(spec.code, {})
        try:
            return spec.settings_model.model_validate(raw)
        except ValidationError as exc:
            error = config_error_from_validation(
                profile.source or profile.name, exc, f"see 'fleetcheck explain {spec.code}' for its settings"
            )
            raise ConfigError(error.source, f"settings.{spec.code}.{error.field}", error.problem, error.fix) from None

    def state(self, name: str) -> ClusterState:
        """The cluster's state, opened on first use; never raises (a broken cluster errors per check)."""
        with self._lock:
            if name not in self._states:
                state = self._open(self.fleet.get(name))
                state.projection = self.options.slim_objects
                self._states[name] = state
            return self._states[name]

    def _open(self, entry: ClusterEntry) -> ClusterState:
        try:
            if entry.snapshot is not None:
                from fleetcheck.state.snapshot import load_snapshot
                from fleetcheck.state.snapshot_state import SnapshotClusterState

                return SnapshotClusterState(load_snapshot(entry.snapshot))
            if entry.credentials_error is not None:  # a source found the cluster but has no usable credentials
                return BrokenClusterState(entry.name, entry.credentials_error)
            from fleetcheck.state.live import LiveClusterState, LiveOptions

            merged = entry.merged_kubeconfig()  # a source's in-memory credentials, or kubeconfig files
            options = LiveOptions(
                connect_timeout=self.options.connect_timeout,
                read_timeout=self.options.read_timeout,
                cluster_budget=self.options.cluster_timeout,
                page_size=self.options.page_size,
            )
            return LiveClusterState(entry.name, merged, entry.context or entry.name, options)
        except ConfigError as exc:
            return BrokenClusterState(entry.name, exc.one_line())

    def view(self, name: str) -> ClusterView:
        """The :class:`ClusterView` checks receive."""
        with self._lock:
            if name not in self._views:
                entry = self.fleet.get(name)
                self._views[name] = ClusterView(entry, self.profile_for(entry), self.state(name))
            return self._views[name]

    def fleet_view(self) -> FleetView:
        """Every registered cluster (not only ``--cluster`` ones): comparisons need them all."""
        return FleetView([self.view(name) for name in self.fleet.names()])

    def prefetch(self, name: str, kinds: Iterable[str]) -> Future[None]:
        """List ``kinds`` of cluster ``name`` in the background, once; errors are cached per kind.

        The cluster is opened and its ``/version`` read in the same task, so
        a cluster's requests come in one burst (its ``--cluster-timeout``
        clock starts with the first of them).
        """
        with self._lock:
            if name in self._prefetch:
                return self._prefetch[name]
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=max(1, self.options.prefetch_workers), thread_name_prefix="fleetcheck-prefetch"
                )
            wanted = sorted(set(kinds))

            def run() -> None:
                with self._collector:
                    state = self.state(name)
                    with contextlib.suppress(Exception):  # a check that reads the version reports why
                        _ = state.version
                    for kind in wanted:
                        try:
                            state.fetch(kind)
                        except Exception:
                            continue

            future = self._pool.submit(run)
            self._prefetch[name] = future
            return future

    def prefetch_all(self, plan: Mapping[str, Iterable[str]]) -> None:
        """Queue every cluster of ``plan`` (cluster -> kinds, in the order they will be judged), once per run.

        The pool (``prefetch_workers`` threads) bounds how many clusters are
        listed at once; checks of the first clusters run while later ones
        are still being listed.
        """
        with self._lock:
            if self._prefetching_all:
                return
            self._prefetching_all = True
        for name, kinds in plan.items():
            self.prefetch(name, kinds)

    def prefetch_peers(self, names: Iterable[str], kinds: Iterable[str]) -> list[Future[None]]:
        """Make sure every cluster of ``names`` is being listed: ``kinds`` for those not queued yet.

        For comparisons with the fleet: the peers a check reads are listed
        in the pool, concurrently, rather than one after the other by the
        check itself (an xdist worker, or ``--cluster``, never queued them).
        """
        wanted = sorted(set(kinds))
        futures: list[Future[None]] = []
        for name in names:
            with self._lock:
                queued = self._prefetch.get(name)
            futures.append(queued if queued is not None else self.prefetch(name, wanted))
        return futures

    def close(self) -> None:
        """Stop prefetching, close connections, and let go of the listed objects."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            for state in self._states.values():
                state.close()
            # dropped here rather than with the session: pytest's last full collections then walk no cluster
            self._views.clear()
            self._states.clear()
        gc.unfreeze()
