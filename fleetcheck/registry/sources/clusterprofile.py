"""``type: clusterprofile``: the clusters of a SIG-Multicluster Cluster Inventory (``ClusterProfile``).

A hub lists each member cluster as a ``ClusterProfile``
(``multicluster.x-k8s.io/v1alpha1``, namespaced; a namespace is a cluster
set). The profile's name, labels, ``status.properties`` and
``status.conditions`` (``ControlPlaneHealthy`` ...) become the cluster's
labels and notes; ``status.version.kubernetes`` a note.

The API keeps no credentials. ``status.accessProviders`` (and the deprecated
``status.credentialProviders``) give, per provider name, a kubeconfig
``cluster`` (server, CA) whose ``client.authentication.k8s.io/exec``
extension configures the consumer's exec plugin for that provider. A
consumer that trusted the hub would now run that plugin; fleetcheck runs no
command a cluster names, so it uses only the two plugin conventions of the
cluster-inventory-api repository that do nothing but read a Secret, and does
that read itself (one GET, same result, nothing executed):

* ``kubeconfig-secretreader``: the extension names ``name``, ``key``,
  ``namespace`` (optional) and ``context`` (optional) of a Secret holding a
  kubeconfig; its user's token or client certificate is used with the
  provider's server and CA;
* ``secretreader``: the extension names ``clusterName``; Secret
  ``<consumer namespace>/<clusterName>`` holds a ``token``.

Which provider name means which convention is the consumer's choice (its
provider file); the defaults are those names. A Secret the user names in the
fleet file (``secrets`` per profile, or ``secret_pattern``) wins over the
providers. A profile with no usable access stays in the fleet with an error
naming every provider it offered and why none could be used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from fleetcheck.errors import KindUnavailable
from fleetcheck.redact import redact
from fleetcheck.registry.sources.base import (
    DiscoveredCluster,
    ManagedSource,
    ManagedSourceSpec,
    ManagementCluster,
    Obj,
    SourceContext,
    object_labels,
    safe_name,
)
from fleetcheck.registry.sources.credentials import (
    CredentialError,
    InMemoryKubeconfig,
    build_kubeconfig,
    decode_base64,
    kubeconfig_from_text,
    secret_text,
    secret_value,
)
from fleetcheck.registry.yamlfile import ClusterTextError, load_cluster_text

__all__ = ["ClusterProfileSource", "ClusterProfileSourceSpec"]

PROFILES_KIND = "multicluster.x-k8s.io/v1alpha1 clusterprofiles"
EXEC_EXTENSION = "client.authentication.k8s.io/exec"
#: the conventions fleetcheck can follow without running the plugin
Convention = Literal["kubeconfig-secret", "token-secret"]
#: the plugins of kubernetes-sigs/cluster-inventory-api that only read a Secret, under their own names
DEFAULT_PROVIDERS: dict[str, Convention] = {
    "kubeconfig-secretreader": "kubeconfig-secret",
    "secretreader": "token-secret",
}
#: keys tried, in order, in a Secret the fleet file names (kubeconfigs first, then a bare token)
KUBECONFIG_KEYS = ("value", "value.yaml", "kubeconfig")
#: at most this many properties and conditions per profile become labels; longer values are cut
MAX_PROPERTIES = 64
MAX_LABEL_VALUE = 256


class ClusterProfileSourceSpec(ManagedSourceSpec):
    """``{type: clusterprofile, context: HUB, namespace: fleet, label_selector: ...}``."""

    type: Literal["clusterprofile"] = "clusterprofile"
    #: the inventory namespace (a cluster set); default: every namespace
    namespace: str | None = None
    #: a Kubernetes label selector the hub applies (``x-k8s.io/cluster-manager=ocm``)
    label_selector: str | None = None
    #: access provider name -> the plugin convention it follows; the providers fleetcheck may use, in order
    access_providers: dict[str, Convention] = Field(default_factory=lambda: dict(DEFAULT_PROVIDERS))
    #: the namespace the consumer runs in: where ``secretreader`` Secrets live, and the default namespace
    #: of ``kubeconfig-secretreader`` Secrets (the plugins infer it from their own pod)
    consumer_namespace: str | None = None
    #: profile name (or ``namespace/name``) -> Secret (``name`` in the profile's namespace, or ``namespace/name``)
    secrets: dict[str, str] = Field(default_factory=dict)
    #: a Secret per profile named by a pattern (``{name}-kubeconfig``; ``{namespace}`` too), in its namespace
    secret_pattern: str | None = None
    #: key of a fleet-file-named Secret holding a kubeconfig (default: value, value.yaml, kubeconfig, then token)
    secret_key: str | None = None


def _split_ref(ref: str, default_namespace: str) -> tuple[str, str]:
    namespace, _, name = ref.rpartition("/")
    return (namespace or default_namespace), name


def _providers(status: Obj) -> list[Obj]:
    """``accessProviders``, then deprecated ``credentialProviders`` of names not already given (the API's rule)."""
    found: dict[str, Obj] = {}
    for field_name in ("credentialProviders", "accessProviders"):
        entries = status.get(field_name)
        for entry in (entries if isinstance(entries, list) else [])[:MAX_PROPERTIES]:
            if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                found[entry["name"]] = entry  # accessProviders come second and win on a shared name
    return list(found.values())


def _exec_config(cluster: Obj) -> Obj | None:
    """The ``client.authentication.k8s.io/exec`` extension's config of a provider's cluster."""
    extensions = cluster.get("extensions")
    for entry in (extensions if isinstance(extensions, list) else [])[:MAX_PROPERTIES]:
        if isinstance(entry, dict) and entry.get("name") == EXEC_EXTENSION:
            value = entry.get("extension")
            if isinstance(value, str):  # a RawExtension may arrive as a JSON string
                try:
                    value = load_cluster_text(value, what="accessProviders extension", syntax="json")
                except ClusterTextError:
                    return None
            return value if isinstance(value, dict) else None
    return None


def profile_labels(obj: Obj) -> dict[str, str]:
    """Properties, condition statuses and the cluster manager as labels; the object's own labels win."""
    status = obj.get("status") or {}
    spec = obj.get("spec") or {}
    labels: dict[str, str] = {}
    manager = (spec.get("clusterManager") or {}).get("name") if isinstance(spec, dict) else None
    if isinstance(manager, str) and manager:
        labels["cluster-manager"] = manager[:MAX_LABEL_VALUE]
    if isinstance(status, dict):
        properties = status.get("properties")
        for prop in (properties if isinstance(properties, list) else [])[:MAX_PROPERTIES]:
            if isinstance(prop, dict) and isinstance(prop.get("name"), str) and prop.get("value") is not None:
                labels[prop["name"][:253]] = str(prop["value"])[:MAX_LABEL_VALUE]
        conditions = status.get("conditions")
        for cond in (conditions if isinstance(conditions, list) else [])[:MAX_PROPERTIES]:
            if isinstance(cond, dict) and isinstance(cond.get("type"), str):
                labels[cond["type"][:253]] = str(cond.get("status", "Unknown"))[:MAX_LABEL_VALUE]
    return {**labels, **object_labels(obj.get("metadata") or {})}


class ClusterProfileSource(ManagedSource):
    """ClusterProfiles of a hub, with access from a Secret the fleet file names or a Secret-reading provider."""

    type_name = "clusterprofile"
    spec_model = ClusterProfileSourceSpec
    spec: ClusterProfileSourceSpec
    what = "ClusterProfiles (multicluster.x-k8s.io)"

    def read(self, mgmt: ManagementCluster, ctx: SourceContext) -> list[DiscoveredCluster]:
        """One cluster per ClusterProfile the namespace and selector keep."""
        spec = self.spec
        profiles = mgmt.list_all(PROFILES_KIND, self.what, namespace=spec.namespace, label_selector=spec.label_selector)
        found = [self._cluster(mgmt, obj) for obj in profiles]
        for cluster in found:
            cluster.error = redact(cluster.error) if cluster.error else None
            cluster.notes = [redact(note) for note in cluster.notes]
        return found

    def _cluster(self, mgmt: ManagementCluster, obj: Obj) -> DiscoveredCluster:
        meta = obj.get("metadata") or {}
        status = obj.get("status") or {}
        spec = obj.get("spec") or {}
        raw_name = str(meta.get("name", ""))
        namespace = str(meta.get("namespace") or "default")
        status = status if isinstance(status, dict) else {}
        providers = _providers(status)
        servers = [
            str(p["cluster"]["server"])
            for p in providers
            if isinstance(p.get("cluster"), dict) and isinstance(p["cluster"].get("server"), str)
        ]
        found = DiscoveredCluster(
            name=safe_name(raw_name),
            namespace=namespace,
            server=servers[0] if servers else None,
            labels=profile_labels(obj),
            aliases=servers[1:],
        )
        found.notes.append(self._summary(namespace, raw_name, spec, status))
        where = f"ClusterProfile {namespace}/{raw_name}"
        tried: list[str] = []
        named = self._named_secret(namespace, raw_name)
        if named is not None:
            credentials = self._from_named_secret(mgmt, found, named, providers, tried)
            if credentials is not None:
                return self._use(found, credentials)
        by_name = {str(p["name"]): p for p in providers}
        for provider_name, convention in self.spec.access_providers.items():
            provider = by_name.get(provider_name)
            if provider is None:
                continue
            try:
                credentials = self._from_provider(mgmt, found.name, namespace, provider, convention)
            except CredentialError as exc:
                tried.append(f"provider {provider_name!r}: {exc}")
                continue
            found.notes.append(f"credentials through access provider {provider_name!r}")
            return self._use(found, credentials)
        for provider in providers:
            if provider["name"] not in self.spec.access_providers:
                tried.append(
                    f"provider {provider['name']!r}: an exec plugin fleetcheck does not run "
                    "(only the Secret-reading conventions are followed; see 'access_providers')"
                )
        if not providers and named is None:
            tried.append("no status.accessProviders")
        if named is None:
            tried.append("no Secret named in the fleet file (secrets / secret_pattern)")
        found.error = (
            f"{where} has no usable access: {'; '.join(tried)}; "
            "name a kubeconfig Secret, or map the cluster to a kubeconfig context (credentials_kubeconfig / contexts)"
        )
        return found

    @staticmethod
    def _use(found: DiscoveredCluster, credentials: InMemoryKubeconfig) -> DiscoveredCluster:
        found.credentials = credentials
        server = credentials.server_of(found.name)
        if server and server != found.server:
            found.aliases = [a for a in [found.server, *found.aliases] if a]
            found.server = server
        return found

    @staticmethod
    def _summary(namespace: str, name: str, spec: object, status: Obj) -> str:
        parts = [f"ClusterProfile {namespace}/{name}"]
        manager = (spec.get("clusterManager") or {}).get("name") if isinstance(spec, dict) else None
        if manager:
            parts.append(f"manager {manager}")
        conditions = status.get("conditions")
        for cond in (conditions if isinstance(conditions, list) else [])[:MAX_PROPERTIES]:
            if isinstance(cond, dict) and cond.get("type") == "ControlPlaneHealthy":
                parts.append(f"ControlPlaneHealthy={cond.get('status', 'Unknown')}")
        version = (status.get("version") or {}).get("kubernetes")
        if version:
            parts.append(str(version))
        display = spec.get("displayName") if isinstance(spec, dict) else None
        if display and display != name:
            parts.append(f"display name {display!r}")
        return ", ".join(str(p)[:MAX_LABEL_VALUE] for p in parts)

    def _named_secret(self, namespace: str, name: str) -> tuple[str, str] | None:
        """The (namespace, name) of the Secret the fleet file names for this profile, if any."""
        ref = self.spec.secrets.get(f"{namespace}/{name}") or self.spec.secrets.get(name)
        if ref is None and self.spec.secret_pattern:
            ref = self.spec.secret_pattern.replace("{name}", name).replace("{namespace}", namespace)
        return _split_ref(ref, namespace) if ref else None

    def _from_named_secret(
        self,
        mgmt: ManagementCluster,
        found: DiscoveredCluster,
        ref: tuple[str, str],
        providers: list[Obj],
        tried: list[str],
    ) -> InMemoryKubeconfig | None:
        """A kubeconfig (or a token, with the first provider's endpoint) from the fleet file's Secret."""
        origin = f"clusterprofile Secret {ref[0]}/{ref[1]}"
        try:
            secret = self._get_secret(mgmt, ref, origin)
            keys = [self.spec.secret_key] if self.spec.secret_key else list(KUBECONFIG_KEYS)
            for key in keys:
                raw = secret_value(secret, key, "clusterprofile")
                if raw is not None:
                    found.notes.append(f"credentials from {origin} key {key!r}")
                    return kubeconfig_from_text(raw, name=found.name, origin=origin)
            token = None if self.spec.secret_key else secret_text(secret, "token", "clusterprofile")
            if token is None:
                wanted = ", ".join(keys if self.spec.secret_key else [*keys, "token"])
                raise CredentialError(f"{origin} has none of the keys {wanted}")
            cluster = next((p["cluster"] for p in providers if isinstance(p.get("cluster"), dict)), None)
            if cluster is None:
                raise CredentialError(f"{origin} holds a token, but the profile publishes no server (accessProviders)")
            found.notes.append(f"token from {origin}, endpoint from the profile's access provider")
            return _token_kubeconfig(found.name, cluster, token, secret_value(secret, "ca.crt"), origin)
        except CredentialError as exc:
            tried.append(str(exc))
            return None

    @staticmethod
    def _get_secret(mgmt: ManagementCluster, ref: tuple[str, str], origin: str) -> Obj:
        try:
            secret = mgmt.get("secrets", ref[0], ref[1])
        except KindUnavailable as exc:
            raise CredentialError(f"cannot read {origin}: {exc.reason}") from None
        if secret is None:
            raise CredentialError(f"{origin} not found")
        return secret

    def _from_provider(
        self, mgmt: ManagementCluster, name: str, namespace: str, provider: Obj, convention: Convention
    ) -> InMemoryKubeconfig:
        cluster = provider.get("cluster")
        if not isinstance(cluster, dict) or not cluster.get("server"):
            raise CredentialError("its cluster has no server")
        config = _exec_config(cluster)
        if config is None:
            raise CredentialError(f"its cluster has no '{EXEC_EXTENSION}' extension naming a Secret")
        consumer = self.spec.consumer_namespace
        if convention == "token-secret":
            secret_name = config.get("clusterName")
            if not isinstance(secret_name, str) or not secret_name:
                raise CredentialError("the exec extension has no 'clusterName'")
            if not consumer:
                raise CredentialError("set 'consumer_namespace' (where the secretreader plugin's Secrets live)")
            origin = f"clusterprofile Secret {consumer}/{secret_name}"
            secret = self._get_secret(mgmt, (consumer, secret_name), origin)
            token = secret_text(secret, "token", "clusterprofile")
            if not token:
                raise CredentialError(f"{origin} has no 'token' key")
            return _token_kubeconfig(name, cluster, token, None, origin)
        secret_name, key = config.get("name"), config.get("key")
        if not isinstance(secret_name, str) or not secret_name or not isinstance(key, str) or not key:
            raise CredentialError("the exec extension needs 'name' and 'key' of the kubeconfig Secret")
        secret_namespace = config.get("namespace") or consumer or namespace
        origin = f"clusterprofile Secret {secret_namespace}/{secret_name}"
        secret = self._get_secret(mgmt, (str(secret_namespace), secret_name), origin)
        raw = secret_value(secret, key, "clusterprofile")
        if raw is None:
            raise CredentialError(f"{origin} has no {key!r} key")
        context = config.get("context") if isinstance(config.get("context"), str) and config.get("context") else None
        return kubeconfig_from_text(raw, name=name, origin=origin, context=context, cluster=cluster)


def _token_kubeconfig(
    name: str, cluster: Mapping[str, Any], token: str, ca_pem: bytes | None, origin: str
) -> InMemoryKubeconfig:
    """A bearer-token kubeconfig for a provider's ``cluster`` (its CA unless the Secret carries ``ca.crt``)."""
    ca = ca_pem
    if ca is None and cluster.get("certificate-authority-data"):
        ca = decode_base64(cluster["certificate-authority-data"], f"{origin}: the provider's CA data")
    server_name = cluster.get("tls-server-name")
    proxy = cluster.get("proxy-url")
    return build_kubeconfig(
        name,
        str(cluster["server"]),
        origin=origin,
        ca_data=ca,
        token=token,
        insecure=cluster.get("insecure-skip-tls-verify") is True,
        tls_server_name=server_name if isinstance(server_name, str) else None,
        proxy_url=proxy if isinstance(proxy, str) else None,
    )
