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


def _levels(team_b: str | None, *, extra: bool = False) -> list[dict]:
    labels = {ENFORCE: team_b} if team_b is not None else {}
    objects = [
        namespace("kube-system", {ENFORCE: "privileged"}),
        namespace("team-a", {ENFORCE: "restricted"}),
        namespace("team-b", labels),
    ]
    if extra:
        objects.append(namespace("sandbox-jane", {ENFORCE: "privileged"}))
    return objects


def test_enforce_levels_against_the_cohort(pytester: pytest.Pytester, tmp_path: Path) -> None:
    a = write_snapshot(tmp_path / "a", _levels("baseline"))
    b = write_snapshot(tmp_path / "b", _levels("baseline"))
    c = write_snapshot(tmp_path / "c", _levels("baseline"))
    loose = write_snapshot(tmp_path / "loose", _levels("privileged", extra=True))
    bare = write_snapshot(tmp_path / "bare", _levels(None))
    verdicts = scan(pytester, "test_pod_security.py", a, b, c, loose, bare)
    assert verdicts.outcome("FC-PSA-002", "a") == "pass"
    assert verdicts.outcome("FC-PSA-002", "loose") == "fail"
    message = verdicts.message("FC-PSA-002", "loose")
    assert "Namespace/team-b: pod-security.kubernetes.io/enforce=privileged here, baseline by the standard" in message
    assert "majority: 3 of 5 clusters of cohort profile default" in message
    # sandbox-jane exists only here: not a namespace of the cohort, not judged
    assert verdicts.objects("FC-PSA-002", "loose") == ["Namespace/team-b"]
    assert verdicts.outcome("FC-PSA-002", "bare") == "fail"
    assert "enforce=(no enforce label) here, baseline" in verdicts.message("FC-PSA-002", "bare")


def test_enforce_levels_split_skips(pytester: pytest.Pytester, tmp_path: Path) -> None:
    a = write_snapshot(tmp_path / "a", _levels("baseline"))
    b = write_snapshot(tmp_path / "b", _levels("privileged"))
    verdicts = scan(pytester, "test_pod_security.py", a, b)
    assert verdicts.outcome("FC-PSA-002", "a") == "pass"  # kube-system and team-a agree; team-b's split is noted
    solo = scan(pytester, "test_pod_security.py", write_snapshot(tmp_path / "solo", _levels("baseline")))
    assert solo.outcome("FC-PSA-002", "solo") == "skip"
