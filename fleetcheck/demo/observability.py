"""Shipping logs and metrics off the cluster: fluent-bit in ``logging``, Prometheus Operator in ``monitoring``.

FC-OBS-001 looks for a Prometheus ``remoteWrite`` to the central store,
FC-OBS-002 for a log-shipping DaemonSet ready on every node; the OBS plants
remove these or leave the DaemonSet's rollout stuck.
"""

from __future__ import annotations

from fleetcheck.demo.build import DAY, ClusterBuild, Obj
from fleetcheck.demo.controllers import add_daemonset, add_deployment, add_statefulset, gitops_marks
from fleetcheck.demo.crds import add_crds
from fleetcheck.demo.pods import container
from fleetcheck.demo.storage import REPLICATED_STORAGE_CLASSES, add_claim, claim_template

__all__ = ["FLUENT_BIT_VERSION", "PROMETHEUS_VERSION", "add_logging", "add_monitoring"]

FLUENT_BIT_VERSION = "3.2.2"
PROMETHEUS_VERSION = "v3.0.1"
OPERATOR_VERSION = "v0.79.2"

_MONITORING_KINDS = [
    ("Alertmanager", "alertmanagers"),
    ("AlertmanagerConfig", "alertmanagerconfigs"),
    ("PodMonitor", "podmonitors"),
    ("Probe", "probes"),
    ("Prometheus", "prometheuses"),
    ("PrometheusAgent", "prometheusagents"),
    ("PrometheusRule", "prometheusrules"),
    ("ScrapeConfig", "scrapeconfigs"),
    ("ServiceMonitor", "servicemonitors"),
    ("ThanosRuler", "thanosrulers"),
]


def add_logging(build: ClusterBuild) -> None:
    """fluent-bit on every node, tailing container logs to the central log store."""
    plan = build.plan
    if not plan.log_shipper:
        return
    config = (
        "[SERVICE]\n    Flush         1\n    Log_Level     info\n    Parsers_File  parsers.conf\n"
        "    HTTP_Server   On\n    HTTP_Port     2020\n\n"
        "[INPUT]\n    Name              tail\n    Path              /var/log/containers/*.log\n"
        "    multiline.parser  docker, cri\n    Tag               kube.*\n    Mem_Buf_Limit     50MB\n\n"
        "[FILTER]\n    Name      kubernetes\n    Match     kube.*\n    Merge_Log On\n\n"
        f"[OUTPUT]\n    Name        loki\n    Match       *\n    Host        {plan.logs_host}\n"
        "    Port        443\n    tls         On\n    tls.verify  On\n"
        f"    Labels      cluster={plan.name}, region={plan.region}, job=fluent-bit\n"
    )
    build.add(
        {
            "apiVersion": "v1",
            "data": {"fluent-bit.conf": config, "parsers.conf": "[PARSER]\n    Name cri\n    Format regex\n"},
            "kind": "ConfigMap",
            "metadata": build.metadata(
                "fluent-bit",
                "logging",
                age=build.rng.uniform(30, 300) * DAY,
                labels={"app.kubernetes.io/name": "fluent-bit"},
            ),
        }
    )
    image = f"{plan.registry}/fluent/fluent-bit:{FLUENT_BIT_VERSION}"
    add_daemonset(
        build,
        name="fluent-bit",
        namespace="logging",
        labels={"app.kubernetes.io/instance": "fluent-bit", "app.kubernetes.io/name": "fluent-bit"},
        pod_spec={
            "containers": [
                container(
                    "fluent-bit",
                    image,
                    ports=[{"containerPort": 2020, "name": "http", "protocol": "TCP"}],
                    requests={"cpu": "50m", "memory": "64Mi"},
                    limits={"memory": "256Mi"},
                    mounts=[
                        {
                            "mountPath": "/fluent-bit/etc/fluent-bit.conf",
                            "name": "config",
                            "subPath": "fluent-bit.conf",
                        },
                        {"mountPath": "/var/log", "name": "varlog"},
                        {"mountPath": "/var/lib/containerd", "name": "varlibcontainers", "readOnly": True},
                    ],
                    probe_port="http",
                    probe_path="/api/v1/health",
                )
            ],
            "priorityClassName": "system-node-critical",
            "serviceAccountName": "fluent-bit",
            "tolerations": [{"operator": "Exists"}],
            "volumes": [
                {"configMap": {"defaultMode": 420, "name": "fluent-bit"}, "name": "config"},
                {"hostPath": {"path": "/var/log", "type": ""}, "name": "varlog"},
                {"hostPath": {"path": "/var/lib/containerd", "type": ""}, "name": "varlibcontainers"},
            ],
        },
        app="platform-logging",
        crashing=plan.log_shipper_crashing,
        crash_image=f"{plan.registry}/fluent/fluent-bit:3.2.3",
    )


