"""Drains: PodDisruptionBudgets that block every node drain, and so every upgrade (FC-PDB-*)."""

from __future__ import annotations

from fleetcheck import ClusterView, Findings, check, object_ref, skip
from fleetcheck.redact import redact

PDBS = "policy/v1 poddisruptionbudgets"


def _zero_disruption_reason(pdb: dict) -> str | None:
    """Why ``pdb`` lets no pod be evicted while its pods are healthy, or None."""
    spec = pdb.get("spec") or {}
    status = pdb.get("status") or {}
    max_unavailable = spec.get("maxUnavailable")
    if max_unavailable in (0, "0", "0%"):
        return f"maxUnavailable is {max_unavailable!s}"
    expected = status.get("expectedPods")
    min_available = spec.get("minAvailable")
    full = min_available == "100%" or (
        isinstance(min_available, int) and isinstance(expected, int) and min_available >= expected
    )
    if isinstance(expected, int) and expected > 0 and full:
        return f"minAvailable {min_available} equals the {expected} expected pods"
    allowed = status.get("disruptionsAllowed")
    healthy, desired = status.get("currentHealthy"), status.get("desiredHealthy")
    if allowed == 0 and isinstance(healthy, int) and isinstance(expected, int) and 0 < expected <= healthy:
        return f"disruptionsAllowed is 0 with all {expected} expected pods healthy (desiredHealthy {desired})"
    return None


@check(
    "FC-PDB-001",
    title="PodDisruptionBudget allows no disruption at steady state",
    factor="boring",
    severity="medium",
    reads=[PDBS],
    success="every PodDisruptionBudget lets at least one pod be evicted when its pods are healthy",
)
def test_pdb_allows_a_disruption(cluster: ClusterView) -> None:
    """A PodDisruptionBudget lets no pod be evicted even when all its pods are healthy.

    What: a ``policy/v1`` PodDisruptionBudget fails when ``maxUnavailable``
    is ``0`` (or ``0%``), when ``minAvailable`` is ``100%`` or at least its
    ``status.expectedPods``, or when ``status.disruptionsAllowed`` is 0
    while every expected pod is healthy (``currentHealthy >= expectedPods``:
    healthy, and still nothing may go, so the budget itself is the problem,
    not a sick workload; a budget at 0 because pods are down is doing its
    job and is not reported). A PDB
    selecting no pod (``expectedPods`` 0) is left alone. Counts toward
    *boring*: a node that cannot be drained cannot be upgraded, so the
    cluster falls behind the fleet's minor.
    Why: ``kubectl drain`` and every managed node-pool upgrade evict pods
    through the eviction API, which refuses while the budget allows zero
    disruptions; the drain retries until its timeout, the upgrade stalls or
    (EKS, GKE after their grace period) force-deletes the pods anyway. A
    single-replica Deployment with ``minAvailable: 1`` is the usual cause.
    Fix: run two or more replicas and use ``maxUnavailable: 1`` (or a
    ``minAvailable`` below the replica count); for a true singleton, accept
    the disruption and drop the PDB.
    References: https://kubernetes.io/docs/tasks/run-application/configure-pdb/ ;
    https://kubernetes.io/docs/concepts/workloads/pods/disruptions/#pod-disruption-budgets
    """
    pdbs = cluster.list(PDBS)
    if not pdbs:
        skip("no PodDisruptionBudgets")
    findings = Findings()
    for pdb in pdbs:
        reason = _zero_disruption_reason(pdb)
        if reason:
            findings.add(object_ref(pdb, "PodDisruptionBudget"), redact(reason))
    findings.raise_if_any(
        f"{len(findings)} of {len(pdbs)} PodDisruptionBudgets block every eviction, so no node running their pods "
        "can be drained; expected at least one allowed disruption when the pods are healthy"
    )
