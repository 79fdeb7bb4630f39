"""Typed fact keys and the per-cluster cache that computes each fact at most once per run.

A :class:`Fact` is the key and the recipe in one object: its name and doc
(what the fact is, for ``fleetcheck facts`` and the docs), the kinds its
extractor reads, and the extractor itself. Identity is the key: two checks
that read ``CNI`` share one computation, and no string can collide with
another module's. ``cluster.fact(CNI)`` goes through a :class:`FactCache`
that lives as long as the cluster's view (one run) and is thread-safe (the
prefetch pool and xdist-less parallel readers may ask at once). An
extractor that raises :class:`~fleetcheck.errors.FleetcheckError`
(:class:`~fleetcheck.state.base.KindUnavailable`, a parse error) has that
error cached and re-raised, the same object, to every later reader: an
unreadable cluster is asked once, and every check says the same thing.

Extractors see a :class:`FactInput`, which lists only the kinds the fact
declares (asking for another is a bug in the fact, raised at once), so the
declared reads are the truth the prefetch plan and the drift view rely on.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from fleetcheck.core.kinds import ResourceRef, parse_kind
from fleetcheck.errors import BudgetExceeded, FleetcheckError, fresh
from fleetcheck.registry.fleet import DeclaredFacts
from fleetcheck.registry.profile import Profile
from fleetcheck.state.base import ClusterState, ServerVersion

__all__ = ["VERSION", "Fact", "FactCache", "FactDefinitionError", "FactInput"]

T = TypeVar("T")
Obj = dict[str, Any]
#: the pseudo-kind a fact lists in ``reads`` when it reads the API server's ``/version``
VERSION = "version"


class FactDefinitionError(RuntimeError):
    """A fact's extractor read something its declaration does not list (a bug in the fact, not the cluster)."""


@dataclass(frozen=True)
class FactInput:
    """What an extractor may read of one cluster: its declared kinds, declared facts, profile, version."""

    name: str
    state: ClusterState
    declared: DeclaredFacts
    profile: Profile
    reads: frozenset[str]

    def list(self, kind: str | ResourceRef) -> list[Obj]:
        """Every object of ``kind`` (one of the fact's declared reads)."""
        ref = parse_kind(kind)
        if ref.key not in self.reads:
            raise FactDefinitionError(f"fact on {self.name} lists {ref.key}, which it does not declare in reads")
        return self.state.list(ref)

    @property
    def version(self) -> ServerVersion:
        """The API server's version (the fact must declare :data:`VERSION` in its reads)."""
        if VERSION not in self.reads:
            raise FactDefinitionError(f"fact on {self.name} reads the server version without declaring it")
        return self.state.version

    @property
    def is_live(self) -> bool:
        """Backed by a live API server (probes may run)."""
        return self.state.is_live


@dataclass(frozen=True, eq=False)
class Fact(Generic[T]):
    """One typed per-cluster fact: ``cluster.fact(CNI)`` -> its value (computed once per cluster per run).

    Keys compare by identity: declare each fact once, at module level (or
    from a cached factory for a parametrized fact), and import it.
    """

    name: str
    doc: str
    reads: tuple[str, ...]
    extract: Callable[[FactInput], T]

    def __post_init__(self) -> None:
        for kind in self.reads:
            if kind != VERSION:
                parse_kind(kind)  # a typo in reads fails at import, not in the middle of a scan

    @property
    def read_keys(self) -> frozenset[str]:
        """The declared reads as resource keys (plus :data:`VERSION`)."""
        return frozenset(kind if kind == VERSION else parse_kind(kind).key for kind in self.reads)

    def __repr__(self) -> str:
        return f"<Fact {self.name}>"


@dataclass
class FactCache:
    """One cluster's computed facts (values or the error each raised), with one lock per fact."""

    _values: dict[Fact[Any], Any] = field(default_factory=dict)
    _locks: dict[Fact[Any], threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)
    #: how many times each fact's extractor ran (at most once: the tests hold it to that)
    computed: Counter[str] = field(default_factory=Counter)

    def get(self, fact: Fact[T], source: Callable[[Fact[T]], FactInput]) -> T:
        """The value of ``fact``, extracting it from ``source(fact)`` the first time; cached errors re-raise."""
        with self._guard:
            lock = self._locks.setdefault(fact, threading.Lock())
        with lock:
            if fact not in self._values:
                self.computed[fact.name] += 1
                try:
                    self._values[fact] = fact.extract(source(fact))
                except BudgetExceeded as exc:
                    # the check that asked first ran out of time; the others are told what happened, not
                    # "FC-X ran past its budget", and are not made to spend their own budget on it again
                    self._values[fact] = _Raised(
                        FleetcheckError(f"the {fact.name} fact could not be computed within a time budget ({exc})")
                    )
                    raise
                except FleetcheckError as exc:
                    self._values[fact] = _Raised(fresh(exc))  # without the raising frames (errors.fresh)
            cached = self._values[fact]
        if isinstance(cached, _Raised):
            raise fresh(cached.error)
        value: T = cached
        return value


@dataclass(frozen=True)
class _Raised:
    """A cached extraction error (a wrapper, so a fact whose value is an exception stays possible)."""

    error: FleetcheckError
