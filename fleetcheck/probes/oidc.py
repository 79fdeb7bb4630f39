"""OIDC issuer discovery over verified HTTPS, as kube-apiserver does it (FC-OIDC-003).

kube-apiserver fetches ``<issuer>/.well-known/openid-configuration``, insists
that the document's ``issuer`` is exactly the configured URL, then fetches
the signing keys from its ``jwks_uri``. When any of that fails, every OIDC
login to the cluster fails, usually discovered by the on-call engineer at
the worst moment. This probe walks the same path from the runner.

Rules of the probe:

- Only the issuer it is given is contacted (the checks pass one declared in
  the profile or the fleet file, never one read from a cluster), plus the
  ``jwks_uri`` that issuer's own verified discovery document names.
- ``https`` only (kube-apiserver refuses other issuers), unless
  ``allow_http`` (test rigs); certificates are verified against the system
  trust store or, when given, only ``ca_bundle`` (what ``--oidc-ca-file``
  does for the API server).
- One deadline covers a whole request, redirects included; bodies are
  capped at ``max_bytes``; redirects are followed only within the same
  origin, at most :data:`MAX_REDIRECTS` times; no proxy is used.
- Could not decide (refused, DNS, timeout, TLS verification, HTTP 5xx/429,
  an oversized body) raises :class:`~fleetcheck.probes.ProbeError`; an
  answer that is wrong (404, not JSON, another issuer, no keys) is returned
  as a problem for the check to fail on.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from fleetcheck.core.version import __version__
from fleetcheck.probes import ProbeError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DISCOVERY_PATH",
    "MAX_REDIRECTS",
    "DiscoveryReport",
    "FetchLimits",
    "discovery_url",
    "probe_discovery",
]

DISCOVERY_PATH = "/.well-known/openid-configuration"
#: A discovery document is ~2 KiB and a JWKS a few KiB; 1 MiB is generous and still bounded.
DEFAULT_MAX_BYTES = 1024 * 1024
MAX_REDIRECTS = 3
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
_USER_AGENT = f"fleetcheck/{__version__} (OIDC discovery probe)"


@dataclass(frozen=True)
class FetchLimits:
    """How the probe may talk to the issuer."""

    timeout: float
    ca_bundle: str | None = None
    allow_http: bool = False
    max_bytes: int = DEFAULT_MAX_BYTES


@dataclass(frozen=True)
class DiscoveryReport:
    """What discovery of ``issuer`` found; ``problems`` empty means kube-apiserver would accept it."""

    issuer: str
    discovery_url: str
    advertised_issuer: str | None = None
    jwks_uri: str | None = None
    keys: int = 0
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Discovery works end to end."""
        return not self.problems


@dataclass(frozen=True)
class _Answer:
    url: str
    status: int
    body: bytes
    location: str | None = None


def discovery_url(issuer: str) -> str:
    """``<issuer without trailing slash>/.well-known/openid-configuration`` (OpenID Connect Discovery 1.0, 4)."""
    return issuer.rstrip("/") + DISCOVERY_PATH


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


def _scheme_problem(url: str, what: str, limits: FetchLimits) -> str | None:
    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and limits.allow_http):
        return None if parts.hostname else f"{what} {url!r} has no host"
    return f"{what} {url!r} is not an https URL (kube-apiserver accepts only https issuers and key sets)"


def _tls_context(limits: FetchLimits) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=limits.ca_bundle)
    except (OSError, ssl.SSLError) as exc:
        raise ProbeError(f"cannot load the CA bundle {limits.ca_bundle}: {exc}") from None


def _remaining(deadline: float, url: str, limits: FetchLimits) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise ProbeError(f"GET {url}: no complete answer within {limits.timeout:g}s")
    return left


