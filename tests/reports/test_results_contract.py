"""The typed results contract: the shipped JSON Schema is the models', and a real scan's results.json follows it.

A scan writes each cluster's ``facts`` (dimension -> value, null for
unknown or unreadable, never a made-up value) and the fleet's ``drift``
(CHECKS.md "Result contract"); ``fleetcheck report`` re-renders it byte for
byte (tests/security/test_report_atomicity.py pins that for every file).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fleetcheck.facts.dimensions import dimension_names
from fleetcheck.results import ResultsDocument
from fleetcheck.verdicts.schema import SCHEMA_FILE, schema_text
from tests.checks.rbac.fleet_objects import write_snapshot
from tests.facts import fleet_kit as kit
from tests.results_contract import problems
from tests.security.kit import check_module, scan_args

REPO = Path(__file__).resolve().parents[2]


def test_the_shipped_schema_is_the_models_schema() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), "run scripts/results_schema.py"
    check = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "results_schema.py"), "--check"], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Three readable clusters (two on one side), one that holds every kind empty, one that holds none we need."""
    root = tmp_path_factory.mktemp("contract")
    snaps = [kit.write_cluster(root / "snaps", n, s, "prod") for n, s in (("a", kit.A), ("b", kit.A), ("c", kit.B))]
    snaps.append(write_snapshot(root / "snaps", "empty", [], labels={"tier": "prod"}))
    partial = write_snapshot(root / "snaps", "partial", [], labels={"tier": "prod"})
    for held in ("apps_v1_daemonsets", "core_v1_configmaps", "core_v1_pods"):
        (partial / f"{held}.json").unlink()  # not captured: the snapshot does not hold these kinds
    snaps.append(partial)
    out = root / "reports"
    args = scan_args([check_module("cni"), check_module("quota")], out, "-p", "no:randomly", "-q")
    for folder in snaps:
        args += ["--snapshot", str(folder)]
    run = subprocess.run([sys.executable, "-m", "pytest", *args], capture_output=True, text=True, cwd=root)
    assert run.returncode in (0, 1), run.stdout[-3000:] + run.stderr[-3000:]
    data: dict[str, Any] = json.loads((out / "results.json").read_text())
    return data


def test_a_scan_results_json_follows_the_schema(scan: dict[str, Any]) -> None:
    assert problems(scan) == []
    doc = ResultsDocument.model_validate(scan)
    assert doc.to_json_bytes() == json.dumps(scan, indent=2, ensure_ascii=False).encode() + b"\n"


def test_every_cluster_has_every_fact_and_unknown_is_null(scan: dict[str, Any]) -> None:
    facts = {c["name"]: c["facts"] for c in scan["clusters"]}
    assert set(facts) == {"a", "b", "c", "empty", "partial"}
    assert all(list(f) == list(dimension_names()) for f in facts.values())
    assert facts["a"]["cni"] == facts["b"]["cni"] == "calico" and facts["c"]["cni"] == "cilium"
    assert facts["a"]["dns.upstreams"] == ["10.0.0.2", "10.0.0.3"]
    # no DaemonSet is a CNI agent: unknown; not captured at all: unreadable; both null, never "none"
    for name in ("empty", "partial"):
        assert facts[name]["cni"] is None and facts[name]["dns.upstreams"] is None, name
    assert facts["partial"]["oidc.issuers"] is None


def test_the_drift_block_names_the_outlier(scan: dict[str, Any]) -> None:
    drift = scan["drift"]
    assert drift["schema"] == "fleetcheck/drift/v1" and drift["clusters"] == 5
    (cohort,) = drift["cohorts"]
    cni = next(d for d in cohort["dimensions"] if d["name"] == "cni")
    assert cni["standard"] == "calico" and [o["cluster"] for o in cni["outliers"]] == ["c"]
    assert cni["unknown"] == ["empty"] and [u["cluster"] for u in cni["unreadable"]] == ["partial"]
    assert "daemonsets" in cni["unreadable"][0]["value"]


def test_the_schema_rejects_undeclared_and_mistyped_fields(scan: dict[str, Any]) -> None:
    extra = {**scan, "clusters": [{**scan["clusters"][0], "sneaky": 1}, *scan["clusters"][1:]]}
    assert any("sneaky" in p for p in problems(extra))
    mistyped = {**scan, "results": [{**scan["results"][0], "outcome": "maybe"}]}
    assert any(p.startswith("results/0/outcome") for p in problems(mistyped))
    assert problems({**scan, "schema": "fleetcheck/v0"})
