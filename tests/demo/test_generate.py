"""The generator's contract: kubectl-shaped files, exact sizes, same bytes every run, plants that exist."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
import yaml

from fleetcheck.core.kinds import ref_for_object
from fleetcheck.demo import (
    PLANTINGS,
    ClusterSpec,
    FleetSpec,
    bench_fleet_spec,
    demo_fleet_spec,
    generate_cluster,
    generate_fleet,
    profile_registries,
    profile_standards,
)
from fleetcheck.demo.planted import object_ref
from fleetcheck.registry.profile import Profile

from .conftest import Fleet, load_snapshot

RFC3339_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$")


def tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(root.rglob("*")):
        if file.is_file():
            digest.update(str(file.relative_to(root)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def test_same_spec_gives_same_bytes(tmp_path: Path) -> None:
    spec = demo_fleet_spec(small=True)
    generate_fleet(tmp_path / "a", spec)
    generate_fleet(tmp_path / "b", spec)
    assert tree_digest(tmp_path / "a") == tree_digest(tmp_path / "b")


def test_a_cluster_does_not_depend_on_the_rest_of_the_fleet(tmp_path: Path, small_demo: Fleet) -> None:
    spec = demo_fleet_spec(small=True)
    dev = next(c for c in spec.clusters if c.name == "dev")
    alone = generate_cluster(tmp_path, dev, spec)
    assert tree_digest(alone.path) == tree_digest(small_demo.root / "dev")


def test_regenerating_into_the_same_folder_replaces_it(tmp_path: Path) -> None:
    spec = FleetSpec(clusters=(ClusterSpec(name="c1", size="edge"),))
    generate_fleet(tmp_path, spec)
    (tmp_path / "c1" / "stale.json").write_text("{}")
    generate_fleet(tmp_path, spec)
    assert not (tmp_path / "c1" / "stale.json").exists()


def test_files_are_kubectl_lists_named_by_kind(small_demo: Fleet) -> None:
    for snap in small_demo.clusters.values():
        for file in snap.path.glob("*.json"):
            document = orjson.loads(file.read_bytes())
            assert list(document) == ["apiVersion", "items", "kind", "metadata"], file
            assert document["kind"] == "List" and document["metadata"] == {"resourceVersion": ""}
            for item in document["items"]:
                assert item["apiVersion"] and item["kind"], file
                assert ref_for_object(item["apiVersion"], item["kind"]).key + ".json" == file.name
                assert item["metadata"]["name"] and item["metadata"]["uid"]


def test_names_are_unique_per_kind_and_namespace(small_demo: Fleet) -> None:
    for snap in small_demo.clusters.values():
        for key, items in snap.kinds.items():
            refs = [object_ref(o) for o in items]
            assert len(refs) == len(set(refs)), f"{snap.name} {key}"


def test_timestamps_are_rfc3339_z_and_not_after_capture(small_demo: Fleet) -> None:
    stamp_keys = {
        "creationTimestamp",
        "lastTransitionTime",
        "startTime",
        "startedAt",
        "startTimestamp",
        "completionTimestamp",
        "renewTime",
        "lastHeartbeatTime",
        "lastUpdateTime",
    }

    def walk(value: object, snap_name: str, captured: str) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key in stamp_keys and inner is not None:
                    assert RFC3339_Z.match(inner), (snap_name, key, inner)
                    if key not in ("renewTime", "lastHeartbeatTime"):  # a skewed kubelet clock writes these ahead
                        assert inner[:19] <= captured[:19], (snap_name, key, inner)
                walk(inner, snap_name, captured)
        elif isinstance(value, list):
            for inner in value:
                walk(inner, snap_name, captured)

    for snap in small_demo.clusters.values():
        for items in snap.kinds.values():
            walk(items, snap.name, snap.meta["captured"])


def test_cluster_yaml(small_demo: Fleet) -> None:
    for snap in small_demo.clusters.values():
        text = (snap.path / "cluster.yaml").read_text()
        meta = yaml.safe_load(text)
        assert list(meta) == ["name", "captured", "serverVersion", "labels"]
        assert meta["name"] == snap.path.name
        assert meta["captured"] == "2026-11-24T10:00:00Z"
        # kubeadm's plain version, or the provider's build of it (EKS ``-eks-<hash>``, k3s ``+k3s1``)
        assert re.match(r"^v1\.\d+\.\d+(-eks-[0-9a-f]{7}|\+k3s1)?$", meta["serverVersion"])
        assert ("-eks-" in meta["serverVersion"]) == (meta["labels"]["provider"] == "eks")
        assert ("+k3s" in meta["serverVersion"]) == (meta["labels"]["provider"] == "k3s")
        assert all(isinstance(v, str) for v in meta["labels"].values())
        if "expires" in meta["labels"]:
            assert re.match(r"^\d{4}-\d\d-\d\d$", meta["labels"]["expires"])


def test_leases_renew_as_microtime(small_demo: Fleet) -> None:
    for snap in small_demo.clusters.values():
        node_leases = [
            le for le in snap.items("leases.coordination.k8s.io") if le["metadata"]["namespace"] == "kube-node-lease"
        ]
        assert {le["metadata"]["name"] for le in node_leases} == {n["metadata"]["name"] for n in snap.items("nodes")}
        for lease in node_leases:
            assert re.match(r"^.*T\d\d:\d\d:\d\d\.\d{6}Z$", lease["spec"]["renewTime"])
            assert lease["spec"]["leaseDurationSeconds"] == 40


def test_owner_references_point_at_existing_owners(small_demo: Fleet) -> None:
    for snap in small_demo.clusters.values():
        uids = {o["metadata"]["uid"]: o["kind"] for items in snap.kinds.values() for o in items}
        for items in snap.kinds.values():
            for obj in items:
                for owner in obj["metadata"].get("ownerReferences", []):
                    assert uids.get(owner["uid"]) == owner["kind"], (snap.name, object_ref(obj))


def test_small_demo_sizes(small_demo: Fleet) -> None:
    expected = {
        "prod-us-east": (12, 300, 24),
        "prod-eu-west": (12, 300, 24),
        "canary-eu-west": (3, 60, 14),
        "dev": (5, 100, 14),
        "edge-001": (1, 10, 6),
        "prod-eks-us-east": (6, 150, 16),
        "dev-eks-eu-west": (5, 100, 14),
        "edge-k3s-002": (1, 40, 9),
    }
    got = {
        name: (len(s.items("nodes")), len(s.items("pods")), len(s.items("namespaces")))
        for name, s in small_demo.clusters.items()
    }
    assert got == expected


def test_full_demo_sizes_and_time(full_demo: Fleet) -> None:
    got = {
        name: (len(s.items("nodes")), len(s.items("pods")), len(s.items("namespaces")))
        for name, s in full_demo.clusters.items()
    }
    assert got == {
        "prod-us-east": (200, 5000, 100),
        "prod-eu-west": (200, 5000, 100),
        "canary-eu-west": (3, 60, 14),
        "dev": (5, 100, 14),
        "edge-001": (1, 10, 6),
        "prod-eks-us-east": (6, 150, 16),
        "dev-eks-eu-west": (5, 100, 14),
        "edge-k3s-002": (1, 40, 9),
    }
    total = sum(f.stat().st_size for f in full_demo.root.rglob("*") if f.is_file())
    print(f"demo fleet: {full_demo.seconds:.2f} s, {total / 1e6:.1f} MB")


@pytest.mark.parametrize("fleet_name", ["small_demo", "full_demo"])
def test_every_planted_object_exists(fleet_name: str, request: pytest.FixtureRequest) -> None:
    fleet: Fleet = request.getfixturevalue(fleet_name)
    assert fleet.plants
    for plant in fleet.plants:
        snap = fleet.clusters[plant.cluster]
        assert plant.code in {p.code for p in PLANTINGS.values()}
        assert plant.follows == "" or any(p.cluster == plant.cluster and p.code == plant.follows for p in fleet.plants)
        if plant.object:
            refs = {object_ref(o) for items in snap.kinds.values() for o in items}
            assert plant.object in refs, plant


def test_demo_plants_every_required_code(small_demo: Fleet) -> None:
    required = {
        "FC-QUOTA-001",
        "FC-QUOTA-002",
        "FC-QUOTA-003",
        "FC-CLOCK-001",
        "FC-DNS-001",
        "FC-DNS-002",
        "FC-DNS-003",
        "FC-DNS-005",
        "FC-IMG-001",
        "FC-IMG-002",
        "FC-IMG-003",
        "FC-CNI-002",
        "FC-CNI-003",
        "FC-VER-001",
        "FC-BACKUP-001",
        "FC-BACKUP-002",
        "FC-BACKUP-003",
        "FC-BACKUP-004",
        "FC-OIDC-001",
        "FC-OIDC-002",
        "FC-OIDC-004",
        "FC-OIDC-005",
        "FC-RBAC-001",
        "FC-GITOPS-001",
        "FC-OBS-001",
        "FC-OBS-002",
        "FC-STALE-001",
        "FC-STALE-002",
        "FC-STALE-003",
        "FC-COST-001",
        "FC-PV-001",
        "FC-TIER-001",
        "FC-TIER-003",
        # issue 15: the managed and distro clusters
        "FC-TIER-002",
        "FC-ADDON-003",
        "FC-NODE-004",
        # issue 16: cert-manager, etcd from /metrics, the provider's support calendar
        "FC-CERT-002",
        "FC-ETCD-001",
        "FC-SUP-002",
    }
    assert required <= {p.code for p in small_demo.plants}


def test_small_and_full_demo_plant_the_same_codes(small_demo: Fleet, full_demo: Fleet) -> None:
    def codes(fleet: Fleet) -> list[tuple[str, str, bool]]:
        return sorted((p.cluster, p.code, bool(p.object)) for p in fleet.plants)

    assert codes(small_demo) == codes(full_demo)


def test_fleet_standard_is_a_valid_profile_block() -> None:
    spec = demo_fleet_spec()
    profile = Profile(name="demo", standards=profile_standards(spec), registries=profile_registries(spec))
    assert profile.standards.cni == "calico" and profile.standards.cni_version == "3.31"
    assert profile.standards.kubernetes_minor == "1.35"
    assert profile.registries == {
        "eu-west": ["registry.eu-west.example.com"],
        "us-east": ["registry.us-east.example.com"],
    }


def test_fleet_standard_of_a_provider_profile() -> None:
    spec = demo_fleet_spec()
    eks = Profile(name="eks", standards=profile_standards(spec, "eks"), registries=profile_registries(spec, "eks"))
    assert eks.standards.cni == "aws-vpc-cni" and eks.standards.cni_version == "1.20"
    assert eks.standards.dns_upstreams == list(spec.dns_upstreams)  # the fleet's promise holds on EKS too
    assert eks.registries["us-east"] == [
        "registry.us-east.example.com",
        "602401143452.dkr.ecr.us-east-1.amazonaws.com",
    ]
    k3s = Profile(name="k3s", standards=profile_standards(spec, "k3s"), registries=profile_registries(spec, "k3s"))
    # k3s's flannel is built into its binary: no version to declare, and no registry beyond the mirror
    assert k3s.standards.cni == "flannel" and k3s.standards.cni_version is None
    assert k3s.registries["eu-west"] == ["registry.eu-west.example.com"]


def test_a_provider_cluster_takes_no_cni() -> None:
    with pytest.raises(ValueError, match="runs its provider's CNI"):
        FleetSpec(clusters=(ClusterSpec(name="e", size="prod", provider="eks", cni="calico"),))


def test_tier_002_on_a_provider_cluster_needs_no_canary_of_its_profile() -> None:
    eks = ClusterSpec(name="e", size="prod", provider="eks", nodes=3, pods=80, plants=("FC-TIER-002",))
    # a kubeadm canary does not guard the EKS profile: the plant is valid beside it
    FleetSpec(clusters=(eks, ClusterSpec(name="c", size="canary")))
    with pytest.raises(ValueError, match=r"FC-TIER-002 .*\(demo-prod-eks\)"):
        FleetSpec(clusters=(eks, ClusterSpec(name="c", size="canary", provider="eks")))


def test_unknown_plant_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown plant"):
        ClusterSpec(name="x", plants=("FC-NOPE-001",))


def test_too_few_pods_for_the_system_is_an_error(tmp_path: Path) -> None:
    spec = FleetSpec(clusters=(ClusterSpec(name="tiny", size="dev", pods=10),))
    with pytest.raises(ValueError, match="fewer than"):
        generate_fleet(tmp_path, spec)


def test_tier_002_needs_a_fleet_without_canary() -> None:
    with pytest.raises(ValueError, match="FC-TIER-002"):
        FleetSpec(
            clusters=(ClusterSpec(name="p", size="prod", plants=("FC-TIER-002",)), ClusterSpec(name="c", size="canary"))
        )


def test_bench_spec_names_and_plants() -> None:
    spec = bench_fleet_spec()
    names = [c.name for c in spec.clusters]
    assert len(names) == 101
    assert names[:2] == ["prod-000", "prod-001"] and "canary-000" in names and names[-1] == "edge-059"
    planted = {c.name: c.plants for c in spec.clusters if c.plants}
    assert planted == {
        "prod-000": ("FC-QUOTA-003",),
        "prod-001": ("FC-CLOCK-001",),
        "dev-000": ("FC-DNS-001",),
        "edge-000": ("FC-OIDC-001",),
    }
    unguarded = bench_fleet_spec(prod=2, dev=1, edge=1, canary=0)
    assert all("FC-TIER-002" in c.plants for c in unguarded.clusters if c.size in ("prod", "edge"))


def test_cli_writes_a_bench_fleet(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "fleetcheck.demo",
            str(tmp_path),
            "--fleet",
            "bench",
            "--prod",
            "0",
            "--dev",
            "2",
            "--edge",
            "1",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert [line.split()[0] for line in lines[:4]] == ["canary-000", "dev-000", "dev-001", "edge-000"]
    assert (tmp_path / "planted.json").exists()
    assert load_snapshot(tmp_path / "edge-000").labels["tier"] == "prod"
