"""The request log: every request a replay server answered, for tests to assert on.

Tests prove "only GET" and "one list per kind" from it; a benchmark or the
demo reads the optional JSON-lines mirror. Headers (and so the token) are
never recorded.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

import orjson

__all__ = ["RequestLog", "RequestRecord"]


@dataclass(frozen=True)
class RequestRecord:
    """One request as the server saw it. ``status`` 0: the connection was dropped unanswered."""

    cluster: str
    method: str
    path: str
    query: str
    status: int
    bytes: int
    #: when it was answered (epoch seconds, real clock)
    at: float = 0.0


class RequestLog:
    """Thread-safe record of every request, optionally mirrored to a JSON-lines file."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []
        self._file: IO[bytes] | None = None

    def open_file(self, path: Path) -> None:
        """Also append every record, as one JSON line, to ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("ab")

    def close_file(self) -> None:
        """Stop mirroring to the file, closing it."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def add(self, record: RequestRecord) -> None:
        """Record one answered (or dropped) request."""
        with self._lock:
            self._records.append(record)
            if self._file is not None:
                self._file.write(orjson.dumps(asdict(record)) + b"\n")
                self._file.flush()

    def snapshot(self) -> list[RequestRecord]:
        """A copy of the records so far, oldest first."""
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        """Forget the records kept in memory."""
        with self._lock:
            self._records.clear()
