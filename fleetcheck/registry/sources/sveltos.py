"""``type: sveltos``: the clusters registered with Sveltos as ``SveltosCluster`` objects.

``SveltosCluster`` (``lib.projectsveltos.io/v1beta1``, namespaced) is how a
cluster Sveltos did not create (not a Cluster API one) is registered. Its
credentials are the kubeconfig Secret libsveltos reads
(``lib/clusterproxy``): ``spec.kubeconfigName``, default
``<name>-sveltos-kubeconfig``, in the SveltosCluster's namespace; the key
``spec.kubeconfigKeyName`` (token renewal sets ``re-kubeconfig`` there),
else the Secret's only key. libsveltos takes "the first key" of a Secret
with several, which for a Go map is any of them; fleetcheck then takes
``kubeconfig``, else ``value``, and otherwise gives an error naming the keys
rather than guess.

The object's labels are the cluster's (Sveltos selects clusters by them).
A cluster in pull mode (``spec.pullMode``: the agent dials in, no kubeconfig
on the management cluster) or with ``spec.workloadIdentity`` (a cloud
identity fleetcheck does not hold) is kept with an error saying so; the
workload identity endpoint still identifies it for merging.
"""

from __future__ import annotations

from typing import Literal

from fleetcheck.errors import KindUnavailable
from fleetcheck.redact import redact
from fleetcheck.registry.sources.base import (
    DiscoveredCluster,
    ManagedSource,
    ManagementCluster,
    NamespacedSourceSpec,
    Obj,
    SourceContext,
    object_labels,
    safe_name,
)
from fleetcheck.registry.sources.credentials import CredentialError, kubeconfig_from_text, secret_value

__all__ = ["SveltosSource", "SveltosSourceSpec", "kubeconfig_key"]

CLUSTERS_KIND = "lib.projectsveltos.io/v1beta1 sveltosclusters"
SECRET_SUFFIX = "-sveltos-kubeconfig"
#: keys taken, in order, from a Secret with several keys and no ``kubeconfigKeyName``
PREFERRED_KEYS = ("kubeconfig", "value")
_MAX_KEYS_NAMED = 8


class SveltosSourceSpec(NamespacedSourceSpec):
    """``{type: sveltos, context: MGMT, namespaces: [...]}``."""

    type: Literal["sveltos"] = "sveltos"


def kubeconfig_key(secret: Obj, key_name: str | None, origin: str) -> str:
    """The key holding the kubeconfig: the named one, the only one, else ``kubeconfig`` / ``value``."""
    keys = sorted(
        {str(k) for section in ("data", "stringData") if isinstance(secret.get(section), dict) for k in secret[section]}
    )
    if key_name:
        if key_name not in keys:
            raise CredentialError(f"{origin} has no {key_name!r} key (spec.kubeconfigKeyName)")
        return key_name
    if len(keys) == 1:
        return keys[0]
    for key in PREFERRED_KEYS:
        if key in keys:
            return key
    if not keys:
        raise CredentialError(f"{origin} has no data")
    named = ", ".join(keys[:_MAX_KEYS_NAMED]) + (" ..." if len(keys) > _MAX_KEYS_NAMED else "")
    raise CredentialError(
        f"{origin} has {len(keys)} keys ({named}) and the SveltosCluster names none: "
        "set spec.kubeconfigKeyName (Sveltos itself would take any of them)"
    )


class SveltosSource(ManagedSource):
    """SveltosClusters, with credentials from their kubeconfig Secrets."""

    type_name = "sveltos"
    spec_model = SveltosSourceSpec
    spec: SveltosSourceSpec
    what = "SveltosClusters (lib.projectsveltos.io)"

    def read(self, mgmt: ManagementCluster, ctx: SourceContext) -> list[DiscoveredCluster]:
        """One cluster per SveltosCluster of the selected namespaces."""
        found = []
        for obj in mgmt.list_all(CLUSTERS_KIND, self.what):
            namespace = (obj.get("metadata") or {}).get("namespace")
            if not self.spec.counts_namespace(namespace):
                continue
            cluster = self._cluster(mgmt, obj)
            cluster.error = redact(cluster.error) if cluster.error else None
            cluster.notes = [redact(note) for note in cluster.notes]
            found.append(cluster)
        return found

    def _cluster(self, mgmt: ManagementCluster, obj: Obj) -> DiscoveredCluster:
        meta = obj.get("metadata") or {}
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        spec = spec if isinstance(spec, dict) else {}
        status = status if isinstance(status, dict) else {}
        name = str(meta.get("name", ""))
        namespace = str(meta.get("namespace") or "default")
        found = DiscoveredCluster(name=safe_name(name), namespace=namespace, labels=object_labels(meta))
        parts = [f"SveltosCluster {namespace}/{name}", f"ready={str(status.get('ready') is True).lower()}"]
        for label, value in (("connection", status.get("connectionStatus")), ("", status.get("version"))):
            if isinstance(value, str) and value:
                parts.append(f"{label} {value}".strip())
        found.notes.append(", ".join(parts))
        if spec.get("paused"):
            found.notes.append("paused")
        failure = status.get("failureMessage")
        if isinstance(failure, str) and failure:
            found.notes.append(f"Sveltos reports: {failure.splitlines()[0][:200]}")
        identity = spec.get("workloadIdentity")
        if isinstance(identity, dict):
            endpoint = identity.get("endpoint")
            found.server = endpoint if isinstance(endpoint, str) and endpoint else None
            found.error = (
                f"SveltosCluster {namespace}/{name} uses workload identity ({identity.get('provider', 'unknown')}): "
                "Sveltos gets short-lived cloud credentials at runtime, which fleetcheck does not hold; "
                "map the cluster to a kubeconfig context (credentials_kubeconfig / contexts)"
            )
            return found
        if spec.get("pullMode") is True:
            found.error = (
                f"SveltosCluster {namespace}/{name} is in pull mode: its agent dials in and the management "
                "cluster holds no kubeconfig for it; map it to a kubeconfig context (credentials_kubeconfig / contexts)"
            )
            return found
        secret_name = str(spec.get("kubeconfigName") or f"{name}{SECRET_SUFFIX}")
        origin = f"sveltos Secret {namespace}/{secret_name}"
        try:
            secret = mgmt.get("secrets", namespace, secret_name)
        except KindUnavailable as exc:
            found.error = f"cannot read {origin}: {exc.reason}"
            return found
        if secret is None:
            found.error = f"{origin} not found"
            return found
        key_name = spec.get("kubeconfigKeyName")
        try:
            key = kubeconfig_key(secret, key_name if isinstance(key_name, str) else None, origin)
            raw = secret_value(secret, key, "sveltos")
            if raw is None:  # pragma: no cover - kubeconfig_key only returns keys the Secret has
                raise CredentialError(f"{origin} has no {key!r} key")
            found.credentials = kubeconfig_from_text(raw, name=found.name, origin=f"{origin} key {key!r}")
        except CredentialError as exc:
            found.error = str(exc)
            return found
        found.server = found.credentials.server_of(found.name)
        return found
