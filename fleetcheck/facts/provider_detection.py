"""Who runs a cluster: the managed provider or the distribution, and the evidence, from what the API shows.

Checks need it because managed clusters and distributions look nothing like
kubeadm: EKS, GKE and AKS hide their control plane (no kube-apiserver pod,
so flags cannot be read), each provider puts its agents in namespaces of its
own (``gmp-system``, ``amazon-cloudwatch``, ``openshift-*``), and k3s/RKE2
embed or package components that kubeadm runs as DaemonSets.

The signals, strongest first (shapes from ``../shared/corpus/managed``):

========== ===============================================================================
OpenShift  node label ``node.openshift.io/os_id``, ``machineconfiguration.openshift.io/*``
           node annotations, ``openshift-*`` pods
RKE2       ``rke2.io/*`` or ``etcd.rke2.cattle.io/*`` node annotations, gitVersion ``+rke2rN``
k3s        node label ``node.kubernetes.io/instance-type: k3s``, ``k3s.io/*`` labels,
           gitVersion ``+k3sN``
EKS        ``eks.amazonaws.com/*`` node labels, gitVersion ``-eks-``
GKE        ``cloud.google.com/gke-*`` node labels, providerID ``gce://``, gitVersion ``-gke.``
AKS        ``kubernetes.azure.com/*`` node labels, providerID ``azure://``, pods labelled
           ``kubernetes.azure.com/managedby: aks`` (AKS's gitVersion is plain)
kind       providerID ``kind://``
kubeadm    a kube-apiserver static pod with kubeadm's advertise-address annotation
========== ===============================================================================

A distribution wins over a cloud: RKE2 on EC2 has an ``aws://`` providerID
and is still RKE2; a providerID alone (kops, kubeadm on a cloud) names no
managed provider. Nothing seen is ``unknown``, never "self-managed". Every
loop is bounded (:data:`MAX_NODES`, :data:`MAX_PODS`): cluster data is
hostile input, and the first nodes say as much as all of them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from fleetcheck.core.providers import MANAGED_CONTROL_PLANES, PROVIDER_NAMESPACES, PROVIDERS, Provider

__all__ = [
    "DECLARED_EVIDENCE",
    "MAX_NODES",
    "MAX_PODS",
    "ProviderDetection",
    "declared_provider",
    "detect_provider",
]

Obj = dict[str, Any]
#: nodes read at most (a provider labels every node alike; evidence counts the nodes read)
MAX_NODES = 500
#: pods read at most, looking for control-plane and provider components
MAX_PODS = 5_000
_TEXT = 120

_DISTRO_LABELS: tuple[tuple[str, str, str], ...] = (
    # (provider, label or annotation key prefix, where)
    ("openshift", "node.openshift.io/", "label"),
    ("openshift", "machineconfiguration.openshift.io/", "annotation"),
    ("rke2", "rke2.io/", "annotation"),
    ("rke2", "etcd.rke2.cattle.io/", "annotation"),
    ("k3s", "k3s.io/", "label"),
    ("k3s", "k3s.io/", "annotation"),
)
_MANAGED_LABELS: tuple[tuple[str, str], ...] = (
    ("eks", "eks.amazonaws.com/"),
    ("gke", "cloud.google.com/gke-"),
    ("aks", "kubernetes.azure.com/"),
)
_PROVIDER_IDS: tuple[tuple[str, str], ...] = (("gke", "gce://"), ("aks", "azure://"), ("kind", "kind://"))
_VERSION_MARKS: tuple[tuple[str, str], ...] = (
    ("rke2", "+rke2"),
    ("k3s", "+k3s"),
    ("eks", "-eks-"),
    ("gke", "-gke."),
)
_KUBEADM_ANNOTATION = "kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint"


@dataclass(frozen=True)
class ProviderDetection:
    """The provider or distribution, what said so, and whether the control plane can be seen."""

    provider: Provider
    #: each signal seen, e.g. ``node label eks.amazonaws.com/nodegroup on 3 of 3 nodes``
    evidence: tuple[str, ...]
    #: kube-apiserver pods seen in kube-system (``None``: pods were not readable)
    apiserver_pods: int | None = None
    #: what could not be read (``nodes: ...``), so "unknown" says why
    unread: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        """``EKS``, ``k3s``, ``unknown``."""
        return PROVIDERS[self.provider]

    @property
    def managed_control_plane(self) -> bool:
        """EKS, GKE or AKS: the API server runs out of sight, so its flags cannot be read from a pod."""
        return self.provider in MANAGED_CONTROL_PLANES

    @property
    def namespaces(self) -> tuple[str, ...]:
        """The provider's own namespaces (globs), from :data:`PROVIDER_NAMESPACES`."""
        return PROVIDER_NAMESPACES.get(self.provider, ())

    def describe(self) -> str:
        """``EKS: node label eks.amazonaws.com/nodegroup on 3 of 3 nodes; gitVersion v1.30.4-eks-1a2b3c``."""
        said = "; ".join(self.evidence) if self.evidence else "no provider or distribution signal"
        unread = f" ({'; '.join(self.unread)})" if self.unread else ""
        return f"{self.title}: {said}{unread}"


def _meta(obj: Obj) -> Obj:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _mapping(meta: Obj, field: str) -> dict[str, Any]:
    value = meta.get(field)
    return value if isinstance(value, dict) else {}


def _keys(meta: Obj, field: str) -> list[str]:
    value = meta.get(field)
    return [str(k)[:_TEXT] for k in value] if isinstance(value, dict) else []


def _short(text: str) -> str:
    return text if len(text) <= _TEXT else text[: _TEXT - 1] + "…"


