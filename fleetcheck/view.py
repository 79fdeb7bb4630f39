"""What a check receives: one cluster (``cluster`` fixture) or the fleet (``fleet`` fixture).

A :class:`ClusterView` joins the registry entry (name, labels, declared
facts), the cluster's profile and its :class:`ClusterState`. Checks read
only through it, so they cannot tell a live cluster from a snapshot, and
never touch the API directly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, TypeVar

from fleetcheck.kinds import ResourceRef
from fleetcheck.registry.fleet import ClusterEntry, DeclaredFacts
from fleetcheck.registry.profile import Profile
from fleetcheck.state.base import ClusterState, ServerVersion

__all__ = ["ClusterView", "FleetView", "object_ref"]

T = TypeVar("T")
Obj = dict[str, Any]


def object_ref(obj: Obj, kind: str | None = None) -> str:
    """How findings name an object: ``namespace/Kind/name``, or ``Kind/name`` when cluster-scoped."""
    meta = obj.get("metadata") or {}
    kind_name = kind or str(obj.get("kind", "Object"))
    name = str(meta.get("name", "?"))
    namespace = meta.get("namespace")
    return f"{namespace}/{kind_name}/{name}" if namespace else f"{kind_name}/{name}"


class ClusterView:
    """One cluster as checks see it."""

    def __init__(self, entry: ClusterEntry, profile: Profile, state: ClusterState) -> None:
        self.entry = entry
        self.profile = profile
        self.state = state
        self._memo: dict[str, Any] = {}

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
        """Namespaces that are not system namespaces of the profile (and not terminating)."""
        for ns in self.list("namespaces"):
            name = str((ns.get("metadata") or {}).get("name", ""))
            phase = (ns.get("status") or {}).get("phase")
            if not self.profile.is_system_namespace(name) and phase != "Terminating":
                yield ns

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """Compute a derived fact once per cluster per run (an index, a parsed Corefile ...)."""
        if key not in self._memo:
            self._memo[key] = compute()
        value: T = self._memo[key]
        return value


class FleetView:
    """Every cluster of the run, for comparisons that still judge one cluster at a time."""

    def __init__(self, clusters: list[ClusterView]) -> None:
        self.clusters = clusters

    def __iter__(self) -> Iterator[ClusterView]:
        return iter(self.clusters)

    def __len__(self) -> int:
        return len(self.clusters)

    def get(self, name: str) -> ClusterView:
        """The cluster called ``name``."""
        for cluster in self.clusters:
            if cluster.name == name:
                return cluster
        raise KeyError(name)

    def peers(self, cluster: ClusterView) -> list[ClusterView]:
        """Clusters of the same profile, ``cluster`` included (the comparison group)."""
        return [c for c in self.clusters if c.profile.name == cluster.profile.name]
