"""What a check receives: one cluster (``cluster`` fixture) or the fleet (``fleet`` fixture).

A :class:`ClusterView` joins the registry entry (name, labels, declared
facts), the cluster's profile and its :class:`ClusterState`. Checks read
only through it, so they cannot tell a live cluster from a snapshot, and
never touch the API directly.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Iterator
from datetime import datetime
from typing import Any, TypeVar

import pytest

from fleetcheck.core.kinds import ResourceRef
from fleetcheck.core.refs import object_ref
from fleetcheck.errors import FleetcheckError, fresh
from fleetcheck.facts.compare import Derive, Reading, Reference, Standard, cohort_key, cohort_label, decide
from fleetcheck.facts.exchange import PeerFactsMissing
from fleetcheck.facts.key import Fact, FactCache, FactInput
from fleetcheck.facts.provider import PROVIDER
from fleetcheck.registry.fleet import ClusterEntry, DeclaredFacts
from fleetcheck.registry.profile import Profile
from fleetcheck.state.base import ClusterState, KindList, ServerVersion

__all__ = ["ClusterView", "FleetView", "PeerState", "PeerView", "object_ref"]

T = TypeVar("T")
V = TypeVar("V", bound=Hashable)
Obj = dict[str, Any]


class ClusterView:
    """One cluster as checks see it."""

    def __init__(self, entry: ClusterEntry, profile: Profile, state: ClusterState) -> None:
        self.entry = entry
        self.profile = profile
        self.state = state
        self._memo: dict[str, Any] = {}
        self._facts = FactCache()

    def __repr__(self) -> str:
        return f"<ClusterView {self.name}>"

    @property
    def name(self) -> str:
        """The registry name (also the pytest id)."""
        return self.entry.name

    @property
    def labels(self) -> dict[str, str]:
        """Registry labels (env, tier, region, team, owner, expires ...)."""
        return self.entry.labels

    @property
    def facts(self) -> DeclaredFacts:
        """Facts declared in the fleet file for what the API cannot show."""
        return self.entry.facts

    @property
    def region(self) -> str | None:
        """The ``region`` label."""
        return self.labels.get("region")

    @property
    def tier(self) -> str | None:
        """The promotion tier: the ``tier`` label, else ``env``."""
        return self.labels.get("tier") or self.labels.get("env")

    @property
    def is_live(self) -> bool:
        """Backed by a live API server (live probes may run)."""
        return self.state.is_live

    @property
    def time_source(self) -> str:
        """Where :attr:`server_time` comes from: ``api``, ``cluster.yaml``, or a guess from the newest timestamp."""
        return self.state.time_source

    @property
    def version(self) -> ServerVersion:
        """The API server's version."""
        return self.state.version

    @property
    def server_time(self) -> datetime:
        """The cluster's "now" (API server Date header, or the snapshot's capture time)."""
        return self.state.server_time

    def list(self, kind: str | ResourceRef) -> list[Obj]:
        """Every object of ``kind`` (listed once per run, shared by all checks)."""
        return self.state.list(kind)

    def serves(self, kind: str | ResourceRef) -> bool:
        """Whether ``kind`` is installed (CRD present)."""
        return self.state.serves(kind)

    def read_time(self, kind: str | ResourceRef) -> datetime:
        """The API server's clock when ``kind`` was listed."""
        return self.state.read_time(kind)

    def tenant_namespaces(self) -> Iterator[Obj]:
        """Namespaces that are not system namespaces of the profile or the provider (and not terminating)."""
        for ns in self.list("namespaces"):
            name = str((ns.get("metadata") or {}).get("name", ""))
            phase = (ns.get("status") or {}).get("phase")
            if not self.is_system_namespace(name) and phase != "Terminating":
                yield ns

    def is_system_namespace(self, namespace: str) -> bool:
        """A system namespace of the profile, or one of the cluster's provider (``gmp-system`` on GKE ...)."""
        return self.profile.is_system_namespace(namespace, self.fact(PROVIDER).provider)

    def fact(self, key: Fact[T]) -> T:
        """The cluster's value of ``key``, computed at most once per run (an error it raised is raised again)."""
        return self._facts.get(key, self._fact_input)

    def _fact_input(self, key: Fact[Any]) -> FactInput:
        return FactInput(self.name, self.state, self.entry.facts, self.profile, key.read_keys)

    @property
    def facts_computed(self) -> dict[str, int]:
        """How many times each fact's extractor ran on this cluster (never more than once)."""
        return dict(self._facts.computed)

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """Compute a derived value once per cluster per run (for what is not a :class:`Fact` yet: a probe ...)."""
        if key not in self._memo:
            self._memo[key] = compute()
        value: T = self._memo[key]
        return value


