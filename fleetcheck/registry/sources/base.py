"""What every fleet source shares: its settings, the cluster it reads, and what it hands the registry.

A *source* turns something outside the fleet file (a kubeconfig, a Cluster
API management cluster, Argo CD's cluster Secrets, Karmada or OCM
registrations, Rancher, SIG-Multicluster ClusterProfiles, Flux kubeConfig
references, Sveltos) into :class:`DiscoveredCluster` records. This module
turns those into :class:`~fleetcheck.registry.fleet_model.ClusterEntry` objects
(labels, profile, facts, credentials) the same way for every source, so a
source only has to know its own API.

A source never knows about checks. It reads a management cluster through
:class:`ManagementCluster`, over the :class:`~fleetcheck.registry.sources.reader.ManagementReader`
the caller's factory opens (the same live client and timeouts the scan
uses: :mod:`fleetcheck.state.management`), and credentials it reads stay in
memory (:mod:`fleetcheck.registry.sources.credentials`).
"""

from __future__ import annotations

import fnmatch
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fleetcheck.core.kinds import ResourceRef, parse_kind
from fleetcheck.errors import ConfigError, KindUnavailable
from fleetcheck.registry.declared import DeclaredFacts, labels_to_str
from fleetcheck.registry.fleet_model import ClusterEntry
from fleetcheck.registry.kubeconfig import MergedKubeconfig, default_kubeconfig_paths, merge_kubeconfigs
from fleetcheck.registry.sources.credentials import InMemoryKubeconfig
from fleetcheck.registry.sources.reader import ManagementReader, ManagementReaderFactory, Obj

__all__ = [
    "DiscoveredCluster",
    "DiscoverySpec",
    "ManagedSource",
    "ManagedSourceSpec",
    "ManagementCluster",
    "Obj",
    "Source",
    "SourceContext",
    "SourceSpec",
    "SourceUnavailable",
    "condition_status",
    "object_labels",
    "safe_name",
]

log = logging.getLogger("fleetcheck.sources")

_TAG_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,40}$"
#: most pages (of 500) one selected list reads: a bound on what a hostile or huge management cluster costs
MAX_LIST_PAGES = 200
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(text: str) -> str:
    """A cluster name fleetcheck can use as a test id and a file name (``my cluster/1`` -> ``my-cluster-1``)."""
    cleaned = _UNSAFE.sub("-", text).strip("-._")[:128].strip("-._")
    return cleaned or "cluster"


# -- settings ------------------------------------------------------------------------------------------------------


class SourceSpec(BaseModel):
    """Fields every ``sources:`` entry has."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    #: the tag shown in SOURCE and results (default: the type); tells two sources of one type apart
    name: str | None = Field(default=None, pattern=_TAG_PATTERN)
    #: profile of this source's clusters (a cluster's own ``profile`` and ``--profile`` win)
    profile: str | None = None
    #: labels every cluster of this source gets (under the cluster's own)
    labels: dict[str, str] = Field(default_factory=dict)

    _coerce_labels = field_validator("labels", mode="before")(labels_to_str)

    @property
    def tag(self) -> str:
        """What SOURCE shows for this source's clusters."""
        return self.name or self.type


class DiscoverySpec(SourceSpec):
    """A source that finds clusters (rather than listing them in the fleet file)."""

    #: cluster-name globs to keep, and to drop
    include: list[str] = Field(default_factory=lambda: ["*"])
    exclude: list[str] = Field(default_factory=list)
    #: source label keys (globs) copied as they are; default: keys without a ``prefix/``
    keep_labels: list[str] | None = None
    #: source label key -> fleetcheck label (``environment: tier``); the first key present wins
    label_map: dict[str, str] = Field(default_factory=dict)
    #: facts the API cannot show, for every cluster of this source
    facts: DeclaredFacts = Field(default_factory=DeclaredFacts)

    def selects(self, name: str) -> bool:
        """Whether ``include``/``exclude`` keep the cluster called ``name``."""
        keep = any(fnmatch.fnmatchcase(name, g) for g in self.include)
        return keep and not any(fnmatch.fnmatchcase(name, g) for g in self.exclude)

    def map_labels(self, source_labels: Mapping[str, str]) -> dict[str, str]:
        """The fleetcheck labels a cluster's own labels give: kept keys, then ``label_map``."""
        if self.keep_labels is None:
            kept = {k: v for k, v in source_labels.items() if "/" not in k}
        else:
            kept = {k: v for k, v in source_labels.items() if any(fnmatch.fnmatchcase(k, g) for g in self.keep_labels)}
        mapped: dict[str, str] = {}
        for source_key, target in self.label_map.items():
            if target not in mapped and source_key in source_labels:
                mapped[target] = source_labels[source_key]
        return {**kept, **mapped}


