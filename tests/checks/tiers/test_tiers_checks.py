"""FC-TIER-001..003 on real-shaped snapshot fleets: one inner run per fleet, verdicts read from results.json."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from fleetcheck.facts.tiers import TierDeclaration, normalize_tier, read_tier

MODULE = "test_tiers.py"


def _calico(kit: ModuleType, version: str) -> Any:
    return kit.daemonset("calico-node", "kube-system", f"quay.io/calico/node:{version}")


def _cluster(
    kit: ModuleType, root: Path, name: str, labels: dict[str, str], version: str | None = "v1.31.4", cni: Any = None
) -> Path:
    objects = [kit.namespace("team-a"), *([cni] if cni is not None else [])]
    return kit.write_snapshot(root / name, objects, labels=labels, server_version=version)


# -- fleetcheck.facts.tiers ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("labels", "tier", "label"),
    [
        ({"tier": "prod"}, "prod", "tier"),
        ({"env": "Production"}, "prod", "env"),
        ({"tier": "1", "env": "stg"}, "staging", "env"),
        ({"tier": "canary", "env": "prod"}, "canary", "tier"),
        ({"env": "sandbox"}, "dev", "env"),
    ],
)
def test_read_tier_accepts_tier_then_env(labels: dict[str, str], tier: str, label: str) -> None:
    declared = read_tier(labels)
    assert (declared.tier, declared.label) == (tier, label)


def test_read_tier_explains_what_is_not_a_tier() -> None:
    declared = read_tier({"tier": "1", "env": "blue"})
    assert declared.tier is None
    assert declared.problem() == "tier='1', env='blue' are not a tier (dev / staging / canary / prod)"
    assert read_tier({"team": "a"}).problem() == "no tier or env label"
    assert normalize_tier(" PRD ") == "prod"
    assert TierDeclaration("prod", "env", "production").source == "label env=production (prod)"


# -- a guarded fleet ------------------------------------------------------------------------------
@pytest.fixture
def guarded(kit: ModuleType, run: Callable[..., Any], tmp_path: Path, scans: dict[str, Any]) -> Any:
    """Two prod clusters, a current canary, a dev cluster, an untiered lab and a staging cluster via ``env``."""
    if "guarded" in scans:
        return scans["guarded"]
    snapshots = [
        _cluster(kit, tmp_path, "prod-eu", {"tier": "prod", "region": "eu-west"}, "v1.31.4", _calico(kit, "v3.28.2")),
        _cluster(kit, tmp_path, "prod-us", {"env": "production"}, "v1.30.6", _calico(kit, "v3.28.1")),
        _cluster(kit, tmp_path, "canary-eu", {"tier": "canary"}, "v1.31.5", _calico(kit, "v3.28.2")),
        _cluster(kit, tmp_path, "dev-1", {"tier": "dev"}, "v1.32.0", _calico(kit, "v3.29.0")),
        _cluster(kit, tmp_path, "lab", {"tier": "1", "team": "platform"}),
        _cluster(kit, tmp_path, "staging-1", {"tier": "1", "env": "stg"}),
    ]
    scans["guarded"] = run(MODULE, snapshots)
    return scans["guarded"]


def test_tier_declared_passes_with_canonical_alias_or_env_fallback(guarded: Any) -> None:
    for name in ("prod-eu", "prod-us", "canary-eu", "dev-1", "staging-1"):
        assert guarded.outcome("FC-TIER-001", name) == "pass", name


def test_tier_missing_fails_naming_the_label_found(guarded: Any) -> None:
    assert guarded.outcome("FC-TIER-001", "lab") == "fail"
    message = guarded.message("FC-TIER-001", "lab")
    assert "cluster lab declares no promotion tier: tier='1' is not a tier" in message
    assert "expected label tier (or env) set to one of dev, staging, canary, prod" in message


def test_prod_guarded_by_canary_passes_and_other_tiers_skip(guarded: Any) -> None:
    assert guarded.outcome("FC-TIER-002", "prod-eu") == "pass"
    assert guarded.outcome("FC-TIER-002", "prod-us") == "pass"
    assert guarded.outcome("FC-TIER-002", "canary-eu") == "skip"
    assert "only prod clusters need" in guarded.message("FC-TIER-002", "canary-eu")
    assert guarded.outcome("FC-TIER-002", "lab") == "skip"
    assert "FC-TIER-001 reports it" in guarded.message("FC-TIER-002", "lab")


def test_current_canary_passes_and_prod_skips(guarded: Any) -> None:
    assert guarded.outcome("FC-TIER-003", "canary-eu") == "pass"
    assert guarded.outcome("FC-TIER-003", "prod-eu") == "skip"
    assert "judges the canary clusters that guard prod" in guarded.message("FC-TIER-003", "prod-eu")
    assert guarded.outcome("FC-TIER-003", "dev-1") == "skip"
    assert "dev cluster (label tier=dev)" in guarded.message("FC-TIER-003", "dev-1")


# -- unguarded prod -------------------------------------------------------------------------------
def test_prod_without_canary_or_staging_fails(kit: ModuleType, run: Callable[..., Any], tmp_path: Path) -> None:
    snapshots = [
        _cluster(kit, tmp_path, "prod-solo", {"tier": "prod"}),
        _cluster(kit, tmp_path, "dev-x", {"env": "development"}),
        _cluster(kit, tmp_path, "prod-two", {"tier": "prod"}),
    ]
    results = run(MODULE, snapshots)
    assert results.outcome("FC-TIER-002", "prod-solo") == "fail"
    message = results.message("FC-TIER-002", "prod-solo")
    assert message.startswith("prod cluster prod-solo has no canary or staging cluster of profile default ahead of it")
    assert "the other clusters of profile default are dev-x (dev), prod-two (prod)" in message
    assert "expected at least one cluster of the same profile labelled tier=canary or tier=staging" in message
    assert results.objects("FC-TIER-002", "prod-solo") == []
    assert results.outcome("FC-TIER-002", "dev-x") == "skip"
    # no canary in the fleet: nothing for FC-TIER-003 to judge on the prod clusters
    assert results.outcome("FC-TIER-003", "prod-solo") == "skip"


def test_lone_prod_cluster_is_told_it_is_alone(kit: ModuleType, run: Callable[..., Any], tmp_path: Path) -> None:
    results = run(MODULE, [_cluster(kit, tmp_path, "prod-only", {"tier": "prod"})])
    assert results.outcome("FC-TIER-002", "prod-only") == "fail"
    assert "it is the only cluster of profile default in the fleet" in results.message("FC-TIER-002", "prod-only")


# -- canaries behind prod -------------------------------------------------------------------------
@pytest.fixture
def lagging(kit: ModuleType, run: Callable[..., Any], tmp_path: Path, scans: dict[str, Any]) -> Any:
    """Prod on 1.31/calico v3.28.2 and 1.30/v3.27.0; one canary behind both ways, one on another CNI."""
    if "lagging" in scans:
        return scans["lagging"]
    cilium = kit.daemonset("cilium", "kube-system", "quay.io/cilium/cilium:v1.16.3")
    snapshots = [
        _cluster(kit, tmp_path, "prod-a", {"tier": "prod"}, "v1.31.4", _calico(kit, "v3.28.2")),
        _cluster(kit, tmp_path, "prod-b", {"tier": "prod"}, "v1.30.2", _calico(kit, "v3.27.0")),
        _cluster(kit, tmp_path, "prod-c", {"tier": "prod"}, None, _calico(kit, "v3.28.2")),
        _cluster(kit, tmp_path, "canary-old", {"tier": "canary"}, "v1.30.9", _calico(kit, "v3.28.1")),
        _cluster(kit, tmp_path, "canary-cilium", {"tier": "canary"}, "v1.31.4", cilium),
    ]
    scans["lagging"] = run(MODULE, snapshots)
    return scans["lagging"]


def test_canary_behind_prod_fails_naming_the_newer_prod(lagging: Any) -> None:
    assert lagging.outcome("FC-TIER-003", "canary-old") == "fail"
    message = lagging.message("FC-TIER-003", "canary-old")
    assert "canary canary-old guards prod clusters of profile default but runs older versions" in message
    assert "Kubernetes 1.30 (v1.30.9) is older than prod: prod-a on 1.31 (v1.31.4)" in message
    assert "calico v3.28.1 (kube-system/DaemonSet/calico-node) is older than prod: prod-a on v3.28.2" in message
    assert "prod-b" not in message.split("; not compared")[0]
    assert "; not compared, unreadable: prod-c (cannot list version on prod-c" in message
    assert "expected the canary on each prod cluster's Kubernetes minor and CNI version or newer" in message
    assert lagging.objects("FC-TIER-003", "canary-old") == ["kube-system/DaemonSet/calico-node"]


def test_canary_on_another_cni_fails(lagging: Any) -> None:
    assert lagging.outcome("FC-TIER-003", "canary-cilium") == "fail"
    message = lagging.message("FC-TIER-003", "canary-cilium")
    assert "it runs cilium v1.16.3 but prod-a runs calico v3.28.2, prod-b runs calico v3.27.0" in message
    assert "Kubernetes 1." not in message
    assert lagging.objects("FC-TIER-003", "canary-cilium") == ["kube-system/DaemonSet/cilium"]


def test_minor_precision_ignores_a_patch_behind(kit: ModuleType, run: Callable[..., Any], tmp_path: Path) -> None:
    profile = kit.write_profile(tmp_path / "profiles", settings={"FC-TIER-003": {"cni_precision": "minor"}})
    snapshots = [
        _cluster(kit, tmp_path, "prod-a", {"tier": "prod"}, "v1.31.4", _calico(kit, "v3.28.2")),
        _cluster(kit, tmp_path, "canary-a", {"tier": "canary"}, "v1.31.1", _calico(kit, "v3.28.1")),
    ]
    results = run(MODULE, snapshots, profile=profile)
    assert results.outcome("FC-TIER-003", "canary-a") == "pass"
    assert results.outcome("FC-TIER-002", "prod-a") == "pass"
