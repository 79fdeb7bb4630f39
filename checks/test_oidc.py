"""Single IdP: the API server trusts the fleet's OIDC issuer, and no static credentials (FC-OIDC-*).

What the API server trusts is read from its static pod(s) in ``kube-system``
(``--oidc-*`` flags, ``--authentication-config``, credential files); for a
managed control plane, or a structured config file the API does not show,
from the facts the fleet file declares (see :mod:`fleetcheck.facts.apiserver`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from fleetcheck import ClusterView, Findings, FleetView, check, fail, object_ref, skip
from fleetcheck.facts.apiserver import (
    Authentication,
    JwtAuthenticator,
    ServerAuthentication,
    apiserver_flags,
    find_apiserver_pods,
)
from fleetcheck.facts.builtin import AUTHENTICATION
from fleetcheck.facts.provider import PROVIDER
from fleetcheck.probes.oidc import DEFAULT_MAX_BYTES, FetchLimits, probe_discovery

STATIC_CREDENTIAL_FLAGS = ("token-auth-file", "basic-auth-file")
ADMIN_ROLE = "cluster-admin"


def _authentication(cluster: ClusterView) -> Authentication:
    return cluster.fact(AUTHENTICATION)


def _judged(auth: Authentication) -> list[ServerAuthentication]:
    """Servers whose issuers are known and sound (no unknown config file, no fatal conflict)."""
    return [s for s in auth.servers if not s.unknown and not s.conflict]


def _hidden_control_plane(cluster: ClusterView) -> str | None:
    """Why no kube-apiserver pod can be read, when the provider says (``None``: no provider explains it).

    EKS, GKE and AKS run the control plane out of sight; k3s runs the API
    server inside its own binary; OpenShift keeps authentication in operator
    configuration. The provider fact's evidence is named, so the reader sees
    why fleetcheck believes it.
    """
    platform = cluster.fact(PROVIDER)
    if platform.managed_control_plane:
        where = "no kube-apiserver pod is visible"
    elif platform.provider == "k3s":
        where = "k3s runs kube-apiserver inside its binary (flags in /etc/rancher/k3s/config.yaml), not as a pod"
    elif platform.provider == "openshift":
        where = "OpenShift configures API server authentication in authentications.config.openshift.io/cluster"
    else:
        return None
    return (
        "managed control plane: declare facts.oidc_issuer (and facts.oidc_client_id) in the fleet file; "
        f"{where} ({platform.describe()})"
    )


def _expected_issuer(cluster: ClusterView) -> str:
    standard = cluster.profile.standards.oidc_issuer
    if standard:
        return f" (expected --oidc-issuer-url={standard}, from profile {cluster.profile.name} standards.oidc_issuer)"
    return " (expected --oidc-issuer-url or a jwt issuer in --authentication-config)"


@check(
    "FC-OIDC-001",
    title="API server trusts no OIDC issuer",
    factor="single-idp",
    severity="high",
    reads=["pods"],
    success="every kube-apiserver trusts an OIDC issuer",
)
def test_apiserver_trusts_oidc(cluster: ClusterView) -> None:
    """The API server trusts no OIDC issuer, or is configured so that it cannot start.

    What: each kube-apiserver static pod in ``kube-system`` must set
    ``--oidc-issuer-url`` or ``--authentication-config`` (structured
    authentication, whose file is on the node: its issuers are then taken
    from the fleet file's ``facts.oidc_issuer`` or
    ``facts.authentication_config``, and the check skips, saying so, when
    neither is declared). ``--oidc-*`` flags together with
    ``--authentication-config`` fail as a fatal misconfiguration. A managed
    control plane (no static pod) passes when the fleet file declares
    ``facts.oidc_issuer`` and skips with the reason when it declares nothing:
    on EKS, GKE and AKS (and k3s, OpenShift), told by the provider fact,
    "managed control plane: declare facts.oidc_issuer", with the evidence.
    Why: without OIDC every person reaches the cluster with a client
    certificate or a static token: credentials that cannot be revoked (a
    certificate is valid until it expires), are shared, and leave with the
    people who leave. kube-apiserver refuses to start when both the
    ``--oidc-*`` flags and ``--authentication-config`` are given, so a
    control-plane node with both is an outage waiting for its next restart.
    Fix: add ``--oidc-issuer-url`` and ``--oidc-client-id`` (and
    ``--oidc-username-prefix``, ``--oidc-groups-claim``) to the kube-apiserver
    manifest (kubeadm: ``apiServer.extraArgs``), or a ``jwt`` entry to the
    AuthenticationConfiguration file; never both. For managed clusters enable
    the provider's OIDC identity provider and declare it in the fleet file.
    References: https://kubernetes.io/docs/reference/access-authn-authz/authentication/#openid-connect-tokens ;
    https://kubernetes.io/docs/reference/access-authn-authz/authentication/#using-authentication-configuration
    """
    auth = _authentication(cluster)
    if auth.unknown:
        skip(_hidden_control_plane(cluster) or auth.unknown)
    findings = Findings()
    for server in auth.servers:
        if server.conflict:
            findings.add(
                server.ref,
                f"{server.conflict}; keep one: move the --oidc-* settings into the AuthenticationConfiguration's "
                "jwt list and drop the flags",
            )
        elif server.authentication_config and not server.unknown and not server.authenticators:
            findings.add(
                server.ref,
                f"--authentication-config={server.authentication_config} as declared in the fleet file "
                "(facts.authentication_config) lists no jwt issuer",
            )
        elif not server.unknown and not server.authenticators:
            findings.add(server.ref, "neither --oidc-issuer-url nor --authentication-config is set")
    findings.raise_if_any(
        f"{len(findings)} of {len(auth.servers)} kube-apiservers trust no OIDC issuer{_expected_issuer(cluster)}"
    )
    reasons = [s.unknown for s in auth.servers if s.unknown]
    if reasons and not _judged(auth):
        skip(reasons[0])


# -- FC-OIDC-002 ------------------------------------------------------------------------------------


def _known_authenticators(auth: Authentication) -> list[JwtAuthenticator] | None:
    """The issuers a cluster trusts, or None when they cannot be known (nothing declared, unknown config)."""
    if auth.unknown:
        return None
    servers = _judged(auth)
    if not servers:
        return None
    return [a for s in servers for a in s.authenticators] or None


def _issuers(auth: Authentication) -> frozenset[str] | None:
    known = _known_authenticators(auth)
    return frozenset(a.issuer for a in known) if known else None


def _client_ids_for(issuer: str) -> Callable[[Authentication], frozenset[str] | None]:
    def client_ids(auth: Authentication) -> frozenset[str] | None:
        ids = frozenset(cid for a in _known_authenticators(auth) or [] if a.issuer == issuer for cid in a.client_ids)
        return ids or None

    return client_ids


def _show_set(values: frozenset[str]) -> str:
    return ", ".join(sorted(values))


@check(
    "FC-OIDC-002",
    title="OIDC issuer or client id differs from the fleet's",
    factor="single-idp",
    severity="high",
    scope="fleet",
    reads=["pods"],
    success="the API server trusts the fleet's OIDC issuer with the fleet's client id, and no other issuer",
)
def test_oidc_matches_fleet(cluster: ClusterView, fleet: FleetView) -> None:
    """The trusted OIDC issuer or client id differs from the fleet standard.

    What: the issuers the API server trusts (see FC-OIDC-001 for where they
    are read) are compared with the fleet's: the profile's
    ``standards.oidc_issuer`` and ``standards.oidc_client_id`` when set, else
    the reference cluster's, else the set of issuers (and that issuer's
    client ids) more than half of the cohort's clusters whose issuers are
    known trust. A cluster fails when it does not
    trust the standard issuer, trusts another issuer besides it, or trusts it
    with another client id (``--oidc-client-id``, or the ``audiences`` of a
    structured config). Issuers are compared exactly: ``https://idp/`` and
    ``https://idp`` differ for kube-apiserver too.
    Why: one fleet, one identity provider: access is granted, reviewed and
    revoked in one place. A cluster pointing at a leftover Dex, a staging
    realm or another client id keeps accounts alive that the IdP team
    believes are gone, and its RBAC (bound to the IdP's user and group
    names) silently means something else.
    Fix: set ``--oidc-issuer-url`` and ``--oidc-client-id`` (or the
    AuthenticationConfiguration's ``jwt[].issuer``) to the fleet's values
    and remove extra issuers; if the fleet is moving to a new IdP, declare it
    in the profile's ``standards`` and waive the old clusters until moved.
    References: https://kubernetes.io/docs/reference/access-authn-authz/authentication/#openid-connect-tokens
    """
    auth = _authentication(cluster)
    if auth.unknown:
        skip(auth.unknown)
    servers = _judged(auth)
    if not servers or not any(s.authenticators for s in servers):
        skip("the API server trusts no OIDC issuer, or its config is unknown (see FC-OIDC-001)")
    standards = cluster.profile.standards
    issuer_standard = fleet.standard(
        cluster,
        AUTHENTICATION,
        _issuers,
        declared=frozenset({standards.oidc_issuer}) if standards.oidc_issuer else None,
        declared_as="standards.oidc_issuer",
        show=_show_set,
    )
    issuers, issuer_from = issuer_standard.expected, issuer_standard.says
    client_ids: frozenset[str] | None = None
    client_from = ""
    if len(issuers) == 1:
        (only,) = issuers
        client_standard = fleet.compare(
            cluster,
            AUTHENTICATION,
            _client_ids_for(only),
            declared=frozenset({standards.oidc_client_id}) if standards.oidc_client_id else None,
            declared_as="standards.oidc_client_id",
            show=_show_set,
        )
        client_ids, client_from = client_standard.value, client_standard.says
    findings = Findings()
    for server in servers:
        problems: list[str] = []
        trusted = {a.issuer for a in server.authenticators}
        lacking = sorted(issuers - trusted)
        others = sorted(trusted - issuers)
        fleet_issuers = _show_set(issuers)
        if lacking and not trusted & issuers:
            slash = (
                " (only a trailing slash differs; the match is exact)"
                if any(o.rstrip("/") == i.rstrip("/") for o in others for i in lacking)
                else ""
            )
            problems.append(
                f"issuer {', '.join(others) or 'none'} differs from the fleet's {fleet_issuers}{slash} ({issuer_from})"
            )
        elif lacking:
            problems.append(f"does not trust the fleet's {', '.join(lacking)} ({issuer_from})")
        elif others:
            problems.append(f"trusts {', '.join(others)} besides the fleet's issuer {fleet_issuers} ({issuer_from})")
        ids = frozenset(cid for a in server.authenticators if a.issuer in issuers for cid in a.client_ids)
        if trusted & issuers and client_ids is not None and not client_ids <= ids:
            problems.append(
                f"client id {', '.join(sorted(ids)) or 'none'} differs from the fleet's {_show_set(client_ids)!r} "
                f"({client_from})"
            )
        if problems:
            findings.add(server.ref, "; ".join(problems))
    findings.raise_if_any(f"OIDC settings differ from the fleet's on {len(findings)} of {len(servers)} API servers")


# -- FC-OIDC-003 ------------------------------------------------------------------------------------


class DiscoverySettings(BaseModel):
    """Settings of FC-OIDC-003."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ca_bundle: str | None = Field(
        default=None,
        description="PEM file of the CA(s) to verify the issuer with, instead of the system store (the file the "
        "API server's --oidc-ca-file names); relative paths are relative to the profile file",
    )
    max_bytes: int = Field(default=DEFAULT_MAX_BYTES, ge=1024, le=16 * 1024 * 1024, description="answer size cap")


