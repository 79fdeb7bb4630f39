"""Bounded: quotas and limit ranges contain a runaway namespace (FC-QUOTA-*)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from fleetcheck import ClusterView, Findings, check, object_ref, skip
from fleetcheck.core.quantity import QuantityError, parse_quantity

CPU_KEYS = ("cpu", "requests.cpu", "limits.cpu")
MEMORY_KEYS = ("memory", "requests.memory", "limits.memory")


def _by_namespace(objects: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for obj in objects:
        grouped.setdefault(str(obj["metadata"].get("namespace", "")), []).append(obj)
    return grouped


def _is_scoped(quota: dict) -> bool:
    """A quota with scopes (BestEffort, Terminating, PriorityClass ...) bounds only some pods."""
    spec = quota.get("spec") or {}
    return bool(spec.get("scopes") or (spec.get("scopeSelector") or {}).get("matchExpressions"))


@check(
    "FC-QUOTA-001",
    title="Tenant namespace without a ResourceQuota bounding cpu and memory",
    factor="bounded",
    severity="high",
    reads=["namespaces", "resourcequotas"],
    success="every tenant namespace has a ResourceQuota bounding cpu and memory",
)
def test_namespace_has_cpu_memory_quota(cluster: ClusterView) -> None:
    """A non-system namespace has no ResourceQuota that bounds both cpu and memory.

    What: every namespace that is not a system namespace (the profile's
    ``system_namespaces``, and the namespaces of the cluster's provider:
    ``gmp-system`` on GKE, ``gatekeeper-system`` on AKS, ``openshift-*`` ...,
    extended by ``provider_namespaces``) needs
    unscoped ResourceQuotas whose ``spec.hard`` together bound cpu (``cpu``,
    ``requests.cpu`` or ``limits.cpu``) and memory (``memory``,
    ``requests.memory`` or ``limits.memory``). Scoped quotas (``scopes``,
    ``scopeSelector``) bound only some pods and do not count.
    Why: a namespace without a quota can schedule until the nodes are full: one
    runaway Deployment or a crash-looping Job starves every other team on the
    cluster, and on a fleet the same manifest does it on every cluster at once.
    Fix: add a ResourceQuota to the namespace, e.g. ``spec.hard:
    {requests.cpu: "20", requests.memory: 64Gi, limits.cpu: "40",
    limits.memory: 128Gi}``, from the namespace template your GitOps tool
    stamps out, so new namespaces are born bounded.
    References: https://kubernetes.io/docs/concepts/policy/resource-quotas/
    """
    namespaces = list(cluster.tenant_namespaces())
    if not namespaces:
        skip("no tenant namespaces (only system namespaces of the profile and of the cluster's provider)")
    quotas = _by_namespace(cluster.list("resourcequotas"))
    findings = Findings()
    for ns in namespaces:
        name = ns["metadata"]["name"]
        unscoped = [q for q in quotas.get(name, []) if not _is_scoped(q)]
        hard = {key for q in unscoped for key in ((q.get("spec") or {}).get("hard") or {})}
        missing = [what for what, keys in (("cpu", CPU_KEYS), ("memory", MEMORY_KEYS)) if not hard & set(keys)]
        if missing:
            detail = "no ResourceQuota" if not quotas.get(name) else f"quota does not bound {' or '.join(missing)}"
            if quotas.get(name) and not unscoped:
                detail = "only scoped quotas (they bound some pods, not all)"
            findings.add(object_ref(ns, "Namespace"), detail)
    findings.raise_if_any(f"{len(findings)} of {len(namespaces)} tenant namespaces are not bounded in cpu and memory")


def _has_container_defaults(limit_range: dict) -> bool:
    for limit in (limit_range.get("spec") or {}).get("limits") or []:
        if limit.get("type") == "Container" and (limit.get("default") or limit.get("defaultRequest")):
            return True
    return False


@check(
    "FC-QUOTA-002",
    title="Tenant namespace without a LimitRange giving containers defaults",
    factor="bounded",
    severity="medium",
    reads=["namespaces", "limitranges"],
    success="every tenant namespace has a LimitRange with container defaults",
)
def test_namespace_has_limitrange_defaults(cluster: ClusterView) -> None:
    """A non-system namespace has no LimitRange with container ``default``/``defaultRequest``.

    What: every tenant namespace needs a LimitRange with a ``type: Container``
    entry that sets ``default`` (limits) or ``defaultRequest`` (requests).
    Why: with a cpu/memory quota in place, a pod without requests is rejected
    outright, and without a quota it is scheduled as BestEffort and evicted
    first; container defaults make both cases behave, so a forgotten
    ``resources:`` block does not become an outage or a noisy neighbour.
    Fix: add a LimitRange, e.g. ``limits: [{type: Container, defaultRequest:
    {cpu: 100m, memory: 128Mi}, default: {cpu: 500m, memory: 512Mi}}]``.
    References: https://kubernetes.io/docs/concepts/policy/limit-range/
    """
    namespaces = list(cluster.tenant_namespaces())
    if not namespaces:
        skip("no tenant namespaces (only system namespaces of the profile and of the cluster's provider)")
    ranges = _by_namespace(cluster.list("limitranges"))
    findings = Findings()
    for ns in namespaces:
        name = ns["metadata"]["name"]
        mine = ranges.get(name, [])
        if not any(_has_container_defaults(lr) for lr in mine):
            detail = "no LimitRange" if not mine else "LimitRange sets no container default/defaultRequest"
            findings.add(object_ref(ns, "Namespace"), detail)
    findings.raise_if_any(f"{len(findings)} of {len(namespaces)} tenant namespaces have no container defaults")


class QuotaUsageSettings(BaseModel):
    """Thresholds of FC-QUOTA-003."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold_percent: float = Field(default=90.0, gt=0, le=100, description="used/hard at or above this fails")


