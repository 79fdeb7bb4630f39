"""FC-DNS-001, -002, -003 and -005 over snapshot fleets of real-shaped CoreDNS and kube-dns clusters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

# -- FC-DNS-001 -------------------------------------------------------------------------------------


def test_forward_to_resolv_conf_fails_and_explicit_upstreams_pass(
    run_dns_checks: Any, snapshots: Any, dns_cluster: Any, kube_dns_config: Any
) -> None:
    verdicts = run_dns_checks(
        *snapshots(
            dns_cluster("explicit", upstream="10.0.0.2 10.0.0.3"),
            dns_cluster("leaky", upstream="/etc/resolv.conf"),
            dns_cluster("old-explicit", kube_dns=kube_dns_config(["10.0.0.2", "10.0.0.3"]), replicas=2, ready=2),
            dns_cluster("old-leaky", kube_dns=kube_dns_config(stubs={"acme.local": ["10.150.0.1"]})),
        )
    )
    code = "FC-DNS-001"
    assert verdicts.outcome(code, "explicit") == "pass"
    assert verdicts.outcome(code, "old-explicit") == "pass"
    leaky = verdicts[(code, "leaky")]
    assert leaky["outcome"] == "fail"
    assert leaky["objects"] == ["kube-system/ConfigMap/coredns"]
    assert leaky["message"] == (
        "CoreDNS sends names outside the cluster to the node's resolvers; expected explicit resolver addresses, "
        "e.g. forward . 10.0.0.2 10.0.0.3: kube-system/ConfigMap/coredns: server block .:53 forwards . to "
        "/etc/resolv.conf (Corefile line 13: forward . /etc/resolv.conf)"
    )
    old = verdicts[(code, "old-leaky")]
    assert old["outcome"] == "fail"
    assert (
        "kube-system/ConfigMap/kube-dns: kube-dns forwards . to /etc/resolv.conf (no data.upstreamNameservers"
        in (old["message"])
    )


def test_forward_imported_from_coredns_custom_is_found(run_dns_checks: Any, snapshots: Any, dns_cluster: Any) -> None:
    """k3s/AKS style: the root block imports ``*.override``; a ``.server`` key adds a server block on port 53."""
    corefile = (
        ".:53 {\n    errors\n    kubernetes cluster.local in-addr.arpa ip6.arpa\n    import custom/*.override\n}\n"
    )
    corefile += "import custom/*.server\n"
    custom = {
        "forward.override": "forward . 10.0.0.2 10.0.0.3\n",
        "leak.server": ".:5353 {\n    forward . /etc/resolv.conf\n}\n",
    }
    verdicts = run_dns_checks(*snapshots(dns_cluster("k3s", corefile=corefile, custom=custom)))
    record = verdicts[("FC-DNS-001", "k3s")]
    assert record["outcome"] == "fail"
    assert record["objects"] == ["kube-system/ConfigMap/coredns-custom"]
    assert "server block .:5353 forwards . to /etc/resolv.conf (data.leak.server line 2" in record["message"]


def test_require_explicit_upstreams_is_a_profile_setting(
    run_dns_checks: Any, snapshots: Any, dns_cluster: Any, profile_file: Any
) -> None:
    relaxed = profile_file("relaxed", settings={"FC-DNS-001": {"require_explicit_upstreams": False}})
    verdicts = run_dns_checks(*snapshots(dns_cluster("leaky", upstream="/etc/resolv.conf")), "--profile", relaxed)
    assert verdicts.outcome("FC-DNS-001", "leaky") == "skip"
    assert "does not require explicit upstreams" in verdicts.message("FC-DNS-001", "leaky")


def test_cluster_without_dns_configuration_is_skipped(run_dns_checks: Any, snapshots: Any, dns_cluster: Any) -> None:
    verdicts = run_dns_checks(*snapshots(dns_cluster("managed", no_dns=True)))
    for code in ("FC-DNS-001", "FC-DNS-002", "FC-DNS-003", "FC-DNS-005"):
        assert verdicts.outcome(code, "managed") == "skip", code
    assert "no CoreDNS Corefile or kube-dns ConfigMap/Deployment in kube-system" in verdicts.message(
        "FC-DNS-001", "managed"
    )


def test_unparsable_corefile_is_an_error(run_dns_checks: Any, snapshots: Any, dns_cluster: Any) -> None:
    verdicts = run_dns_checks(*snapshots(dns_cluster("broken", corefile=".:53 {\n    forward . 10.0.0.2\n")))
    assert verdicts.outcome("FC-DNS-001", "broken") == "error"
    assert verdicts.message("FC-DNS-001", "broken") == "Corefile line 1: block opened by '.:53' has no '}'"


# -- FC-DNS-002 -------------------------------------------------------------------------------------


def test_outlier_upstreams_fail_and_name_the_majority(run_dns_checks: Any, snapshots: Any, dns_cluster: Any) -> None:
    verdicts = run_dns_checks(
        *snapshots(
            dns_cluster("prod-a", upstream="10.0.0.2 10.0.0.3"),
            dns_cluster("prod-b", upstream="dns://10.0.0.3:53 10.0.0.2"),
            dns_cluster("prod-c", upstream="8.8.8.8 8.8.4.4"),
        )
    )
    code = "FC-DNS-002"
    assert verdicts.outcome(code, "prod-a") == "pass"
    assert verdicts.outcome(code, "prod-b") == "pass"  # same resolvers, other spelling and order
    record = verdicts[(code, "prod-c")]
    assert record["outcome"] == "fail"
    assert record["objects"] == ["kube-system/ConfigMap/coredns"]
    assert record["message"] == (
        "kube-system/ConfigMap/coredns forwards . to 8.8.4.4, 8.8.8.8 (Corefile line 13: forward . 8.8.8.8 "
        "8.8.4.4); expected the fleet standard 10.0.0.2, 10.0.0.3, majority: 2 of 3 clusters of cohort profile "
        "default: prod-a, prod-b"
    )


def test_profile_standard_beats_the_majority(
    run_dns_checks: Any, snapshots: Any, dns_cluster: Any, kube_dns_config: Any, profile_file: Any
) -> None:
    standard = profile_file("corp", standards={"dns_upstreams": ["8.8.8.8:53", "8.8.4.4"]})
    verdicts = run_dns_checks(
        *snapshots(
            dns_cluster("prod-a", upstream="10.0.0.2 10.0.0.3"),
            dns_cluster("prod-b", upstream="10.0.0.2 10.0.0.3"),
            dns_cluster("prod-c", upstream="8.8.8.8 8.8.4.4"),
            dns_cluster("legacy", kube_dns=kube_dns_config(["8.8.4.4", "8.8.8.8"])),
            dns_cluster("leaky", upstream="/etc/resolv.conf"),
        ),
        "--profile",
        standard,
    )
    code = "FC-DNS-002"
    assert verdicts.outcome(code, "prod-c") == "pass"
    assert verdicts.outcome(code, "legacy") == "pass"
    assert verdicts.outcome(code, "prod-a") == "fail"
    assert verdicts.message(code, "prod-a").endswith(
        "expected the fleet standard 8.8.4.4, 8.8.8.8, declared by profile corp (standards.dns_upstreams)"
    )
    # FC-DNS-001 names the declared standard as what to forward to
    assert "; expected explicit resolvers: 8.8.8.8:53, 8.8.4.4 (standards.dns_upstreams): " in verdicts.message(
        "FC-DNS-001", "leaky"
    )


def test_a_tie_is_said_as_such(run_dns_checks: Any, snapshots: Any, dns_cluster: Any) -> None:
    verdicts = run_dns_checks(
        *snapshots(dns_cluster("east", upstream="10.0.0.2"), dns_cluster("west", upstream="/etc/resolv.conf"))
    )
    code = "FC-DNS-002"
    for name in ("east", "west"):  # issue 13's one rule: a split skips every cluster, the same way in every check
        assert verdicts.outcome(code, name) == "skip"
    assert verdicts.message(code, "west") == (
        "no fleet standard: no value holds more than half of the 2 clusters of cohort profile default with a known "
        "value (/etc/resolv.conf (the node's resolvers) on 1 (west), 10.0.0.2 on 1 (east)); declare "
        "standards.dns_upstreams in profile default or name a reference cluster (--reference-cluster NAME, or "
        "reference_cluster in the profile)"
    )


def test_only_same_profile_clusters_are_compared(
    run_dns_checks: Any, snapshots: Any, dns_cluster: Any, tmp_path: Path
) -> None:
    """A fleet file puts the edge clusters in their own profile: their upstreams are not prod's business."""
    args = snapshots(
        dns_cluster("prod-a", upstream="10.0.0.2"),
        dns_cluster("prod-b", upstream="10.0.0.2"),
        dns_cluster("edge-1", upstream="192.168.1.1"),
        dns_cluster("edge-2", upstream="192.168.1.1"),
        dns_cluster("edge-3", upstream="192.168.1.1"),
    )
    folders = args[1::2]
    fleet = {
        "clusters": [
            {"name": Path(f).name, "snapshot": f, "profile": "edge" if "edge" in f else "prod"} for f in folders
        ]
    }
    fleet_file = tmp_path / "fleet.yaml"
    fleet_file.write_text(yaml.safe_dump(fleet), encoding="utf-8")
    verdicts = run_dns_checks("--fleet", str(fleet_file))
    assert {verdicts.outcome("FC-DNS-002", c) for c in ("prod-a", "prod-b", "edge-1", "edge-2", "edge-3")} == {"pass"}