def _declared_issuer(cluster: ClusterView) -> tuple[str | None, str]:
    if cluster.facts.oidc_issuer:
        return cluster.facts.oidc_issuer, "fleet file facts.oidc_issuer"
    return cluster.profile.standards.oidc_issuer, f"profile {cluster.profile.name} standards.oidc_issuer"


def _ca_bundle(cluster: ClusterView, settings: DiscoverySettings) -> str | None:
    if settings.ca_bundle is None:
        return None
    path = Path(settings.ca_bundle).expanduser()
    source = Path(cluster.profile.source) if cluster.profile.source else None
    if not path.is_absolute() and source is not None and source.is_file():
        path = source.parent / path
    return str(path)


@check(
    "FC-OIDC-003",
    title="OIDC issuer discovery fails",
    factor="single-idp",
    severity="high",
    scope="live",
    settings=DiscoverySettings,
    success="the declared issuer's discovery document names it and a key set with signing keys",
)
def test_oidc_discovery(cluster: ClusterView, settings: DiscoverySettings) -> None:
    """The declared issuer's ``/.well-known/openid-configuration`` is wrong or its key set is empty.

    What: from the runner, over verified HTTPS (the system trust store, or
    the ``ca_bundle`` setting), fetch ``<issuer>/.well-known/openid-configuration``
    for the issuer declared for the cluster (fleet file ``facts.oidc_issuer``,
    else the profile's ``standards.oidc_issuer``; an issuer read from a
    cluster is never fetched). The document's ``issuer`` must equal the URL
    exactly and its ``jwks_uri`` must serve a JWKS with at least one signing
    key. A server that cannot be reached or verified (refused, timeout, TLS,
    HTTP 5xx) makes the check ``error``, not ``fail``. Live only: skipped on
    snapshots and when the profile disables probes.
    Why: kube-apiserver does exactly this before it accepts any OIDC token.
    An IdP moved behind a new hostname, a realm renamed, a proxy rewriting
    the issuer, or a key rotation that published an empty key set locks every
    person out of every cluster that trusts it, and break-glass credentials
    are all that is left.
    Fix: make the IdP publish discovery under the exact issuer URL the
    clusters use (Keycloak: the realm's frontend URL; behind a proxy: forward
    the Host header), serve the JWKS with the current signing keys, or
    correct the declared issuer in the profile/fleet file if the IdP moved.
    References: https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfig ;
    https://kubernetes.io/docs/reference/access-authn-authz/authentication/#openid-connect-tokens
    """
    issuer, where = _declared_issuer(cluster)
    if not issuer:
        skip(
            "no issuer declared: set standards.oidc_issuer in the profile or clusters[].facts.oidc_issuer in the "
            "fleet file (fleetcheck never fetches an issuer read from a cluster)"
        )
    probes = cluster.profile.probes
    limits = FetchLimits(
        timeout=probes.timeout_seconds,
        ca_bundle=_ca_bundle(cluster, settings),
        allow_http=probes.allow_http,
        max_bytes=settings.max_bytes,
    )
    report = cluster.memo(f"oidc.discovery {issuer} {limits}", lambda: probe_discovery(issuer, limits))
    if report.problems:
        fail(
            f"OIDC discovery of {issuer} ({where}) fails: {'; '.join(report.problems)}; expected "
            f"{report.discovery_url} to name issuer {issuer!r} and a jwks_uri serving at least one signing key",
            [report.discovery_url],
        )


