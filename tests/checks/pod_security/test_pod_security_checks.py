"""FC-PSA-001 on real-shaped Namespaces with Pod Security Admission labels."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.checks.gotcha_kit import namespace, profile, scan, write_snapshot

ENFORCE = "pod-security.kubernetes.io/enforce"


def _objects(team_b: dict[str, str]) -> list[dict]:
    return [
        namespace("kube-system"),
        namespace("team-a", {ENFORCE: "restricted", "pod-security.kubernetes.io/enforce-version": "latest"}),
        namespace("team-b", team_b),
    ]


def test_pod_security(pytester: pytest.Pytester, tmp_path: Path) -> None:
    good = write_snapshot(tmp_path / "good", _objects({ENFORCE: "baseline"}), labels={"tier": "prod"})
    bad = write_snapshot(tmp_path / "bad", _objects({ENFORCE: "privileged"}), labels={"tier": "prod"})
    bare = write_snapshot(
        tmp_path / "bare", _objects({"pod-security.kubernetes.io/warn": "baseline"}), labels={"tier": "prod"}
    )
    dev = write_snapshot(tmp_path / "dev", _objects({}), labels={"tier": "dev"})
    verdicts = scan(pytester, "test_pod_security.py", good, bad, bare, dev)
    assert verdicts.outcome("FC-PSA-001", "good") == "pass"
    assert verdicts.outcome("FC-PSA-001", "bad") == "fail"
    assert "Namespace/team-b: pod-security.kubernetes.io/enforce=privileged" in verdicts.message("FC-PSA-001", "bad")
    assert verdicts.objects("FC-PSA-001", "bare") == ["Namespace/team-b"]
    assert verdicts.outcome("FC-PSA-001", "dev") == "skip"


def test_declared_cluster_default_counts(pytester: pytest.Pytester, tmp_path: Path) -> None:
    bare = write_snapshot(tmp_path / "bare", _objects({}), labels={"tier": "prod"})
    prof = profile(tmp_path / "p.yaml", {"FC-PSA-001": {"cluster_default": "baseline"}})
    verdicts = scan(pytester, "test_pod_security.py", bare, profile=prof)
    assert verdicts.outcome("FC-PSA-001", "bare") == "pass"