class ManagedSourceSpec(DiscoverySpec):
    """A source that reads a management cluster (Cluster API, Argo CD, Karmada, OCM, Rancher, ClusterProfile ...)."""

    #: kubeconfig context of the management cluster
    context: str
    #: kubeconfig holding that context (default: ``defaults.kubeconfig``, else ``$KUBECONFIG``)
    kubeconfig: str | None = None
    #: seconds for each request to the management cluster
    timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    #: when the management cluster cannot be read: false = error (exit 2), true = warn and go on without it
    optional: bool = False
    #: where contexts for the discovered clusters live, for clusters whose credentials the source cannot read
    credentials_kubeconfig: str | None = None
    #: discovered cluster name -> context in ``credentials_kubeconfig`` (wins over credentials read from Secrets)
    contexts: dict[str, str] = Field(default_factory=dict)


class NamespacedSourceSpec(ManagedSourceSpec):
    """A source whose objects live in namespaces of the management cluster, which the user may narrow down."""

    #: namespaces whose objects count (default: every namespace)
    namespaces: list[str] = Field(default_factory=list)

    def counts_namespace(self, namespace: object) -> bool:
        """Whether an object in ``namespace`` counts (every namespace does when none are named)."""
        return not self.namespaces or namespace in self.namespaces


# -- what a source finds ---------------------------------------------------------------------------------------------


@dataclass
class DiscoveredCluster:
    """One cluster as a source found it, before labels, profile and merging are applied.

    Exactly one way in is set: ``credentials`` (read from a Secret, in
    memory), ``kubeconfig`` + ``context`` (a file), or ``error`` (why the
    cluster cannot be reached: it is still a cluster, and its checks error).
    """

    name: str
    server: str | None = None
    #: the source's own labels (CAPI Cluster labels, the Argo CD Secret's labels ...)
    labels: dict[str, str] = field(default_factory=dict)
    credentials: InMemoryKubeconfig | None = None
    kubeconfig: tuple[str, ...] = ()
    context: str | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    #: other URLs of the same API server (a CAPI control-plane endpoint, a Rancher cluster's direct endpoint)
    aliases: list[str] = field(default_factory=list)
    #: the namespace the source object lives in, to qualify the name if it collides
    namespace: str | None = None


class SourceUnavailable(ConfigError):
    """A source could not read its management cluster at all (exit 2 unless the source is ``optional``)."""


@dataclass
class SourceContext:
    """What the fleet file gives every source: paths, defaults, profile resolution, kubeconfig cache."""

    fleet_file: Path
    default_labels: Mapping[str, str]
    default_profile: str
    profile_override: str | None
    default_kubeconfig: str | None
    #: (profile reference, field) -> resolved profile (a built-in name or a file path); raises ConfigError
    resolve_profile: Callable[[str, str], str]
    merged_cache: dict[tuple[str, ...], MergedKubeconfig] = field(default_factory=dict)
    #: opens a reader on a management cluster (the registry cannot build a live client: it is a layer below)
    management_reader: ManagementReaderFactory | None = None

    def require_management_reader(self, where: str) -> ManagementReaderFactory:
        """The reader factory; a :class:`TypeError` when the caller passed none (a wiring bug, not bad input)."""
        if self.management_reader is None:
            raise TypeError(
                f"{self.fleet_file}: {where} reads a management cluster, but load_fleet() was given no "
                "management_reader: pass fleetcheck.state.management.open_management_reader"
            )
        return self.management_reader

    def resolve_path(self, value: str) -> Path:
        """A path from the fleet file: ``~`` expanded, relative to the fleet file's folder."""
        path = Path(value).expanduser()
        return path if path.is_absolute() else (self.fleet_file.parent / path)

    def kubeconfig(self, ref: str | None, field: str) -> tuple[tuple[str, ...], MergedKubeconfig]:
        """The merged kubeconfig ``ref`` names (``:``-separated), else the fleet default, else ``$KUBECONFIG``."""
        ref = ref or self.default_kubeconfig
        if ref:
            paths = [self.resolve_path(p) for p in ref.split(":") if p]
            for path in paths:
                if not path.is_file():
                    raise ConfigError(
                        self.fleet_file, field, f"kubeconfig {path} not found", "fix the path or remove the field"
                    )
        else:
            paths = default_kubeconfig_paths()
        key = tuple(str(p) for p in paths)
        if key not in self.merged_cache:
            self.merged_cache[key] = merge_kubeconfigs(paths, referenced_by=str(self.fleet_file))
        return key, self.merged_cache[key]

    def require_context(self, merged: MergedKubeconfig, context: str, field: str) -> None:
        """Raise the fleet file's usual error when ``context`` is not in ``merged``."""
        if context in merged.contexts:
            return
        known = ", ".join(merged.contexts[:8]) + (" ..." if len(merged.contexts) > 8 else "")
        raise ConfigError(
            self.fleet_file,
            field,
            f"context {context!r} is not in {merged.describe()}",
            f"use one of: {known}" if known else "add the context to the kubeconfig",
        )


