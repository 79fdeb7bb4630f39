"""Serve snapshots as read-only Kubernetes API servers over HTTPS on 127.0.0.1.

:class:`ReplayServer` runs one aiohttp listener per cluster, each on its own
free loopback port, all on one event loop in one background thread, so a
test or the demo can point the official ``kubernetes`` client or ``kubectl``
at a whole fleet without a cluster. This module owns the transport: TLS,
bearer-token auth, the ``Date`` header (with a per-cluster clock offset),
the request log and planted faults. What a path answers is
:class:`~fleetcheck.replay.routes.ClusterAPI`'s business.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import re
import secrets
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from fleetcheck.state.snapshot import load_snapshot, snapshot_name
from fleetcheck.state.snapshot_model import Snapshot

from .certs import SERVED_VALIDITY, TLSMaterial, generate_tls, server_ssl_context
from .faults import Fault, FaultRules, break_json
from .kubeconfig import write_kubeconfig
from .pages import PageCache, TimeRebaser, build_cluster_pages
from .requestlog import RequestLog, RequestRecord
from .routes import ClusterAPI, Reply, continue_page, status_reply

__all__ = ["ReplayServer", "RequestRecord", "SnapshotFolder"]

log = logging.getLogger("fleetcheck.replay")

#: Total bytes of rendered list pages kept across all clusters of one server.
PAGE_CACHE_BYTES = 256 * 1024 * 1024
#: Loop iterations granted after shutdown for transports to finish closing (each close is 2-3 hops).
_CLOSE_HOPS = 10
_EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. You can start a new "
    "list without the continue parameter."
)


class _TrackingServer(web.Server):
    """aiohttp's low-level server, remembering its connections' transports.

    A TLS transport closes in several loop hops and, when the peer does not
    answer ``close_notify``, only after a 30 s timeout; aborting what is
    left at stop is the only way to leave no socket behind. Each transport
    is kept with its socket, whose ``fileno()`` turns -1 once truly closed.
    """

    def __init__(self, handler: Any, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.transports: dict[asyncio.Transport, Any] = {}

    def connection_made(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        super().connection_made(handler, transport)
        self.transports = {t: sock for t, sock in self.transports.items() if sock.fileno() != -1}
        sock = transport.get_extra_info("socket")
        if sock is not None:
            self.transports[transport] = sock

    def abort_all(self) -> None:
        for transport, sock in self.transports.items():
            if sock.fileno() != -1:
                transport.abort()
        self.transports.clear()


@dataclass
class _Listener:
    """One cluster's socket, API and aiohttp runner."""

    name: str
    sock: socket.socket
    port: int
    api: ClusterAPI
    runner: web.ServerRunner | None = None
    server: _TrackingServer | None = None


def _loopback_only(host: str) -> str:
    """The replay server is for this machine only: refuse any address that is not loopback."""
    candidate = "127.0.0.1" if host == "localhost" else host
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        raise ValueError(f"host must be a loopback address such as 127.0.0.1, got {host!r}") from None
    if not address.is_loopback or address.version != 4:
        raise ValueError(f"the replay server binds IPv4 loopback only (127.0.0.1), not {host!r}")
    return candidate


#: seconds the served timestamps may fall behind the server's clock before they are moved (a Lease renews each 10 s)
DRIFT_STEP_S = 10


@dataclass(frozen=True)
class SnapshotFolder:
    """A snapshot folder, named from its ``cluster.yaml`` and read only when the server renders it.

    The server keeps only the rendered bytes, so a fleet of folders is held
    in memory once (as bytes), never also as parsed objects: a
    thousand-cluster benchmark fits where every parsed snapshot would not.
    """

    name: str
    path: Path

    @classmethod
    def at(cls, path: str | Path) -> SnapshotFolder:
        """The folder at ``path``, named as :func:`~fleetcheck.state.snapshot.load_snapshot` names it."""
        return cls(snapshot_name(path), Path(path))

    def load(self) -> Snapshot:
        """Parse the folder (:class:`~fleetcheck.errors.ConfigError` naming the bad file)."""
        return load_snapshot(self.path)


