"""Probe an OCI (Docker distribution) registry: does ``GET /v2/`` answer?

``/v2/`` is the API base endpoint every registry serves (OCI distribution
spec, "end-1"): ``200`` when anonymous access is allowed, ``401`` with a
``WWW-Authenticate`` challenge when it is not. Either means a registry is
there and answering; anything else (a 404 from a web server, a 5xx from a
broken proxy) means pulls will fail.

The probe is deliberately narrow: one request to a host the profile names,
HTTPS with certificate verification (the system trust store plus an optional
CA bundle), plain HTTP only when the profile allows it and the server turns
out not to speak TLS at all (never after a certificate error), no redirects
followed, no proxy from the environment, one deadline for the whole attempt
(connect, TLS, request, response), and at most :data:`MAX_RESPONSE_BYTES`
read: only the status line and headers matter, the body is never read.

It is written on blocking sockets rather than an HTTP client library so that
the deadline covers every step and every socket is closed before the probe
returns, whatever went wrong (an event loop cancelled mid-handshake leaves
transports for the garbage collector). Anything that keeps it from getting
an HTTP status raises :class:`~fleetcheck.probes.ProbeError`.
"""

from __future__ import annotations

import os
import re
import socket
import ssl
import time
from dataclasses import dataclass
from pathlib import Path

from fleetcheck.core.imageref import DOCKER_HUB, canonical_registry
from fleetcheck.probes import ProbeError

__all__ = [
    "ANSWERING_STATUSES",
    "DOCKER_HUB_API_HOST",
    "MAX_RESPONSE_BYTES",
    "RegistryAnswer",
    "probe_registry",
    "registry_base_url",
    "tls_context",
]

