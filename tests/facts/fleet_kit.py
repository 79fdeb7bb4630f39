"""Real-shaped fleets for the fleet checks: every compared dimension in one snapshot per cluster.

Each cluster is built from a :class:`Variant`: side ``A`` (what the fleet
standard is in most scenarios) or side ``B`` (the outlier), for every
dimension the fleet checks compare: DNS upstreams and cluster domain
(kubeadm's Corefile), the CNI agent (``calico-node`` / ``cilium``), the
ingress controller (ingress-nginx / Traefik), the mesh (istiod / Linkerd),
the OIDC issuer (kubeadm ``kube-apiserver`` mirror pod flags), the
Kubernetes version and a platform ClusterRole. Objects come from the
real-shaped builders of ``tests/checks/rbac/fleet_objects.py`` and
``tests/checks/oidc/builders.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.checks.oidc.builders import kubeadm_apiserver
from tests.checks.rbac.fleet_objects import (
    READ,
    binding,
    cluster_role,
    configmap,
    daemonset,
    deployment,
    rule,
    subject,
    write_snapshot,
)

Obj = dict[str, Any]
REPO = Path(__file__).resolve().parents[2]
CHECKS = REPO / "checks"
#: every check module holding a fleet comparison
FLEET_MODULES = (
    "test_dns.py",
    "test_cni.py",
    "test_ingress_mesh.py",
    "test_oidc.py",
    "test_version.py",
    "test_rbac.py",
    "test_tiers.py",
)
#: the fleet codes pinned here (FC-DNS-004 is live-only and probes a DNS server: tests/checks/dns pins it)
FLEET_CODES = (
    "FC-DNS-002",
    "FC-DNS-003",
    "FC-CNI-002",
    "FC-CNI-003",
    "FC-INGRESS-001",
    "FC-MESH-001",
    "FC-OIDC-002",
    "FC-VER-001",
    "FC-RBAC-001",
    "FC-TIER-002",
    "FC-TIER-003",
)

COREFILE = """\
.:53 {{
    errors
    health {{
       lameduck 5s
    }}
    ready
    kubernetes {domain} in-addr.arpa ip6.arpa {{
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }}
    prometheus :9153
    forward . {upstream} {{
       max_concurrent 1000
    }}
    cache 30
    loop
    reload
    loadbalance
}}
"""


@dataclass(frozen=True)
class Variant:
    """The values of one side of the fleet."""

    upstream: str
    domain: str
    cni: tuple[str, str, str]  # DaemonSet name, namespace, image
    ingress: tuple[str, str, str]  # Deployment name, namespace, image
    mesh: tuple[str, str, str]
    issuer: str
    version: str
    role_verbs: tuple[str, ...]


A = Variant(
    upstream="10.0.0.2 10.0.0.3",
    domain="cluster.local",
    cni=("calico-node", "kube-system", "quay.io/calico/node:v3.31.6"),
    ingress=("ingress-nginx-controller", "ingress-nginx", "registry.k8s.io/ingress-nginx/controller:v1.11.2"),
    mesh=("istiod", "istio-system", "docker.io/istio/pilot:1.22.3"),
    issuer="https://sso.example.com/realms/platform",
    version="v1.31.4",
    role_verbs=tuple(READ),
)
B = Variant(
    upstream="/etc/resolv.conf",
    domain="corp.internal",
    cni=("cilium", "kube-system", "quay.io/cilium/cilium:v1.18.12"),
    ingress=("traefik", "traefik", "docker.io/traefik:v3.2.1"),
    mesh=("linkerd-destination", "linkerd", "cr.l5d.io/linkerd/controller:stable-2.14.10"),
    issuer="https://dex.legacy.example.com",
    version="v1.28.9",
    role_verbs=("get", "list", "watch", "delete"),
)


def cluster_objects(name: str, side: Variant) -> list[Obj]:
    """The kube-system, networking, edge, identity and RBAC objects of one cluster."""
    cni_name, cni_ns, cni_image = side.cni
    ing_name, ing_ns, ing_image = side.ingress
    mesh_name, mesh_ns, mesh_image = side.mesh
    return [
        configmap(
            "coredns",
            "kube-system",
            {"Corefile": COREFILE.format(domain=side.domain, upstream=side.upstream)},
            cluster=name,
        ),
        deployment(
            "coredns",
            "kube-system",
            "registry.k8s.io/coredns/coredns:v1.11.3",
            cluster=name,
            labels={"k8s-app": "kube-dns"},
        ),
        daemonset("kube-proxy", "kube-system", "registry.k8s.io/kube-proxy:v1.31.4", cluster=name),
        daemonset(cni_name, cni_ns, cni_image, cluster=name, labels={"k8s-app": cni_name}),
        deployment(ing_name, ing_ns, ing_image, cluster=name),
        deployment(mesh_name, mesh_ns, mesh_image, cluster=name),
        kubeadm_apiserver(
            f"{name}-cp-1",
            f"--oidc-issuer-url={side.issuer}",
            "--oidc-client-id=kubernetes",
            "--oidc-username-prefix=oidc:",
            version=side.version,
        ),
        cluster_role(
            "platform-viewer", [rule(["", "apps"], ["pods", "deployments"], list(side.role_verbs))], cluster=name
        ),
        binding("platform-viewer", "platform-viewer", [subject("Group", "oidc:platform-team")], cluster=name),
    ]


def write_cluster(root: Path, name: str, side: Variant, tier: str) -> Path:
    """A snapshot folder of ``name`` built from ``side``, labelled with ``tier``."""
    folder = write_snapshot(root, name, cluster_objects(name, side), labels={"tier": tier})
    info = yaml.safe_load((folder / "cluster.yaml").read_text())
    info["serverVersion"] = side.version
    (folder / "cluster.yaml").write_text(yaml.safe_dump(info))
    return folder


def write_profile(folder: Path, name: str = "pin", **fields: Any) -> Path:
    """A profile extending ``default``."""
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"name": name, "extends": "default", **fields}, sort_keys=False))
    return path


def declared_standards() -> Obj:
    """Side A written as the profile's ``standards``."""
    return {
        "dns_upstreams": A.upstream.split(),
        "cluster_domain": A.domain,
        "cni": "calico",
        "cni_version": "v3.31",
        "ingress": "ingress-nginx@1.11",
        "mesh": "istio@1.22",
        "oidc_issuer": A.issuer,
        "oidc_client_id": "kubernetes",
        "kubernetes_minor": "1.31",
    }


def records_of(report_dir: Path) -> dict[str, dict[str, Obj]]:
    """``results.json`` as code -> cluster -> {outcome, message}."""
    document = json.loads((report_dir / "results.json").read_text())
    out: dict[str, dict[str, Obj]] = {}
    for record in document["results"]:
        if record["code"] in FLEET_CODES:
            out.setdefault(record["code"], {})[record["cluster"]] = {
                "outcome": record["outcome"],
                "message": record["message"],
            }
    return {code: dict(sorted(by_cluster.items())) for code, by_cluster in sorted(out.items())}