# -- reading a management cluster --------------------------------------------------------------------------------------


class ManagementCluster:
    """Read-only access to the cluster a source reads its inventory from.

    Every request goes through the :class:`ManagementReader` the caller's
    factory opened (the live one picks the version the server serves by
    discovery, and keeps the scan's timeouts, retries and error messages).
    Secrets are read narrowly: one GET per named Secret, or a list of one
    namespace with a label selector, never every Secret of the cluster, so
    the RBAC a source needs is as small as the fleet manager allows and no
    unrelated Secret enters memory.
    """

    def __init__(
        self, fleet_file: Path, where: str, merged: MergedKubeconfig, context: str, reader: ManagementReader
    ) -> None:
        self.fleet_file = fleet_file
        self.where = where
        self.context = context
        self.merged = merged
        self._reader = reader

    @classmethod
    def open(
        cls,
        factory: ManagementReaderFactory,
        fleet_file: Path,
        where: str,
        merged: MergedKubeconfig,
        context: str,
        timeout: float,
    ) -> ManagementCluster:
        """The management cluster behind ``context``, read with ``timeout`` seconds per request."""
        reader = factory(f"{where} context {context}", merged, context, timeout)
        return cls(fleet_file, where, merged, context, reader)

    @property
    def server(self) -> str:
        """The management cluster's API server URL."""
        return self._reader.server

    def list_all(
        self, kind: str, what: str, *, namespace: str | None = None, label_selector: str | None = None
    ) -> list[Obj]:
        """Every object of ``kind`` (in ``namespace``, matching ``label_selector``, when given).

        :class:`SourceUnavailable` when it cannot be read or is not served.
        """
        items = self.list_if_served(kind, what, namespace=namespace, label_selector=label_selector)
        if items is None:
            raise SourceUnavailable(
                self.fleet_file,
                self.where,
                f"context {self.context!r} does not serve {what}",
                f"is it the right management cluster? ({parse_kind(kind).group} is not installed there)",
            )
        return items

    def list_if_served(
        self, kind: str, what: str, *, namespace: str | None = None, label_selector: str | None = None
    ) -> list[Obj] | None:
        """:meth:`list_all`, but None when the server does not serve ``kind`` (an optional part of a fleet manager).

        Without a namespace or selector this is the live state's cluster-wide
        list; with one, the selection is the API server's (``labelSelector``,
        a namespaced path), so a namespaced Role is enough and unselected
        objects never enter memory. At most :data:`MAX_LIST_PAGES` pages.
        """
        try:
            if namespace is None and not label_selector:
                return self._reader.list_cluster_wide(parse_kind(kind))
            return self._list_selected(parse_kind(kind), namespace, label_selector)
        except KindUnavailable as exc:
            where = f" in namespace {namespace!r}" if namespace else ""
            raise SourceUnavailable(
                self.fleet_file, self.where, f"cannot list {what}{where} on context {self.context!r}: {exc.reason}"
            ) from None

    def _list_selected(self, ref: ResourceRef, namespace: str | None, label_selector: str | None) -> list[Obj] | None:
        resolved = self._reader.served_version(ref)  # discovery: the version the server serves
        if resolved is None:
            return None
        group, version = resolved
        served = ResourceRef(group, version, ref.plural, ref.kind, ref.namespaced)
        path = served.list_path(version, namespace)
        items: list[Obj] = []
        token = ""
        for _page in range(MAX_LIST_PAGES):
            query: list[tuple[str, Any]] = [("limit", 500)]
            if label_selector:
                query.append(("labelSelector", label_selector))
            if token:
                query.append(("continue", token))
            body = self._read(served, path, query)
            if body is None:
                return items or None  # 404: not served (on a later page: the list ended)
            page = body.get("items") or []
            items.extend(item for item in page if isinstance(item, dict))
            token = str((body.get("metadata") or {}).get("continue") or "")
            if not token:
                return items
        log.warning("fleetcheck: %s: %s: stopped after %d pages", self.where, ref.key, MAX_LIST_PAGES)
        return items

    def _read(self, ref: ResourceRef, path: str, query: list[tuple[str, Any]]) -> Obj | None:
        return self._reader.get_json(ref, path, query)  # the reader's GET: timeouts, retries, error mapping

    def get(self, kind: str, namespace: str, name: str) -> Obj | None:
        """One namespaced object of a built-in kind (``secrets``), None when it does not exist.

        Raises :class:`~fleetcheck.errors.KindUnavailable` (forbidden,
        unreachable): the caller decides whether that is one cluster's
        problem or the source's.
        """
        ref = parse_kind(kind)
        return self._read(ref, f"{ref.list_path(ref.version, namespace)}/{name}", [])

    def list_in(self, kind: str, namespace: str, label_selector: str | None = None) -> list[Obj]:
        """The objects of a built-in kind in one namespace, optionally by label selector, every page."""
        ref = parse_kind(kind)
        path = ref.list_path(ref.version, namespace)
        items: list[Obj] = []
        token = ""
        while True:
            query: list[tuple[str, Any]] = [("limit", 500)]
            if label_selector:
                query.append(("labelSelector", label_selector))
            if token:
                query.append(("continue", token))
            body = self._read(ref, path, query)
            if body is None:
                return items
            page = body.get("items") or []
            items.extend(item for item in page if isinstance(item, dict))
            token = str((body.get("metadata") or {}).get("continue") or "")
            if not token:
                return items

    def close(self) -> None:
        """Close the connection pool."""
        self._reader.close()


