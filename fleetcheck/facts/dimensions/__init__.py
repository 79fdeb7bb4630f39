"""The fleet drift dimensions: every per-cluster fact the fleet is compared on, side by side.

One small module per family (:mod:`.platform`, :mod:`.network`,
:mod:`.access`, :mod:`.operations`) declares its :class:`Dimension` objects
over typed facts; this module lists them in one order, reads one cluster's
values (:func:`read_dimension`, :func:`facts_document`) and says which kinds
they read (:func:`dimension_reads`), so ``fleetcheck facts`` lists each kind
once. The comparison itself is :mod:`fleetcheck.facts.drift`, through the one
rule of :mod:`fleetcheck.facts.compare`. docs/drift.md documents every
dimension (name, what, kinds read, when unknown).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from fleetcheck.core.kinds import parse_kind
from fleetcheck.errors import FleetcheckError
from fleetcheck.facts.dimensions import access, network, operations, platform
from fleetcheck.facts.dimensions.base import (
    Digest,
    Dimension,
    DimensionReading,
    DimValue,
    JSONable,
    as_json,
    clip,
    item_set,
    show_value,
)
from fleetcheck.registry.profile import Profile

if TYPE_CHECKING:
    from fleetcheck.view import ClusterView

__all__ = [
    "STATIC_DIMENSIONS",
    "Digest",
    "DimValue",
    "Dimension",
    "DimensionReading",
    "JSONable",
    "as_json",
    "clip",
    "dimension_names",
    "dimension_reads",
    "dimensions_for",
    "facts_document",
    "item_set",
    "read_dimension",
    "show_value",
]

#: every dimension but the RBAC fingerprint (whose fact depends on the profile's FC-RBAC-001 ignore_names)
STATIC_DIMENSIONS: tuple[Dimension[Any], ...] = (
    *platform.DIMENSIONS,
    *network.DIMENSIONS,
    *access.DIMENSIONS,
    *operations.DIMENSIONS,
)


def dimensions_for(profile: Profile) -> tuple[Dimension[Any], ...]:
    """The dimensions of a cluster judged by ``profile``, in display order."""
    return (*STATIC_DIMENSIONS, access.rbac_dimension(profile))


def dimension_names() -> tuple[str, ...]:
    """Every dimension's name, in display order (the same for every profile)."""
    return (*(d.name for d in STATIC_DIMENSIONS), "rbac.fingerprint")


def dimension_reads(profiles: Iterable[Profile] = ()) -> tuple[str, ...]:
    """Every kind the dimensions read, each once, sorted (``/version`` is read anyway)."""
    wanted: list[str] = ["clusterroles", "clusterrolebindings"]
    for dimension in STATIC_DIMENSIONS:
        wanted.extend(dimension.reads)
    for profile in profiles:
        wanted.extend(access.rbac_dimension(profile).reads)
    by_key: dict[str, str] = {}
    for kind in wanted:
        by_key.setdefault(parse_kind(kind).key, kind)
    return tuple(sorted(by_key.values()))


def read_dimension(cluster: ClusterView, dimension: Dimension[Any]) -> DimensionReading:
    """``cluster``'s value of ``dimension`` (its fact computed at most once per run), unknown, or the error."""
    try:
        return DimensionReading(dimension.project(cluster.fact(dimension.fact)))
    except FleetcheckError as exc:
        return DimensionReading(None, clip(str(exc)))


def facts_document(cluster: ClusterView) -> dict[str, JSONable | None]:
    """``clusters[].facts`` of ``results.json``: dimension -> JSON value, null when unknown or unreadable."""
    return {
        dimension.name: as_json(read_dimension(cluster, dimension).value)
        for dimension in dimensions_for(cluster.profile)
    }
