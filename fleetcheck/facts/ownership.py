"""Who manages a workload: Argo CD, Flux, Helm, or a person with kubectl (FC-GITOPS-001).

A workload is judged on its *top-level* object, the one somebody applied:
Deployments, StatefulSets, DaemonSets, CronJobs, and Jobs, ReplicaSets and
Pods that no controller owns. A ReplicaSet or Pod a Deployment owns is
managed exactly when its Deployment is (GitOps tools label the object they
apply, not what its controller creates from it), so it is not counted
again. A workload whose controller is a kind fleetcheck does not list (an
operator's custom resource: a ``Prometheus``, an Argo ``Rollout``) is
managed by that controller and judged through it, so it is set aside and
counted separately; a Pod owned by a Node is a static Pod's mirror. Legacy
ReplicationControllers are not listed (the shipped scanner role does not
grant them), so their Pods are set aside the same way.

The marks each tool leaves on what it applies:

========== ==================================================================================
Argo CD    annotation ``argocd.argoproj.io/tracking-id: app:group/Kind:ns/name`` (annotation
           tracking), or the instance label (label tracking; ``app.kubernetes.io/instance`` by
           default, ``application.instanceLabelKey`` in ``argocd-cm``)
Flux       labels ``kustomize.toolkit.fluxcd.io/name|namespace`` (Kustomization) or
           ``helm.toolkit.fluxcd.io/name|namespace`` (HelmRelease)
Helm       label ``app.kubernetes.io/managed-by: Helm`` or annotation ``meta.helm.sh/release-name``
any tool   a field manager of one of these tools in ``metadata.managedFields`` (server-side apply)
========== ==================================================================================

A bare Pod made by ``kubectl run NAME`` (for debugging: ``kubectl run -it
--rm debug --image=busybox``) is not a workload anybody applied: it carries
exactly the label ``run=NAME``, no controller owns it, and its field manager
(when recorded) is ``kubectl-run``. Such Pods are not counted among the
top-level workloads; the census lists them in
:attr:`WorkloadCensus.debug_pods` so the check reports them separately (a
forgotten debug Pod is worth a look, not a GitOps finding). A Pod with more
labels, or one another manager wrote, is judged as any other bare Pod.

The instance label is also what many Helm charts put on everything, so
with label tracking a chart installed by hand can pass for Argo CD; when
the ``managed-by: Helm`` label is there too the workload is attributed to
Helm, which counts the same.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "TOP_LEVEL_KINDS",
    "WORKLOAD_READS",
    "Manager",
    "OwnershipRules",
    "Workload",
    "WorkloadCensus",
    "describe_owned_elsewhere",
    "is_kubectl_run_pod",
    "manager_of",
    "managers_breakdown",
    "unmanaged_hint",
    "workload_census",
]

Obj = dict[str, Any]

#: (kind as ``reads=`` names it, Kind): the kinds a top-level workload can be.
TOP_LEVEL_KINDS: tuple[tuple[str, str], ...] = (
    ("deployments", "Deployment"),
    ("statefulsets", "StatefulSet"),
    ("daemonsets", "DaemonSet"),
    ("cronjobs", "CronJob"),
    ("jobs", "Job"),
    ("replicasets", "ReplicaSet"),
    ("pods", "Pod"),
)
#: Kinds a check using :func:`workload_census` must read.
WORKLOAD_READS: tuple[str, ...] = tuple(plural for plural, _ in TOP_LEVEL_KINDS)
_LISTED_KINDS = frozenset(kind for _, kind in TOP_LEVEL_KINDS)

ARGOCD_TRACKING_ANNOTATION = "argocd.argoproj.io/tracking-id"
HELM_RELEASE_ANNOTATION = "meta.helm.sh/release-name"
_FLUX = (("kustomize.toolkit.fluxcd.io/", "Kustomization"), ("helm.toolkit.fluxcd.io/", "HelmRelease"))
#: field managers (``metadata.managedFields[].manager``) of the tools that count.
_TOOL_FIELD_MANAGERS: dict[str, str] = {
    "argocd-controller": "Argo CD",
    "argocd-application-controller": "Argo CD",
    "kustomize-controller": "Flux",
    "helm-controller": "Flux",
    "helm": "Helm",
}


@dataclass(frozen=True)
class OwnershipRules:
    """What counts as managed: the Argo CD instance label key, Helm or not, extra label/annotation keys."""

    argocd_label: str | None = "app.kubernetes.io/instance"
    helm: bool = True
    extra_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Manager:
    """The tool that applied a workload, and the evidence (``Argo CD``, ``app shop (tracking-id annotation)``)."""

    tool: str
    evidence: str

    def __str__(self) -> str:
        return f"{self.tool}: {self.evidence}"


@dataclass(frozen=True)
class Workload:
    """One top-level workload and who manages it (``None``: nobody fleetcheck can see)."""

    ref: str
    kind: str
    namespace: str
    name: str
    manager: Manager | None
    hint: str = ""


@dataclass
class WorkloadCensus:
    """The top-level workloads of some namespaces, and those set aside because another controller owns them."""

    workloads: list[Workload] = field(default_factory=list)
    owned_elsewhere: Counter[str] = field(default_factory=Counter)
    #: bare Pods made by ``kubectl run`` (see the module docs): not counted as workloads, reported apart
    debug_pods: list[str] = field(default_factory=list)

    @property
    def managed(self) -> list[Workload]:
        """Workloads a tool manages."""
        return [w for w in self.workloads if w.manager is not None]

    @property
    def unmanaged(self) -> list[Workload]:
        """Workloads no tool manages."""
        return [w for w in self.workloads if w.manager is None]


def _labels(meta: Obj) -> dict[str, str]:
    labels = meta.get("labels") or {}
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


def _annotations(meta: Obj) -> dict[str, str]:
    annotations = meta.get("annotations") or {}
    return {str(k): str(v) for k, v in annotations.items()} if isinstance(annotations, dict) else {}


def _field_managers(meta: Obj) -> list[str]:
    entries = meta.get("managedFields") or []
    return [str(e.get("manager", "")) for e in entries if isinstance(e, dict)]


def manager_of(obj: Obj, rules: OwnershipRules | None = None) -> Manager | None:
    """The tool that manages ``obj``, from the marks it leaves (see the module docs), or ``None``."""
    rules = rules or OwnershipRules()
    meta = obj.get("metadata") or {}
    labels, annotations = _labels(meta), _annotations(meta)
    tracking = annotations.get(ARGOCD_TRACKING_ANNOTATION, "")
    if tracking and ":" in tracking:
        return Manager("Argo CD", f"app {tracking.split(':', 1)[0]} (tracking-id annotation)")
    for prefix, kind in _FLUX:
        if any(key.startswith(prefix) for key in labels):
            owner_ns, owner = labels.get(f"{prefix}namespace", ""), labels.get(f"{prefix}name", "?")
            return Manager("Flux", f"{kind} {owner_ns + '/' if owner_ns else ''}{owner}")
    if rules.helm and (
        labels.get("app.kubernetes.io/managed-by", "").lower() == "helm" or HELM_RELEASE_ANNOTATION in annotations
    ):
        release = annotations.get(HELM_RELEASE_ANNOTATION) or labels.get("app.kubernetes.io/instance") or "?"
        return Manager("Helm", f"release {release}")
    if rules.argocd_label and labels.get(rules.argocd_label):
        return Manager("Argo CD", f"app {labels[rules.argocd_label]} (label {rules.argocd_label})")
    for key in rules.extra_keys:
        value = labels.get(key, annotations.get(key))
        if value is not None:
            return Manager(key, value or "(set)")
    for name in _field_managers(meta):
        tool = _TOOL_FIELD_MANAGERS.get(name)
        if tool is not None and (tool != "Helm" or rules.helm):
            return Manager(tool, f"field manager {name}")
    return None


def unmanaged_hint(obj: Obj) -> str:
    """How an unmanaged workload was probably made: ``kubectl apply``, ``kubectl create`` ..., or ``""``."""
    meta = obj.get("metadata") or {}
    if "kubectl.kubernetes.io/last-applied-configuration" in _annotations(meta):
        return "applied with kubectl apply"
    kubectl = sorted({m for m in _field_managers(meta) if m.startswith("kubectl")})
    if kubectl:
        return f"written by {', '.join(kubectl)}"
    return "no GitOps or Helm marks"


def is_kubectl_run_pod(obj: Obj) -> bool:
    """A bare Pod ``kubectl run NAME`` made: only the label ``run=NAME``, no owner, no other field manager."""
    meta = obj.get("metadata") or {}
    if not isinstance(meta, dict) or meta.get("ownerReferences"):
        return False
    name = str(meta.get("name", ""))
    if not name or _labels(meta) != {"run": name}:
        return False
    managers = [m for m in _field_managers(meta) if m]
    return all(m == "kubectl-run" or m.startswith("kubectl") for m in managers)


def _controller(meta: Obj) -> tuple[str, str] | None:
    for owner in meta.get("ownerReferences") or []:
        if isinstance(owner, dict) and owner.get("controller"):
            return str(owner.get("kind", "")), str(owner.get("name", ""))
    return None


def workload_census(
    list_objects: Callable[[str], list[Obj]],
    namespaces: Collection[str],
    rules: OwnershipRules | None = None,
) -> WorkloadCensus:
    """Every top-level workload in ``namespaces`` with its manager.

    ``list_objects`` lists one kind by the names in :data:`WORKLOAD_READS`
    (``ClusterView.list`` fits). Objects a listed controller owns are not
    counted (their owner is); objects another controller owns are counted
    in ``owned_elsewhere`` by the owner's kind; mirror Pods of static Pods
    (owned by a Node) are left out.
    """
    rules = rules or OwnershipRules()
    census = WorkloadCensus()
    for plural, kind in TOP_LEVEL_KINDS:
        for obj in list_objects(plural):
            meta = obj.get("metadata") or {}
            namespace = str(meta.get("namespace", ""))
            if namespace not in namespaces:
                continue
            controller = _controller(meta)
            if controller is not None:
                if controller[0] not in _LISTED_KINDS and controller[0] != "Node":
                    census.owned_elsewhere[controller[0]] += 1
                continue
            name = str(meta.get("name", "?"))
            if kind == "Pod" and is_kubectl_run_pod(obj):
                census.debug_pods.append(f"{namespace}/Pod/{name}")
                continue
            manager = manager_of(obj, rules)
            census.workloads.append(
                Workload(
                    ref=f"{namespace}/{kind}/{name}",
                    kind=kind,
                    namespace=namespace,
                    name=name,
                    manager=manager,
                    hint="" if manager is not None else unmanaged_hint(obj),
                )
            )
    return census


def describe_owned_elsewhere(counts: Counter[str], limit: int = 4) -> str:
    """``3 owned by Rollout, 1 by Prometheus``."""
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    parts = [f"{n} by {kind}" for kind, n in ranked[:limit]]
    if len(ranked) > limit:
        parts.append(f"{sum(n for _, n in ranked[limit:])} by other kinds")
    return ", ".join(parts)


def managers_breakdown(workloads: Iterable[Workload]) -> str:
    """``Argo CD 12, Helm 3``, most first."""
    tools = Counter(w.manager.tool for w in workloads if w.manager is not None)
    return ", ".join(f"{tool} {n}" for tool, n in sorted(tools.items(), key=lambda item: (-item[1], item[0])))
