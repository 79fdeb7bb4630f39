"""Ingress controllers and service meshes a cluster runs: the detection behind FC-INGRESS-001 and FC-MESH-001.

Moved here from ``checks/test_ingress_mesh.py`` so that the fact layer owns
it (a fact never reads a check). Detection is by image repository (the
path's tail, so mirrors and registry prefixes do not matter) and, for
IngressClasses, by ``spec.controller``; Cilium's service mesh by its
``cilium-config`` ConfigMap. Versions come from image tags (``v1.11.2``,
``1.22.3-distroless``, Linkerd's ``stable-2.14.10``); a digest-only,
untagged or ``latest`` image, or a Linkerd edge release, has no comparable
version, and that is said, never guessed.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from fleetcheck.core.imageref import ImageRefError, parse_image_ref
from fleetcheck.core.refs import object_ref
from fleetcheck.errors import ConfigError

__all__ = [
    "Area",
    "Component",
    "Detection",
    "Version",
    "area_noun",
    "detect",
    "known_products",
    "parse_declared",
    "parse_tag_version",
    "standard_field",
]

Obj = dict[str, Any]
Area = Literal["ingress", "mesh"]


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


@dataclass(frozen=True)
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


def standard_field(area: Area) -> str:
    """The profile field that declares the area's standard."""
    return f"standards.{area}"


def area_noun(area: Area) -> str:
    """What the area's products are called in messages."""
    return "ingress controller" if area == "ingress" else "service mesh"


def parse_declared(area: Area, value: str, source: str) -> tuple[str, Version | None]:
    """``ingress-nginx`` or ``ingress-nginx@1.11`` -> (product, minor); unknown names are a config error."""
    name, _, minor_text = value.strip().partition("@")
    product = _ALIASES[area].get(name.strip().lower(), name.strip().lower())
    if product not in known_products(area):
        raise ConfigError(
            source, standard_field(area), f"unknown {area} {name!r}", f"use one of {', '.join(known_products(area))}"
        )
    if not minor_text:
        return product, None
    version, _ = parse_tag_version(minor_text.strip())
    if version is None:
        raise ConfigError(
            source, standard_field(area), f"{minor_text!r} is not a minor version", f"write e.g. {product}@1.11"
        )
    return product, version
