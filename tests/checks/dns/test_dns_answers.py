"""FC-DNS-004 and fleetcheck.probes.dns against real dnsmasq servers (and one that never answers) on loopback."""

from __future__ import annotations

import time
from typing import Any

import pytest

from fleetcheck.probes import ProbeError
from fleetcheck.probes.dns import parse_endpoint, resolve_name

CODE = "FC-DNS-004"
SAME = {"probe.example.com": ["10.1.2.3"], "api.example.com": ["10.5.0.1", "10.5.0.2"]}
HIJACKED = {"probe.example.com": ["10.9.9.9"], "api.example.com": ["10.5.0.2", "10.5.0.1"]}
NAMES = ["probe.example.com", "api.example.com", "nothing.example.com"]


def _probe_profile(profile_file: Any, name: str = "probing", **fields: Any) -> str:
    probes = {"dns_names": NAMES, "timeout_seconds": 0.3}
    return str(profile_file(name, probes=probes, **fields))


# -- the probe --------------------------------------------------------------------------------------


def test_answers_from_a_real_server(dnsmasq_server: Any) -> None:
    server = dnsmasq_server({**SAME, "v6.example.com": ["2001:db8::53"]})
    answer = resolve_name(server.endpoint, "api.example.com", timeout=1)
    assert (answer.rcode, answer.addresses, answer.describe()) == (
        "NOERROR", ("10.5.0.1", "10.5.0.2"), "10.5.0.1, 10.5.0.2",
    )  # fmt: skip
    assert resolve_name(server.endpoint, "v6.example.com.", rdtype="AAAA", timeout=1).addresses == ("2001:db8::53",)
    refused = resolve_name(server.endpoint, "nothing.example.com", timeout=1)
    assert (refused.rcode, refused.key) == ("REFUSED", ("REFUSED",))


def test_silent_server_is_a_probe_error_within_the_timeout(silent_dns: Any) -> None:
    started = time.monotonic()
    with pytest.raises(
        ProbeError, match=r"DNS server 127\.0\.0\.1:\d+ did not answer probe\.example\.com A within 0\.2 s"
    ):
        resolve_name(silent_dns.endpoint, "probe.example.com", timeout=0.2)
    assert time.monotonic() - started < 1.0
    assert silent_dns.dropped >= 1


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [("10.96.0.10", ("10.96.0.10", 53)), ("10.96.0.10:1053", ("10.96.0.10", 1053)), ("[fd00::a]:53", ("fd00::a", 53))],
)
def test_endpoint_spellings(endpoint: str, expected: tuple[str, int]) -> None:
    assert parse_endpoint(endpoint) == expected


# -- FC-DNS-004 -------------------------------------------------------------------------------------


def test_answers_compared_with_the_fleet_majority(
    run_dns_checks: Any, replayed: Any, dns_cluster: Any, dnsmasq_server: Any, silent_dns: Any, profile_file: Any
) -> None:
    a, b, c = dnsmasq_server(SAME), dnsmasq_server(SAME), dnsmasq_server(HIJACKED)
    fleet = replayed(
        dns_cluster("prod-a", dns_endpoint=a.endpoint),
        dns_cluster("prod-b", dns_endpoint=b.endpoint),
        dns_cluster("prod-c", dns_endpoint=c.endpoint),
        dns_cluster("prod-dead", dns_endpoint=silent_dns.endpoint),
        dns_cluster("prod-undeclared"),
    )
    verdicts = run_dns_checks("--fleet", str(fleet), "--profile", _probe_profile(profile_file))
    assert verdicts.outcome(CODE, "prod-a") == "pass"
    assert verdicts.outcome(CODE, "prod-b") == "pass"
    hijacked = verdicts[(CODE, "prod-c")]
    assert hijacked["outcome"] == "fail"
    assert hijacked["objects"] == ["DNSName/probe.example.com"]
    assert hijacked["message"] == (
        f"1 of 3 probe names resolve differently through {c.endpoint} (A records): DNSName/probe.example.com: "
        "answers 10.9.9.9; expected 10.1.2.3, majority: 2 of 3 clusters of cohort profile probing: prod-a, prod-b; "
        "not counted: prod-dead (unreadable: DNS server "
        f"{verdicts.message(CODE, 'prod-dead').split('DNS server ', 1)[-1].split(' did not', 1)[0]} did not answer "
        "probe.example.com A within 0.3 s), prod-undeclared (value unknown)"
    )
    assert verdicts.outcome(CODE, "prod-dead") == "error"
    assert verdicts.message(CODE, "prod-dead") == (
        f"DNS server {silent_dns.endpoint} did not answer probe.example.com A within 0.3 s"
    )
    assert verdicts.outcome(CODE, "prod-undeclared") == "skip"
    assert "no DNS endpoint declared for this cluster (fleet file: facts.dns_endpoint" in verdicts.message(
        CODE, "prod-undeclared"
    )