# -- FC-DNS-003 -------------------------------------------------------------------------------------


def test_cluster_domain_outlier_fails(
    run_dns_checks: Any, snapshots: Any, dns_cluster: Any, kube_dns_config: Any
) -> None:
    verdicts = run_dns_checks(
        *snapshots(
            dns_cluster("prod-a"),
            dns_cluster("prod-b", domain="Cluster.Local."),
            dns_cluster("legacy", kube_dns=kube_dns_config(["10.0.0.2"])),
            dns_cluster("odd", domain="corp.internal"),
        )
    )
    code = "FC-DNS-003"
    assert {verdicts.outcome(code, c) for c in ("prod-a", "prod-b", "legacy")} == {"pass"}
    record = verdicts[(code, "odd")]
    assert record["outcome"] == "fail"
    assert record["objects"] == ["kube-system/ConfigMap/coredns"]
    assert record["message"] == (
        "kube-system/ConfigMap/coredns serves cluster domain corp.internal (Corefile line 7: kubernetes "
        "corp.internal in-addr.arpa ip6.arpa); expected the fleet standard cluster.local, majority: 3 of 4 "
        "clusters of cohort profile default: prod-a, prod-b, legacy"
    )


def test_cluster_domain_standard_from_the_profile(
    run_dns_checks: Any, snapshots: Any, dns_cluster: Any, kube_dns_config: Any, profile_file: Any
) -> None:
    corp = profile_file("corp", standards={"cluster_domain": "corp.internal."})
    verdicts = run_dns_checks(
        *snapshots(dns_cluster("new", domain="corp.internal"), dns_cluster("legacy", kube_dns={})), "--profile", corp
    )
    code = "FC-DNS-003"
    assert verdicts.outcome(code, "new") == "pass"
    assert verdicts.message(code, "legacy") == (
        "kube-system/Deployment/kube-dns serves cluster domain cluster.local (container kubedns: "
        "--domain=cluster.local.); expected the fleet standard corp.internal, declared by profile corp "
        "(standards.cluster_domain)"
    )


