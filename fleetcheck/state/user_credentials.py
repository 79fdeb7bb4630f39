"""A context's credentials made ready before the official client loads them: read, checked, in memory.

The client reads a ``tokenFile`` with a bare ``open()`` (a missing file was
an ``OSError`` that ended the whole scan with INTERNALERROR), silently goes
anonymous when the context names a user that does not exist (every request
then read "401 ... expired token?"), and runs exec plugins without a
timeout. :func:`prepare_context` does those parts first, outside any lock,
and hands the client a copy of the kubeconfig whose user entry for the
context holds the result inline:

* ``tokenFile`` -> ``token`` (read, size-bounded, stripped);
* ``exec`` -> ``token``, or a client certificate and key in a memory-only
  file (never written to a disk), by :func:`run_exec_plugin` with the
  run's ``--exec-timeout``; the entry's ``exec`` is removed, so the
  client's own ``ExecProvider`` never runs.

Every secret the context holds (token, tokenFile contents, the plugin's
token or key, a basic-auth password, a client key, auth-provider tokens)
is registered with :func:`fleetcheck.redact.register_secret`, so an API
server that echoes one back is redacted wherever its message goes. Each
problem is a :class:`ConfigError` naming the file and the field, which the
run turns into ``error`` for that cluster's checks only.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import weakref
from dataclasses import dataclass, field
from typing import Any

from fleetcheck.errors import ConfigError
from fleetcheck.redact import register_secret
from fleetcheck.registry.kubeconfig import MergedKubeconfig
from fleetcheck.registry.sources.credentials import memory_file
from fleetcheck.state.exec_plugin import ExecCredential, ExecPluginError, run_exec_plugin

__all__ = ["DEFAULT_EXEC_TIMEOUT", "PreparedContext", "prepare_context"]

#: seconds an exec plugin may take (``--exec-timeout``); ``aws eks get-token`` takes about one
DEFAULT_EXEC_TIMEOUT = 30.0
#: a bearer token is a few KB at most (an OIDC id token with many groups); a bigger tokenFile is not one
MAX_TOKEN_FILE = 64 * 1024
#: client keys the client reads from files are read here too, only to be registered for redaction
MAX_KEY_FILE = 1024 * 1024
#: auth-provider (gcp, oidc) config keys that hold credentials
_PROVIDER_SECRETS = ("access-token", "id-token", "refresh-token", "client-secret")
#: auth-providers the client handles itself (it ignores any other name and goes on to token, exec, basic auth)
_CLIENT_PROVIDERS = ("gcp", "oidc")


@dataclass
class PreparedContext:
    """The kubeconfig to hand the client for one context, and the memory files it points at."""

    config: dict[str, Any]
    #: the context names no user: requests go out without credentials
    anonymous: bool = False
    _closer: weakref.finalize[[list[int]], PreparedContext] | None = field(default=None, repr=False, compare=False)

    def close(self) -> None:
        """Close the memory files now (else when this object is collected; either way exactly once).

        The client opens them again for every new connection: close only when the cluster is done.
        """
        if self._closer is not None:
            self._closer()


def _named(config: dict[str, Any], section: str, name: str) -> dict[str, Any] | None:
    entries = config.get(section) or []
    return next((e for e in entries if isinstance(e, dict) and e.get("name") == name), None)


def _register_inline_secrets(user: dict[str, Any]) -> None:
    for key in ("token", "password"):
        value = user.get(key)
        if isinstance(value, str):
            register_secret(value)
    if isinstance(user.get("username"), str) and isinstance(user.get("password"), str):
        pair = f"{user['username']}:{user['password']}".encode()
        register_secret(base64.b64encode(pair).decode())  # the Authorization: Basic value
    key_data = user.get("client-key-data")
    if isinstance(key_data, str):
        register_secret(key_data)
        with contextlib.suppress(binascii.Error, ValueError):
            register_secret(base64.b64decode(key_data, validate=False))
    key_file = user.get("client-key")
    if isinstance(key_file, str) and not key_file.startswith("/proc/self/fd/"):
        try:
            with open(key_file, "rb") as handle:
                register_secret(handle.read(MAX_KEY_FILE))
        except OSError:
            pass  # the client reports a key it cannot read
    provider = user.get("auth-provider")
    config = provider.get("config") if isinstance(provider, dict) else None
    if isinstance(config, dict):
        for key in _PROVIDER_SECRETS:
            if isinstance(config.get(key), str):
                register_secret(config[key])


def _read_token_file(path: str, source: str, where: str) -> str:
    fix = "point tokenFile at a readable file holding the token, or put the token inline"
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_TOKEN_FILE + 1)
    except OSError as exc:
        raise ConfigError(
            source, where, f"tokenFile {path} cannot be read ({exc.strerror or type(exc).__name__})", fix
        ) from None
    if len(raw) > MAX_TOKEN_FILE:
        raise ConfigError(source, where, f"tokenFile {path} is larger than {MAX_TOKEN_FILE // 1024} KiB", fix)
    try:
        token = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise ConfigError(source, where, f"tokenFile {path} is not UTF-8 text", fix) from None
    register_secret(token)
    if not token or any(ch.isspace() for ch in token):
        problem = "is empty" if not token else "holds more than one word (a token has no spaces)"
        raise ConfigError(source, where, f"tokenFile {path} {problem}", fix)
    return token


def _cluster_info(cluster: dict[str, Any] | None) -> dict[str, Any]:
    """``ExecCredential.spec.cluster`` from the kubeconfig cluster entry (for ``provideClusterInfo``)."""
    inner = (cluster or {}).get("cluster") or {}
    if not isinstance(inner, dict):
        return {}
    info: dict[str, Any] = {}
    for key in ("server", "tls-server-name", "insecure-skip-tls-verify", "proxy-url", "disable-compression"):
        if key in inner:
            info[key] = inner[key]
    if isinstance(inner.get("certificate-authority-data"), str):
        info["certificate-authority-data"] = inner["certificate-authority-data"]
    elif isinstance(inner.get("certificate-authority"), str):
        try:
            with open(inner["certificate-authority"], "rb") as handle:
                info["certificate-authority-data"] = base64.b64encode(handle.read(MAX_KEY_FILE)).decode()
        except OSError:
            pass  # the client reports a CA file it cannot read
    for extension in inner.get("extensions") or []:
        if isinstance(extension, dict) and extension.get("name") == "client.authentication.k8s.io/exec":
            info["config"] = extension.get("extension")
    return info


def _substitute(user: dict[str, Any], credential: ExecCredential, fds: list[int]) -> dict[str, Any]:
    inline = {k: v for k, v in user.items() if k not in ("exec", "token", "tokenFile")}
    if credential.token is not None:
        return {**inline, "token": credential.token}
    assert credential.client_certificate is not None and credential.client_key is not None
    for key in ("client-certificate", "client-certificate-data", "client-key", "client-key-data"):
        inline.pop(key, None)
    fd = memory_file(credential.client_certificate.encode() + b"\n" + credential.client_key.encode())
    if fd is None:  # no memfd on this platform: the client keeps the key in a 0600 temp file, as it does for any key
        inline["client-certificate-data"] = base64.b64encode(credential.client_certificate.encode()).decode()
        inline["client-key-data"] = base64.b64encode(credential.client_key.encode()).decode()
        return inline
    fds.append(fd)
    return {**inline, "client-certificate": f"/proc/self/fd/{fd}", "client-key": f"/proc/self/fd/{fd}"}


def prepare_context(kubeconfig: MergedKubeconfig, context: str, *, exec_timeout: float) -> PreparedContext:
    """The kubeconfig for ``context`` with its user's credentials read and inline; raises :class:`ConfigError`.

    A context or cluster that does not exist is left for the client to
    report (it names them); everything about the user is checked here.
    """
    config = kubeconfig.config
    ctx = _named(config, "contexts", context)
    inner = (ctx or {}).get("context")
    user_name = inner.get("user") if isinstance(inner, dict) else None
    if ctx is None or not user_name:
        return PreparedContext(config, anonymous=ctx is not None)
    user_name = str(user_name)
    entry = _named(config, "users", user_name)
    source = str(kubeconfig.context_files.get(context) or kubeconfig.describe())
    if entry is None:
        raise ConfigError(
            source,
            f"contexts[{context}].context.user",
            f"user {user_name} not found in kubeconfig",
            "add the user to users: or name an existing one ('kubectl config get-users')",
        )
    source = str(kubeconfig.user_files.get(user_name) or kubeconfig.describe())
    user = entry.get("user")
    if not isinstance(user, dict):
        raise ConfigError(source, f"users[{user_name}].user", "must be a mapping", "see 'kubectl config view'")
    _register_inline_secrets(user)
    provider = user.get("auth-provider")
    if isinstance(provider, dict) and provider.get("name") in _CLIENT_PROVIDERS:
        replaced = {k: v for k, v in user.items() if k != "exec"}  # the client stops at the auth-provider
        return _replace_user(config, user_name, replaced, [])
    # the client's order after an auth-provider: token, tokenFile, exec, basic auth
    if isinstance(user.get("token"), str) and user["token"]:
        return _replace_user(config, user_name, {k: v for k, v in user.items() if k not in ("exec", "tokenFile")}, [])
    if user.get("tokenFile"):
        path = str(user["tokenFile"])
        token = _read_token_file(path, source, f"users[{user_name}].user.tokenFile")
        replaced = {k: v for k, v in user.items() if k not in ("exec", "tokenFile")}
        return _replace_user(config, user_name, {**replaced, "token": token}, [])
    plugin = user.get("exec")
    if plugin is None:
        return PreparedContext(config)
    if not isinstance(plugin, dict):
        raise ConfigError(source, f"users[{user_name}].user.exec", "must be a mapping", "see 'kubectl config view'")
    cluster_name = inner.get("cluster") if isinstance(inner, dict) else None
    cluster = _named(config, "clusters", str(cluster_name)) if cluster_name else None
    try:
        credential = run_exec_plugin(plugin, timeout=exec_timeout, cluster=_cluster_info(cluster))
    except ExecPluginError as exc:
        fix = f"see the plugin's own output with 'kubectl --context {context} version'"
        if exc.timed_out:
            fix += "; a slow plugin needs a larger --exec-timeout"
        raise ConfigError(source, f"users[{user_name}].user.exec", str(exc), fix) from None
    fds: list[int] = []
    return _replace_user(config, user_name, _substitute(user, credential, fds), fds)


def _replace_user(config: dict[str, Any], name: str, user: dict[str, Any], fds: list[int]) -> PreparedContext:
    """A shallow copy of ``config`` whose user ``name`` is ``user`` (the merged, cached document stays as read)."""
    users = [
        {**entry, "user": user} if isinstance(entry, dict) and entry.get("name") == name else entry
        for entry in config.get("users") or []
    ]
    prepared = PreparedContext({**config, "users": users})
    if fds:
        prepared._closer = weakref.finalize(prepared, _close_all, list(fds))
    return prepared


def _close_all(fds: list[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)