class PeerState(ClusterState):
    """A cluster another worker or shard owns: nothing of it is listed here, every read is an error.

    Fleet checks read such a peer's facts (:class:`PeerView`), never its
    objects; a check that tries is told so instead of silently listing the
    peer (or seeing an empty list).
    """

    def __init__(self, name: str, owner: str) -> None:
        super().__init__(name)
        self.owner = owner

    def _why(self) -> str:
        return (
            f"{self.name} is judged by {self.owner}: only its shared facts are read here, never its objects "
            "(read peers through cluster.fact / fleet.compare)"
        )

    def _fetch(self, ref: ResourceRef) -> KindList:
        raise FleetcheckError(self._why())

    def fetch(self, kind: str | ResourceRef) -> KindList:
        """Never: a peer's objects are not listed by a worker or shard that does not own it."""
        raise FleetcheckError(self._why())

    @property
    def version(self) -> ServerVersion:
        """Never read from the peer's API: its ``kubernetes.version`` fact is shared instead."""
        raise FleetcheckError(self._why())

    @property
    def server_time(self) -> datetime:
        """Never read from the peer's API."""
        raise FleetcheckError(self._why())


class PeerView(ClusterView):
    """A peer owned by another worker or shard: its facts come from the exchange (:mod:`fleetcheck.facts.exchange`).

    ``shared`` loads the owner's published facts (waiting for the owner, once);
    a fact that reads nothing of the API (a DNS probe through a declared
    endpoint) is computed here, as the owner would.
    """

    def __init__(self, entry: ClusterEntry, profile: Profile, owner: str, shared: Callable[[], Any]) -> None:
        super().__init__(entry, profile, PeerState(entry.name, owner))
        self._load = shared
        self._shared: Any = None
        self._shared_error: FleetcheckError | None = None
        self._decoded: dict[Fact[Any], tuple[bool, Any]] = {}

    def _peer_facts(self) -> Any:
        with self._facts._guard:
            if self._shared is None and self._shared_error is None:
                try:
                    self._shared = self._load()
                    self.state.is_live = bool(self._shared.live)
                except FleetcheckError as exc:
                    self._shared_error = fresh(exc)  # without the raising frames (errors.fresh)
        if self._shared_error is not None:
            raise fresh(self._shared_error)
        return self._shared

    @property
    def is_live(self) -> bool:
        """What the owner said (a peer never answers here)."""
        with contextlib.suppress(FleetcheckError):
            self._peer_facts()
        return self.state.is_live

    def fact(self, key: Fact[T]) -> T:
        """The owner's value of ``key`` (or its error, raised again); facts that read no API are computed here."""
        if not key.reads:
            with contextlib.suppress(FleetcheckError):
                self._peer_facts()  # liveness as the owner saw it, for a probe computed here
            return self._facts.get(key, self._fact_input)
        with self._facts._guard:
            cached = self._decoded.get(key)
        if cached is None:
            try:
                cached = (True, self._peer_facts().get(key))
            except FleetcheckError as exc:
                cached = (False, fresh(exc))
            with self._facts._guard:
                cached = self._decoded.setdefault(key, cached)
        if not cached[0]:
            raise fresh(cached[1])
        value: T = cached[1]
        return value


