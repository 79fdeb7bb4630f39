"""Access dimensions: who the API server trusts, what it admits, and cluster-wide RBAC.

OIDC and the API server flags come from
:data:`fleetcheck.facts.builtin.AUTHENTICATION` (the fact FC-OIDC-00x
read); the RBAC fingerprint from :func:`fleetcheck.facts.builtin.rbac_inventory`
with FC-RBAC-001's ignored names, so it is the very fact that check reads.
Namespace Pod Security levels and admission webhooks are facts of their own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from fleetcheck.facts.admission import WEBHOOK_POLICIES, WebhookPolicy
from fleetcheck.facts.apiserver import ApiServerFlags, Authentication
from fleetcheck.facts.builtin import AUTHENTICATION, rbac_inventory
from fleetcheck.facts.dimensions.base import MAX_SCANNED, SAMPLE, Digest, Dimension, DimValue, clip, item_set
from fleetcheck.facts.key import Fact, FactInput
from fleetcheck.facts.rbac_normalize import DEFAULT_IGNORED_NAMES, RbacInventory, RbacObject
from fleetcheck.registry.profile import Profile

__all__ = ["DIMENSIONS", "POD_SECURITY", "rbac_dimension", "rbac_fingerprint"]

Obj = dict[str, Any]
_STATIC_CREDENTIAL_FLAGS = ("token-auth-file", "basic-auth-file")
_PSA_ENFORCE = "pod-security.kubernetes.io/enforce"


def _flags(auth: Authentication) -> list[ApiServerFlags] | None:
    """Every kube-apiserver's flags; None when any server's flags cannot be seen (managed, declared)."""
    if auth.unknown or not auth.servers or auth.declared:
        return None
    flags = [s.flags for s in auth.servers if s.flags is not None]
    return flags if len(flags) == len(auth.servers) else None


def _issuers(auth: Authentication) -> DimValue | None:
    if auth.unknown or not auth.servers or any(s.unknown for s in auth.servers):
        return None
    return item_set(auth.issuers, what="issuers")


def _client_ids(auth: Authentication) -> DimValue | None:
    if _issuers(auth) is None:
        return None
    return item_set((f"{a.issuer} {cid}" for a in auth.authenticators for cid in a.client_ids), what="client ids")


def _prefixes(auth: Authentication) -> DimValue | None:
    if _issuers(auth) is None:
        return None
    if any(a.username_prefix is None for a in auth.authenticators):
        return None
    return item_set((f"{a.issuer} {a.username_prefix!r}" for a in auth.authenticators), what="prefixes")


def _static_files(auth: Authentication) -> DimValue | None:
    flags = _flags(auth)
    if flags is None:
        return None
    return item_set(f"--{name}" for f in flags for name in _STATIC_CREDENTIAL_FLAGS if f.has(name))


def _anonymous(auth: Authentication) -> DimValue | None:
    flags = _flags(auth)
    if flags is None:
        return None
    return item_set(clip(f.value("anonymous-auth") or "true (default)") for f in flags)


def _admission_plugins(auth: Authentication) -> DimValue | None:
    flags = _flags(auth)
    if flags is None:
        return None
    plugins: list[str] = []
    for f in flags:
        enabled = f.value("enable-admission-plugins")
        plugins.extend(p.strip() for p in (enabled or "").split(",")[:256] if p.strip())
        disabled = f.value("disable-admission-plugins")
        plugins.extend(f"-{p.strip()}" for p in (disabled or "").split(",")[:256] if p.strip())
    return item_set(plugins or ["(defaults)"], what="admission plugins")


def _declared_issuer(profile: Profile) -> DimValue | None:
    return (profile.standards.oidc_issuer,) if profile.standards.oidc_issuer else None


def pod_security_levels(namespaces: list[Obj], profile: Profile) -> tuple[str, ...]:
    """The ``enforce`` levels tenant namespaces use (``unset`` for none), as a sorted set."""
    levels: set[str] = set()
    for ns in namespaces[:MAX_SCANNED]:
        meta = ns.get("metadata") if isinstance(ns.get("metadata"), dict) else {}
        name = str((meta or {}).get("name", ""))
        if profile.is_system_namespace(name):
            continue
        labels = (meta or {}).get("labels")
        level = labels.get(_PSA_ENFORCE) if isinstance(labels, dict) else None
        levels.add(clip(level) if level else "unset")
    return tuple(sorted(levels))


def _pod_security(source: FactInput) -> tuple[str, ...]:
    return pod_security_levels(source.list("namespaces"), source.profile)


POD_SECURITY: Fact[tuple[str, ...]] = Fact(
    "pod_security.namespace_levels",
    "The Pod Security Admission enforce levels of the profile's tenant namespaces (label "
    "pod-security.kubernetes.io/enforce; unset when absent).",
    ("namespaces",),
    _pod_security,
)


def _webhooks(policies: dict[str, WebhookPolicy]) -> DimValue | None:
    """Every webhook as ``<configuration>/<webhook> <failurePolicy>``, from FC-HOOK-003/004's own fact."""
    return item_set((f"{p.ref}/{name} {p.policy}" for name, p in policies.items()), what="webhooks")


