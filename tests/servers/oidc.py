"""Real OIDC discovery endpoints on 127.0.0.1 over TLS, for the FC-OIDC-003 probe and check tests.

- :func:`make_tls`: a throw-away CA and a server certificate for ``127.0.0.1``
  (IP SAN) and ``localhost``, made with ``cryptography`` and written as PEM.
- :class:`ProviderServer`: the real OpenID provider of the PyPI package
  ``oidc-provider-mock`` (a Flask app: discovery, JWKS with its signing key,
  authorize, token ...) served by werkzeug over TLS. It is also mounted under
  :data:`REALM_PATH`, where its discovery still names the root URL as the
  issuer: the classic "issuer path" mismatch of a realm-based IdP behind a
  proxy, produced by the real provider.
- :class:`StaticIssuer`: a tiny aiohttp TLS server answering fixed documents,
  for what the provider cannot be made to do (an empty JWKS, a huge body, a
  5xx, a stall, a redirect elsewhere).

Everything binds 127.0.0.1 on a free port, is ready when the constructor's
``start`` returns (polled with a deadline, no sleeps), and stops at ``stop``.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import ssl
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.servers.tls import write_tls

REALM_PATH = "/realms/platform"
LOOPBACK = "127.0.0.1"
START_DEADLINE_S = 20.0


@dataclass(frozen=True)
class IdpTLS:
    """PEM files of a CA and of the server certificate it signed."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))


def make_tls(folder: Path) -> IdpTLS:
    """A CA and a server certificate for 127.0.0.1 and localhost, valid for an hour."""
    return IdpTLS(*write_tls(folder))


def wait_until_serving(url: str, tls: IdpTLS, path: str = "/.well-known/openid-configuration") -> None:
    """Poll ``GET url+path`` until it answers 200, within :data:`START_DEADLINE_S` (no fixed sleeps)."""
    deadline = time.monotonic() + START_DEADLINE_S
    port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
    last: Exception | None = None
    while time.monotonic() < deadline:
        connection = http.client.HTTPSConnection(LOOPBACK, port, timeout=2, context=tls.client_context())
        try:
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return
        except OSError as exc:
            last = exc
        finally:
            connection.close()
    raise TimeoutError(f"{url} did not answer within {START_DEADLINE_S}s: {last}")


class ProviderServer:
    """``oidc-provider-mock`` over TLS on 127.0.0.1, at ``/`` and under :data:`REALM_PATH`."""

    def __init__(self, tls: IdpTLS) -> None:
        from werkzeug.middleware.dispatcher import DispatcherMiddleware
        from werkzeug.serving import make_server

        with warnings.catch_warnings(record=True):
            # authlib, which the provider uses, warns about its own deprecated modules on import (and forces
            # its warnings to "always" while doing so): record them here, where nobody reads them
            try:
                import oidc_provider_mock
            except ImportError as exc:  # a test dependency: say how to get it rather than skip silently
                raise RuntimeError(
                    "the FC-OIDC-003 tests need the real OIDC provider: pip install 'oidc-provider-mock~=0.3.4' "
                    "(listed in the [test] extra)"
                ) from exc

            provider = oidc_provider_mock.app()
        self.tls = tls
        wsgi = DispatcherMiddleware(provider, {REALM_PATH: provider})
        self._server = make_server(LOOPBACK, 0, wsgi, threaded=True, ssl_context=tls.server_context())
        self.url = f"https://{LOOPBACK}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def start(self) -> ProviderServer:
        self._thread.start()
        wait_until_serving(self.url, self.tls)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


Handler = Callable[[web.Request], Any]


@dataclass
class StaticIssuer:
    """An aiohttp TLS server whose routes answer whatever a test sets in ``documents``.

    ``documents`` maps a path to (status, JSON body or bytes, headers).
    Paths it does not know answer 404. ``{url}`` in a JSON string is
    replaced with the server's own URL. ``stall`` paths never answer.
    """

    tls: IdpTLS
    documents: dict[str, tuple[int, Any, dict[str, str]]] = field(default_factory=dict)
    stall: set[str] = field(default_factory=set)
    hits: list[str] = field(default_factory=list)
    url: str = ""

    def __post_init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind((LOOPBACK, 0))
        self.url = f"https://{LOOPBACK}:{self._sock.getsockname()[1]}"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self._release = asyncio.Event()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.hits.append(request.path)
        if request.path in self.stall:
            await self._release.wait()
        status, body, headers = self.documents.get(request.path, (404, {"error": "not found"}, {}))
        if isinstance(body, bytes):
            return web.Response(status=status, body=body, headers=headers, content_type="application/json")
        text = json.dumps(body).replace("{url}", self.url)
        return web.Response(status=status, text=text, headers=headers, content_type="application/json")

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.SockSite(self._runner, self._sock, ssl_context=self.tls.server_context())
        await site.start()

    async def _stop(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def start(self) -> StaticIssuer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=START_DEADLINE_S)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=START_DEADLINE_S)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()
        self._sock.close()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


# -- fixtures (imported by the conftest of the tests that use them) ------------------------------------


@pytest.fixture(scope="module")
def oidc_tls(tmp_path_factory: pytest.TempPathFactory) -> IdpTLS:
    return make_tls(tmp_path_factory.mktemp("oidc-tls"))


@pytest.fixture(scope="module")
def oidc_provider(oidc_tls: IdpTLS) -> Iterator[ProviderServer]:
    server = ProviderServer(oidc_tls).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def static_issuer(oidc_tls: IdpTLS) -> Iterator[StaticIssuer]:
    """An issuer whose discovery is right but whose key set is empty; tests add more paths."""
    server = StaticIssuer(oidc_tls)
    server.documents["/.well-known/openid-configuration"] = (
        200,
        {"issuer": "{url}", "jwks_uri": "{url}/keys", "response_types_supported": ["code"]},
        {},
    )
    server.documents["/keys"] = (200, {"keys": []}, {})
    server.start()
    try:
        yield server
    finally:
        server.stop()
