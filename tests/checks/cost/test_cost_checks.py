"""FC-COST-001 on real-shaped snapshot fleets: one inner run per fleet, verdicts read from results.json."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

MODULE = "test_cost.py"
CODE = "FC-COST-001"


def _pods(kit: ModuleType, ns: str, count: int, *, phase: str = "Running", prefix: str = "web") -> list[Any]:
    return [kit.pod(f"{prefix}-{ns}-{i}", ns, phase=phase) for i in range(count)]


def _small(kit: ModuleType) -> list[Any]:
    """5 + 2 running tenant pods, 3 completed Job pods, and a busy kube-system."""
    return [
        kit.namespace("team-a"),
        kit.namespace("team-b"),
        *_pods(kit, "team-a", 5),
        *_pods(kit, "team-b", 2),
        *_pods(kit, "team-a", 2, phase="Succeeded", prefix="report"),
        *_pods(kit, "team-b", 1, phase="Failed", prefix="migrate"),
        *_pods(kit, "kube-system", 30, prefix="coredns"),
        *_pods(kit, "monitoring", 8, prefix="prometheus"),
    ]


@pytest.fixture
def fleet(kit: ModuleType, run: Callable[..., Any], tmp_path: Path, scans: dict[str, Any]) -> Any:
    """A small cluster, a busy one and an empty one, scanned once for the module."""
    if "cost" not in scans:
        busy = [kit.namespace(ns) for ns in ("shop", "search", "ads")]
        busy += _pods(kit, "shop", 12) + _pods(kit, "search", 8) + _pods(kit, "ads", 5)
        snapshots = [
            kit.write_snapshot(tmp_path / "small", _small(kit), labels={"tier": "prod"}),
            kit.write_snapshot(tmp_path / "busy", busy, labels={"tier": "prod"}),
            kit.write_snapshot(tmp_path / "empty", _pods(kit, "kube-system", 12, prefix="kube-proxy")),
        ]
        scans["cost"] = run(MODULE, snapshots)
    return scans["cost"]


def test_cluster_with_enough_tenant_pods_passes(fleet: Any) -> None:
    assert fleet.outcome(CODE, "busy") == "pass"


def test_small_cluster_fails_with_counts_cost_fact_and_estimate(fleet: Any) -> None:
    assert fleet.outcome(CODE, "small") == "fail"
    message = fleet.message(CODE, "small")
    assert message.startswith(
        "only 7 non-system pods run on small in 2 tenant namespaces (team-a 5, team-b 2), fewer than 20: "
        "a consolidation candidate; expected its workloads as a namespace or a vCluster on a shared cluster."
    )
    assert (
        "A control plane costs roughly $70-300/month per cluster (managed control-plane fee plus system nodes)"
        in message
    )
    assert (
        "estimate: retiring this cluster saves about $70-300/month ($840-3,600/year) of fixed cost, "
        "$10-43 of overhead per pod per month today" in message
    )
    assert fleet.objects(CODE, "small") == ["Namespace/team-a", "Namespace/team-b"]
    assert fleet.get(CODE, "small")["severity"] == "info"


def test_cluster_with_only_system_pods_fails(fleet: Any) -> None:
    assert fleet.outcome(CODE, "empty") == "fail"
    message = fleet.message(CODE, "empty")
    assert message.startswith("only 0 non-system pods run on empty, fewer than 20")
    assert "per pod" not in message
    assert fleet.objects(CODE, "empty") == []


def test_profile_settings_change_threshold_and_costs(kit: ModuleType, run: Callable[..., Any], tmp_path: Path) -> None:
    settings = {CODE: {"min_pods": 5, "control_plane_monthly_usd_low": 150, "control_plane_monthly_usd_high": 150}}
    profile = kit.write_profile(tmp_path / "profiles", settings=settings)
    snapshots = [
        kit.write_snapshot(tmp_path / "small", _small(kit)),
        kit.write_snapshot(tmp_path / "tiny", [kit.namespace("team-a"), *_pods(kit, "team-a", 3)]),
    ]
    results = run(MODULE, snapshots, profile=profile)
    assert results.outcome(CODE, "small") == "pass"
    assert results.outcome(CODE, "tiny") == "fail"
    message = results.message(CODE, "tiny")
    assert "fewer than 5" in message
    assert "costs roughly $150/month per cluster" in message
    assert "saves about $150/month ($1,800/year) of fixed cost, $50 of overhead per pod per month" in message


def test_inverted_cost_range_is_a_config_error(kit: ModuleType, run: Callable[..., Any], tmp_path: Path) -> None:
    settings = {CODE: {"control_plane_monthly_usd_low": 300, "control_plane_monthly_usd_high": 70}}
    profile = kit.write_profile(tmp_path / "profiles", settings=settings)
    results = run(MODULE, [kit.write_snapshot(tmp_path / "small", _small(kit))], profile=profile)
    assert results.outcome(CODE, "small") == "error"
    assert "control_plane_monthly_usd_high is below control_plane_monthly_usd_low" in results.message(CODE, "small")
