"""``type: capi``: the workload clusters of a Cluster API management cluster.

Every ``Cluster`` object (``cluster.x-k8s.io``, v1beta1 or v1beta2: the
version the server prefers is read, and both shapes are understood) is a
cluster. Its credentials are the kubeconfig Cluster API writes for it:
Secret ``<name>-kubeconfig`` in the Cluster's namespace, type
``cluster.x-k8s.io/secret``, key ``value``. Each Secret is read with one
GET, so the scan's RBAC needs ``get`` on Secrets of the cluster namespaces,
not ``list`` on every Secret.

A Cluster whose Secret is missing (still provisioning), unreadable or
malformed is still listed: its checks ``error`` with the reason, so a
half-built or broken cluster is never silently out of the scan.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Literal

from fleetcheck.errors import KindUnavailable
from fleetcheck.registry.sources.base import (
    DiscoveredCluster,
    ManagedSource,
    ManagementCluster,
    NamespacedSourceSpec,
    Obj,
    SourceContext,
    condition_status,
    object_labels,
    safe_name,
)
from fleetcheck.registry.sources.credentials import CredentialError, kubeconfig_from_text, secret_value

__all__ = ["CapiSource", "CapiSourceSpec", "capi_status"]

#: asked for first; a server without v1beta2 answers with its preferred version (v1beta1)
CLUSTERS_KIND = "cluster.x-k8s.io/v1beta2 clusters"
SECRET_TYPE = "cluster.x-k8s.io/secret"


class CapiSourceSpec(NamespacedSourceSpec):
    """``{type: capi, context: MGMT, namespaces: [...]}``."""

    type: Literal["capi"] = "capi"
    #: the kubeconfig Secret is ``<cluster name><secret_suffix>`` (some providers write ``-user-kubeconfig``)
    secret_suffix: str = "-kubeconfig"


def capi_status(cluster: Obj) -> str:
    """``phase Provisioned, Available=True``: the phase and the readiness condition of either API version.

    v1beta2 Clusters carry ``Available`` in ``status.conditions``; v1beta1
    ones carry ``Ready`` there and, since CAPI 1.9, the v1beta2 conditions
    under ``status.v1beta2.conditions``.
    """
    status = cluster.get("status") or {}
    if not isinstance(status, dict):
        return "no status"
    parts: list[str] = []
    if status.get("phase"):
        parts.append(f"phase {status['phase']}")
    available = condition_status(status.get("v1beta2"), "Available") or condition_status(status, "Available")
    if available is not None:
        parts.append(f"Available={available}")
    else:
        ready = condition_status(status, "Ready")
        if ready is not None:
            parts.append(f"Ready={ready}")
    return ", ".join(parts) or "no status"


def _endpoint(spec: Obj) -> str | None:
    endpoint = spec.get("controlPlaneEndpoint") or {}
    if not isinstance(endpoint, dict) or not endpoint.get("host"):
        return None
    port = endpoint.get("port") or 443
    return f"https://{endpoint['host']}:{port}"


class CapiSource(ManagedSource):
    """Cluster API ``Cluster`` objects, with credentials from their kubeconfig Secrets."""

    type_name = "capi"
    spec_model = CapiSourceSpec
    spec: CapiSourceSpec
    what = "Cluster API Clusters (cluster.x-k8s.io)"

    def read(self, mgmt: ManagementCluster, ctx: SourceContext) -> list[DiscoveredCluster]:
        """List the Clusters, then read their kubeconfig Secrets (a few at a time)."""
        wanted = []
        for obj in mgmt.list_all(CLUSTERS_KIND, self.what):
            meta = obj.get("metadata") or {}
            if not self.spec.counts_namespace(meta.get("namespace")):
                continue
            if self.spec.selects(safe_name(str(meta.get("name", "")))):
                wanted.append(obj)
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="fleetcheck-capi") as pool:
            return list(pool.map(lambda obj: self._cluster(mgmt, obj), wanted))

    def _cluster(self, mgmt: ManagementCluster, obj: Obj) -> DiscoveredCluster:
        meta = obj.get("metadata") or {}
        spec = obj.get("spec") or {}
        name = str(meta.get("name", ""))
        namespace = str(meta.get("namespace") or "default")
        endpoint = _endpoint(spec) if isinstance(spec, dict) else None
        found = DiscoveredCluster(
            name=safe_name(name),
            namespace=namespace,
            server=endpoint,
            labels=object_labels(meta),
            aliases=[endpoint] if endpoint else [],
        )
        status = capi_status(obj)
        topology = spec.get("topology") if isinstance(spec, dict) else None
        version = topology.get("version") if isinstance(topology, dict) else None
        found.notes.append(f"Cluster API {namespace}/{name}: {status}" + (f", topology {version}" if version else ""))
        if meta.get("deletionTimestamp"):
            found.notes.append("being deleted")
        if isinstance(spec, dict) and spec.get("paused"):
            found.notes.append("reconciliation paused")
        secret_name = f"{name}{self.spec.secret_suffix}"
        origin = f"capi Secret {namespace}/{secret_name}"
        try:
            secret = mgmt.get("secrets", namespace, secret_name)
        except KindUnavailable as exc:
            found.error = f"cannot read {origin}: {exc.reason}"
            return found
        if secret is None:
            found.error = f"{origin} not found (cluster {status})"
            return found
        if secret.get("type") not in (None, SECRET_TYPE):
            found.notes.append(f"{origin} has type {secret.get('type')!r}, not {SECRET_TYPE!r}")
        try:
            raw = secret_value(secret, "value", "capi")
            if raw is None:
                raise CredentialError(f"{origin} has no 'value' key")
            found.credentials = kubeconfig_from_text(raw, name=found.name, origin=origin)
        except CredentialError as exc:
            found.error = str(exc)
            return found
        found.server = found.credentials.server_of(found.name) or endpoint
        return found
