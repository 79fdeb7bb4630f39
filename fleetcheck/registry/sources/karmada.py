"""``type: karmada``: the member clusters registered with a Karmada control plane.

Each ``Cluster`` of ``cluster.karmada.io`` (cluster-scoped, read from the
Karmada API server, which is the source's ``context``) gives the member's
``spec.apiEndpoint``; a Push-mode member also names ``spec.secretRef``, a
Secret with ``token`` and ``caBundle`` that Karmada itself uses to reach it.
A Pull-mode member has no such Secret (its agent dials in): it is still
listed, and its checks error until it is mapped to a kubeconfig context.
``spec.provider``, ``spec.region`` and ``spec.zone`` join the Cluster's
labels as ``provider``, ``region`` and ``zone``.
"""

from __future__ import annotations

from typing import Literal

from fleetcheck.errors import KindUnavailable
from fleetcheck.registry.sources.base import (
    DiscoveredCluster,
    ManagedSource,
    ManagedSourceSpec,
    ManagementCluster,
    Obj,
    SourceContext,
    condition_status,
    object_labels,
    safe_name,
)
from fleetcheck.registry.sources.credentials import CredentialError, build_kubeconfig, secret_text, secret_value

__all__ = ["KarmadaSource", "KarmadaSourceSpec"]

CLUSTERS_KIND = "cluster.karmada.io/v1alpha1 clusters"


class KarmadaSourceSpec(ManagedSourceSpec):
    """``{type: karmada, context: KARMADA_APISERVER}``."""

    type: Literal["karmada"] = "karmada"


class KarmadaSource(ManagedSource):
    """Karmada member clusters, with the credentials Karmada uses for Push-mode members."""

    type_name = "karmada"
    spec_model = KarmadaSourceSpec
    spec: KarmadaSourceSpec
    what = "Karmada Clusters (cluster.karmada.io)"

    def read(self, mgmt: ManagementCluster, ctx: SourceContext) -> list[DiscoveredCluster]:
        """One cluster per selected Karmada ``Cluster``."""
        return [self._cluster(mgmt, obj) for obj in self.selected_objects(mgmt, CLUSTERS_KIND)]

    def _cluster(self, mgmt: ManagementCluster, obj: Obj) -> DiscoveredCluster:
        meta = obj.get("metadata") or {}
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        name = safe_name(str(meta.get("name", "")))
        labels = object_labels(meta)
        for key in ("provider", "region", "zone"):
            if isinstance(spec.get(key), str) and spec[key]:
                labels.setdefault(key, spec[key])
        server = spec.get("apiEndpoint") if isinstance(spec.get("apiEndpoint"), str) else None
        found = DiscoveredCluster(name=name, server=server, labels=labels)
        mode = spec.get("syncMode") or "Push"
        ready = condition_status(status, "Ready")
        version = status.get("kubernetesVersion") if isinstance(status, dict) else None
        found.notes.append(
            f"Karmada {mode} member" + (f", Ready={ready}" if ready else "") + (f", {version}" if version else "")
        )
        if not server:
            found.error = f"Karmada Cluster {name} has no spec.apiEndpoint"
            return found
        ref = spec.get("secretRef") or {}
        if not isinstance(ref, dict) or not ref.get("name"):
            found.error = (
                f"Karmada Cluster {name} ({mode} mode) has no spec.secretRef: Karmada holds no credentials for it; "
                "map it to a kubeconfig context (credentials_kubeconfig / contexts)"
            )
            return found
        namespace = str(ref.get("namespace") or "karmada-cluster")
        origin = f"karmada Secret {namespace}/{ref['name']}"
        try:
            secret = mgmt.get("secrets", namespace, str(ref["name"]))
        except KindUnavailable as exc:
            found.error = f"cannot read {origin}: {exc.reason}"
            return found
        if secret is None:
            found.error = f"{origin} not found"
            return found
        try:
            token = secret_text(secret, "token", "karmada")
            if not token:
                raise CredentialError(f"{origin} has no 'token' key")
            insecure = spec.get("insecureSkipTLSVerification") is True
            proxy = spec.get("proxyURL")
            found.credentials = build_kubeconfig(
                name,
                server,
                origin=origin,
                token=token,
                ca_data=None if insecure else secret_value(secret, "caBundle", "karmada"),
                insecure=insecure,
                proxy_url=proxy if isinstance(proxy, str) and proxy else None,
            )
        except CredentialError as exc:
            found.error = str(exc)
        return found
