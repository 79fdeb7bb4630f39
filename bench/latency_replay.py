"""The replay server with a network round trip added to every request, for ``fleet_scan.py --latency-ms``.

On loopback the replay server answers in microseconds, which hides what
listing clusters concurrently buys against real API servers tens of
milliseconds away. This wrapper runs :class:`fleetcheck.replay.ReplayServer`
exactly as ``python -m fleetcheck.replay`` does, plus a delay fault on
every path of every cluster (an ``asyncio.sleep`` before each answer, so
concurrent requests wait concurrently). :class:`LatencyReplayProcess` is
:class:`fleetcheck.replay.ReplayProcess` starting this script instead.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

import orjson

from fleetcheck.replay import ReplayProcess
from fleetcheck.replay.cli import TOKEN_ENV
from fleetcheck.replay.kubeconfig import write_private_file
from fleetcheck.replay.server import ReplayServer
from fleetcheck.state.snapshot import load_snapshot

__all__ = ["LatencyReplayProcess", "main"]


class LatencyReplayProcess(ReplayProcess):
    """A :class:`ReplayProcess` whose server waits ``latency_ms`` before answering each request."""

    def __init__(
        self,
        dirs: Sequence[Path],
        kubeconfig_out: Path,
        *,
        latency_ms: float,
        request_log: Path | None = None,
        ready_timeout: float = 900.0,
    ) -> None:
        super().__init__(dirs, kubeconfig_out, request_log=request_log, ready_timeout=ready_timeout)
        self.latency_ms = latency_ms

    def command(self, ready_file: Path) -> list[str]:
        """The wrapper script with the usual arguments and the latency."""
        cmd = super().command(ready_file)
        return [cmd[0], str(Path(__file__).resolve()), *cmd[3:], "--latency-ms", f"{self.latency_ms:g}"]


def main(argv: list[str] | None = None) -> int:
    """Serve the folders with the added latency until SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("dirs", nargs="+")
    parser.add_argument("--kubeconfig-out", type=Path, required=True)
    parser.add_argument("--ready-file", type=Path, required=True)
    parser.add_argument("--request-log", type=Path)
    parser.add_argument("--latency-ms", type=float, required=True)
    args = parser.parse_args(argv)
    server = ReplayServer(
        [load_snapshot(Path(d)) for d in args.dirs],
        token=os.environ.get(TOKEN_ENV) or None,
        request_log_path=args.request_log,
        start_timeout=900.0,
    )
    server.start()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        if args.latency_ms > 0:
            server.add_fault(None, r".", delay=args.latency_ms / 1000.0)
        kubeconfig = server.write_kubeconfig(args.kubeconfig_out)
        document = {"pid": os.getpid(), "urls": server.urls, "kubeconfig": str(kubeconfig.resolve())}
        write_private_file(args.ready_file, orjson.dumps(document))
        while not stop.wait(timeout=3600):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
