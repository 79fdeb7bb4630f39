"""The fleet: every registered cluster, how to reach it, its labels and profile.

Three ways in, one model out: a ``fleet.yaml``; no fleet file at all (every
context of the merged kubeconfig is a cluster, as the seed's
``kubectl --context`` loop did); or ``--snapshot DIR`` folders. Every
input problem is a one-line :class:`ConfigError` (exit 2). The models are
:mod:`fleetcheck.registry.fleet_model` and :mod:`fleetcheck.registry.declared`,
re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from fleetcheck.errors import ConfigError
from fleetcheck.registry.cluster_file import read_cluster_file
from fleetcheck.registry.declared import DeclaredFacts, labels_to_str
from fleetcheck.registry.fleet_model import ClusterEntry, ClusterSpec, ExplicitCluster, Fleet, FleetFile
from fleetcheck.registry.kubeconfig import MergedKubeconfig, default_kubeconfig_paths, merge_kubeconfigs
from fleetcheck.registry.yamlfile import config_error_from_validation, read_yaml_mapping

if TYPE_CHECKING:
    from fleetcheck.registry.sources.base import SourceSpec
    from fleetcheck.registry.sources.reader import ManagementReaderFactory

__all__ = [
    "ClusterEntry",
    "ClusterSpec",
    "DeclaredFacts",
    "ExplicitCluster",
    "Fleet",
    "FleetFile",
    "labels_to_str",
    "load_fleet",
    "merge_layers",
]

_FIX = "see 'Fleet file' in the README for the allowed fields"


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
    meta = read_cluster_file(folder)
    return [(f"{folder.name}/cluster.yaml", meta.labels, meta.facts)]


def _from_file(path: Path, profile_override: str | None, management_reader: ManagementReaderFactory | None) -> Fleet:
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
        # local: only a fleet file with sources loads the sources' models (about 30 ms of import)
        from fleetcheck.registry.sources import explicit_clusters, parse_sources

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
        from fleetcheck.registry.sources import SourceContext, discover_sources  # local: as parse_sources above

        source_context = SourceContext(
            fleet_file=path,
            default_labels=spec.defaults.labels,
            default_profile=default_profile,
            profile_override=profile_override,
            default_kubeconfig=spec.defaults.kubeconfig,
            resolve_profile=lambda ref, field: _profile_ref(ref, base, path, field),
            merged_cache=merged_cache,
            management_reader=management_reader,
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
    management_reader: ManagementReaderFactory | None = None,
) -> Fleet:
    """Build the fleet from snapshots, a fleet file, or the kubeconfig's contexts (in that order).

    ``management_reader`` opens the management clusters a fleet file's discovering sources read (capi,
    argocd, flux, ...): the registry is below the state layer and cannot build a live client, so the
    caller passes one (:func:`fleetcheck.state.management.open_management_reader`). A fleet that needs
    one and was given none raises :class:`TypeError`, before any request.
    """
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
        return _from_file(Path(fleet_file), profile, management_reader)
    merged = merge_kubeconfigs(kubeconfig or default_kubeconfig_paths())
    return _from_kubeconfig(merged, profile or "default")
