"""The facts the built-in fleet checks compare, each one typed key over an existing parser.

Each :class:`~fleetcheck.facts.key.Fact` names the kinds it reads and calls
the parser that already knows the objects (:mod:`fleetcheck.facts.corefile`,
:mod:`fleetcheck.facts.cni`, :mod:`fleetcheck.facts.apiserver`,
:mod:`fleetcheck.facts.rbac_normalize`, :mod:`fleetcheck.facts.edge`); moving
those parsers under ``facts/`` comes later. Parsers are called through
their modules (``cni.detect_cni``), so a test can count the calls.
"""

from __future__ import annotations

import functools
from typing import Any

from fleetcheck.errors import FleetcheckError
from fleetcheck.facts import apiserver, cni, corefile, edge, rbac_normalize
from fleetcheck.facts.key import VERSION, Fact, FactInput
from fleetcheck.state.base import ServerVersion

__all__ = ["AUTHENTICATION", "CNI", "DNS_SETUP", "EDGE", "SERVER_VERSION", "rbac_inventory"]

DNS_READS = ("configmaps", "deployments")
EDGE_READS = ("deployments", "daemonsets", "ingressclasses", "configmaps")


def _dns_setup(source: FactInput) -> corefile.DnsSetup | None:
    return corefile.find_dns_setup(source.list("configmaps"), source.list("deployments"))


DNS_SETUP: Fact[corefile.DnsSetup | None] = Fact(
    "dns.setup",
    "The cluster DNS setup (CoreDNS Corefile or kube-dns): the root zone's upstreams, the cluster domain, stub "
    "domains; None when neither CoreDNS nor kube-dns is configured in kube-system.",
    DNS_READS,
    _dns_setup,
)


def _cni(source: FactInput) -> cni.CniDetection:
    daemonsets = source.list("daemonsets")
    try:  # nodes only add k3s's embedded flannel (annotations); without them the DaemonSets still decide
        nodes: list[dict[str, Any]] | None = source.list("nodes")
    except FleetcheckError:
        nodes = None
    return cni.detect_cni(daemonsets, nodes)


CNI: Fact[cni.CniDetection] = Fact(
    "cni",
    "The CNI agents found among the DaemonSets (primary CNI, version from its image tag, near misses, the "
    "managed or packaged variant), and flannel embedded in k3s/RKE2 from node annotations.",
    ("daemonsets", "nodes"),
    _cni,
)


def _edge(source: FactInput) -> edge.Detection:
    return edge.detect(
        source.list("deployments"), source.list("daemonsets"), source.list("ingressclasses"), source.list("configmaps")
    )


EDGE: Fact[edge.Detection] = Fact(
    "edge",
    "The ingress controllers and service meshes the cluster runs, by product, with versions from image tags.",
    EDGE_READS,
    _edge,
)


def _authentication(source: FactInput) -> apiserver.Authentication:
    return apiserver.read_authentication(source.list("pods"), source.declared, "fleet file")


AUTHENTICATION: Fact[apiserver.Authentication] = Fact(
    "apiserver.authentication",
    "What each kube-apiserver trusts (OIDC issuers, client ids, prefixes, credential files), from its static pod "
    "flags, else from the fleet file's declared facts.",
    ("pods",),
    _authentication,
)


def _version(source: FactInput) -> ServerVersion:
    return source.version


SERVER_VERSION: Fact[ServerVersion] = Fact(
    "kubernetes.version",
    "The API server's version (/version, or the snapshot's serverVersion).",
    (VERSION,),
    _version,
)


@functools.lru_cache(maxsize=32)
def rbac_inventory(ignore_names: tuple[str, ...]) -> Fact[rbac_normalize.RbacInventory]:
    """The cluster-wide RBAC fact for one set of ignored name globs (one key per set, so one computation)."""

    def extract(source: FactInput) -> rbac_normalize.RbacInventory:
        return rbac_normalize.normalize_rbac(
            source.list("clusterroles"), source.list("clusterrolebindings"), ignore_names
        )

    return Fact(
        f"rbac.inventory[{','.join(ignore_names)}]",
        "Non-system ClusterRoles and ClusterRoleBindings, normalised (single permissions, subjects, aggregation).",
        ("clusterroles", "clusterrolebindings"),
        extract,
    )
