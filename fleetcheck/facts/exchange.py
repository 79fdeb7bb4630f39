"""Facts as the unit of exchange between xdist workers and shards: one JSON file per cluster.

A worker or a shard lists only the clusters it owns. For each of them it
computes the *shared facts* (every fact a fleet check reads about a peer,
and every drift dimension's fact), encodes the values (or the error each
raised) as JSON and publishes them into an exchange folder, one file per
cluster. Fleet checks about a cluster it does not own read that file and
nothing else: a peer's objects are never listed there.

Why files and not the xdist controller: shards run on different machines
(an Indexed Job shares a volume), and workers need a peer's facts *while*
the run goes on, which ``workeroutput`` (sent when a worker ends) cannot
give. One format serves both: a worker's folder is in the session's shared
base temp, a shard's is ``--facts DIR``. A file is written whole under an
exclusive ``flock`` on ``<cluster>.lock`` and renamed into place, so a
reader sees a complete file or none; a reader polls with a deadline (its
owner may still be listing the cluster) and then says who should have
written it.

Values are encoded with a tag per type (dataclasses, pydantic models,
tuples, sets, mappings, errors) and decode to equal values. Decoding
builds only fleetcheck's own dataclasses, pydantic models and errors
(never an arbitrary class named in a file), bounded in size and depth: the
folder may be a shared volume another process could have written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import fcntl
import importlib
import os
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import BaseModel

from fleetcheck.errors import FleetcheckError
from fleetcheck.facts.key import Fact

if TYPE_CHECKING:
    from fleetcheck.registry.profile import Profile
    from fleetcheck.view import ClusterView

__all__ = [
    "MAX_FILE_BYTES",
    "SCHEMA",
    "ExchangeError",
    "FactExchange",
    "PeerFactsMissing",
    "SharedFacts",
    "decode",
    "encode",
    "export_facts",
    "shared_facts",
]

SCHEMA = "fleetcheck/shared-facts/v1"
#: a cluster's file larger than this is refused (facts are summaries: kilobytes, not megabytes)
MAX_FILE_BYTES = 32 * 1024 * 1024
#: nesting a decoded value may have
MAX_DEPTH = 48
#: seconds between looks at a file not written yet (doubling from 10 ms)
_POLL_MAX = 0.25
#: modules whose classes a file may name
_ALLOWED_PREFIX = "fleetcheck."


class ExchangeError(FleetcheckError):
    """A shared fact could not be written or read (missing, late, malformed, or naming a foreign class)."""


class PeerFactsMissing(ExchangeError):
    """No owner published a peer's facts in time (a shard or worker missing): comparisons with it cannot be made.

    Unlike an unreadable peer (its owner could not list it, and says why), this is the run's own
    failure, so a fleet check errors instead of comparing without the peer.
    """


# -- values <-> JSON --------------------------------------------------------------------------------


def _class_name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def encode(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON-able data that :func:`decode` turns back into an equal value."""
    if depth > MAX_DEPTH:
        raise ExchangeError(f"value nested deeper than {MAX_DEPTH} levels: not shared")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return {"$enum": _class_name(type(value)), "v": encode(value.value, depth + 1)}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, BaseException):
        return _encode_error(value, depth)
    if isinstance(value, BaseModel):
        fields = {name: encode(getattr(value, name), depth + 1) for name in type(value).model_fields}
        return {"$model": _class_name(type(value)), "f": fields}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: encode(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)}
        return {"$dc": _class_name(type(value)), "f": fields}
    if isinstance(value, tuple):
        return {"$t": [encode(item, depth + 1) for item in value]}
    if isinstance(value, list):
        return [encode(item, depth + 1) for item in value]
    if isinstance(value, frozenset | set):
        items = sorted((encode(item, depth + 1) for item in value), key=lambda i: orjson.dumps(i))
        return {"$fs" if isinstance(value, frozenset) else "$set": items}
    if isinstance(value, Mapping):
        return {"$map": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    raise ExchangeError(f"a {type(value).__name__} cannot be shared (not a dataclass, model or plain value)")


def _encode_error(exc: BaseException, depth: int) -> dict[str, Any]:
    if not isinstance(exc, FleetcheckError):
        return {"$err": _class_name(FleetcheckError), "msg": str(exc), "a": {}}
    attrs = {name: encode(v, depth + 1) for name, v in vars(exc).items() if not name.startswith("_")}
    return {"$err": _class_name(type(exc)), "msg": str(exc), "a": attrs}


def _allowed_class(name: object) -> type:
    """The class a file names, if it is one of fleetcheck's own (imported already or importable by name)."""
    if not isinstance(name, str) or ":" not in name:
        raise ExchangeError(f"malformed class name {str(name)[:80]!r}")
    module_name, qualname = name.split(":", 1)
    if not module_name.startswith(_ALLOWED_PREFIX):
        raise ExchangeError(f"class {name[:120]!r} is not one of fleetcheck's: not decoded")
    module = sys.modules.get(module_name)
    if module is None:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            raise ExchangeError(f"class {name[:120]!r}: no such module") from None
    obj: Any = module
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    if not isinstance(obj, type):
        raise ExchangeError(f"class {name[:120]!r}: not found")
    return obj


def decode(data: Any, depth: int = 0) -> Any:
    """The value :func:`encode` encoded (raises :class:`ExchangeError` on anything else)."""
    if depth > MAX_DEPTH:
        raise ExchangeError(f"value nested deeper than {MAX_DEPTH} levels")
    if data is None or isinstance(data, bool | int | float | str):
        return data
    if isinstance(data, list):
        return [decode(item, depth + 1) for item in data]
    if not isinstance(data, dict) or len(data) > 3:
        raise ExchangeError("malformed shared value")
    if "$t" in data:
        return tuple(decode(item, depth + 1) for item in _items(data["$t"]))
    if "$fs" in data:
        return frozenset(decode(item, depth + 1) for item in _items(data["$fs"]))
    if "$set" in data:
        return {decode(item, depth + 1) for item in _items(data["$set"])}
    if "$map" in data:
        pairs = [_pair(p) for p in _items(data["$map"])]
        return {decode(k, depth + 1): decode(v, depth + 1) for k, v in pairs}
    if "$dt" in data:
        return datetime.fromisoformat(str(data["$dt"]))
    if "$enum" in data:
        cls = _allowed_class(data["$enum"])
        if not issubclass(cls, enum.Enum):
            raise ExchangeError(f"{data['$enum']!r} is not an enum")
        return cls(decode(data.get("v"), depth + 1))
    if "$dc" in data:
        return _decode_dataclass(_allowed_class(data["$dc"]), _fields(data), depth)
    if "$model" in data:
        cls = _allowed_class(data["$model"])
        if not issubclass(cls, BaseModel):
            raise ExchangeError(f"{data['$model']!r} is not a model")
        return cls(**{k: decode(v, depth + 1) for k, v in _fields(data).items()})
    if "$err" in data:
        return _decode_error(data, depth)
    raise ExchangeError("malformed shared value: unknown tag")


def _items(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ExchangeError("malformed shared value: expected a list")
    return value


def _pair(value: Any) -> tuple[Any, Any]:
    if not isinstance(value, list) or len(value) != 2:
        raise ExchangeError("malformed shared value: expected a key/value pair")
    return value[0], value[1]


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    fields = data.get("f")
    if not isinstance(fields, dict):
        raise ExchangeError("malformed shared value: expected fields")
    return fields


def _decode_dataclass(cls: type, fields: dict[str, Any], depth: int) -> Any:
    if not dataclasses.is_dataclass(cls):
        raise ExchangeError(f"{_class_name(cls)} is not a dataclass")
    names = {f.name for f in dataclasses.fields(cls)}
    if set(fields) != names:
        raise ExchangeError(f"{_class_name(cls)}: fields {sorted(set(fields) ^ names)} do not match")
    obj = object.__new__(cls)
    for name, raw in fields.items():  # every field, ``init=False`` ones too, and frozen classes alike
        object.__setattr__(obj, name, decode(raw, depth + 1))
    return obj


def _decode_error(data: dict[str, Any], depth: int) -> FleetcheckError:
    cls = _allowed_class(data["$err"])
    if not issubclass(cls, FleetcheckError):
        raise ExchangeError(f"{data['$err']!r} is not a fleetcheck error")
    attrs = data.get("a")
    if not isinstance(attrs, dict):
        raise ExchangeError("malformed shared error")
    error = cls.__new__(cls)
    Exception.__init__(error, str(data.get("msg", "")))  # str(error) is the message the owner saw
    for name, raw in attrs.items():
        if isinstance(name, str) and not name.startswith("_"):
            setattr(error, name, decode(raw, depth + 1))
    return error


# -- which facts are shared -------------------------------------------------------------------------


def shared_facts(profile: Profile) -> tuple[Fact[Any], ...]:
    """The facts a cluster judged by ``profile`` shares: every dimension's and every fleet check's, once each.

    A fact that reads nothing of the cluster's API (a DNS probe through a
    declared endpoint) is not shared: a reader computes it itself.
    """
    from fleetcheck.facts import admission, builtin, nodes
    from fleetcheck.facts.dimensions import dimensions_for
    from fleetcheck.facts.provider import PROVIDER

    wanted: list[Fact[Any]] = [
        builtin.CNI,
        builtin.DNS_SETUP,
        builtin.EDGE,
        builtin.AUTHENTICATION,
        builtin.SERVER_VERSION,
        PROVIDER,
        nodes.NODE_INVENTORY,
        admission.WEBHOOK_POLICIES,
        admission.NAMESPACE_ENFORCE,
        *(dimension.fact for dimension in dimensions_for(profile)),  # FC-RBAC-001's inventory among them
    ]
    seen: dict[str, Fact[Any]] = {}
    for fact in wanted:
        if fact.reads and fact.name not in seen:
            seen[fact.name] = fact
    return tuple(seen.values())


def export_facts(view: ClusterView, facts: Iterable[Fact[Any]]) -> dict[str, Any]:
    """The shared-facts document of one owned cluster: each fact's value or the error it raised."""
    entries: dict[str, Any] = {}
    for fact in facts:
        try:
            entries[fact.name] = {"value": encode(view.fact(fact))}
        except ExchangeError as exc:
            entries[fact.name] = {"error": encode(exc)}
        except FleetcheckError as exc:
            entries[fact.name] = {"error": encode(exc)}
    return {"schema": SCHEMA, "cluster": view.name, "live": view.is_live, "facts": entries}


# -- the folder ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SharedFacts:
    """One peer's published facts: ``get(FACT)`` is the owner's value, or raises the owner's error."""

    cluster: str
    live: bool
    entries: Mapping[str, Any]
    origin: str

    def get(self, fact: Fact[Any]) -> Any:
        """The value the owner computed for ``fact`` (its error re-raised; a fact it did not share is an error)."""
        entry = self.entries.get(fact.name)
        if entry is None:
            raise ExchangeError(
                f"fact {fact.name} of {self.cluster} is not among the facts {self.origin} shared "
                "(fleetcheck.facts.exchange.shared_facts lists them)"
            )
        if "error" in entry:
            error = decode(entry["error"])
            raise error if isinstance(error, FleetcheckError) else ExchangeError(str(error))
        return decode(entry.get("value"))


def _safe_name(cluster: str) -> str:
    """A cluster name as a file name (names are validated identifiers; anything else is escaped)."""
    return "".join(ch if ch.isalnum() or ch in "-_." else f"%{ord(ch):02x}" for ch in cluster).lstrip(".") or "_"


class FactExchange:
    """The folder where owners publish their clusters' shared facts and readers find them."""

    def __init__(self, directory: Path, *, wait: float = 600.0, origin: str = "its owner") -> None:
        self.directory = directory
        #: seconds a reader waits for a file its owner has not written yet
        self.wait = wait
        #: who writes the files (for messages): "worker gw1", "shard 2/4"
        self.origin = origin

    def path(self, cluster: str) -> Path:
        """Where ``cluster``'s shared facts are."""
        return self.directory / f"{_safe_name(cluster)}.facts.json"

    @contextlib.contextmanager
    def _locked(self, cluster: str) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / f"{_safe_name(cluster)}.lock", "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def publish(self, document: Mapping[str, Any]) -> Path:
        """Write one cluster's document whole (under its lock, renamed into place); the first writer wins."""
        cluster = str(document["cluster"])
        target = self.path(cluster)
        data = orjson.dumps(document)
        if len(data) > MAX_FILE_BYTES:
            raise ExchangeError(f"shared facts of {cluster}: {len(data):,} bytes, over {MAX_FILE_BYTES:,}")
        with self._locked(cluster):
            if target.exists():  # computed once per run: a second owner (a rerun shard) keeps the first
                return target
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(tmp, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        return target

    def has(self, cluster: str) -> bool:
        """Whether ``cluster``'s facts are published."""
        return self.path(cluster).is_file()

    def read(self, cluster: str, *, wait: float | None = None, owner: str | None = None) -> SharedFacts:
        """``cluster``'s shared facts, waiting up to ``wait`` seconds (default :attr:`wait`) for its ``owner``."""
        target = self.path(cluster)
        origin = owner or self.origin
        deadline = time.monotonic() + (self.wait if wait is None else wait)
        delay = 0.01
        while not target.is_file():
            if time.monotonic() >= deadline:
                raise PeerFactsMissing(
                    f"the facts of {cluster} were not published by {origin} within "
                    f"{self.wait if wait is None else wait:g} s (expected {target})"
                )
            time.sleep(delay)  # a file, not a server: nothing to poll but the folder
            delay = min(delay * 2, _POLL_MAX)
        return self.load(target, cluster, origin)

    def load(self, target: Path, cluster: str, origin: str | None = None) -> SharedFacts:
        """Parse one published file (bounded; a malformed one is an :class:`ExchangeError` naming it)."""
        try:
            size = target.stat().st_size
            if size > MAX_FILE_BYTES:
                raise ExchangeError(f"{target}: {size:,} bytes, over {MAX_FILE_BYTES:,}")
            raw = orjson.loads(target.read_bytes())
        except (OSError, orjson.JSONDecodeError) as exc:
            raise ExchangeError(f"{target}: cannot read the shared facts of {cluster}: {exc}") from None
        if not isinstance(raw, dict) or raw.get("schema") != SCHEMA:
            raise ExchangeError(f"{target}: not a {SCHEMA} document")
        if raw.get("cluster") != cluster:
            raise ExchangeError(f"{target}: holds the facts of {str(raw.get('cluster'))[:80]!r}, not {cluster!r}")
        if "error" in raw:
            raise ExchangeError(f"{cluster}: its owner could not share its facts: {str(raw['error'])[:500]}")
        entries = raw.get("facts")
        if not isinstance(entries, dict) or not all(isinstance(v, dict) for v in entries.values()):
            raise ExchangeError(f"{target}: malformed facts")
        return SharedFacts(cluster, bool(raw.get("live")), entries, origin or self.origin)

    def publish_error(self, cluster: str, reason: str) -> None:
        """Say that ``cluster``'s facts could not be computed, so its readers stop waiting and tell why."""
        with contextlib.suppress(OSError, ExchangeError):
            self.publish({"schema": SCHEMA, "cluster": cluster, "live": False, "error": reason[:2000]})
