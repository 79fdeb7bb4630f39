"""Credentials a source read from a Secret: decoded, checked and kept in memory only.

A fleet manager keeps each cluster's credentials in a Secret on its
management cluster (Cluster API's ``<name>-kubeconfig``, Argo CD's cluster
Secrets, Karmada's ``secretRef``, an OCM ManagedServiceAccount's token).
This module turns those values into an :class:`InMemoryKubeconfig`, the
same shape :class:`~fleetcheck.state.live.LiveClusterState` reads from a
file, so the scan reaches a discovered cluster through exactly the code
path it uses for a kubeconfig context.

Three rules hold for everything here:

* nothing is written to disk, except by :func:`write_kubeconfig_export`
  (``fleetcheck clusters --export-kubeconfig``, mode 0600);
* no error message quotes a value: a bad token or key is described
  ("not valid base64", "no PEM private key", a YAML error by line number
  only), never shown;
* a kubeconfig that came from a cluster may not make fleetcheck run a
  command (``exec``, ``auth-provider``) or read a local file: a Secret on a
  management cluster must not be a way to execute code or exfiltrate files
  on the machine that runs the scan.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import tempfile
import threading
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import yaml

from fleetcheck.registry.kubeconfig import MergedKubeconfig, merge_kubeconfigs
from fleetcheck.registry.yamlfile import ClusterTextInvalid, ClusterTextOverBudget, load_cluster_text

if TYPE_CHECKING:
    from fleetcheck.registry.fleet_model import ClusterEntry

__all__ = [
    "CredentialError",
    "InMemoryKubeconfig",
    "build_kubeconfig",
    "decode_base64",
    "export_kubeconfig",
    "kubeconfig_from_text",
    "memory_file",
    "normalise_server",
    "secret_value",
    "write_kubeconfig_export",
]

#: Longest kubeconfig or Secret value accepted: a kubeconfig is a few KiB, anything larger is not one.
MAX_VALUE_BYTES = 1024 * 1024
_PEM_CERT = b"-----BEGIN CERTIFICATE-----"
_PEM_KEY_END = b"PRIVATE KEY-----"
#: kubeconfig ``user`` fields that name a local file or run a command: refused for kubeconfigs read from a cluster.
_USER_FILE_FIELDS = ("client-certificate", "client-key", "tokenFile")
_USER_COMMAND_FIELDS = ("exec", "auth-provider")


class CredentialError(ValueError):
    """Credentials that cannot be used, described in one line that never quotes the value."""


@dataclass(repr=False)
class InMemoryKubeconfig(MergedKubeconfig):
    """A kubeconfig that exists only in memory, with one context named after the cluster.

    ``origin`` says where it came from (``capi Secret default/prod-kubeconfig``)
    and is what :meth:`describe` returns, so the messages of the live client
    name the Secret, not a file. The repr shows the origin and context names
    only: the document holds tokens and keys.
    """

    origin: str = ""
    #: the document with every value inline, for ``--export-kubeconfig`` (``config`` may point at memory files)
    inline: dict[str, Any] = field(default_factory=dict, compare=False)

    def describe(self) -> str:
        """Where the credentials came from (no file exists)."""
        return self.origin or "in-memory credentials"

    @property
    def exportable(self) -> dict[str, Any]:
        """The document to write on export: values inline, no reference to this process's memory files."""
        return self.inline or self.config

    def __repr__(self) -> str:
        return f"InMemoryKubeconfig(origin={self.origin!r}, contexts={self.contexts!r})"


_MEMFD_LOCK = threading.Lock()


def memory_file(data: bytes) -> int | None:
    """A Linux memfd holding ``data``: a file that lives in memory only, or None where there is none.

    The official client cannot take a client certificate or key from memory:
    for ``client-key-data`` it writes the key to a temporary file (0600,
    removed at exit, left behind by a crash). Handing it
    ``/proc/self/fd/N`` of a memfd instead keeps the key off every disk.
    """
    create = getattr(os, "memfd_create", None)
    if create is None:
        return None
    try:
        with _MEMFD_LOCK:
            fd: int = create("fleetcheck-client-credentials", getattr(os, "MFD_CLOEXEC", 0))
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except OSError:
        return None
    if not os.path.isfile(f"/proc/self/fd/{fd}"):
        os.close(fd)
        return None
    return fd


