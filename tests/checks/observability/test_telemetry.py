"""The configuration readers behind FC-OBS-001/002: URL matching, Alloy blocks, collectors, taints."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from fleetcheck.facts.telemetry import (
    endpoint_matches,
    find_log_shippers,
    is_in_cluster,
    metrics_destinations,
    nodes_for,
    river_destinations,
    rollout_problems,
    tolerates,
)


@pytest.mark.parametrize(
    ("url", "pattern", "expected"),
    [
        ("https://mimir.example.com/api/v1/push", "https://mimir.example.com", True),
        ("https://MIMIR.example.com/api/v1/push", "https://mimir.example.com/", True),
        ("https://mimir.example.com.evil.io/api/v1/push", "https://mimir.example.com", False),
        ("https://mimir.example.com:443/api/v1/push", "https://mimir.example.com", True),
        ("https://mimir-eu.example.com/api/v1/push", "https://mimir-*.example.com", True),
        ("https://mimir-eu.example.com/api/v1/push", "https://*.example.com/api/v1/push", True),
        ("otlp.example.com:4317", "https://otlp.example.com", True),
        ("http://mimir.example.com/api/v1/push", "https://mimir.example.com", False),
    ],
)
def test_endpoint_matches_prefixes_at_a_boundary_and_globs(url: str, pattern: str, expected: bool) -> None:
    assert endpoint_matches(url, pattern) is expected


@pytest.mark.parametrize(
    ("url", "inside"),
    [
        ("http://thanos-receive.monitoring.svc:19291/api/v1/receive", True),
        ("http://mimir-distributor.mimir.svc.cluster.local/api/v1/push", True),
        ("http://victoria:8428/api/v1/write", True),
        ("http://127.0.0.1:9090/api/v1/write", True),
        ("https://mimir.example.com/api/v1/push", False),
        ("https://svc.example.com/push", False),
        ("otlp.example.com:4317", False),
    ],
)
def test_in_cluster_destinations(url: str, inside: bool) -> None:
    assert is_in_cluster(url) is inside


def test_alloy_blocks_env_urls_and_metrics_wiring() -> None:
    text = """
    prometheus.remote_write "default" {
      endpoint { url = env("REMOTE_WRITE_URL") }
      endpoint {
        url = "https://mimir.example.com/api/v1/push"   // "url = fake"
      }
    }
    otelcol.exporter.otlphttp "traces_only" {
      client { endpoint = "https://tempo.example.com" }
    }
    otelcol.exporter.otlp "metrics" {
      client { endpoint = "otlp.example.com:4317" }
    }
    otelcol.processor.batch "b" {
      output {
        metrics = [otelcol.exporter.otlp.metrics.input]
        traces  = [otelcol.exporter.otlphttp.traces_only.input]
      }
    }
    """
    assert river_destinations(text) == [
        ('prometheus.remote_write "default"', 'env("REMOTE_WRITE_URL")'),
        ('prometheus.remote_write "default"', "https://mimir.example.com/api/v1/push"),
        ('otelcol.exporter.otlp "metrics"', "otlp.example.com:4317"),
    ]


def test_collector_string_config_agent_static_mode_and_unresolved_urls(k8s: ModuleType) -> None:
    collector = k8s.otel_collector(
        "agent",
        "otel",
        "exporters:\n  prometheusremotewrite:\n    endpoint: ${env:MIMIR_URL}\n  googlemanagedprometheus: {}\n"
        "service:\n  pipelines:\n    metrics/gmp:\n      receivers: [prometheus]\n"
        "      exporters: [prometheusremotewrite, googlemanagedprometheus]\n",
    )
    agent = k8s.configmap(
        "grafana-agent",
        "monitoring",
        {
            "agent.yaml": "metrics:\n  wal_directory: /tmp/wal\n  configs:\n    - name: default\n"
            "      remote_write:\n        - url: https://mimir.example.com/api/v1/push\n"
        },
    )
    templated = k8s.configmap("broken", "monitoring", {"prometheus.yml": "remote_write:\n  - url: {{ .Values.url }\n"})
    agent_cr = k8s.prometheus("agent", "monitoring", ["https://vm.example.com/api/v1/write"], agent=True)
    kinds: dict[str, list[dict[str, Any]]] = {
        "opentelemetry.io/v1beta1 opentelemetrycollectors": [collector],
        "configmaps": [agent, templated],
        "monitoring.coreos.com/v1alpha1 prometheusagents": [agent_cr],
    }

    scan = metrics_destinations(lambda kind: kinds.get(kind, []))

    assert [d.describe() for d in scan.destinations] == [
        "monitoring/PrometheusAgent/agent remoteWrite -> https://vm.example.com/api/v1/write",
        "otel/OpenTelemetryCollector/agent exporter googlemanagedprometheus -> (the exporter's built-in endpoint)",
        "monitoring/ConfigMap/grafana-agent (agent.yaml) remote_write -> https://mimir.example.com/api/v1/push",
    ]
    assert scan.unresolved == [
        "otel/OpenTelemetryCollector/agent exporter prometheusremotewrite: URL '${env:MIMIR_URL}' comes from the "
        "environment and cannot be judged",
        "monitoring/ConfigMap/broken (prometheus.yml): has a remote_write key but is not valid YAML (a template?)",
    ]


def test_tolerations_and_eligible_nodes(k8s: ModuleType) -> None:
    gpu = {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}
    assert tolerates({"operator": "Exists"}, gpu)
    assert tolerates({"key": "nvidia.com/gpu", "operator": "Exists"}, gpu)
    assert tolerates({"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}, gpu)
    assert not tolerates({"key": "nvidia.com/gpu", "value": "absent"}, gpu)
    assert not tolerates({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoExecute"}, gpu)

    nodes = [
        k8s.node("worker-1"),
        k8s.node("gpu-1", taints=[gpu]),
        k8s.node("spot-1", taints=[{"key": "spot", "value": "true", "effect": "PreferNoSchedule"}]),
        k8s.node("worker-2", ready=False),
        k8s.node("worker-3", cordoned=True),
    ]
    shipper = k8s.daemonset("vector", "logging", "timberio/vector:0.43.0-distroless-libc", desired=3)
    eligible = nodes_for(shipper, nodes)
    assert eligible.names == ["worker-1", "spot-1"]
    assert eligible.excluded == {
        "gpu-1": "taint nvidia.com/gpu=present:NoSchedule not tolerated",
        "worker-2": "not Ready",
        "worker-3": "cordoned",
    }
    assert rollout_problems(shipper, len(eligible.names)) == []
    assert [product for product, _ in find_log_shippers([shipper])] == ["vector"]


def test_unobserved_generation_and_on_delete_strategy(k8s: ModuleType) -> None:
    stale = k8s.daemonset("fluentd", "logging", "fluent/fluentd-kubernetes-daemonset:v1.17", generation=5, observed=4)
    assert rollout_problems(stale, 3) == ["the controller has not observed generation 5 yet (status is of 4)"]
    on_delete = k8s.daemonset("fluentd", "logging", "fluent/fluentd-kubernetes-daemonset:v1.17", updated=1)
    on_delete["spec"]["updateStrategy"] = {"type": "OnDelete"}
    assert rollout_problems(on_delete, 3) == []
    idle = k8s.daemonset("fluent-bit", "logging", "fluent/fluent-bit:3.2.2", desired=0)
    assert rollout_problems(idle, 0) == ["scheduled on no node (desiredNumberScheduled is 0)"]
