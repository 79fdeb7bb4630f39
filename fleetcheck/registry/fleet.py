"""The fleet: every registered cluster, how to reach it, its labels and profile.

Three ways in, one model out: a ``fleet.yaml``; no fleet file at all (every
context of the merged kubeconfig is a cluster, as the seed's
``kubectl --context`` loop did); or ``--snapshot DIR`` folders. Every
input problem is a one-line :class:`ConfigError` (exit 2).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from fleetcheck.core.providers import PROVIDERS
from fleetcheck.errors import ConfigError
from fleetcheck.registry.kubeconfig import MergedKubeconfig, default_kubeconfig_paths, merge_kubeconfigs
from fleetcheck.registry.yamlfile import config_error_from_validation, read_yaml_mapping

if TYPE_CHECKING:
    from fleetcheck.registry.sources.base import SourceSpec

__all__ = ["ClusterEntry", "DeclaredFacts", "ExplicitCluster", "Fleet", "FleetFile", "labels_to_str", "load_fleet"]

_FIX = "see 'Fleet file' in the README for the allowed fields"
_NAME_PATTERN = r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,126}[A-Za-z0-9])?$"


def labels_to_str(value: Any) -> Any:
    """YAML turns ``expires: 2027-01-01`` into a date and ``tier: 1`` into an int; labels are strings."""
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            if isinstance(item, date | datetime):
                out[key] = item.isoformat()
            elif isinstance(item, bool):
                out[key] = str(item).lower()
            elif isinstance(item, int | float):
                out[key] = str(item)
            else:
                out[key] = item
        return out
    return value


class DeclaredFacts(BaseModel):
    """Facts the API cannot show (managed control planes, network endpoints)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_username_prefix: str | None = None
    #: ``host:port`` of the cluster's DNS service as reachable from the runner (FC-DNS-004)
    dns_endpoint: str | None = None
    #: the structured authentication config, when the API server uses ``--authentication-config``
    authentication_config: str | None = None
    #: who runs the cluster (eks, gke, aks, openshift, rke2, k3s, kind, kubeadm), for clusters whose nodes and
    #: version do not say (a private EKS AMI without the eks.amazonaws.com labels, a hardened RKE2 build);
    #: it wins over what the provider fact detects
    provider: str | None = None

    @field_validator("provider")
    @classmethod
    def _known_provider(cls, value: str | None) -> str | None:
        if value is None:
            return None
        name = value.strip().lower()
        known = [p for p in PROVIDERS if p != "unknown"]
        if name not in known:
            shown = value if len(value) <= 40 else value[:39] + "…"
            raise ValueError(f"{shown!r} is not a provider: write one of {', '.join(known)} (or leave it out)")
        return name


class ClusterSpec(BaseModel):
    """One ``clusters:`` entry of a fleet file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_NAME_PATTERN)
    context: str | None = None
    kubeconfig: str | None = None
    snapshot: str | None = None
    profile: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    facts: DeclaredFacts = Field(default_factory=DeclaredFacts)

    _coerce_labels = field_validator("labels", mode="before")(labels_to_str)

    @model_validator(mode="after")
    def _one_way_in(self) -> ClusterSpec:
        if self.snapshot and (self.context or self.kubeconfig):
            raise ValueError("give either 'snapshot' or 'context'/'kubeconfig', not both")
        return self


class FleetDefaults(BaseModel):
    """``defaults:`` of a fleet file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    profile: str = "default"
    kubeconfig: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)

    _coerce_labels = field_validator("labels", mode="before")(labels_to_str)