# -- sources -----------------------------------------------------------------------------------------------------------


class Source(ABC):
    """One ``sources:`` entry, ready to discover its clusters."""

    #: the ``type:`` value this class implements
    type_name: ClassVar[str]
    #: its settings model
    spec_model: ClassVar[type[SourceSpec]]

    def __init__(self, spec: SourceSpec, index: int) -> None:
        self.spec = spec
        self.index = index

    @property
    def where(self) -> str:
        """``sources[2]``, the field error messages name."""
        return f"sources[{self.index}]"

    def check(self, ctx: SourceContext) -> None:
        """Validate what needs no network (files, contexts, profile), so a typo fails before any source is read."""
        if self.spec.profile and not ctx.profile_override:
            ctx.resolve_profile(self.spec.profile, f"{self.where}.profile")

    @abstractmethod
    def discover(self, ctx: SourceContext) -> list[DiscoveredCluster]:
        """The clusters this source knows; raise :class:`ConfigError` when the source itself is unusable."""


def condition_status(status: object, kind: str) -> str | None:
    """The ``status`` (True/False/Unknown) of the condition of type ``kind`` in an object's ``status``."""
    conditions = status.get("conditions") if isinstance(status, dict) else None
    for item in conditions if isinstance(conditions, list) else []:
        if isinstance(item, dict) and item.get("type") == kind:
            return str(item.get("status", "Unknown"))
    return None


def object_labels(meta: Obj, *, drop_prefix: str | None = None) -> dict[str, str]:
    """An object's labels as strings (a malformed ``labels`` field reads as none)."""
    raw = meta.get("labels") or {}
    if not isinstance(raw, dict):
        return {}
    return {str(k): str(v) for k, v in raw.items() if drop_prefix is None or not str(k).startswith(drop_prefix)}