# -- FC-DNS-005 -------------------------------------------------------------------------------------


def test_ready_replicas(run_dns_checks: Any, snapshots: Any, dns_cluster: Any, kube_dns_config: Any) -> None:
    verdicts = run_dns_checks(
        *snapshots(
            dns_cluster("two", replicas=2, ready=2),
            dns_cluster("one", replicas=1, ready=1),
            dns_cluster("unready", replicas=2, ready=0),
            dns_cluster("old", kube_dns=kube_dns_config(["10.0.0.2"]), replicas=1, ready=1),
        )
    )
    code = "FC-DNS-005"
    assert verdicts.outcome(code, "two") == "pass"
    one = verdicts[(code, "one")]
    assert (one["outcome"], one["objects"]) == ("fail", ["kube-system/Deployment/coredns"])
    assert one["message"] == (
        "kube-system/Deployment/coredns has 1 ready replica (spec.replicas 1); expected at least 2, so losing one "
        "pod or node does not stop name resolution"
    )
    assert verdicts.message(code, "unready").startswith(
        "kube-system/Deployment/coredns has 0 ready replicas (spec.replicas 2)"
    )
    assert verdicts.message(code, "old").startswith("kube-system/Deployment/kube-dns has 1 ready replica")


def test_minimum_is_a_setting_and_dev_edge_ignore_the_check(
    run_dns_checks: Any, snapshots: Any, dns_cluster: Any, profile_file: Any
) -> None:
    args = snapshots(dns_cluster("two", replicas=2, ready=2))
    three = profile_file("three", settings={"FC-DNS-005": {"min_ready_replicas": 3}})
    verdicts = run_dns_checks(*args, "--profile", three)
    assert verdicts.outcome("FC-DNS-005", "two") == "fail"
    assert "expected at least 3" in verdicts.message("FC-DNS-005", "two")
    for profile in ("dev", "edge"):
        assert "FC-DNS-005" not in run_dns_checks(*args, "--profile", profile).codes()
    assert "FC-DNS-005" in run_dns_checks(*args, "--profile", "prod").codes()


# -- real captures ----------------------------------------------------------------------------------


def test_real_captures_from_the_corpus(run_dns_checks: Any, corpus: Path) -> None:
    sonobuoy = corpus / "sonobuoy"
    verdicts = run_dns_checks(
        "--snapshot", str(sonobuoy / "kind-v1.21-quick"), "--snapshot", str(sonobuoy / "aws-kubeadm-v1.8")
    )
    assert verdicts.outcome("FC-DNS-001", "kind-v1.21-quick") == "fail"
    assert verdicts.outcome("FC-DNS-001", "aws-kubeadm-v1.8") == "fail"
    assert "kube-system/Deployment/kube-dns: kube-dns forwards . to /etc/resolv.conf (no kube-dns ConfigMap" in (
        verdicts.message("FC-DNS-001", "aws-kubeadm-v1.8")
    )
    # both send . to their nodes' resolv.conf and serve cluster.local: the same, as far as the files say
    assert verdicts.outcome("FC-DNS-002", "aws-kubeadm-v1.8") == "pass"
    assert verdicts.outcome("FC-DNS-003", "kind-v1.21-quick") == "pass"
    assert verdicts.outcome("FC-DNS-005", "kind-v1.21-quick") == "pass"
    assert verdicts.outcome("FC-DNS-005", "aws-kubeadm-v1.8") == "fail"
