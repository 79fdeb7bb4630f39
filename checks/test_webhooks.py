"""Admission webhooks that can stop a cluster from changing or restarting, or that differ from the fleet (FC-HOOK-*).

FC-HOOK-001/002 judge one cluster; FC-HOOK-003/004 compare each webhook's
failure policy, by webhook name, with the cohort by the one rule.
"""

from __future__ import annotations

from collections.abc import Callable

from fleetcheck import ClusterView, Findings, FleetView, check, skip
from fleetcheck.facts.admission import WEBHOOK_POLICIES, WebhookPolicy
from fleetcheck.facts.webhooks import WEBHOOK_KINDS, Webhook, selector_matches, webhooks_of
from fleetcheck.redact import redact

SLICES = "discovery.k8s.io/v1 endpointslices"
#: the label EndpointSlices carry naming their Service
SERVICE_LABEL = "kubernetes.io/service-name"
#: resources a webhook's backend needs to come back (its pods and what creates and reaches them)
RESTART_RESOURCES = frozenset(
    {
        "*",
        "*/*",
        "pods",
        "pods/*",
        "deployments",
        "replicasets",
        "daemonsets",
        "statefulsets",
        "services",
        "endpoints",
        "endpointslices",
        "serviceaccounts",
        "configmaps",
        "leases",
    }
)
_SYSTEM_NAMESPACE = "kube-system"


def _webhooks(cluster: ClusterView) -> list[Webhook]:
    return list(webhooks_of({kind: cluster.list(kind) for kind in WEBHOOK_KINDS}))


def _ready_endpoints(cluster: ClusterView) -> dict[tuple[str, str], int]:
    """(namespace, service) -> endpoints ready to serve, from EndpointSlices (computed once per cluster)."""

    def compute() -> dict[tuple[str, str], int]:
        ready: dict[tuple[str, str], int] = {}
        for slice_ in cluster.list(SLICES):
            meta = slice_.get("metadata") or {}
            service = (meta.get("labels") or {}).get(SERVICE_LABEL)
            if not service:
                continue
            key = (str(meta.get("namespace", "")), str(service))
            count = ready.setdefault(key, 0)
            for endpoint in (slice_.get("endpoints") or [])[:10_000]:
                conditions = (endpoint or {}).get("conditions") or {}
                # the API: an unset "ready" is unknown, which consumers treat as ready
                if conditions.get("ready", True) is not False:
                    count += 1
            ready[key] = count
        return ready

    return cluster.memo("webhooks.ready_endpoints", compute)


