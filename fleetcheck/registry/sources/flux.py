"""``type: flux``: the clusters a Flux management cluster deploys to, from its ``spec.kubeConfig`` references.

A Flux ``Kustomization`` (``kustomize.toolkit.fluxcd.io/v1``) or
``HelmRelease`` (``helm.toolkit.fluxcd.io/v2``) that applies to another
cluster names its access in ``spec.kubeConfig``:

* ``secretRef: {name, key}``: a Secret in the object's own namespace holding
  a kubeconfig, under ``key``, else ``value``, else ``value.yaml`` (the order
  of fluxcd/pkg ``runtime/client``). Each distinct Secret (namespace, name,
  key) is one cluster, however many objects use it, named by the label
  ``name_label`` (on the Secret, else on the first object referring to it)
  or by the Secret's name;
* ``configMapRef: {name}`` (Flux 2.5+, secret-less workload identity): the
  controller obtains a token for its own ServiceAccount or a cloud identity
  at reconcile time. fleetcheck only reads, holds no such identity and mints
  no token, so such a cluster is kept with an error saying so; the
  ConfigMap's ``address`` (one GET; ConfigMaps are in the scan's read-only
  role) still identifies it, so the same cluster found by another source
  with credentials is merged and scanned.

Objects without ``spec.kubeConfig`` deploy to the management cluster itself
and add nothing. A kind the cluster does not serve (no helm-controller) is
skipped; when neither is served the source is unavailable.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal

from pydantic import Field

from fleetcheck.core.refs import name_list
from fleetcheck.errors import KindUnavailable
from fleetcheck.redact import redact
from fleetcheck.registry.sources.base import (
    DiscoveredCluster,
    ManagedSource,
    ManagementCluster,
    NamespacedSourceSpec,
    Obj,
    SourceContext,
    SourceUnavailable,
    object_labels,
    safe_name,
)
from fleetcheck.registry.sources.credentials import (
    CredentialError,
    kubeconfig_from_text,
    normalise_server,
    secret_value,
)

__all__ = ["FluxSource", "FluxSourceSpec"]

log = logging.getLogger("fleetcheck.sources")

FluxKind = Literal["Kustomization", "HelmRelease"]
KINDS: dict[str, str] = {
    "Kustomization": "kustomize.toolkit.fluxcd.io/v1 kustomizations",
    "HelmRelease": "helm.toolkit.fluxcd.io/v2 helmreleases",
}
_ALL_KINDS: tuple[FluxKind, ...] = ("Kustomization", "HelmRelease")
#: keys Flux reads when ``secretRef.key`` is not set, in its order
DEFAULT_KEYS = ("value", "value.yaml")
#: objects named per cluster in its note ("and N more" after that)
_NAMED_USERS = 3


class FluxSourceSpec(NamespacedSourceSpec):
    """``{type: flux, context: MGMT, name_label: fleet.example.com/cluster}``."""

    type: Literal["flux"] = "flux"
    #: which Flux kinds to read
    kinds: list[FluxKind] = Field(default_factory=lambda: list(_ALL_KINDS), min_length=1)
    #: label naming the cluster, on the kubeconfig Secret or the Flux object (default: the Secret's name)
    name_label: str | None = None


@dataclass
class _Target:
    """One distinct kubeConfig reference and the Flux objects that use it."""

    namespace: str
    name: str
    key: str | None
    via_config_map: bool
    users: list[str] = field(default_factory=list)
    user_labels: list[dict[str, str]] = field(default_factory=list)

    def describe(self) -> str:
        """``Secret flux-system/spoke-kubeconfig``."""
        return f"{'ConfigMap' if self.via_config_map else 'Secret'} {self.namespace}/{self.name}"


def _kubeconfig_ref(obj: Obj) -> tuple[str, str | None, bool] | None:
    """(name, key, is a ConfigMap) of an object's ``spec.kubeConfig``, None without one."""
    spec = obj.get("spec") or {}
    ref = spec.get("kubeConfig") if isinstance(spec, dict) else None
    if not isinstance(ref, dict):
        return None
    secret = ref.get("secretRef")
    if isinstance(secret, dict) and isinstance(secret.get("name"), str) and secret["name"]:
        key = secret.get("key")
        return secret["name"], (key if isinstance(key, str) and key else None), False
    config_map = ref.get("configMapRef")
    if isinstance(config_map, dict) and isinstance(config_map.get("name"), str) and config_map["name"]:
        return config_map["name"], None, True
    return None


