"""Observable from one place: metrics and logs leave the cluster for the fleet's central stores (FC-OBS-*).

Reading configurations (remote-write URLs, collector exporters, log-shipper
DaemonSets, node eligibility) lives in :mod:`fleetcheck.facts.telemetry`; these
checks judge what it finds.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from fleetcheck import ClusterView, check, fail, name_list, object_ref
from fleetcheck.errors import FleetcheckError
from fleetcheck.facts.telemetry import (
    LOG_SHIPPERS,
    METRICS_AGENTS,
    METRICS_KINDS,
    MetricsAgent,
    MetricsDestination,
    endpoint_matches,
    find_log_shippers,
    find_metrics_agents,
    metrics_destinations,
    nodes_for,
    rollout_problems,
)

_SHOWN = 6


def _listed(items: list[str]) -> str:
    return name_list(items, _SHOWN, sort=False, sep="; ")


def _sources(destinations: list[MetricsDestination]) -> list[str]:
    """The objects to fix, once each (a ConfigMap's key is dropped)."""
    return list(dict.fromkeys(d.source.split(" ", 1)[0] for d in destinations))


def _refuse_if_unread(refused: list[str]) -> None:
    """Nothing passed so far and a configuration was too big to read: undecided (``error``), not ``fail``."""
    if refused:
        raise FleetcheckError(f"could not read every metrics configuration: {_listed(refused)}")


_STORES = sorted({agent.store for agent in METRICS_AGENTS})


class MetricsStoreSettings(BaseModel):
    """Settings of FC-OBS-001."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agent_stores: list[str] | None = Field(
        default=None,
        description="the stores of provider and vendor metrics agents that count as the central store ("
        + ", ".join(_STORES)
        + "); unset: an agent counts exactly when the profile declares no standards.metrics_endpoints",
    )


def _metrics_agents(cluster: ClusterView) -> list[MetricsAgent]:
    """Provider and vendor agents shipping metrics to their own store (once per cluster per run)."""

    def find() -> list[MetricsAgent]:
        workloads = [("DaemonSet", d) for d in cluster.list("daemonsets")]
        workloads += [("Deployment", d) for d in cluster.list("deployments")]
        return find_metrics_agents(workloads)

    return cluster.memo("fleetcheck.facts.telemetry.metrics_agents", find)


def _agents_count(agents: list[MetricsAgent], settings: MetricsStoreSettings, declared: list[str]) -> bool:
    if settings.agent_stores is None:
        return bool(agents) and not declared
    return any(agent.signature.store in settings.agent_stores for agent in agents)


def _agents_seen(agents: list[MetricsAgent], settings: MetricsStoreSettings, declared: list[str]) -> str:
    """What was seen and why it does not count, for a failure message (empty when no agent was seen)."""
    if not agents:
        return ""
    seen = _listed([agent.describe() for agent in agents])
    if settings.agent_stores is None:
        why = (
            "provider agents count only when the profile declares no standards.metrics_endpoints; list their "
            "store in settings FC-OBS-001 agent_stores to count it"
        )
    else:
        listed = ", ".join(settings.agent_stores) or "none"
        why = f"settings FC-OBS-001 agent_stores lists {listed}"
    return f"metrics agents seen, not counted as the central store: {seen} ({why})"


@check(
    "FC-OBS-001",
    title="Metrics do not leave the cluster for the central store",
    factor="observable",
    severity="high",
    # DaemonSets and Deployments (metrics agents) are listed only when no configured destination decides
    reads=list(METRICS_KINDS),
    settings=MetricsStoreSettings,
    success="metrics are remote-written off the cluster (to the profile's central store when it declares one)",
)
def test_metrics_reach_central_store(cluster: ClusterView, settings: MetricsStoreSettings) -> None:
    """Metrics do not leave the cluster for the profile's central store.

    What: the metrics destinations configured in the cluster are collected:
    ``spec.remoteWrite[].url`` of Prometheus Operator ``Prometheus`` and
    ``PrometheusAgent`` (and VictoriaMetrics ``VMAgent``, Grafana Agent
    ``MetricsInstance``), the exporters of an OpenTelemetry Collector's
    ``metrics`` pipelines (CR ``spec.config`` or a ConfigMap), and
    ``remote_write`` in Prometheus, Grafana Agent and Alloy configuration
    ConfigMaps. With ``standards.metrics_endpoints`` declared (URL prefixes
    or globs, e.g. ``https://mimir.example.com/api/v1/push``), one
    destination must match. Without, any destination outside the cluster
    passes; URLs naming a Service (``*.svc``), a bare name or loopback stay
    inside and do not count. Fails when none is found. URLs taken from the
    environment or a Secret cannot be judged and are named as such.
    Provider and vendor agents that ship to a store of their own, with no
    URL to read, are named when seen: Azure Monitor's ``ama-metrics``, GKE's
    ``gke-metrics-agent`` and Managed Prometheus ``collector``
    (``gmp-system``), the CloudWatch agent, the Datadog and Elastic agents.
    They count as the central store when the setting ``agent_stores`` lists
    their store (``azure-monitor``, ``google-cloud-monitoring``,
    ``amazon-cloudwatch``, ``datadog``, ``elastic``); left unset, they count
    exactly when the profile declares no ``metrics_endpoints``. A failure
    then names the agents seen and why they did not count.
    Why: metrics that stay in the cluster die with it: the dashboards and
    alerts the on-call engineer needs during an outage are on the cluster
    that is down, and a fleet cannot be compared or capacity-planned from
    one place when each cluster keeps its own Prometheus.
    Fix: add a ``remoteWrite`` to the cluster's Prometheus (or run a
    Prometheus agent or OpenTelemetry Collector) pointing at the fleet's
    central store, with the cluster name as an external label, from the
    platform's GitOps repository; declare the store in the profile
    (``standards: {metrics_endpoints: [https://...]}``) so a wrong URL is
    caught too. A configuration over the parse budget (larger than 4 MiB, or
    expanding to more than 100,000 YAML nodes through aliases) is not read:
    unless another destination already passes, the check gives ``error``
    naming it and the budget, since the unread text may hold the destination.
    References: https://prometheus.io/docs/prometheus/latest/configuration/configuration/#remote_write ;
    https://prometheus-operator.dev/docs/api-reference/api/#monitoring.coreos.com/v1.RemoteWriteSpec ;
    https://opentelemetry.io/docs/collector/configuration/#exporters ;
    https://grafana.com/docs/alloy/latest/reference/components/prometheus/prometheus.remote_write/
    """
    scan = cluster.memo("fleetcheck.facts.telemetry.metrics", lambda: metrics_destinations(cluster.list))
    destinations = scan.destinations
    unresolved = f"; could not judge: {_listed(scan.unresolved)}" if scan.unresolved else ""
    found = _listed([d.describe() for d in destinations]) if destinations else ""
    declared = cluster.profile.standards.metrics_endpoints
    if declared and any(endpoint_matches(d.url, p) for d in destinations if d.url for p in declared):
        return
    if not declared and any(not d.in_cluster for d in destinations):
        return
    agents = _metrics_agents(cluster)
    if _agents_count(agents, settings, declared):
        return
    _refuse_if_unread(scan.refused)
    seen = _agents_seen(agents, settings, declared)
    agent_refs = [agent.ref for agent in agents]
    if declared:
        expected = ", ".join(declared)
        if not destinations:
            what = (
                seen
                if agents
                else "no metrics destination found (no Prometheus/PrometheusAgent remoteWrite, OpenTelemetry "
                "Collector metrics exporter, remote_write in a ConfigMap, or provider metrics agent)"
            )
            fail(
                f"{what}{unresolved}; expected one sending to the central store {expected} "
                f"(standards.metrics_endpoints of profile {cluster.profile.name})",
                agent_refs,
            )
        also = f"; {seen}" if seen else ""
        fail(
            f"metrics are not sent to the central store: none of the {len(destinations)} destinations matches "
            f"{expected} (standards.metrics_endpoints of profile {cluster.profile.name}); found: "
            f"{found}{also}{unresolved}",
            [*_sources(destinations), *agent_refs],
        )
    also = f"; {seen}" if seen else ""
    if destinations:
        fail(
            f"metrics stay in the cluster: every destination is a Service or loopback address: "
            f"{found}{also}{unresolved}; expected a remote-write or exporter URL outside the cluster (declare the "
            "central store in standards.metrics_endpoints)",
            [*_sources(destinations), *agent_refs],
        )
    if agents:
        fail(f"{seen}{unresolved}; expected metrics remote-written off the cluster", agent_refs)
    fail(
        "no metrics destination found: no Prometheus/PrometheusAgent remoteWrite, OpenTelemetry Collector metrics "
        f"exporter, remote_write in a ConfigMap, or provider metrics agent (looked for "
        f"{', '.join(sorted({a.product for a in METRICS_AGENTS}))}){unresolved}; expected metrics remote-written "
        "off the cluster"
    )


@check(
    "FC-OBS-002",
    title="No log-shipping DaemonSet fully rolled out on every node",
    factor="observable",
    severity="medium",
    reads=["daemonsets", "nodes"],
    success="a log-shipping DaemonSet is fully rolled out and ready on every schedulable node",
)
def test_log_shipper_on_every_node(cluster: ClusterView) -> None:
    """No log-shipping DaemonSet is fully rolled out and ready on every node.

    What: DaemonSets in any namespace are recognised as log shippers by name
    or image (fluent-bit, fluentd, Vector, Promtail, the OpenTelemetry
    Collector, Grafana Agent, Alloy, Filebeat, Elastic Agent, the Datadog
    agent with ``DD_LOGS_ENABLED=true``, and the providers' own: Azure
    Monitor's ``ama-logs``, GKE's ``fluentbit-gke``, ``aws-for-fluent-bit``
    and CloudWatch Container Insights' ``fluent-bit``). A variant scheduled
    on no node by design (GKE's ``-scaling-*`` and Windows siblings, 0
    desired) is not reported as not rolled out while a sibling of the same
    product runs. At least one must be fully
    rolled out: the controller has observed its current generation,
    ``status.desiredNumberScheduled == numberReady == updatedNumberScheduled``
    (the last for ``RollingUpdate`` only), and it is scheduled on at least
    as many nodes as accept it: Ready, not cordoned, with no ``NoSchedule``
    or ``NoExecute`` taint its tolerations (plus those the DaemonSet
    controller adds) do not tolerate. More may be scheduled than that,
    since DaemonSets also run on cordoned nodes by design.
    Why: logs stay on the node that wrote them until it is recycled: the
    node a crash happened on is exactly the one whose shipper was not
    running, and the evidence is gone with the node. A stuck rollout (new
    version crash-looping), a taint added to a node pool that the shipper
    does not tolerate, or a nodeSelector that leaves out the control plane
    all open such gaps silently.
    Fix: look at the shipper's pods that are not ready (``kubectl -n NS
    get pods -l ... -o wide``), roll back a crashing version, and add
    tolerations for the taints of every node pool (``operator: Exists``
    tolerates all); ship logs from a DaemonSet, not a Deployment, so every
    node is covered.
    References: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/ ;
    https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/ ;
    https://kubernetes.io/docs/concepts/cluster-administration/logging/#cluster-level-logging-architectures
    """
    shippers = find_log_shippers(cluster.list("daemonsets"))
    if not shippers:
        products = ", ".join(s.product for s in LOG_SHIPPERS)
        names = sorted(object_ref(ds, "DaemonSet") for ds in cluster.list("daemonsets"))
        fail(
            f"no log-shipping DaemonSet found (looked for {products} by DaemonSet name and image) among the "
            f"{len(names)} DaemonSets ({_listed(names) or 'none'}); expected one on every node"
        )
    nodes = cluster.list("nodes")
    reports: list[str] = []
    running = {product for product, ds in shippers if int((ds.get("status") or {}).get("desiredNumberScheduled") or 0)}
    idle = [
        object_ref(ds, "DaemonSet")
        for product, ds in shippers
        if product in running and not int((ds.get("status") or {}).get("desiredNumberScheduled") or 0)
    ]
    shippers = [
        (product, ds)
        for product, ds in shippers
        if product not in running or int((ds.get("status") or {}).get("desiredNumberScheduled") or 0)
    ]
    for product, daemonset in shippers:
        eligible = nodes_for(daemonset, nodes)
        problems = rollout_problems(daemonset, len(eligible.names))
        if not problems:
            return
        left_out = ""
        if eligible.excluded:
            left_out = " (nodes not counted: " + _listed([f"{n} {why}" for n, why in eligible.excluded.items()]) + ")"
        accepting = f"{len(eligible.names)} of {len(nodes)} nodes accept it"
        name = object_ref(daemonset, "DaemonSet")
        reports.append(f"{name} ({product}, {accepting}): {', '.join(problems)}{left_out}")
    idle_text = f" (0-desired variants not counted: {_listed(idle)})" if idle else ""
    fail(
        f"no log shipper is fully rolled out on every schedulable Ready node: {'; '.join(reports)}{idle_text}; "
        "expected desiredNumberScheduled == numberReady == updatedNumberScheduled, covering every node that accepts it",
        [object_ref(ds, "DaemonSet") for _, ds in shippers],
    )
