"""FC-OBS-001 (metrics leave the cluster) and FC-OBS-002 (a log shipper on every node) on real-shaped clusters."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

METRICS, LOGS = "FC-OBS-001", "FC-OBS-002"
MODULE = "test_observability.py"
MIMIR = "https://mimir.example.com/api/v1/push"
CONTROL_PLANE_TAINT = {"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"}

ALLOY_CONFIG = """\
discovery.kubernetes "pods" {
  role = "pod"
}

prometheus.scrape "pods" {
  targets    = discovery.kubernetes.pods.targets
  forward_to = [prometheus.remote_write.central.receiver]
}

// the fleet's central store; "url = ..." in this comment is not a destination
prometheus.remote_write "central" {
  endpoint {
    url = "https://mimir.example.com/api/v1/push"
    basic_auth {
      username = "fleet"
      password = sys.env("MIMIR_PASSWORD")
    }
  }
  external_labels = { cluster = "obs-alloy" }
}

loki.write "central" {
  endpoint {
    url = "https://loki.example.com/loki/api/v1/push"
  }
}
"""

PROMETHEUS_YML = """\
global:
  scrape_interval: 30s
  external_labels:
    cluster: obs-local
scrape_configs:
  - job_name: kubernetes-pods
    kubernetes_sd_configs:
      - role: pod
remote_write:
  - url: http://thanos-receive.monitoring.svc:19291/api/v1/receive
