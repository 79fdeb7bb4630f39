"""Boring edges: the same ingress controller and service mesh, at nearly the same version, everywhere.

FC-INGRESS-001 and FC-MESH-001 share one shape: detect the products a
cluster runs (from Deployment and DaemonSet images, IngressClasses, and for
Cilium its ``cilium-config`` ConfigMap), name the fleet standard (the
profile's ``standards.ingress`` / ``standards.mesh``, ``name`` or
``name@minor``, else the majority of the clusters of the same profile) and
judge the cluster against it. Detection lives here because nothing else
reads it; it is kept free of pytest so it could move to ``fleetcheck/``
unchanged.

Detection is by image repository (the path's tail, so mirrors and
registry prefixes do not matter) and, for IngressClasses, by
``spec.controller``. Versions come from image tags (``v1.11.2``,
``1.22.3-distroless``, Linkerd's ``stable-2.14.10``); a digest-only,
untagged or ``latest`` image, or a Linkerd edge release, has no comparable
version, and that is said, never guessed.
"""

from __future__ import annotations

import fnmatch
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from fleetcheck import ClusterView, FleetView, check, fail, object_ref, skip
from fleetcheck.errors import ConfigError, FleetcheckError
from fleetcheck.imageref import ImageRefError, parse_image_ref
from fleetcheck.outcomes import breakdown, name_list

Obj = dict[str, Any]
Area = Literal["ingress", "mesh"]
_NAMES_SHOWN = 6
_READS = ["deployments", "daemonsets", "ingressclasses", "configmaps"]


# -- detection ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    """``major.minor[.patch]`` read from an image tag."""

    major: int
    minor: int
    patch: int = 0

    @property
    def minor_version(self) -> str:
        """``1.11``."""
        return f"{self.major}.{self.minor}"

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


_TAG_VERSION = re.compile(r"^(?:v|stable-|enterprise-|controller-v)?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+_.].*)?$")


def parse_tag_version(tag: str | None) -> tuple[Version | None, str]:
    """(version, why unknown) for an image tag."""
    if not tag:
        return None, "no tag (digest only, or untagged)"
    if tag == "latest":
        return None, "tag latest names no version"
    if tag.startswith("edge-"):
        return None, f"edge release {tag} (edge versions are not comparable minors)"
    match = _TAG_VERSION.match(tag)
    if match is None:
        return None, f"tag {tag} is not a version"
    return Version(int(match[1]), int(match[2]), int(match[3] or 0)), ""


@dataclass(frozen=True)
class Signature:
    """How one product's workload looks: image path globs (tail-matched), optionally a workload predicate."""

    product: str
    images: tuple[str, ...]
    accepts: Callable[[Obj], bool] | None = None


def _istio_ingress_gateway(workload: Obj) -> bool:
    meta = workload.get("metadata") or {}
    labels = meta.get("labels") or {}
    name = str(meta.get("name", ""))
    return labels.get("istio") == "ingressgateway" or ("ingressgateway" in name and "egress" not in name)


