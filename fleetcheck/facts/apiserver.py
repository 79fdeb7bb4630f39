"""What the kube-apiserver is configured to trust, read from its static pod(s) or the fleet file.

The API does not expose the API server's flags, but on self-managed control
planes (kubeadm, kops, kind, k3s-style static pods) the kubelet publishes a
mirror Pod of each kube-apiserver in ``kube-system``, with the full
command line. That is where the OIDC issuer (``--oidc-*``), a structured
``--authentication-config`` file and static credential files
(``--token-auth-file``, ``--basic-auth-file``) show up.

Real command lines vary (corpus manifests 02 and 15): flags sit in
``command`` (kubeadm) or in ``args`` behind a wrapper such as ``/go-runner``
whose own flags come first (kops), as ``--flag=value`` or ``--flag value``,
and some flags repeat. :func:`parse_apiserver_argv` handles all of these.

Managed control planes (EKS, GKE, AKS ...) have no such pod; for them the
fleet file declares the facts (``facts.oidc_issuer`` ...), and so it does for
an ``--authentication-config`` file, which lives on the node's disk and is
invisible through the API.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fleetcheck.errors import ConfigError
from fleetcheck.registry.fleet import DeclaredFacts
from fleetcheck.registry.yamlfile import ClusterTextError, ClusterTextOverBudget, load_cluster_text

__all__ = [
    "APISERVER_NAMESPACE",
    "ApiServerFlags",
    "Authentication",
    "JwtAuthenticator",
    "ServerAuthentication",
    "apiserver_flags",
    "find_apiserver_pods",
    "flag_values",
    "parse_apiserver_argv",
    "parse_authentication_config",
    "read_authentication",
]

Obj = dict[str, Any]

APISERVER_NAMESPACE = "kube-system"
_BINARY = "kube-apiserver"
_POD_LABELS = (("component", _BINARY), ("k8s-app", _BINARY))
#: Boolean flags never take the next token as their value (pflag needs ``--flag=false`` for them).
_BOOL_FLAGS = frozenset(
    {
        "allow-privileged",
        "also-stdout",
        "alsologtostderr",
        "anonymous-auth",
        "contention-profiling",
        "enable-aggregator-routing",
        "enable-bootstrap-token-auth",
        "enable-garbage-collector",
        "enable-logs-handler",
        "enable-priority-and-fairness",
        "logtostderr",
        "profiling",
        "redirect-stderr",
        "service-account-lookup",
        "watch-cache",
    }
)
#: The structured authentication config's API versions (alpha 1.29, beta 1.30, GA 1.34).
AUTH_CONFIG_VERSIONS = (
    "apiserver.config.k8s.io/v1",
    "apiserver.config.k8s.io/v1beta1",
    "apiserver.config.k8s.io/v1alpha1",
)
_FACTS_FIELD = "clusters[].facts.authentication_config"
_LITERAL_PREFIX = re.compile(r"""^\s*(['"])(?P<prefix>[^'"]*)\1\s*\+""")


# -- finding the pods and reading their flags ------------------------------------------------------


def _is_apiserver_pod(pod: Obj) -> bool:
    meta = pod.get("metadata") or {}
    if meta.get("namespace") != APISERVER_NAMESPACE:
        return False
    labels = meta.get("labels") or {}
    if any(labels.get(key) == value for key, value in _POD_LABELS):
        return True
    name = str(meta.get("name", ""))
    return name == _BINARY or name.startswith(f"{_BINARY}-")


def find_apiserver_pods(pods: Iterable[Obj]) -> list[Obj]:
    """The kube-apiserver (mirror) pods in ``kube-system``, by name.

    A pod counts when it is labelled ``component=kube-apiserver`` (kubeadm) or
    ``k8s-app=kube-apiserver`` (kops), or is named ``kube-apiserver`` /
    ``kube-apiserver-<node>`` (mirror pods carry the node name). One per
    control-plane node.
    """
    found = [pod for pod in pods if _is_apiserver_pod(pod)]
    return sorted(found, key=lambda pod: str((pod.get("metadata") or {}).get("name", "")))


def _apiserver_container(pod: Obj) -> Obj | None:
    containers = [c for c in (pod.get("spec") or {}).get("containers") or [] if isinstance(c, dict)]
    for container in containers:
        if container.get("name") == _BINARY:
            return container
    for container in containers:
        argv = [str(part) for part in (container.get("command") or []) + (container.get("args") or [])]
        if any(_BINARY in part for part in argv):
            return container
    return containers[0] if len(containers) == 1 else None


def _expand_shell(argv: Sequence[str]) -> list[str]:
    """``sh -c "exec kube-apiserver --a=b ..."`` (older kube-up, some installers) becomes tokens."""
    tokens: list[str] = []
    for part in argv:
        if _BINARY in part and any(ch.isspace() for ch in part.strip()):
            try:
                tokens.extend(shlex.split(part))
            except ValueError:
                tokens.append(part)
        else:
            tokens.append(part)
    return tokens


def parse_apiserver_argv(argv: Sequence[str]) -> list[tuple[str, str]]:
    """The kube-apiserver's flags from a container's ``command + args``, in order.

    Everything up to the ``kube-apiserver`` binary belongs to a wrapper
    (``/go-runner --log-file=... --also-stdout /usr/local/bin/kube-apiserver``)
    and is dropped; without a visible binary, a first non-flag element is
    taken to be the wrapper or binary. ``--flag=value`` and ``--flag value``
    are both read; a boolean flag or a flag followed by another flag gets
    ``"true"``. Repeated flags are all kept (``--oidc-required-claim``).

    >>> parse_apiserver_argv(["/go-runner", "--also-stdout", "/usr/local/bin/kube-apiserver", "--oidc-client-id", "k"])
    [('oidc-client-id', 'k')]
    """
    tokens = _expand_shell(argv)
    start = 0
    for index, token in enumerate(tokens):
        if not token.startswith("-") and token.rsplit("/", 1)[-1] == _BINARY:
            start = index + 1
            break
    else:
        if tokens and not tokens[0].startswith("-"):
            start = 1
    flags: list[tuple[str, str]] = []
    index = start
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if not token.startswith("-") or token in ("-", "--"):
            continue
        body = token.lstrip("-")
        if "=" in body:
            name, value = body.split("=", 1)
        elif _takes_value(body, tokens, index):
            name, value = body, tokens[index]
            index += 1
        else:
            name, value = body, "true"
        flags.append((name, value))
    return flags


def _takes_value(name: str, tokens: Sequence[str], index: int) -> bool:
    """Whether ``--name`` consumes the following token as its value (``--flag value`` form)."""
    return name not in _BOOL_FLAGS and index < len(tokens) and not tokens[index].startswith("-")


@dataclass(frozen=True)
class ApiServerFlags:
    """One kube-apiserver pod's flags (names without dashes), in command-line order."""

    ref: str
    flags: tuple[tuple[str, str], ...]
    node: str | None = None

    def values(self, name: str) -> list[str]:
        """Every value given for ``--name`` (repeatable flags)."""
        return [value for flag, value in self.flags if flag == name]

    def value(self, name: str) -> str | None:
        """The effective value of ``--name``: the last one given, as pflag does for scalar flags."""
        values = self.values(name)
        return values[-1] if values else None

    def has(self, name: str) -> bool:
        """Whether ``--name`` is set at all."""
        return any(flag == name for flag, _ in self.flags)

    def matching(self, prefix: str) -> list[str]:
        """Distinct flag names starting with ``prefix`` (e.g. ``oidc-``), in order."""
        seen: list[str] = []
        for flag, _ in self.flags:
            if flag.startswith(prefix) and flag not in seen:
                seen.append(flag)
        return seen

    def show(self, name: str) -> str:
        """``--name=value`` as a person would grep for it."""
        value = self.value(name)
        return f"--{name}" if value is None else f"--{name}={value}"


def apiserver_flags(pod: Obj) -> ApiServerFlags:
    """Read one kube-apiserver pod's flags."""
    meta = pod.get("metadata") or {}
    ref = f"{meta.get('namespace', APISERVER_NAMESPACE)}/Pod/{meta.get('name', '?')}"
    container = _apiserver_container(pod) or {}
    argv = [str(part) for part in (container.get("command") or []) + (container.get("args") or [])]
    node = (pod.get("spec") or {}).get("nodeName")
    return ApiServerFlags(ref=ref, flags=tuple(parse_apiserver_argv(argv)), node=str(node) if node else None)


# -- what the API server trusts ---------------------------------------------------------------------


@dataclass(frozen=True)
class JwtAuthenticator:
    """One OIDC issuer the API server accepts user tokens from.

    ``username_prefix`` is the prefix Kubernetes puts before every user name
    from this issuer ("" for none), or None when it cannot be known (a CEL
    expression maps the name, or a managed cluster declared no prefix).
    """

    issuer: str
    client_ids: tuple[str, ...]
    username_prefix: str | None
    source: str


@dataclass(frozen=True)
class ServerAuthentication:
    """What one kube-apiserver (or the fleet file, for a managed control plane) trusts.

    ``unknown`` says why the issuers cannot be read (a structured config file
    nobody declared); ``conflict`` names a fatal misconfiguration.
    """

    ref: str
    authenticators: tuple[JwtAuthenticator, ...] = ()
    flags: ApiServerFlags | None = None
    authentication_config: str | None = None
    conflict: str | None = None
    unknown: str | None = None


@dataclass(frozen=True)
class Authentication:
    """A cluster's API server authentication: one entry per kube-apiserver pod, or the declared facts."""

    servers: tuple[ServerAuthentication, ...]
    #: True when no static pod exists and the facts come from the fleet file
    declared: bool = False
    #: why nothing can be said (no static pod, nothing declared); None when something is known
    unknown: str | None = None

    @property
    def authenticators(self) -> list[JwtAuthenticator]:
        """Every issuer trusted by any API server, deduplicated by issuer and client ids."""
        seen: dict[tuple[str, tuple[str, ...]], JwtAuthenticator] = {}
        for server in self.servers:
            for auth in server.authenticators:
                seen.setdefault((auth.issuer, auth.client_ids), auth)
        return list(seen.values())

    @property
    def issuers(self) -> list[str]:
        """Distinct trusted issuer URLs, in the order found."""
        return list(dict.fromkeys(auth.issuer for auth in self.authenticators))


def _flag_username_prefix(flags: ApiServerFlags, issuer: str) -> str:
    """The prefix kube-apiserver applies to OIDC user names, from ``--oidc-username-*``.

    ``-`` disables it; when unset, a ``--oidc-username-claim`` other than
    ``email`` gets the issuer URL and ``#`` (``https://idp#alice``).
    """
    prefix = flags.value("oidc-username-prefix")
    if prefix == "-":
        return ""
    if prefix is not None:
        return prefix
    claim = flags.value("oidc-username-claim") or "sub"
    return "" if claim == "email" else f"{issuer}#"


def _from_flags(flags: ApiServerFlags) -> JwtAuthenticator | None:
    issuer = flags.value("oidc-issuer-url")
    if not issuer:
        return None
    client_id = flags.value("oidc-client-id")
    return JwtAuthenticator(
        issuer=issuer,
        client_ids=(client_id,) if client_id else (),
        username_prefix=_flag_username_prefix(flags, issuer),
        source=f"{flags.ref} {flags.show('oidc-issuer-url')}",
    )


def _str_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(item) for item in value if item is not None)
    return ()


