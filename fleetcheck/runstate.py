"""The state of one fleetcheck run: fleet, profiles, cluster states, check settings.

One object per pytest session, kept in the session's stash by the plugin.
It builds everything lazily (a run that collects no checks loads nothing),
opens one :class:`ClusterState` per cluster on first use, and prefetches
the kinds the selected checks read, concurrently, so that each kind is
listed once per cluster however many checks read it.

A serial run prefetches through a window (:meth:`RunState.prefetch_window`):
the cluster being judged and at most ``--fetch-workers`` clusters after it
in case order are listed, each released after its last case, so memory is
bounded by the window's clusters plus the fleet's facts, not by the fleet.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from fleetcheck.catalog import CheckSpec
from fleetcheck.core.kinds import ResourceRef
from fleetcheck.errors import ConfigError
from fleetcheck.facts.exchange import FactExchange, export_facts, shared_facts
from fleetcheck.facts.key import VERSION, Fact
from fleetcheck.registry.fleet import ClusterEntry, Fleet, load_fleet
from fleetcheck.registry.profile import Profile, load_profile
from fleetcheck.registry.yamlfile import config_error_from_validation
from fleetcheck.state.base import ClusterState, ClusterUnreachable, KindList, ServerVersion
from fleetcheck.state.held import HeldBudget
from fleetcheck.state.management import open_management_reader
from fleetcheck.view import ClusterView, FleetView, PeerView

__all__ = [
    "BrokenClusterState",
    "RunOptions",
    "RunState",
    "Sharing",
    "owner_slot",
    "parse_shard",
    "shard_needs_facts",
    "shard_slice",
]


def shard_slice(names: list[str], k: int, n: int) -> list[str]:
    """The k-th (1-based) of n slices: every n-th name in sorted order.

    Sorting makes the split independent of the order clusters are listed in;
    every cluster is in exactly one slice.
    """
    return [name for i, name in enumerate(sorted(names)) if i % n == k - 1]


def owner_slot(names: Iterable[str], name: str, shard: tuple[int, int] | None, workers: int) -> int | None:
    """Which of ``workers`` owns cluster ``name`` (0-based), or None when ``name`` is not in the run's slice.

    The clusters of the run (the fleet, or its ``--shard`` slice), sorted,
    are dealt to the workers in turn. The xdist scheduler (controller) and
    each worker compute it alike, so a cluster's cases go to the one worker
    that lists it and publishes its facts.
    """
    pool = sorted(names) if shard is None else shard_slice(list(names), *shard)
    try:
        return pool.index(name) % max(1, workers)
    except ValueError:
        return None


@dataclass(frozen=True)
class Sharing:
    """Who owns which cluster when facts are exchanged (``--shard`` with ``--facts``, or xdist workers)."""

    #: the folder shared facts are published into and read from
    directory: Path
    #: clusters this process lists, judges and publishes
    owned: frozenset[str]
    #: cluster -> who owns it, for messages ("worker gw1", "shard 2/4")
    owners: Mapping[str, str]
    #: seconds a reader waits for an owner's file
    wait: float = 600.0


def shard_needs_facts() -> ConfigError:
    """The error of ``--shard`` without ``--facts``: a shard's fleet checks need every other shard's facts."""
    return ConfigError(
        "--shard",
        "K/N",
        "a shard lists only its own clusters, so its fleet checks need the other shards' facts",
        "add --facts DIR, a folder every shard of the run shares (docs/operations.md, Sharding)",
    )


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
                # cyclic garbage made meanwhile (checks' tracebacks) is collected first: frozen, it would never be;
                # the walk covers only what was made since the last freeze (a windowed run freezes per cluster)
                gc.collect()
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
    #: API response bytes the prefetch window may hold (``--prefetch-mb``; None: bounded by the count alone)
    prefetch_bytes: int | None = 256 * 1024 * 1024
    #: keep slim projections of listed objects (:mod:`fleetcheck.state.projection`); ``--full-objects`` turns it off
    slim_objects: bool = True
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    cluster_timeout: float | None = 120.0
    #: seconds one check body may run (``--check-timeout``; None: only the cluster's budget), see fleetcheck.budget
    check_timeout: float | None = 30.0
    page_size: int = 500
    #: seconds a kubeconfig exec credential plugin may take (``--exec-timeout``)
    exec_timeout: float = 30.0
    #: ``--reference-cluster NAME``: the standard of every fleet check unless a profile declares one
    reference_cluster: str | None = None
    #: ``--facts DIR``: the folder shards publish their clusters' facts into and read their peers' from
    facts_dir: Path | None = None
    #: ``--facts-wait S``: how long a shard waits for a peer shard's facts
    facts_wait: float = 600.0


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
    #: the one FleetView of the run (its standards are decided once per cohort and question)
    _fleet_view: FleetView | None = None
    _prefetch: dict[str, Future[None]] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    #: one lock per cluster being opened: opening may run an exec plugin, and no other cluster waits for it
    _opening: dict[str, threading.Lock] = field(default_factory=dict)
    _pool: ThreadPoolExecutor | None = None
    _prefetching_all: bool = False
    _collector: _CollectorPause = field(default_factory=_CollectorPause)
    #: set when facts are exchanged (shards, xdist workers): this process lists only the clusters it owns
    sharing: Sharing | None = None
    _exchange: FactExchange | None = None
    #: clusters whose objects were let go (their checks and facts are done)
    _released: set[str] = field(default_factory=set)
    #: the window's case order: cluster -> its position (see :meth:`prefetch_window`)
    _window: dict[str, int] = field(default_factory=dict)
    _window_names: list[str] = field(default_factory=list)
    #: what the window holds, by count and bytes (see :mod:`fleetcheck.state.held`); made with the options
    _held: HeldBudget | None = None

    @property
    def held(self) -> HeldBudget:
        """The window's admission: ``--fetch-workers`` clusters ahead, ``--prefetch-mb`` of responses held."""
        with self._lock:
            if self._held is None:
                self._held = HeldBudget(self.options.prefetch_workers, self.options.prefetch_bytes)
            return self._held

    @property
    def fleet(self) -> Fleet:
        """The registry (loaded on first use; raises :class:`ConfigError`)."""
        with self._lock:
            if self._fleet is None:
                opts = self.options
                self._fleet = load_fleet(
                    opts.fleet_file,
                    snapshots=list(opts.snapshots) or None,
                    profile=opts.profile,
                    management_reader=open_management_reader,
                )
            return self._fleet

    @property
    def default_profile_name(self) -> str:
        """The run's profile as named in ``results.json``."""
        return self.options.profile or self.fleet.default_profile

    def selected(self) -> list[ClusterEntry]:
        """Clusters that get verdicts (``--cluster`` globs, ``--shard``); fleet checks still compare with all."""
        chosen = self.fleet.matching(list(self.options.cluster_globs))
        self._check_reference_clusters(chosen)
        if self.options.shard is None:
            return chosen
        k, n = self.options.shard
        if self.options.facts_dir is None and self.sharing is None:
            raise ConfigError(
                "--shard",
                "K/N",
                "a shard lists only its own clusters, so its fleet checks need the other shards' facts",
                "add --facts DIR, a folder every shard of the run shares (docs/operations.md, Sharding)",
            )
        mine = set(shard_slice(self.fleet.names(), k, n))
        return [c for c in chosen if c.name in mine]

    def _check_reference_clusters(self, clusters: Iterable[ClusterEntry]) -> None:
        """``--reference-cluster`` and each profile's ``reference_cluster`` must name a cluster of the fleet."""
        names = self.fleet.names()
        known = f"name one of {', '.join(sorted(names)[:10])}" + (" ..." if len(names) > 10 else "")
        wanted = self.options.reference_cluster
        if wanted is not None and wanted not in names:
            raise ConfigError("--reference-cluster", "NAME", f"no cluster named {wanted!r} in the fleet", known)
        for entry in clusters:
            profile = self.profile_for(entry)
            if profile.reference_cluster is not None and profile.reference_cluster not in names:
                raise ConfigError(
                    profile.source or profile.name,
                    "reference_cluster",
                    f"no cluster named {profile.reference_cluster!r} in the fleet",
                    known,
                )

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

    def owns(self, name: str) -> bool:
        """Whether this process lists and judges ``name`` (always, unless facts are exchanged)."""
        return self.sharing is None or name in self.sharing.owned

    def share(self, sharing: Sharing) -> None:
        """Exchange facts: list only ``sharing.owned``, read every other cluster's facts from the folder."""
        with self._lock:
            self.sharing = sharing
            self._exchange = FactExchange(sharing.directory, wait=sharing.wait, origin="its owner")

    def share_shard(self) -> None:
        """``--shard K/N --facts DIR``: own the shard's slice of the fleet (selected by ``--cluster`` or not)."""
        if self.options.shard is None or self.options.facts_dir is None or self.sharing is not None:
            return
        k, n = self.options.shard
        names = self.fleet.names()
        owners = {name: f"shard {i % n + 1}/{n}" for i, name in enumerate(sorted(names))}
        self.share(
            Sharing(self.options.facts_dir, frozenset(shard_slice(names, k, n)), owners, self.options.facts_wait)
        )

    def owned_names(self) -> list[str]:
        """The clusters this process owns, in fleet order."""
        return [name for name in self.fleet.names() if self.owns(name)]

    def state(self, name: str) -> ClusterState:
        """The cluster's state, opened on first use; never raises (a broken cluster errors per check).

        Opened under that cluster's own lock, not the run's: opening may wait
        for an exec credential plugin (up to ``--exec-timeout``), and only the
        callers that need this very cluster should wait with it.
        """
        if not self.owns(name):
            return self.view(name).state  # a peer: every read says who owns it, nothing is opened
        with self._lock:
            if name in self._states:
                return self._states[name]
            entry = self.fleet.get(name)
            opening = self._opening.setdefault(name, threading.Lock())
        with opening:
            with self._lock:
                if name in self._states:
                    return self._states[name]
            state = self._open(entry)
            state.projection = self.options.slim_objects
            with self._lock:
                self._states[name] = state
            return state

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
                exec_timeout=self.options.exec_timeout,
            )
            return LiveClusterState(entry.name, merged, entry.context or entry.name, options)
        except ConfigError as exc:
            return BrokenClusterState(entry.name, exc.one_line())

    def view(self, name: str) -> ClusterView:
        """The :class:`ClusterView` checks receive."""
        with self._lock:
            if name in self._views:
                return self._views[name]
            if self.sharing is not None and name not in self.sharing.owned:
                entry = self.fleet.get(name)
                exchange = self._exchange
                assert exchange is not None
                owner = self.sharing.owners.get(name, "another worker or shard")
                self._views[name] = PeerView(
                    entry, self.profile_for(entry), owner, functools.partial(exchange.read, name, owner=owner)
                )
                return self._views[name]
        state = self.state(name)  # outside the run's lock: it may wait for this cluster's exec plugin
        with self._lock:
            if name not in self._views:
                entry = self.fleet.get(name)
                self._views[name] = ClusterView(entry, self.profile_for(entry), state)
            return self._views[name]

    def fleet_view(self) -> FleetView:
        """Every registered cluster (not only ``--cluster`` ones): comparisons need them all.

        One per run, made on first use: views never change once made, and the
        view's memo of decided standards is what keeps a fleet check linear in
        the cohort's size rather than quadratic.
        """
        if self._fleet_view is None:
            made = FleetView([self.view(name) for name in self.fleet.names()], self.options.reference_cluster)
            with self._lock:
                if self._fleet_view is None:
                    self._fleet_view = made
        return self._fleet_view

    def prefetch(self, name: str, kinds: Iterable[str], *, release: bool = False) -> Future[None]:
        """List ``kinds`` of cluster ``name`` in the background, once; errors are cached per kind.

        The cluster is opened and its ``/version`` read in the same task, so
        a cluster's requests come in one burst (its ``--cluster-timeout``
        clock starts with the first of them). ``release``: a peer with no
        case here, wanted for its facts only: they are computed and its
        objects let go in the same task.
        """
        with self._lock:
            if name in self._prefetch:
                return self._prefetch[name]
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=max(1, self.options.prefetch_workers), thread_name_prefix="fleetcheck-prefetch"
                )
            publish = self._exchange is not None and self.owns(name)
            wanted = sorted(set(kinds) | (set(self._shared_reads(name)) if publish else set()))
            held = self.held
            held.listing(name)

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
                    held.listed(name, state.held_bytes)
                    if publish:
                        self.publish(name)
                    if release:
                        self.release(name)

            future = self._pool.submit(run)
            self._prefetch[name] = future
            return future

    def _shared_facts(self, name: str) -> tuple[Fact[Any], ...]:
        return shared_facts(self.profile_for(self.fleet.get(name)))

    def _shared_reads(self, name: str) -> list[str]:
        return sorted({kind for fact in self._shared_facts(name) for kind in fact.reads if kind != VERSION})

    def publish(self, name: str) -> None:
        """Compute ``name``'s shared facts and publish them (or why they could not be); never raises."""
        exchange = self._exchange
        if exchange is None or not self.owns(name) or exchange.has(name):
            return
        try:
            exchange.publish(export_facts(self.view(name), self._shared_facts(name)))
        except Exception as exc:  # readers must hear why rather than wait for a file that never comes
            exchange.publish_error(name, f"{type(exc).__name__}: {exc}")

    def publish_owned(self, plan: Mapping[str, Iterable[str]]) -> None:
        """List and publish every owned cluster in the pool (its checks' kinds from ``plan`` too), once."""
        if self._exchange is None:
            return
        for name in self.owned_names():
            self.prefetch(name, plan.get(name, ()))

    def wait_published(self) -> None:
        """Wait for every owned cluster's listing and publication (a worker must not leave before)."""
        if self._exchange is None:
            return
        with self._lock:
            futures = [self._prefetch[name] for name in self.owned_names() if name in self._prefetch]
        for future in futures:
            future.exception()
        for name in self.owned_names():  # one never queued (no case of it ran here) is published now
            self.publish(name)

    def released(self, name: str) -> bool:
        """Whether ``name``'s objects were let go (its facts stay readable)."""
        with self._lock:
            return name in self._released

    def release(self, name: str) -> None:
        """Let go of ``name``'s listed objects once its checks ran: its shared facts are computed first.

        A later read of a released kind raises (:class:`~fleetcheck.state.base.KindReleased`),
        never an empty list; the facts stay in the view's cache.
        """
        self.held.released(name)
        with self._lock:
            if name in self._released or not self.owns(name) or name not in self._states:
                return
            self._released.add(name)
            state = self._states[name]
        view = self.view(name)  # a peer listed for its facts alone may have no view yet
        for fact in self._shared_facts(name):
            with contextlib.suppress(Exception):
                view.fact(fact)
        if self._exchange is not None:
            self.publish(name)
        state.release()

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

    def prefetch_window(self, plan: Mapping[str, Iterable[str]], name: str) -> None:
        """Queue ``name`` and up to ``prefetch_workers`` clusters after it in ``plan`` (cluster -> kinds, case order).

        Ahead of ``name``, a cluster is queued only while the window's byte
        budget allows it (:class:`~fleetcheck.state.held.HeldBudget`): the
        responses held by clusters listed and not yet released, plus an
        estimate for those still being listed, stay within ``--prefetch-mb``.

        The clusters' cases run grouped by cluster (the plugin orders them so),
        so a cluster is listed shortly before its cases and, released after
        the last of them, held only while the window passes over it; each is
        listed with the kinds its shared facts read, which :meth:`release`
        computes first, so fleet checks (run after every cluster's own cases)
        read peers' facts instead of holding peers' objects. A cluster not in
        ``plan`` is queued alone.
        """
        with self._lock:
            if not self._window_names:
                self._window_names = list(plan)
                self._window = {cluster: i for i, cluster in enumerate(self._window_names)}
            at = self._window.get(name)
            following = (
                [] if at is None else self._window_names[at + 1 : at + 1 + max(1, self.options.prefetch_workers)]
            )
            if name in self._prefetch and all(cluster in self._prefetch for cluster in following):
                return  # called for every case: the common answer costs no budget arithmetic
        ahead = [cluster for cluster in self.held.admit(name, following) if cluster not in self._prefetch]
        for cluster in ahead:
            self.prefetch(cluster, sorted(set(plan.get(cluster, ())) | set(self._shared_reads(cluster))))

    def prefetch_peer_facts(self, names: Iterable[str]) -> list[Future[None]]:
        """For fleet checks: each cluster of ``names`` listed for its shared facts, which are computed, then released.

        For peers with no case in this process (``--cluster``): a cluster
        queued already (by the window) is left as it is.
        """
        return [self.prefetch(name, self._shared_reads(name), release=True) for name in names]

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
