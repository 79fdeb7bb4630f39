"""The fleet spec and the generator entry points: spec in, snapshot folders and ``planted.json`` out.

A :class:`FleetSpec` holds the fleet standard (the Kubernetes version, CNI,
DNS upstreams, IdP, registries every clean cluster follows) and the
clusters; a :class:`ClusterSpec` says how big a cluster is, where it runs,
and which gotchas to plant. :func:`generate_fleet` writes one folder per
cluster in the snapshot contract of ``CHECKS.md`` (``<plural>[.<group>].json``
kubectl Lists plus ``cluster.yaml``) and ``planted.json`` beside them.

The output depends only on the spec: each cluster draws from its own RNG,
seeded from the fleet seed and its name, so the same spec gives the same
bytes, and a cluster's bytes do not change when others join the fleet.
"""

from __future__ import annotations

import gc
import hashlib
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import orjson
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from fleetcheck.demo.admission import add_admission
from fleetcheck.demo.apiserver_metrics import add_apiserver_metrics
from fleetcheck.demo.build import ClusterBuild, ClusterPlan, Obj
from fleetcheck.demo.certmanager import add_cert_manager
from fleetcheck.demo.cni import add_cni
from fleetcheck.demo.control_plane import add_control_plane, add_kube_proxy, add_nodes
from fleetcheck.demo.dns import add_coredns
from fleetcheck.demo.observability import add_logging, add_monitoring
from fleetcheck.demo.planted import PLANTINGS, Plant, write_planted
from fleetcheck.demo.providers import (
    AWS_VPC_CNI_VERSION,
    PROVIDER_CNI,
    add_cluster_autoscaler,
    add_k3s_addons,
    ecr_registry,
    version_suffix,
)
from fleetcheck.demo.quotas import add_quotas
from fleetcheck.demo.rbac import add_rbac
from fleetcheck.demo.storage import REPLICATED_STORAGE_CLASSES, add_storage_classes
from fleetcheck.demo.velero import add_velero
from fleetcheck.demo.workloads import add_namespaces, add_team_workloads

__all__ = [
    "DEMO_CAPTURED",
    "SIZES",
    "ClusterSpec",
    "FleetSpec",
    "GeneratedCluster",
    "Size",
    "bench_fleet_spec",
    "build_cluster",
    "declared_facts",
    "demo_fleet_spec",
    "demo_profile",
    "generate_cluster",
    "generate_fleet",
    "generate_fleet_report",
    "profile_registries",
    "profile_settings",
    "profile_standards",
    "resolve_plan",
    "write_snapshot",
]

DEMO_CAPTURED = datetime(2026, 11, 24, 10, 0, 0, tzinfo=UTC)
SizeName = Literal["prod", "canary", "dev", "edge"]
CniName = Literal["calico", "cilium"]
#: who runs a demo cluster: the fleet's own kubeadm build, EKS (managed) or k3s (a distribution)
ProviderName = Literal["kubeadm", "eks", "k3s"]
_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_VERSION = r"^v1\.\d+\.\d+$"

#: Kinds the API server always serves: written even when empty, since a missing file would mean
#: "not captured" rather than "none" to a reader.
_ALWAYS_WRITTEN = (
    "clusterrolebindings.rbac.authorization.k8s.io",
    "clusterroles.rbac.authorization.k8s.io",
    "configmaps",
    "cronjobs.batch",
    "customresourcedefinitions.apiextensions.k8s.io",
    "daemonsets.apps",
    "deployments.apps",
    "ingressclasses.networking.k8s.io",
    "jobs.batch",
    "leases.coordination.k8s.io",
    "limitranges",
    "namespaces",
    "nodes",
    "persistentvolumeclaims",
    "persistentvolumes",
    "pods",
    "replicasets.apps",
    "resourcequotas",
    "services",
    "statefulsets.apps",
    "storageclasses.storage.k8s.io",
    # issue 16: admission, discovery, drains, aggregation, and what FC-API-002 reads
    "validatingwebhookconfigurations.admissionregistration.k8s.io",
    "mutatingwebhookconfigurations.admissionregistration.k8s.io",
    "endpointslices.discovery.k8s.io",
    "poddisruptionbudgets.policy",
    "apiservices.apiregistration.k8s.io",
    "ingresses.networking.k8s.io",
)


@dataclass(frozen=True)
class Size:
    """How big a cluster is: node, pod (all of them, system included) and namespace counts."""

    nodes: int
    pods: int
    namespaces: int