def _jwt_username_prefix(mapping: Any) -> str | None:
    username = mapping.get("username") if isinstance(mapping, dict) else None
    if not isinstance(username, dict):
        return None
    if "expression" in username:
        match = _LITERAL_PREFIX.match(str(username.get("expression") or ""))
        return match["prefix"] if match else None
    prefix = username.get("prefix")
    return str(prefix) if prefix is not None else None


def parse_authentication_config(text: str, source: str) -> list[JwtAuthenticator]:
    """The ``jwt`` issuers of an ``AuthenticationConfiguration`` document (corpus manifest 17).

    Raises :class:`ConfigError` when ``text`` is not such a document, so a
    typo in the fleet file becomes an ``error`` that names the field. The
    text is parsed under the budgets of :func:`load_cluster_text` (size,
    expanded nodes), whoever wrote it.
    """
    try:
        document = load_cluster_text(text, what="authentication config")
    except ClusterTextOverBudget as exc:
        raise ConfigError(source, _FACTS_FIELD, f"refused: {exc.problem}", "paste the file's YAML content") from None
    except ClusterTextError as exc:
        raise ConfigError(source, _FACTS_FIELD, exc.problem, "paste the file's YAML content") from None
    if not isinstance(document, dict) or document.get("kind") != "AuthenticationConfiguration":
        raise ConfigError(
            source,
            _FACTS_FIELD,
            "not an AuthenticationConfiguration document",
            f"paste the file --authentication-config names (apiVersion {AUTH_CONFIG_VERSIONS[0]})",
        )
    result: list[JwtAuthenticator] = []
    for index, entry in enumerate(document.get("jwt") or []):
        issuer = (entry or {}).get("issuer") or {}
        url = issuer.get("url") if isinstance(issuer, dict) else None
        if not url:
            continue
        result.append(
            JwtAuthenticator(
                issuer=str(url),
                client_ids=_str_list(issuer.get("audiences")),
                username_prefix=_jwt_username_prefix((entry or {}).get("claimMappings")),
                source=f"{source} jwt[{index}]",
            )
        )
    return result