class FluxSource(ManagedSource):
    """Clusters behind Flux ``spec.kubeConfig`` references: one per kubeconfig Secret."""

    type_name = "flux"
    spec_model = FluxSourceSpec
    spec: FluxSourceSpec
    what = "Flux Kustomizations and HelmReleases (toolkit.fluxcd.io)"

    def read(self, mgmt: ManagementCluster, ctx: SourceContext) -> list[DiscoveredCluster]:
        """The distinct kubeConfig references of the selected Flux objects, each read once."""
        targets: dict[tuple[str, str, str | None, bool], _Target] = {}
        served = 0
        for kind in self.spec.kinds:
            objects = mgmt.list_if_served(KINDS[kind], f"Flux {kind}s")
            if objects is None:
                log.info("fleetcheck: %s: context %r serves no Flux %ss", self.where, mgmt.context, kind)
                continue
            served += 1
            for obj in objects:
                meta = obj.get("metadata") or {}
                namespace = str(meta.get("namespace") or "default")
                if not self.spec.counts_namespace(namespace):
                    continue
                ref = _kubeconfig_ref(obj)
                if ref is None:
                    continue
                target = targets.setdefault((namespace, *ref), _Target(namespace, ref[0], ref[1], ref[2]))
                target.users.append(f"{kind} {namespace}/{meta.get('name', '')}")
                target.user_labels.append(object_labels(meta))
        if not served:
            raise SourceUnavailable(
                ctx.fleet_file,
                self.where,
                f"context {mgmt.context!r} does not serve {self.what}",
                "is it the right management cluster? (Flux's kustomize- or helm-controller is not installed there)",
            )
        found = _one_per_server([(t.describe(), self._cluster(mgmt, t)) for t in targets.values()])
        for cluster in found:
            cluster.error = redact(cluster.error) if cluster.error else None
            cluster.notes = [redact(note) for note in cluster.notes]
        return found

    def _cluster(self, mgmt: ManagementCluster, target: _Target) -> DiscoveredCluster:
        kind = "ConfigMap" if target.via_config_map else "Secret"
        origin = f"flux {kind} {target.namespace}/{target.name}"
        users = name_list(target.users, _NAMED_USERS, sort=False)
        found = DiscoveredCluster(name=safe_name(target.name), namespace=target.namespace)
        found.notes.append(f"Flux kubeConfig {kind} {target.namespace}/{target.name}, used by {users}")
        read_error: str | None = None
        try:
            obj = mgmt.get("configmaps" if target.via_config_map else "secrets", target.namespace, target.name)
        except KindUnavailable as exc:
            obj, read_error = None, f"cannot read {origin}: {exc.reason}"
        if obj is None and read_error is None:
            read_error = f"{origin} not found"
        self._name_and_labels(found, target, obj)
        if target.via_config_map:
            if obj is not None:
                address = (obj.get("data") or {}).get("address")
                found.server = address if isinstance(address, str) and address else None
                provider = (obj.get("data") or {}).get("provider")
                found.notes.append(f"workload identity provider {provider or 'unknown'}")
            found.error = (
                f"{origin}: Flux workload identity (spec.kubeConfig.configMapRef) is not usable by fleetcheck: "
                "Flux obtains a token for its own ServiceAccount or cloud identity at reconcile time, and "
                "fleetcheck only reads; map the cluster to a kubeconfig context (credentials_kubeconfig / contexts)"
            )
            return found
        if obj is None:
            found.error = read_error
            return found
        try:
            keys = [target.key] if target.key else list(DEFAULT_KEYS)
            for key in keys:
                raw = secret_value(obj, key, "flux")
                if raw is not None:
                    found.credentials = kubeconfig_from_text(raw, name=found.name, origin=f"{origin} key {key!r}")
                    found.server = found.credentials.server_of(found.name)
                    return found
            raise CredentialError(f"{origin} has no {' or '.join(repr(k) for k in keys)} key with a kubeconfig")
        except CredentialError as exc:
            found.error = str(exc)
        return found

    def _name_and_labels(self, found: DiscoveredCluster, target: _Target, obj: Obj | None) -> None:
        """Labels of the Secret; the name from ``name_label`` on the Secret, else on a Flux object using it."""
        labels = object_labels(obj.get("metadata") or {}) if obj is not None else {}
        found.labels = labels
        label = self.spec.name_label
        if not label:
            return
        for candidate in [labels, *target.user_labels]:
            value = candidate.get(label)
            if value:
                found.name = safe_name(value)
                return
        found.notes.append(f"no label {label!r} on {target.name} or the objects using it: named after it")


def _one_per_server(found: list[tuple[str, DiscoveredCluster]]) -> list[DiscoveredCluster]:
    """Secrets that reach the same API server (a copy per tenant namespace) are one cluster.

    ``found`` pairs each cluster with the reference it came from. The first
    one with working credentials keeps the cluster; the others are named in
    a note, so a spoke is scanned once however many Secrets point at it.
    """
    kept: list[tuple[str, DiscoveredCluster]] = []
    by_server: dict[str, int] = {}
    for via, cluster in found:
        key = normalise_server(cluster.server)
        if key is None or key not in by_server:
            if key is not None:
                by_server[key] = len(kept)
            kept.append((via, cluster))
            continue
        index = by_server[key]
        first_via, first = kept[index]
        if first.error is not None and cluster.error is None:
            cluster.notes.append(f"also referenced through {first_via}, not usable: {first.error}")
            kept[index] = (via, cluster)
        else:
            first.notes.append(f"also referenced through {via}")
    return [cluster for _via, cluster in kept]