SIZES: dict[str, Size] = {
    "prod": Size(nodes=200, pods=5000, namespaces=100),
    "canary": Size(nodes=3, pods=60, namespaces=14),
    "dev": Size(nodes=5, pods=100, namespaces=14),
    "edge": Size(nodes=1, pods=40, namespaces=9),
}
_TIER_OF_SIZE = {"prod": "prod", "canary": "canary", "dev": "dev", "edge": "prod"}
_ENV_OF_SIZE = {"prod": "prod", "canary": "canary", "dev": "dev", "edge": "edge"}
_LIFETIME_DAYS = {"prod": 365, "canary": 270, "dev": 180, "edge": 365}


class ClusterSpec(BaseModel):
    """One cluster of the fleet: a size preset (or explicit counts), where it runs, what to plant."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=_NAME, max_length=40)
    size: SizeName = "dev"
    nodes: int | None = Field(default=None, ge=1, le=4000)
    pods: int | None = Field(default=None, ge=1)
    namespaces: int | None = Field(default=None, ge=5)
    region: str = Field(default="us-east", pattern=_NAME)
    #: merged over the defaults (env, tier, region, team, owner, expires, provider)
    labels: dict[str, str] = Field(default_factory=dict)
    server_version: str | None = Field(default=None, pattern=_VERSION)
    cni: CniName | None = None
    #: EKS and k3s clusters run their provider's CNI, add-ons and node shapes (``cni`` does not apply)
    provider: ProviderName = "kubeadm"
    #: workers that were drained and then stopped reporting (a realistic negative for clock checks)
    not_ready_nodes: int = Field(default=0, ge=0)
    #: plant keys from :data:`fleetcheck.demo.planted.PLANTINGS`, applied in this order
    plants: tuple[str, ...] = ()

    @field_validator("plants")
    @classmethod
    def _known_plants(cls, plants: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [key for key in plants if key not in PLANTINGS]
        if unknown:
            raise ValueError(f"unknown plant(s) {unknown}; known: {sorted(PLANTINGS)}")
        if len(set(plants)) != len(plants):
            raise ValueError(f"a plant is listed twice in {list(plants)}")
        return plants

    @property
    def dimensions(self) -> Size:
        """The preset's counts with the explicit ones applied."""
        preset = SIZES[self.size]
        return Size(
            nodes=self.nodes or preset.nodes,
            pods=self.pods or preset.pods,
            namespaces=self.namespaces or preset.namespaces,
        )