def _in_memory(config: dict[str, Any], origin: str) -> InMemoryKubeconfig:
    """Wrap a one-user document; a client certificate and key move to a memory file when the platform has one.

    The memory file is closed when the credentials are garbage-collected.
    """
    user = config["users"][0]["user"]
    cert, key = user.get("client-certificate-data"), user.get("client-key-data")
    fd = None
    if isinstance(cert, str) and isinstance(key, str):
        fd = memory_file(base64.b64decode(cert) + b"\n" + base64.b64decode(key))
    if fd is None:
        return InMemoryKubeconfig((), config, {}, origin)
    path = f"/proc/self/fd/{fd}"
    client_user = {k: v for k, v in user.items() if k not in ("client-certificate-data", "client-key-data")}
    client_user.update({"client-certificate": path, "client-key": path})
    client = {**config, "users": [{**config["users"][0], "user": client_user}]}
    result = InMemoryKubeconfig((), client, {}, origin, config)
    weakref.finalize(result, os.close, fd)
    return result


# -- small helpers ---------------------------------------------------------------------------------------------------


def decode_base64(value: object, what: str) -> bytes:
    """Strictly decode base64 (whitespace and newlines allowed, nothing else), or raise :class:`CredentialError`."""
    if not isinstance(value, str):
        raise CredentialError(f"{what} is not a base64 string")
    compact = "".join(value.split())
    if len(compact) > MAX_VALUE_BYTES * 4 // 3 + 4:
        raise CredentialError(f"{what} is larger than {MAX_VALUE_BYTES} bytes")
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise CredentialError(f"{what} is not valid base64") from None


def _secret_where(secret: Mapping[str, Any], key: str, source: str) -> str:
    meta = secret.get("metadata") or {}
    return f"{source} Secret {meta.get('namespace', '')}/{meta.get('name', '')} key {key!r}".strip()


def secret_value(secret: Mapping[str, Any], key: str, source: str = "") -> bytes | None:
    """A Secret's value for ``key``: ``data`` (base64, as the API returns it), else ``stringData`` (manifests).

    ``source`` (``capi``) starts the messages, as the sources' other messages do.
    """
    where = _secret_where(secret, key, source)
    data = secret.get("data") or {}
    if isinstance(data, Mapping) and key in data:
        return decode_base64(data[key], where)
    string_data = secret.get("stringData") or {}
    if isinstance(string_data, Mapping) and key in string_data:
        value = string_data[key]
        if not isinstance(value, str):
            raise CredentialError(f"{where} is not a string")
        return value.encode()
    return None


def secret_text(secret: Mapping[str, Any], key: str, source: str = "") -> str | None:
    """:func:`secret_value` as UTF-8 text."""
    raw = secret_value(secret, key, source)
    if raw is None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CredentialError(f"{_secret_where(secret, key, source)} is not UTF-8 text") from None


def normalise_server(url: str | None) -> str | None:
    """The identity of an API server URL: scheme and host lower-cased, default port and trailing slash dropped.

    ``https://API.example.com:443/`` and ``https://api.example.com`` are one
    cluster. The path is kept: behind a proxy (Rancher ``/k8s/clusters/ID``)
    it is what tells clusters apart.
    """
    if not url or not isinstance(url, str):
        return None
    text = url.strip()
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return text.lower().rstrip("/")
    scheme = (parts.scheme or "https").lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    default = {"https": 443, "http": 80}.get(scheme)
    netloc = host if port in (None, default) else f"{host}:{port}"
    path = parts.path.rstrip("/")
    return f"{scheme}://{netloc}{path}"


def _check_server(server: object, what: str) -> str:
    if not isinstance(server, str) or not server.strip():
        raise CredentialError(f"{what} has no server URL")
    text = server.strip()
    try:
        parts = urlsplit(text)
        _ = parts.port
    except ValueError:
        raise CredentialError(f"{what}: server {text!r} is not a URL") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise CredentialError(f"{what}: server {text!r} is not an http(s) URL")
    return text


def _check_pem(data: bytes, marker: bytes, what: str, expected: str) -> bytes:
    if marker not in data:
        raise CredentialError(f"{what} holds no PEM {expected}")
    return data


# -- building kubeconfigs ----------------------------------------------------------------------------------------------


