"""Add-ons: components retired upstream, and CoreDNS, kube-proxy, metrics-server, cluster-autoscaler lag (FC-ADDON-*).

Components are found by the image their workloads run (repository path, not
the registry: a mirror still matches); versions come from the image tag.
The shipped tables (``retired_components.yaml``, ``addon_versions.yaml``)
carry their sources and the date they were taken; ``fleetcheck explain
FC-ADDON-002`` prints them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from fleetcheck import ClusterView, Findings, check, object_ref, skip
from fleetcheck.core.imageref import ImageRefError, parse_image_ref
from fleetcheck.outcomes import name_list
from fleetcheck.redact import redact
from fleetcheck.reference_data import (
    RetiredComponent,
    addon_versions,
    parse_semver,
    retired_components,
)

WORKLOADS = ("deployments", "daemonsets", "statefulsets")
_KIND = {"deployments": "Deployment", "daemonsets": "DaemonSet", "statefulsets": "StatefulSet"}
_MAX_WORKLOADS = 50_000
_MAX_CONTAINERS = 64
_SHOWN = 6
#: the tag marker of add-ons whose builds the provider versions itself
_PROVIDER_BUILD = "-eksbuild"


@dataclass(frozen=True)
class Running:
    """One container image of one workload."""

    ref: str
    image: str
    path: str
    tag: str | None


def _running(cluster: ClusterView) -> list[Running]:
    """Every container image of every Deployment, DaemonSet and StatefulSet (bounded; computed once per cluster)."""

    def compute() -> list[Running]:
        out: list[Running] = []
        for kind in WORKLOADS:
            for obj in cluster.list(kind)[:_MAX_WORKLOADS]:
                out.extend(_images(obj, _KIND[kind]))
        return out

    return cluster.memo("addons.running", compute)


def _images(obj: dict[str, Any], kind: str) -> Iterator[Running]:
    spec = (((obj.get("spec") or {}).get("template") or {}).get("spec")) or {}
    containers = [*(spec.get("initContainers") or [])[:_MAX_CONTAINERS], *(spec.get("containers") or [])]
    for container in containers[: 2 * _MAX_CONTAINERS]:
        image = str((container or {}).get("image") or "")[:512]
        if not image:
            continue
        try:
            parsed = parse_image_ref(image)
        except ImageRefError:
            continue
        yield Running(object_ref(obj, kind), image, parsed.path, parsed.tag)


def _path_ends_with(path: str, suffix: str) -> bool:
    return path == suffix or path.endswith("/" + suffix)


class RetiredSettings(BaseModel):
    """Additions and exceptions of FC-ADDON-001."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allow: list[str] = Field(default_factory=list, description="retired components accepted here, by name")
    extra_retired: list[RetiredComponent] = Field(
        default_factory=list, description="more retired components (name, images, retired, by, source, replacement)"
    )


@check(
    "FC-ADDON-001",
    title="Component retired upstream still running",
    factor="boring",
    severity="high",
    reads=list(WORKLOADS),
    settings=RetiredSettings,
    success="no workload runs a component its upstream project has retired",
)
def test_no_retired_components(cluster: ClusterView, settings: RetiredSettings) -> None:
    """A Deployment, DaemonSet or StatefulSet runs a component its upstream project has retired.

    What: every container image of every Deployment, DaemonSet and
    StatefulSet is matched against ``retired_components.yaml``
    (ingress-nginx, retired by Kubernetes SIG Network in March 2026;
    heapster; weave-net ...): a component matches when the image's
    repository path, registry left out so mirrors match, is or ends with one
    of its ``images`` (``registry.k8s.io/ingress-nginx/controller`` ends
    with ``ingress-nginx/controller``). Only a component past its
    ``retired`` date on the cluster's clock fails. A profile adds rows with
    ``extra_retired`` and accepts a component by name with ``allow``.
    Counts toward *boring*: maintained, mainstream components the rest of
    the ecosystem still tests against.
    Why: a retired component gets no releases: no fixes for the next
    critical CVE (ingress-nginx had several that allowed a cluster
    takeover, CVE-2025-1974 among them), no support for the next Kubernetes
    minor's API changes. It keeps working until the day it is the hole, or
    the upgrade blocker, with no patched version to move to.
    Fix: migrate to the replacement the finding names (for ingress-nginx a
    Gateway API implementation or another maintained controller), one
    route at a time; meanwhile restrict who can set its annotations.
    References: https://kubernetes.io/blog/2025/11/11/ingress-nginx-retirement/ ;
    https://gateway-api.sigs.k8s.io/implementations/
    """
    rows = [*retired_components().entries, *settings.extra_retired]
    allowed = {name.lower() for name in settings.allow}
    today = cluster.server_time.astimezone(UTC).date()
    findings = Findings()
    seen: set[tuple[str, str]] = set()
    for running in _running(cluster):
        for row in rows:
            if row.name.lower() in allowed or today <= row.retired:
                continue
            matched = any(_path_ends_with(running.path, suffix) for suffix in row.images)
            if matched and (running.ref, row.name) not in seen:
                seen.add((running.ref, row.name))
                findings.add(
                    running.ref,
                    redact(
                        f"runs {running.image}: {row.name}, retired {row.retired.isoformat()} by {row.by} "
                        f"({row.source}); replace with {row.replacement}"
                    ),
                )
    findings.raise_if_any(
        f"{len(findings)} workloads run components retired upstream ({retired_components().citation()}); "
        "expected maintained replacements"
    )


