"""Real DNS servers on free 127.0.0.1 ports: dnsmasq answering fixed records, and one that never answers.

dnsmasq (Debian ``dnsmasq-base``) runs in the foreground with no upstreams,
no /etc/hosts and no pid file, answering only the ``--address`` records it
is given (anything else is REFUSED), so two instances can disagree about a
name the way two clusters' DNS would. Readiness is polled with DNS queries
until a deadline; nothing sleeps. :class:`SilentDnsEndpoint` is a bound UDP
socket whose thread reads and drops every query: a resolver that times out.

Loaded by the DNS tests' conftest by file path (the suite runs with
``--import-mode=importlib``, so ``tests`` is not importable).
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import pytest

from tests.servers.process import stop_process

DNSMASQ = "/usr/sbin/dnsmasq"
START_DEADLINE = 5.0
STOP_DEADLINE = 5.0


def missing_dnsmasq() -> str | None:
    """Why dnsmasq tests cannot run here (None when they can)."""
    if not os.access(DNSMASQ, os.X_OK):
        return f"{DNSMASQ} not installed (Debian package dnsmasq-base)"
    return None


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 a moment ago (dnsmasq binds both)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port


class DnsmasqServer:
    """dnsmasq on ``127.0.0.1:port`` answering ``records`` (name -> addresses)."""

    def __init__(self, workdir: Path, records: Mapping[str, list[str]]) -> None:
        self.workdir = workdir
        self.records = dict(records)
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log = workdir / "dnsmasq.log"

    @property
    def endpoint(self) -> str:
        """``127.0.0.1:PORT``, as a fleet file's ``facts.dns_endpoint``."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> DnsmasqServer:
        """Start dnsmasq and return once it answers its first record (or raise with its log)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        args = [
            DNSMASQ,
            "--no-resolv",
            "--no-hosts",
            "--bind-interfaces",
            "--listen-address=127.0.0.1",
            f"--port={self.port}",
            "--keep-in-foreground",
            "--pid-file=",
            "--user=root",
            "--log-facility=-",
        ]
        for name, addresses in self.records.items():
            args.extend(f"--address=/{name}/{address}" for address in addresses)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        name = next(iter(self.records), "ready.invalid")
        query = dns.message.make_query(name, "A")
        deadline = time.monotonic() + START_DEADLINE
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"dnsmasq exited with {self.process.returncode}: {self.log.read_text()[-2000:]}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"dnsmasq did not answer on {self.endpoint}: {self.log.read_text()[-2000:]}")
            try:
                dns.query.udp(query, "127.0.0.1", port=self.port, timeout=min(0.05, remaining))
                return
            except (dns.exception.Timeout, OSError):
                continue

    def stop(self) -> None:
        """SIGTERM by PID, then SIGKILL after the deadline; safe to call twice."""
        process, self.process = self.process, None
        stop_process(process, STOP_DEADLINE)


class SilentDnsEndpoint:
    """A UDP socket on 127.0.0.1 that reads every query and answers none: a resolver that times out."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.dropped = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._drain, name="silent-dns", daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        """``127.0.0.1:PORT``."""
        return f"127.0.0.1:{self.port}"

    def _drain(self) -> None:
        self.sock.settimeout(0.05)
        while not self._stopping.is_set():
            try:
                self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            self.dropped += 1

    def stop(self) -> None:
        """Stop the reader and close the socket."""
        self._stopping.set()
        self._thread.join(timeout=STOP_DEADLINE)
        self.sock.close()


@pytest.fixture
def dnsmasq_server(tmp_path: Path) -> Iterator[Callable[[Mapping[str, list[str]]], DnsmasqServer]]:
    """A factory: ``dnsmasq_server({"probe.example.com": ["10.1.2.3"]})`` (skips when dnsmasq is missing)."""
    started: list[DnsmasqServer] = []

    def start(records: Mapping[str, list[str]]) -> DnsmasqServer:
        reason = missing_dnsmasq()
        if reason:
            pytest.skip(reason)
        server = DnsmasqServer(tmp_path / f"dnsmasq-{len(started)}", records)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def silent_dns() -> Iterator[SilentDnsEndpoint]:
    """A DNS endpoint that never answers."""
    endpoint = SilentDnsEndpoint()
    yield endpoint
    endpoint.stop()
