"""The one way a message names an object, and the one way it says how many it did not list.

Plain text formatting with no I/O, at the bottom of the layers so that every
layer names things alike: a fact parser, the snapshot loader, the registry's
sources and a check all say ``team-a/Deployment/web`` and ``and 1,204 more``.
The check API re-exports these (:mod:`fleetcheck.outcomes`,
:func:`fleetcheck.object_ref`), so check authors import them from
``fleetcheck``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["breakdown", "more", "name_list", "object_ref"]


def object_ref(obj: dict[str, Any], kind: str | None = None) -> str:
    """How findings name an object: ``namespace/Kind/name``, or ``Kind/name`` when cluster-scoped."""
    meta = obj.get("metadata") or {}
    kind_name = kind or str(obj.get("kind", "Object"))
    name = str(meta.get("name", "?"))
    namespace = meta.get("namespace")
    return f"{namespace}/{kind_name}/{name}" if namespace else f"{kind_name}/{name}"


def more(count: int) -> str:
    """``and 199,000 more``: the one way a message says how many it did not list."""
    return f"and {count:,} more"


def name_list(names: Iterable[str], limit: int, *, sort: bool = True, sep: str = ", ") -> str:
    """``a, b, c and 4 more``: names for a message, at most ``limit`` of them shown (joined by ``sep``)."""
    listed = sorted(names) if sort else list(names)
    shown = sep.join(listed[:limit])
    hidden = len(listed) - limit
    return shown + (f" {more(hidden)}" if hidden > 0 else "")


def breakdown(groups: Mapping[str, list[str]], limit: int) -> str:
    """``kindnet on 3 (a, b, c), calico on 1 (d)``: who holds which value, largest group first."""
    ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    return ", ".join(f"{key} on {len(members)} ({name_list(members, limit)})" for key, members in ordered)
