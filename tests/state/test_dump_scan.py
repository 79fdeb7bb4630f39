"""A ``kubectl cluster-info dump`` scanned on its own: every check whose kinds the dump lacks errors.

The dump holds nodes and, for the namespaces it dumped, events, replicationcontrollers, services,
daemonsets, deployments, replicasets and pods; no ConfigMaps, Namespaces, RBAC, Leases or CRDs. A check
that needs any of those must give ``error`` naming what the snapshot holds no copy of; none may pass,
fail, or say "not installed" from a kind it was not given (issue: what you cannot see is unknown).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fleetcheck.catalog import load_catalog
from fleetcheck.core.kinds import parse_kind
from tests.builders import node, pod, write_json
from tests.security.kit import CHECKS, records, scan

#: what a cluster-info dump holds (kubectl's clusterinfo_dump.go), as kind keys
DUMPED = (
    "nodes",
    "events",
    "v1 replicationcontrollers",
    "services",
    "daemonsets",
    "deployments",
    "replicasets",
    "pods",
)
DUMP_HOLDS = {parse_kind(k).key for k in DUMPED}


def _typed(kind: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"kind": kind, "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": items}


def _dump(folder: Path) -> Path:
    write_json(folder / "nodes.json", _typed("NodeList", [node("worker-1")]))
    for ns in ("kube-system", "default"):
        for stem in ("events", "replicationcontrollers", "services", "daemonsets", "deployments", "replicasets"):
            write_json(folder / ns / f"{stem}.json", _typed("List", []))
        write_json(folder / ns / "pods.json", _typed("PodList", [pod(ns, f"p-{ns}")]))
    return folder


def test_a_cluster_info_dump_alone_errors_every_check_whose_kinds_it_lacks(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    folder = _dump(tmp_path / "dumped")
    reports = tmp_path / "reports"
    scan(pytester, [CHECKS], reports, "--snapshot", str(folder))
    found = records(reports)
    catalog = load_catalog()
    lacking = {
        code
        for code, spec in catalog.checks.items()
        if any(parse_kind(kind).key not in DUMP_HOLDS for kind in spec.reads)
    }
    assert len(lacking) >= 30  # most checks need something a dump does not hold
    judged = {code: record for (_cluster, code), record in found.items()}
    for code in sorted(lacking):
        record = judged.get(code)
        if record is None or (record["outcome"] == "skip" and record["scope"] == "live"):
            continue  # live checks skip on every snapshot, before reading anything
        assert record["outcome"] == "error", (code, record["outcome"], record["message"])
        assert "the snapshot holds no" in record["message"], (code, record["message"])
    text = json.dumps([r["message"] for r in found.values()])
    assert "not installed" not in text
