"""``type: argocd``: the clusters Argo CD deploys to, from its cluster Secrets.

Argo CD registers a cluster as a Secret labelled
``argocd.argoproj.io/secret-type: cluster`` in its namespace, with keys
``name``, ``server`` and ``config`` (JSON: ``bearerToken``,
``tlsClientConfig`` with ``caData``/``certData``/``keyData``/``insecure``/
``serverName``, or ``execProviderConfig`` / ``awsAuthConfig``). Only that
namespace is listed, and only with that label selector.

Supported: bearer tokens and client certificates. An exec plugin or AWS
IAM auth would make fleetcheck run a command (or need cloud credentials)
because a Secret says so; such a cluster stays in the fleet with an
``error`` naming the auth kind, and can be mapped to a kubeconfig context
(``credentials_kubeconfig`` / ``contexts``). Argo CD's in-cluster address
(``https://kubernetes.default.svc``) is the management cluster itself and
is reached through the source's own context.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from fleetcheck.errors import KindUnavailable
from fleetcheck.registry.sources.base import (
    DiscoveredCluster,
    ManagedSource,
    ManagedSourceSpec,
    ManagementCluster,
    Obj,
    SourceContext,
    SourceUnavailable,
    object_labels,
    safe_name,
)
from fleetcheck.registry.sources.credentials import (
    CredentialError,
    InMemoryKubeconfig,
    build_kubeconfig,
    decode_base64,
    normalise_server,
    secret_text,
)
from fleetcheck.registry.yamlfile import ClusterTextInvalid, ClusterTextOverBudget, load_cluster_text

__all__ = ["ArgoCDSource", "ArgoCDSourceSpec", "argocd_credentials"]

SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"
IN_CLUSTER = frozenset({"https://kubernetes.default.svc", "https://kubernetes.default.svc.cluster.local"})

#: auth kinds of Argo CD's cluster ``config`` fleetcheck refuses, and why (named in the cluster's error)
_UNSUPPORTED_AUTH = {
    "execProviderConfig": "exec plugin auth would run a command named by the Secret",
    "awsAuthConfig": "AWS IAM auth needs AWS credentials and a command on the runner",
}
#: keys of ``config`` that are not auth
_OTHER_KEYS = frozenset({"tlsClientConfig", "proxyUrl", "disableCompression"})


class ArgoCDSourceSpec(ManagedSourceSpec):
    """``{type: argocd, context: MGMT, namespace: argocd}``."""

    type: Literal["argocd"] = "argocd"
    #: the namespace Argo CD runs in (its cluster Secrets live there)
    namespace: str = "argocd"
    #: treat ``https://kubernetes.default.svc`` as the management cluster (reached through ``context``)
    in_cluster: bool = True


def argocd_credentials(name: str, server: str, config: Any, origin: str) -> InMemoryKubeconfig:
    """The in-memory kubeconfig for one Argo CD cluster ``config``, or :class:`CredentialError` naming the auth kind."""
    if not isinstance(config, dict):
        raise CredentialError(f"{origin}: 'config' is not a JSON object")
    for kind, why in _UNSUPPORTED_AUTH.items():
        if kind in config:
            raise CredentialError(
                f"{origin}: auth kind '{kind}' is not supported ({why}); "
                "map the cluster to a kubeconfig context (credentials_kubeconfig / contexts)"
            )
    tls = config.get("tlsClientConfig") or {}
    if not isinstance(tls, dict):
        raise CredentialError(f"{origin}: 'tlsClientConfig' is not a JSON object")
    token = config.get("bearerToken")
    has_cert = bool(tls.get("certData") or tls.get("keyData"))
    if not token and not has_cert:
        if config.get("username") or config.get("password"):
            raise CredentialError(
                f"{origin}: auth kind 'username/password' (basic auth) is not supported; use a token or certificate"
            )
        unknown = sorted(k for k in config if k not in _OTHER_KEYS and k not in ("bearerToken", "username", "password"))
        if unknown:
            raise CredentialError(
                f"{origin}: unknown auth kind {unknown[0]!r}; supported: bearerToken, tlsClientConfig"
            )
        raise CredentialError(
            f"{origin}: no credentials in 'config' (no bearerToken, no tlsClientConfig certData/keyData)"
        )
    if token is not None and not isinstance(token, str):
        raise CredentialError(f"{origin}: 'bearerToken' is not a string")
    ca = decode_base64(tls["caData"], f"{origin}: tlsClientConfig.caData") if tls.get("caData") else None
    cert = decode_base64(tls["certData"], f"{origin}: tlsClientConfig.certData") if tls.get("certData") else None
    key = decode_base64(tls["keyData"], f"{origin}: tlsClientConfig.keyData") if tls.get("keyData") else None
    server_name = tls.get("serverName")
    proxy = config.get("proxyUrl")
    return build_kubeconfig(
        name,
        server,
        origin=origin,
        ca_data=ca,
        token=token or None,
        cert_data=cert if has_cert else None,
        key_data=key if has_cert else None,
        insecure=tls.get("insecure") is True,
        tls_server_name=server_name if isinstance(server_name, str) else None,
        proxy_url=proxy if isinstance(proxy, str) else None,
    )


class ArgoCDSource(ManagedSource):
    """Argo CD cluster Secrets of one namespace."""

    type_name = "argocd"
    spec_model = ArgoCDSourceSpec
    spec: ArgoCDSourceSpec
    what = "Argo CD cluster Secrets"

    def read(self, mgmt: ManagementCluster, ctx: SourceContext) -> list[DiscoveredCluster]:
        """List the labelled Secrets of the Argo CD namespace; one cluster per Secret."""
        namespace = self.spec.namespace
        try:
            secrets = mgmt.list_in("secrets", namespace, f"{SECRET_TYPE_LABEL}=cluster")
        except KindUnavailable as exc:
            raise SourceUnavailable(
                ctx.fleet_file,
                self.where,
                f"cannot list Secrets in namespace {namespace!r} on context {mgmt.context!r}: {exc.reason}",
                f"grant 'list' on secrets in {namespace}, or set the source's 'namespace'",
            ) from None
        found = [self._cluster(mgmt, secret) for secret in secrets]
        return [c for c in found if self.spec.selects(c.name)]

    def _cluster(self, mgmt: ManagementCluster, secret: Obj) -> DiscoveredCluster:
        meta = secret.get("metadata") or {}
        secret_name = str(meta.get("name", ""))
        origin = f"argocd Secret {meta.get('namespace') or self.spec.namespace}/{secret_name}"
        labels = object_labels(meta, drop_prefix="argocd.argoproj.io/")
        found = DiscoveredCluster(name=safe_name(secret_name), labels=labels)
        try:
            server = secret_text(secret, "server", "argocd")
            display = secret_text(secret, "name", "argocd")
        except CredentialError as exc:
            found.error = str(exc)
            return found
        found.name = safe_name(display or server or secret_name)
        found.server = server
        project = _quiet_text(secret, "project")
        if project:
            found.notes.append(f"Argo CD project {project}")
        if not server:
            found.error = f"{origin} has no 'server' key"
            return found
        if normalise_server(server) in IN_CLUSTER and self.spec.in_cluster:
            found.server = mgmt.server
            found.aliases = [server]
            found.kubeconfig = tuple(str(p) for p in mgmt.merged.paths)
            found.context = mgmt.context
            found.notes.append(f"Argo CD's in-cluster entry: the management cluster, through context {mgmt.context!r}")
            return found
        try:
            text = secret_text(secret, "config", "argocd")
            if text is None:
                raise CredentialError(f"{origin} has no 'config' key")
            try:
                config = load_cluster_text(text, what=f"{origin} (config)", syntax="json")
            except ClusterTextOverBudget as exc:
                raise CredentialError(str(exc)) from None
            except ClusterTextInvalid as exc:  # the line only: the text around it holds the credentials
                at = re.search(r" at line (\d+)", exc.problem)
                raise CredentialError(f"{origin}: 'config' is not valid JSON (line {at[1] if at else '?'})") from None
            found.credentials = argocd_credentials(found.name, server, config, origin)
        except CredentialError as exc:
            found.error = str(exc)
        return found


def _quiet_text(secret: Obj, key: str) -> str | None:
    """A non-secret informational key (``project``); a malformed one is ignored, not an error."""
    try:
        return secret_text(secret, key)
    except CredentialError:
        return None