def test_reference_setting_overrides_the_majority(
    run_dns_checks: Any, replayed: Any, dns_cluster: Any, dnsmasq_server: Any, profile_file: Any
) -> None:
    a, c = dnsmasq_server(SAME), dnsmasq_server(HIJACKED)
    fleet = replayed(dns_cluster("prod-a", dns_endpoint=a.endpoint), dns_cluster("prod-c", dns_endpoint=c.endpoint))
    reference = {"probe.example.com": ["10.9.9.9"], "nothing.example.com": ["refused"]}
    profile = _probe_profile(profile_file, "pinned", settings={CODE: {"reference": reference}})
    verdicts = run_dns_checks("--fleet", str(fleet), "--profile", profile)
    assert verdicts.outcome(CODE, "prod-c") == "pass"
    assert verdicts.message(CODE, "prod-a") == (
        f"1 of 3 probe names resolve differently through {a.endpoint} (A records): DNSName/probe.example.com: "
        "answers 10.1.2.3; expected 10.9.9.9, declared by profile pinned "
        "(settings.FC-DNS-004.reference[probe.example.com])"
    )


def test_two_clusters_that_disagree_tie(
    run_dns_checks: Any, replayed: Any, dns_cluster: Any, dnsmasq_server: Any, profile_file: Any
) -> None:
    a, c = dnsmasq_server(SAME), dnsmasq_server(HIJACKED)
    fleet = replayed(dns_cluster("east", dns_endpoint=a.endpoint), dns_cluster("west", dns_endpoint=c.endpoint))
    verdicts = run_dns_checks("--fleet", str(fleet), "--profile", _probe_profile(profile_file))
    assert verdicts.outcome(CODE, "east") == "skip"  # a split: nobody is judged (issue 13's one rule)
    assert verdicts.message(CODE, "west") == (
        "1 of 3 probe names have no fleet standard; not judged: probe.example.com: no fleet standard: no value holds "
        "more than half of the 2 clusters of cohort profile probing with a known value (10.1.2.3 on 1 (east), "
        "10.9.9.9 on 1 (west)); declare settings.FC-DNS-004.reference[probe.example.com] in profile probing or name "
        "a reference cluster (--reference-cluster NAME, or reference_cluster in the profile)"
    )


def test_bad_reference_is_a_configuration_error(
    run_dns_checks: Any, replayed: Any, dns_cluster: Any, dnsmasq_server: Any, profile_file: Any
) -> None:
    a = dnsmasq_server(SAME)
    fleet = replayed(dns_cluster("prod-a", dns_endpoint=a.endpoint))
    profile = _probe_profile(profile_file, "typo", settings={CODE: {"reference": {"probe.example.com": ["10.1.2"]}}})
    verdicts = run_dns_checks("--fleet", str(fleet), "--profile", profile)
    assert verdicts.outcome(CODE, "prod-a") == "error"
    assert "settings.FC-DNS-004.reference" in verdicts.message(CODE, "prod-a")
    assert "answers must be IP addresses" in verdicts.message(CODE, "prod-a")


def test_skips_without_probe_names_and_on_snapshots(
    run_dns_checks: Any, replayed: Any, snapshots: Any, dns_cluster: Any, dnsmasq_server: Any
) -> None:
    a = dnsmasq_server(SAME)
    fleet = replayed(dns_cluster("prod-a", dns_endpoint=a.endpoint))
    verdicts = run_dns_checks("--fleet", str(fleet))
    assert verdicts.message(CODE, "prod-a") == "profile default lists no probe names (probes.dns_names)"
    verdicts = run_dns_checks(*snapshots(dns_cluster("captured")))
    assert verdicts.outcome(CODE, "captured") == "skip"
    assert "needs a live API server" in verdicts.message(CODE, "captured")


def test_malformed_endpoint_is_an_error(
    run_dns_checks: Any, replayed: Any, dns_cluster: Any, profile_file: Any
) -> None:
    fleet = replayed(dns_cluster("typo", dns_endpoint="127.0.0.1:99999"))
    verdicts = run_dns_checks("--fleet", str(fleet), "--profile", _probe_profile(profile_file))
    assert verdicts.outcome(CODE, "typo") == "error"
    assert "facts.dns_endpoint '127.0.0.1:99999'" in verdicts.message(CODE, "typo")