def _declared(facts: DeclaredFacts, source: str) -> list[JwtAuthenticator]:
    if facts.authentication_config:
        return parse_authentication_config(facts.authentication_config, f"{source} facts.authentication_config")
    if facts.oidc_issuer:
        return [
            JwtAuthenticator(
                issuer=facts.oidc_issuer,
                client_ids=(facts.oidc_client_id,) if facts.oidc_client_id else (),
                username_prefix=facts.oidc_username_prefix,
                source=f"{source} facts.oidc_issuer",
            )
        ]
    return []


def _server(flags: ApiServerFlags, facts: DeclaredFacts, source: str) -> ServerAuthentication:
    config_path = flags.value("authentication-config")
    oidc_flags = flags.matching("oidc-")
    if config_path and oidc_flags:
        shown = ", ".join(f"--{name}" for name in oidc_flags)
        conflict = (
            f"--authentication-config={config_path} together with {shown}: kube-apiserver refuses to start "
            "with both (fatal misconfiguration)"
        )
        return ServerAuthentication(flags.ref, flags=flags, authentication_config=config_path, conflict=conflict)
    if config_path:
        declared = _declared(facts, source)
        if declared:
            return ServerAuthentication(flags.ref, tuple(declared), flags, authentication_config=config_path)
        unknown = (
            f"{flags.ref} reads --authentication-config={config_path}, a file on the control-plane node that "
            "the Kubernetes API does not show; declare its issuer in the fleet file (clusters[].facts.oidc_issuer "
            "and facts.oidc_client_id, or the file's YAML as facts.authentication_config)"
        )
        return ServerAuthentication(flags.ref, flags=flags, authentication_config=config_path, unknown=unknown)
    from_flags = _from_flags(flags)
    return ServerAuthentication(flags.ref, (from_flags,) if from_flags else (), flags)