"""


def _nodes(k8s: ModuleType, cluster: str, workers: int = 2, *, cordoned: int = 0) -> list[dict[str, Any]]:
    nodes = [k8s.node(f"{cluster}-cp-1", cluster=cluster, control_plane=True, taints=[CONTROL_PLANE_TAINT])]
    nodes += [k8s.node(f"{cluster}-worker-{i}", cluster=cluster) for i in range(1, workers + 1)]
    nodes += [k8s.node(f"{cluster}-worker-c{i}", cluster=cluster, cordoned=True) for i in range(1, cordoned + 1)]
    return nodes


def _kube_proxy(k8s: ModuleType, cluster: str, desired: int) -> dict[str, Any]:
    return k8s.daemonset(
        "kube-proxy",
        "kube-system",
        "registry.k8s.io/kube-proxy:v1.31.4",
        cluster=cluster,
        desired=desired,
        tolerations=[{"operator": "Exists"}],
    )


def _prometheus_cluster(k8s: ModuleType) -> list[dict[str, Any]]:
    c = "obs-prom"
    return [
        k8s.prometheus("k8s", "monitoring", [MIMIR], cluster=c),
        *_nodes(k8s, c),
        _kube_proxy(k8s, c, 3),
        k8s.daemonset(
            "fluent-bit",
            "logging",
            "cr.fluentbit.io/fluent/fluent-bit:3.2.2",
            cluster=c,
            desired=3,
            tolerations=[{"operator": "Exists"}],
        ),
    ]


def _otel_cluster(k8s: ModuleType) -> list[dict[str, Any]]:
    c = "obs-otel"
    config = {
        "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "0.0.0.0:4317"}}}, "prometheus": {"config": {}}},
        "processors": {"batch": {}},
        "exporters": {
            "debug": {"verbosity": "basic"},
            "otlphttp/central": {"endpoint": "https://otlp.example.com:4318"},
            "otlp/jaeger": {"endpoint": "jaeger-collector.tracing.svc:4317", "tls": {"insecure": True}},
        },
        "service": {
            "pipelines": {
                "metrics": {
                    "receivers": ["prometheus"],
                    "processors": ["batch"],
                    "exporters": ["otlphttp/central", "debug"],
                },
                "traces": {"receivers": ["otlp"], "processors": ["batch"], "exporters": ["otlp/jaeger"]},
            }
        },
    }
    return [
        k8s.otel_collector("metrics", "observability", config, cluster=c),
        *_nodes(k8s, c),
        k8s.daemonset(
            "fluent-bit",
            "logging",
            "cr.fluentbit.io/fluent/fluent-bit:3.2.3",
            cluster=c,
            desired=3,
            ready=2,
            updated=1,
            tolerations=[{"operator": "Exists"}],
        ),
    ]


def _alloy_cluster(k8s: ModuleType) -> list[dict[str, Any]]:
    c = "obs-alloy"
    return [
        k8s.configmap(
            "alloy", "monitoring", {"config.alloy": ALLOY_CONFIG}, cluster=c, labels={"app.kubernetes.io/name": "alloy"}
        ),
        *_nodes(k8s, c, workers=3, cordoned=1),
        # no tolerations: not on the control plane; DaemonSets run on cordoned nodes (4 = 3 workers + 1 cordoned)
        k8s.daemonset("alloy", "monitoring", "docker.io/grafana/alloy:v1.5.0", cluster=c, desired=4),
    ]


def _local_cluster(k8s: ModuleType) -> list[dict[str, Any]]:
    c = "obs-local"
    return [
        k8s.configmap("prometheus-server", "monitoring", {"prometheus.yml": PROMETHEUS_YML, "rules": "{}"}, cluster=c),
        *_nodes(k8s, c, workers=3),
        k8s.daemonset(
            "promtail",
            "logging",
            "docker.io/grafana/promtail:3.3.0",
            cluster=c,
            desired=2,
            node_selector={"node-pool": "apps"},
        ),
    ]


def _bare_cluster(k8s: ModuleType) -> list[dict[str, Any]]:
    c = "obs-none"
    return [
        *_nodes(k8s, c),
        _kube_proxy(k8s, c, 3),
        k8s.daemonset(
            "cilium",
            "kube-system",
            "quay.io/cilium/cilium:v1.16.3",
            cluster=c,
            desired=3,
            tolerations=[{"operator": "Exists"}],
        ),
        k8s.configmap("kube-root-ca.crt", "default", {"ca.crt": "-----BEGIN CERTIFICATE-----\n..."}, cluster=c),
    ]


@pytest.fixture
def snapshots(k8s: ModuleType, tmp_path: Path) -> list[Path]:
    builders = {
        "obs-prom": _prometheus_cluster,
        "obs-otel": _otel_cluster,
        "obs-alloy": _alloy_cluster,
        "obs-local": _local_cluster,
        "obs-none": _bare_cluster,
    }
    return [k8s.write_snapshot(tmp_path / "fleet", name, build(k8s)) for name, build in builders.items()]


def test_without_declared_endpoints_any_remote_destination_passes(
    pytester: pytest.Pytester, k8s: ModuleType, snapshots: list[Path]
) -> None:
    results = k8s.run_checks(pytester, MODULE, snapshots)

    for cluster in ("obs-prom", "obs-otel", "obs-alloy"):
        assert results.outcome(METRICS, cluster) == "pass", results.message(METRICS, cluster)
    assert results.outcome(METRICS, "obs-local") == "fail"
    assert results.message(METRICS, "obs-local").startswith(
        "metrics stay in the cluster: every destination is a Service or loopback address: "
        "monitoring/ConfigMap/prometheus-server (prometheus.yml) remote_write -> "
        "http://thanos-receive.monitoring.svc:19291/api/v1/receive"
    )
    assert results.objects(METRICS, "obs-local") == ["monitoring/ConfigMap/prometheus-server"]
    assert results.outcome(METRICS, "obs-none") == "fail"
    assert results.message(METRICS, "obs-none").startswith("no metrics destination found")
    assert results.objects(METRICS, "obs-none") == []

    # logs
    assert results.outcome(LOGS, "obs-prom") == "pass", results.message(LOGS, "obs-prom")
    assert results.outcome(LOGS, "obs-alloy") == "pass", results.message(LOGS, "obs-alloy")
    assert results.outcome(LOGS, "obs-otel") == "fail"
    assert results.message(LOGS, "obs-otel").startswith(
        "no log shipper is fully rolled out on every schedulable Ready node: logging/DaemonSet/fluent-bit "
        "(fluent-bit, 3 of 3 nodes accept it): ready on 2 of 3 scheduled nodes, 1 of 3 pods run the current "
        "template (rollout incomplete)"
    )
    assert results.objects(LOGS, "obs-otel") == ["logging/DaemonSet/fluent-bit"]
    assert results.outcome(LOGS, "obs-local") == "fail"
    assert (
        "logging/DaemonSet/promtail (promtail, 3 of 4 nodes accept it): scheduled on 2 nodes but 3 schedulable "
        "Ready nodes accept it (its nodeSelector node-pool=apps leaves nodes out) (nodes not counted: "
        "obs-local-cp-1 taint node-role.kubernetes.io/control-plane:NoSchedule not tolerated)"
    ) in results.message(LOGS, "obs-local")
    assert results.outcome(LOGS, "obs-none") == "fail"
    assert results.message(LOGS, "obs-none").startswith(
        "no log-shipping DaemonSet found (looked for fluent-bit, fluentd, vector, promtail, opentelemetry-collector, "
        "grafana-agent, alloy, filebeat, elastic-agent, datadog-agent (logs), ama-logs (Azure Monitor Container "
        "Insights, fluent-bit), fluentbit-gke (GKE Cloud Logging, fluent-bit), aws-for-fluent-bit (fluent-bit) by "
        "DaemonSet name and image) among the 2 DaemonSets "
        "(kube-system/DaemonSet/cilium; kube-system/DaemonSet/kube-proxy)"
    )


def test_declared_central_store_must_be_the_destination(
    pytester: pytest.Pytester, k8s: ModuleType, snapshots: list[Path], tmp_path: Path
) -> None:
    profile = k8s.write_profile(tmp_path, "central", standards={"metrics_endpoints": ["https://mimir.example.com"]})

    results = k8s.run_checks(
        pytester, MODULE, [snapshots[0], snapshots[1], snapshots[2], snapshots[4]], profile=profile
    )

    assert results.outcome(METRICS, "obs-prom") == "pass"
    assert results.outcome(METRICS, "obs-alloy") == "pass"
    assert results.outcome(METRICS, "obs-otel") == "fail"
    assert results.message(METRICS, "obs-otel") == (
        "metrics are not sent to the central store: none of the 1 destinations matches https://mimir.example.com "
        "(standards.metrics_endpoints of profile central); found: observability/OpenTelemetryCollector/metrics "
        "exporter otlphttp/central -> https://otlp.example.com:4318"
    )
    assert results.objects(METRICS, "obs-otel") == ["observability/OpenTelemetryCollector/metrics"]
    assert results.outcome(METRICS, "obs-none") == "fail"
    assert "expected one sending to the central store https://mimir.example.com" in results.message(METRICS, "obs-none")