# -- FC-OIDC-004 ------------------------------------------------------------------------------------


@check(
    "FC-OIDC-004",
    title="API server accepts a static token or basic-auth file",
    factor="single-idp",
    severity="critical",
    reads=["pods"],
    success="no kube-apiserver reads a static token or basic-auth file",
)
def test_no_static_credentials(cluster: ClusterView) -> None:
    """A kube-apiserver accepts static credentials: ``--token-auth-file`` or ``--basic-auth-file``.

    What: every kube-apiserver static pod in ``kube-system`` is read, one per
    control-plane node, and each must set neither flag. Managed control
    planes show no static pod; the check skips there, saying so.
    Why: a static token file holds long-lived bearer tokens in clear text on
    every control-plane node; they bypass the IdP, cannot expire, are changed
    only by restarting the API server, and often grant ``system:masters``.
    One leaked line is permanent cluster-admin. Basic auth (removed in 1.19)
    is the same with passwords. One node configured differently from its
    peers is the classic leftover of a debugging session.
    Fix: remove ``--token-auth-file``/``--basic-auth-file`` from the
    kube-apiserver manifest on each named node, delete the file, and give
    automation ServiceAccount tokens (``kubectl create token``) or OIDC
    instead; people go through OIDC.
    References: https://kubernetes.io/docs/reference/access-authn-authz/authentication/#static-token-file ;
    https://kubernetes.io/docs/concepts/security/rbac-good-practices/
    """
    pods = find_apiserver_pods(cluster.list("pods"))
    if not pods:
        hidden = _hidden_control_plane(cluster)
        skip(
            f"{hidden}; its credential files cannot be seen through the API"
            if hidden
            else "no kube-apiserver static pod in kube-system (a managed control plane): its credential files "
            "cannot be seen through the API"
        )
    findings = Findings()
    for pod in pods:
        flags = apiserver_flags(pod)
        shown = [f"--{name}={value}" for name in STATIC_CREDENTIAL_FLAGS for value in flags.values(name)]
        if shown:
            findings.add(flags.ref, ", ".join(shown))
    findings.raise_if_any(
        f"{len(findings)} of {len(pods)} kube-apiservers accept static credentials (expected neither "
        "--token-auth-file nor --basic-auth-file)"
    )