class FleetFile(BaseModel):
    """A ``fleet.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(default=1, ge=1, le=1)
    defaults: FleetDefaults = Field(default_factory=FleetDefaults)
    clusters: list[ClusterSpec] = Field(default_factory=list)
    #: where else clusters come from (kubeconfig, file, capi, argocd, karmada, ocm, rancher, clusterprofile, flux,
    #: sveltos); each entry is
    #: validated by its type's model in :mod:`fleetcheck.registry.sources`, which the registry imports only when used
    sources: list[dict[str, Any]] = Field(default_factory=list)


class ClusterEntry(BaseModel):
    """A resolved cluster: name, how to reach it, labels, profile, declared facts."""

    model_config = ConfigDict(frozen=True)

    name: str
    context: str | None = None
    kubeconfig: tuple[str, ...] = ()
    snapshot: str | None = None
    profile: str = "default"
    labels: dict[str, str] = Field(default_factory=dict)
    facts: DeclaredFacts = Field(default_factory=DeclaredFacts)
    #: where the registry learned of it: ``fleet.yaml``, ``kubeconfig``, ``snapshot``, a source tag (``capi+argocd``)
    source: str = ""
    server: str | None = None
    #: why the cluster cannot be opened (credentials a source could not use): its checks error with this reason
    credentials_error: str | None = None
    #: how the registry assembled the entry (sources merged, renames, the fleet manager's view of the cluster)
    notes: tuple[str, ...] = ()
    #: credentials a source read from a Secret: in memory only, never dumped, printed or logged
    credentials: MergedKubeconfig | None = Field(default=None, exclude=True, repr=False)
    #: where each label and declared fact came from (``labels.tier`` -> ``cluster.yaml``, ``facts.oidc_issuer`` ->
    #: ``fleet file``), for ``fleetcheck clusters``; keys absent here came from the one place the entry was made
    origins: dict[str, str] = Field(default_factory=dict)

    def merged_kubeconfig(self) -> MergedKubeconfig:
        """The credentials to reach it: a source's in-memory kubeconfig, else its kubeconfig files merged."""
        if self.credentials is not None:
            return self.credentials
        return merge_kubeconfigs([Path(p) for p in self.kubeconfig])

    @property
    def is_snapshot(self) -> bool:
        """Backed by a snapshot folder rather than a live API server."""
        return self.snapshot is not None


class ExplicitCluster(NamedTuple):
    """A cluster written in the fleet file (``clusters:`` or a ``type: file`` source), and what it inherits."""

    where: str
    spec: ClusterSpec
    source: str
    labels: Mapping[str, str] = {}  # read only: the source's labels, under the cluster's own
    profile: str | None = None
    profile_field: str = ""


class Fleet(BaseModel):
    """Every cluster of the run, in a stable order."""

    model_config = ConfigDict(frozen=True)

    clusters: tuple[ClusterEntry, ...]
    source: str
    default_profile: str = "default"

    def names(self) -> list[str]:
        """Cluster names in registry order."""
        return [c.name for c in self.clusters]

    def get(self, name: str) -> ClusterEntry:
        """The cluster called ``name``."""
        for cluster in self.clusters:
            if cluster.name == name:
                return cluster
        raise KeyError(name)

    def matching(self, globs: list[str] | None) -> list[ClusterEntry]:
        """Clusters whose name matches any glob (all when none given)."""
        if not globs:
            return list(self.clusters)
        return [c for c in self.clusters if any(fnmatch.fnmatchcase(c.name, g) for g in globs)]


def _resolve_path(value: str, base: Path, source: Path, field: str) -> Path:
    """A path from a fleet file: ``~`` expanded, relative to the fleet file's folder."""
    try:
        path = Path(value).expanduser()
    except RuntimeError:  # ~user of an unknown user
        raise ConfigError(
            source,
            field,
            f"cannot expand {value.split('/', 1)[0]!r}: no such user",
            "write the path out, or use ~/ for your own home",
        ) from None
    return path if path.is_absolute() else (base / path)


def _profile_ref(ref: str, base: Path, fleet_file: Path, field: str) -> str:
    """A fleet file's ``profile``: a built-in name, or a file path relative to the fleet file (as other paths are)."""
    from fleetcheck.registry.profile import builtin_profile_names  # local: profile.py is the heavier module

    if Path(ref).suffix in {".yaml", ".yml"} or "/" in ref:
        candidate = _resolve_path(ref, base, fleet_file, field)
        if not candidate.is_file():
            raise ConfigError(
                fleet_file, field, f"profile file {candidate} not found", "fix the path (relative to the fleet file)"
            )
        return str(candidate)
    names = builtin_profile_names()
    if ref not in names:
        raise ConfigError(
            fleet_file,
            field,
            f"unknown profile {ref!r}",
            f"use a built-in profile ({', '.join(names)}) or a path to a YAML file",
        )
    return ref