def read_authentication(pods: Iterable[Obj], facts: DeclaredFacts, source: str = "fleet file") -> Authentication:
    """Resolve what the cluster's API server trusts: static pod flags first, else the fleet file's facts.

    ``source`` names where facts come from, for messages (the fleet file's name).
    """
    servers = [_server(apiserver_flags(pod), facts, source) for pod in find_apiserver_pods(pods)]
    if servers:
        return Authentication(tuple(servers))
    declared = _declared(facts, source)
    if declared:
        entry = ServerAuthentication(f"{source} (managed control plane)", tuple(declared))
        return Authentication((entry,), declared=True)
    unknown = (
        f"no kube-apiserver static pod in {APISERVER_NAMESPACE} (a managed control plane such as EKS, GKE or AKS "
        "does not show one) and the fleet file declares no issuer for this cluster: add "
        "clusters[].facts.oidc_issuer and facts.oidc_client_id"
    )
    return Authentication((), unknown=unknown)


def flag_values(servers: Iterable[ServerAuthentication], names: Iterable[str]) -> Mapping[str, list[str]]:
    """For each server with any of ``--names`` set: the flags as ``--name=value`` (for findings)."""
    wanted = list(names)
    found: dict[str, list[str]] = {}
    for server in servers:
        if server.flags is None:
            continue
        shown = [f"--{name}={value}" for name in wanted for value in server.flags.values(name)]
        if shown:
            found[server.ref] = shown
    return found
