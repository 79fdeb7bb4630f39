"""Owned: a cluster should earn its control plane (FC-COST-001).

Every cluster pays a fixed overhead before it runs a single tenant pod: the
managed control-plane fee (or the control-plane VMs) plus the system nodes
and add-ons (CNI, DNS, ingress, monitoring, backup agents). The seed notes
put it at roughly $70-300 a month per cluster. A cluster that runs only a
handful of tenant pods spends most of its money on that overhead.
"""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fleetcheck import ClusterView, check, fail, name_list

#: Pods in these phases have finished (completed Job pods, evicted pods): they cost nothing.
_FINISHED_PHASES = frozenset({"Succeeded", "Failed"})
_NAMESPACES_SHOWN = 5


class ConsolidationSettings(BaseModel):
    """Settings of FC-COST-001."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_pods: int = Field(default=20, ge=1, description="fewer non-system pods than this fails")
    control_plane_monthly_usd_low: float = Field(
        default=70, ge=0, description="low end of a cluster's fixed monthly cost (control plane + system nodes)"
    )
    control_plane_monthly_usd_high: float = Field(
        default=300, ge=0, description="high end of a cluster's fixed monthly cost (control plane + system nodes)"
    )

    @model_validator(mode="after")
    def _range_is_ordered(self) -> ConsolidationSettings:
        if self.control_plane_monthly_usd_high < self.control_plane_monthly_usd_low:
            raise ValueError("control_plane_monthly_usd_high is below control_plane_monthly_usd_low")
        return self


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _usd(amount: float) -> str:
    return f"${amount:,.0f}"


def _usd_range(low: float, high: float) -> str:
    return _usd(low) if low == high else f"{_usd(low)}-{_usd(high).lstrip('$')}"


def estimate_line(pods: int, settings: ConsolidationSettings) -> str:
    """``estimate: $70-300/month ($840-3,600/year) of fixed cost, $10-43 per pod per month``."""
    low, high = settings.control_plane_monthly_usd_low, settings.control_plane_monthly_usd_high
    line = (
        f"estimate: retiring this cluster saves about {_usd_range(low, high)}/month "
        f"({_usd_range(low * 12, high * 12)}/year) of fixed cost"
    )
    if pods:
        line += f", {_usd_range(low / pods, high / pods)} of overhead per pod per month today"
    return line


@check(
    "FC-COST-001",
    title="Cluster runs too few tenant pods to earn its control plane",
    factor="owned",
    severity="info",
    reads=["pods"],
    settings=ConsolidationSettings,
    success="the cluster runs enough non-system pods to justify its own control plane",
)
def test_cluster_worth_its_control_plane(cluster: ClusterView, settings: ConsolidationSettings) -> None:
    """Fewer than N (default 20) non-system pods run on the cluster: a consolidation candidate.

    What: counts the Pods in namespaces that are not system namespaces of the
    profile, nor the provider's own (GKE's ``gmp-system``, AKS's
    ``gatekeeper-system``, EKS's ``amazon-cloudwatch``), leaving out
    finished Pods (phase ``Succeeded`` or ``Failed``: completed Jobs,
    evictions). Fewer than ``min_pods`` fails, with the
    per-namespace count and a cost estimate in the message.
    Why: a control plane costs roughly $70-300/month per cluster (the
    managed control-plane fee plus the system nodes it needs), before any
    tenant workload. A cluster with a handful of pods spends most of that on
    overhead, and each extra cluster is one more to upgrade, back up, secure
    and keep identical to the fleet (every other factor of the scorecard).
    Fix: move the workloads to a shared cluster of the same tier, as a
    namespace with its own ResourceQuota, LimitRange, NetworkPolicies and
    RBAC, or as a vCluster when the team needs its own API server (CRDs,
    cluster-scoped objects); then decommission this cluster. Keep a small
    cluster only for a hard isolation requirement (compliance boundary,
    separate blast radius) and waive FC-COST-001 for it with that reason.
    Tune with ``settings: {FC-COST-001: {min_pods: 20,
    control_plane_monthly_usd_low: 70, control_plane_monthly_usd_high: 300}}``.
    References: https://aws.amazon.com/eks/pricing/ ;
    https://cloud.google.com/kubernetes-engine/pricing ;
    https://kubernetes.io/docs/concepts/security/multi-tenancy/ ;
    https://www.vcluster.com/docs
    """
    per_namespace: Counter[str] = Counter()
    for pod in cluster.list("pods"):
        namespace = str((pod.get("metadata") or {}).get("namespace", ""))
        if cluster.is_system_namespace(namespace):
            continue
        if (pod.get("status") or {}).get("phase") in _FINISHED_PHASES:
            continue
        per_namespace[namespace] += 1
    count = sum(per_namespace.values())
    if count >= settings.min_pods:
        return
    ranked = sorted(per_namespace.items(), key=lambda item: (-item[1], item[0]))
    if ranked:
        shown = name_list((f"{ns} {n}" for ns, n in ranked), _NAMESPACES_SHOWN, sort=False)
        where = f" in {_plural(len(ranked), 'tenant namespace')} ({shown})"
    else:
        where = ""
    low, high = settings.control_plane_monthly_usd_low, settings.control_plane_monthly_usd_high
    fail(
        f"only {_plural(count, 'non-system pod')} {'runs' if count == 1 else 'run'} on {cluster.name}{where}, "
        f"fewer than {settings.min_pods}: "
        "a consolidation candidate; expected its workloads as a namespace or a vCluster on a shared cluster. "
        f"A control plane costs roughly {_usd_range(low, high)}/month per cluster (managed control-plane fee "
        f"plus system nodes); {estimate_line(count, settings)}",
        [f"Namespace/{ns}" for ns, _ in ranked],
    )