INGRESS_SIGNATURES: tuple[Signature, ...] = (
    Signature(
        "ingress-nginx",
        (
            "ingress-nginx/controller",
            "ingress-nginx/controller-chroot",
            "kubernetes-ingress-controller/nginx-ingress-controller",
        ),
    ),
    Signature("nginx-inc", ("nginx/nginx-ingress", "nginx-ic/nginx-plus-ingress", "nginx-plus-ingress")),
    Signature("traefik", ("traefik",)),
    Signature("haproxy", ("haproxytech/kubernetes-ingress",)),
    Signature("haproxy-ingress", ("jcmoraisjr/haproxy-ingress", "haproxy-ingress/haproxy-ingress")),
    Signature("contour", ("projectcontour/contour",)),
    Signature(
        "aws-load-balancer-controller",
        ("eks/aws-load-balancer-controller", "amazon/aws-load-balancer-controller", "aws-load-balancer-controller"),
    ),
    Signature("kong", ("kong/kubernetes-ingress-controller",)),
    Signature("istio", ("istio/proxyv2", "istio-release/proxyv2"), _istio_ingress_gateway),
)
#: IngressClass ``spec.controller`` globs -> product.
INGRESS_CLASS_CONTROLLERS: tuple[tuple[str, str], ...] = (
    ("k8s.io/ingress-nginx", "ingress-nginx"),
    ("webapprouting.kubernetes.azure.com/nginx", "ingress-nginx"),
    ("nginx.org/ingress-controller", "nginx-inc"),
    ("traefik.io/ingress-controller", "traefik"),
    ("haproxy.org/ingress-controller*", "haproxy"),
    ("haproxy-ingress.github.io/controller", "haproxy-ingress"),
    ("projectcontour.io/*", "contour"),
    ("ingress.k8s.aws/alb", "aws-load-balancer-controller"),
    ("ingress-controllers.konghq.com/*", "kong"),
    ("istio.io/ingress-controller", "istio"),
    ("cilium.io/ingress-controller", "cilium"),
    ("azure/application-gateway", "azure-application-gateway"),
)
MESH_SIGNATURES: tuple[Signature, ...] = (
    Signature("istio", ("istio/pilot", "istio-release/pilot")),
    Signature("linkerd", ("linkerd/controller",)),
    Signature("consul", ("hashicorp/consul-k8s-control-plane", "hashicorp/consul-k8s")),
    Signature("kuma", ("kumahq/kuma-cp",)),
)
#: cilium-config keys that turn on Cilium's service-mesh features.
CILIUM_MESH_KEYS: tuple[str, ...] = ("enable-envoy-config", "enable-gateway-api", "mesh-auth-enabled")

_ALIASES: dict[Area, dict[str, str]] = {
    "ingress": {
        "nginx": "ingress-nginx",
        "kubernetes-ingress-nginx": "ingress-nginx",
        "nginx-ingress": "nginx-inc",
        "f5-nginx": "nginx-inc",
        "alb": "aws-load-balancer-controller",
        "aws-alb": "aws-load-balancer-controller",
        "aws-lb": "aws-load-balancer-controller",
        "istio-gateway": "istio",
        "istio-ingressgateway": "istio",
        "agic": "azure-application-gateway",
    },
    "mesh": {"istiod": "istio", "cilium-mesh": "cilium", "cilium-service-mesh": "cilium", "consul-connect": "consul"},
}


def known_products(area: Area) -> list[str]:
    """Every product name the area's detection can report."""
    if area == "ingress":
        return sorted({s.product for s in INGRESS_SIGNATURES} | {p for _, p in INGRESS_CLASS_CONTROLLERS})
    return sorted({s.product for s in MESH_SIGNATURES} | {"cilium"})


@dataclass(frozen=True)
class Component:
    """One installation of a product: the object that shows it, its image and version (or why unknown)."""

    product: str
    source: str
    image: str = ""
    version: Version | None = None
    version_note: str = ""

    def describe(self) -> str:
        """``ingress-nginx 1.11.2 (ingress-nginx/Deployment/ingress-nginx-controller)``."""
        version = f" {self.version}" if self.version else ""
        return f"{self.product}{version} ({self.source})"


@dataclass
class Detection:
    """The ingress controllers and meshes of one cluster, by product."""

    ingress: dict[str, list[Component]] = field(default_factory=dict)
    mesh: dict[str, list[Component]] = field(default_factory=dict)

    def of(self, area: Area) -> dict[str, list[Component]]:
        """The products of ``area``."""
        return self.ingress if area == "ingress" else self.mesh


def _image_path_and_tag(image: str) -> tuple[str, str | None]:
    try:
        ref = parse_image_ref(image)
    except ImageRefError:
        bare = image.split("@", 1)[0]
        path, _, tag = bare.rpartition(":") if ":" in bare.rsplit("/", 1)[-1] else (bare, "", "")
        return path, tag or None
    return ref.path, ref.tag