def _object_line(obj: RbacObject) -> str:
    permissions = sorted(f"{p.api_group}|{p.resource}|{p.resource_name}|{p.url}|{p.verb}" for p in obj.permissions)
    aggregation = sorted(obj.aggregation) if obj.aggregation is not None else None
    return repr(
        (
            obj.kind,
            obj.name,
            permissions,
            aggregation,
            sorted(obj.aggregation_labels),
            obj.role_ref,
            sorted(obj.subjects),
        )
    )


def rbac_fingerprint(inventory: RbacInventory) -> Digest:
    """The non-system ClusterRoles/Bindings as one digest over their normalised content (always a digest)."""
    lines = sorted(_object_line(obj) for obj in list(inventory.objects.values())[:MAX_SCANNED])
    digest = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
    names: Iterable[str] = sorted(inventory.objects)[:SAMPLE]
    return Digest(count=len(lines), sha256=digest, sample=tuple(clip(n) for n in names))


def _rbac_ignore_names(profile: Profile) -> tuple[str, ...]:
    raw = (profile.settings.get("FC-RBAC-001") or {}).get("ignore_names")
    if isinstance(raw, list | tuple) and all(isinstance(n, str) for n in raw):
        return tuple(raw)
    return DEFAULT_IGNORED_NAMES


def _rbac_reference(profile: Profile) -> tuple[str | None, str]:
    named = (profile.settings.get("FC-RBAC-001") or {}).get("reference_cluster")
    return (named, "settings.FC-RBAC-001.reference_cluster") if isinstance(named, str) and named else (None, "")


def rbac_dimension(profile: Profile) -> Dimension[RbacInventory]:
    """The RBAC fingerprint dimension for ``profile``: FC-RBAC-001's fact key for its ignored names."""
    return Dimension(
        "rbac.fingerprint",
        "access",
        "Cluster-wide RBAC fingerprint",
        "A digest of the non-system ClusterRoles and ClusterRoleBindings, normalised the way FC-RBAC-001 compares "
        "them (single permissions, subjects, aggregation); the names it ignores are the check's ignore_names.",
        "never; unreadable ClusterRoles or ClusterRoleBindings make it an error",
        rbac_inventory(_rbac_ignore_names(profile)),
        rbac_fingerprint,
        check="FC-RBAC-001",
        reference_setting=_rbac_reference,
    )


_FLAGS_UNKNOWN = "no kube-apiserver static pod is visible (managed control planes), or a server's flags cannot be read"
_OIDC_UNKNOWN = (
    "no kube-apiserver static pod and no issuer declared in the fleet file, or a structured authentication "
    "config nobody declared"
)

DIMENSIONS: tuple[Dimension[Any], ...] = (
    Dimension(
        "oidc.issuers",
        "access",
        "OIDC issuers",
        "The OIDC issuers the API server trusts (--oidc-issuer-url, structured authentication config, or the "
        "fleet file's declared issuer).",
        _OIDC_UNKNOWN,
        AUTHENTICATION,
        _issuers,
        check="FC-OIDC-002",
        declared=_declared_issuer,
        declared_as="standards.oidc_issuer",
    ),
    Dimension(
        "oidc.client_ids",
        "access",
        "OIDC client ids",
        "Each trusted issuer with its client ids (--oidc-client-id, or the config's audiences).",
        _OIDC_UNKNOWN,
        AUTHENTICATION,
        _client_ids,
        check="FC-OIDC-002",
    ),
    Dimension(
        "oidc.username_prefixes",
        "access",
        "OIDC username prefixes",
        "Each trusted issuer with the prefix Kubernetes puts before its user names.",
        _OIDC_UNKNOWN + "; or a prefix that cannot be known (a CEL mapping, a managed cluster that declared none)",
        AUTHENTICATION,
        _prefixes,
    ),
    Dimension(
        "apiserver.static_credential_files",
        "access",
        "Static credential files",
        "Which of --token-auth-file and --basic-auth-file any kube-apiserver sets (none is the value wanted).",
        _FLAGS_UNKNOWN,
        AUTHENTICATION,
        _static_files,
        check="FC-OIDC-004",
    ),
    Dimension(
        "apiserver.anonymous_auth",
        "access",
        "Anonymous authentication",
        "kube-apiserver's --anonymous-auth (true when unset).",
        _FLAGS_UNKNOWN,
        AUTHENTICATION,
        _anonymous,
    ),
    Dimension(
        "apiserver.admission_plugins",
        "access",
        "Admission plugins",
        "--enable-admission-plugins (and -disabled ones), or (defaults) when neither flag is set.",
        _FLAGS_UNKNOWN,
        AUTHENTICATION,
        _admission_plugins,
    ),
    Dimension(
        "pod_security.namespace_levels",
        "access",
        "Pod Security levels of tenant namespaces",
        "The pod-security.kubernetes.io/enforce levels the tenant namespaces use (unset when a namespace has "
        "none). The cluster-wide default lives in the API server's admission config file, which the API does "
        "not show.",
        "never (no tenant namespace is the value none); unreadable Namespaces make it an error",
        POD_SECURITY,
        lambda levels: levels,
    ),
    Dimension(
        "admission.webhooks",
        "access",
        "Admission webhooks and failure policies",
        "Every mutating and validating webhook with its failure policy.",
        "never (no webhook is the value none); unreadable webhook configurations make it an error",
        WEBHOOK_POLICIES,
        _webhooks,
    ),
)