@check(
    "FC-HOOK-001",
    title="Fail-closed admission webhook with no ready backend",
    factor="recoverable",
    severity="critical",
    reads=[*WEBHOOK_KINDS, SLICES],
    success="every fail-closed admission webhook has a ready endpoint behind its Service",
)
def test_fail_closed_webhook_has_ready_backend(cluster: ClusterView) -> None:
    """A webhook with ``failurePolicy: Fail`` whose Service has no ready endpoint.

    What: every webhook of every Validating/MutatingWebhookConfiguration whose
    ``failurePolicy`` is ``Fail`` (the v1 default when unset) and that calls
    an in-cluster Service (``clientConfig.service``) needs at least one
    endpoint ready to serve in the Service's EndpointSlices
    (``discovery.k8s.io/v1``, label ``kubernetes.io/service-name``): an
    endpoint whose ``conditions.ready`` is true, or unset (the API's
    "unknown", which kube-proxy treats as ready). No slice at all, or only
    endpoints with ``ready: false``, fails. Webhooks that call a ``url:``
    are outside service discovery: their backend cannot be seen from the
    API, so they are not judged here (the skip says so when they are all
    there is). Counts toward *recoverable*: while the webhook is down every
    matching write is rejected, so the cluster cannot heal itself.
    Why: a fail-closed webhook whose pods are gone rejects every request it
    matches: Deployments cannot roll, pods of crashed nodes are not
    recreated, and ``kubectl apply`` fails cluster-wide with "failed calling
    webhook ... no endpoints available for service". Postmortems from
    Gatekeeper, Kyverno, cert-manager and Istio users start this way, often
    after the webhook's own namespace was scaled down or its nodes drained.
    Fix: bring the backend back (check its Deployment and pods), run it with
    at least two replicas and a PodDisruptionBudget; or set
    ``failurePolicy: Ignore`` for webhooks that only mutate or report, and
    exclude system namespaces with a ``namespaceSelector``.
    References: https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/ ;
    https://kubernetes.io/docs/concepts/services-networking/endpoint-slices/#conditions
    """
    hooks = _webhooks(cluster)
    closed = [h for h in hooks if h.failure_policy == "Fail"]
    in_cluster = [h for h in closed if h.service is not None]
    if not in_cluster:
        by_url = len(closed) - len(in_cluster)
        if by_url:
            skip(
                f"{by_url} fail-closed webhooks call a url: outside the cluster; their backends cannot be seen "
                "from the API (no Service, no EndpointSlices), so none is judged"
            )
        skip(f"no fail-closed admission webhook with an in-cluster Service ({len(hooks)} webhooks in all)")
    ready = _ready_endpoints(cluster)
    findings = Findings()
    for hook in in_cluster:
        assert hook.service is not None
        namespace, name = hook.service
        count = ready.get((namespace, name))
        if count:
            continue
        state = "no EndpointSlice" if count is None else "no ready endpoint in its EndpointSlices"
        findings.add(
            hook.ref,
            redact(f"webhook {hook.name} (failurePolicy Fail) calls Service {namespace}/{name}, which has {state}"),
        )
    url_note = ""
    if len(in_cluster) < len(closed):
        url_note = f" ({len(closed) - len(in_cluster)} more call a url: and cannot be judged from the API)"
    findings.raise_if_any(
        f"{len(findings)} of {len(in_cluster)} fail-closed webhooks have no ready backend, so every request they "
        f"match is rejected{url_note}; expected a ready endpoint, or failurePolicy Ignore"
    )


def _namespace_labels(cluster: ClusterView) -> dict[str, dict[str, str]]:
    def compute() -> dict[str, dict[str, str]]:
        labels: dict[str, dict[str, str]] = {}
        for ns in cluster.list("namespaces"):
            meta = ns.get("metadata") or {}
            name = str(meta.get("name", ""))
            labels[name] = {"kubernetes.io/metadata.name": name, **dict(meta.get("labels") or {})}
        return labels

    return cluster.memo("webhooks.namespace_labels", compute)


def _intercepts_restart(hook: Webhook) -> list[str]:
    """The namespaced resources a webhook's rules match that a backend needs to restart."""
    matched: set[str] = set()
    for rule in hook.rules():
        if rule.get("scope", "*") not in ("*", "Namespaced"):
            continue
        operations = set(rule.get("operations") or [])
        if not operations & {"*", "CREATE", "UPDATE"}:
            continue
        matched |= {str(r) for r in (rule.get("resources") or [])[:64]} & RESTART_RESOURCES
    return sorted(matched)