# -- FC-OIDC-005 ------------------------------------------------------------------------------------


def _grants_everything(role: dict[str, Any]) -> bool:
    for rule in role.get("rules") or []:
        if all("*" in (rule.get(key) or []) for key in ("apiGroups", "resources", "verbs")):
            return True
    return False


def _username_prefixes(cluster: ClusterView) -> tuple[list[str], str] | None:
    """The prefixes OIDC user names carry and where that was learned, or None when unknown.

    Order: the profile's ``standards.oidc_username_prefix``, the fleet file's
    ``facts.oidc_username_prefix``, then what the API server applies
    (``--oidc-username-prefix``, its issuer-URL default, or the structured
    config's ``claimMappings.username.prefix``).
    """
    if cluster.profile.standards.oidc_username_prefix is not None:
        return [cluster.profile.standards.oidc_username_prefix], (
            f"profile {cluster.profile.name} standards.oidc_username_prefix"
        )
    if cluster.facts.oidc_username_prefix is not None:
        return [cluster.facts.oidc_username_prefix], "fleet file facts.oidc_username_prefix"
    auth = _authentication(cluster)
    found = [a for s in _judged(auth) for a in s.authenticators if a.username_prefix is not None]
    if not found:
        return None
    prefixes = list(dict.fromkeys(a.username_prefix for a in found if a.username_prefix is not None))
    return prefixes, f"the kube-apiserver's OIDC settings ({found[0].source})"