#: ``/v2/`` statuses that mean "a registry is here": open (200) or asking for credentials (401).
ANSWERING_STATUSES = frozenset({200, 401})
#: Docker Hub's images are named ``docker.io/...`` but its API lives here.
DOCKER_HUB_API_HOST = "registry-1.docker.io"
#: The status line and headers of a ``/v2/`` answer fit easily; a server sending more is not a registry.
MAX_RESPONSE_BYTES = 64 * 1024
_USER_AGENT = "fleetcheck-oci-probe"
_STATUS_LINE = re.compile(rb"^HTTP/\d(?:\.\d)? (\d{3})(?: |\r?$)")
_API_VERSION = re.compile(rb"^docker-distribution-api-version:[ \t]*(.*?)[ \t]*\r?$", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class RegistryAnswer:
    """What ``GET /v2/`` answered."""

    registry: str
    url: str
    status: int
    #: the ``Docker-Distribution-API-Version`` header (``registry/2.0``), when sent
    api_version: str | None
    elapsed_s: float

    @property
    def answering(self) -> bool:
        """200 or 401: a registry is serving its API here."""
        return self.status in ANSWERING_STATUSES


def _api_host(registry: str) -> str:
    return DOCKER_HUB_API_HOST if canonical_registry(registry) == DOCKER_HUB else registry.lower()


def registry_base_url(registry: str, scheme: str = "https") -> str:
    """``https://HOST[:PORT]/v2/`` for a registry as image references name it (``docker.io`` -> its API host)."""
    return f"{scheme}://{_api_host(registry)}/v2/"


def _host_port(authority: str, default_port: int) -> tuple[str, int]:
    """``("::1", 5000)`` from ``[::1]:5000``; ``("quay.io", 443)`` from ``quay.io``."""
    if authority.startswith("["):
        host, _, rest = authority[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else default_port
    host, _, port = authority.partition(":")
    return host, int(port) if port else default_port


def tls_context(ca_bundle: str | Path | None = None) -> ssl.SSLContext:
    """Verifying TLS: the system trust store, plus the PEM certificates in ``ca_bundle``.

    Raises ``ValueError`` when the bundle cannot be read or holds no
    certificate (a configuration mistake, not a registry problem).
    """
    context = ssl.create_default_context()
    if ca_bundle is not None:
        try:
            context.load_verify_locations(cafile=str(ca_bundle))
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"cannot load CA bundle {ca_bundle}: {exc}") from None
    return context


class _TLSHandshakeFailed(ProbeError):
    """The server did not complete a TLS handshake (it may speak plain HTTP)."""


def _os_reason(error: OSError) -> str:
    """``Connection refused``, ``cannot resolve host: ...`` rather than a raw errno."""
    if isinstance(error, socket.gaierror):
        return f"cannot resolve host: {error.strerror or error}"
    return os.strerror(error.errno) if error.errno else str(error) or type(error).__name__


class _Deadline:
    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.timeout = timeout
        self.end = time.monotonic() + timeout

    def left(self) -> float:
        """Seconds left; raises the probe's timeout error once none are."""
        remaining = self.end - time.monotonic()
        if remaining <= 0:
            raise self.expired()
        return remaining

    def expired(self) -> ProbeError:
        return ProbeError(f"GET {self.url}: no answer within {self.timeout:g}s")


def _connect(host: str, port: int, deadline: _Deadline) -> socket.socket:
    try:
        return socket.create_connection((host, port), timeout=deadline.left())
    except TimeoutError:
        raise deadline.expired() from None
    except OSError as exc:
        raise ProbeError(f"GET {deadline.url}: cannot connect ({_os_reason(exc)})") from None


def _handshake(raw: socket.socket, host: str, context: ssl.SSLContext, deadline: _Deadline) -> ssl.SSLSocket:
    raw.settimeout(deadline.left())
    try:
        return context.wrap_socket(raw, server_hostname=host)
    except ssl.SSLCertVerificationError as exc:
        raise ProbeError(f"GET {deadline.url}: TLS certificate not trusted ({exc.verify_message or exc})") from None
    except TimeoutError:
        raise deadline.expired() from None
    except OSError as exc:  # SSLError (wrong version, alert) or a reset: the server did not speak TLS
        raise _TLSHandshakeFailed(f"GET {deadline.url}: TLS handshake failed ({exc})") from None


def _read_head(conn: socket.socket, deadline: _Deadline, max_bytes: int) -> bytes:
    """The status line and headers (bounded by ``max_bytes`` and the deadline); the body is not read."""
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > max_bytes:
            raise ProbeError(f"GET {deadline.url}: answer headers longer than {max_bytes} bytes")
        conn.settimeout(deadline.left())
        try:
            chunk = conn.recv(min(16384, max_bytes + 1 - len(data)))
        except TimeoutError:
            raise deadline.expired() from None
        except OSError as exc:
            if data:
                break
            raise ProbeError(f"GET {deadline.url}: connection lost before an answer ({_os_reason(exc)})") from None
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n\r\n", 1)[0]


def _attempt(
    registry: str, scheme: str, context: ssl.SSLContext | None, timeout: float, max_bytes: int
) -> RegistryAnswer:
    authority = _api_host(registry)
    url = f"{scheme}://{authority}/v2/"
    host, port = _host_port(authority, 443 if scheme == "https" else 80)
    deadline = _Deadline(url, timeout)
    started = time.monotonic()
    raw = _connect(host, port, deadline)
    conn: socket.socket = raw
    try:
        if context is not None:
            conn = _handshake(raw, host, context, deadline)
        request = (
            f"GET /v2/ HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: {_USER_AGENT}\r\n"
            "Accept: application/json\r\nConnection: close\r\n\r\n"
        )
        conn.settimeout(deadline.left())
        try:
            conn.sendall(request.encode("ascii"))
        except TimeoutError:
            raise deadline.expired() from None
        except OSError as exc:
            raise ProbeError(f"GET {url}: connection lost while asking ({_os_reason(exc)})") from None
        head = _read_head(conn, deadline, max_bytes)
    finally:
        conn.close()
        raw.close()
    first_line = head.split(b"\n", 1)[0]
    status = _STATUS_LINE.match(first_line)
    if status is None:
        shown = first_line.strip()[:60].decode("ascii", "replace") or "nothing"
        raise ProbeError(f"GET {url}: not an HTTP answer (got {shown!r})")
    version = _API_VERSION.search(head)
    api_version = version.group(1).decode("latin-1") if version else None
    return RegistryAnswer(registry, url, int(status.group(1)), api_version, round(time.monotonic() - started, 3))


def probe_registry(
    registry: str,
    *,
    timeout: float,
    ssl_context: ssl.SSLContext | None = None,
    allow_http: bool = False,
    max_bytes: int = MAX_RESPONSE_BYTES,
) -> RegistryAnswer:
    """``GET /v2/`` on ``registry`` (``host[:port]``, as image references name it).

    HTTPS first, verified with ``ssl_context`` (default: the system trust
    store). With ``allow_http``, a server that does not speak TLS is asked
    again over plain HTTP, as container runtimes do for "insecure
    registries"; a certificate the runner does not trust is never
    downgraded. ``timeout`` bounds each attempt as a whole. Raises
    :class:`~fleetcheck.probes.ProbeError` when no HTTP status could be had.
    """
    context = ssl_context if ssl_context is not None else tls_context()
    try:
        return _attempt(registry, "https", context, timeout, max_bytes)
    except _TLSHandshakeFailed as exc:
        if not allow_http:
            raise ProbeError(f"{exc} (a plain-HTTP registry needs probes.allow_http: true in the profile)") from None
        try:
            return _attempt(registry, "http", None, timeout, max_bytes)
        except ProbeError as plain:
            raise ProbeError(f"{exc}; over plain HTTP: {plain}") from None
