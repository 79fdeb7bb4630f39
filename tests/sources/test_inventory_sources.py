"""ClusterProfile, Flux and Sveltos sources: selection, access conventions and every way access can fail."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetcheck.core.kinds import parse_kind
from fleetcheck.errors import ConfigError
from fleetcheck.registry.fleet import Fleet, load_fleet
from fleetcheck.registry.sources.clusterprofile import PROFILES_KIND, profile_labels
from fleetcheck.registry.sources.credentials import CredentialError
from fleetcheck.registry.sources.flux import KINDS as FLUX_KINDS
from fleetcheck.registry.sources.sveltos import CLUSTERS_KIND as SVELTOS_KIND
from fleetcheck.registry.sources.sveltos import kubeconfig_key
from fleetcheck.replay import ReplayServer
from fleetcheck.state.management import open_management_reader
from fleetcheck.state.snapshot import load_snapshot
from tests.sources import managers as m
from tests.sources.conftest import REPO, Site

HUB = {"context": "hub-c"}
SELECTED = {"namespace": "fleet", "label_selector": "x-k8s.io/cluster-manager in (ocm,demo)"}


def _load(site: Site, sources: Sequence[Mapping[str, object]], kubeconfig: Path | None = None) -> Fleet:
    path = site.root / "inventory.yaml"
    doc = {"defaults": {"kubeconfig": str(kubeconfig or site.mgmt_kubeconfig)}, "sources": sources}
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return load_fleet(path, management_reader=open_management_reader)


def _error(fleet: Fleet, name: str) -> str:
    error = fleet.get(name).credentials_error
    assert error is not None, f"{name} has credentials"
    return error


# -- clusterprofile -----------------------------------------------------------------------------------------------


def test_clusterprofile_selection_is_the_hubs_namespace_and_label_selector(site: Site) -> None:
    fleet = _load(site, [{"type": "clusterprofile", **HUB, **SELECTED, "consumer_namespace": "fleetcheck"}])
    assert set(fleet.names()) == {"wl-f", "wl-e", "wl-c", "gke-prod", "no-access", "legacy-cred"}
    everything = _load(site, [{"type": "clusterprofile", **HUB}])
    assert {"foreign", "elsewhere"} <= set(everything.names())  # the selection above did leave them out


def test_clusterprofile_properties_and_conditions_become_labels_and_the_provider_endpoint_is_used(
    site: Site,
) -> None:
    fleet = _load(site, [{"type": "clusterprofile", **HUB, **SELECTED}])
    wl_f = fleet.get("wl-f")
    assert wl_f.labels == {
        "env": "prod",
        "cluster-manager": "demo",
        "cluster.clusterset.k8s.io": "wl-f-4f1c",
        "location": "eu-central-1",
        "ControlPlaneHealthy": "True",
    }
    # The Secret's kubeconfig names a dead server; the access provider's endpoint is the one used.
    assert wl_f.server == site.workloads.urls["wl-f"]
    assert "credentials through access provider 'kubeconfig-secretreader'" in wl_f.notes
    assert fleet.get("gke-prod").labels["ControlPlaneHealthy"] == "False"


def test_clusterprofile_secretreader_needs_the_consumer_namespace(site: Site) -> None:
    fleet = _load(site, [{"type": "clusterprofile", **HUB, **SELECTED}])
    assert "provider 'secretreader': set 'consumer_namespace'" in _error(fleet, "wl-e")


def test_clusterprofile_a_secret_pattern_wins_and_its_absence_is_named(site: Site) -> None:
    source = {"type": "clusterprofile", **HUB, **SELECTED, "secret_pattern": "{name}-admin"}
    fleet = _load(site, [source])
    wl_c = fleet.get("wl-c")
    assert wl_c.credentials is not None and wl_c.server == site.workloads.urls["wl-c"]
    assert "credentials from clusterprofile Secret fleet/wl-c-admin key 'value'" in wl_c.notes
    assert "clusterprofile Secret fleet/no-access-admin not found" in _error(fleet, "no-access")
    assert fleet.get("wl-f").credentials is not None  # no wl-f-admin: the access provider still serves


def test_clusterprofile_a_provider_mapped_to_the_wrong_convention_says_what_is_missing(site: Site) -> None:
    source = {"type": "clusterprofile", **HUB, **SELECTED, "access_providers": {"google": "token-secret"}}
    fleet = _load(site, [source])
    assert "provider 'google': the exec extension has no 'clusterName'" in _error(fleet, "gke-prod")
    assert "provider 'kubeconfig-secretreader': an exec plugin fleetcheck does not run" in _error(fleet, "wl-f")


def test_clusterprofile_a_selector_the_hub_rejects_stops_the_run_naming_the_source(site: Site) -> None:
    with pytest.raises(ConfigError) as info:
        _load(site, [{"type": "clusterprofile", **HUB, "label_selector": "x-k8s.io/cluster-manager in (ocm"}])
    assert info.value.field == "sources[0]"
    assert "cannot list ClusterProfiles (multicluster.x-k8s.io)" in info.value.problem


def test_profile_labels_are_bounded_and_the_objects_own_labels_win() -> None:
    profile = m.cluster_profile(
        "big", "fleet", properties={f"p{i}": "v" * 5000 for i in range(500)}, labels={"p1": "own"}
    )
    labels = profile_labels(profile)
    assert len(labels) <= 64 + 3 + 2
    assert labels["p1"] == "own"
    assert max(len(v) for v in labels.values()) <= 256


# -- flux ----------------------------------------------------------------------------------------------------------


def test_flux_one_cluster_per_server_named_by_the_label(site: Site) -> None:
    fleet = _load(site, [{"type": "flux", **HUB, "name_label": "cluster-name"}])
    wl_g = fleet.get("wl-g")
    assert wl_g.credentials is not None and wl_g.server == site.workloads.urls["wl-g"]
    assert wl_g.labels == {"cluster-name": "wl-g", "env": "staging"}
    assert "also referenced through Secret tenant-a/wl-g-copy" in wl_g.notes
    assert any(
        "used by Kustomization flux-system/apps-spoke-1, HelmRelease flux-system/podinfo-spoke-1" in n
        for n in wl_g.notes
    )
    assert "wl-g-copy" not in fleet.names()
    assert fleet.get("edge-wi").server == "https://10.0.0.11:6443"  # the ConfigMap's address, for merging


def test_flux_reads_value_yaml_when_value_is_absent_and_names_by_secret_without_a_label(site: Site) -> None:
    fleet = _load(site, [{"type": "flux", **HUB, "namespaces": ["tenant-a"]}])
    assert fleet.names() == ["wl-g-copy"]
    assert fleet.get("wl-g-copy").credentials is not None


def test_flux_kinds_limit_what_is_read(site: Site) -> None:
    fleet = _load(site, [{"type": "flux", **HUB, "kinds": ["HelmRelease"], "name_label": "cluster-name"}])
    assert set(fleet.names()) == {"wl-g", "spoke-2-kubeconfig"}


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ({"type": "flux", "context": "mgmt-a"}, "does not serve Flux Kustomizations and HelmReleases"),
        ({"type": "sveltos", "context": "mgmt-a"}, "does not serve SveltosClusters (lib.projectsveltos.io)"),
        ({"type": "clusterprofile", "context": "mgmt-a"}, "does not serve ClusterProfiles (multicluster.x-k8s.io)"),
    ],
)
def test_a_management_cluster_without_the_api_stops_the_run(
    site: Site, source: Mapping[str, object], problem: str
) -> None:
    with pytest.raises(ConfigError) as info:
        _load(site, [source])
    assert problem in info.value.problem and info.value.field == "sources[0]"


@pytest.mark.parametrize(
    ("source", "field"),
    [
        ({"type": "flux", **HUB, "namspaces": ["x"]}, "sources[0].namspaces"),
        ({"type": "flux", **HUB, "kinds": ["GitRepository"]}, "sources[0].kinds"),
        ({"type": "clusterprofile", **HUB, "access_providers": {"x": "exec"}}, "sources[0].access_providers"),
        ({"type": "sveltos", **HUB, "namespaces": "edge"}, "sources[0].namespaces"),
    ],
)
def test_a_typo_in_a_new_source_is_one_line_naming_the_field(
    site: Site, source: Mapping[str, object], field: str
) -> None:
    with pytest.raises(ConfigError) as info:
        _load(site, [source])
    assert info.value.field.startswith(field), info.value.field
    assert "\n" not in str(info.value)


# -- sveltos -------------------------------------------------------------------------------------------------------


def test_sveltos_uses_the_named_key_and_the_objects_labels(site: Site) -> None:
    fleet = _load(site, [{"type": "sveltos", **HUB}])
    assert fleet.get("wl-h").labels == {"env": "prod", "region": "us-east-1"}
    assert fleet.get("wl-d").server == site.workloads.urls["wl-d"]  # re-kubeconfig, not the expired key
    assert fleet.get("eks-wi").server == "https://ABCDEF0123.gr7.eu-west-1.eks.amazonaws.com"
    with pytest.raises(ConfigError, match="sources found no clusters"):  # no SveltosCluster in namespace mgmt
        _load(site, [{"type": "sveltos", **HUB, "namespaces": ["mgmt"]}])


@pytest.mark.parametrize(
    ("data", "key_name", "expected"),
    [
        ({"only": "x"}, None, "only"),
        ({"value": "x", "kubeconfig": "y"}, None, "kubeconfig"),
        ({"value": "x", "other": "y"}, None, "value"),
        ({"re-kubeconfig": "x", "kubeconfig": "y"}, "re-kubeconfig", "re-kubeconfig"),
    ],
)
def test_sveltos_key_choice(data: dict[str, str], key_name: str | None, expected: str) -> None:
    assert kubeconfig_key(m.secret("edge", "s", data), key_name, "s") == expected


@pytest.mark.parametrize(
    ("data", "key_name", "message"),
    [
        ({"a": "x", "b": "y"}, None, "has 2 keys (a, b)"),
        ({"kubeconfig": "x"}, "re-kubeconfig", "has no 're-kubeconfig' key (spec.kubeconfigKeyName)"),
        ({}, None, "has no data"),
    ],
)
def test_sveltos_key_choice_refuses_to_guess(data: dict[str, str], key_name: str | None, message: str) -> None:
    with pytest.raises(CredentialError, match=message.replace("(", r"\(").replace(")", r"\)")):
        kubeconfig_key(m.secret("edge", "s", data), key_name, "s")


# -- a hub that withholds its Secrets: every cluster errors, none drops out -----------------------------------------


@pytest.fixture(scope="module")
def secretless_hub(site: Site) -> Iterator[Path]:
    server = ReplayServer([load_snapshot(site.root / "management" / "hub-c")], token="hub-" + "x" * 24)
    server.start()
    try:
        yield server.write_kubeconfig(site.root / "secretless.kubeconfig")
    finally:
        server.stop()


def test_forbidden_secrets_error_each_cluster_with_the_reason(site: Site, secretless_hub: Path) -> None:
    sources = [
        {
            "type": "clusterprofile",
            **HUB,
            **SELECTED,
            "consumer_namespace": "fleetcheck",
            "secrets": {"wl-c": "wl-c-admin"},
        },
        {"type": "flux", **HUB, "name_label": "cluster-name"},
        {"type": "sveltos", **HUB},
    ]
    fleet = _load(site, sources, secretless_hub)
    for name, origin in {
        "wl-f": "clusterprofile Secret fleet/wl-f-access",
        "wl-c": "clusterprofile Secret fleet/wl-c-admin",
        "spoke-1-kubeconfig": "flux Secret flux-system/spoke-1-kubeconfig",  # its label is unreadable too
        "wl-h": "sveltos Secret edge/wl-h-sveltos-kubeconfig",
    }.items():
        error = _error(fleet, name)
        assert f"cannot read {origin}: 403 Forbidden" in error, (name, error)
    assert all(c.credentials is None for c in fleet.clusters)


# -- RBAC shipped for the sources ----------------------------------------------------------------------------------

OPTIONAL = REPO / "deploy" / "kubernetes" / "optional"
READS = {
    "clusterprofile": [PROFILES_KIND],
    "flux": list(FLUX_KINDS.values()),
    "sveltos": [SVELTOS_KIND],
}


def _objects(source: str) -> list[dict[str, Any]]:
    return list(yaml.safe_load_all((OPTIONAL / source / f"registry-{source}.yaml").read_text(encoding="utf-8")))


@pytest.mark.parametrize("source", sorted(READS))
def test_each_source_ships_get_list_on_its_kinds_and_get_only_on_secrets(source: str) -> None:
    objects = _objects(source)
    (cluster_role,) = [o for o in objects if o["kind"] == "ClusterRole"]
    granted = {
        (group, resource, verb)
        for rule in cluster_role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    wanted = {(parse_kind(k).group, parse_kind(k).plural, verb) for k in READS[source] for verb in ("get", "list")}
    assert granted == wanted
    roles = [o for o in objects if o["kind"] == "Role"]
    assert roles and all(
        rule == {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}
        for role in roles
        for rule in role["rules"]
    )
    bindings = {o["roleRef"]["name"] for o in objects if o["kind"] in ("ClusterRoleBinding", "RoleBinding")}
    assert bindings == {o["metadata"]["name"] for o in objects if o["kind"] in ("ClusterRole", "Role")}
    assert "resourceNames" in (OPTIONAL / source / f"registry-{source}.yaml").read_text(), "document the trade-off"


@pytest.mark.parametrize("source", sorted(READS))
def test_each_component_builds_to_the_source_rbac(source: str) -> None:
    component = REPO / "deploy" / "kustomize" / "components" / f"{source}-registry"
    assert component.is_dir()
    try:
        built = subprocess.run(
            ["kubectl", "kustomize", str(OPTIONAL / source)], capture_output=True, text=True, timeout=60, check=True
        ).stdout
    except FileNotFoundError:
        pytest.skip("kubectl is not installed: install it to build the kustomizations")
    kinds = sorted(o["kind"] for o in yaml.safe_load_all(built))
    assert kinds == ["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"]
    assert json.dumps(sorted(o["kind"] for o in _objects(source))) == json.dumps(kinds)