class FleetSpec(BaseModel):
    """The fleet standard every clean cluster follows, and the clusters."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "demo"
    captured: datetime = DEMO_CAPTURED
    seed: int = 20261124
    server_version: str = Field(default="v1.35.1", pattern=_VERSION)
    cni: CniName = "calico"
    calico_version: str = "3.31.6"
    cilium_version: str = "1.18.12"
    cluster_domain: str = "cluster.local"
    dns_upstreams: tuple[str, ...] = ("10.255.0.53", "10.255.1.53")
    oidc_issuer: str = "https://sso.example.com/realms/platform"
    oidc_client_id: str = "kubernetes"
    oidc_username_prefix: str = "oidc:"
    metrics_url: str = "https://metrics.example.com/api/v1/write"
    logs_host: str = "logs.example.com"
    #: the registry mirror of a region; ``{region}`` is replaced
    registry: str = "registry.{region}.example.com"
    clusters: tuple[ClusterSpec, ...] = ()

    @field_validator("captured")
    @classmethod
    def _utc(cls, captured: datetime) -> datetime:
        if captured.tzinfo is None or captured.utcoffset() != timedelta(0):
            raise ValueError("captured must be a UTC time (e.g. 2026-11-24T10:00:00Z)")
        return captured.replace(microsecond=0)

    @model_validator(mode="after")
    def _consistent(self) -> FleetSpec:
        names = [c.name for c in self.clusters]
        if len(set(names)) != len(names):
            raise ValueError(f"cluster names repeat: {sorted(n for n in set(names) if names.count(n) > 1)}")
        for cluster in self.clusters:
            if cluster.provider != "kubeadm" and cluster.cni is not None:
                raise ValueError(f"{cluster.name}: a {cluster.provider} cluster runs its provider's CNI; drop cni")
            if "FC-TIER-002" not in cluster.plants:
                continue
            profile = _profile_of(cluster)
            guarded = any(_tier(c) in ("canary", "staging") and _profile_of(c) == profile for c in self.clusters)
            if guarded or _tier(cluster) != "prod":
                raise ValueError(
                    f"{cluster.name}: FC-TIER-002 needs a prod cluster with no canary in its demo profile ({profile})"
                )
        return self


def _tier(spec: ClusterSpec) -> str | None:
    if "FC-TIER-001" in spec.plants:
        return None
    return spec.labels.get("tier", _TIER_OF_SIZE[spec.size])


def demo_profile(labels: dict[str, str]) -> str:
    """The demo profile a cluster is scanned with, from its labels: ``demo-<base>[-<provider>]``.

    The base is the built-in profile the tier (else env) points to: an edge
    cluster is ``edge`` whatever its tier (single nodes, no CoreDNS replica
    rule); prod, canary and staging clusters are ``prod``; dev is ``dev``.
    Managed and distribution clusters get a profile of their own per
    provider: their CNI, node image and add-ons are the provider's by
    design, so their fleet comparisons are made against the standards the
    fleet declares for that provider, not against the kubeadm clusters'
    majority (see the README's demo section).
    """
    tier = labels.get("tier") or labels.get("env") or "default"
    if labels.get("env") == "edge" or tier == "edge":
        base = "edge"
    elif tier in ("prod", "canary", "staging"):
        base = "prod"
    else:
        base = tier if tier == "dev" else "default"
    provider = labels.get("provider", "kubeadm")
    return f"demo-{base}" if provider == "kubeadm" else f"demo-{base}-{provider}"


def _profile_of(spec: ClusterSpec) -> str:
    tier = _tier(spec)
    labels = {"env": _ENV_OF_SIZE[spec.size], "provider": spec.provider, **spec.labels}
    if tier is None:
        labels.pop("tier", None)
    else:
        labels["tier"] = tier
    return demo_profile(labels)


def _seed(fleet: FleetSpec, spec: ClusterSpec) -> int:
    return int.from_bytes(hashlib.sha256(f"{fleet.seed}/{spec.name}".encode()).digest()[:8], "big")


def resolve_plan(spec: ClusterSpec, fleet: FleetSpec) -> ClusterPlan:
    """The cluster's knobs: the fleet standard, the spec's size and place, before any plant."""
    dims = spec.dimensions
    cni = PROVIDER_CNI.get(spec.provider) or spec.cni or fleet.cni
    versions = {"calico": fleet.calico_version, "cilium": fleet.cilium_version, "aws-vpc-cni": AWS_VPC_CNI_VERSION}
    control_planes = 3 if dims.nodes >= 10 else 1
    if spec.provider == "eks":
        control_planes = 0  # EKS runs the control plane out of sight: every node is a worker
    labels = {
        "env": _ENV_OF_SIZE[spec.size],
        "tier": _TIER_OF_SIZE[spec.size],
        "region": spec.region,
        "team": "platform",
        "owner": "team-platform",
        "expires": (fleet.captured + timedelta(days=_LIFETIME_DAYS[spec.size])).strftime("%Y-%m-%d"),
        "provider": spec.provider,
        **spec.labels,
    }
    return ClusterPlan(
        name=spec.name,
        captured=fleet.captured,
        region=spec.region,
        registry=fleet.registry.format(region=spec.region),
        labels=labels,
        tier=labels.get("tier"),
        nodes=dims.nodes,
        control_planes=control_planes,
        pods=dims.pods,
        namespaces=dims.namespaces,
        not_ready_nodes=spec.not_ready_nodes,
        server_version=spec.server_version or fleet.server_version,
        cni=cni,
        cni_version=versions.get(cni, ""),
        cluster_domain=fleet.cluster_domain,
        dns_upstreams=fleet.dns_upstreams,
        oidc_issuer=fleet.oidc_issuer,
        oidc_client_id=fleet.oidc_client_id,
        oidc_username_prefix=fleet.oidc_username_prefix,
        metrics_url=fleet.metrics_url,
        logs_host=fleet.logs_host,
        hourly_schedule=dims.nodes >= 50,
        persistent_volumes=spec.size in ("prod", "canary"),
        cert_manager=spec.size in ("prod", "canary"),
        provider=spec.provider,
        version_suffix=version_suffix(spec.provider, spec.name),
    )


@dataclass(frozen=True)
class GeneratedCluster:
    """What :func:`generate_cluster` wrote: the folder, its plants, and object counts by kind."""

    name: str
    path: Path
    plants: tuple[Plant, ...]
    counts: dict[str, int]
    bytes_written: int


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause the cyclic GC while a cluster is built.

    A prod cluster is a few million small, long-lived dicts and lists without
    reference cycles; the collector's repeated passes over them cost about
    half the generation time and free nothing.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build_cluster(spec: ClusterSpec, fleet: FleetSpec) -> tuple[ClusterBuild, list[Plant]]:
    """Generate one cluster's objects in memory and apply its plants (nothing is written)."""
    with _no_cycle_collection():
        return _build_cluster(spec, fleet)


def _build_cluster(spec: ClusterSpec, fleet: FleetSpec) -> tuple[ClusterBuild, list[Plant]]:
    plan = resolve_plan(spec, fleet)
    for key in spec.plants:
        PLANTINGS[key].prepare(plan)
    build = ClusterBuild(plan, fleet.captured, _seed(fleet, spec))
    for key in _ALWAYS_WRITTEN:
        build.declare(key)
    add_namespaces(build)
    add_nodes(build)
    add_control_plane(build)
    add_kube_proxy(build)
    add_cni(build)
    add_coredns(build)
    add_cluster_autoscaler(build)
    add_k3s_addons(build)
    add_logging(build)
    add_monitoring(build)
    add_velero(build)
    add_cert_manager(build)
    add_rbac(build)
    add_storage_classes(build)
    add_team_workloads(build)
    add_quotas(build)
    add_admission(build)
    plants = [row for key in spec.plants for row in PLANTINGS[key].apply(build)]
    add_apiserver_metrics(build)  # last: it counts the final objects
    for crd in build.items("customresourcedefinitions.apiextensions.k8s.io"):
        # a capture lists every installed kind, empty or not: a CRD without its objects' file is "not captured"
        build.declare(f"{crd['spec']['names']['plural']}.{crd['spec']['group']}")
    if build.count("pods") != plan.pods:
        raise AssertionError(f"{plan.name}: generated {build.count('pods')} pods, spec says {plan.pods}")
    return build, plants


def _sort_key(obj: Obj) -> tuple[str, str]:
    meta = obj["metadata"]
    return meta.get("namespace", ""), meta["name"]


def _cluster_yaml(build: ClusterBuild) -> str:
    doc = {
        "name": build.plan.name,
        "captured": build.captured.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "serverVersion": build.plan.git_version,
        "labels": dict(sorted(build.plan.labels.items())),
    }
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)


