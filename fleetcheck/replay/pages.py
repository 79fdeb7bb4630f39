"""Snapshots turned, once, into the bytes the replay server sends.

Every object is serialised a single time with orjson when the server starts
(timestamps rebased, legacy ``apiVersion`` modernised), and kept only as
bytes plus the few fields requests filter on. A list response is then a join
of ready-made byte strings: no JSON is parsed or produced per request, which
keeps the replay server out of the way of a 100-cluster benchmark.

This module also decides *what* a snapshot serves: every built-in kind
(absent from the snapshot means zero objects, as on a real server), every kind
the snapshot holds, and every custom resource whose CRD it holds. A custom
group with neither objects nor a CRD is not served at all, which is how a
scan tells "CRD not installed" from "installed, zero objects".
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from fleetcheck.core.kinds import KNOWN_KINDS, ResourceRef, canonical_key, is_builtin, ref_for_object
from fleetcheck.state.snapshot_model import Snapshot

from .selectors import FieldRequirement, LabelRequirement, field_value, supported_fields

__all__ = [
    "ClusterPages",
    "KindPages",
    "PageCache",
    "TimeRebaser",
    "build_cluster_pages",
    "render_json",
    "version_priority",
]

Obj = dict[str, Any]

#: datetimes (from YAML snapshots) become RFC3339 with ``Z``, like the API server writes them.
_ORJSON_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC | orjson.OPT_NON_STR_KEYS
_KNOWN_BY_KEY: dict[str, ResourceRef] = {ref.key: ref for ref in KNOWN_KINDS}
_CRD_KEY = "customresourcedefinitions.apiextensions.k8s.io"
_SECRETS_KEY = "secrets"


def _json_fallback(value: Any) -> Any:
    """Anything orjson does not know (e.g. a YAML ``!!binary``) is sent as its string form."""
    if isinstance(value, bytes | bytearray):
        return value.decode("utf-8", "replace")
    return str(value)


def render_json(value: Any) -> bytes:
    """Serialise ``value`` the way every replay response is serialised."""
    return orjson.dumps(value, default=_json_fallback, option=_ORJSON_OPTIONS)


class TimeRebaser:
    """Shifts every RFC3339 UTC timestamp string inside rendered JSON by whole seconds.

    Works on the serialised bytes, so no object is copied: a JSON string that
    is exactly ``YYYY-MM-DDTHH:MM:SS(.fraction)?Z`` is moved, in any field
    (``creationTimestamp``, a Lease's MicroTime ``renewTime``, Velero's
    ``status.completionTimestamp`` ...). Timestamps quoted inside other strings
    (``last-applied-configuration``) are left alone, as are keys' neighbours.
    The shift is whole seconds so that fractions keep their digits.
    """

    # No look-behind: a pattern that starts with a literal quote is searched several times faster.
    _PATTERN = re.compile(rb'"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?Z"')
    #: bytes that may precede the opening quote of a JSON value (anything else: inside another string)
    _VALUE_START = frozenset(b"[,:{ \t\r\n")

    def __init__(self, shift_seconds: int) -> None:
        self.shift = timedelta(seconds=shift_seconds)
        self._memo: dict[bytes, bytes] = {}

    def _replace(self, match: re.Match[bytes]) -> bytes:
        start = match.start()
        if start and match.string[start - 1] not in self._VALUE_START:
            return match[0]
        whole = match[1]
        moved = self._memo.get(whole)
        if moved is None:
            try:
                parsed = datetime.fromisoformat(whole.decode())
                moved = (parsed + self.shift).strftime("%Y-%m-%dT%H:%M:%S").encode()
            except (ValueError, OverflowError):
                moved = whole
            if len(moved) != len(whole):  # years past 9999 or before 1000: leave them be
                moved = whole
            self._memo[whole] = moved
        return b'"' + moved + (match[2] or b"") + b'Z"'

    def __call__(self, body: bytes) -> bytes:
        """``body`` with its timestamps shifted (the same object when the shift is zero)."""
        if not self.shift:
            return body
        return self._PATTERN.sub(self._replace, body)


def version_priority(version: str) -> tuple[int, int, int, str]:
    """Sort key putting the version kube-apiserver prefers first (v2 > v1 > v1beta2 > v1beta1 > v1alpha1)."""
    match = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", version)
    if not match:
        return (3, 0, 0, version)
    stability = {None: 0, "beta": 1, "alpha": 2}[match[2]]
    return (stability, -int(match[1]), -int(match[3] or 0), version)


@dataclass
class KindPages:
    """The rendered objects of one served resource, sorted like etcd keys (namespace, name)."""

    ref: ResourceRef
    bodies: list[bytes]
    namespaces: list[str]
    names: list[str]
    labels: list[dict[str, str]]
    #: per namespace, the [start, end) slice of the sorted objects
    spans: dict[str, tuple[int, int]]
    index: dict[tuple[str, str], int]
    #: per object, the kind's selectable fields beyond name/namespace (``spec.nodeName`` ...); filled on
    #: the first field selector that needs them, since most kinds are never selected that way
    _fields: list[dict[str, str]] | None = None

    @property
    def list_kind(self) -> str:
        """``PodList`` for pods."""
        return f"{self.ref.kind}List"

    def __len__(self) -> int:
        return len(self.bodies)

    def select(
        self,
        namespace: str | None,
        labels: Sequence[LabelRequirement] = (),
        fields: Sequence[FieldRequirement] = (),
    ) -> Sequence[int]:
        """Indices of the objects a list request selects, in list order.

        A namespace alone is a slice (objects are sorted by namespace), so
        the common requests cost nothing; selectors filter that slice.
        """
        if namespace is None or not self.ref.namespaced:
            candidates: Sequence[int] = range(len(self.bodies))
        else:
            start, end = self.spans.get(namespace, (0, 0))
            candidates = range(start, end)
        if not labels and not fields:
            return candidates
        return [
            i
            for i in candidates
            if all(req.matches(self.labels[i]) for req in labels)
            and all(req.matches(self._field(i, req.field)) for req in fields)
        ]

    def _field(self, i: int, path: str) -> str:
        if path == "metadata.name":
            return self.names[i]
        if path == "metadata.namespace":
            return self.namespaces[i]
        if self._fields is None:
            selectable = sorted(supported_fields(self.ref.key) - {"metadata.name", "metadata.namespace"})
            self._fields = [
                {name: field_value(obj, name) for name in selectable} for obj in map(orjson.loads, self.bodies)
            ]
        return self._fields[i].get(path, "")

    def find(self, namespace: str | None, name: str) -> int | None:
        """Index of one object by namespace (ignored for cluster-scoped kinds) and name."""
        scope = (namespace or "") if self.ref.namespaced else ""
        return self.index.get((scope, name))


class ClusterPages:
    """Everything one cluster serves: resources by (group, version, plural), rendered."""

    def __init__(
        self,
        name: str,
        kinds: dict[tuple[str, str, str], KindPages],
        forbidden: dict[tuple[str, str, str], ResourceRef],
        resource_version: str,
        server_version: Obj,
        withheld_because: Mapping[tuple[str, str, str], str] | None = None,
        metrics: bytes | None = None,
    ) -> None:
        self.name = name
        #: what ``/metrics`` answers (Prometheus text, the snapshot folder's ``metrics.txt``); None: 404
        self.metrics = metrics
        self.kinds = kinds
        #: resources listed in discovery whose objects are withheld (Secrets; kinds the snapshot could not
        #: capture or does not hold): answered 403, so a live scan of the replay errors instead of reading "none"
        self.forbidden = forbidden
        #: why each forbidden resource is withheld (the 403's message); Secrets when absent
        self.withheld_because = dict(withheld_because or {})
        self.resource_version = resource_version
        self.server_version = server_version

    def resources(self) -> list[ResourceRef]:
        """Every resource discovery lists, served or forbidden."""
        return [pages.ref for pages in self.kinds.values()] + list(self.forbidden.values())

    def group_versions(self) -> dict[str, list[str]]:
        """Served versions per group (core is ``""``), preferred version first."""
        found: dict[str, set[str]] = {}
        for ref in self.resources():
            found.setdefault(ref.group, set()).add(ref.version)
        return {group: sorted(versions, key=version_priority) for group, versions in found.items()}


class PageCache:
    """Least-recently-used cache of response bodies, bounded by total bytes.

    Pages are immutable (a snapshot never changes), so a hit is always right;
    the bound keeps a benchmark over many clusters from growing without end.
    Used only from the server's event-loop thread.
    """

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._size = 0
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> bytes | None:
        """The cached body for ``key``, or None."""
        body = self._entries.get(key)
        if body is None:
            self.misses += 1
            return None
        self.hits += 1
        self._entries.move_to_end(key)
        return body

    def put(self, key: Hashable, body: bytes) -> None:
        """Remember ``body``; bodies larger than a quarter of the budget are not kept."""
        if len(body) > self.max_bytes // 4 or key in self._entries:
            return
        self._entries[key] = body
        self._size += len(body)
        while self._size > self.max_bytes:
            _, dropped = self._entries.popitem(last=False)
            self._size -= len(dropped)


# -- deciding what a snapshot serves -------------------------------------------------------------------


@dataclass
class _Resource:
    ref: ResourceRef
    objects: list[Obj] = field(default_factory=list)


def _crd_resource(crd: Obj) -> ResourceRef | None:
    """The resource a CustomResourceDefinition object declares (``None`` if malformed)."""
    spec = crd.get("spec")
    if not isinstance(spec, Mapping):
        return None
    names = spec.get("names") or {}
    group, plural, kind = spec.get("group"), names.get("plural"), names.get("kind")
    if not (isinstance(group, str) and isinstance(plural, str) and isinstance(kind, str)):
        return None
    versions = [v for v in spec.get("versions") or [] if isinstance(v, Mapping) and v.get("served", True)]
    storage = [v["name"] for v in versions if v.get("storage") and isinstance(v.get("name"), str)]
    served = [v["name"] for v in versions if isinstance(v.get("name"), str)]
    version = (storage or served or [spec.get("version") or "v1"])[0]
    short = tuple(s for s in names.get("shortNames") or [] if isinstance(s, str))
    return ResourceRef(
        group, str(version), plural, kind, spec.get("scope", "Namespaced") != "Cluster", short_names=short
    )


def _snapshot_ref(snapshot: Snapshot, key: str) -> ResourceRef | None:
    ref = snapshot.refs.get(key)
    if ref is not None:
        return ref
    for obj in snapshot.objects.get(key, []):
        if isinstance(obj.get("apiVersion"), str) and isinstance(obj.get("kind"), str):
            return ref_for_object(obj["apiVersion"], obj["kind"])
    return _KNOWN_BY_KEY.get(key)


def _served_ref(key: str, found: ResourceRef, crd: ResourceRef | None) -> ResourceRef:
    """The group/version/plural a kind is served under.

    Built-in kinds fleetcheck knows are served under their modern
    group/version whatever the snapshot's objects say (a v1.31 server serves
    old ``extensions/v1beta1`` DaemonSets as ``apps/v1``); custom resources
    keep the version their objects were captured at; a CRD object settles
    scope and short names.
    """
    known = _KNOWN_BY_KEY.get(key) or _KNOWN_BY_KEY.get(canonical_key(found.group, found.plural))
    if known is not None and is_builtin(known):
        return known
    base = known or found
    version = found.version or base.version
    namespaced = crd.namespaced if crd is not None else base.namespaced
    short = crd.short_names if crd is not None and crd.short_names else base.short_names
    return ResourceRef(base.group, version, base.plural, base.kind, namespaced, base.legacy_groups, short)


def _served_resources(snapshot: Snapshot) -> dict[str, _Resource]:
    resources: dict[str, _Resource] = {ref.key: _Resource(ref) for ref in KNOWN_KINDS if is_builtin(ref)}
    crds: dict[str, ResourceRef] = {}
    crds_by_kind: dict[tuple[str, str], ResourceRef] = {}
    for crd in snapshot.objects.get(_CRD_KEY, []):
        crd_ref = _crd_resource(crd)
        if crd_ref is not None:
            crds[crd_ref.key] = crds_by_kind[(crd_ref.group, crd_ref.kind)] = crd_ref
    for snap_key in dict.fromkeys([*snapshot.refs, *snapshot.objects]):
        found = _snapshot_ref(snapshot, snap_key)
        if found is None:
            continue
        objects = list(snapshot.objects.get(snap_key, []))
        key = snap_key
        crd_ref = crds.get(key) or crds_by_kind.get((found.group, found.kind))
        if crd_ref is not None and crd_ref.key != key:
            # The snapshot guessed the plural from the kind; the CRD knows it.
            found = ResourceRef(found.group, found.version, crd_ref.plural, found.kind, crd_ref.namespaced)
            key = crd_ref.key
        previous = resources.get(key)
        if previous is not None:
            objects = previous.objects + objects
        resources[key] = _Resource(_served_ref(key, found, crd_ref), objects)
    for key, crd_ref in crds.items():
        if key not in resources:
            resources[key] = _Resource(_served_ref(key, crd_ref, crd_ref))
    return resources


def _default_server_version(raw: Mapping[str, Any] | str | None) -> Obj:
    """A complete ``/version`` object (the client rejects one missing any field), default v1.31.0."""
    given: dict[str, Any] = {}
    if isinstance(raw, str):
        given = {"gitVersion": raw}
    elif isinstance(raw, Mapping):
        given = {str(k): v for k, v in raw.items()}
    git_version = str(given.get("gitVersion") or "v1.31.0")
    if not git_version.startswith("v"):
        git_version = "v" + git_version
    parts = re.findall(r"\d+", git_version)
    major = parts[0] if parts else "1"
    minor = parts[1] if len(parts) > 1 else "31"
    result: Obj = {
        "major": str(given.get("major") or major),
        "minor": str(given.get("minor") or minor),
        "gitVersion": git_version,
        "gitCommit": str(given.get("gitCommit") or "0" * 40),
        "gitTreeState": str(given.get("gitTreeState") or "clean"),
        "buildDate": str(given.get("buildDate") or "2024-01-01T00:00:00Z"),
        "goVersion": str(given.get("goVersion") or "go1.22.5"),
        "compiler": str(given.get("compiler") or "gc"),
        "platform": str(given.get("platform") or "linux/amd64"),
    }
    for extra_key, value in given.items():
        result.setdefault(extra_key, value)
    return result


def _render_kind(ref: ResourceRef, objects: Iterable[Obj], rebase: TimeRebaser) -> tuple[KindPages, int]:
    """Render one kind; returns the pages and the highest numeric resourceVersion seen."""
    group_version = ref.group_version
    by_key: dict[tuple[str, str], tuple[Obj, dict[str, str]]] = {}
    newest = 0
    for obj in objects:
        if not isinstance(obj, Mapping):
            continue
        raw_meta = obj.get("metadata")
        meta: Mapping[str, Any] = raw_meta if isinstance(raw_meta, Mapping) else {}
        namespace = str(meta.get("namespace") or "") if ref.namespaced else ""
        name = str(meta.get("name") or "")
        raw_labels = meta.get("labels")
        labels = {str(k): str(v) for k, v in raw_labels.items()} if isinstance(raw_labels, Mapping) else {}
        rv = str(meta.get("resourceVersion") or "")
        if rv.isdigit():
            newest = max(newest, int(rv))
        by_key[(namespace, name)] = (dict(obj), labels)  # a later duplicate wins, like a re-apply
    ordered = sorted(by_key.items(), key=lambda item: item[0])
    bodies: list[bytes] = []
    spans: dict[str, tuple[int, int]] = {}
    for i, ((namespace, _name), (obj, _labels)) in enumerate(ordered):
        if obj.get("apiVersion") != group_version or obj.get("kind") != ref.kind:
            obj = {**obj, "apiVersion": group_version, "kind": ref.kind}
        bodies.append(rebase(render_json(obj)))
        start, _ = spans.get(namespace, (i, i))
        spans[namespace] = (start, i + 1)
    pages = KindPages(
        ref=ref,
        bodies=bodies,
        namespaces=[key[0] for key, _ in ordered],
        names=[key[1] for key, _ in ordered],
        labels=[labels for _, (_, labels) in ordered],
        spans=spans,
        index={key: i for i, (key, _) in enumerate(ordered)},
    )
    return pages, newest


def build_cluster_pages(
    snapshot: Snapshot,
    *,
    now: datetime | None = None,
    rebase_time: bool = True,
    serve_secrets: bool = False,
) -> ClusterPages:
    """Render ``snapshot`` for serving.

    With ``rebase_time`` and a known ``snapshot.captured``, every timestamp is
    moved by ``now - captured`` (whole seconds) so that ages measured against
    the real clock are what they were at capture. Secrets are listed in
    discovery, as on any server, but their objects are not rendered (and so
    cannot leak) unless ``serve_secrets``.
    """
    shift = 0
    if rebase_time and snapshot.captured is not None:
        captured = snapshot.captured if snapshot.captured.tzinfo else snapshot.captured.replace(tzinfo=UTC)
        # Whole seconds, rounded down: an age is never served younger than it was at capture.
        shift = math.floor(((now or datetime.now(UTC)) - captured).total_seconds())
    rebase = TimeRebaser(shift)
    kinds: dict[tuple[str, str, str], KindPages] = {}
    forbidden: dict[tuple[str, str, str], ResourceRef] = {}
    newest = 0
    withheld_because: dict[tuple[str, str, str], str] = {}
    for key, resource in _served_resources(snapshot).items():
        ref = resource.ref
        address = (ref.group, ref.version, ref.plural)
        if key == _SECRETS_KEY and not serve_secrets:
            forbidden[address] = ref
            continue
        reason = _withheld_reason(snapshot, key)
        if reason is not None:
            forbidden[address] = ref
            withheld_because[address] = reason
            continue
        pages, kind_newest = _render_kind(ref, resource.objects, rebase)
        kinds[address] = pages
        newest = max(newest, kind_newest)
    return ClusterPages(
        name=snapshot.name,
        kinds=kinds,
        forbidden=forbidden,
        resource_version=str(newest or 1),
        server_version=_default_server_version(snapshot.server_version),
        withheld_because=withheld_because,
        metrics=_metrics_text(snapshot),
    )


#: the file of a snapshot folder the replay serves as ``/metrics`` (for tests: not part of the snapshot contract)
METRICS_FILE = "metrics.txt"
_METRICS_MAX_BYTES = 64 * 1024 * 1024


def _metrics_text(snapshot: Snapshot) -> bytes | None:
    """The folder's ``metrics.txt`` (Prometheus text as an API server's ``/metrics`` serves it), if any."""
    if snapshot.path is None:
        return None
    path = snapshot.path / METRICS_FILE
    if not path.is_file():
        return None
    with path.open("rb") as handle:
        return handle.read(_METRICS_MAX_BYTES)


def _withheld_reason(snapshot: Snapshot, key: str) -> str | None:
    """Why the replay must not answer ``key`` with a list: the capture could not read it, or never tried.

    Only snapshots loaded from a folder are judged by what they hold (one built in memory holds
    what it was given): a kind the folder holds no file for, and no ``cluster.yaml`` entry, is
    unknown, and an empty list would tell the scan "none".
    """
    if key in snapshot.unreadable:
        return f"the snapshot could not capture it: {snapshot.unreadable[key]}"
    if snapshot.path is not None and not snapshot.holds(key):
        return "the snapshot holds no such objects (it was not captured)"
    return None
