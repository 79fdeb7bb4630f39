"""Planted failures, so tests can prove a scan survives a misbehaving API server.

A :class:`Fault` matches requests of one cluster by a regular expression on
the path, optionally only a number of ``times``, and says what goes wrong:
an error status (with ``Retry-After``), a stall, a dropped connection, a
body cut short, a body that is not JSON, or an expired ``continue`` token
part-way through a paginated list. The server consults :class:`FaultRules`
for every authenticated request; rules are added and cleared from any
thread while the server runs.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

__all__ = ["Fault", "FaultRules", "break_json"]


@dataclass
class Fault:
    """One planted failure. ``cluster`` None matches every cluster."""

    cluster: str | None
    path_regex: re.Pattern[str]
    status: int | None = None
    retry_after: float | None = None
    delay: float | None = None
    drop: bool = False
    truncate: bool = False
    invalid_json: bool = False
    gone_after_pages: int | None = None
    #: how many more requests it may hit (None: unlimited)
    remaining: int | None = None
    #: how many requests it hit so far
    hits: int = 0

    def __post_init__(self) -> None:
        effects = (
            self.status is not None,
            bool(self.delay),
            self.drop,
            self.truncate,
            self.invalid_json,
            self.gone_after_pages is not None,
        )
        if not any(effects):
            raise ValueError("a fault needs an effect: status, delay, drop, truncate, invalid_json or gone_after_pages")
        if self.status is not None and not 100 <= self.status <= 599:
            raise ValueError(f"status must be an HTTP status code, got {self.status}")
        if self.retry_after is not None and self.status is None:
            raise ValueError("retry_after goes with a status (e.g. 429 or 503)")
        if self.delay is not None and self.delay < 0:
            raise ValueError("delay must be >= 0 seconds")
        if self.gone_after_pages is not None and self.gone_after_pages < 1:
            raise ValueError("gone_after_pages must be >= 1 (pages served before the token expires)")
        if self.remaining is not None and self.remaining < 1:
            raise ValueError("times must be >= 1")

    def applies(self, cluster: str, path: str, pages_served: int | None) -> bool:
        """Whether this fault hits a request (ignoring ``remaining``)."""
        if self.cluster is not None and self.cluster != cluster:
            return False
        if not self.path_regex.search(path):
            return False
        if self.gone_after_pages is not None:
            return pages_served is not None and pages_served >= self.gone_after_pages
        return True


class FaultRules:
    """The faults in force; thread-safe, first added wins."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        """Put ``fault`` in force (after the ones already there)."""
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self, cluster: str | None = None) -> None:
        """Remove every fault, or only those of ``cluster``."""
        with self._lock:
            self._faults = [] if cluster is None else [f for f in self._faults if f.cluster != cluster]

    def take(self, cluster: str, path: str, pages_served: int | None) -> Fault | None:
        """The first fault hitting this request, counting the hit; exhausted faults retire."""
        with self._lock:
            for fault in self._faults:
                if fault.applies(cluster, path, pages_served):
                    fault.hits += 1
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining == 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def __len__(self) -> int:
        with self._lock:
            return len(self._faults)


def break_json(body: bytes) -> bytes:
    """``body`` made unparseable but still plausible: its first half, then garbage."""
    return body[: max(1, len(body) // 2)] + b'\x00}{"broken'
