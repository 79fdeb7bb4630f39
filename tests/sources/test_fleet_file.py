"""The ``sources:`` section: validation, the file and kubeconfig sources, labels, merging and naming."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fleetcheck.errors import ConfigError
from fleetcheck.registry.fleet import ClusterEntry, load_fleet
from fleetcheck.registry.sources import merge_discovered
from fleetcheck.registry.sources.base import DiscoveredCluster, DiscoverySpec
from fleetcheck.registry.sources.credentials import build_kubeconfig
from tests.builders import kubeconfig, write_yaml


@pytest.fixture
def kube(tmp_path: Path) -> Path:
    return write_yaml(
        tmp_path / "kube" / "config",
        kubeconfig(
            {"prod-eu-west": "eu", "prod-us-east": "us", "kind-dev": "dev", "mgmt": "mgmt"},
            {
                "eu": {"server": "https://eu.example.com:6443"},
                "us": {"server": "https://us.example.com:6443"},
                "dev": {"server": "https://127.0.0.1:39001"},
                "mgmt": {"server": "https://mgmt.example.com"},
            },
        ),
    )


def _fleet(tmp_path: Path, doc: dict[str, object]) -> Path:
    return write_yaml(tmp_path / "fleet.yaml", {"defaults": {"kubeconfig": "kube/config"}, **doc})


@pytest.mark.parametrize(
    ("source", "field", "problem"),
    [
        ({"type": "gardener"}, "sources[0].type", "unknown source type 'gardener'"),
        ({"context": "mgmt"}, "sources[0].type", "required field is missing"),
        ({"type": "capi"}, "sources[0].context", "required field is missing"),
        ({"type": "capi", "context": "mgmt", "namespace": "x"}, "sources[0].namespace", "unknown field"),
        ({"type": "argocd", "context": "nope"}, "sources[0].context", "context 'nope' is not in"),
        ({"type": "capi", "context": "mgmt", "profile": "nope"}, "sources[0].profile", "unknown profile 'nope'"),
        ({"type": "kubeconfig", "kubeconfig": "missing"}, "sources[0].kubeconfig", "not found"),
        ({"type": "ocm", "context": "mgmt", "timeout_seconds": 0}, "sources[0].timeout_seconds", "greater than 0"),
    ],
)
def test_a_bad_source_is_one_line_naming_its_field(
    tmp_path: Path, kube: Path, source: dict[str, object], field: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_fleet(_fleet(tmp_path, {"sources": [{"type": "kubeconfig", "include": ["kind-*"]}, source]}))
    error = info.value
    assert error.field == field.replace("sources[0]", "sources[1]")
    assert problem in error.problem
    assert "\n" not in error.one_line()


def test_file_source_clusters_behave_like_clusters_and_inherit_the_source(tmp_path: Path, kube: Path) -> None:
    fleet = load_fleet(
        _fleet(
            tmp_path,
            {
                "defaults": {"kubeconfig": "kube/config", "labels": {"owner": "platform"}},
                "clusters": [{"name": "dev", "context": "kind-dev"}],
                "sources": [
                    {
                        "type": "file",
                        "name": "team-payments",
                        "profile": "prod",
                        "labels": {"team": "payments", "tier": "prod"},
                        "clusters": [
                            {"name": "prod-eu-west"},
                            {"name": "prod-us-east", "profile": "edge", "labels": {"tier": "canary"}},
                        ],
                    }
                ],
            },
        )
    )
    assert fleet.names() == ["dev", "prod-eu-west", "prod-us-east"]
    assert fleet.get("dev").source == "fleet file fleet.yaml"
    eu = fleet.get("prod-eu-west")
    assert (eu.source, eu.profile, eu.server) == ("team-payments", "prod", "https://eu.example.com:6443")
    assert eu.labels == {"owner": "platform", "team": "payments", "tier": "prod"}
    us = fleet.get("prod-us-east")
    assert (us.profile, us.labels["tier"]) == ("edge", "canary")


def test_a_name_used_twice_in_the_file_names_both_places(tmp_path: Path, kube: Path) -> None:
    doc = {
        "clusters": [{"name": "dev", "context": "kind-dev"}],
        "sources": [{"type": "file", "clusters": [{"name": "dev", "context": "kind-dev"}]}],
    }
    with pytest.raises(ConfigError) as info:
        load_fleet(_fleet(tmp_path, doc))
    assert info.value.field == "sources[0].clusters[0].name"
    assert "also clusters[0]" in info.value.problem


def test_kubeconfig_source_filters_contexts_and_merges_with_listed_clusters(tmp_path: Path, kube: Path) -> None:
    fleet = load_fleet(
        _fleet(
            tmp_path,
            {
                "clusters": [{"name": "eu", "context": "prod-eu-west", "labels": {"tier": "prod"}}],
                "sources": [{"type": "kubeconfig", "include": ["prod-*", "kind-*"], "exclude": ["prod-us-*"]}],
            },
        )
    )
    assert fleet.names() == ["eu", "kind-dev"]  # prod-eu-west is "eu" again: same server, merged
    eu = fleet.get("eu")
    assert eu.source == "fleet file fleet.yaml+kubeconfig"
    assert eu.labels == {"tier": "prod"} and eu.context == "prod-eu-west"
    assert "also found by kubeconfig as 'prod-eu-west'" in eu.notes
    assert fleet.get("kind-dev").source == "kubeconfig"


def test_a_fleet_of_only_sources_that_find_nothing_is_an_error(tmp_path: Path, kube: Path) -> None:
    with pytest.raises(ConfigError, match="found no clusters"):
        load_fleet(_fleet(tmp_path, {"sources": [{"type": "kubeconfig", "include": ["none-*"]}]}))


def test_label_map_and_kept_labels() -> None:
    own = {"environment": "production", "topology.kubernetes.io/region": "eu-west-1", "owner": "a", "x.io/y": "z"}
    spec = DiscoverySpec(type="capi", label_map={"environment": "tier", "topology.kubernetes.io/region": "region"})
    assert spec.map_labels(own) == {
        "environment": "production",
        "owner": "a",
        "tier": "production",
        "region": "eu-west-1",
    }
    only = DiscoverySpec(type="capi", keep_labels=[], label_map={"env": "tier", "environment": "tier"})
    assert only.map_labels(own) == {"tier": "production"}  # the first key present wins
    assert DiscoverySpec(type="capi", keep_labels=["x.io/*"]).map_labels(own) == {"x.io/y": "z"}


def _found(name: str, server: str, *, namespace: str | None = None, error: str | None = None) -> DiscoveredCluster:
    return DiscoveredCluster(name=name, server=server, namespace=namespace, error=error)


def _entry(name: str, server: str, source: str, *, error: str | None = None, **labels: str) -> ClusterEntry:
    credentials = None if error else build_kubeconfig(name, server, origin=source, token="t0ken-" + name)
    return ClusterEntry(
        name=name,
        server=server,
        source=source,
        credentials=credentials,
        credentials_error=error,
        context=name if credentials else None,
        labels=labels,
    )


def test_merging_keeps_the_first_name_and_takes_working_credentials() -> None:
    broken = _entry("prod", "https://prod.example.com", "capi", error="capi Secret a/prod-kubeconfig not found")
    working = _entry("prod-argo", "https://PROD.example.com:443/", "argocd", env="prod")
    merged = merge_discovered(
        [],
        [
            (0, broken, _found("prod", "https://prod.example.com")),
            (1, working, _found("prod-argo", working.server or "")),
        ],
    )
    assert len(merged) == 1
    entry = merged[0]
    assert (entry.name, entry.source, entry.credentials_error) == ("prod", "capi+argocd", None)
    assert entry.credentials is working.credentials and entry.labels == {"env": "prod"}
    assert any("credentials from argocd" in note for note in entry.notes)


def test_name_collisions_are_renamed_and_one_source_never_merges_with_itself() -> None:
    explicit = [_entry("web", "https://a.example.com", "fleet file fleet.yaml")]
    discovered = [
        (0, _entry("web", "https://b.example.com", "capi"), _found("web", "https://b.example.com", namespace="team-b")),
        (0, _entry("web", "https://c.example.com", "capi"), _found("web", "https://c.example.com")),
        (1, _entry("api", "https://d.example.com", "karmada"), _found("api", "https://d.example.com")),
        (1, _entry("api2", "https://d.example.com", "karmada"), _found("api2", "https://d.example.com")),
    ]
    merged = merge_discovered(explicit, discovered)
    assert [e.name for e in merged] == ["web", "team-b-web", "web-capi", "api", "api2"]
    assert "renamed from 'web': the name is taken by another cluster" in merged[1].notes
    assert "shares server https://d.example.com with 'api'" in merged[4].notes


def test_every_example_in_the_sources_doc_is_a_valid_source() -> None:
    from fleetcheck.registry.fleet import FleetFile
    from fleetcheck.registry.sources import SOURCE_TYPES, parse_sources
    from tests.builders import REPO

    doc = (REPO / "docs" / "sources.md").read_text(encoding="utf-8")
    blocks = [yaml.safe_load(b.split("```", 1)[0]) for b in doc.split("```yaml\n")[1:]]
    seen: set[str] = set()
    for block in blocks:
        FleetFile.model_validate(block)
        for _index, spec in parse_sources(block["sources"], "docs/sources.md"):
            seen.add(spec.type)
    assert seen == set(SOURCE_TYPES)  # one example per source, at least
