"""The read-only view of one cluster that every check reads.

A :class:`ClusterState` lists each kind at most once per run (thread-safe),
remembers why a kind could not be read, and answers the same questions
whether it is backed by a live API server or by a snapshot folder. Checks
never see which.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from fleetcheck.core.kinds import ResourceRef, parse_kind
from fleetcheck.core.prometheus_text import MetricSample
from fleetcheck.errors import FleetcheckError, KindUnavailable, fresh
from fleetcheck.state.projection import project_items

__all__ = [
    "ClusterState",
    "ClusterUnreachable",
    "KindList",
    "KindReleased",
    "KindUnavailable",
    "MetricsUnavailable",
    "ServerVersion",
    "ServingCertificate",
]

Obj = dict[str, Any]
#: metric family name -> its samples (what :meth:`ClusterState.metric_samples` returns)
MetricFamilies = dict[str, list[MetricSample]]


class KindReleased(FleetcheckError):
    """A kind read after the run let go of the cluster's objects (its checks and facts were done).

    An error, never an empty list: a reader this late is a bug in the order of the run, not a cluster
    with no objects (re-listing would send the requests a second time).
    """


class ClusterUnreachable(KindUnavailable):
    """The API server itself could not be reached (refused, TLS, DNS, timeout)."""


class MetricsUnavailable(FleetcheckError):
    """The API server's ``/metrics`` could not be read: forbidden, not served, too large, or no API server.

    Not a kind (``/metrics`` is a nonResourceURL), so not a :class:`KindUnavailable`; a check that
    needs it becomes ``error`` with this message, which names what to grant.
    """

    def __init__(self, cluster: str, reason: str, status: int | None = None) -> None:
        self.cluster = cluster
        self.reason = reason
        self.status = status
        super().__init__(f"cannot read /metrics of {cluster}: {reason}")


@dataclass(frozen=True)
class ServerVersion:
    """The parts of ``/version`` checks use."""

    major: int
    minor: int
    git_version: str

    @classmethod
    def parse(cls, payload: Obj | str) -> ServerVersion:
        """From a ``/version`` object or a ``v1.31.4`` string; tolerant of ``1.21+`` and vendor suffixes."""
        if isinstance(payload, str):
            text = payload.strip().lstrip("v")
            parts = text.split(".")
            major = int("".join(ch for ch in parts[0] if ch.isdigit()) or 0)
            minor = int("".join(ch for ch in (parts[1] if len(parts) > 1 else "0") if ch.isdigit()) or 0)
            return cls(major, minor, payload.strip() if payload.startswith("v") else "v" + text)
        git = str(payload.get("gitVersion", ""))
        major_s = "".join(ch for ch in str(payload.get("major", "")) if ch.isdigit())
        minor_s = "".join(ch for ch in str(payload.get("minor", "")) if ch.isdigit())
        if major_s and minor_s:
            return cls(int(major_s), int(minor_s), git or f"v{major_s}.{minor_s}.0")
        return cls.parse(git)

    @property
    def minor_version(self) -> str:
        """``1.31``."""
        return f"{self.major}.{self.minor}"


@dataclass(frozen=True)
class ServingCertificate:
    """The API server's serving certificate as the scan's TLS handshake saw it: who it names, when it ends."""

    subject: str
    issuer: str
    not_after: datetime


@dataclass
class KindList:
    """The objects of one kind, with when the server said they were read.

    ``served`` is False when the kind is not installed (no CRD): an empty
    list that means "not there", distinct from "installed, zero objects".
    """

    ref: ResourceRef
    items: list[Obj]
    served: bool = True
    read_at: datetime | None = None
    requests: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    #: the items are already slim (:mod:`fleetcheck.state.projection`), e.g. projected page by page as listed
    projected: bool = False
    #: bytes of the API's responses this list came in (0 when not read from an API server)
    size: int = 0


class ClusterState(ABC):
    """Cached, read-only access to one cluster's objects.

    Subclasses implement :meth:`_fetch`; this class guarantees each kind is
    fetched once, errors are remembered (not retried by every check), and
    concurrent callers wait for the one fetch in flight.
    """

    #: True when backed by a live API server (live probes may run).
    is_live: bool = False
    #: True when the connection skips TLS verification (``insecure-skip-tls-verify``): honoured, but a finding.
    insecure: bool = False
    #: where :attr:`server_time` comes from: ``api`` (Date header), ``cluster.yaml``, or a guess from timestamps
    time_source: str = "api"

    def __init__(self, name: str) -> None:
        self.name = name
        #: keep slim projections of listed objects (:mod:`fleetcheck.state.projection`); a scan turns it on
        #: (unless ``--full-objects``), ``fleetcheck snapshot`` never does
        self.projection = False
        self._cache: dict[str, KindList | KindUnavailable] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._released = False

    # -- what subclasses provide -------------------------------------------------
    @abstractmethod
    def _fetch(self, ref: ResourceRef) -> KindList:
        """List every object of ``ref``; raise :class:`KindUnavailable` when it cannot."""

    @property
    @abstractmethod
    def version(self) -> ServerVersion:
        """The server's version (``/version``, or the snapshot's)."""

    @property
    @abstractmethod
    def server_time(self) -> datetime:
        """The cluster's "now": the API server's clock at read, or the snapshot's capture time."""

    # -- what checks use ---------------------------------------------------------
    def fetch(self, kind: str | ResourceRef) -> KindList:
        """The cached :class:`KindList` for ``kind``, fetching it on first use."""
        ref = parse_kind(kind)
        with self._guard:
            if self._released:
                kept = self._cache.get(ref.key)
                if isinstance(kept, KindUnavailable):  # why it could not be read outlives the release
                    raise fresh(kept)
                raise KindReleased(f"{ref.spec} of {self.name} was released: the cluster's checks and facts are done")
            lock = self._locks.setdefault(ref.key, threading.Lock())
        with lock:
            cached = self._cache.get(ref.key)
            if cached is None:
                try:
                    cached = self._fetch(ref)
                except KindUnavailable as exc:
                    cached = fresh(exc)  # kept without the frames that raised it (see fleetcheck.errors.fresh)
                else:
                    if self.projection and not cached.projected:
                        cached = _projected(cached)
                self._cache[ref.key] = cached
        if isinstance(cached, KindUnavailable):
            raise fresh(cached)
        return cached

    def list(self, kind: str | ResourceRef) -> list[Obj]:
        """All objects of ``kind`` (empty when none, or when the kind is not installed)."""
        return self.fetch(kind).items

    def serves(self, kind: str | ResourceRef) -> bool:
        """Whether the cluster serves ``kind`` at all (a CRD is installed)."""
        return self.fetch(kind).served

    def read_time(self, kind: str | ResourceRef) -> datetime:
        """The server's clock when ``kind`` was read (falls back to :attr:`server_time`)."""
        return self.fetch(kind).read_at or self.server_time

    @property
    def serving_certificate(self) -> ServingCertificate | None:
        """The API server's serving certificate, as its TLS handshake with the scan presented it.

        ``None`` when none was seen: a snapshot holds no handshake, a plain ``http://`` server has none,
        and a live state sees one only once a request went through. Readers say which, never "none".
        """
        return None

    def metric_samples(self, names: Collection[str]) -> MetricFamilies:
        """The samples of the metric families ``names`` from the API server's ``/metrics`` (empty: absent).

        Only a live API server has ``/metrics``; the default raises :class:`MetricsUnavailable`.
        """
        raise MetricsUnavailable(self.name, "only a live API server serves /metrics (this source has none)")

    def fetched_kinds(self) -> dict[str, KindList | KindUnavailable]:
        """What has been fetched so far (for snapshots and diagnostics)."""
        return dict(self._cache)

    @property
    def held_bytes(self) -> int:
        """Response bytes of the kinds listed and not released (what the prefetch window's budget counts)."""
        with self._guard:
            return sum(listed.size for listed in self._cache.values() if isinstance(listed, KindList))

    def release(self) -> None:
        """Let go of every listed object; a later :meth:`fetch` raises :class:`KindReleased`.

        The errors of kinds that could not be read are kept (they are small): a case that runs after
        the release (a fleet comparison ordered last) still errors with the real cause, so a verdict
        never depends on whether it ran before or after its cluster was released.
        """
        with self._guard:
            self._released = True
            self._cache = {key: value for key, value in self._cache.items() if isinstance(value, KindUnavailable)}

    def close(self) -> None:  # noqa: B027 - optional hook, most states hold nothing
        """Release connections; the default holds none."""


def _projected(listed: KindList) -> KindList:
    """``listed`` with its items slim (a new list; the source, e.g. a loaded snapshot, is not changed)."""
    return replace(listed, items=project_items(listed.ref.key, listed.items), projected=True)
