"""What a collected pytest item is to fleetcheck: its check, the cluster it judges, whether it compares.

Every part of the session asks these questions of items (the plugin to
order and parametrize them, sharing to count releases, the records to
count what was planned), so they are answered once, here. None of them
imports the catalog unless the item is a check, so a session of other
tests pays nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from fleetcheck.catalog import CheckSpec

__all__ = ["check_cases", "cluster_of", "compares", "is_xdist", "kinds_by_cluster", "now", "spec_of"]


def spec_of(obj: Any) -> CheckSpec | None:
    """The check declared on ``obj``; None, without importing the catalog, for anything that is not a check.

    :func:`fleetcheck.catalog.check` marks each check function with ``__fleetcheck__`` (read by
    :func:`fleetcheck.catalog.spec_of`); a plain test has none, so a pytest session of other tests
    never imports the catalog and pays nothing for the plugin.
    """
    if getattr(obj, "__fleetcheck__", None) is None:
        return None
    from fleetcheck.catalog import spec_of as declared

    return declared(obj)


def cluster_of(item: pytest.Item) -> str | None:
    """The cluster a check's case judges (None for anything else)."""
    callspec = getattr(item, "callspec", None)
    if callspec is None or spec_of(getattr(item, "function", None)) is None:
        return None
    param = callspec.params.get("cluster")
    return param if isinstance(param, str) else None


def compares(item: pytest.Item) -> bool:
    """A fleet comparison's case (its check takes the ``fleet`` fixture): it reads peers' facts."""
    return "fleet" in getattr(item, "fixturenames", ())


def is_xdist(config: pytest.Config) -> bool:
    """An xdist worker, or a controller that hands the cases to workers."""
    return hasattr(config, "workerinput") or bool(config.getoption("numprocesses", None, skip=False) or 0)


def kinds_by_cluster(cases: Iterable[tuple[str, Iterable[str]]]) -> dict[str, list[str]]:
    """Cluster -> the kinds its cases read (sorted), clusters in the order of their first case.

    ``cases`` are (cluster, kinds the case's check reads) in run order: the
    plan the prefetch pool and the fact exchange list clusters by.
    """
    kinds: dict[str, set[str]] = {}
    for name, reads in cases:
        kinds.setdefault(name, set()).update(reads)
    return {name: sorted(wanted) for name, wanted in kinds.items()}


def check_cases(items: Iterable[pytest.Item]) -> list[tuple[str, CheckSpec, bool]]:
    """The check cases among ``items``, in order: (cluster, check, whether it is a fleet comparison)."""
    found: list[tuple[str, CheckSpec, bool]] = []
    for item in items:
        name = cluster_of(item)
        spec = spec_of(getattr(item, "function", None))
        if name is not None and spec is not None:
            found.append((name, spec, compares(item)))
    return found


def now() -> str:
    """The current UTC time as ``results.json`` writes it (whole seconds, ``Z``)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
