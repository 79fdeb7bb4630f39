"""Run a kubeconfig exec credential plugin (``users[].user.exec``) with a deadline, the way kubectl would.

EKS (``aws eks get-token``), GKE (``gke-gcloud-auth-plugin``), AKS and
kubelogin clusters get their token from a command. The official client's
own ``ExecProvider`` waits for it without a timeout, under the lock every
cluster loads its kubeconfig under, and logs its stderr on the root logger:
one hanging plugin stalled the whole fleet. Here fleetcheck runs the plugin
itself, before that lock:

* an argv list (never a shell), the process's environment plus the entry's
  ``env`` and ``KUBERNETES_EXEC_INFO`` (the ``ExecCredential`` request: not
  interactive, and the cluster when ``provideClusterInfo`` is set);
* stdin closed (``/dev/null``): the plugin sees no terminal, so
  ``interactiveMode: Always`` is refused up front, as kubectl refuses it
  without one;
* stdout and stderr captured and bounded, read until a deadline; past it the
  plugin's whole process group is killed;
* the answer must be an ``ExecCredential`` of the requested ``apiVersion``
  with a token or a client certificate and key; anything else is an error
  that says what was wrong, quoting at most the first line of stderr,
  redacted, and never stdout (it is where the token is).

The spec: https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fleetcheck.redact import redact, register_secret

__all__ = ["SUPPORTED_API_VERSIONS", "ExecCredential", "ExecPluginError", "run_exec_plugin"]

#: ``client.authentication.k8s.io`` versions served; v1alpha1 was removed from Kubernetes in 1.24.
SUPPORTED_API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
#: An ExecCredential is a few KB (a client certificate chain at most); more is not one.
MAX_STDOUT = 1024 * 1024
#: Only the first line of stderr is ever quoted; the rest is read and dropped.
MAX_STDERR = 64 * 1024
#: How much of a plugin's stderr line (or install hint) a message quotes.
MAX_QUOTE = 200
#: After the kill, how long the pipes may take to close (a grandchild that left the process group keeps them).
_DRAIN_AFTER_KILL = 1.0


class ExecPluginError(Exception):
    """The plugin could not give a credential; ``str()`` is one line, redacted, naming the cause."""

    def __init__(self, message: str, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


@dataclass(frozen=True, repr=False)
class ExecCredential:
    """What a plugin answered: a bearer token, or a client certificate and key (PEM)."""

    token: str | None = None
    client_certificate: str | None = None
    client_key: str | None = None

    def __repr__(self) -> str:
        kinds = [name for name, value in (("token", self.token), ("client certificate", self.client_key)) if value]
        return f"ExecCredential({', '.join(kinds) or 'empty'})"


def _one_line(text: str, limit: int = MAX_QUOTE) -> str:
    """The first non-empty line of ``text``, printable characters only, redacted and cut to ``limit``."""
    for line in text.splitlines():
        cleaned = "".join(ch if ch.isprintable() else " " for ch in line).strip()
        if cleaned:
            cleaned = redact(cleaned)
            return cleaned if len(cleaned) <= limit else cleaned[:limit] + "..."
    return ""


def _strings(value: object, what: str, name: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ExecPluginError(f"exec plugin {name} is configured with '{what}' that is not a list of strings")
    return list(value)


def _plugin_env(spec: Mapping[str, Any], name: str) -> dict[str, str]:
    env = dict(os.environ)
    entries = spec.get("env") or []
    if not isinstance(entries, list):
        raise ExecPluginError(f"exec plugin {name} is configured with 'env' that is not a list of {{name, value}}")
    for item in entries:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or "value" not in item:
            raise ExecPluginError(f"exec plugin {name} is configured with an 'env' entry without a name and a value")
        env[item["name"]] = str(item["value"])
    return env


def _exec_info(api_version: str, cluster: Mapping[str, Any] | None) -> str:
    """``KUBERNETES_EXEC_INFO``: the ExecCredential request (spec.cluster only when the entry asks for it)."""
    spec: dict[str, Any] = {"interactive": False}
    if cluster is not None:
        spec["cluster"] = dict(cluster)
    # default=str: YAML may have given an extension's values as dates; the plugin gets them as text
    return json.dumps({"apiVersion": api_version, "kind": "ExecCredential", "spec": spec}, default=str)


def _resolve_command(command: str, spec: Mapping[str, Any], name: str) -> str:
    """The program to start: a path as given (the kubeconfig merge made relative ones absolute), else PATH."""
    if os.sep in command:
        return command
    found = shutil.which(command)
    if found is None:
        hint = spec.get("installHint")
        tail = (
            f" (install hint from the kubeconfig = {_one_line(hint)})" if isinstance(hint, str) and hint.strip() else ""
        )
        raise ExecPluginError(f"exec plugin {name} was not found on PATH{tail}")
    return found


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()


def _collect(process: subprocess.Popen[bytes], deadline: float) -> tuple[bytes, bytes, bool]:
    """(stdout, stderr, timed_out): both pipes read until they close or ``deadline``, each kept to its bound."""
    assert process.stdout is not None and process.stderr is not None
    limits = {process.stdout.fileno(): MAX_STDOUT, process.stderr.fileno(): MAX_STDERR}
    kept: dict[int, bytearray] = {fd: bytearray() for fd in limits}
    timed_out = False
    with selectors.DefaultSelector() as selector:
        for fd in limits:
            os.set_blocking(fd, False)
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if timed_out:
                    break  # killed, and still a pipe open: a descendant escaped the group; stop reading
                timed_out = True
                _kill_group(process)
                deadline = time.monotonic() + _DRAIN_AFTER_KILL
                continue
            for key, _ in selector.select(remaining):
                fd = int(key.fd)
                try:
                    chunk = os.read(fd, 65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    selector.unregister(fd)
                    continue
                room = limits[fd] - len(kept[fd])
                if room > 0:
                    kept[fd] += chunk[:room]
    return bytes(kept[process.stdout.fileno()]), bytes(kept[process.stderr.fileno()]), timed_out


def _parse(stdout: bytes, api_version: str, name: str) -> ExecCredential:
    """The credential in the plugin's answer; never quotes the answer (it holds the token)."""
    what = f"exec plugin {name} printed"
    if len(stdout) >= MAX_STDOUT:
        raise ExecPluginError(f"{what} more than {MAX_STDOUT // 1024} KiB: not an ExecCredential")
    try:
        doc = json.loads(stdout.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        shown = "nothing" if not stdout.strip() else f"{len(stdout)} bytes that are not JSON"
        raise ExecPluginError(f"{what} {shown}, not an ExecCredential") from None
    if not isinstance(doc, dict) or doc.get("kind") != "ExecCredential":
        raise ExecPluginError(f"{what} JSON that is not an ExecCredential (kind must be ExecCredential)")
    if doc.get("apiVersion") != api_version:
        got = doc.get("apiVersion")
        shown = _one_line(got, 80) if isinstance(got, str) else "none"
        raise ExecPluginError(f"{what} an ExecCredential of apiVersion {shown}; the kubeconfig asks for {api_version}")
    status = doc.get("status")
    if not isinstance(status, dict):
        raise ExecPluginError(f"{what} an ExecCredential without a status")
    token, cert, key = status.get("token"), status.get("clientCertificateData"), status.get("clientKeyData")
    for secret in (token, key):  # the certificate is public
        if isinstance(secret, str):
            register_secret(secret)
    if isinstance(token, str) and token.strip():
        if any(ch.isspace() for ch in token.strip()):
            raise ExecPluginError(f"{what} a token with whitespace in it, which no API server accepts")
        return ExecCredential(token=token.strip())
    if isinstance(cert, str) and isinstance(key, str) and "CERTIFICATE" in cert and "PRIVATE KEY" in key:
        return ExecCredential(client_certificate=cert, client_key=key)
    raise ExecPluginError(f"{what} an ExecCredential with neither status.token nor clientCertificateData+clientKeyData")


def run_exec_plugin(spec: Mapping[str, Any], *, timeout: float, cluster: Mapping[str, Any] | None) -> ExecCredential:
    """Run the plugin of one ``users[].user.exec`` entry and return its credential, or raise ExecPluginError.

    ``cluster`` is the ``ExecCredential`` ``spec.cluster`` object, passed
    only when the entry sets ``provideClusterInfo``. The call returns within
    ``timeout`` seconds plus a second of draining, whatever the plugin does.
    """
    command = spec.get("command")
    if not isinstance(command, str) or not command.strip():
        raise ExecPluginError("the exec plugin's 'command' is missing or empty")
    name = _one_line(command)
    api_version = spec.get("apiVersion")
    if api_version not in SUPPORTED_API_VERSIONS:
        shown = _one_line(api_version, 80) if isinstance(api_version, str) else "missing"
        raise ExecPluginError(
            f"exec plugin {name} asks for apiVersion {shown}, which is not supported "
            f"(use {' or '.join(SUPPORTED_API_VERSIONS)})"
        )
    mode = spec.get("interactiveMode") or "IfAvailable"
    if mode not in ("Never", "IfAvailable", "Always"):
        raise ExecPluginError(f"exec plugin {name} has an interactiveMode other than Never, IfAvailable or Always")
    if mode == "Always":
        raise ExecPluginError(
            f"exec plugin {name} has interactiveMode Always, which needs a terminal, and fleetcheck runs plugins "
            "without one"
        )
    argv = [_resolve_command(command, spec, name), *_strings(spec.get("args"), "args", name)]
    env = _plugin_env(spec, name)
    env["KUBERNETES_EXEC_INFO"] = _exec_info(api_version, cluster if spec.get("provideClusterInfo") else None)
    deadline = time.monotonic() + timeout
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            close_fds=True,
            start_new_session=True,  # its own process group: a timeout kills the plugin and what it started
        )
    except OSError as exc:
        raise ExecPluginError(f"exec plugin {name} cannot be started: {exc.strerror or type(exc).__name__}") from None
    try:
        stdout, stderr, timed_out = _collect(process, deadline)
        if timed_out:
            raise ExecPluginError(f"exec plugin {name} timed out after {timeout:g} s", timed_out=True)
        try:
            code = process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:  # closed its output but kept running
            raise ExecPluginError(f"exec plugin {name} timed out after {timeout:g} s", timed_out=True) from None
    finally:
        if process.poll() is None:
            _kill_group(process)
            process.wait()
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
    if code != 0:
        said = _one_line(stderr.decode("utf-8", "replace"))
        how = f"was killed by signal {-code}" if code < 0 else f"exited {code}"
        raise ExecPluginError(f"exec plugin {name} {how}" + (f": {said}" if said else " (nothing on stderr)"))
    return _parse(stdout, api_version, name)
