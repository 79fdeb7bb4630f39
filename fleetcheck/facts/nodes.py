"""What the nodes run, from ``status.nodeInfo``: kubelet version, OS image, kernel and container runtime.

:data:`NODE_INVENTORY` is one cluster's nodes, parsed once per run, with the
*family* of each dimension (what the fleet compares: ``Ubuntu 24.04``, kernel
``6.8``, ``containerd 1.7``) next to the raw text (what messages show). A
cluster's own value for a dimension is the family most of its Linux nodes
hold (:meth:`NodeInventory.primary`); a tie, or no node saying, is unknown
(``None``), never a guess. Windows nodes are kept but not compared with Linux
ones. Every loop is bounded (:data:`MAX_NODES`), every text truncated.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

from fleetcheck.facts.key import Fact, FactInput
from fleetcheck.reference_data import parse_semver

__all__ = [
    "DIMENSIONS",
    "MAX_NODES",
    "NODE_INVENTORY",
    "Dimension",
    "NodeInventory",
    "NodeRuntime",
    "kernel_family",
    "os_family",
    "read_nodes",
    "runtime_family",
]

MAX_NODES = 20_000
_TEXT = 200
Dimension = Literal["os", "kernel", "runtime"]
#: the compared dimensions and how messages name them
DIMENSIONS: dict[Dimension, str] = {"os": "OS image", "kernel": "kernel", "runtime": "container runtime"}
_NUMBER = re.compile(r"^\d")
_MAJOR_MINOR = re.compile(r"^(\d+)\.(\d+)")


def os_family(os_image: str) -> str | None:
    """``Ubuntu 24.04.1 LTS`` -> ``Ubuntu 24.04``; ``Amazon Linux 2023.6.20241010`` -> ``Amazon Linux 2023``.

    The words before the first number, then that number: a short one (a
    ``YY.MM`` or ``major.minor`` release, ``24.04.1``, ``1.26.1``) to its
    first two parts, a long one (a year or build, ``2023.6``, ``3975.2.2``) to
    its first part. An image with no number (``Container-Optimized OS from
    Google``) is its own family.
    """
    words = os_image.strip()[:_TEXT].split()
    if not words:
        return None
    head: list[str] = []
    for word in words:
        if _NUMBER.match(word):
            parts = re.split(r"[.\-]", word)
            if len(parts[0]) <= 2 and len(parts) > 1 and parts[1].isdigit():
                head.append(f"{parts[0]}.{parts[1]}")
            else:
                head.append(parts[0])
            break
        head.append(word)
    return " ".join(head)


def kernel_family(kernel: str) -> str | None:
    """``6.8.0-49-generic`` -> ``6.8``; None when it is no version."""
    match = _MAJOR_MINOR.match(kernel.strip()[:_TEXT])
    return f"{match.group(1)}.{match.group(2)}" if match else None


def runtime_family(runtime: str) -> str | None:
    """``containerd://1.7.24`` -> ``containerd 1.7``; ``cri-o://1.31.2`` -> ``cri-o 1.31``; None when unparsable."""
    name, sep, version = runtime.strip()[:_TEXT].partition("://")
    if not sep or not name:
        return None
    match = _MAJOR_MINOR.match(version.lstrip("v"))
    return f"{name} {match.group(1)}.{match.group(2)}" if match else None


@dataclass(frozen=True)
class NodeRuntime:
    """One node's ``status.nodeInfo``, raw and as families."""

    name: str
    operating_system: str
    kubelet: str
    os_image: str
    kernel: str
    runtime: str
    architecture: str = ""

    @property
    def kubelet_version(self) -> tuple[int, int, int] | None:
        """``v1.31.2-eks-94953ac`` -> ``(1, 31, 2)``; None when unparsable."""
        return parse_semver(self.kubelet) if self.kubelet else None

    def family(self, dimension: Dimension) -> str | None:
        """The node's family in ``dimension`` (None when its nodeInfo does not say)."""
        if dimension == "os":
            return os_family(self.os_image)
        if dimension == "kernel":
            return kernel_family(self.kernel)
        return runtime_family(self.runtime)

    def raw(self, dimension: Dimension) -> str:
        """The text the node reports for ``dimension``."""
        return {"os": self.os_image, "kernel": self.kernel, "runtime": self.runtime}[dimension]


@dataclass(frozen=True)
class NodeInventory:
    """One cluster's nodes as the kubelets report them."""

    nodes: tuple[NodeRuntime, ...]
    #: nodes past :data:`MAX_NODES`, not read
    truncated: int = 0

    @property
    def linux(self) -> tuple[NodeRuntime, ...]:
        """Nodes whose ``operatingSystem`` is linux (or unset, as on old kubelets)."""
        return tuple(n for n in self.nodes if n.operating_system in ("linux", ""))

    def primary(self, dimension: Dimension) -> str | None:
        """The family most Linux nodes hold; None when no node says or the top two tie."""
        counts = Counter(f for f in (n.family(dimension) for n in self.linux) if f is not None)
        ranked = counts.most_common(2)
        if not ranked or (len(ranked) == 2 and ranked[0][1] == ranked[1][1]):
            return None
        return ranked[0][0]


def _text(value: Any) -> str:
    return str(value)[:_TEXT] if isinstance(value, str) else ""


def read_nodes(nodes: list[dict[str, Any]]) -> NodeInventory:
    """Parse Node objects (bounded to :data:`MAX_NODES`)."""
    parsed: list[NodeRuntime] = []
    for node in nodes[:MAX_NODES]:
        info = (node.get("status") or {}).get("nodeInfo") or {}
        if not isinstance(info, dict):
            info = {}
        parsed.append(
            NodeRuntime(
                name=_text((node.get("metadata") or {}).get("name")) or "?",
                operating_system=_text(info.get("operatingSystem")),
                kubelet=_text(info.get("kubeletVersion")),
                os_image=_text(info.get("osImage")),
                kernel=_text(info.get("kernelVersion")),
                runtime=_text(info.get("containerRuntimeVersion")),
                architecture=_text(info.get("architecture")),
            )
        )
    return NodeInventory(tuple(parsed), max(0, len(nodes) - MAX_NODES))


def _inventory(source: FactInput) -> NodeInventory:
    return read_nodes(source.list("nodes"))


NODE_INVENTORY: Fact[NodeInventory] = Fact(
    "nodes.runtime",
    "Each node's kubelet version, OS image, kernel and container runtime (status.nodeInfo), with the family of "
    "each (Ubuntu 24.04, kernel 6.8, containerd 1.7) and the cluster's own: the family most Linux nodes hold "
    "(unknown on a tie).",
    ("nodes",),
    _inventory,
)