class ReplayServer:
    """Read-only Kubernetes API endpoints for captured clusters, one HTTPS port per cluster.

    Use as a context manager (``with ReplayServer([snap]) as server: ...``)
    or call :meth:`start` and :meth:`stop`. Objects are rendered at
    :meth:`start`, with timestamps rebased to that moment when
    ``rebase_time`` and the snapshot's capture time is known. While the
    server runs, its ``Date`` header follows the real clock, so the served
    timestamps move along with it, in steps of :data:`DRIFT_STEP_S`: a Lease
    renewed "just now" at capture stays at most one step old however long the
    server has been up, as on a live cluster (without it, node clock checks
    would see every Lease fall further behind after a minute of serving).
    """

    def __init__(
        self,
        snapshots: Sequence[Snapshot | SnapshotFolder],
        *,
        token: str | None = None,
        host: str = "127.0.0.1",
        rebase_time: bool = True,
        serve_secrets: bool = False,
        clock_offsets: Mapping[str, float] | None = None,
        request_log_path: Path | None = None,
        start_timeout: float = 60.0,
        plain_http: bool = False,
        time_source: Callable[[], float] = time.time,
        tls_validity: timedelta = SERVED_VALIDITY,
    ) -> None:
        names = [snapshot.name for snapshot in snapshots]
        if not names:
            raise ValueError("the replay server needs at least one snapshot")
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"duplicate cluster names: {', '.join(duplicates)} (each cluster needs its own)")
        #: parsed snapshots (a caller's, kept by it anyway) or folders, parsed one at a time at start and let go
        self._sources = list(snapshots)
        self._names = names
        #: the server's real clock, epoch seconds (a test passes its own to serve "minutes later" at once)
        self._time = time_source
        #: clusters whose timestamps were rebased at start, and so keep following the clock (known once rendered)
        self._rebased: set[str] = set()
        self._drift: tuple[int, TimeRebaser] | None = None
        self._token = token if token is not None else secrets.token_urlsafe(32)
        if not self._token or any(ch.isspace() for ch in self._token):
            raise ValueError("the token must be non-empty and contain no whitespace")
        self._host = _loopback_only(host)
        #: serve without TLS (for tests of FC-TLS-001 only; still loopback-only and token-checked)
        self._plain_http = plain_http
        #: how long the served certificate (and its CA) is valid from start (a test serves one expiring soon)
        self._tls_validity = tls_validity
        self._rebase_time = rebase_time
        self._serve_secrets = serve_secrets
        self._start_timeout = start_timeout
        self._request_log_path = Path(request_log_path) if request_log_path is not None else None
        self._clock_lock = threading.Lock()
        self._clock_offsets: dict[str, float] = {}
        for name, seconds in (clock_offsets or {}).items():
            self._check_cluster(name)
            self._clock_offsets[name] = float(seconds)
        self._faults = FaultRules()
        self._log = RequestLog()
        self._listeners: dict[str, _Listener] = {}
        self._tls: TLSMaterial | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.started_at: datetime | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> ReplayServer:
        """Render the snapshots, open every listener, and return once all accept connections."""
        if self._loop is not None:
            raise RuntimeError("the replay server is already running")
        try:
            self._open()
        except BaseException:
            self.stop()
            raise
        return self

    def _open(self) -> None:
        self.started_at = datetime.fromtimestamp(self._time(), UTC)
        self._tls = generate_tls(self._tls_validity)
        ssl_context = None if self._plain_http else server_ssl_context(self._tls)
        # The cache is one budget for the whole fleet (each cluster's list is mostly asked for once).
        cache_share = max(1024 * 1024, PAGE_CACHE_BYTES // len(self._sources))
        for source in self._sources:
            snapshot = source.load() if isinstance(source, SnapshotFolder) else source
            if snapshot.name != source.name:  # the same rule names both: a folder renamed while starting
                raise ValueError(f"snapshot folder {source} now holds cluster {snapshot.name!r}")
            if self._rebase_time and snapshot.captured is not None:
                self._rebased.add(snapshot.name)
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.bind((self._host, 0))
                sock.listen(512)
                sock.setblocking(False)
            except BaseException:
                sock.close()
                raise
            port = int(sock.getsockname()[1])
            pages = build_cluster_pages(
                snapshot, now=self.started_at, rebase_time=self._rebase_time, serve_secrets=self._serve_secrets
            )
            api = ClusterAPI(pages, f"{self._host}:{port}", PageCache(cache_share))
            self._listeners[snapshot.name] = _Listener(snapshot.name, sock, port, api)
        if self._request_log_path is not None:
            self._log.open_file(self._request_log_path)

        # The start timeout bounds listening, not rendering (which grows with the fleet and is bounded by its size).
        deadline = time.monotonic() + self._start_timeout
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="fleetcheck-replay", daemon=True)
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start_listeners(ssl_context), loop)
        future.result(timeout=max(0.1, deadline - time.monotonic()))
        self._wait_accepting(deadline)
        log.info("replay server up: %s", ", ".join(f"{n}={u}" for n, u in self.urls.items()))

    async def _start_listeners(self, ssl_context: ssl.SSLContext | None) -> None:
        for listener in self._listeners.values():
            server = _TrackingServer(partial(self._handle, listener), access_log=None)
            runner = web.ServerRunner(server, shutdown_timeout=1.0)
            await runner.setup()
            listener.runner, listener.server = runner, server
            site = web.SockSite(runner, listener.sock, ssl_context=ssl_context, backlog=512)
            await site.start()

    def _wait_accepting(self, deadline: float) -> None:
        """Complete a TLS handshake with every listener, bounded by ``deadline`` (no sleeping).

        A handshake, not just a TCP connect: it proves the listener serves
        the certificate the kubeconfig trusts, and a bare connect-and-close
        would make the server log a failed handshake.
        """
        assert self._tls is not None
        client = ssl.create_default_context(cadata=self._tls.ca_pem.decode())
        for listener in self._listeners.values():
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"replay listener for {listener.name} did not accept in time")
                try:
                    with socket.create_connection((self._host, listener.port), timeout=remaining) as raw:
                        if self._plain_http:
                            break
                        with client.wrap_socket(raw, server_hostname=self._host):
                            break
                except ConnectionError:  # refused or reset: not serving yet (a TLS failure is a bug: raise)
                    if self._thread is None or not self._thread.is_alive():
                        raise RuntimeError("the replay server's event loop died while starting") from None

    async def _stop_listeners(self) -> None:
        for listener in self._listeners.values():
            if listener.runner is not None:
                await listener.runner.cleanup()
                listener.runner = None
            if listener.server is not None:
                listener.server.abort_all()
                listener.server = None
        # Closing a transport finishes in callbacks scheduled with call_soon (the TLS layer, then the
        # socket). Let those hops run before the loop stops, or sockets are left for the GC to warn about.
        for _ in range(_CLOSE_HOPS):
            await asyncio.sleep(0)

    def stop(self) -> None:
        """Close every listener and the event loop; safe to call twice."""
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            try:
                asyncio.run_coroutine_threadsafe(self._stop_listeners(), loop).result(timeout=30)
            except Exception:  # stopping must go on whatever a listener did
                log.exception("error while stopping replay listeners")
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=30)
        if loop is not None and not loop.is_running():
            loop.close()
        for listener in self._listeners.values():
            listener.sock.close()
        self._listeners.clear()
        self._log.close_file()
        self._loop = None
        self._thread = None

    def __enter__(self) -> ReplayServer:
        if self._loop is None:
            self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- what callers read -----------------------------------------------------------------------
    @property
    def token(self) -> str:
        """The bearer token every request must carry."""
        return self._token

    @property
    def urls(self) -> dict[str, str]:
        """Cluster name -> ``https://127.0.0.1:PORT`` (empty before :meth:`start`)."""
        scheme = "http" if self._plain_http else "https"
        return {name: f"{scheme}://{self._host}:{item.port}" for name, item in self._listeners.items()}

    @property
    def clusters(self) -> list[str]:
        """Cluster names, in the order given."""
        return list(self._names)

    @property
    def ca_pem(self) -> bytes:
        """The PEM of the CA that signed the server certificate (to verify TLS against)."""
        if self._tls is None:
            raise RuntimeError("the replay server is not started")
        return self._tls.ca_pem

    @property
    def request_log(self) -> list[RequestRecord]:
        """A copy of every request answered so far, oldest first."""
        return self._log.snapshot()

    def clear_request_log(self) -> None:
        """Forget the requests recorded so far (the JSON-lines file, if any, keeps them)."""
        self._log.clear()

    def write_kubeconfig(self, path: Path, *, insecure: bool = False) -> Path:
        """Write a kubeconfig with one context per cluster (named after it), mode 0600."""
        if not self._listeners:
            raise RuntimeError("start the replay server before writing its kubeconfig")
        return write_kubeconfig(Path(path), self.urls, token=self._token, ca_pem=self.ca_pem, insecure=insecure)

    # -- what tests plant --------------------------------------------------------------------------
    def _check_cluster(self, name: str) -> None:
        if name not in self.clusters:
            raise KeyError(f"no replayed cluster named {name!r} (have: {', '.join(self.clusters)})")

    def set_clock_offset(self, name: str, seconds: float) -> None:
        """Make cluster ``name``'s clock (its ``Date`` header, Table ages) run ``seconds`` ahead."""
        self._check_cluster(name)
        with self._clock_lock:
            self._clock_offsets[name] = float(seconds)

    def clock(self, name: str) -> float:
        """Cluster ``name``'s current time, epoch seconds (real time plus its offset)."""
        with self._clock_lock:
            return self._time() + self._clock_offsets.get(name, 0.0)

    def add_fault(
        self,
        cluster: str | None,
        path_regex: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        delay: float | None = None,
        drop: bool = False,
        truncate: bool = False,
        invalid_json: bool = False,
        gone_after_pages: int | None = None,
        times: int | None = None,
    ) -> Fault:
        """Plant a failure for requests of ``cluster`` (None: every cluster) whose path matches.

        ``status`` answers that code with a Status body (and ``Retry-After``
        when given); ``delay`` stalls first; ``drop`` closes the connection
        unanswered; ``truncate`` promises the full Content-Length but sends
        half the body; ``invalid_json`` answers 200 with a broken body;
        ``gone_after_pages`` answers 410 Expired to a ``continue`` request
        once that many pages were served; ``times`` bounds the hits.
        """
        if cluster is not None:
            self._check_cluster(cluster)
        fault = Fault(
            cluster,
            re.compile(path_regex),
            status=status,
            retry_after=retry_after,
            delay=delay,
            drop=drop,
            truncate=truncate,
            invalid_json=invalid_json,
            gone_after_pages=gone_after_pages,
            remaining=times,
        )
        return self._faults.add(fault)

    def clear_faults(self, cluster: str | None = None) -> None:
        """Remove every planted fault (or those of ``cluster``)."""
        self._faults.clear(cluster)

    # -- serving ----------------------------------------------------------------------------------
    def _authorized(self, header: str | None) -> bool:
        if not header:
            return False
        scheme, _, credential = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(credential.strip().encode(), self._token.encode())

    def _answer(self, listener: _Listener, request: web.BaseRequest, now: float) -> Reply:
        if request.method not in ("GET", "HEAD"):
            return status_reply(
                405,
                f"the fleetcheck replay server is read-only: {request.method} is not allowed",
                reason="MethodNotAllowed",
                headers={"Allow": "GET, HEAD"},
            )
        try:
            reply = listener.api.answer(request.path, request.query, request.headers.get("Accept", ""), now)
        except Exception as exc:  # a bug here must answer 500, like a server, not kill the connection
            log.exception("replay server failed on %s %s", request.method, request.path)
            return status_reply(500, f"internal error in the replay server: {type(exc).__name__}: {exc}")
        return self._follow_clock(listener.name, reply)

    def _follow_clock(self, name: str, reply: Reply) -> Reply:
        """``reply`` with its timestamps moved by the time served since start, in whole steps."""
        if name not in self._rebased or reply.status != 200 or self.started_at is None:
            return reply
        steps = int((self._time() - self.started_at.timestamp()) // DRIFT_STEP_S)
        if steps <= 0 or not reply.content_type.startswith("application/json"):
            return reply
        drift = steps * DRIFT_STEP_S
        current = self._drift
        if current is None or current[0] != drift:  # one rebaser per step; its memo serves every request
            current = (drift, TimeRebaser(drift))
            self._drift = current
        return replace(reply, body=current[1](reply.body))

    def _record(self, listener: _Listener, request: web.BaseRequest, status: int, size: int) -> None:
        self._log.add(
            RequestRecord(
                listener.name,
                request.method,
                request.path,
                request.raw_path.partition("?")[2],
                status,
                size,
                time.time(),
            )
        )

    def _headers(self, reply: Reply, now: float) -> dict[str, str]:
        return {
            "Date": formatdate(now, usegmt=True),
            "Content-Type": reply.content_type,
            "Cache-Control": "no-cache, private",
            **reply.headers,
        }

    async def _handle(self, listener: _Listener, request: web.BaseRequest) -> web.StreamResponse:
        """Answer one request: auth, planted faults, then the API."""
        if not self._authorized(request.headers.get("Authorization")):
            reply = status_reply(401, "Unauthorized")
            return self._respond(listener, request, reply)
        pages_served = continue_page(request.query) if "continue" in request.query else None
        fault = self._faults.take(listener.name, request.path, pages_served)
        if fault is None:
            return self._respond(listener, request, self._answer(listener, request, self.clock(listener.name)))
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.drop:
            self._record(listener, request, 0, 0)
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=500)  # never sent: aiohttp sees the closed transport and gives up
        now = self.clock(listener.name)
        if fault.status is not None:
            headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
            reply = status_reply(fault.status, f"fault injected by the replay server ({fault.status})", headers=headers)
        elif fault.gone_after_pages is not None:
            reply = status_reply(410, _EXPIRED, reason="Expired")
        else:
            reply = self._answer(listener, request, now)
        if fault.invalid_json:
            reply = replace(reply, status=200, body=break_json(reply.body), content_type="application/json")
        if fault.truncate:
            return await self._truncated(listener, request, reply, now)
        return self._respond(listener, request, reply, now)

    def _respond(
        self, listener: _Listener, request: web.BaseRequest, reply: Reply, now: float | None = None
    ) -> web.Response:
        now = self.clock(listener.name) if now is None else now
        size = 0 if request.method == "HEAD" else len(reply.body)
        self._record(listener, request, reply.status, size)
        return web.Response(status=reply.status, body=reply.body, headers=self._headers(reply, now))

    async def _truncated(
        self, listener: _Listener, request: web.BaseRequest, reply: Reply, now: float
    ) -> web.StreamResponse:
        """Promise the whole body, send half, then close: the client sees an incomplete read."""
        half = reply.body[: len(reply.body) // 2]
        self._record(listener, request, reply.status, len(half))
        response = web.StreamResponse(status=reply.status, headers=self._headers(reply, now))
        response.content_length = len(reply.body)
        await response.prepare(request)
        await response.write(half)
        if request.transport is not None:
            request.transport.close()
        return response
