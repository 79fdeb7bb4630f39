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
followed, no proxy from the environment, a total deadline per attempt, and at
most :data:`MAX_RESPONSE_BYTES` of body read. Anything that keeps it from
getting an HTTP status raises :class:`~fleetcheck.probes.ProbeError`.
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from fleetcheck.imageref import DOCKER_HUB, canonical_registry
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
#: The body of ``/v2/`` is ``{}`` or a short error; nothing longer is read.
MAX_RESPONSE_BYTES = 64 * 1024
_USER_AGENT = "fleetcheck-oci-probe"


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


def registry_base_url(registry: str, scheme: str = "https") -> str:
    """``https://HOST[:PORT]/v2/`` for a registry as image references name it (``docker.io`` -> its API host)."""
    host = DOCKER_HUB_API_HOST if canonical_registry(registry) == DOCKER_HUB else registry.lower()
    return f"{scheme}://{host}/v2/"


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


async def _get(url: str, context: ssl.SSLContext | None, timeout: float, max_bytes: int) -> tuple[int, str | None]:
    connector = aiohttp.TCPConnector(ssl=context if context is not None else False, force_close=True, limit=1)
    async with (
        aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=timeout), trust_env=False
        ) as session,
        session.get(url, allow_redirects=False, headers={"User-Agent": _USER_AGENT}) as response,
    ):
        await response.content.read(max_bytes)
        return response.status, response.headers.get("Docker-Distribution-API-Version")


def _attempt(registry: str, url: str, context: ssl.SSLContext | None, timeout: float, max_bytes: int) -> RegistryAnswer:
    started = time.monotonic()
    try:
        status, api_version = asyncio.run(_get(url, context, timeout, max_bytes))
    except TimeoutError:
        raise ProbeError(f"GET {url}: no answer within {timeout:g}s") from None
    except aiohttp.ClientConnectorCertificateError as exc:
        raise ProbeError(f"GET {url}: TLS certificate not trusted ({exc.certificate_error})") from None
    except aiohttp.ClientSSLError as exc:
        raise _TLSHandshakeFailed(f"GET {url}: TLS handshake failed ({exc})") from None
    except aiohttp.ClientConnectorError as exc:
        raise ProbeError(f"GET {url}: cannot connect ({_os_reason(exc.os_error)})") from None
    except aiohttp.ClientError as exc:
        raise ProbeError(f"GET {url}: {type(exc).__name__}: {exc}") from None
    return RegistryAnswer(registry, url, status, api_version, round(time.monotonic() - started, 3))


def _os_reason(error: OSError) -> str:
    """``Connection refused``, ``Name or service not known`` ... rather than asyncio's wording."""
    if isinstance(error, socket.gaierror):
        return f"cannot resolve host: {error.strerror or error}"
    return os.strerror(error.errno) if error.errno else str(error)


class _TLSHandshakeFailed(ProbeError):
    """The server did not complete a TLS handshake (it may speak plain HTTP)."""


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
    downgraded. ``timeout`` bounds each attempt as a whole (connect, TLS,
    headers and body). Raises :class:`~fleetcheck.probes.ProbeError` when no
    HTTP status could be had.
    """
    context = ssl_context if ssl_context is not None else tls_context()
    try:
        return _attempt(registry, registry_base_url(registry, "https"), context, timeout, max_bytes)
    except _TLSHandshakeFailed as exc:
        if not allow_http:
            raise ProbeError(f"{exc} (a plain-HTTP registry needs probes.allow_http: true in the profile)") from None
        try:
            return _attempt(registry, registry_base_url(registry, "http"), None, timeout, max_bytes)
        except ProbeError as plain:
            raise ProbeError(f"{exc}; over plain HTTP: {plain}") from None