def build_kubeconfig(
    name: str,
    server: str,
    *,
    origin: str,
    ca_data: bytes | None = None,
    token: str | None = None,
    cert_data: bytes | None = None,
    key_data: bytes | None = None,
    insecure: bool = False,
    tls_server_name: str | None = None,
    proxy_url: str | None = None,
) -> InMemoryKubeconfig:
    """A one-context kubeconfig for ``server`` from decoded parts (PEM bytes, a bearer token).

    Checks what can be checked offline, so a malformed value is a clear
    per-cluster error here rather than an opaque TLS failure later.
    """
    server = _check_server(server, origin)
    cluster: dict[str, Any] = {"server": server}
    if insecure:
        cluster["insecure-skip-tls-verify"] = True
    elif ca_data:
        _check_pem(ca_data, _PEM_CERT, f"{origin}: the CA data", "certificate")
        cluster["certificate-authority-data"] = base64.b64encode(ca_data).decode()
    if tls_server_name:
        cluster["tls-server-name"] = tls_server_name
    if proxy_url:
        cluster["proxy-url"] = proxy_url
    user: dict[str, Any] = {}
    if token is not None:
        token = token.strip()
        if not token:
            raise CredentialError(f"{origin}: the bearer token is empty")
        if any(ch.isspace() or not ch.isprintable() for ch in token):
            raise CredentialError(f"{origin}: the bearer token contains whitespace or control characters")
        user["token"] = token
    if cert_data is not None or key_data is not None:
        if cert_data is None or key_data is None:
            raise CredentialError(f"{origin}: a client certificate needs both the certificate and the key")
        _check_pem(cert_data, _PEM_CERT, f"{origin}: the client certificate", "certificate")
        _check_pem(key_data, _PEM_KEY_END, f"{origin}: the client key", "private key")
        user["client-certificate-data"] = base64.b64encode(cert_data).decode()
        user["client-key-data"] = base64.b64encode(key_data).decode()
    if not user:
        raise CredentialError(f"{origin}: no credentials (neither a bearer token nor a client certificate)")
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": cluster}],
        "users": [{"name": name, "user": user}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
    }
    return _in_memory(config, origin)


def _named(entries: object, section: str, origin: str) -> dict[str, dict[str, Any]]:
    if entries is None:
        return {}
    if not isinstance(entries, list):
        raise CredentialError(f"{origin}: the kubeconfig's {section} is not a list")
    found: dict[str, dict[str, Any]] = {}
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            found.setdefault(entry["name"], entry)
    return found


