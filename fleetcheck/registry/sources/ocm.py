"""``type: ocm``: the managed clusters of an Open Cluster Management hub.

``ManagedCluster`` objects (``cluster.open-cluster-management.io/v1``,
cluster-scoped) give the inventory: name, labels (``cloud``, ``vendor``,
cluster sets ...), the API server URL and CA from
``spec.managedClusterClientConfigs``, and the Kubernetes version. The hub
keeps no credentials for its managed clusters, so they come from either

* a ManagedServiceAccount (``managed_service_account: NAME``): its token
  Secret, ``NAME`` in the cluster's namespace on the hub, keys ``token`` and
  ``ca.crt``; or
* a kubeconfig mapping in the fleet file (``credentials_kubeconfig`` and
  ``contexts``; a context named like the cluster is found without a mapping).

A managed cluster with neither is still listed, and its checks error with
the reason.
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
from fleetcheck.registry.sources.credentials import (
    CredentialError,
    build_kubeconfig,
    decode_base64,
    secret_text,
    secret_value,
)

__all__ = ["OCMSource", "OCMSourceSpec"]

CLUSTERS_KIND = "cluster.open-cluster-management.io/v1 managedclusters"


class OCMSourceSpec(ManagedSourceSpec):
    """``{type: ocm, context: HUB, managed_service_account: fleetcheck}``."""

    type: Literal["ocm"] = "ocm"
    #: name of a ManagedServiceAccount whose token Secret (in each cluster's namespace on the hub) holds credentials
    managed_service_account: str | None = None


class OCMSource(ManagedSource):
    """OCM ManagedClusters, with credentials from a ManagedServiceAccount or the fleet file's mapping."""

    type_name = "ocm"
    spec_model = OCMSourceSpec
    spec: OCMSourceSpec
    what = "OCM ManagedClusters (cluster.open-cluster-management.io)"

    def read(self, mgmt: ManagementCluster, ctx: SourceContext) -> list[DiscoveredCluster]:
        """One cluster per selected ManagedCluster."""
        return [self._cluster(mgmt, obj) for obj in self.selected_objects(mgmt, CLUSTERS_KIND)]

    def _cluster(self, mgmt: ManagementCluster, obj: Obj) -> DiscoveredCluster:
        meta = obj.get("metadata") or {}
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        raw_name = str(meta.get("name", ""))
        name = safe_name(raw_name)
        labels = object_labels(meta)
        configs = spec.get("managedClusterClientConfigs") if isinstance(spec, dict) else None
        first = configs[0] if isinstance(configs, list) and configs and isinstance(configs[0], dict) else {}
        server = first.get("url") if isinstance(first.get("url"), str) else None
        found = DiscoveredCluster(name=name, server=server, labels=labels)
        available = condition_status(status, "ManagedClusterConditionAvailable")
        version = (status.get("version") or {}).get("kubernetes") if isinstance(status, dict) else None
        note = "OCM managed cluster" + (f", Available={available}" if available else "")
        found.notes.append(note + (f", {version}" if version else ""))
        if isinstance(spec, dict) and spec.get("hubAcceptsClient") is False:
            found.notes.append("not accepted by the hub (hubAcceptsClient: false)")
        msa = self.spec.managed_service_account
        if not msa:
            found.error = (
                "OCM keeps no credentials for managed clusters: set 'managed_service_account', "
                "or map the cluster to a kubeconfig context (credentials_kubeconfig / contexts)"
            )
            return found
        if not server:
            found.error = f"ManagedCluster {raw_name} has no spec.managedClusterClientConfigs url"
            return found
        origin = f"ocm Secret {raw_name}/{msa}"
        try:
            secret = mgmt.get("secrets", raw_name, msa)
        except KindUnavailable as exc:
            found.error = f"cannot read {origin}: {exc.reason}"
            return found
        if secret is None:
            found.error = f"{origin} not found (is ManagedServiceAccount {msa!r} deployed to this cluster?)"
            return found
        try:
            token = secret_text(secret, "token", "ocm")
            if not token:
                raise CredentialError(f"{origin} has no 'token' key")
            ca = secret_value(secret, "ca.crt", "ocm")
            if ca is None and first.get("caBundle"):
                ca = decode_base64(first["caBundle"], f"ManagedCluster {raw_name} caBundle")
            found.credentials = build_kubeconfig(name, server, origin=origin, token=token, ca_data=ca)
        except CredentialError as exc:
            found.error = str(exc)
        return found
