"""The fleet file model and ``load_fleet``'s three ways in (fleet file, snapshots, kubeconfig)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetcheck.errors import ConfigError
from fleetcheck.registry.fleet import load_fleet
from tests.builders import kubeconfig, namespace, write_snapshot, write_yaml


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A folder with a kubeconfig, two snapshots and a team profile, as a platform repo would hold them."""
    write_yaml(
        tmp_path / "kube" / "config",
        kubeconfig(
            {"prod-eu-west": "eu", "kind-dev": "dev"},
            {"eu": {"server": "https://eu.example.com:6443"}, "dev": {"server": "https://127.0.0.1:39001"}},
        ),
    )
    write_snapshot(tmp_path / "snaps" / "edge-1", [namespace("team-a")], name="edge-1")
    write_snapshot(tmp_path / "snaps" / "edge-2", [namespace("team-b")], captured=None)
    write_yaml(tmp_path / "profiles" / "team.yaml", {"extends": "default"})
    return tmp_path


def test_fleet_file_resolves_paths_against_itself(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(site.parent)  # paths in the file must not depend on the working directory
    fleet_file = write_yaml(
        site / "fleet.yaml",
        {
            "defaults": {"profile": "prod", "kubeconfig": "kube/config", "labels": {"owner": "platform", "tier": 1}},
            "clusters": [
                {"name": "prod-eu-west", "labels": {"region": "eu-west", "expires": "2027-01-01"}},
                {"name": "dev", "context": "kind-dev", "profile": "profiles/team.yaml"},
                {"name": "edge-1", "snapshot": "snaps/edge-1", "profile": "edge"},
            ],
        },
    )
    fleet = load_fleet(fleet_file)
    assert fleet.names() == ["prod-eu-west", "dev", "edge-1"]
    assert fleet.default_profile == "prod"
    prod = fleet.get("prod-eu-west")
    assert prod.context == "prod-eu-west"
    assert prod.server == "https://eu.example.com:6443"
    assert prod.kubeconfig == (str(site / "kube" / "config"),)
    assert prod.labels == {"owner": "platform", "tier": "1", "region": "eu-west", "expires": "2027-01-01"}
    assert prod.profile == "prod"
    assert prod.source == "fleet file fleet.yaml"
    dev = fleet.get("dev")
    assert dev.context == "kind-dev"
    assert Path(dev.profile) == site / "profiles" / "team.yaml"
    edge = fleet.get("edge-1")
    assert edge.is_snapshot and Path(edge.snapshot or "") == site / "snaps" / "edge-1"
    assert edge.profile == "edge"


def test_yaml_dates_and_numbers_in_labels_become_strings(site: Path) -> None:
    fleet_file = site / "fleet.yaml"
    fleet_file.write_text(
        "clusters:\n- name: e\n  snapshot: snaps/edge-1\n  labels: {expires: 2027-01-01, tier: 1, canary: true}\n",
        encoding="utf-8",
    )
    assert load_fleet(fleet_file).get("e").labels == {"expires": "2027-01-01", "tier": "1", "canary": "true"}


def test_profile_option_overrides_the_file(site: Path) -> None:
    fleet_file = write_yaml(
        site / "fleet.yaml", {"clusters": [{"name": "e", "snapshot": "snaps/edge-1", "profile": "edge"}]}
    )
    fleet = load_fleet(fleet_file, profile="dev")
    assert fleet.get("e").profile == "dev"
    assert fleet.default_profile == "dev"


@pytest.mark.parametrize(
    ("entry", "field", "words"),
    [
        ({"name": "e", "snapshot": "snaps/edge-1", "colour": "red"}, "clusters[0].colour", "unknown field"),
        ({"name": "e", "snapshot": "snaps/edge-1", "labels": ["a"]}, "clusters[0].labels", "dictionary"),
        ({"name": "-bad-", "snapshot": "snaps/edge-1"}, "clusters[0].name", "pattern"),
        ({"name": "e", "snapshot": "snaps/nope"}, "clusters[0].snapshot", "not found"),
        ({"name": "e", "kubeconfig": "kube/nope"}, "clusters[0].kubeconfig", "not found"),
        ({"name": "e", "kubeconfig": "kube/config", "context": "nope"}, "clusters[0].context", "prod-eu-west"),
        ({"name": "e", "kubeconfig": "kube/config", "snapshot": "snaps/edge-1"}, "clusters[0]", "snapshot"),
        ({"name": "e", "snapshot": "snaps/edge-1", "profile": "nosuch"}, "clusters[0].profile", "unknown profile"),
        ({"name": "e", "snapshot": "snaps/edge-1", "profile": "p/x.yaml"}, "clusters[0].profile", "not found"),
    ],
)
def test_bad_cluster_entry_names_file_and_field(site: Path, entry: dict[str, object], field: str, words: str) -> None:
    fleet_file = write_yaml(site / "fleet.yaml", {"clusters": [entry]})
    with pytest.raises(ConfigError) as info:
        load_fleet(fleet_file)
    assert info.value.source == str(fleet_file)
    assert info.value.field == field
    assert words in info.value.one_line()
    assert info.value.fix


def test_duplicate_cluster_names(site: Path) -> None:
    fleet_file = write_yaml(
        site / "fleet.yaml",
        {"clusters": [{"name": "e", "snapshot": "snaps/edge-1"}, {"name": "e", "snapshot": "snaps/edge-2"}]},
    )
    with pytest.raises(ConfigError) as info:
        load_fleet(fleet_file)
    assert info.value.field == "clusters[1].name"
    assert "clusters[0]" in info.value.problem


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"clusters": []}, "clusters"),
        ({"version": 2}, "version"),
        ({"defaults": {"profile": "nope"}}, "defaults.profile"),
    ],
)
def test_fleet_level_errors(site: Path, doc: dict[str, object], field: str) -> None:
    fleet_file = write_yaml(site / "fleet.yaml", doc)
    with pytest.raises(ConfigError) as info:
        load_fleet(fleet_file)
    assert info.value.field == field


def test_snapshots_are_a_fleet_named_by_cluster_yaml_or_folder(site: Path) -> None:
    fleet = load_fleet(snapshots=[site / "snaps" / "edge-1", str(site / "snaps" / "edge-2")], profile="edge")
    assert fleet.names() == ["edge-1", "edge-2"]
    assert fleet.source == "snapshots"
    assert all(c.is_snapshot and c.profile == "edge" and c.source == "snapshot" for c in fleet.clusters)
    assert [c.name for c in fleet.matching(["*-2"])] == ["edge-2"]
    assert fleet.matching(None) == list(fleet.clusters)


def test_two_snapshots_with_one_name_are_refused(site: Path) -> None:
    write_snapshot(site / "other", [namespace("x")], name="edge-1")
    with pytest.raises(ConfigError) as info:
        load_fleet(snapshots=[site / "snaps" / "edge-1", site / "other"])
    assert info.value.field == "name"
    assert "edge-1" in info.value.problem


def test_missing_snapshot_folder(site: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_fleet(snapshots=[site / "nope"])
    assert info.value.field == "--snapshot"
    assert str(site / "nope") in info.value.one_line()


def test_fleet_and_snapshot_together_are_refused(site: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_fleet(site / "fleet.yaml", snapshots=[site / "snaps" / "edge-1"])
    assert "not both" in info.value.problem