def _read_body(response: http.client.HTTPResponse, sock: Any, url: str, deadline: float, limits: FetchLimits) -> bytes:
    length = response.getheader("Content-Length")
    if length and length.isdigit() and int(length) > limits.max_bytes:
        raise ProbeError(f"GET {url}: the answer is {length} bytes, over the {limits.max_bytes}-byte cap")
    chunks: list[bytes] = []
    total = 0
    while True:
        if sock is not None:
            sock.settimeout(_remaining(deadline, url, limits))
        chunk = response.read(_CHUNK)
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > limits.max_bytes:
            raise ProbeError(f"GET {url}: the answer exceeds the {limits.max_bytes}-byte cap")
        chunks.append(chunk)


def _hang_up(connection: http.client.HTTPConnection, sockets: list[Any]) -> None:
    """The deadline passed: shut the socket down, waking a recv that a slow drip keeps alive."""
    for sock in (connection.sock, *sockets):
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _get_once(url: str, limits: FetchLimits, deadline: float) -> _Answer:
    parts = urlsplit(url)
    host = parts.hostname or ""
    timeout = _remaining(deadline, url, limits)
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(host, parts.port, timeout=timeout, context=_tls_context(limits))
    else:
        connection = http.client.HTTPConnection(host, parts.port, timeout=timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    # a socket timeout bounds each recv, not the answer: a server sending a byte a second never trips it
    sockets: list[Any] = []
    watchdog = threading.Timer(timeout, _hang_up, (connection, sockets))
    watchdog.daemon = True
    watchdog.start()
    response: http.client.HTTPResponse | None = None
    try:
        connection.request("GET", target, headers={"Accept": "application/json", "User-Agent": _USER_AGENT})
        sockets.append(connection.sock)  # for the watchdog: getresponse() drops connection.sock on "Connection: close"
        response = connection.getresponse()
        body = _read_body(response, connection.sock, url, deadline, limits)
        _remaining(deadline, url, limits)  # a body the watchdog cut short is no answer
        return _Answer(url, response.status, body, response.getheader("Location"))
    except ssl.SSLCertVerificationError as exc:
        raise ProbeError(
            f"GET {url}: TLS certificate not trusted ({exc.verify_message}); if the issuer uses a private CA, set "
            "the check's ca_bundle to the CA file the API server's --oidc-ca-file names"
        ) from None
    except TimeoutError:
        raise ProbeError(f"GET {url}: no complete answer within {limits.timeout:g}s") from None
    except socket.gaierror as exc:
        raise ProbeError(f"GET {url}: cannot resolve {host}: {exc.strerror}") from None
    except ConnectionRefusedError:
        raise ProbeError(f"GET {url}: connection refused (nothing listens on {host}:{parts.port or 443})") from None
    except (OSError, http.client.HTTPException) as exc:
        if time.monotonic() >= deadline:  # the watchdog hung up
            raise ProbeError(f"GET {url}: no complete answer within {limits.timeout:g}s") from None
        if isinstance(exc, ssl.SSLError):
            raise ProbeError(f"GET {url}: TLS handshake failed: {exc.reason or exc}") from None
        raise ProbeError(f"GET {url}: {type(exc).__name__}: {exc}") from None
    finally:
        watchdog.cancel()
        if response is not None:
            response.close()  # connection.close() alone leaves the socket open while the response holds it
        connection.close()


def _get(url: str, limits: FetchLimits) -> _Answer:
    """GET ``url`` within one deadline, following same-origin redirects; transport trouble is a ProbeError."""
    deadline = time.monotonic() + limits.timeout
    answer = _get_once(url, limits, deadline)
    for _ in range(MAX_REDIRECTS):
        if answer.status not in _REDIRECTS or not answer.location:
            break
        target = urljoin(answer.url, answer.location)
        if _origin(target) != _origin(answer.url):
            break
        answer = _get_once(target, limits, deadline)
    if answer.status >= 500 or answer.status == 429:
        raise ProbeError(f"GET {answer.url}: the server answered HTTP {answer.status}; try again later")
    return answer


def _status_problem(answer: _Answer, what: str) -> str | None:
    if answer.status == 200:
        return None
    if answer.status in _REDIRECTS:
        target = urljoin(answer.url, answer.location or "")
        return f"{what} {answer.url} redirects to {target} (not followed: another origin or too many redirects)"
    return f"{what} {answer.url} answered HTTP {answer.status}, expected 200"


def _json_object(answer: _Answer, what: str) -> tuple[dict[str, Any] | None, str | None]:
    try:
        document = json.loads(answer.body)
    except ValueError:
        return None, f"{what} {answer.url} is not JSON"
    if not isinstance(document, dict):
        return None, f"{what} {answer.url} is not a JSON object"
    return document, None


def _issuer_problem(declared: str, advertised: Any) -> str | None:
    if advertised == declared:
        return None
    if not isinstance(advertised, str) or not advertised:
        return f"the discovery document names no issuer (expected {declared!r})"
    same_but_slash = advertised.rstrip("/") == declared.rstrip("/")
    hint = " (only a trailing slash differs, and the match is exact)" if same_but_slash else ""
    return (
        f"the discovery document names issuer {advertised!r}, not {declared!r}{hint}: kube-apiserver rejects "
        "every token from it"
    )


def probe_discovery(issuer: str, limits: FetchLimits) -> DiscoveryReport:
    """Fetch ``issuer``'s discovery document and key set and say what kube-apiserver would object to.

    Raises :class:`~fleetcheck.probes.ProbeError` when the answer cannot be had
    (see the module docs); returns a report whose ``problems`` are findings.
    """
    url = discovery_url(issuer)
    problem = _scheme_problem(issuer, "issuer", limits)
    parts = urlsplit(issuer)
    if problem is None and (parts.query or parts.fragment):
        problem = f"issuer {issuer!r} has a query or fragment, which OIDC issuers must not have"
    if problem:
        return DiscoveryReport(issuer, url, problems=(problem,))
    answer = _get(url, limits)
    problem = _status_problem(answer, "discovery")
    if problem:
        return DiscoveryReport(issuer, url, problems=(problem,))
    document, problem = _json_object(answer, "discovery document")
    if document is None:
        return DiscoveryReport(issuer, url, problems=(problem or "unreadable",))
    advertised = document.get("issuer")
    problems = [p for p in (_issuer_problem(issuer, advertised),) if p]
    jwks_uri = document.get("jwks_uri")
    shown_issuer = advertised if isinstance(advertised, str) else None
    if not isinstance(jwks_uri, str) or not jwks_uri:
        problems.append("the discovery document names no jwks_uri")
        return DiscoveryReport(issuer, url, shown_issuer, None, 0, tuple(problems))
    if problems:  # a document that names another issuer is not the issuer's: never follow where it points
        problems.append(f"JWKS {jwks_uri} not fetched: the discovery document is not the issuer's")
        return DiscoveryReport(issuer, url, shown_issuer, jwks_uri, 0, tuple(problems))
    problem = _scheme_problem(jwks_uri, "jwks_uri", limits)
    if problem:
        return DiscoveryReport(issuer, url, shown_issuer, jwks_uri, 0, (*problems, problem))
    keys_answer = _get(jwks_uri, limits)
    problem = _status_problem(keys_answer, "JWKS")
    key_set, parse_problem = (None, None) if problem else _json_object(keys_answer, "JWKS")
    problem = problem or parse_problem
    if key_set is None:
        return DiscoveryReport(issuer, url, shown_issuer, jwks_uri, 0, (*problems, problem or "unreadable"))
    keys = key_set.get("keys")
    if not isinstance(keys, list):
        problems.append(f"JWKS {jwks_uri} has no 'keys' list")
        keys = []
    signing = [k for k in keys if isinstance(k, dict) and k.get("kty") and k.get("use") != "enc"]
    if isinstance(key_set.get("keys"), list) and not signing:
        problems.append(f"JWKS {jwks_uri} holds no signing key ({len(keys)} keys): no token can be verified")
    return DiscoveryReport(issuer, url, shown_issuer, jwks_uri, len(signing), tuple(problems))
