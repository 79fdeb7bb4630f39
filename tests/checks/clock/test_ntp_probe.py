"""fleetcheck.probes.ntp against real chronyd servers on loopback (one with a planted offset)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from fleetcheck.probes import ProbeError
from fleetcheck.probes.dns import parse_endpoint
from fleetcheck.probes.ntp import query_ntp_server, read_ntp_offset


@pytest.fixture
def dead_server() -> Iterator[str]:
    """``127.0.0.1:PORT`` of a bound UDP socket nobody reads: NTP queries time out."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ntp.example.net", ("ntp.example.net", 123)),
        ("10.0.0.1:1123", ("10.0.0.1", 1123)),
        ("[2001:db8::123]:123", ("2001:db8::123", 123)),
        ("2001:db8::123", ("2001:db8::123", 123)),
    ],
)
def test_server_spellings(text: str, expected: tuple[str, int]) -> None:
    assert parse_endpoint(text, default_port=123) == expected


@pytest.mark.parametrize("text", ["", ":123", "host:0", "host:http", "[::1]x"])
def test_malformed_servers_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_endpoint(text, default_port=123)


def test_offset_of_a_server_in_step_with_the_runner(chrony_server: Any) -> None:
    server = chrony_server(0)
    sample = query_ntp_server(server.address, samples=3, timeout=1)
    assert abs(sample.offset) < 0.05
    assert sample.stratum == 8
    assert sample.answered == 3
    assert 0 <= sample.delay < 0.05


def test_offset_of_a_server_running_ahead(chrony_server: Any) -> None:
    server = chrony_server(25)
    sample = query_ntp_server(server.address, samples=2, timeout=1)
    assert sample.offset == pytest.approx(25, abs=0.1)


def test_median_across_servers_outvotes_one_bad_server(chrony_server: Any, dead_server: str) -> None:
    good, also_good, wrong = chrony_server(0), chrony_server(0), chrony_server(300)
    reading = read_ntp_offset([good.address, wrong.address, also_good.address, dead_server], samples=1, timeout=0.2)
    assert abs(reading.offset) < 0.05
    assert len(reading.samples) == 3
    assert reading.failures == (f"{dead_server}: no reply within 0.2 s",)
    assert f"no answer from {dead_server}: no reply within 0.2 s" in reading.describe()


def test_no_answer_raises_probe_error_within_the_timeout(dead_server: str) -> None:
    started = time.monotonic()
    with pytest.raises(ProbeError, match=r"no NTP server gave the time: 127\.0\.0\.1:\d+: no reply within 0\.1 s"):
        read_ntp_offset([dead_server], samples=2, timeout=0.1)
    assert time.monotonic() - started < 1.0


def test_host_names_are_resolved_by_the_runner(chrony_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    server = chrony_server(0)
    real_getaddrinfo = socket.getaddrinfo
    asked: list[str] = []

    def hosts_file(host: str, *args: Any, **kwargs: Any) -> Any:
        asked.append(host)
        return real_getaddrinfo("127.0.0.1" if host == "ntp.fleet.test" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", hosts_file)
    sample = query_ntp_server(f"ntp.fleet.test:{server.port}", samples=1, timeout=1)
    assert sample.server == f"ntp.fleet.test:{server.port}"
    assert asked[0] == "ntp.fleet.test"


def test_unresolvable_host_is_a_probe_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_such_host(*_args: object, **_kwargs: object) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    with pytest.raises(ProbeError, match=r"cannot resolve ntp\.example\.invalid \(.*Name or service not known\)"):
        query_ntp_server("ntp.example.invalid:123", samples=1, timeout=1)


def test_no_servers_is_a_usage_error() -> None:
    with pytest.raises(ValueError, match="no NTP servers"):
        read_ntp_offset([], samples=1, timeout=1)
