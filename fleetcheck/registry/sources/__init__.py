"""Fleet sources: the ``sources:`` section of a fleet file, and how their clusters become one fleet.

Each entry names a ``type`` — ``kubeconfig``, ``file``, ``capi``,
``argocd``, ``karmada``, ``ocm``, ``rancher``, ``clusterprofile``,
``flux``, ``sveltos`` — and the fleet is every
cluster the fleet file lists plus every cluster the sources find, in that
order. The same API server found twice (by normalised server URL, or a
known alias such as a control-plane endpoint) is one cluster: the first
finder keeps the name, later ones add their tag to ``source``
(``capi+argocd``) and a note.

The public surface is this module; the per-source modules are internal.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from fleetcheck.errors import ConfigError
from fleetcheck.registry.fleet_model import ClusterEntry
from fleetcheck.registry.sources.argocd import ArgoCDSource
from fleetcheck.registry.sources.base import (
    DiscoveredCluster,
    DiscoverySpec,
    Source,
    SourceContext,
    SourceSpec,
    SourceUnavailable,
    safe_name,
    to_entry,
)
from fleetcheck.registry.sources.capi import CapiSource
from fleetcheck.registry.sources.clusterprofile import ClusterProfileSource
from fleetcheck.registry.sources.credentials import InMemoryKubeconfig, normalise_server
from fleetcheck.registry.sources.file_source import FileSourceSpec, explicit_clusters
from fleetcheck.registry.sources.flux import FluxSource
from fleetcheck.registry.sources.karmada import KarmadaSource
from fleetcheck.registry.sources.kubeconfig_source import KubeconfigSource
from fleetcheck.registry.sources.ocm import OCMSource
from fleetcheck.registry.sources.rancher import RancherSource
from fleetcheck.registry.sources.sveltos import SveltosSource
from fleetcheck.registry.yamlfile import config_error_from_validation

__all__ = [
    "SOURCE_TYPES",
    "InMemoryKubeconfig",
    "SourceContext",
    "discover_sources",
    "explicit_clusters",
    "merge_discovered",
    "parse_sources",
]

log = logging.getLogger("fleetcheck.sources")

_SOURCES: tuple[type[Source], ...] = (
    KubeconfigSource,
    CapiSource,
    ArgoCDSource,
    KarmadaSource,
    OCMSource,
    RancherSource,
    ClusterProfileSource,
    FluxSource,
    SveltosSource,
)
#: ``type:`` -> settings model (``file`` has no discovery: the fleet file's loader reads its clusters)
SOURCE_TYPES: dict[str, type[SourceSpec]] = {
    "file": FileSourceSpec,
    **{cls.type_name: cls.spec_model for cls in _SOURCES},
}
_SOURCE_CLASSES: dict[str, type[Source]] = {cls.type_name: cls for cls in _SOURCES}
_FIX = "see docs/sources.md for each source's fields"


def parse_sources(raw: Sequence[Mapping[str, Any]], fleet_file: Any) -> list[tuple[int, SourceSpec]]:
    """Validate every ``sources:`` entry against its type's model; errors name ``sources[i].field``."""
    parsed: list[tuple[int, SourceSpec]] = []
    for index, item in enumerate(raw):
        where = f"sources[{index}]"
        kind = item.get("type")
        model = SOURCE_TYPES.get(kind) if isinstance(kind, str) else None
        if model is None:
            raise ConfigError(
                fleet_file,
                f"{where}.type",
                f"unknown source type {kind!r}" if kind is not None else "required field is missing",
                f"use one of: {', '.join(SOURCE_TYPES)}",
            )
        try:
            spec = model.model_validate(item)
        except ValidationError as exc:
            inner = config_error_from_validation(fleet_file, exc, _FIX)
            field = where if inner.field == "(top)" else f"{where}.{inner.field}"
            raise ConfigError(fleet_file, field, inner.problem, inner.fix) from None
        parsed.append((index, spec))
    return parsed


def _merge(old: ClusterEntry, new: ClusterEntry) -> ClusterEntry:
    """``old`` with ``new`` folded in: first finder's name, profile and labels win; working credentials win."""
    tags = old.source.split("+")
    source = old.source if new.source in tags else f"{old.source}+{new.source}"
    notes = [*old.notes, f"also found by {new.source} as {new.name!r}", *new.notes]
    update: dict[str, Any] = {"source": source, "labels": {**new.labels, **old.labels}}
    if old.credentials_error is not None and new.credentials_error is None:
        notes.append(f"credentials from {new.source}; {old.source} had none usable: {old.credentials_error}")
        update.update(
            credentials=new.credentials,
            credentials_error=None,
            context=new.context,
            kubeconfig=new.kubeconfig,
            server=old.server or new.server,
        )
    elif new.credentials_error is not None:
        notes.append(f"{new.source}'s credentials not used: {new.credentials_error}")
    update["notes"] = tuple(notes)
    return old.model_copy(update=update)


