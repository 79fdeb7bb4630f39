"""A provisional guess of who runs a cluster's control plane, for the support calendars.

PROVISIONAL: a typed provider fact (extracted once, declared or detected)
comes with another issue; until then this one small function is the only
place that guesses, so replacing it is one edit. It reads what the API
shows: the ``gitVersion`` suffix (``v1.31.4-eks-1a2b3c``,
``v1.31.4-gke.1000``) and node labels (``kubernetes.azure.com/*`` on AKS,
``eks.amazonaws.com/*``, ``cloud.google.com/gke-*``). ``None`` means
unknown, never "self-managed".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["guess_provider"]

_NODE_PREFIXES = (
    ("aks", "kubernetes.azure.com/"),
    ("eks", "eks.amazonaws.com/"),
    ("gke", "cloud.google.com/gke-"),
)
_MAX_NODES = 50


def guess_provider(git_version: str, nodes: Iterable[dict[str, Any]]) -> tuple[str | None, str]:
    """``(eks|gke|aks|None, the evidence)`` from the server version and the first nodes' labels."""
    version = git_version[:100]
    if "-eks-" in version:
        return "eks", f"gitVersion {version} carries -eks-"
    if "-gke." in version:
        return "gke", f"gitVersion {version} carries -gke."
    for index, node in enumerate(nodes):
        if index >= _MAX_NODES:
            break
        labels = (node.get("metadata") or {}).get("labels") or {}
        for provider, prefix in _NODE_PREFIXES:
            label = next((key for key in labels if str(key).startswith(prefix)), None)
            if label:
                name = (node.get("metadata") or {}).get("name", "?")
                return provider, f"node {name} carries label {label}"
    return None, f"gitVersion {version} and node labels name no managed provider"