def _matches_image(path: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(path, p) or fnmatch.fnmatchcase(path, f"*/{p}") for p in patterns)


def _containers(workload: Obj) -> list[Obj]:
    spec = ((workload.get("spec") or {}).get("template") or {}).get("spec") or {}
    return [c for c in spec.get("containers") or [] if isinstance(c, dict)]


def _workload_components(workloads: Iterable[tuple[Obj, str]], signatures: Iterable[Signature]) -> list[Component]:
    found: list[Component] = []
    signatures = tuple(signatures)
    for workload, kind in workloads:
        for container in _containers(workload):
            image = str(container.get("image") or "")
            path, tag = _image_path_and_tag(image)
            for signature in signatures:
                accepted = signature.accepts is None or signature.accepts(workload)
                if accepted and _matches_image(path, signature.images):
                    version, note = parse_tag_version(tag)
                    found.append(Component(signature.product, object_ref(workload, kind), image, version, note))
                    break
    return found


def _cilium_mesh(configmaps: Iterable[Obj], daemonsets: Iterable[Obj]) -> list[Component]:
    for configmap in configmaps:
        if (configmap.get("metadata") or {}).get("name") != "cilium-config":
            continue
        data = configmap.get("data") or {}
        enabled = [key for key in CILIUM_MESH_KEYS if str(data.get(key, "")).lower() == "true"]
        if not enabled:
            continue
        version, note, image = None, "no cilium agent DaemonSet found to read the version from", ""
        for daemonset in daemonsets:
            for container in _containers(daemonset):
                path, tag = _image_path_and_tag(str(container.get("image") or ""))
                if _matches_image(path, ("cilium/cilium",)):
                    image = str(container.get("image"))
                    version, note = parse_tag_version(tag)
        source = f"{object_ref(configmap, 'ConfigMap')} ({', '.join(f'{k}=true' for k in enabled)})"
        return [Component("cilium", source, image, version, note)]
    return []


def detect(
    deployments: list[Obj], daemonsets: list[Obj], ingress_classes: list[Obj], configmaps: list[Obj]
) -> Detection:
    """Every ingress controller and service mesh the objects show."""
    workloads = [(d, "Deployment") for d in deployments] + [(d, "DaemonSet") for d in daemonsets]
    detection = Detection()
    for component in _workload_components(workloads, INGRESS_SIGNATURES):
        detection.ingress.setdefault(component.product, []).append(component)
    for ingress_class in ingress_classes:
        controller = str((ingress_class.get("spec") or {}).get("controller") or "")
        if not controller:
            continue
        product = next(
            (p for pattern, p in INGRESS_CLASS_CONTROLLERS if fnmatch.fnmatchcase(controller, pattern)), controller
        )
        if product not in detection.ingress:
            note = f"IngressClass only (controller {controller}); no controller workload found to read a version from"
            detection.ingress[product] = [Component(product, object_ref(ingress_class, "IngressClass"), "", None, note)]
    for component in _workload_components(workloads, MESH_SIGNATURES):
        detection.mesh.setdefault(component.product, []).append(component)
    for component in _cilium_mesh(configmaps, daemonsets):
        detection.mesh.setdefault(component.product, []).append(component)
    return detection


def _detection(cluster: ClusterView) -> Detection:
    return cluster.memo(
        "fleetcheck.ingress_mesh.detection",
        lambda: detect(
            cluster.list("deployments"),
            cluster.list("daemonsets"),
            cluster.list("ingressclasses"),
            cluster.list("configmaps"),
        ),
    )


# -- the fleet standard ------------------------------------------------------------------------------


class _Undecided(Exception):
    """No standard can be named; the message says why (``split``: the fleet is split evenly)."""

    def __init__(self, message: str, *, split: bool = False) -> None:
        super().__init__(message)
        self.split = split


