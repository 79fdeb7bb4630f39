"""Stopping a test server process by its PID: SIGTERM, then SIGKILL after a deadline."""

from __future__ import annotations

import signal
import subprocess

__all__ = ["stop_process"]


def stop_process(process: subprocess.Popen[bytes] | None, deadline: float = 10.0) -> None:
    """Terminate ``process`` (the one a test server started) and reap it; a no-op when it already ended."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=deadline)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=deadline)
