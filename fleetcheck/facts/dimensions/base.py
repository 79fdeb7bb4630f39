"""What a fleet drift dimension is: a typed fact, projected to one bounded, comparable, printable value.

A :class:`Dimension` names one thing clusters of a fleet should agree on
(the CNI, the DNS upstreams, the kubelet versions ...). It reads exactly one
:class:`~fleetcheck.facts.key.Fact` (the same key a check reads when a check
judges the same thing, so the fact is computed once) and projects it to a
:data:`DimValue`:

- ``str`` for one value (``calico``, ``1.31``);
- ``tuple[str, ...]`` for a set, sorted and deduplicated (``()`` is a known
  "none": no ingress controller, no webhook);
- :class:`Digest` for a set too large to show or compare item by item (a
  cluster with 10,000 CRDs): the count, a SHA-256 over the sorted items, and
  the first few; two digests compare equal exactly when the sets do.

``None`` is *unknown*: the cluster's data cannot show the value (no Corefile,
a managed control plane's flags). A projection raises
:class:`~fleetcheck.errors.FleetcheckError` when the fact could not be read
(an unreadable kind): that reading is an error, never a value, and never
votes. Every text taken from a cluster goes through :func:`clip` (redacted,
cut to :data:`MAX_ITEM_CHARS`), so values are safe to print and bounded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeAlias, TypeVar

from pydantic import BaseModel, ConfigDict

from fleetcheck.errors import FleetcheckError
from fleetcheck.facts.compare import Derive
from fleetcheck.facts.key import VERSION, Fact
from fleetcheck.redact import redact
from fleetcheck.registry.profile import Profile

__all__ = [
    "MAX_ITEMS",
    "MAX_ITEM_CHARS",
    "MAX_SCANNED",
    "Digest",
    "DimValue",
    "Dimension",
    "DimensionReading",
    "JSONable",
    "as_json",
    "clip",
    "item_set",
    "show_value",
]

T = TypeVar("T")
#: a set with more items than this is kept as a :class:`Digest`
MAX_ITEMS = 12
#: items a digest keeps to show
SAMPLE = 4
#: characters one item keeps (a hostile label value cannot blow up a report)
MAX_ITEM_CHARS = 160
#: items one projection looks at, at most; beyond that the reading is an error (not a truncated value)
MAX_SCANNED = 100_000
JSONable: TypeAlias = str | list[str] | dict[str, Any]


class Digest(BaseModel):
    """A large set, kept as its size, a SHA-256 of its sorted items and the first :data:`SAMPLE` of them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    count: int
    sha256: str
    sample: tuple[str, ...] = ()

    def show(self) -> str:
        """``412 items, sha256 1f2e3d4c5b6a (a, b, c, d, ...)``."""
        shown = ", ".join(self.sample)
        return f"{self.count} items, sha256 {self.sha256[:12]} ({shown}, ...)"


DimValue: TypeAlias = str | tuple[str, ...] | Digest


def clip(text: object) -> str:
    """A cluster's text as a value item: redacted, one line, at most :data:`MAX_ITEM_CHARS` characters."""
    flat = " ".join(redact(str(text)).split())
    return flat if len(flat) <= MAX_ITEM_CHARS else flat[: MAX_ITEM_CHARS - 1] + "…"


def item_set(items: Iterable[object], *, what: str = "items") -> tuple[str, ...] | Digest:
    """The distinct items, sorted; a :class:`Digest` past :data:`MAX_ITEMS`; an error past :data:`MAX_SCANNED`."""
    seen: set[str] = set()
    for index, item in enumerate(items):
        if index >= MAX_SCANNED:
            raise FleetcheckError(f"more than {MAX_SCANNED} {what}: not summarised (bounded work on cluster data)")
        seen.add(clip(item))
    ordered = tuple(sorted(seen))
    if len(ordered) <= MAX_ITEMS:
        return ordered
    digest = hashlib.sha256("\n".join(ordered).encode("utf-8")).hexdigest()
    return Digest(count=len(ordered), sha256=digest, sample=ordered[:SAMPLE])


def show_value(value: DimValue | None) -> str:
    """How a value prints: ``?`` unknown, ``none`` for an empty set, items joined with ``, ``."""
    if value is None:
        return "?"
    if isinstance(value, Digest):
        return value.show()
    if isinstance(value, tuple):
        return ", ".join(value) if value else "none"
    return value


def as_json(value: DimValue | None) -> JSONable | None:
    """The value in ``results.json``: a string, a list of strings, ``{count, sha256, sample}``, or null."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Digest):
        return value.model_dump(mode="json")
    return list(value)


@dataclass(frozen=True)
class DimensionReading:
    """One cluster's reading of one dimension: a value, unknown (``value`` None), or unreadable (``error``)."""

    value: DimValue | None = None
    error: str | None = None


def _no_reference(profile: Profile) -> tuple[str | None, str]:
    return None, ""


@dataclass(frozen=True, eq=False)
class Dimension(Generic[T]):
    """One drift dimension: its name, family, docs, the fact it reads and how that fact becomes its value.

    ``check`` is the code of the check that judges the dimension (its
    verdict, its fix), or None when the dimension is informational.
    ``declared`` reads the profile's declared standard for it (the same
    field the check reads), ``derive`` is the rule's derivation
    (FC-VER-001's "newest"), ``reference_setting`` a check's own reference
    setting (FC-RBAC-001's ``reference_cluster``).
    """

    name: str
    family: str
    title: str
    doc: str
    unknown_when: str
    fact: Fact[T]
    project: Callable[[T], DimValue | None]
    check: str | None = None
    declared: Callable[[Profile], DimValue | None] | None = None
    declared_as: str = ""
    derive: Derive = "majority"
    newest: Callable[[DimValue], Any] | None = None
    reference_setting: Callable[[Profile], tuple[str | None, str]] = _no_reference

    @property
    def reads(self) -> tuple[str, ...]:
        """The kinds the dimension reads (its fact's), without the ``/version`` pseudo-kind."""
        return tuple(kind for kind in self.fact.reads if kind != VERSION)

    @property
    def reads_version(self) -> bool:
        """Whether the dimension reads the API server's ``/version``."""
        return VERSION in self.fact.reads

    def declared_value(self, profile: Profile) -> DimValue | None:
        """The profile's declared standard for this dimension, or None."""
        return self.declared(profile) if self.declared is not None else None

    def __repr__(self) -> str:
        return f"<Dimension {self.name}>"