@dataclass(frozen=True)
class Standard:
    """The products a cluster must run (empty: the fleet runs none), an optional declared minor, and who says."""

    products: tuple[str, ...]
    minor: Version | None
    source: str


def _names(names: Iterable[str]) -> str:
    return name_list(names, _NAMES_SHOWN)


def _breakdown(groups: dict[str, list[str]]) -> str:
    return breakdown(groups, _NAMES_SHOWN)


def _field(area: Area) -> str:
    return f"standards.{area}"


def _what(area: Area) -> str:
    return "ingress controller" if area == "ingress" else "service mesh"


def parse_declared(area: Area, value: str, source: str) -> tuple[str, Version | None]:
    """``ingress-nginx`` or ``ingress-nginx@1.11`` -> (product, minor); unknown names are a config error."""
    name, _, minor_text = value.strip().partition("@")
    product = _ALIASES[area].get(name.strip().lower(), name.strip().lower())
    if product not in known_products(area):
        raise ConfigError(
            source, _field(area), f"unknown {area} {name!r}", f"use one of {', '.join(known_products(area))}"
        )
    if not minor_text:
        return product, None
    version, _ = parse_tag_version(minor_text.strip())
    if version is None:
        raise ConfigError(source, _field(area), f"{minor_text!r} is not a minor version", f"write e.g. {product}@1.11")
    return product, version


def _peer_detections(cluster: ClusterView, fleet: FleetView) -> tuple[dict[str, Detection], list[str]]:
    found: dict[str, Detection] = {cluster.name: _detection(cluster)}
    unreadable: list[str] = []
    for peer in fleet.peers(cluster):
        if peer.name == cluster.name:
            continue
        try:
            found[peer.name] = _detection(peer)
        except FleetcheckError as exc:
            unreadable.append(f"{peer.name} ({exc})")
    return found, unreadable


def _not_counted(unreadable: list[str]) -> str:
    return f"; not counted, unreadable: {'; '.join(unreadable)}" if unreadable else ""


def fleet_standard(area: Area, cluster: ClusterView, peers: dict[str, Detection], unreadable: list[str]) -> Standard:
    """The declared standard, else the option most same-profile clusters share ("none" is an option)."""
    profile = cluster.profile
    declared = getattr(profile.standards, area)
    if declared:
        product, minor = parse_declared(area, declared, profile.source or profile.name)
        return Standard((product,), minor, f"declared by profile {profile.name} ({_field(area)})")
    if len(peers) < 2:
        raise _Undecided(
            f"no other cluster of profile {profile.name} to compare with (declare {_field(area)} in the profile "
            f"to judge a cluster alone){_not_counted(unreadable)}"
        )
    groups: dict[str, list[str]] = {}
    for name, detection in peers.items():
        products = detection.of(area)
        for product in products or ["none"]:
            groups.setdefault(product, []).append(name)
    top = max(len(members) for members in groups.values())
    leaders = sorted(option for option, members in groups.items() if len(members) == top)
    split = f"{_breakdown(groups)}{_not_counted(unreadable)}"
    together = all(sorted(groups[leader]) == sorted(groups[leaders[0]]) for leader in leaders)
    if ("none" in leaders and len(leaders) > 1) or not together:
        raise _Undecided(
            f"no fleet standard {_what(area)}: the {len(peers)} clusters of profile {profile.name} are split evenly "
            f"({split}); declare {_field(area)} in the profile",
            split=True,
        )
    if leaders == ["none"]:
        raise _Undecided(
            f"most clusters of profile {profile.name} run no {_what(area)} ({split}): there is no standard"
        )
    source = f"the majority of the {len(peers)} clusters of profile {profile.name}: {split}"
    return Standard(tuple(leaders), None, source)


