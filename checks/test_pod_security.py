"""Pod Security: prod tenant namespaces that enforce nothing, and levels that differ from the cohort (FC-PSA-*)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fleetcheck import ClusterView, Findings, FleetView, check, object_ref, skip
from fleetcheck.facts.admission import ENFORCE_LABEL, NAMESPACE_ENFORCE
from fleetcheck.redact import redact

ENFORCE = ENFORCE_LABEL


class PodSecuritySettings(BaseModel):
    """Tiers and the cluster-wide default of FC-PSA-001."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tiers: list[str] = Field(default_factory=lambda: ["prod"], description="cluster tiers the check applies to")
    cluster_default: Literal["privileged", "baseline", "restricted"] = Field(
        default="privileged",
        description="the API server's PodSecurity default (its AdmissionConfiguration; the API cannot show it)",
    )


@check(
    "FC-PSA-001",
    title="Prod tenant namespace enforces no Pod Security level",
    factor="bounded",
    severity="high",
    reads=["namespaces"],
    settings=PodSecuritySettings,
    success="every tenant namespace of this prod cluster enforces baseline or restricted",
)
def test_prod_tenant_namespaces_enforce_pod_security(cluster: ClusterView, settings: PodSecuritySettings) -> None:
    """In a prod-tier cluster, a tenant namespace's ``pod-security.kubernetes.io/enforce`` is ``privileged`` or absent.

    What: applies to clusters whose tier (``tier`` label, else ``env``) is
    one of ``tiers`` (default ``prod``). Every tenant namespace (not a
    system namespace of the profile, not terminating) must carry the label
    ``pod-security.kubernetes.io/enforce`` with ``baseline`` or
    ``restricted``. ``privileged`` fails; an absent label fails unless the
    profile declares the API server's own default with ``cluster_default``
    (its AdmissionConfiguration is not visible through the API; the
    built-in default is ``privileged``). Counts toward *bounded*: the level
    is what keeps one namespace's pod from becoming the node's root.
    Why: without an enforced level any tenant can run a privileged pod,
    mount the host's filesystem or share its network and PID namespaces;
    one compromised or careless workload then reaches every other tenant on
    the node and the node's kubelet credentials. PodSecurityPolicy's
    removal in 1.25 left many clusters with nothing in its place.
    Fix: label the namespaces, e.g. ``kubectl label ns NAME
    pod-security.kubernetes.io/enforce=baseline`` (after a dry run with
    ``--dry-run=server`` or the ``warn``/``audit`` labels), from the
    namespace template your GitOps tool stamps out.
    References: https://kubernetes.io/docs/concepts/security/pod-security-admission/ ;
    https://kubernetes.io/docs/tasks/configure-pod-container/enforce-standards-namespace-labels/
    """
    if cluster.tier not in settings.tiers:
        skip(f"tier {cluster.tier or '(none)'} is not one of {', '.join(settings.tiers)}")
    namespaces = list(cluster.tenant_namespaces())
    if not namespaces:
        skip("no tenant namespaces (only system namespaces of the profile)")
    findings = Findings()
    for ns in namespaces:
        level = ((ns.get("metadata") or {}).get("labels") or {}).get(ENFORCE)
        if level is None:
            if settings.cluster_default != "privileged":
                continue
            findings.add(object_ref(ns, "Namespace"), "no enforce label (the default, privileged, applies)")
        elif level not in ("baseline", "restricted"):
            findings.add(object_ref(ns, "Namespace"), redact(f"{ENFORCE}={str(level)[:60]}"))
    findings.raise_if_any(
        f"{len(findings)} of {len(namespaces)} tenant namespaces of this {cluster.tier} cluster enforce no Pod "
        "Security level; expected enforce=baseline or restricted"
    )


def _has_namespace(name: str) -> Callable[[dict[str, str]], bool]:
    return lambda levels: name in levels


def _level_of(name: str) -> Callable[[dict[str, str]], str | None]:
    return lambda levels: levels.get(name)


@check(
    "FC-PSA-002",
    title="Namespace enforces a different Pod Security level than in the rest of its cohort",
    factor="bounded",
    severity="medium",
    scope="fleet",
    reads=["namespaces"],
    success="every namespace the cohort shares enforces the cohort's Pod Security level",
)
def test_namespace_enforce_level_matches_cohort(cluster: ClusterView, fleet: FleetView) -> None:
    """A namespace's ``pod-security.kubernetes.io/enforce`` level differs from the cohort's for the same namespace.

    What: for each namespace of this cluster (terminating ones left out),
    two questions by the one rule. First, is it a namespace of the cohort:
    does a strict majority of the cohort's clusters (or the reference
    cluster) have a namespace of that name? Namespaces that exist only here
    or on a minority are not judged (a team's own namespace is not drift).
    Second, the level: its ``enforce`` label (``privileged``, ``baseline``,
    ``restricted``, or no label, which is its own value) is compared with
    the level held by a strict majority of the clusters that have the
    namespace, else the reference cluster's. A different level fails, in
    either direction: stricter here breaks deployments that work elsewhere,
    looser here admits pods the fleet refuses. Counts toward *bounded*: the
    level is what keeps a namespace's pods off the node's root.
    Why: the same application deployed to the same namespace on every
    cluster meets a different admission policy on one of them: privileged
    pods the fleet refuses run there (a hole nobody sees in the fleet's
    policy repository), or a stricter label left from an experiment makes
    the next rollout fail only on that cluster, during a failover.
    Fix: set the label from the namespace template the fleet's GitOps tool
    applies everywhere (``kubectl label ns NAME
    pod-security.kubernetes.io/enforce=LEVEL --overwrite``, after a dry run
    with ``--dry-run=server``), or give the namespace a different name if it
    is meant to differ.
    References: https://kubernetes.io/docs/concepts/security/pod-security-admission/ ;
    https://kubernetes.io/docs/concepts/security/pod-security-standards/
    """
    fleet.standard(cluster, NAMESPACE_ENFORCE, lambda _: True)  # alone, the reference itself, an unreadable reference
    mine = cluster.fact(NAMESPACE_ENFORCE)
    findings = Findings()
    undecided: list[str] = []
    shared = 0
    for name in sorted(mine):
        presence = fleet.compare(cluster, NAMESPACE_ENFORCE, _has_namespace(name))
        if not presence.decided or presence.expected is not True:
            continue
        shared += 1
        level = fleet.compare(cluster, NAMESPACE_ENFORCE, _level_of(name))
        if not level.decided:
            undecided.append(redact(f"{name}: {level.source}"))
            continue
        if level.expected != mine[name]:
            findings.add(
                f"Namespace/{name}",
                redact(f"{ENFORCE}={mine[name]} here, {level.expected} by the standard ({level.says})"),
            )
    if not shared:
        skip(f"no namespace of this cluster is on most clusters of cohort {fleet.cohort_label(cluster)}")
    not_judged = f"; not judged (no standard): {'; '.join(undecided[:5])}" if undecided else ""
    if not findings and len(undecided) == shared:
        skip(f"none of the {shared} namespaces the cohort shares has a standard level{not_judged}")
    findings.raise_if_any(
        f"{len(findings)} of {shared} namespaces shared with cohort {fleet.cohort_label(cluster)} enforce a "
        f"different Pod Security level here; expected the cohort's level{not_judged}"
    )