def write_snapshot(folder: Path, build: ClusterBuild) -> int:
    """Write ``build`` as a snapshot folder (replacing an older one there); returns the bytes written."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    written = 0
    for key in sorted(build.objects):
        items = sorted(build.objects[key], key=_sort_key)
        document = {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}
        payload = orjson.dumps(document, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)
        (folder / f"{key}.json").write_bytes(payload)
        written += len(payload)
    for name, payload in sorted(build.files.items()):
        (folder / name).write_bytes(payload)
        written += len(payload)
    text = _cluster_yaml(build).encode()
    (folder / "cluster.yaml").write_bytes(text)
    return written + len(text)


def generate_cluster(out_dir: Path, spec: ClusterSpec, fleet: FleetSpec) -> GeneratedCluster:
    """Generate one cluster of ``fleet`` into ``out_dir/<name>``."""
    build, plants = build_cluster(spec, fleet)
    folder = Path(out_dir) / spec.name
    size = write_snapshot(folder, build)
    counts = {key: len(items) for key, items in build.objects.items()}
    return GeneratedCluster(spec.name, folder, tuple(plants), counts, size)


def generate_fleet(out_dir: Path, spec: FleetSpec) -> list[Path]:
    """Write every cluster of ``spec`` under ``out_dir`` and ``out_dir/planted.json``; returns the folders."""
    return [cluster.path for cluster in generate_fleet_report(out_dir, spec)]


def generate_fleet_report(out_dir: Path, spec: FleetSpec) -> list[GeneratedCluster]:
    """:func:`generate_fleet`, returning what was written per cluster (for the CLI's summary)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    clusters = [generate_cluster(out, cluster, spec) for cluster in spec.clusters]
    write_planted(out / "planted.json", [plant for cluster in clusters for plant in cluster.plants])
    return clusters


def profile_standards(spec: FleetSpec, provider: str = "kubeadm") -> dict[str, object]:
    """The fleet standard as a profile's ``standards:`` block (``fleetcheck.registry.profile.Standards``).

    A profile that groups a single cluster (the demo's dev and edge profiles)
    has no peers to take a majority from; declaring the standard the
    generator followed lets the fleet checks judge such a cluster alone.
    For a provider's profile the CNI is the provider's (the EKS add-on's
    Amazon VPC CNI; k3s's built-in flannel, whose version the API does not
    show, so none is declared); everything else is the fleet's.
    """
    cni = PROVIDER_CNI.get(provider, spec.cni)
    versions = {"calico": spec.calico_version, "cilium": spec.cilium_version, "aws-vpc-cni": AWS_VPC_CNI_VERSION}
    cni_version = versions.get(cni)
    return {
        "cni": cni,
        **({"cni_version": ".".join(cni_version.split(".")[:2])} if cni_version else {}),
        "kubernetes_minor": ".".join(spec.server_version.lstrip("v").split(".")[:2]),
        "oidc_issuer": spec.oidc_issuer,
        "oidc_client_id": spec.oidc_client_id,
        "oidc_username_prefix": spec.oidc_username_prefix,
        "dns_upstreams": list(spec.dns_upstreams),
        "cluster_domain": spec.cluster_domain,
        "metrics_endpoints": [spec.metrics_url],
        "replicated_storage_classes": list(REPLICATED_STORAGE_CLASSES),
    }


def profile_registries(spec: FleetSpec, provider: str = "kubeadm") -> dict[str, list[str]]:
    """The registry each region of the fleet pulls from, as a profile's ``registries:`` block.

    EKS's managed add-ons (aws-node, kube-proxy, CoreDNS) can only be pulled
    from the region's EKS ECR registry, so an EKS profile allows it beside
    the fleet's mirror.
    """
    regions = sorted({c.region for c in spec.clusters})
    return {
        region: [spec.registry.format(region=region), *([ecr_registry(region)] if provider == "eks" else [])]
        for region in regions
    }


def profile_settings(spec: FleetSpec) -> dict[str, dict[str, object]]:
    """Check settings the demo's profiles declare: the nodes' cgroup version where the fleet spec plants v1.

    The API does not show a node's cgroup version, so FC-NODE-004 judges
    what the profile declares; the clusters planted with it are declared on
    cgroup v1 (the others stay undeclared, and the check skips saying so).
    """
    v1 = {c.name: 1 for c in spec.clusters if "FC-NODE-004" in c.plants}
    return {"FC-NODE-004": {"cgroup_version": v1}} if v1 else {}


def declared_facts(spec: FleetSpec) -> dict[str, dict[str, str]]:
    """The facts a fleet file declares per cluster: the OIDC set-up of the clusters whose API server is hidden.

    EKS associates an OIDC identity provider with the cluster outside the
    API; k3s takes its kube-apiserver flags in its own config file. Neither
    shows a kube-apiserver pod, so the demo's fleet file declares what the
    platform configured there, as a real fleet file would.
    """
    return {
        c.name: {
            "oidc_issuer": spec.oidc_issuer,
            "oidc_client_id": spec.oidc_client_id,
            "oidc_username_prefix": spec.oidc_username_prefix,
        }
        for c in spec.clusters
        if c.provider != "kubeadm"
    }


def demo_fleet_spec(*, small: bool = False) -> FleetSpec:
    """The ``fleetcheck demo`` fleet: two prod regions, their canary, dev, a forgotten edge cluster, two EKS, k3s.

    ``small=True`` keeps every cluster, label and plant but shrinks the prod
    clusters to 12 nodes / 300 pods / 24 namespaces, for fast end-to-end tests.
    """
    prod: dict[str, int] = {"nodes": 12, "pods": 300, "namespaces": 24} if small else {}
    return FleetSpec(
        name="demo",
        clusters=(
            ClusterSpec(
                name="prod-us-east",
                size="prod",
                region="us-east",
                labels={"team": "platform-us"},
                plants=(
                    "FC-QUOTA-001",
                    "FC-QUOTA-002",
                    "FC-QUOTA-003",
                    "FC-CLOCK-001",
                    "FC-DNS-002",
                    "FC-IMG-001",
                    "FC-OIDC-004",
                    "FC-BACKUP-004",
                    "FC-PV-001",
                    "FC-HOOK-001",
                    "FC-PSA-001",
                    "FC-NODE-001",
                    "FC-ETCD-001",
                ),
                **prod,
            ),
            ClusterSpec(
                name="prod-eu-west",
                size="prod",
                region="eu-west",
                labels={"team": "platform-eu"},
                not_ready_nodes=1,
                plants=(
                    "FC-PV-002",
                    "FC-DNS-005",
                    "FC-IMG-002",
                    "FC-IMG-003",
                    "FC-BACKUP-002",
                    "FC-BACKUP-003",
                    "FC-OBS-002",
                    "FC-GITOPS-001",
                    "FC-RBAC-001",
                    "FC-CERT-001",
                    "FC-PDB-001",
                    "FC-HOOK-004",
                    "FC-PSA-002",
                    "FC-NODE-002",
                    "FC-CERT-002",
                ),
                **prod,
            ),
            ClusterSpec(
                name="canary-eu-west",
                size="canary",
                region="eu-west",
                plants=("FC-TIER-003", "FC-APISVC-001", "FC-HOOK-003"),
            ),
            ClusterSpec(
                name="dev",
                size="dev",
                region="us-east",
                plants=(
                    "FC-BACKUP-001",
                    "FC-DNS-001",
                    "FC-CNI-003",
                    "FC-OIDC-002",
                    "FC-OIDC-005",
                    "FC-STALE-001",
                    "FC-HOOK-002",
                    "FC-SUP-001",
                    "FC-NODE-003",
                    "FC-ADDON-001",
                ),
            ),
            ClusterSpec(
                name="edge-001",
                size="edge",
                region="eu-west",
                pods=10,
                namespaces=6,
                labels={"team": "retail-edge", "site": "store-0417"},
                plants=(
                    "FC-CNI-002",
                    "FC-VER-001",
                    "FC-DNS-003",
                    "FC-OIDC-001",
                    "FC-TIER-001",
                    "FC-STALE-002",
                    "FC-STALE-003",
                    "FC-COST-001",
                    "FC-OBS-001",
                    "FC-OBS-002/absent",
                    "FC-API-001",
                    "FC-ADDON-002",
                ),
            ),
            ClusterSpec(
                name="prod-eks-us-east",
                size="prod",
                provider="eks",
                region="us-east",
                nodes=6,
                pods=150,
                namespaces=16,
                labels={"team": "platform-us"},
                plants=("FC-DNS-001", "FC-ADDON-003", "FC-TIER-002"),
            ),
            ClusterSpec(
                name="dev-eks-eu-west",
                size="dev",
                provider="eks",
                region="eu-west",
                labels={"team": "data-platform"},
                plants=("FC-SUP-002",),
            ),
            ClusterSpec(
                name="edge-k3s-002",
                size="edge",
                provider="k3s",
                region="eu-west",
                labels={"team": "retail-edge", "site": "store-0422"},
                plants=("FC-STALE-002", "FC-NODE-004", "FC-TIER-002"),
            ),
        ),
    )


def bench_fleet_spec(prod: int = 10, dev: int = 30, edge: int = 60, canary: int = 1) -> FleetSpec:
    """A big, mostly clean fleet for benchmarks: ``prod-000``, ``dev-000``, ``edge-000`` ... ``canary-000``.

    Prod clusters have the prod size, dev the dev size, edge clusters one
    node and 40 pods; regions alternate between us-east and eu-west. Only the
    first cluster of each kind carries a plant. With ``canary=0`` no cluster
    guards prod, and every prod and edge cluster (tier prod) carries FC-TIER-002.
    """
    regions = ("us-east", "eu-west")
    unguarded = ("FC-TIER-002",) if canary == 0 else ()
    first_plants = {
        ("prod", 0): ("FC-QUOTA-003",),
        ("prod", 1): ("FC-CLOCK-001",),
        ("dev", 0): ("FC-DNS-001",),
        ("edge", 0): ("FC-OIDC-001",),
    }
    clusters: list[ClusterSpec] = []
    sizes: tuple[tuple[SizeName, int], ...] = (("prod", prod), ("canary", canary), ("dev", dev), ("edge", edge))
    for kind, count in sizes:
        for index in range(count):
            plants = first_plants.get((kind, index), ())
            if kind in ("prod", "edge"):
                plants = (*plants, *unguarded)
            clusters.append(
                ClusterSpec(
                    name=f"{kind}-{index:03d}",
                    size=kind,
                    region=regions[index % 2],
                    plants=plants,
                )
            )
    return FleetSpec(name="bench", clusters=tuple(clusters))