def _from_kubeconfig(merged: MergedKubeconfig, profile: str) -> Fleet:
    contexts = merged.contexts
    if not contexts:
        raise ConfigError(
            merged.describe(),
            "contexts",
            "the kubeconfig has no contexts",
            "add a context, pass --fleet FILE, or --snapshot DIR",
        )
    entries = [
        ClusterEntry(
            name=ctx,
            context=ctx,
            kubeconfig=tuple(str(p) for p in merged.paths),
            profile=profile,
            source="kubeconfig",
            server=merged.server_of(ctx),
        )
        for ctx in contexts
    ]
    return Fleet(clusters=tuple(entries), source=f"kubeconfig {merged.describe()}", default_profile=profile)


def _from_snapshots(dirs: list[Path], profile: str) -> Fleet:
    from fleetcheck.registry.cluster_file import (
        read_cluster_file,  # local: cluster_file imports DeclaredFacts from here
    )

    entries: list[ClusterEntry] = []
    seen: dict[str, Path] = {}
    for folder in dirs:
        if not folder.is_dir():
            raise ConfigError(folder, "--snapshot", "snapshot folder not found", "pass a folder of kubectl output")
        meta = read_cluster_file(folder)
        name = meta.name or folder.resolve().name
        if name in seen:
            raise ConfigError(
                folder,
                "name",
                f"cluster name {name!r} also used by {seen[name]}",
                "give one of them another 'name' in its cluster.yaml",
            )
        seen[name] = folder
        entries.append(
            ClusterEntry(
                name=name,
                snapshot=str(folder),
                labels=dict(meta.labels),
                facts=meta.facts,
                profile=profile,
                source="snapshot",
            )
        )
    return Fleet(clusters=tuple(entries), source="snapshots", default_profile=profile)


#: one layer of what is known of a cluster: where it is written, its labels, its declared facts
Layer = tuple[str, Mapping[str, str], DeclaredFacts]


def merge_layers(layers: list[Layer]) -> tuple[dict[str, str], DeclaredFacts, dict[str, str]]:
    """Labels and declared facts merged key by key, later layers winning, with where each key came from.

    A snapshot listed in a fleet file is described twice: by its own ``cluster.yaml`` (labels and
    facts captured with it) and by the fleet file's entry. Neither replaces the other as a whole
    (the fleet file naming only ``profile`` must not drop the owner, tier and expiry the capture
    recorded); per key, the fleet file's entry wins over ``cluster.yaml``, which wins over the fleet
    file's ``defaults``.
    """
    labels: dict[str, str] = {}
    facts: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for where, layer_labels, layer_facts in layers:
        for key, value in layer_labels.items():
            labels[key] = value
            origins[f"labels.{key}"] = where
        for key, value in layer_facts.model_dump(exclude_none=True).items():
            facts[key] = value
            origins[f"facts.{key}"] = where
    return labels, DeclaredFacts(**facts), origins


def _cluster_file_layer(folder: Path) -> list[Layer]:
    """The labels and facts a snapshot's own ``cluster.yaml`` declares (none when it has no such file)."""
    from fleetcheck.registry.cluster_file import (
        read_cluster_file,  # local: cluster_file imports DeclaredFacts from here
    )

    meta = read_cluster_file(folder)
    return [(f"{folder.name}/cluster.yaml", meta.labels, meta.facts)]


