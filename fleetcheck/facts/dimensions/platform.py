"""Platform dimensions: who runs the cluster, its Kubernetes version, and what its nodes run.

The provider is :data:`fleetcheck.facts.provider.PROVIDER` (the fact the
provider-aware checks read), the version is
:data:`fleetcheck.facts.builtin.SERVER_VERSION` (FC-VER-001's), and the node
dimensions share one :data:`NODES` fact over ``status.nodeInfo``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fleetcheck.errors import FleetcheckError
from fleetcheck.facts.builtin import SERVER_VERSION
from fleetcheck.facts.dimensions.base import MAX_SCANNED, Dimension, DimValue, clip, item_set
from fleetcheck.facts.key import Fact, FactInput
from fleetcheck.facts.provider import PROVIDER
from fleetcheck.provider import ProviderDetection
from fleetcheck.registry.profile import Profile
from fleetcheck.state.base import ServerVersion

__all__ = ["DIMENSIONS", "NODES", "NodeInfo"]

Obj = dict[str, Any]


@dataclass(frozen=True)
class NodeInfo:
    """The distinct ``status.nodeInfo`` values of a cluster's nodes (sorted), and how many nodes showed them."""

    nodes: int
    kubelet_versions: tuple[str, ...]
    os_images: tuple[str, ...]
    kernels: tuple[str, ...]
    runtimes: tuple[str, ...]
    architectures: tuple[str, ...]


_FIELDS = {
    "kubelet_versions": "kubeletVersion",
    "os_images": "osImage",
    "kernels": "kernelVersion",
    "runtimes": "containerRuntimeVersion",
    "architectures": "architecture",
}


def node_info(nodes: list[Obj]) -> NodeInfo | None:
    """What the nodes report about themselves; None when no node reports ``status.nodeInfo``."""
    if len(nodes) > MAX_SCANNED:
        raise FleetcheckError(f"{len(nodes)} nodes: more than {MAX_SCANNED}, not summarised")
    found: dict[str, set[str]] = {field: set() for field in _FIELDS}
    reporting = 0
    for node in nodes:
        info = (node.get("status") or {}).get("nodeInfo")
        if not isinstance(info, dict):
            continue
        reporting += 1
        for field, key in _FIELDS.items():
            value = info.get(key)
            if value:
                found[field].add(clip(value))
    if reporting == 0:
        return None
    return NodeInfo(reporting, *(tuple(sorted(found[field])) for field in _FIELDS))


def _nodes(source: FactInput) -> NodeInfo | None:
    return node_info(source.list("nodes"))


NODES: Fact[NodeInfo | None] = Fact(
    "nodes.info",
    "What every node reports in status.nodeInfo: kubelet versions, OS images, kernels, container runtimes, "
    "architectures (distinct values); None when no node reports it.",
    ("nodes",),
    _nodes,
)


def _provider(detection: ProviderDetection) -> DimValue | None:
    if detection.provider != "unknown":
        return detection.provider
    if detection.unread:
        raise FleetcheckError("provider not decided: " + "; ".join(detection.unread))
    return None


def _minor(version: ServerVersion) -> DimValue | None:
    return f"{version.major}.{version.minor}" if version.major else None


def _patch(version: ServerVersion) -> DimValue | None:
    return clip(version.git_version) if version.git_version else None


def _minor_key(value: DimValue) -> tuple[int, ...]:
    text = value if isinstance(value, str) else ""
    parts = text.split(".")
    return tuple(int(p) for p in parts if p.isdigit())


def _declared_minor(profile: Profile) -> DimValue | None:
    text = profile.standards.kubernetes_minor
    if not text:
        return None
    version = ServerVersion.parse(text)
    return f"{version.major}.{version.minor}" if version.major else None


def _node_field(field: str) -> Any:
    def project(info: NodeInfo | None) -> DimValue | None:
        return None if info is None else item_set(getattr(info, field))

    return project


_NODES_UNKNOWN = "no Node reports status.nodeInfo (no nodes listed, e.g. a snapshot without nodes.json)"

DIMENSIONS: tuple[Dimension[Any], ...] = (
    Dimension(
        "provider",
        "platform",
        "Provider / distribution",
        "Who runs the cluster: eks, gke, aks, openshift, rke2, k3s, kind or kubeadm (node labels, providerID, "
        "gitVersion, control-plane pods).",
        "no provider or distribution signal was seen (unreadable nodes or pods make the reading an error)",
        PROVIDER,
        _provider,
    ),
    Dimension(
        "kubernetes.minor",
        "platform",
        "Kubernetes minor",
        "The API server's major.minor (/version, or the snapshot's serverVersion).",
        "the server version has no numeric major (never for a real API server)",
        SERVER_VERSION,
        _minor,
        check="FC-VER-001",
        declared=_declared_minor,
        declared_as="standards.kubernetes_minor",
        derive="newest",
        newest=_minor_key,
    ),
    Dimension(
        "kubernetes.version",
        "platform",
        "Kubernetes version (patch and build)",
        "The API server's full gitVersion (v1.31.4, v1.30.4-eks-1a2b3c).",
        "the server reports no gitVersion",
        SERVER_VERSION,
        _patch,
    ),
    Dimension(
        "nodes.kubelet_versions",
        "platform",
        "Kubelet versions (spread)",
        "The distinct kubelet versions of the nodes: more than one is a rollout in progress or a forgotten pool.",
        _NODES_UNKNOWN,
        NODES,
        _node_field("kubelet_versions"),
    ),
    Dimension(
        "nodes.os_images",
        "platform",
        "Node OS images",
        "The distinct node OS images (status.nodeInfo.osImage).",
        _NODES_UNKNOWN,
        NODES,
        _node_field("os_images"),
    ),
    Dimension(
        "nodes.kernels",
        "platform",
        "Node kernel versions",
        "The distinct node kernel versions (status.nodeInfo.kernelVersion).",
        _NODES_UNKNOWN,
        NODES,
        _node_field("kernels"),
    ),
    Dimension(
        "nodes.container_runtimes",
        "platform",
        "Container runtimes and versions",
        "The distinct container runtimes with versions (containerd://1.7.22).",
        _NODES_UNKNOWN,
        NODES,
        _node_field("runtimes"),
    ),
    Dimension(
        "nodes.architectures",
        "platform",
        "Node architectures",
        "The distinct node CPU architectures (amd64, arm64).",
        _NODES_UNKNOWN,
        NODES,
        _node_field("architectures"),
    ),
)
