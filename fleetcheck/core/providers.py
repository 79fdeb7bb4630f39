"""The providers and distributions fleetcheck tells apart: their names, and the namespaces that are theirs.

Vocabulary, not detection: the fleet file and the profile validate what a
user declares against :data:`PROVIDERS` (so the registry needs no fact
module), and :mod:`fleetcheck.facts.provider_detection` detects which one a
cluster is from what its API shows.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["MANAGED_CONTROL_PLANES", "PROVIDERS", "PROVIDER_NAMESPACES", "Provider"]

Provider = Literal["eks", "gke", "aks", "openshift", "rke2", "k3s", "kind", "kubeadm", "unknown"]

#: every value :attr:`ProviderDetection.provider` takes, with the name messages use
PROVIDERS: dict[str, str] = {
    "eks": "EKS",
    "gke": "GKE",
    "aks": "AKS",
    "openshift": "OpenShift",
    "rke2": "RKE2",
    "k3s": "k3s",
    "kind": "kind",
    "kubeadm": "kubeadm",
    "unknown": "unknown",
}
#: providers that run the control plane out of sight (no kube-apiserver pod; flags are not readable)
MANAGED_CONTROL_PLANES = frozenset({"eks", "gke", "aks"})

#: The provider's own namespaces: system namespaces on its clusters, not tenants (quota, backup, GitOps).
#: Sources: ../shared/corpus/managed/README.md ("The provider's own namespaces") and the provider docs named there.
PROVIDER_NAMESPACES: dict[str, tuple[str, ...]] = {
    # EKS: Container Insights (amazon-cloudwatch), GuardDuty runtime monitoring, Fargate logging, Karpenter
    "eks": ("amazon-cloudwatch", "amazon-guardduty", "aws-observability", "karpenter"),
    # GKE: Managed Service for Prometheus (gmp-system, gmp-public; gke-gmp-system on Autopilot), gke-managed-*
    "gke": ("gmp-system", "gmp-public", "gke-gmp-system", "gke-managed-*", "gke-connect", "config-management-system"),
    # AKS: Azure Policy add-on, app routing add-on, operator-installed Calico (list-pods-aks-cluster.md,
    # managed-namespaces.md)
    "aks": ("gatekeeper-system", "app-routing-system", "calico-system", "tigera-operator", "aks-command"),
    # OpenShift: every openshift-* namespace is the platform's
    "openshift": ("openshift", "openshift-*"),
    # RKE2/k3s: Rancher's cattle-* agents and the packaged charts' namespaces
    "rke2": ("cattle-*", "calico-system", "tigera-operator"),
    "k3s": ("cattle-*",),
    "kind": ("local-path-storage",),
    "kubeadm": (),
    "unknown": (),
}