@check(
    "FC-OIDC-005",
    title="cluster-admin granted to a User that is not an OIDC identity",
    factor="single-idp",
    severity="medium",
    # pods are listed only when the username prefix must come from the kube-apiserver's flags
    reads=["clusterrolebindings", "clusterroles"],
    success="cluster-admin is granted to no User outside the OIDC identity provider",
)
def test_cluster_admin_users_are_oidc(cluster: ClusterView) -> None:
    """A ClusterRoleBinding grants cluster-admin to a ``User`` that is not an OIDC identity.

    What: ClusterRoleBindings whose ``roleRef`` is ``cluster-admin``, or any
    ClusterRole granting ``*`` verbs on ``*`` resources in ``*`` groups (the
    same power under another name), are read. Each ``User`` subject must be
    an OIDC identity: its name starts with the OIDC username prefix, taken
    from the profile (``standards.oidc_username_prefix``), else the fleet file
    (``facts.oidc_username_prefix``), else the API server's own setting
    (``--oidc-username-prefix``, or its default ``<issuer>#`` when the claim
    is not ``email``). Out of scope: ``Group`` and ``ServiceAccount``
    subjects, and ``system:`` users (Kubernetes' own components). With no
    such User bindings the check passes; with some but no known prefix, or a
    prefix of "" (every name would look like an OIDC name), it skips, naming
    them.
    Why: a User that is not from the IdP is a client-certificate or static
    token identity: it cannot be disabled centrally, has no MFA, survives the
    person leaving, and (for certificates) cannot be revoked before expiry.
    Granting it cluster-admin makes the single IdP optional.
    Fix: bind cluster-admin to an IdP group (``kind: Group, name:
    oidc:platform-admins``) or to the prefixed OIDC user, delete the
    binding for the local user, and rotate the certificate authority if a
    certificate for that user may have leaked.
    References: https://kubernetes.io/docs/reference/access-authn-authz/rbac/#user-facing-roles ;
    https://kubernetes.io/docs/reference/access-authn-authz/authentication/#openid-connect-tokens
    """
    admin_roles = {ADMIN_ROLE} | {
        str(role["metadata"]["name"]) for role in cluster.list("clusterroles") if _grants_everything(role)
    }
    candidates: list[tuple[dict[str, Any], str, str]] = []
    for binding in cluster.list("clusterrolebindings"):
        role_ref = binding.get("roleRef") or {}
        if role_ref.get("kind") != "ClusterRole" or role_ref.get("name") not in admin_roles:
            continue
        for subject in binding.get("subjects") or []:
            name = str(subject.get("name", ""))
            if subject.get("kind") == "User" and not name.startswith("system:"):
                candidates.append((binding, str(role_ref["name"]), name))
    if not candidates:
        return
    shown = ", ".join(sorted({f"{name!r}" for _, _, name in candidates}))
    known = _username_prefixes(cluster)
    if known is None:
        skip(
            f"cannot tell OIDC users from others: no username prefix in the profile (standards.oidc_username_prefix),"
            f" the fleet file (facts.oidc_username_prefix) or the kube-apiserver's OIDC flags; Users holding "
            f"cluster-admin: {shown}"
        )
    prefixes, where = known
    if "" in prefixes:
        skip(
            f"OIDC user names carry no prefix ({where}), so they cannot be told from certificate or token users; "
            f"set --oidc-username-prefix (e.g. 'oidc:'); Users holding cluster-admin: {shown}"
        )
    findings = Findings()
    for binding, role, name in candidates:
        if not any(name.startswith(prefix) for prefix in prefixes):
            via = "" if role == ADMIN_ROLE else f" (ClusterRole {role} grants * on *, as cluster-admin does)"
            findings.add(object_ref(binding, "ClusterRoleBinding"), f"grants {role} to User {name!r}{via}")
    expected = " or ".join(repr(p) for p in prefixes)
    findings.raise_if_any(
        f"{len(findings)} cluster-admin grants go to Users that are not OIDC identities (expected user names "
        f"starting with {expected}, from {where}; or bind an IdP group instead)"
    )
