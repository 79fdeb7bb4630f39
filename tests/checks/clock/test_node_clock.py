"""FC-CLOCK-001: node clocks estimated from kube-node-lease Leases against the API server's time at read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

CODE = "FC-CLOCK-001"


def test_leases_renewed_within_the_renew_interval_pass(
    run_clock_checks: Any, snapshots: Any, clock_cluster: Any
) -> None:
    in_sync = clock_cluster("prod-a", {"cp-1": (True, -2.5), "worker-1": (True, -9.0), "worker-2": (True, 0.4)})
    verdicts = run_clock_checks(*snapshots(in_sync))
    assert verdicts.outcome(CODE, "prod-a") == "pass"
    assert "renewed its lease within the threshold" in verdicts.message(CODE, "prod-a")


def test_ready_node_with_a_lease_far_in_the_past_is_behind(
    run_clock_checks: Any, snapshots: Any, clock_cluster: Any
) -> None:
    behind = clock_cluster("prod-b", {"cp-1": (True, -3.0), "worker-1": (True, -305.0)})
    verdicts = run_clock_checks(*snapshots(behind))
    record = verdicts[(CODE, "prod-b")]
    assert record["outcome"] == "fail"
    assert record["objects"] == ["Node/worker-1"]
    message = record["message"]
    assert "1 of 2 Ready nodes have a clock more than 60 s off the API server's (2026-11-24T10:00:00Z" in message
    assert "Node/worker-1: clock about 295-305 s behind" in message
    assert "kube-node-lease/Lease/worker-1 renewTime 2026-11-24T09:54:55.000000Z, yet the node is Ready" in message


def test_lease_in_the_future_is_ahead(run_clock_checks: Any, snapshots: Any, clock_cluster: Any) -> None:
    ahead = clock_cluster("prod-c", {"cp-1": (True, -1.0), "worker-1": (True, 125.0), "worker-2": (True, 61.5)})
    verdicts = run_clock_checks(*snapshots(ahead))
    record = verdicts[(CODE, "prod-c")]
    assert record["outcome"] == "fail"
    assert record["objects"] == ["Node/worker-1", "Node/worker-2"]
    assert "Node/worker-1: clock about 125 s ahead (kube-node-lease/Lease/worker-1 renewTime" in record["message"]
    assert "in the API server's future" in record["message"]


def test_not_ready_node_with_a_stale_lease_is_not_judged(
    run_clock_checks: Any, snapshots: Any, clock_cluster: Any
) -> None:
    # a dead kubelet leaves its lease behind too: only Ready nodes say something about clocks
    dead = clock_cluster("prod-d", {"cp-1": (True, -4.0), "worker-1": (False, -1200.0)})
    verdicts = run_clock_checks(*snapshots(dead))
    assert verdicts.outcome(CODE, "prod-d") == "pass"


def test_threshold_is_a_profile_setting(
    run_clock_checks: Any, snapshots: Any, clock_cluster: Any, profile_file: Any
) -> None:
    # 45 s behind: within the default 60 s (plus the 10 s renew interval), not within a 20 s threshold
    slightly = clock_cluster("prod-e", {"cp-1": (True, -2.0), "worker-1": (True, -45.0)})
    args = snapshots(slightly)
    assert run_clock_checks(*args).outcome(CODE, "prod-e") == "pass"
    strict = profile_file("strict-clocks", settings={CODE: {"threshold_seconds": 20}})
    verdicts = run_clock_checks(*args, "--profile", strict)
    assert verdicts.outcome(CODE, "prod-e") == "fail"
    assert "more than 20 s off" in verdicts.message(CODE, "prod-e")
    assert "clock about 35-45 s behind" in verdicts.message(CODE, "prod-e")


def test_bad_threshold_setting_is_a_config_error(
    run_clock_checks: Any, snapshots: Any, clock_cluster: Any, profile_file: Any
) -> None:
    args = snapshots(clock_cluster("prod-f", {"cp-1": (True, -2.0)}))
    broken = profile_file("broken", settings={CODE: {"threshold_seconds": 0}})
    verdicts = run_clock_checks(*args, "--profile", broken)
    assert verdicts.outcome(CODE, "prod-f") == "error"
    assert "settings.FC-CLOCK-001.threshold_seconds" in verdicts.message(CODE, "prod-f")


def test_cluster_without_node_leases_is_skipped(run_clock_checks: Any, snapshots: Any, clock_cluster: Any) -> None:
    old = clock_cluster("legacy", {"master-1": (True, None), "node-1": (True, None)})
    verdicts = run_clock_checks(*snapshots(old))
    assert verdicts.outcome(CODE, "legacy") == "skip"
    assert "no kube-node-lease Lease for any of the 2 Ready nodes" in verdicts.message(CODE, "legacy")


def test_cluster_without_ready_nodes_is_skipped(run_clock_checks: Any, snapshots: Any, clock_cluster: Any) -> None:
    down = clock_cluster("down", {"cp-1": (False, -600.0)})
    verdicts = run_clock_checks(*snapshots(down))
    assert verdicts.outcome(CODE, "down") == "skip"
    assert "none of the 1 nodes is Ready" in verdicts.message(CODE, "down")


def test_real_captures_from_the_corpus(run_clock_checks: Any, corpus: Path) -> None:
    """Sonobuoy captures declare no capture time, so node clocks cannot be judged: skip, never a guess.

    (kind v1.21's newest timestamp is its own lease renewal.) The kubeadm v1.8 capture predates node
    Leases: sonobuoy never listed them, so the snapshot does not hold them, and the check errors naming
    the kind instead of deciding from Leases it was not given.
    """
    sonobuoy = corpus / "sonobuoy"
    verdicts = run_clock_checks(
        "--snapshot", str(sonobuoy / "kind-v1.21-quick"), "--snapshot", str(sonobuoy / "aws-kubeadm-v1.8")
    )
    assert verdicts.outcome(CODE, "kind-v1.21-quick") == "skip"
    assert verdicts.outcome(CODE, "aws-kubeadm-v1.8") == "error"
    assert "the snapshot holds no leases.coordination.k8s.io" in verdicts.message(CODE, "aws-kubeadm-v1.8")
    assert "declares no capture time" in verdicts.message(CODE, "kind-v1.21-quick")


def test_live_cluster_is_judged_by_the_date_header_of_the_lease_list(
    run_clock_checks: Any, replayed: Any, clock_cluster: Any
) -> None:
    """Replayed clusters: leases are rebased to "now"; an API server clock 2 minutes ahead makes nodes look behind."""
    server, fleet = replayed(
        clock_cluster("live-ok", {"cp-1": (True, -2.0), "worker-1": (True, -6.0)}),
        clock_cluster("live-skewed", {"cp-1": (True, -2.0), "worker-1": (True, -6.0)}),
    )
    server.set_clock_offset("live-skewed", 120)
    verdicts = run_clock_checks("--fleet", str(fleet))
    assert verdicts.outcome(CODE, "live-ok") == "pass"
    assert verdicts.outcome(CODE, "live-skewed") == "fail"
    assert "2 of 2 Ready nodes have a clock more than 60 s off" in verdicts.message(CODE, "live-skewed")
    assert "Node/cp-1: clock about 1" in verdicts.message(CODE, "live-skewed")