def standard_minor(product: str, peers: dict[str, Detection], area: Area, profile: str) -> tuple[Version, str]:
    """The minor most same-profile clusters running ``product`` use (an even split is undecided)."""
    groups: dict[str, list[str]] = {}
    versions: dict[str, Version] = {}
    for name, detection in peers.items():
        minors = {c.version.minor_version: c.version for c in detection.of(area).get(product, []) if c.version}
        for key, version in minors.items():
            groups.setdefault(key, []).append(name)
            versions.setdefault(key, version)
    if sum(len(m) for m in groups.values()) < 2:
        raise _Undecided(f"no other cluster of profile {profile} runs {product} with a known version")
    ranked = Counter({key: len(members) for key, members in groups.items()}).most_common()
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        raise _Undecided(
            f"{product} versions are split evenly among the clusters of profile {profile} ({_breakdown(groups)}); "
            f"declare {_field(area)}: {product}@MINOR to name the standard",
            split=True,
        )
    key = ranked[0][0]
    return versions[key], f"the most common {product} minor in profile {profile}: {_breakdown(groups)}"


def judge(area: Area, cluster: ClusterView, fleet: FleetView) -> None:
    """The shared verdict of FC-INGRESS-001 and FC-MESH-001 (raises fail/skip, returns on pass)."""
    what = _what(area)
    peers, unreadable = _peer_detections(cluster, fleet)
    mine = peers[cluster.name].of(area)
    try:
        standard = fleet_standard(area, cluster, peers, unreadable)
    except _Undecided as no_standard:
        skip(str(no_standard))
    expected = " + ".join(standard.products)
    if standard.minor is not None:
        expected += f"@{standard.minor.minor_version}"
    missing = [p for p in standard.products if p not in mine]
    if missing:
        components = [c for found in mine.values() for c in found]
        if not components:
            fail(f"no {what} found; expected {expected} ({standard.source})")
        fail(
            f"{what} is {', '.join(c.describe() for c in components)}, not {' + '.join(missing)}; expected the fleet "
            f"standard {expected} ({standard.source})",
            list(dict.fromkeys(c.source.split(" ", 1)[0] for c in components)),
        )
    problems: list[tuple[str, str]] = []
    undecided: list[str] = []
    for product in standard.products:
        try:
            if standard.minor is not None:
                target, source = standard.minor, standard.source
            else:
                target, source = standard_minor(product, peers, area, cluster.profile.name)
        except _Undecided as exc:
            if exc.split:
                undecided.append(str(exc))
            continue  # nobody else runs it with a known version: nothing to compare, not a finding
        for component in mine[product]:
            if component.version is None:
                undecided.append(
                    f"{component.describe()}: version unknown ({component.version_note}); the standard is "
                    f"{target.minor_version} ({source})"
                )
                continue
            distance = component.version.minor - target.minor
            if component.version.major != target.major or abs(distance) > 1:
                how = (
                    "another major version than"
                    if component.version.major != target.major
                    else f"{abs(distance)} minors {'behind' if distance < 0 else 'ahead of'}"
                )
                problems.append(
                    (
                        component.source.split(" ", 1)[0],
                        f"{component.describe()} is {how} the standard {target.minor_version} ({source}); "
                        f"expected {target.minor_version} +/- 1 minor",
                    )
                )
    if problems:
        fail("; ".join(text for _, text in problems), list(dict.fromkeys(obj for obj, _ in problems)))
    if undecided:
        skip(f"{what} {' + '.join(standard.products)} matches the fleet; version not judged: {'; '.join(undecided)}")


# -- the checks --------------------------------------------------------------------------------------


