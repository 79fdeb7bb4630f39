"""FC-CLOCK-002: the API server's Date header against a real NTP server (chronyd) on loopback.

The replay server shifts each cluster's ``Date`` header; chronyd under
libfaketime plays an NTP reference whose time differs from the runner's, so
the runner's own offset must be corrected for the verdicts to come out right.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest

CODE = "FC-CLOCK-002"
NODES = {"cp-1": (True, -2.0), "worker-1": (True, -5.0)}


@pytest.fixture
def silent_udp_port() -> Iterator[int]:
    """A bound UDP port that never answers (NTP queries to it time out)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def _ntp_profile(profile_file: Any, *servers: str, timeout: float = 1.0) -> str:
    return str(profile_file("ntp", probes={"ntp_servers": list(servers), "ntp_samples": 2, "timeout_seconds": timeout}))


def test_api_server_clocks_against_ntp(
    run_clock_checks: Any, replayed: Any, clock_cluster: Any, chrony_server: Any, profile_file: Any
) -> None:
    ntp = chrony_server(0)
    server, fleet = replayed(
        clock_cluster("synced", NODES), clock_cluster("ahead", NODES), clock_cluster("behind", NODES)
    )
    server.set_clock_offset("ahead", 30)
    server.set_clock_offset("behind", -45)
    verdicts = run_clock_checks("--fleet", str(fleet), "--profile", _ntp_profile(profile_file, ntp.address))
    assert verdicts.outcome(CODE, "synced") == "pass"
    assert verdicts.message(CODE, "synced") == "the API server's clock agrees with the profile's NTP servers"
    ahead = verdicts[(CODE, "ahead")]
    assert ahead["outcome"] == "fail"
    assert ahead["objects"] == ["APIServer/ahead"]
    assert re.search(r"the API server's clock is (29|30)\.\d s ahead of NTP \(Date header ", ahead["message"])
    assert re.search(rf"from {ntp.address} \([+-]0\.00\d s, stratum 8\)", ahead["message"])
    assert "expected within 5 s" in ahead["message"]
    behind = verdicts[(CODE, "behind")]
    assert behind["outcome"] == "fail"
    assert re.search(r"clock is (44|45)\.\d s behind NTP", behind["message"])


def test_the_runners_own_offset_is_corrected(
    run_clock_checks: Any, replayed: Any, clock_cluster: Any, chrony_server: Any, profile_file: Any
) -> None:
    """NTP says true time is the runner's + 40 s: a server 40 s "ahead" is right, one in step is behind."""
    ntp = chrony_server(40)
    server, fleet = replayed(clock_cluster("with-runner", NODES), clock_cluster("with-ntp", NODES))
    server.set_clock_offset("with-ntp", 40)
    verdicts = run_clock_checks("--fleet", str(fleet), "--profile", _ntp_profile(profile_file, ntp.address))
    assert verdicts.outcome(CODE, "with-ntp") == "pass"
    message = verdicts.message(CODE, "with-runner")
    assert verdicts.outcome(CODE, "with-runner") == "fail"
    assert re.search(r"clock is (39|40)\.\d s behind NTP", message)
    assert re.search(r"the runner's own offset \+(39\.9|40\.0)\d\d s corrected", message)


def test_threshold_is_a_profile_setting(
    run_clock_checks: Any, replayed: Any, clock_cluster: Any, chrony_server: Any, profile_file: Any
) -> None:
    ntp = chrony_server(0)
    server, fleet = replayed(clock_cluster("ten-ahead", NODES))
    server.set_clock_offset("ten-ahead", 10)
    lenient = profile_file(
        "lenient",
        probes={"ntp_servers": [ntp.address], "timeout_seconds": 1},
        settings={CODE: {"threshold_seconds": 30}},
    )
    assert run_clock_checks("--fleet", str(fleet), "--profile", lenient).outcome(CODE, "ten-ahead") == "pass"
    strict = _ntp_profile(profile_file, ntp.address)
    assert run_clock_checks("--fleet", str(fleet), "--profile", strict).outcome(CODE, "ten-ahead") == "fail"


def test_unreachable_ntp_server_is_an_error_not_a_fail(
    run_clock_checks: Any, replayed: Any, clock_cluster: Any, profile_file: Any, silent_udp_port: int
) -> None:
    server, fleet = replayed(clock_cluster("far-off", NODES))
    server.set_clock_offset("far-off", 3600)
    profile = _ntp_profile(profile_file, f"127.0.0.1:{silent_udp_port}", timeout=0.2)
    verdicts = run_clock_checks("--fleet", str(fleet), "--profile", profile)
    assert verdicts.outcome(CODE, "far-off") == "error"
    assert verdicts.message(CODE, "far-off") == (
        f"no NTP server gave the time: 127.0.0.1:{silent_udp_port}: no reply within 0.2 s"
    )


def test_profile_without_ntp_servers_skips(run_clock_checks: Any, replayed: Any, clock_cluster: Any) -> None:
    _server, fleet = replayed(clock_cluster("no-ntp", NODES))
    verdicts = run_clock_checks("--fleet", str(fleet))
    assert verdicts.outcome(CODE, "no-ntp") == "skip"
    assert verdicts.message(CODE, "no-ntp") == "profile default names no NTP servers (probes.ntp_servers)"


def test_snapshots_skip_the_live_check(run_clock_checks: Any, snapshots: Any, clock_cluster: Any) -> None:
    verdicts = run_clock_checks(*snapshots(clock_cluster("captured", NODES)))
    assert verdicts.outcome(CODE, "captured") == "skip"
    assert "needs a live API server" in verdicts.message(CODE, "captured")


def test_malformed_ntp_server_is_an_error(
    run_clock_checks: Any, replayed: Any, clock_cluster: Any, profile_file: Any
) -> None:
    _server, fleet = replayed(clock_cluster("typo", NODES))
    verdicts = run_clock_checks("--fleet", str(fleet), "--profile", _ntp_profile(profile_file, "127.0.0.1:ntp"))
    assert verdicts.outcome(CODE, "typo") == "error"
    assert verdicts.message(CODE, "typo") == (
        "profile ntp: probes.ntp_servers: '127.0.0.1:ntp': port must be a number from 1 to 65535"
    )
