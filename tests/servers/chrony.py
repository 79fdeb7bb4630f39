"""A real NTP server on a free 127.0.0.1 port: Debian's chronyd, optionally with a planted clock offset.

chronyd serves its own clock (``local stratum 8``) without touching the
system clock (``-x``), with no command socket, no pid file clash and no
privilege drop, in the foreground so the test owns the process. The offset
comes from libfaketime (the library ``/usr/bin/faketime`` preloads), loaded
directly with ``LD_PRELOAD`` so that the PID we hold is chronyd's own and not
a wrapper's. Readiness is polled with NTP queries until a deadline; nothing
sleeps.

Loaded by the clock tests' conftest by file path (the suite runs with
``--import-mode=importlib``, so ``tests`` is not importable).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import ntplib
import pytest

from tests.servers.process import stop_process

CHRONYD = "/usr/sbin/chronyd"
FAKETIME = "/usr/bin/faketime"
START_DEADLINE = 5.0
STOP_DEADLINE = 5.0


def libfaketime_path() -> str | None:
    """The libfaketime the ``faketime`` wrapper preloads (Debian: /usr/lib/<arch>/faketime/)."""
    if shutil.which("faketime") is None and not Path(FAKETIME).exists():
        return None
    for pattern in ("/usr/lib/*/faketime/libfaketime.so.1", "/usr/lib/faketime/libfaketime.so.1"):
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    return None


def missing_tools(offset: bool) -> str | None:
    """Why chrony tests cannot run here (None when they can)."""
    if not os.access(CHRONYD, os.X_OK):
        return f"{CHRONYD} not installed (Debian package chrony)"
    if os.geteuid() != 0:
        return "chronyd must run as root to serve NTP without dropping privileges"
    if offset and libfaketime_path() is None:
        return "faketime not installed (Debian package faketime) for a planted clock offset"
    return None


def free_udp_port() -> int:
    """A UDP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ChronyServer:
    """chronyd serving NTP on ``127.0.0.1:port``, its clock ``offset`` seconds off the system's."""

    def __init__(self, workdir: Path, offset: float = 0.0) -> None:
        self.workdir = workdir
        self.offset = offset
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log = workdir / "chronyd.log"

    @property
    def address(self) -> str:
        """``127.0.0.1:PORT`` as a profile's ``probes.ntp_servers`` entry."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> ChronyServer:
        """Start chronyd and return once it answers an NTP query (or raise with its log)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_udp_port()
        conf = self.workdir / "chrony.conf"
        conf.write_text(
            "\n".join(
                [
                    f"port {self.port}",
                    "bindaddress 127.0.0.1",
                    "local stratum 8",
                    "cmdport 0",
                    "bindcmdaddress /",
                    "allow 127.0.0.1",
                    f"pidfile {self.workdir / 'chronyd.pid'}",
                    "",
                ]
            ),
            encoding="utf-8",
        )
        env = dict(os.environ)
        if self.offset:
            library = libfaketime_path()
            if library is None:
                raise RuntimeError("libfaketime not found")
            env["LD_PRELOAD"] = library
            env["FAKETIME"] = f"{self.offset:+g}s"
            env["FAKETIME_DONT_RESET"] = "1"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [CHRONYD, "-d", "-x", "-u", "root", "-f", str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_DEADLINE
        client = ntplib.NTPClient()
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"chronyd exited with {self.process.returncode}: {self.log.read_text()[-2000:]}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"chronyd did not answer on {self.address}: {self.log.read_text()[-2000:]}")
            try:
                client.request("127.0.0.1", version=3, port=self.port, timeout=min(0.05, remaining))
                return
            except (ntplib.NTPException, OSError):
                continue

    def stop(self) -> None:
        """SIGTERM by PID, then SIGKILL after the deadline; safe to call twice."""
        process, self.process = self.process, None
        stop_process(process, STOP_DEADLINE)


@pytest.fixture
def chrony_server(tmp_path: Path) -> Iterator[Callable[[float], ChronyServer]]:
    """A factory: ``chrony_server(offset)`` starts chronyd (skips when chrony/faketime are missing)."""
    started: list[ChronyServer] = []

    def start(offset: float = 0.0) -> ChronyServer:
        reason = missing_tools(offset != 0)
        if reason:
            pytest.skip(reason)
        server = ChronyServer(tmp_path / f"chrony-{len(started)}", offset)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()
