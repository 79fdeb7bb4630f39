"""``python -m fleetcheck.replay`` / ``fleetcheck replay``: serve snapshot folders until stopped.

Writes the kubeconfig first and the ready file (JSON: pid, urls, kubeconfig)
last, so whoever waits for the ready file can use the kubeconfig at once.
The token never appears on the command line of a child process started by
:class:`~fleetcheck.replay.process.ReplayProcess` (it travels in
``FLEETCHECK_REPLAY_TOKEN``) and is never printed.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import orjson

from fleetcheck.errors import EXIT_CONFIG, FleetcheckError

from .kubeconfig import write_private_file
from .server import ReplayServer, SnapshotFolder

__all__ = ["TOKEN_ENV", "build_parser", "main"]

#: Environment variable read for the token when ``--token`` is not given.
TOKEN_ENV = "FLEETCHECK_REPLAY_TOKEN"
_PROG = "fleetcheck replay"


def build_parser() -> argparse.ArgumentParser:
    """The command line of the replay server."""
    parser = argparse.ArgumentParser(
        prog=_PROG,
        description="Serve snapshot folders as read-only Kubernetes API servers on 127.0.0.1 (HTTPS), "
        "one port per cluster, until SIGINT/SIGTERM.",
    )
    parser.add_argument("dirs", nargs="+", metavar="DIR", help="snapshot folder (one cluster each)")
    parser.add_argument(
        "--kubeconfig-out",
        required=True,
        type=Path,
        metavar="PATH",
        help="write a kubeconfig with one context per cluster here (mode 0600)",
    )
    parser.add_argument("--token", help=f"bearer token to require (default: ${TOKEN_ENV}, else random)")
    parser.add_argument(
        "--clock-offset",
        action="append",
        default=[],
        metavar="NAME=SECONDS",
        help="run cluster NAME's clock SECONDS ahead (negative: behind); repeatable",
    )
    parser.add_argument("--request-log", type=Path, metavar="PATH", help="append every request as a JSON line to PATH")
    parser.add_argument(
        "--ready-file", type=Path, metavar="PATH", help="once serving, write JSON {pid, urls, kubeconfig} here"
    )
    parser.add_argument(
        "--serve-secrets", action="store_true", help="serve Secret objects (withheld with 403 by default)"
    )
    parser.add_argument(
        "--no-rebase-time", action="store_true", help="serve timestamps as captured instead of shifted to now"
    )
    return parser


def _fail(message: str) -> int:
    print(f"{_PROG}: error: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_CONFIG


def _parse_offsets(values: list[str]) -> dict[str, float]:
    offsets: dict[str, float] = {}
    for value in values:
        name, sep, seconds = value.partition("=")
        try:
            if not sep or not name:
                raise ValueError
            offsets[name] = float(seconds)
        except ValueError:
            raise ValueError(f"--clock-offset {value!r}: expected NAME=SECONDS, e.g. prod-eu=-90") from None
    return offsets


def _folders(dirs: list[str]) -> list[SnapshotFolder]:
    """The folders to serve, named now and parsed one at a time when the server renders them."""
    folders = []
    for folder in dirs:
        path = Path(folder)
        if not path.is_dir():
            raise ValueError(f"snapshot folder not found: {folder}")
        folders.append(SnapshotFolder.at(path))
    return folders


def _wait_for_signal() -> None:
    """Block until SIGINT or SIGTERM (or forever, when not on the main thread)."""
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    if threading.current_thread() is not threading.main_thread():
        stop.wait()
        return
    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(timeout=3600):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> int:
    """Run the replay server from the command line; returns the exit code (2 for bad input)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed the usage error
        return int(exc.code) if isinstance(exc.code, int) else EXIT_CONFIG
    try:
        offsets = _parse_offsets(args.clock_offset)
        snapshots = _folders(args.dirs)
        server = ReplayServer(
            snapshots,
            token=args.token or os.environ.get(TOKEN_ENV) or None,
            rebase_time=not args.no_rebase_time,
            serve_secrets=args.serve_secrets,
            clock_offsets=offsets,
            request_log_path=args.request_log,
        )
    except (FleetcheckError, ValueError, KeyError) as exc:
        return _fail(str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc))

    try:
        server.start()
    except FleetcheckError as exc:  # a folder's file is not valid kubectl output: named in the message
        return _fail(str(exc))
    except (OSError, ValueError) as exc:
        return _fail(f"cannot start the replay server: {exc}")
    ready: Path | None = args.ready_file
    try:
        try:
            kubeconfig = server.write_kubeconfig(args.kubeconfig_out)
            if ready is not None:
                document = {"pid": os.getpid(), "urls": server.urls, "kubeconfig": str(kubeconfig.resolve())}
                write_private_file(ready, orjson.dumps(document, option=orjson.OPT_INDENT_2))
        except OSError as exc:
            return _fail(f"cannot write {exc.filename or 'output'}: {exc.strerror or exc}")
        print(f"{_PROG}: serving {len(server.urls)} cluster(s); kubeconfig: {kubeconfig}", file=sys.stderr)
        _wait_for_signal()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        if ready is not None:
            ready.unlink(missing_ok=True)
    return 0