class FleetView:
    """Every cluster of the run, for comparisons that still judge one cluster at a time.

    :meth:`standard` is how a fleet check compares: the cluster's cohort,
    the standard by the one rule of :mod:`fleetcheck.facts.compare`, and an
    undecided standard turned into the check's skip (or error, for an
    unreadable reference cluster).
    """

    def __init__(self, clusters: list[ClusterView], reference_cluster: str | None = None) -> None:
        self.clusters = clusters
        #: ``--reference-cluster NAME``: the standard of every fleet check, unless a profile declares one
        self.reference_cluster = reference_cluster
        self._by_name = {c.name: c for c in clusters}
        self._by_profile: dict[str, list[ClusterView]] = {}
        for member in clusters:
            self._by_profile.setdefault(member.profile.name, []).append(member)
        self._cohorts: dict[tuple[str, ...], list[ClusterView]] = {}
        #: standards already decided, per cohort and question (see :meth:`compare`): a cohort's standard is
        #: the same for each of its members, so a fleet check over a cohort of n decides it once, not n times
        self._standards: dict[Hashable, Standard[Any]] = {}

    def __iter__(self) -> Iterator[ClusterView]:
        return iter(self.clusters)

    def __len__(self) -> int:
        return len(self.clusters)

    def get(self, name: str) -> ClusterView:
        """The cluster called ``name``."""
        return self._by_name[name]

    def peers(self, cluster: ClusterView) -> list[ClusterView]:
        """Clusters of the same profile, ``cluster`` included, in fleet order."""
        return list(self._by_profile.get(cluster.profile.name, ()))

    def _cohort_key(self, cluster: ClusterView) -> tuple[str, ...]:
        return cohort_key(cluster.profile.name, cluster.profile.cohort_by, cluster.labels)

    def cohort(self, cluster: ClusterView) -> list[ClusterView]:
        """The clusters ``cluster`` is compared with, itself included: same profile and same ``cohort_by`` labels."""
        mine = self._cohort_key(cluster)
        members = self._cohorts.get(mine)
        if members is None:
            keys = cluster.profile.cohort_by
            members = [c for c in self.peers(cluster) if cohort_key(c.profile.name, keys, c.labels) == mine]
            self._cohorts[mine] = members
        return list(members)

    def cohort_label(self, cluster: ClusterView) -> str:
        """``profile prod`` or ``profile prod, env=prod, region=eu``: how messages name the cohort."""
        return cohort_label(cluster.profile.name, cluster.profile.cohort_by, cluster.labels)

    def reference(self, cluster: ClusterView, setting: tuple[str | None, str] = (None, "")) -> tuple[str, str] | None:
        """(reference cluster, who named it) for ``cluster``'s comparisons, or None for the majority.

        ``--reference-cluster`` wins, then a check's own setting (``setting``:
        its value and name, e.g. FC-RBAC-001's ``reference_cluster``), then the
        profile's ``reference_cluster``.
        """
        if self.reference_cluster:
            return self.reference_cluster, "--reference-cluster"
        if setting[0]:
            return setting[0], setting[1]
        if cluster.profile.reference_cluster:
            return cluster.profile.reference_cluster, f"profile {cluster.profile.name} reference_cluster"
        return None

    def compare(
        self,
        cluster: ClusterView,
        key: Fact[T],
        value: Callable[[T], V | None],
        *,
        declared: V | None = None,
        declared_as: str = "",
        show: Callable[[V], str] = str,
        derive: Derive = "majority",
        newest: Callable[[V], Any] | None = None,
        reference_setting: tuple[str | None, str] = (None, ""),
    ) -> Standard[V]:
        """The standard for ``cluster`` by the one rule: ``value(fact)`` of each cohort member (decided or not).

        Decided once per cohort and question: facts are computed once per
        cluster per run, so the same question to the same cohort has the same
        answer for every member (but the reference cluster itself, which is
        told so). A question whose functions cannot be told apart from
        another's (a callable with unhashable captured values) is decided
        afresh each time.
        """
        named = self.reference(cluster, reference_setting) if declared is None else None
        question = _question(
            self._cohort_key(cluster),
            key,
            value,
            declared,
            declared_as,
            show,
            derive,
            newest,
            named,
            cluster.name if named is not None and named[0] == cluster.name else None,
        )
        if question is not None and question in self._standards:
            cached: Standard[V] = self._standards[question]
            return cached
        decided = self._decide(cluster, key, value, declared, declared_as, show, derive, newest, named)
        if question is not None:
            self._standards[question] = decided
        return decided

    def _decide(
        self,
        cluster: ClusterView,
        key: Fact[T],
        value: Callable[[T], V | None],
        declared: V | None,
        declared_as: str,
        show: Callable[[V], str],
        derive: Derive,
        newest: Callable[[V], Any] | None,
        named: tuple[str, str] | None,
    ) -> Standard[V]:
        readings = [_reading(peer, key, value) for peer in self.cohort(cluster)]
        reference: Reference[V] | None = None
        if declared is None and named is not None:
            name, named_by = named
            try:
                other = self.get(name)
            except KeyError:
                raise FleetcheckError(
                    f"{named_by}: no cluster named {name!r} in the fleet (name one of "
                    f"{', '.join(sorted(c.name for c in self.clusters)[:10])})"
                ) from None
            reference = Reference(_reading(other, key, value), named_by)
        return decide(
            cluster.name,
            readings,
            cohort=self.cohort_label(cluster),
            profile=cluster.profile.name,
            declared=declared,
            declared_as=declared_as,
            reference=reference,
            show=show,
            derive=derive,
            newest=newest,
        )

    def standard(
        self,
        cluster: ClusterView,
        key: Fact[T],
        value: Callable[[T], V | None],
        *,
        declared: V | None = None,
        declared_as: str = "",
        show: Callable[[V], str] = str,
        derive: Derive = "majority",
        newest: Callable[[V], Any] | None = None,
        reference_setting: tuple[str | None, str] = (None, ""),
    ) -> Standard[V]:
        """:meth:`compare`, decided: an undecided standard skips the check (an unreadable reference errors it).

        The judged cluster's own value comes first: when it cannot be read the check errors with
        that reason, whatever its peers hold (a cluster alone, or in a split, is not "skipped"
        when the truth is that its own data was not there).
        """
        own = _reading(cluster, key, value)
        if own.error is not None:
            raise FleetcheckError(own.error)
        standard = self.compare(
            cluster,
            key,
            value,
            declared=declared,
            declared_as=declared_as,
            show=show,
            derive=derive,
            newest=newest,
            reference_setting=reference_setting,
        )
        settle(standard)
        return standard