@check(
    "FC-INGRESS-001",
    title="Ingress controller differs from the fleet standard",
    factor="boring",
    severity="medium",
    scope="fleet",
    reads=_READS,
    success="the ingress controller is the fleet standard, within one minor of its version",
)
def test_ingress_matches_fleet(cluster: ClusterView, fleet: FleetView) -> None:
    """The ingress controller, or its version, differs from the fleet standard.

    What: ingress controllers are detected from Deployment and DaemonSet
    images (ingress-nginx, F5 NGINX, Traefik, HAProxy, HAProxy Ingress,
    Contour, the AWS Load Balancer Controller, Kong, an Istio ingress
    gateway) and from IngressClasses (``spec.controller``; managed ones such
    as Cilium's or Azure's too, without a version). The standard is the
    profile's ``standards.ingress`` (``ingress-nginx`` or
    ``ingress-nginx@1.11``), else what most clusters of the same profile run;
    no controller counts as an option, and an even split is said, not
    guessed (skip). A cluster without the standard controller fails (also
    when it has none at all); one running it more than one minor from the
    standard version (declared, else the peers' most common minor) fails.
    A second controller beside the standard one is not flagged (the AWS
    Load Balancer Controller often runs beside an in-cluster proxy).
    Why: an outlier ingress controller interprets the same Ingress
    differently: annotations (``nginx.ingress.kubernetes.io/*``) are ignored
    elsewhere, path matching, TLS defaults and timeouts differ, so an
    application that works on one cluster breaks after a failover to
    another. Several minors behind means missed CVE fixes (ingress-nginx
    has had critical ones) and an upgrade that can no longer be done in one
    step.
    Fix: install the fleet's ingress controller from the platform's GitOps
    repository and move the cluster's Ingresses to its IngressClass;
    upgrade one minor at a time to the standard; declare the standard in the
    profile (``standards: {ingress: ingress-nginx@1.11}``) when the fleet
    moves, so laggards are flagged rather than leaders.
    References: https://kubernetes.io/docs/concepts/services-networking/ingress-controllers/ ;
    https://kubernetes.io/docs/concepts/services-networking/ingress/#ingress-class ;
    https://github.com/kubernetes/ingress-nginx#supported-versions-table
    """
    judge("ingress", cluster, fleet)


@check(
    "FC-MESH-001",
    title="Service mesh differs from the fleet standard",
    factor="boring",
    severity="medium",
    scope="fleet",
    reads=_READS,
    success="the service mesh is the fleet standard, within one minor of its version",
)
def test_mesh_matches_fleet(cluster: ClusterView, fleet: FleetView) -> None:
    """The service mesh, or its version, differs from the fleet standard.

    What: service meshes are detected from their control planes: Istio
    (``istiod``, image ``istio/pilot``), Linkerd (``linkerd/controller``,
    ``stable-X.Y.Z`` tags), Consul (``consul-k8s-control-plane``), Kuma
    (``kuma-cp``), and Cilium's service mesh (``cilium-config`` with
    ``enable-envoy-config``, ``enable-gateway-api`` or ``mesh-auth-enabled``;
    version from the cilium agent image). The standard is the profile's
    ``standards.mesh`` (``istio`` or ``istio@1.22``), else what most clusters
    of the same profile run, no mesh being an option; an even split is
    said, not guessed (skip). A cluster without the standard mesh fails,
    and so does a control plane more than one minor from the standard
    version (each revision of a canary-upgraded Istio is judged).
    Why: the mesh carries mTLS, retries, timeouts and authorisation
    policies; a cluster without it (or with another one) silently drops
    the encryption and policies the fleet relies on, and a failover to it
    changes how every request behaves. Meshes support a narrow version
    skew between control plane and sidecars, so a control plane far from
    the fleet's cannot share its upgrade path.
    Fix: install the fleet's mesh from the platform's GitOps repository (or
    remove a stray one), upgrade one minor at a time (Istio: revisioned
    canary upgrades), and declare the standard in the profile
    (``standards: {mesh: istio@1.22}``).
    References: https://istio.io/latest/docs/releases/supported-releases/ ;
    https://linkerd.io/releases/ ;
    https://docs.cilium.io/en/stable/network/servicemesh/
    """
    judge("mesh", cluster, fleet)
