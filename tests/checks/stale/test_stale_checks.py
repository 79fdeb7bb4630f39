"""FC-STALE-001..003 on real-shaped snapshot fleets: one inner run per fleet, verdicts read from results.json."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

MODULE = "test_stale.py"


def _kube_system(kit: ModuleType, *, days_old: float = 400, **annotations: str) -> Any:
    return kit.namespace("kube-system", created=kit.ago(days_old), annotations=annotations or None)


@pytest.fixture
def fleet(kit: ModuleType, run: Callable[..., Any], tmp_path: Path, scans: dict[str, Any]) -> Any:
    """One cluster per ownership/activity scenario, scanned once for the module."""
    if "stale" not in scans:
        scans["stale"] = _scan(kit, run, tmp_path)
    return scans["stale"]


def _scan(kit: ModuleType, run: Callable[..., Any], tmp_path: Path) -> Any:
    recent = [kit.namespace("team-a"), *kit.deployment("web", "team-a", created=kit.ago(300), rolled=kit.ago(5))]
    condition_only = kit.deployment("api", "team-a", created=kit.ago(200), rolled=kit.ago(3))[0]
    quiet = [
        kit.namespace("team-a"),
        *kit.deployment("web", "team-a", created=kit.ago(150), rolled=kit.ago(100)),
        kit.statefulset("db", "team-a", created=kit.ago(120)),
        # platform add-ons keep changing; they are not tenant activity
        kit.daemonset("node-exporter", "monitoring", "quay.io/prometheus/node-exporter:v1.8.2", created=kit.ago(1)),
        *kit.deployment("coredns", "kube-system", created=kit.ago(400), rolled=kit.ago(2)),
    ]
    scenarios: dict[str, tuple[dict[str, str], list[Any]]] = {
        "owned": ({"owner": "team-a", "expires": "2027-06-30"}, recent),
        "annotated": (
            {},
            [
                _kube_system(kit, **{"fleetcheck.io/owner": "team-b", "fleetcheck.io/review": "2027-01-15"}),
                kit.namespace("team-a"),
                condition_only,
            ],
        ),
        "orphan": ({"env": "dev", "team": "research"}, quiet),
        "bad-date": ({"owner": "team-c", "expires": "next spring"}, recent),
        "expired": ({"owner": "team-d", "expires": "2026-09-30"}, recent),
        "last-day": ({"owner": "team-e", "expires": "2026-11-24"}, recent),
        "review-passed": (
            {"owner": "team-f", "expires": "2027-12-31"},
            [_kube_system(kit, **{"fleetcheck.io/review": "2026-11-01T12:00:00Z"}), *recent],
        ),
        "label-wins": (
            {"owner": "team-g", "expires": "2027-03-01"},
            [_kube_system(kit, **{"fleetcheck.io/expires": "2025-01-01"}), *recent],
        ),
        "young": ({"owner": "team-h", "review": "2027-01-01"}, [_kube_system(kit, days_old=10)]),
        "empty": ({"owner": "team-i", "review": "2027-01-01"}, [kit.namespace("team-a")]),
    }
    snapshots = [
        kit.write_snapshot(tmp_path / name, objects, labels=labels) for name, (labels, objects) in scenarios.items()
    ]
    return run(MODULE, snapshots)


# -- FC-STALE-001 ---------------------------------------------------------------------------------
def test_owner_and_date_from_labels_or_kube_system_annotations_pass(fleet: Any) -> None:
    for name in ("owned", "annotated", "expired", "review-passed", "label-wins", "young"):
        assert fleet.outcome("FC-STALE-001", name) == "pass", name


def test_no_owner_and_no_date_fails_saying_where_to_put_them(fleet: Any) -> None:
    assert fleet.outcome("FC-STALE-001", "orphan") == "fail"
    message = fleet.message("FC-STALE-001", "orphan")
    assert message.startswith("cluster orphan has no owner (registry label owner, or kube-system annotation")
    assert "fleetcheck.io/owner" in message
    assert "and no expiry or review date (registry label expires or review" in message
    assert "expected an owner and an expiry or review date as YYYY-MM-DD" in message


def test_unparseable_date_counts_as_missing(fleet: Any) -> None:
    assert fleet.outcome("FC-STALE-001", "bad-date") == "fail"
    message = fleet.message("FC-STALE-001", "bad-date")
    assert "no expiry or review date (registry label expires is 'next spring', not a date)" in message
    assert "no owner" not in message


# -- FC-STALE-002 ---------------------------------------------------------------------------------
def test_expired_cluster_fails_with_date_age_and_owner(fleet: Any) -> None:
    assert fleet.outcome("FC-STALE-002", "expired") == "fail"
    message = fleet.message("FC-STALE-002", "expired")
    assert "cluster expired is past its date: expires 2026-09-30 (registry label expires), 55 days ago" in message
    assert "(the cluster's now is 2026-11-24T10:00Z)" in message
    assert "owner team-d (registry label owner)" in message
    assert "expected a date after now" in message


def test_review_annotation_is_judged_beside_the_label(fleet: Any) -> None:
    assert fleet.outcome("FC-STALE-002", "review-passed") == "fail"
    message = fleet.message("FC-STALE-002", "review-passed")
    assert "review 2026-11-01T12:00:00Z (kube-system annotation fleetcheck.io/review), 22 days ago" in message
    assert "2027-12-31" not in message


def test_future_dates_and_the_last_day_pass(fleet: Any) -> None:
    for name in ("owned", "annotated", "last-day", "label-wins"):
        assert fleet.outcome("FC-STALE-002", name) == "pass", name


def test_no_date_skips_expiry(fleet: Any) -> None:
    for name in ("orphan", "bad-date"):
        assert fleet.outcome("FC-STALE-002", name) == "skip"
        assert "FC-STALE-001 reports it" in fleet.message("FC-STALE-002", name)


# -- FC-STALE-003 ---------------------------------------------------------------------------------
def test_recent_rollout_or_condition_update_passes(fleet: Any) -> None:
    assert fleet.outcome("FC-STALE-003", "owned") == "pass"
    # the Deployment's ReplicaSet is not listed; its Progressing condition was updated 3 days ago
    assert fleet.outcome("FC-STALE-003", "annotated") == "pass"


def test_quiet_tenant_namespaces_fail_naming_the_newest_change(fleet: Any) -> None:
    assert fleet.outcome("FC-STALE-003", "orphan") == "fail"
    message = fleet.message("FC-STALE-003", "orphan")
    assert message.startswith("no workload in a tenant namespace was created or changed in the last 30 days")
    assert "the newest change is team-a/Deployment/web (condition Progressing updated 2026-08-16T10:02Z)" in message
    assert "99 days before the cluster's now (2026-11-24T10:00Z)" in message
    assert "expected a change within 30 days, or the cluster decommissioned" in message
    assert fleet.objects("FC-STALE-003", "orphan") == ["team-a/Deployment/web"]


def test_young_cluster_skips_and_empty_cluster_fails(fleet: Any) -> None:
    assert fleet.outcome("FC-STALE-003", "young") == "skip"
    assert "the cluster is only 10 days old (kube-system created 2026-11-14)" in fleet.message("FC-STALE-003", "young")
    assert fleet.outcome("FC-STALE-003", "empty") == "fail"
    assert "no workload (Deployment, StatefulSet, DaemonSet, ReplicaSet) runs in a tenant namespace of empty" in (
        fleet.message("FC-STALE-003", "empty")
    )


def test_idle_days_setting_widens_the_window(kit: ModuleType, run: Callable[..., Any], tmp_path: Path) -> None:
    profile = kit.write_profile(tmp_path / "profiles", settings={"FC-STALE-003": {"idle_days": 120}})
    quiet = [kit.namespace("team-a"), *kit.deployment("web", "team-a", created=kit.ago(150), rolled=kit.ago(100))]
    results = run(MODULE, [kit.write_snapshot(tmp_path / "standby", quiet, labels={"owner": "dr"})], profile=profile)
    assert results.outcome("FC-STALE-003", "standby") == "pass"