def settle(standard: Standard[Any]) -> None:
    """End the check when ``standard`` is undecided: skip with the reason, or error when the reference is unreadable."""
    if standard.decided:
        return
    if standard.kind == "reference-unreadable":
        raise FleetcheckError(standard.source)
    pytest.skip(standard.says)


def _reading(cluster: ClusterView, key: Fact[T], value: Callable[[T], V | None]) -> Reading[V]:
    try:
        return Reading(cluster.name, value(cluster.fact(key)))
    except PeerFactsMissing:
        raise  # no owner published the peer's facts: the comparison cannot be made, it is not an unreadable peer
    except FleetcheckError as exc:
        return Reading(cluster.name, None, str(exc))


def _callable_identity(function: Callable[..., Any] | None) -> Hashable | None:
    """What makes two callables give the same answers: their code and what they captured.

    A check's lambda is a new object on every call, but its code object is
    the enclosing function's constant, and its captured values (closure
    cells, defaults) decide the rest. None when a captured value cannot be
    hashed: that callable is never taken for another.
    """
    if function is None:
        return ("none",)
    code = getattr(function, "__code__", None)
    if code is None:
        try:
            hash(function)
        except TypeError:
            return None
        return ("object", function)
    closure = getattr(function, "__closure__", None) or ()
    try:
        cells = tuple(cell.cell_contents for cell in closure)
    except ValueError:  # an empty cell: the enclosing function has not bound it yet
        return None
    defaults = getattr(function, "__defaults__", None)
    kwdefaults = tuple(sorted((getattr(function, "__kwdefaults__", None) or {}).items()))
    identity = (getattr(function, "__module__", None), id(code), code, cells, defaults, kwdefaults)
    try:
        hash(identity)
    except TypeError:
        return None
    return identity


def _question(*parts: Any) -> Hashable | None:
    """The memo key of one :meth:`FleetView.compare` call, or None when some part cannot be told apart."""
    key: list[Any] = []
    for part in parts:
        if callable(part) and not isinstance(part, type | Fact):
            identity = _callable_identity(part)
            if identity is None:
                return None
            key.append(identity)
        else:
            key.append(part)
    try:
        hash(tuple(key))
    except TypeError:
        return None
    return tuple(key)