def _from_file(path: Path, profile_override: str | None) -> Fleet:
    raw = read_yaml_mapping(path, "fleet file")
    try:
        spec = FleetFile.model_validate(raw)
    except ValidationError as exc:
        raise config_error_from_validation(path, exc, _FIX) from None
    base = path.parent
    default_profile = _profile_ref(spec.defaults.profile, base, path, "defaults.profile")
    merged_cache: dict[tuple[str, ...], MergedKubeconfig] = {}
    entries: list[ClusterEntry] = []
    explicit = [ExplicitCluster(f"clusters[{i}]", c, f"fleet file {path.name}") for i, c in enumerate(spec.clusters)]
    sources: list[tuple[int, SourceSpec]] = []
    if spec.sources:
        from fleetcheck.registry.sources import explicit_clusters, parse_sources  # local: only fleets with sources

        sources = parse_sources(spec.sources, path)
        explicit += explicit_clusters(sources)
    seen: dict[str, str] = {}
    for where, cluster, source, source_labels, source_profile, source_profile_field in explicit:
        if cluster.name in seen:
            raise ConfigError(
                path,
                f"{where}.name",
                f"duplicate cluster name {cluster.name!r} (also {seen[cluster.name]})",
                "cluster names must be unique",
            )
        seen[cluster.name] = where
        if profile_override:
            profile = profile_override
        elif cluster.profile:
            profile = _profile_ref(cluster.profile, base, path, f"{where}.profile")
        elif source_profile:
            profile = _profile_ref(source_profile, base, path, source_profile_field)
        else:
            profile = default_profile
        labels = {**spec.defaults.labels, **source_labels, **cluster.labels}
        if cluster.snapshot:
            folder = _resolve_path(cluster.snapshot, base, path, f"{where}.snapshot")
            if not folder.is_dir():
                raise ConfigError(
                    path,
                    f"{where}.snapshot",
                    f"folder {folder} not found",
                    "point 'snapshot' at a folder of kubectl output",
                )
            layers = [
                ("fleet file defaults", spec.defaults.labels, DeclaredFacts()),
                *_cluster_file_layer(folder),
                (source if source_labels else "", source_labels, DeclaredFacts()),
                (f"fleet file {where}", cluster.labels, cluster.facts),
            ]
            merged_labels, merged_facts, origins = merge_layers(layers)
            entries.append(
                ClusterEntry(
                    name=cluster.name,
                    snapshot=str(folder),
                    profile=profile,
                    labels=merged_labels,
                    facts=merged_facts,
                    source=source,
                    origins=origins,
                )
            )
            continue
        kube_ref = cluster.kubeconfig or spec.defaults.kubeconfig
        if kube_ref:
            field = f"{where}.kubeconfig" if cluster.kubeconfig else "defaults.kubeconfig"
            paths = [_resolve_path(p, base, path, field) for p in kube_ref.split(":") if p]
            for kpath in paths:
                if not kpath.is_file():
                    raise ConfigError(path, field, f"kubeconfig {kpath} not found", "fix the path or remove the field")
        else:
            paths = default_kubeconfig_paths()
        key = tuple(str(p) for p in paths)
        if key not in merged_cache:
            merged_cache[key] = merge_kubeconfigs(paths, referenced_by=str(path))
        merged = merged_cache[key]
        context = cluster.context or cluster.name
        if context not in merged.contexts:
            known = ", ".join(merged.contexts[:8]) + (" ..." if len(merged.contexts) > 8 else "")
            raise ConfigError(
                path,
                f"{where}.context",
                f"context {context!r} is not in {merged.describe()}",
                f"use one of: {known}" if known else "add the context to the kubeconfig",
            )
        entries.append(
            ClusterEntry(
                name=cluster.name,
                context=context,
                kubeconfig=key,
                profile=profile,
                labels=labels,
                facts=cluster.facts,
                source=source,
                server=merged.server_of(context),
            )
        )
    if sources:
        from fleetcheck.registry.sources import SourceContext, discover_sources

        source_context = SourceContext(
            fleet_file=path,
            default_labels=spec.defaults.labels,
            default_profile=default_profile,
            profile_override=profile_override,
            default_kubeconfig=spec.defaults.kubeconfig,
            resolve_profile=lambda ref, field: _profile_ref(ref, base, path, field),
            merged_cache=merged_cache,
        )
        entries = discover_sources(sources, source_context, entries)
        if not entries:
            raise ConfigError(path, "sources", "the fleet file's sources found no clusters", "check the sources")
    if not entries:
        raise ConfigError(path, "clusters", "the fleet file lists no clusters", "add at least one cluster")
    return Fleet(clusters=tuple(entries), source=str(path), default_profile=profile_override or default_profile)


def load_fleet(
    fleet_file: str | Path | None = None,
    *,
    snapshots: list[str | Path] | None = None,
    kubeconfig: list[Path] | None = None,
    profile: str | None = None,
) -> Fleet:
    """Build the fleet from snapshots, a fleet file, or the kubeconfig's contexts (in that order)."""
    if snapshots:
        if fleet_file:
            raise ConfigError(
                str(fleet_file),
                "--snapshot",
                "give either --fleet or --snapshot, not both",
                "drop one of the two options",
            )
        return _from_snapshots([Path(s) for s in snapshots], profile or "default")
    if fleet_file:
        return _from_file(Path(fleet_file), profile)
    merged = merge_kubeconfigs(kubeconfig or default_kubeconfig_paths())
    return _from_kubeconfig(merged, profile or "default")
