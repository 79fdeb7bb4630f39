"""Aggregated APIs that are not Available break discovery for every client (FC-APISVC-*)."""

from __future__ import annotations

from fleetcheck import ClusterView, Findings, check, object_ref, skip
from fleetcheck.redact import redact

APISERVICES = "apiregistration.k8s.io/v1 apiservices"


@check(
    "FC-APISVC-001",
    title="APIService not Available",
    factor="managed",
    severity="high",
    reads=[APISERVICES],
    success="every APIService is Available",
)
def test_apiservices_available(cluster: ClusterView) -> None:
    """An ``apiregistration.k8s.io/v1`` APIService's ``Available`` condition is not ``True``.

    What: every APIService (the built-in ``Local`` ones and the aggregated
    ones backed by a Service, e.g. ``v1beta1.metrics.k8s.io``) needs the
    condition ``Available=True``. A missing condition or any other status
    fails, naming the APIService, its Service and the condition's reason
    and message. Counts toward *managed*: the tools that change the cluster
    (kubectl apply, Helm, Argo CD, Flux) start with discovery, and a broken
    group makes each of them fail or skip work.
    Why: while one aggregated API is unavailable, discovery is partial:
    ``kubectl`` prints "unable to retrieve the complete list of server
    APIs", the namespace controller cannot finish deleting namespaces (they
    hang in Terminating), the garbage collector stops collecting, and
    HorizontalPodAutoscalers lose metrics.k8s.io. A removed metrics-server
    or prometheus-adapter that left its APIService behind is the classic.
    Fix: repair the backing Service (its pods, endpoints and certificate),
    or delete the APIService of an add-on that was removed.
    References: https://kubernetes.io/docs/concepts/extend-kubernetes/api-extension/apiserver-aggregation/ ;
    https://kubernetes.io/docs/tasks/extend-kubernetes/configure-aggregation-layer/
    """
    services = cluster.list(APISERVICES)
    if not services:
        skip("no APIServices listed")
    findings = Findings()
    for service in services:
        conditions = (service.get("status") or {}).get("conditions") or []
        available = next((c for c in conditions[:32] if isinstance(c, dict) and c.get("type") == "Available"), None)
        if available is not None and available.get("status") == "True":
            continue
        backend = (service.get("spec") or {}).get("service") or {}
        target = f"Service {backend.get('namespace', '?')}/{backend.get('name', '?')}" if backend else "Local"
        if available is None:
            state = "no Available condition"
        else:
            state = (
                f"Available={available.get('status')} ({available.get('reason', '')}: "
                f"{str(available.get('message', ''))[:300]})"
            )
        findings.add(object_ref(service, "APIService"), redact(f"{target}: {state}"))
    findings.raise_if_any(
        f"{len(findings)} of {len(services)} APIServices are not Available, so discovery is incomplete for every "
        "client; expected Available=True"
    )
