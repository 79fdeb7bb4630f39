"""Pod Security, the cluster part: prod tenant namespaces that enforce nothing (FC-PSA-*)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fleetcheck import ClusterView, Findings, check, object_ref, skip
from fleetcheck.redact import redact

ENFORCE = "pod-security.kubernetes.io/enforce"


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