class ManagedSource(Source):
    """A source reading a management cluster: opens it, reads, closes, and applies the context mapping."""

    spec: ManagedSourceSpec

    #: what the source lists, for messages (``Cluster API Clusters``)
    what: ClassVar[str] = "clusters"

    def check(self, ctx: SourceContext) -> None:
        """The profile, the management context and the context mapping exist."""
        super().check(ctx)
        spec = self.spec
        _paths, merged = ctx.kubeconfig(spec.kubeconfig, f"{self.where}.kubeconfig")
        ctx.require_context(merged, spec.context, f"{self.where}.context")
        if spec.contexts or spec.credentials_kubeconfig:
            _paths, mapped = ctx.kubeconfig(spec.credentials_kubeconfig, f"{self.where}.credentials_kubeconfig")
            for name, context in spec.contexts.items():
                ctx.require_context(mapped, context, f"{self.where}.contexts.{name}")
        ctx.require_management_reader(self.where)  # after the input checks: a typo still reads as one

    def discover(self, ctx: SourceContext) -> list[DiscoveredCluster]:
        """Open the management cluster, let :meth:`read` list its clusters, then resolve credentials."""
        spec = self.spec
        _paths, merged = ctx.kubeconfig(spec.kubeconfig, f"{self.where}.kubeconfig")
        factory = ctx.require_management_reader(self.where)
        mgmt = ManagementCluster.open(factory, ctx.fleet_file, self.where, merged, spec.context, spec.timeout_seconds)
        try:
            found = self.read(mgmt, ctx)
        finally:
            mgmt.close()
        return self._apply_contexts(found, ctx)

    def selected_objects(self, mgmt: ManagementCluster, kind: str) -> list[Obj]:
        """Every ``kind`` object of the management cluster whose (safe) name the source's globs select."""
        return [
            obj
            for obj in mgmt.list_all(kind, self.what)
            if self.spec.selects(safe_name(str((obj.get("metadata") or {}).get("name", ""))))
        ]

    @abstractmethod
    def read(self, mgmt: ManagementCluster, ctx: SourceContext) -> list[DiscoveredCluster]:
        """List the clusters the management cluster knows, with their credentials or the reason they have none."""

    def _apply_contexts(self, found: list[DiscoveredCluster], ctx: SourceContext) -> list[DiscoveredCluster]:
        """Credentials from the fleet file's mapping: explicit ``contexts`` win, same-named contexts fill gaps."""
        spec = self.spec
        if not spec.contexts and not spec.credentials_kubeconfig:
            return found
        field_name = f"{self.where}.credentials_kubeconfig"
        paths, merged = ctx.kubeconfig(spec.credentials_kubeconfig, field_name)
        names = {c.name for c in found}
        for name in spec.contexts:
            if name not in names:  # a cluster since deleted, or a typo: say so, but do not stop the scan
                log.warning(
                    "fleetcheck: %s: %s.contexts.%s: the source found no cluster called %r",
                    ctx.fleet_file,
                    self.where,
                    name,
                    name,
                )
        for cluster in found:
            explicit = spec.contexts.get(cluster.name)
            needs = cluster.credentials is None and not cluster.kubeconfig
            context = explicit or (cluster.name if needs and cluster.name in merged.contexts else None)
            if context is None:
                if needs and cluster.error is not None:
                    cluster.error += f" (and {merged.describe()} has no context {cluster.name!r})"
                continue
            why = "mapped in the fleet file" if explicit else f"the source had none: {cluster.error or 'none'}"
            cluster.notes.append(f"credentials from context {context!r} of {merged.describe()} ({why})")
            cluster.credentials = None
            cluster.error = None
            cluster.kubeconfig = paths
            cluster.context = context
            cluster.aliases = [a for a in [cluster.server, *cluster.aliases] if a]
            cluster.server = merged.server_of(context) or cluster.server
        return found


def to_entry(
    found: DiscoveredCluster, spec: DiscoverySpec, source_tag: str, ctx: SourceContext, where: str
) -> ClusterEntry:
    """The registry entry for a discovered cluster: labels mapped, profile resolved, credentials attached."""
    if ctx.profile_override:
        profile = ctx.profile_override
    elif spec.profile:
        profile = ctx.resolve_profile(spec.profile, f"{where}.profile")
    else:
        profile = ctx.default_profile
    labels = {**ctx.default_labels, **spec.labels, **spec.map_labels(found.labels)}
    return ClusterEntry(
        name=found.name,
        context=found.context or (found.name if found.credentials is not None else None),
        kubeconfig=found.kubeconfig,
        profile=profile,
        labels=labels,
        facts=spec.facts,
        source=source_tag,
        server=found.server,
        credentials=found.credentials,
        credentials_error=found.error,
        notes=tuple(found.notes),
    )