@dataclass(frozen=True)
class _Component:
    label: str
    image: str
    kinds: tuple[str, ...]


_COMPONENTS = (
    _Component("CoreDNS", "coredns", ("Deployment",)),
    _Component("kube-proxy", "kube-proxy", ("DaemonSet",)),
    _Component("metrics-server", "metrics-server", ("Deployment",)),
)


class AddonFloorSettings(BaseModel):
    """Floor overrides of FC-ADDON-002."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    coredns: dict[str, str] = Field(default_factory=dict, description='CoreDNS floors per minor, {"1.35": "v1.13.1"}')
    metrics_server: dict[str, str] = Field(default_factory=dict, description="metrics-server floors per minor")


def _find(cluster: ClusterView, component: _Component) -> list[Running]:
    return [
        r
        for r in _running(cluster)
        if r.ref.split("/")[-2] in component.kinds and r.path.rsplit("/", 1)[-1] == component.image
    ]


def _floor_of(floors: dict[str, str], minor: str) -> str | None:
    return floors.get(minor)


@check(
    "FC-ADDON-002",
    title="CoreDNS, kube-proxy or metrics-server older than the cluster's minor ships",
    factor="boring",
    severity="medium",
    reads=list(WORKLOADS),
    settings=AddonFloorSettings,
    success="CoreDNS, kube-proxy and metrics-server are at least the versions that come with this minor",
)
def test_addons_not_behind_minor(cluster: ClusterView, settings: AddonFloorSettings) -> None:
    """CoreDNS, kube-proxy or metrics-server runs an older version than the one shipped for the cluster's minor.

    What: the add-ons are found by image name (``.../coredns``,
    ``.../kube-proxy``, ``.../metrics-server``, any registry) in
    Deployments (CoreDNS, metrics-server) and DaemonSets (kube-proxy), and
    their version read from the image tag. CoreDNS must be at least the
    version kubeadm installs for the API server's minor, metrics-server at
    least the oldest release whose compatibility matrix covers it (both
    from ``addon_versions.yaml``, with sources; a profile overrides floors
    with ``coredns`` / ``metrics_server``); kube-proxy's minor must be the
    cluster's (it is released with Kubernetes and upgraded with the control
    plane). Provider builds (EKS ``v1.11.3-eksbuild.2``) are compared on
    their upstream version; the provider's build revision is not compared
    (its defaults per minor are the provider's, ``aws eks
    describe-addon-versions``), and the message says so. An add-on not
    installed, a tag that is no version, or a minor with no floor is named
    as not judged. Counts toward *boring*: add-ons move with the minor.
    Why: add-ons are upgraded separately from the control plane on most
    installers and on every managed provider; a cluster upgraded three
    times with the original CoreDNS runs a DNS server with known bugs and
    CVEs, and a kube-proxy minors behind programs Service rules with
    behaviour the rest of the fleet no longer has.
    Fix: upgrade the add-on to the version for the minor (``kubeadm
    upgrade apply`` does CoreDNS and kube-proxy; on EKS ``aws eks
    update-addon``; metrics-server from its chart).
    References: https://github.com/kubernetes/kubernetes/blob/master/cmd/kubeadm/app/constants/constants.go ;
    https://github.com/kubernetes-sigs/metrics-server#compatibility-matrix ;
    https://kubernetes.io/releases/version-skew-policy/#kube-proxy
    """
    table = addon_versions()
    minor = f"{cluster.version.major}.{cluster.version.minor}"
    floors = {
        "CoreDNS": table.coredns.minimum | settings.coredns,
        "metrics-server": table.metrics_server.minimum | settings.metrics_server,
    }
    findings = Findings()
    judged: list[str] = []
    not_judged: list[str] = []
    provider_builds: list[str] = []
    for component in _COMPONENTS:
        found = _find(cluster, component)
        if not found:
            not_judged.append(f"{component.label} (not installed)")
            continue
        for running in found:
            version = parse_semver(running.tag or "")
            if version is None:
                tag = running.tag or "none"
                not_judged.append(redact(f"{component.label} {running.ref} (tag {tag} is no version)"))
                continue
            if _PROVIDER_BUILD in (running.tag or ""):
                provider_builds.append(component.label)
            judged.append(component.label)
            shown = redact(running.tag or "")
            if component.label == "kube-proxy":
                if (version[0], version[1]) != (cluster.version.major, cluster.version.minor):
                    findings.add(running.ref, f"kube-proxy {shown} is not the cluster's minor {minor}")
                continue
            floor_text = _floor_of(floors[component.label], minor)
            floor = parse_semver(floor_text) if floor_text else None
            if floor is None:
                not_judged.append(f"{component.label} (no floor for {minor} in {table.citation()})")
                continue
            if version < floor:
                findings.add(running.ref, f"{component.label} {shown} is older than {floor_text}, shipped for {minor}")
    if not judged:
        skip(f"no add-on version to judge: {name_list(not_judged, _SHOWN, sort=False)}")
    notes = ""
    if provider_builds:
        notes += (
            f"; provider builds ({', '.join(sorted(set(provider_builds)))}) compared on their upstream version, "
            "the build revision not compared"
        )
    if not_judged:
        notes += f"; not judged: {name_list(not_judged, _SHOWN, sort=False)}"
    findings.raise_if_any(
        f"{len(findings)} add-ons are behind Kubernetes {minor} ({table.citation()}); expected the versions "
        f"shipped for {minor}{notes}"
    )


@check(
    "FC-ADDON-003",
    title="cluster-autoscaler's minor is not the cluster's",
    factor="boring",
    severity="medium",
    reads=list(WORKLOADS),  # the image inventory is shared with FC-ADDON-001/002 (listed once)
    success="cluster-autoscaler runs the cluster's Kubernetes minor",
)
def test_cluster_autoscaler_matches_minor(cluster: ClusterView) -> None:
    """cluster-autoscaler runs a different minor than the cluster's Kubernetes.

    What: Deployments whose image is ``.../cluster-autoscaler`` (any
    registry) are read; the image tag's minor (``v1.31.0`` -> 1.31) must
    equal the API server's, cluster-autoscaler's own policy (one release
    per Kubernetes minor, tested only against it; ``addon_versions.yaml``
    cites it). A tag that is no version is named, not judged; no
    cluster-autoscaler (Karpenter, a managed autoscaler, none) is skipped.
    Counts toward *boring*: the autoscaler moves with the minor.
    Why: cluster-autoscaler embeds the scheduler's code of its minor to
    simulate where pending pods would fit; a mismatched minor simulates
    with different predicates (topology spread, volume limits), so it adds
    nodes that do not help or refuses to add ones that would, and it breaks
    on APIs the newer server changed. It is the add-on upgrades most often
    forget.
    Fix: run the cluster-autoscaler release of the cluster's minor (chart
    ``image.tag``), upgrading it with each control-plane upgrade.
    References: https://github.com/kubernetes/autoscaler/tree/master/cluster-autoscaler#releases ;
    https://github.com/kubernetes/autoscaler/blob/master/cluster-autoscaler/FAQ.md
    """
    found = [
        r
        for r in _running(cluster)
        if r.ref.split("/")[-2] == "Deployment" and r.path.rsplit("/", 1)[-1] == "cluster-autoscaler"
    ]
    if not found:
        skip("no cluster-autoscaler Deployment (image .../cluster-autoscaler)")
    minor = (cluster.version.major, cluster.version.minor)
    findings = Findings()
    unparsed: list[str] = []
    for running in found:
        version = parse_semver(running.tag or "")
        if version is None:
            unparsed.append(running.ref)
            continue
        if (version[0], version[1]) != minor:
            findings.add(running.ref, redact(f"cluster-autoscaler {running.tag} is minor {version[0]}.{version[1]}"))
    if len(unparsed) == len(found):
        skip(redact(f"no cluster-autoscaler image tag is a version ({name_list(unparsed, _SHOWN)})"))
    policy = addon_versions().cluster_autoscaler
    findings.raise_if_any(
        f"cluster-autoscaler is not Kubernetes {minor[0]}.{minor[1]}'s minor; expected {minor[0]}.{minor[1]}.x "
        f"({policy.source}: {policy.policy})"
    )
