"""FC-VER-001: the Kubernetes minor against the newest of the same-profile clusters (pytester)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml


def snapshot(k8s: ModuleType, root: Path, name: str, version: str | None) -> Path:
    objects = [k8s.daemonset("kube-proxy", "kube-system", [("kube-proxy", f"registry.k8s.io/kube-proxy:{version}")])]
    return k8s.write_snapshot(root, name, objects, server_version=version)


def test_two_minors_behind_the_newest_fails(k8s: ModuleType, tmp_path: Path, run_checks: Callable[..., Any]) -> None:
    snaps = [
        snapshot(k8s, tmp_path, "prod-a", "v1.31.4"),
        snapshot(k8s, tmp_path, "prod-b", "v1.30.2"),
        snapshot(k8s, tmp_path, "prod-c", "v1.29.8-eks-a737599"),
        snapshot(k8s, tmp_path, "prod-unknown", None),
    ]
    run = run_checks("test_version.py", *snaps)
    assert run.outcomes("FC-VER-001") == {"prod-a": "pass", "prod-b": "pass", "prod-c": "fail", "prod-unknown": "error"}
    verdict = run["FC-VER-001", "prod-c"]
    assert verdict.message.startswith(
        "Kubernetes v1.29.8-eks-a737599 (minor 1.29) is 2 minors behind 1.31, the newest of 3 clusters of cohort "
        "profile default: 1.31 on prod-a; not counted: prod-unknown (unreadable: cannot list version on prod-unknown: "
        "the snapshot records no server version"
    )
    assert verdict.message.endswith("expected 1.30 or newer")
    assert "FC-VER-001 [prod-c] fail: Kubernetes v1.29.8-eks-a737599" in run.stdout
    assert "records no server version" in run["FC-VER-001", "prod-unknown"].message


def test_declared_minor_is_the_reference(
    k8s: ModuleType, tmp_path: Path, run_checks: Callable[..., Any], write_profile: Callable[..., Path]
) -> None:
    snaps = [snapshot(k8s, tmp_path, "prod-a", "v1.31.4"), snapshot(k8s, tmp_path, "prod-b", "v1.34.1")]
    run = run_checks("test_version.py", *snaps, profile=write_profile(standards={"kubernetes_minor": "1.33"}))
    assert run.outcomes("FC-VER-001") == {"prod-a": "fail", "prod-b": "pass"}  # ahead of the standard never fails
    assert run["FC-VER-001", "prod-a"].message == (
        "Kubernetes v1.31.4 (minor 1.31) is 2 minors behind 1.33, declared by profile test "
        "(standards.kubernetes_minor); expected 1.32 or newer"
    )


def test_compared_within_the_profile_only(k8s: ModuleType, tmp_path: Path, run_checks: Callable[..., Any]) -> None:
    """dev upgraded ahead of prod is the promotion process, not drift: each profile is its own comparison group."""
    clusters = [
        {"name": "dev-1", "snapshot": str(snapshot(k8s, tmp_path, "dev-1", "v1.33.1")), "profile": "dev"},
        {"name": "prod-1", "snapshot": str(snapshot(k8s, tmp_path, "prod-1", "v1.31.4")), "profile": "prod"},
        {"name": "prod-2", "snapshot": str(snapshot(k8s, tmp_path, "prod-2", "v1.30.9")), "profile": "prod"},
    ]
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(yaml.safe_dump({"version": 1, "clusters": clusters}))
    run = run_checks("test_version.py", fleet=fleet)
    assert run.outcomes("FC-VER-001") == {"dev-1": "skip", "prod-1": "pass", "prod-2": "pass"}
    assert run["FC-VER-001", "dev-1"].message == (
        "no standard: no other cluster of cohort profile dev has a known value to compare with; declare "
        "standards.kubernetes_minor in profile dev or name a reference cluster (--reference-cluster NAME, or "
        "reference_cluster in the profile)"
    )


def test_version_check_documents_what_why_fix_references() -> None:
    from fleetcheck.catalog import load_catalog

    catalog = load_catalog([Path(__file__).resolve().parents[3] / "checks" / "test_version.py"])
    spec = catalog.get("FC-VER-001")
    assert spec.docs.missing() == []
    assert (spec.factor, spec.severity, spec.scope) == ("boring", "medium", "fleet")
