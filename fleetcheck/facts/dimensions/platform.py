"""Platform dimensions: who runs the cluster, its Kubernetes version, and what its nodes run.

The provider is :data:`fleetcheck.facts.provider.PROVIDER` (the fact the
provider-aware checks read), the version is
:data:`fleetcheck.facts.builtin.SERVER_VERSION` (FC-VER-001's), and the node
dimensions share FC-NODE-*'s one :data:`~fleetcheck.facts.nodes.NODE_INVENTORY` fact over ``status.nodeInfo``.
"""

from __future__ import annotations

from typing import Any

from fleetcheck.errors import FleetcheckError
from fleetcheck.facts.builtin import SERVER_VERSION
from fleetcheck.facts.dimensions.base import Dimension, DimValue, clip, item_set
from fleetcheck.facts.nodes import NODE_INVENTORY, NodeInventory
from fleetcheck.facts.provider import PROVIDER
from fleetcheck.facts.provider_detection import ProviderDetection
from fleetcheck.registry.profile import Profile
from fleetcheck.state.base import ServerVersion

__all__ = ["DIMENSIONS"]

Obj = dict[str, Any]


def _node_field(field: str) -> Any:
    """The distinct values of one ``status.nodeInfo`` field over the nodes that report it (None when none do).

    The node dimensions read FC-NODE-*'s own fact (:data:`fleetcheck.facts.nodes.NODE_INVENTORY`): the
    nodes are parsed once per cluster, whoever asks first.
    """

    def project(inventory: NodeInventory) -> DimValue | None:
        values = {clip(value) for value in (getattr(node, field) for node in inventory.nodes) if value}
        return item_set(values) if values else None

    return project


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
        NODE_INVENTORY,
        _node_field("kubelet"),
    ),
    Dimension(
        "nodes.os_images",
        "platform",
        "Node OS images",
        "The distinct node OS images (status.nodeInfo.osImage).",
        _NODES_UNKNOWN,
        NODE_INVENTORY,
        _node_field("os_image"),
    ),
    Dimension(
        "nodes.kernels",
        "platform",
        "Node kernel versions",
        "The distinct node kernel versions (status.nodeInfo.kernelVersion).",
        _NODES_UNKNOWN,
        NODE_INVENTORY,
        _node_field("kernel"),
    ),
    Dimension(
        "nodes.container_runtimes",
        "platform",
        "Container runtimes and versions",
        "The distinct container runtimes with versions (containerd://1.7.22).",
        _NODES_UNKNOWN,
        NODE_INVENTORY,
        _node_field("runtime"),
    ),
    Dimension(
        "nodes.architectures",
        "platform",
        "Node architectures",
        "The distinct node CPU architectures (amd64, arm64).",
        _NODES_UNKNOWN,
        NODE_INVENTORY,
        _node_field("architecture"),
    ),
)
