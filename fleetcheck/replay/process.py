"""Run the replay server in a child process, so its CPU is measured apart from the scan's.

A benchmark that scanned a fleet served from its own process could not tell
the scanner's cost from the server's; :class:`ReplayProcess` starts
``python -m fleetcheck.replay`` instead, waits (bounded) for its ready file,
and stops it by PID.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson

from .cli import TOKEN_ENV

__all__ = ["ReplayProcess"]

_PACKAGE_ROOT = Path(__file__).resolve().parents[2]


class ReplayProcess:
    """``python -m fleetcheck.replay`` in a subprocess; a context manager.

    After :meth:`start`, :attr:`urls`, :attr:`kubeconfig`, :attr:`token` and
    :attr:`pid` are known. The token is handed to the child in its
    environment, never on its command line (which any local user can read).
    """

    def __init__(
        self,
        dirs: Sequence[str | Path],
        kubeconfig_out: str | Path,
        *,
        token: str | None = None,
        clock_offsets: Mapping[str, float] | None = None,
        request_log: str | Path | None = None,
        serve_secrets: bool = False,
        rebase_time: bool = True,
        ready_timeout: float = 120.0,
        python: str = sys.executable,
    ) -> None:
        self.dirs = [Path(d) for d in dirs]
        self.kubeconfig = Path(kubeconfig_out)
        self.token = token or secrets.token_urlsafe(32)
        self.clock_offsets = dict(clock_offsets or {})
        self.request_log = Path(request_log) if request_log is not None else None
        self.serve_secrets = serve_secrets
        self.rebase_time = rebase_time
        self.ready_timeout = ready_timeout
        self.python = python
        self.urls: dict[str, str] = {}
        self.ready: dict[str, Any] = {}
        self._proc: subprocess.Popen[bytes] | None = None
        self._workdir: Path | None = None

    @property
    def pid(self) -> int:
        """The child's process id."""
        if self._proc is None:
            raise RuntimeError("the replay process is not started")
        return self._proc.pid

    def command(self, ready_file: Path) -> list[str]:
        """The child's command line (no token in it)."""
        cmd = [
            self.python,
            "-m",
            "fleetcheck.replay",
            *map(str, self.dirs),
            "--kubeconfig-out",
            str(self.kubeconfig),
            "--ready-file",
            str(ready_file),
        ]
        for name, seconds in self.clock_offsets.items():
            cmd += ["--clock-offset", f"{name}={seconds:g}"]
        if self.request_log is not None:
            cmd += ["--request-log", str(self.request_log)]
        if self.serve_secrets:
            cmd.append("--serve-secrets")
        if not self.rebase_time:
            cmd.append("--no-rebase-time")
        return cmd

    def start(self) -> ReplayProcess:
        """Start the child and wait until it is serving (its ready file appears) or fail with its stderr."""
        if self._proc is not None:
            raise RuntimeError("the replay process is already running")
        self._workdir = Path(tempfile.mkdtemp(prefix="fleetcheck-replay-"))
        ready_file = self._workdir / "ready.json"
        env = dict(os.environ)
        env[TOKEN_ENV] = self.token
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_PACKAGE_ROOT), env.get("PYTHONPATH")]))
        with (self._workdir / "stderr.log").open("wb") as stderr:
            self._proc = subprocess.Popen(
                self.command(ready_file),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                env=env,
            )
        deadline = time.monotonic() + self.ready_timeout
        try:
            while not ready_file.exists():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"replay process not ready after {self.ready_timeout:g}s: {self._stderr()}")
                try:
                    code = self._proc.wait(timeout=min(0.05, remaining))
                except subprocess.TimeoutExpired:
                    continue
                raise RuntimeError(f"replay process exited with {code}: {self._stderr()}")
            self.ready = orjson.loads(ready_file.read_bytes())
            self.urls = dict(self.ready["urls"])
        except BaseException:
            self.stop()
            raise
        return self

    def _stderr(self) -> str:
        path = self._workdir / "stderr.log" if self._workdir else None
        if path is None or not path.exists():
            return "(no output)"
        text = path.read_text(errors="replace").strip()
        return " | ".join(text.splitlines()[-5:]) or "(no output)"

    def stop(self, timeout: float = 15.0) -> int | None:
        """Stop the child by PID (SIGTERM, then SIGKILL after ``timeout``); returns its exit code."""
        proc, code = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=timeout)
            code = proc.returncode
            self._proc = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
        return code

    def __enter__(self) -> ReplayProcess:
        if self._proc is None:
            self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