def _node_signals(nodes: Sequence[Obj]) -> tuple[Counter[tuple[str, str]], int]:
    """(provider, evidence) -> nodes showing it; and how many nodes were read."""
    seen: Counter[tuple[str, str]] = Counter()
    read = 0
    for node in nodes[:MAX_NODES]:
        if not isinstance(node, dict):
            continue
        read += 1
        meta = _meta(node)
        labels, annotations = _keys(meta, "labels"), _keys(meta, "annotations")
        signals: set[tuple[str, str]] = set()
        for provider, prefix, where in _DISTRO_LABELS:
            keys = labels if where == "label" else annotations
            key = next((k for k in sorted(keys) if k.startswith(prefix)), None)
            if key is not None:
                signals.add((provider, f"node {where} {key}"))
        label_values = _mapping(meta, "labels")
        if str(label_values.get("node.kubernetes.io/instance-type", "")) == "k3s":
            signals.add(("k3s", "node label node.kubernetes.io/instance-type=k3s"))
        for provider, prefix in _MANAGED_LABELS:
            key = next((k for k in sorted(labels) if k.startswith(prefix)), None)
            if key is not None:
                signals.add((provider, f"node label {key}"))
        provider_id = str((node.get("spec") or {}).get("providerID") or "")[:_TEXT]
        for provider, scheme in _PROVIDER_IDS:
            if provider_id.startswith(scheme):
                signals.add((provider, f"providerID {scheme}…"))
        kubelet = str(((node.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion") or "")[:_TEXT]
        for provider, mark in _VERSION_MARKS:
            if mark in kubelet:
                signals.add((provider, f"kubelet {_short(kubelet)}"))
        seen.update(signals)
    return seen, read


def _pod_signals(pods: Sequence[Obj]) -> tuple[Counter[tuple[str, str]], int]:
    """(provider, evidence) -> pods showing it; and the kube-apiserver pods in kube-system."""
    seen: Counter[tuple[str, str]] = Counter()
    apiservers = 0
    for pod in pods[:MAX_PODS]:
        if not isinstance(pod, dict):
            continue
        meta = _meta(pod)
        namespace = str(meta.get("namespace", ""))
        labels, annotations = _mapping(meta, "labels"), _mapping(meta, "annotations")
        if namespace == "kube-system" and (
            labels.get("component") == "kube-apiserver" or str(meta.get("name", "")).startswith("kube-apiserver-")
        ):
            apiservers += 1
            if _KUBEADM_ANNOTATION in annotations:
                seen[("kubeadm", f"kube-apiserver pod with annotation {_KUBEADM_ANNOTATION}")] += 1
        if str(labels.get("kubernetes.azure.com/managedby", "")) == "aks":
            seen[("aks", "pods labelled kubernetes.azure.com/managedby=aks")] += 1
        if namespace.startswith("openshift-"):
            seen[("openshift", "pods in openshift-* namespaces")] += 1
    return seen, apiservers


#: the order a provider is chosen in when several show (a distribution before the cloud it runs on)
_PRECEDENCE: tuple[Provider, ...] = ("openshift", "rke2", "k3s", "eks", "gke", "aks", "kind", "kubeadm")


def detect_provider(
    nodes: Sequence[Obj] | None,
    git_version: str | None,
    pods: Sequence[Obj] | None = None,
    *,
    unread: Iterable[str] = (),
) -> ProviderDetection:
    """The provider or distribution of one cluster, with the evidence named.

    ``nodes``/``pods``: the listed objects, or ``None`` when the kind could
    not be read (say why in ``unread``); ``git_version``: ``/version``'s
    gitVersion, or ``None``. The first provider of :data:`_PRECEDENCE` with
    any signal wins; the evidence lists that provider's signals with how
    many nodes or pods show each.
    """
    signals: Counter[tuple[str, str]] = Counter()
    node_count = 0
    if nodes is not None:
        node_signals, node_count = _node_signals(nodes)
        signals.update({(p, f"{e} on {n} of {node_count} nodes"): n for (p, e), n in node_signals.items()})
    apiservers: int | None = None
    if pods is not None:
        pod_signals, apiservers = _pod_signals(pods)
        signals.update({(p, f"{e} ({n})"): n for (p, e), n in pod_signals.items()})
    version = _short(git_version or "")
    for provider, mark in _VERSION_MARKS:
        if mark in version:
            signals[(provider, f"gitVersion {version}")] += 1
    found = {p for p, _ in signals}
    chosen: Provider = next((p for p in _PRECEDENCE if p in found), "unknown")
    evidence = tuple(sorted(e for p, e in signals if p == chosen))
    if chosen == "unknown" and version:
        evidence = (f"gitVersion {version} names no provider",)
    return ProviderDetection(chosen, evidence, apiservers, tuple(unread))


#: the evidence a declared provider carries first (``fleetcheck facts`` and messages show it)
DECLARED_EVIDENCE = "declared in the fleet file (facts.provider)"


def declared_provider(declared: Provider, detected: ProviderDetection) -> ProviderDetection:
    """The provider the fleet file (or ``cluster.yaml``) declares, which wins over ``detected``.

    A declaration exists for clusters whose nodes and version do not say who
    runs them; what was detected is kept in the evidence (and named as a
    disagreement when it differs), and the kube-apiserver pod count still
    comes from the cluster, since a declaration cannot make pods visible.
    """
    if detected.provider == declared:
        seen = tuple(f"seen: {e}" for e in detected.evidence)
    elif detected.provider == "unknown":
        seen = ()
    else:
        seen = (f"the cluster's own signals say {detected.describe()}",)
    return ProviderDetection(declared, (DECLARED_EVIDENCE, *seen), detected.apiserver_pods, detected.unread)