class _FleetBuilder:
    """Entries in order, indexed by server identity and by name, for merging and collision-free naming."""

    def __init__(self, explicit: list[ClusterEntry]) -> None:
        self.entries = list(explicit)
        #: per entry, the ``sources:`` indexes that found it (-1: written in the fleet file)
        self.origins: list[set[int]] = [{-1} for _ in self.entries]
        self.by_server: dict[str, int] = {}
        for i, entry in enumerate(self.entries):
            key = normalise_server(entry.server)
            if key is not None:
                self.by_server.setdefault(key, i)
        self.names = {entry.name for entry in self.entries}

    def add(self, entry: ClusterEntry, found: DiscoveredCluster, origin: int) -> None:
        keys = [k for k in (normalise_server(u) for u in [entry.server, *found.aliases]) if k is not None]
        hit = next((self.by_server[k] for k in keys if k in self.by_server), None)
        if hit is not None and origin in self.origins[hit]:
            # One source never lists a cluster twice: two of its objects sharing a URL are two clusters
            # (a shared load balancer, a stale endpoint), so keep both and say so rather than lose one.
            note = f"shares server {entry.server} with {self.entries[hit].name!r}"
            entry = entry.model_copy(update={"notes": (*entry.notes, note)})
            hit = None
        if hit is not None:
            self.entries[hit] = _merge(self.entries[hit], entry)
            self.origins[hit].add(origin)
        else:
            name = self._free_name(entry, found)
            if name != entry.name:
                entry = entry.model_copy(
                    update={
                        "name": name,
                        "notes": (*entry.notes, f"renamed from {entry.name!r}: the name is taken by another cluster"),
                    }
                )
            hit = len(self.entries)
            self.entries.append(entry)
            self.origins.append({origin})
            self.names.add(name)
        for key in keys:
            self.by_server.setdefault(key, hit)

    def _free_name(self, entry: ClusterEntry, found: DiscoveredCluster) -> str:
        if entry.name not in self.names:
            return entry.name
        candidates = []
        if found.namespace:
            candidates.append(safe_name(f"{found.namespace}-{entry.name}"))
        candidates.append(safe_name(f"{entry.name}-{entry.source}"))
        for candidate in candidates:
            if candidate not in self.names:
                return candidate
        number = 2
        while f"{candidates[-1]}-{number}" in self.names:
            number += 1
        return f"{candidates[-1]}-{number}"


def merge_discovered(
    explicit: list[ClusterEntry], discovered: list[tuple[int, ClusterEntry, DiscoveredCluster]]
) -> list[ClusterEntry]:
    """The fleet's entries: ``explicit`` as they are, then each discovered one merged or appended.

    ``discovered`` holds (source index, entry, what the source found); two
    clusters of one source are never merged with each other.
    """
    builder = _FleetBuilder(explicit)
    for origin, entry, found in discovered:
        builder.add(entry, found, origin)
    return builder.entries


def discover_sources(
    specs: list[tuple[int, SourceSpec]], ctx: SourceContext, explicit: list[ClusterEntry]
) -> list[ClusterEntry]:
    """Run every discovering source in order and merge what they find into ``explicit``.

    A source whose management cluster cannot be read raises (exit 2), unless
    it is ``optional``: then a warning names it and the fleet is built
    without it. A cluster a source found but cannot reach is kept, with the
    reason its checks will error with.
    """
    sources: list[tuple[Source, DiscoverySpec]] = []
    for index, spec in specs:
        cls = _SOURCE_CLASSES.get(spec.type)
        if cls is not None and isinstance(spec, DiscoverySpec):  # ``file``: already in ``explicit``
            sources.append((cls(spec, index), spec))
    for source, _spec in sources:  # every input error before the first request
        source.check(ctx)
    discovered: list[tuple[int, ClusterEntry, DiscoveredCluster]] = []
    for source, spec in sources:
        try:
            found = source.discover(ctx)
        except SourceUnavailable as exc:
            if not getattr(spec, "optional", False):
                raise
            log.warning("fleetcheck: optional source skipped: %s", exc.one_line())
            continue
        for cluster in found:
            if spec.selects(cluster.name):
                discovered.append((source.index, to_entry(cluster, spec, spec.tag, ctx, source.where), cluster))
    return merge_discovered(explicit, discovered)
