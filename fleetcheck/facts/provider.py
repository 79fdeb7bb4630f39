"""The provider/distribution fact (:data:`PROVIDER`): EKS, GKE, AKS, OpenShift, RKE2, k3s, kind, kubeadm, unknown.

The detection is :func:`fleetcheck.facts.provider_detection.detect_provider`; this module
only declares the key and feeds it what one cluster shows. Each input is
optional: a snapshot without Pods, or a scanner forbidden to list Nodes,
still gets a provider from what it does hold (the gitVersion alone says
EKS or GKE), and what was not readable is named in the fact so an
``unknown`` says why. The fact itself never raises for an unreadable kind.
A provider declared in the fleet file (``facts.provider``, or
``cluster.yaml``'s facts) wins over the detection, and says so.
"""

from __future__ import annotations

from typing import Any, cast

from fleetcheck.core.providers import Provider
from fleetcheck.errors import FleetcheckError
from fleetcheck.facts import provider_detection as provider
from fleetcheck.facts.key import VERSION, Fact, FactInput

__all__ = ["PROVIDER", "PROVIDER_READS"]

#: what the provider fact reads (put them in the ``reads=`` of a check that uses it)
PROVIDER_READS: tuple[str, ...] = ("nodes", "pods")


def _listed(source: FactInput, kind: str, unread: list[str]) -> list[dict[str, Any]] | None:
    try:
        return source.list(kind)
    except FleetcheckError as exc:
        unread.append(f"{kind} not read: {exc}")
        return None


def _provider(source: FactInput) -> provider.ProviderDetection:
    unread: list[str] = []
    nodes = _listed(source, "nodes", unread)
    pods = _listed(source, "pods", unread)
    try:
        git_version: str | None = source.version.git_version
    except FleetcheckError as exc:
        git_version = None
        unread.append(f"server version not read: {exc}")
    detected = provider.detect_provider(nodes, git_version, pods, unread=unread)
    declared = source.declared.provider
    if declared is None:
        return detected
    return provider.declared_provider(cast(Provider, declared), detected)


PROVIDER: Fact[provider.ProviderDetection] = Fact(
    "provider",
    "Who runs the cluster (eks, gke, aks, openshift, rke2, k3s, kind, kubeadm or unknown), from node labels and "
    "annotations, providerID, the kubelet and API server gitVersion and the pods present, with the evidence; "
    "whether the control plane is managed (no kube-apiserver pod to read flags from). A provider declared in the "
    "fleet file (facts.provider) wins over the detection.",
    (*PROVIDER_READS, VERSION),
    _provider,
)
