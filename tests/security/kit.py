"""Shared pieces of the security tests: scans through pytester, trap listeners, scripted servers, raw HTTPS.

Every scan here runs the real check modules with the same pytest settings
``fleetcheck run`` uses (``fleetcheck/pytest-run.ini``), against snapshot
folders or replay servers, so what is proved is what a user runs.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import fleetcheck
from fleetcheck.replay import ReplayServer
from fleetcheck.replay.certs import TLSMaterial, server_ssl_context

REPO = Path(__file__).resolve().parents[2]
CHECKS = REPO / "checks"
RUN_INI = Path(fleetcheck.__file__).resolve().parent / "pytest-run.ini"


def check_module(name: str) -> Path:
    """``checks/test_<name>.py``."""
    return CHECKS / f"test_{name}.py"


def scan_args(targets: list[Path], report_dir: Path, *extra: str) -> list[str]:
    """pytest arguments for a scan, as ``fleetcheck run`` builds them (its ini, its rootdir)."""
    settings = ["-c", str(RUN_INI), "--rootdir", str(REPO), "-p", "no:benchmark", "--report-dir", str(report_dir)]
    return [*map(str, targets), *settings, *extra]


def scan(pytester: pytest.Pytester, targets: list[Path], report_dir: Path, *extra: str) -> pytest.RunResult:
    """Run a scan in-process and return pytest's result (reports land in ``report_dir``)."""
    return pytester.runpytest_inprocess(*scan_args(targets, report_dir, *extra))


def records(report_dir: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """``results.json`` records by (cluster, code)."""
    doc = json.loads((report_dir / "results.json").read_text(encoding="utf-8"))
    return {(r["cluster"], r["code"]): r for r in doc["results"]}


def fleet_file(path: Path, clusters: list[dict[str, Any]], **top: Any) -> Path:
    """Write a fleet file listing ``clusters`` (plus top-level fields such as ``defaults``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({**top, "clusters": clusters}, sort_keys=False), encoding="utf-8")
    return path


def edit_kubeconfig(path: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    """Load, edit and write back a kubeconfig."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(doc)
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def raw_https_get(server: ReplayServer, url: str, headers: dict[str, str], method: str = "GET") -> int:
    """Status of one request to a replay listener, verifying TLS against its CA (no client library in between)."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    context = ssl.create_default_context(cadata=server.ca_pem.decode())
    connection = http.client.HTTPSConnection(parts.hostname or "", parts.port, timeout=10, context=context)
    try:
        connection.request(method, parts.path or "/", headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


class Trap:
    """A TCP listener and a UDP socket on one loopback port that only count who knocks.

    It answers nothing, so a probe that reaches it ends in a timeout; the
    counts are the proof of whether anything was sent there at all.
    """

    def __init__(self) -> None:
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.bind(("127.0.0.1", 0))
        self.port = int(self.tcp.getsockname()[1])
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.tcp.listen(64)
        self.tcp.settimeout(0.05)
        self.udp.settimeout(0.05)
        self.connections = 0
        self.datagrams = 0
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._accept, daemon=True),
            threading.Thread(target=self._receive, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    @property
    def address(self) -> str:
        """``127.0.0.1:PORT``."""
        return f"127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.tcp.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            self._held.append(conn)  # held open, never answered: the client waits for its own timeout

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                self.udp.recvfrom(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            self.datagrams += 1

    def close(self) -> None:
        """Stop counting and close every socket."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2)
        for conn in self._held:
            conn.close()
        self.tcp.close()
        self.udp.close()


class ScriptedServer:
    """A loopback server (TLS or plain) whose connections are answered by ``script(sock, stats)``.

    ``stats["sent"]`` counts the bytes the script managed to send, so a test
    can tell how much of a 50 MB answer a probe actually pulled.
    """

    def __init__(self, script: Callable[[socket.socket, dict[str, int]], None], tls: TLSMaterial | None) -> None:
        self.script = script
        self.context = server_ssl_context(tls) if tls is not None else None
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.05)
        self.port = int(self.sock.getsockname()[1])
        self.stats = {"connections": 0, "sent": 0}
        self.first_bytes: list[bytes] = []
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.stats["connections"] += 1
            self._conns.append(conn)
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            if self.context is None:
                self.first_bytes.append(conn.recv(4096))
                self.script(conn, self.stats)
                return
            self.first_bytes.append(conn.recv(8, socket.MSG_PEEK))
            # handshake by hand: a wrap_socket() whose handshake fails leaves an unclosed SSLSocket behind
            tls_conn = self.context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
            try:
                tls_conn.do_handshake()
                tls_conn.recv(4096)
                self.script(tls_conn, self.stats)
            finally:
                tls_conn.close()
        except (OSError, ssl.SSLError):
            return

    def close(self) -> None:
        """Stop serving and close every connection."""
        self._stop.set()
        self._thread.join(timeout=2)
        for conn in self._conns:
            conn.close()
        self.sock.close()


def run_at_debug(
    fleet: Path, reports: Path, log_file: Path, *extra: str, cwd: Path, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``fleetcheck run`` in its own process with DEBUG logging to the terminal and to ``log_file``.

    The secrets tests grep everything this leaves: stdout, stderr, the log file and the reports.
    The machine's KUBECONFIG and PYTEST_ADDOPTS are left out, so only the fleet file decides the scan.
    """
    env = {k: v for k, v in os.environ.items() if k not in {"KUBECONFIG", "PYTEST_ADDOPTS"}}
    command = [sys.executable, "-m", "fleetcheck.cli", "run", "--fleet", str(fleet), "--report-dir", str(reports)]
    command += ["-p", "no:benchmark", *extra, "-o", "log_cli=true", "--log-level=DEBUG"]
    command += [f"--log-file={log_file}", "--log-file-level=DEBUG"]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
