"""Real registry servers on loopback for the FC-IMG-004 tests.

:class:`RegistryServer` runs Debian's ``docker-registry`` (the CNCF
distribution registry v2.8, ``/usr/bin/docker-registry``) with a config the
test writes: filesystem storage in the test's temporary folder, listening on
``127.0.0.1`` only, over TLS with a certificate made here (a throw-away CA
the probe is told to trust) or over plain HTTP, optionally with the "silly"
auth that answers ``401`` to anonymous requests, as a private registry does.

:class:`StubServer` is not a registry: an HTTP server answering every path
with one status (404 from a web server where a registry was expected), or a
socket that accepts connections and never answers (a blackholed load
balancer), for the failure cases.

Nothing waits by sleeping: readiness is polled (``GET /v2/``) against a deadline.
Ports are never guessed: the registry binds port 0 and logs the port it got,
the stubs bind port 0 themselves, so concurrent test runs cannot collide.
Loaded by path from the tests' conftest (the suite runs with
``--import-mode=importlib``, where test folders are not importable).
"""

from __future__ import annotations

import contextlib
import http.client
import http.server
import os
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import yaml

from tests.servers.process import stop_process
from tests.servers.tls import write_tls

REGISTRY_BINARY = Path("/usr/bin/docker-registry")
LOOPBACK = "127.0.0.1"
_LISTENING = re.compile(r'msg="listening on 127\.0\.0\.1:(\d+)')


@dataclass(frozen=True)
class TLSFiles:
    """PEM files: the CA to trust, and the server certificate and key it signed."""

    ca: Path
    cert: Path
    key: Path


def make_tls(folder: Path) -> TLSFiles:
    """A fresh CA and a server certificate for 127.0.0.1, valid for an hour, written under ``folder``."""
    return TLSFiles(*write_tls(folder))


def registry_available() -> bool:
    """Whether Debian's docker-registry is installed here."""
    return REGISTRY_BINARY.is_file() and os.access(REGISTRY_BINARY, os.X_OK)


class RegistryServer:
    """``docker-registry serve`` on ``127.0.0.1:PORT`` with the test's own config; a context manager."""

    def __init__(
        self,
        folder: Path,
        *,
        tls: TLSFiles | None = None,
        auth: bool = False,
        start_timeout: float = 20.0,
    ) -> None:
        self.folder = folder
        self.tls = tls
        self.auth = auth
        self.start_timeout = start_timeout
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = folder / "registry.log"

    @property
    def address(self) -> str:
        """``127.0.0.1:PORT``, as an image reference or a profile names the registry."""
        return f"{LOOPBACK}:{self.port}"

    def _config(self) -> dict[str, object]:
        # port 0: the registry binds a free port itself and logs it, so no other process can take it in between
        http_section: dict[str, object] = {"addr": f"{LOOPBACK}:0", "secret": "fleetcheck-test-only"}
        if self.tls is not None:
            http_section["tls"] = {"certificate": str(self.tls.cert), "key": str(self.tls.key)}
        config: dict[str, object] = {
            "version": 0.1,
            "log": {"level": "info", "accesslog": {"disabled": True}},
            "storage": {"filesystem": {"rootdirectory": str(self.folder / "data")}},
            "http": http_section,
        }
        if self.auth:
            config["auth"] = {"silly": {"realm": f"https://{LOOPBACK}/token", "service": "fleetcheck-test"}}
        return config

    def start(self) -> RegistryServer:
        """Start it and return once ``GET /v2/`` answers on the port it logged."""
        self.folder.mkdir(parents=True, exist_ok=True)
        config_path = self.folder / "config.yml"
        config_path.write_text(yaml.safe_dump(self._config()))
        self.log_path.write_bytes(b"")
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(REGISTRY_BINARY), "serve", str(config_path)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        try:
            self._wait_ready(time.monotonic() + self.start_timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def status_of_v2(self, timeout: float = 2.0) -> int:
        """``GET /v2/`` status, trusting the test CA (raises OSError while the server is not up)."""
        if self.tls is not None:
            context = ssl.create_default_context(cafile=str(self.tls.ca))
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                LOOPBACK, self.port, timeout=timeout, context=context
            )
        else:
            conn = http.client.HTTPConnection(LOOPBACK, self.port, timeout=timeout)
        try:
            conn.request("GET", "/v2/")
            return conn.getresponse().status
        finally:
            conn.close()

    def _wait_ready(self, deadline: float) -> None:
        """Poll, against ``deadline``, for the logged port and then for ``GET /v2/`` to answer."""
        assert self.process is not None
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"docker-registry exited with {self.process.returncode}: {self._log_tail()}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(f"docker-registry not answering within {self.start_timeout}s: {self._log_tail()}")
            if not self.port:
                found = _LISTENING.search(self._log_tail(4096))
                self.port = int(found.group(1)) if found else 0
            if self.port:
                try:
                    if self.status_of_v2(timeout=min(1.0, remaining)) in (200, 401):
                        return
                except (OSError, http.client.HTTPException):
                    pass
            # wait on the process itself (returns at once if it dies), then poll again
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=min(0.02, max(remaining, 0.001)))

    def _log_tail(self, size: int = 800) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-size:].strip()
        except OSError:
            return ""

    def stop(self) -> None:
        """Terminate the process this object started (by its pid), and reap it."""
        process, self.process = self.process, None
        stop_process(process, 10)

    def __enter__(self) -> RegistryServer:
        return self.start() if self.process is None else self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
        shutil.rmtree(self.folder / "data", ignore_errors=True)