@check(
    "FC-HOOK-002",
    title="Fail-closed webhook intercepts kube-system or its own namespace",
    factor="recoverable",
    severity="high",
    reads=[*WEBHOOK_KINDS, "namespaces"],
    success="no fail-closed webhook intercepts kube-system or its own backend's namespace",
)
def test_webhook_does_not_intercept_its_own_recovery(cluster: ClusterView) -> None:
    """A fail-closed webhook matches pods (or what makes them) in kube-system or its own backend's namespace.

    What: for every webhook with ``failurePolicy: Fail`` (the v1 default),
    its rules are read for namespaced resources a backend needs to come
    back after a restart (``pods``, ``deployments``, ``replicasets``,
    ``daemonsets``, ``statefulsets``, ``services``, ``endpoints``,
    ``endpointslices``, ``serviceaccounts``, ``configmaps``, ``leases`` or
    ``*``) on CREATE or UPDATE. Its ``namespaceSelector`` is then evaluated,
    as the API server does, against the labels of ``kube-system`` and of the
    namespace of the webhook's own Service (with the automatic
    ``kubernetes.io/metadata.name`` label); a selector that still selects
    either fails. ``objectSelector`` is not credited (it rarely excludes a
    whole namespace). A ``url:`` webhook is judged on kube-system only: its
    backend's namespace cannot be seen. Counts toward *recoverable*: this
    is the self-deadlock that keeps a restarted cluster down.
    Why: after a full restart (power loss, etcd restore, all nodes
    replaced) the webhook's pods must be created before it can answer, but
    creating them goes through the webhook itself, which is down: nothing
    in its namespace, or in kube-system (CoreDNS, kube-proxy, the CNI),
    can start. The Kubernetes docs warn against exactly this; it recurs in
    Gatekeeper, Kyverno and Linkerd issue trackers.
    Fix: add a ``namespaceSelector`` that excludes them, e.g.
    ``matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn,
    values: [kube-system, <webhook namespace>]}]``, or use
    ``failurePolicy: Ignore``.
    References: https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/ ;
    https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#matching-requests-namespaceselector
    """
    closed = [h for h in _webhooks(cluster) if h.failure_policy == "Fail"]
    if not closed:
        skip("no fail-closed admission webhook")
    labels = _namespace_labels(cluster)
    findings = Findings()
    for hook in closed:
        resources = _intercepts_restart(hook)
        if not resources:
            continue
        namespaces = [_SYSTEM_NAMESPACE]
        if hook.service is not None and hook.service[0] and hook.service[0] != _SYSTEM_NAMESPACE:
            namespaces.append(hook.service[0])
        selector = hook.spec.get("namespaceSelector")
        caught = [
            ns for ns in namespaces if selector_matches(selector, labels.get(ns, {"kubernetes.io/metadata.name": ns}))
        ]
        if caught:
            whose = " and ".join(
                f"{ns} (its own backend's namespace)" if ns != _SYSTEM_NAMESPACE else ns for ns in caught
            )
            selector_text = "no namespaceSelector" if not selector else "a namespaceSelector that still selects them"
            findings.add(
                hook.ref,
                redact(f"webhook {hook.name} intercepts {', '.join(resources)} in {whose} with {selector_text}"),
            )
    findings.raise_if_any(
        f"{len(findings)} fail-closed webhooks can block their own recovery after a restart; expected a "
        "namespaceSelector excluding kube-system and the webhook's namespace, or failurePolicy Ignore"
    )


def _policy_of(name: str) -> Callable[[dict[str, WebhookPolicy]], str | None]:
    return lambda policies: policies[name].policy if name in policies else None


def _policy_drift(cluster: ClusterView, fleet: FleetView, here: str, cohort: str) -> tuple[Findings, list[str], int]:
    """Webhooks whose policy here is ``here`` while the cohort's standard for that webhook name is ``cohort``.

    Returns the findings, the undecided webhooks ("name: why"), and how many webhooks were compared.
    """
    fleet.standard(cluster, WEBHOOK_POLICIES, lambda _: True)  # alone, the reference itself, an unreadable reference
    mine = cluster.fact(WEBHOOK_POLICIES)
    findings = Findings()
    undecided: list[str] = []
    judged = [name for name in sorted(mine) if mine[name].policy == here]
    for name in judged:
        standard = fleet.compare(cluster, WEBHOOK_POLICIES, _policy_of(name))
        if not standard.decided:
            if standard.kind not in ("alone", "reference-unknown"):
                undecided.append(redact(f"{name}: {standard.source}"))
            continue
        if standard.expected == cohort:
            findings.add(
                mine[name].ref,
                redact(f"webhook {name} is failurePolicy {here} here, {cohort} by the standard ({standard.says})"),
            )
    return findings, undecided, len(judged)


