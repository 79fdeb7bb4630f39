"""Read the time from the profile's NTP servers, as an offset from the runner's own clock.

FC-CLOCK-002 compares an API server's clock with NTP. The runner's clock is
not trusted either (a CI VM can be seconds off), so the probe does not
return "the time" but the runner's offset: ``true time = runner clock +
offset``. Any clock the scan sees (an API server's ``Date`` header) is then
judged against NTP, whatever the runner's own error.

Method, as ntpd and chrony do it in miniature: several samples per server,
the sample with the shortest round trip wins (its offset has the smallest
error bound, ``delay / 2``); samples from a server that says it is
unsynchronised (stratum 0 or leap indicator 3) are refused; across servers
the median offset is taken, so one bad server cannot move the reference.
Every request has a timeout; when no server gives a usable sample the probe
raises :class:`~fleetcheck.probes.ProbeError` (the check says ``error``).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import ntplib

from fleetcheck.probes import ProbeError
from fleetcheck.probes.dns import parse_endpoint, resolve_host

__all__ = ["NtpReading", "NtpSample", "query_ntp_server", "read_ntp_offset"]

NTP_PORT = 123
#: leap indicator 3: "alarm condition, clock not synchronised"
_LEAP_UNSYNCHRONISED = 3


@dataclass(frozen=True)
class NtpSample:
    """The best sample from one server."""

    server: str
    #: seconds to add to the runner's clock to get this server's time
    offset: float
    #: round trip, seconds; the offset is good to within ``delay / 2``
    delay: float
    stratum: int
    #: how many of the samples asked for were answered
    answered: int


@dataclass(frozen=True)
class NtpReading:
    """The runner's offset from NTP, from every server that answered."""

    offset: float
    samples: tuple[NtpSample, ...]
    #: servers that gave no usable sample, with why
    failures: tuple[str, ...] = ()

    @property
    def error_bound(self) -> float:
        """Half the largest round trip among the samples used: how far the offset can be off."""
        return max(s.delay for s in self.samples) / 2

    def describe(self) -> str:
        """``127.0.0.1:1123 (+0.002 s, stratum 8)`` for each server used, and those that failed."""
        used = ", ".join(f"{s.server} ({s.offset:+.3f} s, stratum {s.stratum})" for s in self.samples)
        failed = f"; no answer from {', '.join(self.failures)}" if self.failures else ""
        return used + failed


def query_ntp_server(server: str, *, samples: int = 3, timeout: float = 3.0) -> NtpSample:
    """Ask ``server`` (``host``, ``host:port`` or ``[v6]:port``) ``samples`` times; keep the fastest sample.

    Raises :class:`ProbeError` when no sample is usable (no reply within
    ``timeout``, unsynchronised server) and ``ValueError`` for a malformed
    server.
    """
    host, port = parse_endpoint(server, default_port=NTP_PORT)
    address = resolve_host(host, port, timeout)
    client = ntplib.NTPClient()
    best: tuple[float, float, int] | None = None
    answered = 0
    problems: list[str] = []
    for _ in range(max(1, samples)):
        try:
            stats = client.request(address, version=3, port=port, timeout=timeout)
        except ntplib.NTPException as exc:
            timed_out = str(exc).startswith("No response")
            problems.append(f"no reply within {timeout:g} s" if timed_out else f"unreadable reply ({exc})")
            continue
        except OSError as exc:
            problems.append(str(exc))
            continue
        answered += 1
        stratum, leap = int(stats.stratum), int(stats.leap)
        if stratum == 0 or leap == _LEAP_UNSYNCHRONISED:
            problems.append(f"server not synchronised (stratum {stratum}, leap {leap})")
            continue
        offset, delay = float(stats.offset), float(stats.delay)
        if best is None or delay < best[1]:
            best = (offset, delay, stratum)
    if best is None:
        reason = problems[-1] if problems else "no sample"
        raise ProbeError(f"NTP server {server}: {reason}")
    return NtpSample(server, best[0], best[1], best[2], answered)


def read_ntp_offset(servers: Sequence[str], *, samples: int = 3, timeout: float = 3.0) -> NtpReading:
    """The runner's clock offset from NTP: the median over ``servers`` of each server's best sample.

    Raises :class:`ProbeError` naming every server when none of them gives a
    usable sample, and ``ValueError`` when ``servers`` is empty.
    """
    if not servers:
        raise ValueError("no NTP servers to ask")
    used: list[NtpSample] = []
    failures: list[str] = []
    for server in servers:
        try:
            used.append(query_ntp_server(server, samples=samples, timeout=timeout))
        except ProbeError as exc:
            failures.append(str(exc).removeprefix("NTP server "))
    if not used:
        raise ProbeError(f"no NTP server gave the time: {'; '.join(failures)}")
    offset = statistics.median(s.offset for s in used)
    return NtpReading(offset, tuple(used), tuple(failures))
