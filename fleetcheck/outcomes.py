"""How a check says what it found: fail with objects, or skip with a reason.

A plain ``assert`` works (the message becomes the finding), but
:func:`fail` and :class:`Findings` also carry the objects to fix, which
``results.json``, the scorecard and waivers (by object glob) need.

Both are bounded, whatever the cluster holds (a Corefile with 200,000
upstreams, a million unbounded pods): a failing check's message is cut to
about :data:`MESSAGE_MAX_CHARS` characters and its objects to
:data:`OBJECTS_MAX`, with the count of the rest said in the message
(:func:`fleetcheck.core.refs.more`, the one "and N more"), so every report stays bounded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NoReturn

import pytest

from fleetcheck.core.refs import breakdown, more, name_list
from fleetcheck.redact import redact

__all__ = [
    "MESSAGE_MAX_CHARS",
    "OBJECTS_MAX",
    "CheckFailed",
    "Findings",
    "bounded_message",
    "breakdown",
    "fail",
    "more",
    "name_list",
    "skip",
]

#: Findings listed inline in a message before "and N more".
MESSAGE_LIMIT = 10
#: A failing check's message is cut (at a word break) to about this many characters.
MESSAGE_MAX_CHARS = 2_000
#: Objects a failing check lists at most; how many more there were is said in its message.
OBJECTS_MAX = 1_000


def bounded_message(message: str, limit: int = MESSAGE_MAX_CHARS) -> str:
    """``message`` redacted, then cut at a word break to about ``limit`` characters, the cut said.

    Redaction runs first so a credential is never cut in half (and so left
    unrecognisable to :func:`fleetcheck.redact.redact`); a word longer than
    what is left is dropped whole rather than shown in part.
    """
    text = redact(message)
    if len(text) <= limit:
        return text
    head = text[:limit]
    cut = max(head.rfind(" "), head.rfind("\n"))
    head = head[:cut] if cut > 0 else ""
    return f"{head.rstrip()} ... ({len(text) - len(head):,} more characters not shown)"


class CheckFailed(AssertionError):
    """A check's verdict is ``fail``; carries the objects to fix (both bounded, see the module docs).

    :attr:`objects_total` is how many objects the check found; when it is
    more than :data:`OBJECTS_MAX` only the first ones are kept, and the
    message says how many more there were.
    """

    def __init__(self, message: str, objects: list[str] | None = None) -> None:
        found = list(objects or [])
        self.objects_total = len(found)
        self.objects = found[:OBJECTS_MAX]
        text = bounded_message(message)
        if self.objects_total > OBJECTS_MAX:
            text += f" (objects: the first {OBJECTS_MAX:,} listed, {more(self.objects_total - OBJECTS_MAX)})"
        super().__init__(text)
        self.message = text


def fail(message: str, objects: list[str] | None = None) -> NoReturn:
    """End the check as ``fail`` with a message a person can act on and the objects to fix."""
    raise CheckFailed(message, objects)


def skip(reason: str) -> NoReturn:
    """End the check as ``skip``: not applicable here, with the reason."""
    pytest.skip(reason)


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
        hidden = len(self.items) - MESSAGE_LIMIT
        return f"{summary}: {shown}" + (f"; {more(hidden)}" if hidden > 0 else "")

    def raise_if_any(self, summary: str) -> None:
        """Fail the check when anything was found."""
        if self.items:
            raise CheckFailed(self.message(summary), self.objects)
