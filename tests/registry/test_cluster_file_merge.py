"""A snapshot listed in a fleet file keeps what its own cluster.yaml says: labels and facts merge per key.

The fleet file's entry wins per key over ``cluster.yaml``, which wins over the fleet file's ``defaults``;
``origins`` records where each key came from (``fleetcheck clusters`` shows it). A fleet that lists
snapshots whose labels live only in ``cluster.yaml`` is judged exactly like one repeating them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetcheck.registry.fleet import load_fleet
from tests.builders import write_snapshot
from tests.security.kit import CHECKS, fleet_file, scan

LABELS = {
    "prod-a": {"env": "prod", "tier": "prod", "region": "eu-west", "owner": "team-a", "expires": "2030-01-01"},
    "canary-a": {"env": "prod", "tier": "canary", "region": "eu-west", "owner": "team-a", "expires": "2030-01-01"},
    "edge-1": {"env": "edge", "tier": "edge", "region": "eu-west", "owner": "team-b", "expires": "2026-01-01"},
}


def _namespace(name: str) -> dict[str, Any]:
    meta = {"name": name, "uid": f"uid-{name}", "labels": {"kubernetes.io/metadata.name": name}}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta}


def _snapshots(tmp_path: Path) -> dict[str, Path]:
    objects = [_namespace("kube-system"), _namespace("team-a")]
    return {
        name: write_snapshot(tmp_path / "snaps" / name, objects, name=name, labels=labels)
        for name, labels in LABELS.items()
    }


def test_cluster_yaml_labels_and_facts_merge_under_the_fleet_files(tmp_path: Path) -> None:
    folder = tmp_path / "snap"
    write_snapshot(folder, [_namespace("kube-system")], name="snap", labels={"owner": "team-a", "tier": "dev"})
    meta = yaml.safe_load((folder / "cluster.yaml").read_text(encoding="utf-8"))
    meta["facts"] = {"oidc_issuer": "https://idp.example.com", "oidc_client_id": "captured-id"}
    (folder / "cluster.yaml").write_text(yaml.safe_dump(meta), encoding="utf-8")
    path = fleet_file(
        tmp_path / "fleet.yaml",
        [{"name": "snap", "snapshot": str(folder), "labels": {"tier": "prod"}, "facts": {"oidc_client_id": "k8s"}}],
        defaults={"labels": {"region": "eu-west", "owner": "nobody"}},
    )
    (entry,) = load_fleet(fleet_file=path).clusters
    assert entry.labels == {"region": "eu-west", "owner": "team-a", "tier": "prod"}
    assert entry.facts.oidc_issuer == "https://idp.example.com"
    assert entry.facts.oidc_client_id == "k8s"
    assert entry.origins["labels.owner"] == "snap/cluster.yaml"
    assert entry.origins["labels.region"] == "fleet file defaults"
    assert entry.origins["labels.tier"] == "fleet file clusters[0]"
    assert entry.origins["facts.oidc_issuer"] == "snap/cluster.yaml"
    assert entry.origins["facts.oidc_client_id"] == "fleet file clusters[0]"


def test_a_bad_facts_entry_in_cluster_yaml_is_one_line(tmp_path: Path) -> None:
    from fleetcheck.errors import ConfigError
    from fleetcheck.registry.cluster_file import read_cluster_file

    folder = write_snapshot(tmp_path / "snap", [], name="snap")
    (folder / "cluster.yaml").write_text("name: snap\nfacts: {oidc_issuers: x}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        read_cluster_file(folder)
    assert "facts.oidc_issuers" in info.value.one_line() and "unknown field" in info.value.one_line()


def _verdicts(pytester: pytest.Pytester, fleet: Path, reports: Path) -> dict[tuple[str, str], tuple[str, str]]:
    scan(pytester, [CHECKS], reports, "--fleet", str(fleet))
    doc = json.loads((reports / "results.json").read_text(encoding="utf-8"))
    return {(r["cluster"], r["code"]): (r["outcome"], r["message"]) for r in doc["results"]}


def test_labels_only_in_cluster_yaml_give_the_verdicts_of_labels_repeated(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    folders = _snapshots(tmp_path)
    bare = fleet_file(tmp_path / "bare.yaml", [{"name": n, "snapshot": str(f)} for n, f in folders.items()])
    repeated = fleet_file(
        tmp_path / "repeated.yaml",
        [{"name": n, "snapshot": str(f), "labels": LABELS[n]} for n, f in folders.items()],
    )
    from_cluster_yaml = _verdicts(pytester, bare, tmp_path / "r1")
    from_fleet_file = _verdicts(pytester, repeated, tmp_path / "r2")
    assert from_cluster_yaml == from_fleet_file
    # the labels were really read: the expired edge cluster fails, the owned ones pass
    assert from_cluster_yaml[("edge-1", "FC-STALE-002")][0] == "fail"
    assert from_cluster_yaml[("prod-a", "FC-STALE-001")][0] == "pass"
    assert from_cluster_yaml[("prod-a", "FC-TIER-001")][0] == "pass"
