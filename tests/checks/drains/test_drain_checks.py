"""FC-PDB-001 on real-shaped PodDisruptionBudgets (status as the disruption controller writes it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.checks.gotcha_kit import meta, scan, write_snapshot


def pdb(name: str, spec: dict[str, Any], expected: int, healthy: int, desired: int) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": meta(name, "shop", generation=1),
        "spec": {**spec, "selector": {"matchLabels": {"app": name}}},
        "status": {
            "currentHealthy": healthy,
            "desiredHealthy": desired,
            "disruptionsAllowed": max(0, healthy - desired),
            "expectedPods": expected,
            "observedGeneration": 1,
        },
    }


def test_pdbs(pytester: pytest.Pytester, tmp_path: Path) -> None:
    good = write_snapshot(
        tmp_path / "good",
        [
            pdb("web", {"maxUnavailable": 1}, 3, 3, 2),
            pdb("api", {"minAvailable": "50%"}, 4, 4, 2),
            # a budget at 0 because a pod is down is doing its job
            pdb("cache", {"maxUnavailable": 1}, 2, 1, 1),
            # selects nothing yet
            pdb("new", {"minAvailable": 1}, 0, 0, 1),
        ],
    )
    bad = write_snapshot(
        tmp_path / "bad",
        [
            pdb("db", {"maxUnavailable": 0}, 3, 3, 3),
            pdb("worker", {"minAvailable": 1}, 1, 1, 1),
            pdb("search", {"minAvailable": "100%"}, 3, 3, 3),
        ],
    )
    verdicts = scan(pytester, "test_drains.py", good, bad)
    assert verdicts.outcome("FC-PDB-001", "good") == "pass"
    assert verdicts.outcome("FC-PDB-001", "bad") == "fail"
    message = verdicts.message("FC-PDB-001", "bad")
    assert "shop/PodDisruptionBudget/db: maxUnavailable is 0" in message
    assert "shop/PodDisruptionBudget/worker: minAvailable 1 equals the 1 expected pods" in message
    assert "shop/PodDisruptionBudget/search: minAvailable 100% equals the 3 expected pods" in message