@check(
    "FC-HOOK-003",
    title="Webhook fails closed here but open in the rest of its cohort",
    factor="managed",
    severity="high",
    scope="fleet",
    reads=list(WEBHOOK_KINDS),
    success="no webhook fails closed here while the cohort's standard for it is Ignore",
)
def test_webhook_failure_policy_matches_cohort_fail(cluster: ClusterView, fleet: FleetView) -> None:
    """A webhook is ``failurePolicy: Fail`` on this cluster and ``Ignore`` by its cohort's standard.

    What: each admission webhook of this cluster whose ``failurePolicy`` is
    ``Fail`` (the v1 default when unset) is looked up by its own name
    (``validation.gatekeeper.sh``) in the other clusters of the cohort. The
    standard for that webhook is the reference cluster's policy when one is
    named, else the policy a strict majority of the clusters that have the
    webhook hold; clusters without the webhook do not vote, and a webhook
    found on no other cluster is not judged. ``Ignore`` as the standard
    fails. Counts toward *managed*: the same webhook with a different
    policy on one cluster was changed there by hand (a debugging session,
    a chart value overridden once), which is drift.
    Why: a fail-closed webhook is a cluster-wide dependency: when its
    backend is down every matching request is rejected (FC-HOOK-001). The
    fleet decided this webhook may fail open; on this one cluster it does
    not, so the outage that the rest of the fleet shrugs off stops this
    cluster's deployments, and only here.
    Fix: set the webhook's ``failurePolicy`` from the same source as on the
    other clusters (the chart value or GitOps overlay), or, if Fail is the
    right choice, change it fleet-wide and make its backend highly available.
    References: https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/ ;
    https://kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy/
    """
    findings, undecided, judged = _policy_drift(cluster, fleet, "Fail", "Ignore")
    if not judged:
        skip("no fail-closed admission webhook on this cluster")
    not_judged = f"; not judged (no standard): {'; '.join(undecided[:5])}" if undecided else ""
    if not findings and undecided and len(undecided) == judged:
        skip(f"none of the {judged} fail-closed webhooks has a cohort standard{not_judged}")
    findings.raise_if_any(
        f"{len(findings)} of {judged} fail-closed webhooks fail open on the rest of cohort "
        f"{fleet.cohort_label(cluster)}; expected failurePolicy Ignore, as there{not_judged}"
    )


@check(
    "FC-HOOK-004",
    title="Webhook fails open here but closed in the rest of its cohort",
    factor="managed",
    severity="medium",
    scope="fleet",
    reads=list(WEBHOOK_KINDS),
    success="no webhook fails open here while the cohort's standard for it is Fail",
)
def test_webhook_failure_policy_matches_cohort_ignore(cluster: ClusterView, fleet: FleetView) -> None:
    """A webhook is ``failurePolicy: Ignore`` here and ``Fail`` by its cohort's standard (FC-HOOK-003 reversed).

    What: the same comparison as FC-HOOK-003, the other way round: each
    webhook of this cluster with ``failurePolicy: Ignore`` is looked up by
    name in the cohort, and a standard (reference cluster, else the strict
    majority of the clusters that have it) of ``Fail`` fails. Clusters
    without the webhook do not vote. Counts toward *managed*: a policy set
    differently on one cluster is hand-made drift.
    Why: this direction matters too, for a different reason: a validating
    policy webhook (Gatekeeper, Kyverno, an image-signature verifier) that
    fails open lets every request through while its backend is down or
    slow, so the policy the fleet enforces is silently not enforced on this
    cluster; a mutating webhook that fails open leaves pods without the
    sidecar or defaults the others get.
    Fix: set the webhook's ``failurePolicy`` from the same source as on the
    other clusters; if Ignore is intended here, waive the configuration
    (``objects: ValidatingWebhookConfiguration/<name>``) with the reason.
    References: https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/ ;
    https://open-policy-agent.github.io/gatekeeper/website/docs/failing-closed/
    """
    findings, undecided, judged = _policy_drift(cluster, fleet, "Ignore", "Fail")
    if not judged:
        skip("no fail-open admission webhook on this cluster")
    not_judged = f"; not judged (no standard): {'; '.join(undecided[:5])}" if undecided else ""
    if not findings and undecided and len(undecided) == judged:
        skip(f"none of the {judged} fail-open webhooks has a cohort standard{not_judged}")
    findings.raise_if_any(
        f"{len(findings)} of {judged} fail-open webhooks fail closed on the rest of cohort "
        f"{fleet.cohort_label(cluster)}; expected failurePolicy Fail, as there{not_judged}"
    )