def kubeconfig_from_text(
    raw: bytes,
    *,
    name: str,
    origin: str,
    context: str | None = None,
    cluster: Mapping[str, Any] | None = None,
) -> InMemoryKubeconfig:
    """The kubeconfig a Secret holds, reduced to one context renamed to ``name``.

    The context used is ``context`` when given, else the document's
    ``current-context``, else its only one. ``cluster`` (a kubeconfig
    ``cluster`` mapping: server, CA ...) replaces the context's cluster, for
    managers that publish the endpoint apart from the credentials (a
    ClusterProfile's access provider). Inline data is checked (base64, PEM
    markers); users that would run a command or read a local file are
    refused, naming the field.
    """
    if len(raw) > MAX_VALUE_BYTES:
        raise CredentialError(f"{origin}: the kubeconfig is larger than {MAX_VALUE_BYTES} bytes")
    try:
        doc = load_cluster_text(raw.decode("utf-8"), what=f"{origin} (kubeconfig)")
    except UnicodeDecodeError:
        raise CredentialError(f"{origin}: the kubeconfig is not UTF-8 text") from None
    except ClusterTextOverBudget as exc:  # the message names the budget, never the text
        raise CredentialError(str(exc)) from None
    except ClusterTextInvalid as exc:
        # Only the line number: a YAML error's text may quote the offending line, which may hold a token.
        found = re.search(r" at line (\d+)", exc.problem)
        line = f" (line {found[1]})" if found else ""
        raise CredentialError(f"{origin}: the kubeconfig is not valid YAML{line}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("contexts"), list):
        raise CredentialError(f"{origin}: not a kubeconfig (no 'contexts' list)")
    contexts = _named(doc.get("contexts"), "contexts", origin)
    clusters = _named(doc.get("clusters"), "clusters", origin)
    users = _named(doc.get("users"), "users", origin)
    current = doc.get("current-context")
    if context is not None:
        if context not in contexts:
            raise CredentialError(f"{origin}: the kubeconfig has no context {context!r}")
        context_name = context
    elif isinstance(current, str) and current in contexts:
        context_name = current
    elif len(contexts) == 1:
        context_name = next(iter(contexts))
    else:
        raise CredentialError(f"{origin}: the kubeconfig has {len(contexts)} contexts and no usable current-context")
    chosen = contexts[context_name].get("context") or {}
    if not isinstance(chosen, dict):
        raise CredentialError(f"{origin}: context {context_name!r} is not a mapping")
    if cluster is None:
        cluster_entry = clusters.get(str(chosen.get("cluster")))
        if cluster_entry is None or not isinstance(cluster_entry.get("cluster"), dict):
            raise CredentialError(f"{origin}: context {context_name!r} names no cluster in the kubeconfig")
        cluster = dict(cluster_entry["cluster"])
    else:  # a manager's endpoint: its extensions configure the manager's plugins, not the client
        cluster = {k: v for k, v in cluster.items() if k != "extensions"}
    user_entry = users.get(str(chosen.get("user")))
    if user_entry is None or not isinstance(user_entry.get("user"), dict):
        raise CredentialError(f"{origin}: context {context_name!r} names no user in the kubeconfig")
    user = dict(user_entry["user"])
    _check_server(cluster.get("server"), origin)
    if "certificate-authority" in cluster:
        raise CredentialError(f"{origin}: the cluster refers to a local CA file; only inline data is accepted")
    if "certificate-authority-data" in cluster and not cluster.get("insecure-skip-tls-verify"):
        ca = decode_base64(cluster["certificate-authority-data"], f"{origin}: certificate-authority-data")
        _check_pem(ca, _PEM_CERT, f"{origin}: certificate-authority-data", "certificate")
    for field_name in _USER_COMMAND_FIELDS:
        if field_name in user:
            raise CredentialError(
                f"{origin}: the user authenticates with '{field_name}', which would run a command: "
                "not done for credentials read from a cluster (map the cluster to a kubeconfig context instead)"
            )
    for field_name in _USER_FILE_FIELDS:
        if field_name in user:
            raise CredentialError(
                f"{origin}: the user refers to a local file ('{field_name}'); only inline data is accepted"
            )
    if "client-certificate-data" in user or "client-key-data" in user:
        cert = decode_base64(user.get("client-certificate-data"), f"{origin}: client-certificate-data")
        key = decode_base64(user.get("client-key-data"), f"{origin}: client-key-data")
        _check_pem(cert, _PEM_CERT, f"{origin}: client-certificate-data", "certificate")
        _check_pem(key, _PEM_KEY_END, f"{origin}: client-key-data", "private key")
    elif "token" in user:
        token = user["token"]
        if not isinstance(token, str) or not token.strip() or any(ch.isspace() for ch in token.strip()):
            raise CredentialError(f"{origin}: the user's token is empty or not a single word")
    elif not ("username" in user and "password" in user):
        raise CredentialError(f"{origin}: the user has no credentials (no token, client certificate or password)")
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": cluster}],
        "users": [{"name": name, "user": user}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
    }
    return _in_memory(config, origin)


# -- export (the one way credentials reach a disk) ---------------------------------------------------------------


def _section(config: Mapping[str, Any], section: str, name: object) -> dict[str, Any] | None:
    for entry in config.get(section) or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            return entry
    return None


def export_kubeconfig(entries: Iterable[ClusterEntry]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """A kubeconfig with one context per cluster, named after the cluster; and the clusters left out, with why.

    Clusters with in-memory credentials contribute those; clusters reached
    through a kubeconfig file contribute their context's cluster and user
    (renamed, so two files' ``admin`` users cannot collide). Snapshots and
    clusters without usable credentials are left out.
    """
    clusters: list[dict[str, Any]] = []
    users: list[dict[str, Any]] = []
    contexts: list[dict[str, Any]] = []
    skipped: list[tuple[str, str]] = []
    file_cache: dict[tuple[str, ...], MergedKubeconfig] = {}
    for entry in entries:
        if entry.snapshot is not None:
            skipped.append((entry.name, "a snapshot, no API server"))
            continue
        if entry.credentials_error is not None:
            skipped.append((entry.name, entry.credentials_error))
            continue
        merged = entry.credentials
        if merged is None:
            if not entry.kubeconfig:
                skipped.append((entry.name, "no kubeconfig"))
                continue
            if entry.kubeconfig not in file_cache:
                file_cache[entry.kubeconfig] = merge_kubeconfigs([Path(p) for p in entry.kubeconfig])
            merged = file_cache[entry.kubeconfig]
        context_name = entry.context or entry.name
        source = merged.exportable if isinstance(merged, InMemoryKubeconfig) else merged.config
        context_entry = _section(source, "contexts", context_name)
        context = (context_entry or {}).get("context") or {}
        cluster = _section(source, "clusters", context.get("cluster"))
        user = _section(source, "users", context.get("user"))
        if cluster is None or user is None:
            skipped.append((entry.name, f"context {context_name!r} is incomplete in {merged.describe()}"))
            continue
        clusters.append({"name": entry.name, "cluster": dict(cluster.get("cluster") or {})})
        users.append({"name": entry.name, "user": dict(user.get("user") or {})})
        ctx: dict[str, Any] = {"cluster": entry.name, "user": entry.name}
        if context.get("namespace"):
            ctx["namespace"] = context["namespace"]
        contexts.append({"name": entry.name, "context": ctx})
    document: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": clusters,
        "users": users,
        "contexts": contexts,
    }
    if contexts:
        document["current-context"] = contexts[0]["name"]
    return document, skipped


def write_kubeconfig_export(path: Path, document: Mapping[str, Any]) -> Path:
    """Write ``document`` to ``path`` with mode 0600, atomically: the only place credentials touch a disk.

    The temporary file is created 0600 in the target's folder (``mkstemp``)
    before any byte is written, then renamed over the target, so no reader
    ever sees the credentials with wider permissions or half written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(yaml.safe_dump(dict(document), sort_keys=False).encode())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    os.chmod(path, 0o600)
    return path