class _FixedStatusHandler(http.server.BaseHTTPRequestHandler):
    status = 404

    def do_GET(self) -> None:
        body = b"<html>not a registry</html>"
        self.send_response(self.status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests read statuses, not logs."""


class StubServer:
    """Plain HTTP answering every GET with ``status``; or ``silent``: a socket that never answers; or
    ``refusing``: a port bound but not listening, so connections are refused (and nobody else can take it);
    or ``reply``: raw bytes written to every connection after reading what the client sent first.
    """

    def __init__(
        self, status: int = 404, *, silent: bool = False, refusing: bool = False, reply: bytes | None = None
    ) -> None:
        self.status = status
        self.silent = silent
        self.refusing = refusing
        self.reply = reply
        self._httpd: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self.port = 0

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def __enter__(self) -> StubServer:
        if self.refusing:
            self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._sock.bind((LOOPBACK, 0))
            self.port = int(self._sock.getsockname()[1])
            return self
        if self.reply is not None:
            self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._sock.bind((LOOPBACK, 0))
            self._sock.listen(8)
            self.port = int(self._sock.getsockname()[1])
            self._thread = threading.Thread(target=self._answer_raw, args=(self._sock,), name="stub-raw", daemon=True)
            self._thread.start()
            return self
        if self.silent:
            # listening, never accepting: connects complete (backlog) and then nothing is ever said
            self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._sock.bind((LOOPBACK, 0))
            self._sock.listen(8)
            self.port = int(self._sock.getsockname()[1])
            return self
        handler = type("Handler", (_FixedStatusHandler,), {"status": self.status})
        self._httpd = http.server.ThreadingHTTPServer((LOOPBACK, 0), handler)
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="stub-http", daemon=True
        )
        self._thread.start()
        return self

    def _answer_raw(self, listener: socket.socket) -> None:
        assert self.reply is not None
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:  # the listener was closed: done
                return
            with conn:
                conn.settimeout(2)
                with contextlib.suppress(OSError):
                    conn.recv(65536)
                    conn.sendall(self.reply)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.reply is not None and self._sock is not None:
            # wake the accept() so the thread sees the closed listener
            self._sock.shutdown(socket.SHUT_RDWR)
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._sock is not None:
            self._sock.close()