def _percent(used: Decimal, hard: Decimal) -> Decimal:
    return Decimal(100) if hard == 0 else used * 100 / hard


@check(
    "FC-QUOTA-003",
    title="ResourceQuota nearly exhausted",
    factor="bounded",
    severity="low",
    reads=["resourcequotas"],
    settings=QuotaUsageSettings,
    success="no ResourceQuota is near a hard limit",
)
def test_quota_not_nearly_exhausted(cluster: ClusterView, settings: QuotaUsageSettings) -> None:
    """A ResourceQuota's usage is at or above the threshold (default 90%) of a hard limit.

    What: for every ResourceQuota, each resource in ``status.hard`` (or
    ``spec.hard``) is compared with ``status.used``; quantities are parsed
    (``500m``, ``2Gi``) so ``1500m`` of ``2`` cpu is 75%. A hard limit of
    ``0`` forbids the resource outright and is not reported.
    Why: at 100% the API server rejects new pods in the namespace: a rollout
    stalls half-way, an HPA cannot scale out in a traffic spike, a Job never
    starts. Seeing 90% first leaves time to raise the quota or trim usage.
    Fix: raise ``spec.hard`` for the resource named in the finding, or reduce
    what the namespace requests (idle replicas, oversized requests). Tune the
    threshold with the profile setting ``settings: {FC-QUOTA-003:
    {threshold_percent: 90}}``.
    References: https://kubernetes.io/docs/concepts/policy/resource-quotas/#viewing-and-setting-quotas
    """
    quotas = [
        q
        for q in cluster.list("resourcequotas")
        if not cluster.is_system_namespace(str(q["metadata"].get("namespace", "")))
    ]
    if not quotas:
        skip("no ResourceQuotas in tenant namespaces")
    threshold = Decimal(str(settings.threshold_percent))
    findings = Findings()
    for quota in quotas:
        status = quota.get("status") or {}
        hard = status.get("hard") or (quota.get("spec") or {}).get("hard") or {}
        used = status.get("used") or {}
        hot: list[str] = []
        for resource in sorted(hard):
            if resource not in used:
                continue
            try:
                hard_value, used_value = parse_quantity(hard[resource]), parse_quantity(used[resource])
            except QuantityError:
                continue
            if hard_value <= 0:  # "0" forbids the resource (services.loadbalancers: "0"): nothing to exhaust
                continue
            percent = _percent(used_value, hard_value)
            if percent >= threshold:
                hot.append(f"{resource} {used[resource]}/{hard[resource]} ({percent:.0f}%)")
        if hot:
            findings.add(object_ref(quota, "ResourceQuota"), ", ".join(hot))
    findings.raise_if_any(
        f"{len(findings)} ResourceQuotas are at or above {settings.threshold_percent:g}% of a hard limit"
    )