def add_monitoring(build: ClusterBuild) -> None:
    """Prometheus Operator and a ``Prometheus`` that remote-writes to the fleet's central store."""
    plan = build.plan
    if not plan.prometheus:
        return
    add_crds(
        build, "monitoring.coreos.com", _MONITORING_KINDS, labels={"app.kubernetes.io/part-of": "prometheus-operator"}
    )
    build.declare("prometheuses.monitoring.coreos.com")
    add_deployment(
        build,
        name="prometheus-operator",
        namespace="monitoring",
        labels={"app.kubernetes.io/component": "controller", "app.kubernetes.io/name": "prometheus-operator"},
        pod_spec={
            "containers": [
                container(
                    "prometheus-operator",
                    f"{plan.registry}/prometheus-operator/prometheus-operator:{OPERATOR_VERSION}",
                    args=[
                        "--kubelet-service=kube-system/kubelet",
                        f"--prometheus-config-reloader={plan.registry}/prometheus-operator/prometheus-config-reloader:{OPERATOR_VERSION}",
                    ],
                    ports=[{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
                    requests={"cpu": "100m", "memory": "128Mi"},
                    limits={"memory": "256Mi"},
                )
            ],
            "serviceAccountName": "prometheus-operator",
        },
        replicas=1,
        app="platform-monitoring",
    )
    replicas = 2 if plan.nodes >= 10 else 1
    track_labels, track_annotations = gitops_marks(
        "platform-monitoring", "monitoring.coreos.com", "Prometheus", "monitoring", "k8s"
    )
    storage: Obj = {}
    if plan.persistent_volumes:
        storage = {"volumeClaimTemplate": claim_template("prometheus-k8s-db", REPLICATED_STORAGE_CLASSES[0], "100Gi")}
    age = build.rng.uniform(60, 300) * DAY
    prometheus = build.add(
        {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "Prometheus",
            "metadata": build.metadata(
                "k8s",
                "monitoring",
                age=age,
                labels={"app.kubernetes.io/name": "prometheus", **track_labels},
                annotations=track_annotations,
                generation=build.rng.randint(2, 12),
            ),
            "spec": {
                "evaluationInterval": "30s",
                "externalLabels": {"cluster": plan.name, "region": plan.region},
                "image": f"{plan.registry}/prometheus/prometheus:{PROMETHEUS_VERSION}",
                "podMonitorSelector": {},
                "remoteWrite": [
                    {
                        "queueConfig": {"capacity": 10000, "maxSamplesPerSend": 2000, "maxShards": 50},
                        "url": plan.metrics_url,
                        "writeRelabelConfigs": [
                            {
                                "action": "drop",
                                "regex": "apiserver_request_duration_seconds_bucket",
                                "sourceLabels": ["__name__"],
                            }
                        ],
                    }
                ],
                "replicas": replicas,
                "resources": {"requests": {"cpu": "500m", "memory": "2Gi"}},
                "retention": "24h",
                "ruleSelector": {},
                "serviceAccountName": "prometheus-k8s",
                "serviceMonitorSelector": {},
                **({"storage": storage} if storage else {}),
                "version": PROMETHEUS_VERSION,
            },
            "status": {
                "availableReplicas": replicas,
                "conditions": [
                    {
                        "lastTransitionTime": build.ts(age * 0.2),
                        "observedGeneration": 1,
                        "status": "True",
                        "type": "Available",
                    },
                    {
                        "lastTransitionTime": build.ts(age * 0.2),
                        "observedGeneration": 1,
                        "status": "True",
                        "type": "Reconciled",
                    },
                ],
                "paused": False,
                "replicas": replicas,
                "shards": 1,
                "unavailableReplicas": 0,
                "updatedReplicas": replicas,
            },
        }
    )
    labels = {
        "app.kubernetes.io/instance": "k8s",
        "app.kubernetes.io/managed-by": "prometheus-operator",
        "app.kubernetes.io/name": "prometheus",
        "operator.prometheus.io/name": "k8s",
        "operator.prometheus.io/shard": "0",
        "prometheus": "k8s",
    }
    reloader = f"{plan.registry}/prometheus-operator/prometheus-config-reloader:{OPERATOR_VERSION}"
    _statefulset, pods = add_statefulset(
        build,
        name="prometheus-k8s",
        namespace="monitoring",
        labels=labels,
        pod_spec={
            "containers": [
                container(
                    "prometheus",
                    f"{plan.registry}/prometheus/prometheus:{PROMETHEUS_VERSION}",
                    args=[
                        "--config.file=/etc/prometheus/config_out/prometheus.env.yaml",
                        "--storage.tsdb.retention.time=24h",
                        "--storage.tsdb.path=/prometheus",
                        "--web.enable-lifecycle",
                    ],
                    ports=[{"containerPort": 9090, "name": "web", "protocol": "TCP"}],
                    requests={"cpu": "500m", "memory": "2Gi"},
                    mounts=[{"mountPath": "/prometheus", "name": "prometheus-k8s-db"}],
                    probe_port="web",
                    probe_path="/-/healthy",
                ),
                container(
                    "config-reloader",
                    reloader,
                    args=["--listen-address=:8080", "--reload-url=http://127.0.0.1:9090/-/reload"],
                    requests={"cpu": "10m", "memory": "50Mi"},
                    limits={"cpu": "10m", "memory": "50Mi"},
                ),
            ],
            "initContainers": [container("init-config-reloader", reloader, args=["--watch-interval=0"])],
            "serviceAccountName": "prometheus-k8s",
            **({} if storage else {"volumes": [{"emptyDir": {}, "name": "prometheus-k8s-db"}]}),
        },
        replicas=replicas,
        app=None,
        claim_templates=[storage["volumeClaimTemplate"]] if storage else None,
        owner=prometheus,
    )
    if storage:
        by_name = {n.name: n for n in build.nodes}
        for pod in pods:
            add_claim(
                build,
                name=f"prometheus-k8s-db-{pod['metadata']['name']}",
                namespace="monitoring",
                storage_class=REPLICATED_STORAGE_CLASSES[0],
                size="100Gi",
                labels=labels,
                node=by_name[pod["spec"]["nodeName"]],
                age=build.rng.uniform(60, 300) * DAY,
            )
