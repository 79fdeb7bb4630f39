"""How a check says what it found: fail with objects, or skip with a reason.

A plain ``assert`` works (the message becomes the finding), but
:func:`fail` and :class:`Findings` also carry the objects to fix, which
``results.json``, the scorecard and waivers (by object glob) need.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NoReturn

import pytest

__all__ = ["CheckFailed", "Findings", "breakdown", "fail", "name_list", "skip"]

#: Findings listed inline in a message before "and N more".
MESSAGE_LIMIT = 10


class CheckFailed(AssertionError):
    """A check's verdict is ``fail``; carries the objects to fix."""

    def __init__(self, message: str, objects: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.objects = list(objects or [])


def fail(message: str, objects: list[str] | None = None) -> NoReturn:
    """End the check as ``fail`` with a message a person can act on and the objects to fix."""
    raise CheckFailed(message, objects)


def skip(reason: str) -> NoReturn:
    """End the check as ``skip``: not applicable here, with the reason."""
    pytest.skip(reason)


def name_list(names: Iterable[str], limit: int, *, sort: bool = True) -> str:
    """``a, b, c and 4 more``: names for a message, at most ``limit`` of them shown."""
    listed = sorted(names) if sort else list(names)
    shown = ", ".join(listed[:limit])
    more = len(listed) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def breakdown(groups: Mapping[str, list[str]], limit: int) -> str:
    """``kindnet on 3 (a, b, c), calico on 1 (d)``: who holds which value, largest group first."""
    ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    return ", ".join(f"{key} on {len(members)} ({name_list(members, limit)})" for key, members in ordered)


@dataclass
class Findings:
    """Collects offending objects, then fails once with all of them.

    >>> findings = Findings()
    >>> findings.add("team-a/Namespace/team-a", "no ResourceQuota")
    >>> findings.raise_if_any("1 of 3 namespaces lack a quota")  # doctest: +SKIP
    """

    items: list[tuple[str, str]] = field(default_factory=list)

    def add(self, obj: str, detail: str) -> None:
        """Record one offending object and what is wrong with it."""
        self.items.append((obj, detail))

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def objects(self) -> list[str]:
        """The offending objects, in the order found."""
        return [obj for obj, _ in self.items]

    def message(self, summary: str) -> str:
        """``summary: obj (detail); ...`` with at most :data:`MESSAGE_LIMIT` listed."""
        shown = "; ".join(f"{obj}: {detail}" if detail else obj for obj, detail in self.items[:MESSAGE_LIMIT])
        more = len(self.items) - MESSAGE_LIMIT
        return f"{summary}: {shown}" + (f"; and {more} more" if more > 0 else "")

    def raise_if_any(self, summary: str) -> None:
        """Fail the check when anything was found."""
        if self.items:
            raise CheckFailed(self.message(summary), self.objects)
