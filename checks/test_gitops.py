"""Managed workloads: tenant workloads are applied by a GitOps tool, not by hand (FC-GITOPS-001).

Who manages what is read from the marks each tool leaves, in
:mod:`fleetcheck.facts.ownership`; this check counts and judges.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from fleetcheck import ClusterView, Findings, check, name_list, skip
from fleetcheck.facts.ownership import (
    WORKLOAD_READS,
    OwnershipRules,
    describe_owned_elsewhere,
    managers_breakdown,
    workload_census,
)


class GitOpsSettings(BaseModel):
    """Settings of FC-GITOPS-001."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold_percent: float = Field(
        default=90.0, ge=0, le=100, description="the share of top-level tenant workloads that must be managed"
    )
    argocd_label: str | None = Field(
        default="app.kubernetes.io/instance",
        description="Argo CD's instance label (application.instanceLabelKey) for label tracking; null: "
        "annotation tracking only",
    )
    count_helm: bool = Field(default=True, description="count Helm releases (managed-by: Helm) as managed")
    extra_keys: tuple[str, ...] = Field(
        default=(), description="further label or annotation keys that mark a managing tool"
    )


@check(
    "FC-GITOPS-001",
    title="Too few tenant workloads are managed by GitOps",
    factor="managed",
    severity="medium",
    reads=["namespaces", *WORKLOAD_READS],
    settings=GitOpsSettings,
    success="at least the threshold share of tenant workloads carries GitOps (or Helm) ownership",
)
def test_workloads_managed_by_gitops(cluster: ClusterView, settings: GitOpsSettings) -> None:
    """Less than the threshold (default 90%) of tenant workloads carry GitOps ownership.

    What: the top-level workloads of the tenant namespaces (not system
    namespaces of the profile) are counted: Deployments, StatefulSets,
    DaemonSets, CronJobs, and Jobs, ReplicaSets and Pods no controller owns.
    A ReplicaSet or Pod a Deployment owns counts through its Deployment,
    a Job through its CronJob; a workload an operator's custom resource owns
    is set aside (its owner is what was applied). A debug Pod made by
    ``kubectl run NAME`` (a bare Pod whose only label is ``run=NAME``, no
    owner, no field manager but kubectl's) is not counted either: it is
    named separately in the message, since a forgotten debug Pod is worth a
    look but is not drift in what was applied. A workload is managed when
    it carries Argo CD tracking (``argocd.argoproj.io/tracking-id``
    annotation, or the ``argocd_label`` label, default
    ``app.kubernetes.io/instance``), Flux labels
    (``kustomize.toolkit.fluxcd.io/*``, ``helm.toolkit.fluxcd.io/*``), Helm's
    ``app.kubernetes.io/managed-by: Helm`` (unless ``count_helm: false``), a
    key from ``extra_keys``, or a field manager of these tools. The share
    managed must be at least ``threshold_percent`` (default 90; a dev
    profile may lower it). Skipped when the tenant namespaces hold no
    workloads.
    Why: a workload applied by hand exists only in the cluster: it is lost
    when the cluster is rebuilt from git, it differs silently between
    clusters that should be identical, and nobody reviews its changes. The
    share of hand-applied workloads is how drift starts; "kubectl apply to
    fix it quickly" during an incident is the usual source.
    Fix: move each listed workload into the GitOps repository (an Argo CD
    Application or a Flux Kustomization) and let the tool adopt it; delete
    what nobody claims. For tools fleetcheck does not recognise, add their
    label to ``extra_keys``; lower ``threshold_percent`` for dev profiles.
    References: https://argo-cd.readthedocs.io/en/stable/user-guide/resource_tracking/ ;
    https://fluxcd.io/flux/components/kustomize/kustomizations/ ;
    https://kubernetes.io/docs/concepts/overview/working-with-objects/owners-dependents/
    """
    tenants = {str(ns["metadata"]["name"]) for ns in cluster.tenant_namespaces()}
    rules = OwnershipRules(argocd_label=settings.argocd_label, helm=settings.count_helm, extra_keys=settings.extra_keys)
    census = workload_census(cluster.list, tenants, rules)
    total = len(census.workloads)
    aside = (
        f"; {sum(census.owned_elsewhere.values())} owned by other controllers not counted "
        f"({describe_owned_elsewhere(census.owned_elsewhere)})"
        if census.owned_elsewhere
        else ""
    )
    if census.debug_pods:
        pods = "Pod" if len(census.debug_pods) == 1 else "Pods"
        aside += f"; {len(census.debug_pods)} kubectl run debug {pods} not counted ({name_list(census.debug_pods, 4)})"
    if total == 0:
        skip(f"no top-level workloads in the {len(tenants)} tenant namespaces{aside}")
    managed = census.managed
    share = 100.0 * len(managed) / total
    if share >= settings.threshold_percent:
        return
    findings = Findings()
    for workload in census.unmanaged:
        findings.add(workload.ref, workload.hint)
    by_tool = f" ({managers_breakdown(managed)})" if managed else ""
    findings.raise_if_any(
        f"{len(managed)} of {total} top-level workloads in {len(tenants)} tenant namespaces are managed by "
        f"GitOps or Helm{by_tool}: {share:.0f}%, below the threshold of {settings.threshold_percent:g}%{aside}; "
        f"{len(census.unmanaged)} unmanaged"
    )
