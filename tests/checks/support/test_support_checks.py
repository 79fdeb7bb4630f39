"""FC-SUP-001/002 against the shipped calendar, with the cluster's capture time as "now"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.checks.gotcha_kit import meta, profile, scan, write_snapshot


def node(name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": meta(name, labels=labels),
        "spec": {},
        "status": {"nodeInfo": {"kubeletVersion": "v1.31.4"}},
    }


def test_upstream_support(pytester: pytest.Pytester, tmp_path: Path) -> None:
    fresh = write_snapshot(tmp_path / "fresh", [], server_version="v1.35.1")
    old = write_snapshot(tmp_path / "old", [], server_version="v1.33.7")
    future = write_snapshot(tmp_path / "future", [], server_version="v1.40.0")
    ancient = write_snapshot(tmp_path / "ancient", [], server_version="v1.12.3")
    verdicts = scan(pytester, "test_support.py", fresh, old, future, ancient)
    assert verdicts.outcome("FC-SUP-001", "fresh") == "pass"
    assert verdicts.outcome("FC-SUP-001", "old") == "fail"
    assert "reached upstream end of life on 2026-06-28, 149 days before 2026-11-24" in verdicts.message(
        "FC-SUP-001", "old"
    )
    assert "support_calendar.yaml (https://kubernetes.io/releases/, taken" in verdicts.message("FC-SUP-001", "old")
    assert verdicts.outcome("FC-SUP-001", "future") == "skip"
    assert verdicts.outcome("FC-SUP-001", "ancient") == "fail"


def test_provider_support(pytester: pytest.Pytester, tmp_path: Path) -> None:
    eks = write_snapshot(tmp_path / "eks", [], server_version="v1.31.13-eks-3025e55")
    gke = write_snapshot(tmp_path / "gke", [], server_version="v1.35.1-gke.1396000")
    aks = write_snapshot(tmp_path / "aks", [node("aks-pool-1", {"kubernetes.azure.com/cluster": "MC_rg"})])
    plain = write_snapshot(tmp_path / "plain", [node("worker-1", {"kubernetes.io/os": "linux"})])
    verdicts = scan(pytester, "test_support.py", eks, gke, aks, plain)
    assert verdicts.outcome("FC-SUP-002", "eks") == "fail"
    message = verdicts.message("FC-SUP-002", "eks")
    assert "eks (from gitVersion v1.31.13-eks-3025e55) ended standard support" in message
    assert "on 2025-11-26" in message and "in paid extended support until 2026-11-26" in message
    assert verdicts.outcome("FC-SUP-002", "gke") == "pass"
    assert verdicts.outcome("FC-SUP-002", "aks") == "skip"
    assert "no support dates for 1.35" in verdicts.message("FC-SUP-002", "aks")
    assert verdicts.outcome("FC-SUP-002", "plain") == "skip"


def test_provider_calendar_overrides(pytester: pytest.Pytester, tmp_path: Path) -> None:
    aks = write_snapshot(
        tmp_path / "aks", [node("aks-pool-1", {"kubernetes.azure.com/cluster": "MC_rg"})], server_version="v1.33.7"
    )
    prof = profile(tmp_path / "p.yaml", {"FC-SUP-002": {"standard_end": {"1.33": "2026-06-30"}}})
    verdicts = scan(pytester, "test_support.py", aks, profile=prof)
    assert verdicts.outcome("FC-SUP-002", "aks") == "fail"
    assert "profile setting standard_end" in verdicts.message("FC-SUP-002", "aks")
