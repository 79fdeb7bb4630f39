"""Network dimensions: CNI, kube-proxy, ingress, mesh and cluster DNS.

CNI, ingress/mesh and the DNS setup are the facts FC-CNI-00x,
FC-INGRESS-001/FC-MESH-001 and FC-DNS-002/003 read
(:mod:`fleetcheck.facts.builtin`), projected the way those checks compare
them. kube-proxy's mode and the add-on images (cluster DNS server,
cert-manager) are small facts of their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fleetcheck.errors import ConfigError
from fleetcheck.facts import edge
from fleetcheck.facts.builtin import CNI, DNS_SETUP, EDGE
from fleetcheck.facts.cni import CniDetection, SemVer, normalize_cni_name
from fleetcheck.facts.corefile import DnsSetup, is_file_target, normalize_domain, normalize_upstream
from fleetcheck.facts.dimensions.base import MAX_SCANNED, Dimension, DimValue, clip, item_set
from fleetcheck.facts.key import Fact, FactInput
from fleetcheck.registry.profile import Profile

__all__ = ["ADDONS", "DIMENSIONS", "KUBE_PROXY", "AddonImages", "kube_proxy_mode"]

Obj = dict[str, Any]
_MODE = re.compile(r'(?m)^mode:[ \t]*["\']?(?P<mode>[A-Za-z]*)')
_PROXY_FLAG = re.compile(r"^--proxy-mode=(?P<mode>\S*)$")
#: characters of kube-proxy's config.conf looked at (it is a few hundred bytes in practice)
_CONFIG_CHARS = 64 * 1024
_REPLACEMENT_ON = frozenset({"true", "strict"})
_DNS_IMAGES = frozenset({"coredns", "k8s-dns-kube-dns", "kubedns", "k8s-dns-kube-dns-amd64"})


def _meta(obj: Obj) -> Obj:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _containers(workload: Obj) -> list[Obj]:
    spec = ((workload.get("spec") or {}).get("template") or {}).get("spec") or {}
    containers = spec.get("containers") or []
    return [c for c in containers[:32] if isinstance(c, dict)] if isinstance(containers, list) else []


def _image_path_tag(image: str) -> tuple[str, str]:
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        path, tag = name.rsplit(":", 1)
        return path, tag
    return name, ""


def kube_proxy_mode(daemonsets: list[Obj], configmaps: list[Obj]) -> str | None:
    """``kube-proxy iptables``, ``kube-proxy ipvs``, ``replaced by cilium``; None when nothing says.

    kube-proxy's mode is its ConfigMap's ``config.conf`` ``mode:`` (empty
    means iptables on Linux), else the DaemonSet's ``--proxy-mode`` flag.
    Without a kube-proxy DaemonSet, Cilium's ``kube-proxy-replacement`` says
    it is replaced; otherwise the mode is unknown (k3s and RKE2 run
    kube-proxy inside their own binary, managed clusters may hide it).
    """
    proxy = next(
        (
            ds
            for ds in daemonsets[:MAX_SCANNED]
            if _meta(ds).get("name") == "kube-proxy"
            or any("kube-proxy" in str(c.get("image", "")) for c in _containers(ds))
        ),
        None,
    )
    by_name = {(_meta(cm).get("namespace"), _meta(cm).get("name")): cm for cm in configmaps[:MAX_SCANNED]}
    if proxy is not None:
        config = by_name.get(("kube-system", "kube-proxy"))
        text = str(((config or {}).get("data") or {}).get("config.conf") or "")[:_CONFIG_CHARS]
        match = _MODE.search(text) if text else None
        if match is not None:
            return f"kube-proxy {match['mode'] or 'iptables'}"
        for container in _containers(proxy):
            for arg in [*(container.get("command") or []), *(container.get("args") or [])][:64]:
                flag = _PROXY_FLAG.match(str(arg))
                if flag is not None:
                    return f"kube-proxy {clip(flag['mode']) or 'iptables'}"
        return "kube-proxy iptables" if config is not None else "kube-proxy (mode not shown)"
    cilium = by_name.get(("kube-system", "cilium-config"))
    replacement = str(((cilium or {}).get("data") or {}).get("kube-proxy-replacement") or "").lower()
    if replacement in _REPLACEMENT_ON:
        return "replaced by cilium"
    return None


def _kube_proxy(source: FactInput) -> str | None:
    return kube_proxy_mode(source.list("daemonsets"), source.list("configmaps"))


KUBE_PROXY: Fact[str | None] = Fact(
    "kube_proxy.mode",
    "kube-proxy's mode (its ConfigMap's config.conf, or --proxy-mode), or what replaces it (Cilium's "
    "kube-proxy-replacement); None when neither is found.",
    ("daemonsets", "configmaps"),
    _kube_proxy,
)


@dataclass(frozen=True)
class AddonImages:
    """Versions of add-ons read from Deployment images: the cluster DNS server and cert-manager."""

    dns_server: str | None
    cert_manager: tuple[str, ...]


def addon_images(deployments: list[Obj]) -> AddonImages:
    """The kube-system ``k8s-app=kube-dns`` Deployment's image (``coredns 1.11.3``) and cert-manager's versions."""
    dns: str | None = None
    cert_manager: set[str] = set()
    for deployment in deployments[:MAX_SCANNED]:
        meta = _meta(deployment)
        labels = meta.get("labels") if isinstance(meta.get("labels"), dict) else {}
        for container in _containers(deployment):
            path, tag = _image_path_tag(str(container.get("image", "")))
            product = path.rsplit("/", 1)[-1]
            is_dns = meta.get("namespace") == "kube-system" and (labels or {}).get("k8s-app") == "kube-dns"
            if dns is None and is_dns and product in _DNS_IMAGES:
                name = "coredns" if product == "coredns" else "kube-dns"
                dns = clip(f"{name} {tag.lstrip('v') or '(no tag)'}")
            if product == "cert-manager-controller":
                cert_manager.add(clip(tag or "(no tag)"))
    return AddonImages(dns, tuple(sorted(cert_manager)))


def _addons(source: FactInput) -> AddonImages:
    return addon_images(source.list("deployments"))


ADDONS: Fact[AddonImages] = Fact(
    "addons.images",
    "Add-on versions read from Deployment images: the cluster DNS server (kube-system k8s-app=kube-dns) and "
    "cert-manager's controller.",
    ("deployments",),
    _addons,
)


def _cni(detection: CniDetection) -> DimValue | None:
    return detection.primary.cni if detection.primary is not None else None


def _cni_version(detection: CniDetection) -> DimValue | None:
    primary = detection.primary
    if primary is None or primary.version is None:
        return None
    return f"{primary.cni} {primary.version.minor_version}"


def _declared_cni(profile: Profile) -> DimValue | None:
    declared = profile.standards.cni
    return normalize_cni_name(declared) if declared else None


def _declared_cni_version(profile: Profile) -> DimValue | None:
    name, version = profile.standards.cni, profile.standards.cni_version
    parsed = SemVer.parse(version) if version else None
    return f"{normalize_cni_name(name)} {parsed.minor_version}" if name and parsed else None


def _products(area: edge.Area) -> Any:
    def project(detection: edge.Detection) -> DimValue | None:
        return item_set(detection.of(area), what="products")

    return project


def _product_versions(area: edge.Area) -> Any:
    def project(detection: edge.Detection) -> DimValue | None:
        found = detection.of(area)
        items = [
            f"{product} {c.version.minor_version if c.version else '(version unknown)'}"
            for product, components in found.items()
            for c in components[:64]
        ]
        return item_set(items, what="installations")

    return project


def _declared_product(area: edge.Area) -> Any:
    def declared(profile: Profile) -> DimValue | None:
        text = profile.standards.ingress if area == "ingress" else profile.standards.mesh
        if not text:
            return None
        try:
            product, _ = edge.parse_declared(area, text, profile.source or profile.name)
        except ConfigError:
            return None  # the check itself reports the bad declaration as a configuration error
        return (product,)

    return declared


def _upstreams(setup: DnsSetup | None) -> DimValue | None:
    return None if setup is None else item_set(setup.upstreams, what="upstreams")


def _declared_upstreams(profile: Profile) -> DimValue | None:
    listed = profile.standards.dns_upstreams
    if listed is None:
        return None
    return item_set({u if is_file_target(u) else normalize_upstream(u) for u in listed})


def _domain(setup: DnsSetup | None) -> DimValue | None:
    return setup.cluster_domain if setup is not None and setup.cluster_domain else None


def _declared_domain(profile: Profile) -> DimValue | None:
    text = profile.standards.cluster_domain
    return normalize_domain(text) if text else None


def _stub_domains(setup: DnsSetup | None) -> DimValue | None:
    if setup is None:
        return None
    return item_set(
        (f"{zone} -> {' '.join(sorted(targets)[:8])}" for zone, targets in setup.stub_domains.items()),
        what="stub domains",
    )


def _dns_server(addons: AddonImages) -> DimValue | None:
    return addons.dns_server


_DNS_UNKNOWN = "neither a CoreDNS Corefile nor a kube-dns ConfigMap/Deployment is found in kube-system"
_EDGE_UNKNOWN = "never (no controller found is the value none); unreadable kinds make it an error"

DIMENSIONS: tuple[Dimension[Any], ...] = (
    Dimension(
        "cni",
        "network",
        "CNI",
        "The primary CNI (the pod-network agent among the DaemonSets; k3s's embedded flannel from node annotations).",
        "no known CNI agent is found (FC-CNI-001 reports it)",
        CNI,
        _cni,
        check="FC-CNI-002",
        declared=_declared_cni,
        declared_as="standards.cni",
    ),
    Dimension(
        "cni.version",
        "network",
        "CNI and minor version",
        "The primary CNI with its minor version, from its agent's image tag (calico v3.31).",
        "no known CNI, or its image tag carries no version (a digest-only image)",
        CNI,
        _cni_version,
        check="FC-CNI-003",
        declared=_declared_cni_version,
        declared_as="standards.cni_version",
    ),
    Dimension(
        "kube_proxy.mode",
        "network",
        "kube-proxy mode or replacement",
        "kube-proxy's mode (iptables, ipvs, nftables), or the CNI that replaces it.",
        "no kube-proxy DaemonSet and no configured replacement (k3s/RKE2 embed kube-proxy; managed clusters "
        "may hide it)",
        KUBE_PROXY,
        lambda mode: mode,
    ),
    Dimension(
        "ingress.controllers",
        "network",
        "Ingress controllers",
        "The ingress controller products the cluster runs (none is a value).",
        _EDGE_UNKNOWN,
        EDGE,
        _products("ingress"),
        check="FC-INGRESS-001",
        declared=_declared_product("ingress"),
        declared_as="standards.ingress",
    ),
    Dimension(
        "ingress.versions",
        "network",
        "Ingress controller versions",
        "Each ingress controller installation's product and minor version.",
        _EDGE_UNKNOWN,
        EDGE,
        _product_versions("ingress"),
        check="FC-INGRESS-001",
    ),
    Dimension(
        "mesh",
        "network",
        "Service mesh",
        "The service mesh products the cluster runs (none is a value).",
        _EDGE_UNKNOWN,
        EDGE,
        _products("mesh"),
        check="FC-MESH-001",
        declared=_declared_product("mesh"),
        declared_as="standards.mesh",
    ),
    Dimension(
        "mesh.versions",
        "network",
        "Service mesh versions",
        "Each mesh installation's product and minor version.",
        _EDGE_UNKNOWN,
        EDGE,
        _product_versions("mesh"),
        check="FC-MESH-001",
    ),
    Dimension(
        "dns.server",
        "dns",
        "Cluster DNS implementation and version",
        "The cluster DNS server and its version, from the kube-system k8s-app=kube-dns Deployment's image.",
        "no kube-system Deployment labelled k8s-app=kube-dns runs a CoreDNS or kube-dns image",
        ADDONS,
        _dns_server,
    ),
    Dimension(
        "dns.upstreams",
        "dns",
        "DNS upstreams",
        "The resolvers the cluster DNS forwards the root zone to (normalised, as a set).",
        _DNS_UNKNOWN,
        DNS_SETUP,
        _upstreams,
        check="FC-DNS-002",
        declared=_declared_upstreams,
        declared_as="standards.dns_upstreams",
    ),
    Dimension(
        "dns.cluster_domain",
        "dns",
        "Cluster domain",
        "The domain the cluster DNS serves for Services (cluster.local).",
        _DNS_UNKNOWN + ", or it serves no cluster domain",
        DNS_SETUP,
        _domain,
        check="FC-DNS-003",
        declared=_declared_domain,
        declared_as="standards.cluster_domain",
    ),
    Dimension(
        "dns.stub_domains",
        "dns",
        "DNS stub domains",
        "Zones other than the root forwarded elsewhere (zone -> targets).",
        _DNS_UNKNOWN,
        DNS_SETUP,
        _stub_domains,
    ),
)
