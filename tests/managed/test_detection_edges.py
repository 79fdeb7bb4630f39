"""Failure paths of the managed/distro detection: what does not count, what is unknown, bounded reads."""

from __future__ import annotations

from typing import Any

from fleetcheck.facts import cni, corefile, telemetry
from fleetcheck.facts import provider_detection as provider
from fleetcheck.facts.ownership import workload_census

Obj = dict[str, Any]


def _ds(name: str, namespace: str, containers: list[tuple[str, str]], env: dict[str, str] | None = None) -> Obj:
    entries: list[Obj] = [{"name": n, "image": i} for n, i in containers]
    if env:
        entries[0]["env"] = [{"name": k, "value": v} for k, v in env.items()]
    return {
        "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"template": {"metadata": {"labels": {}}, "spec": {"containers": entries}}},
    }


def _node(name: str, labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None) -> Obj:
    return {"metadata": {"name": name, "labels": labels or {}, "annotations": annotations or {}}}


FLANNEL = {"flannel.alpha.coreos.com/backend-type": "vxlan"}


def test_policy_only_calico_is_never_the_pod_network() -> None:
    calico = _ds("calico-node", "kube-system", [("calico-node", "gcr.io/projectcalico-org/node:v3.19.1")],
                 {"CALICO_NETWORKING_BACKEND": "none"})  # fmt: skip
    detection = cni.detect_cni([calico], [])
    assert detection.primary is None
    assert [m.cni for m in detection.policy_engines] == ["calico"]
    assert detection.describe().startswith("no pod-network CNI agent; network policy only: calico v3.19.1")


def test_flannel_annotations_count_only_on_k3s_or_rke2_nodes_without_a_cni_daemonset() -> None:
    plain = cni.detect_cni([], [_node("worker-1", annotations=FLANNEL)])
    assert plain.primary is None
    assert "on nodes that are not k3s/RKE2: not counted" in plain.notes[0]
    k3s_node = _node("edge-1", {"node.kubernetes.io/instance-type": "k3s"}, FLANNEL)
    embedded = cni.detect_cni([], [k3s_node])
    assert embedded.primary is not None and embedded.primary.daemonset == "embedded in k3s (no DaemonSet)"
    assert embedded.primary.version is None and "backend vxlan" in embedded.primary.variant
    unread = cni.detect_cni([], None)
    assert unread.primary is None and "nodes were not read" in unread.notes[0]


def test_generic_agent_names_need_their_namespace_and_provider_images_their_names() -> None:
    sdn = [("sdn", "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:" + "a" * 64)]
    assert cni.detect_cni([_ds("sdn", "openshift-sdn", sdn)]).cni == "openshift-sdn"
    assert cni.detect_cni([_ds("sdn", "tools", sdn)]).cni is None
    # a Deployment called collector outside gmp-system is somebody's own, not Google's collector
    collector = _ds("collector", "observability", [("prometheus", "gke.gcr.io/prometheus-engine/prometheus:v2.53.5")])
    assert telemetry.find_metrics_agents([("DaemonSet", collector)]) == []
    # the Datadog agent ships logs only with DD_LOGS_ENABLED=true
    agent = [("agent", "gcr.io/datadoghq/agent:7.52.0")]
    assert telemetry.find_log_shippers([_ds("datadog", "datadog", agent)]) == []
    with_logs = _ds("datadog", "datadog", agent, {"DD_LOGS_ENABLED": "true"})
    assert [p for p, _ in telemetry.find_log_shippers([with_logs])] == ["datadog-agent (logs)"]


def test_provider_is_unknown_without_signals_and_a_distribution_wins_over_its_cloud() -> None:
    unknown = provider.detect_provider([_node("n1")], "v1.31.4", [], unread=())
    assert unknown.provider == "unknown" and unknown.evidence == ("gitVersion v1.31.4 names no provider",)
    nothing = provider.detect_provider(None, None, None, unread=("nodes not read: forbidden",))
    assert nothing.describe() == "unknown: no provider or distribution signal (nodes not read: forbidden)"
    rke2_on_aws = _node("ip-10-0-0-1", annotations={"rke2.io/node-args": "[]"})
    rke2_on_aws["spec"] = {"providerID": "aws:///us-east-2a/i-0123"}
    assert provider.detect_provider([rke2_on_aws], "v1.23.4+rke2r1").provider == "rke2"
    # only the first MAX_NODES nodes are read
    many = [_node(f"n{i}") for i in range(provider.MAX_NODES)] + [_node("late", {"eks.amazonaws.com/nodegroup": "a"})]
    assert provider.detect_provider(many, None).provider == "unknown"


def test_a_single_forward_per_block_is_not_refused() -> None:
    configmaps = [
        {"metadata": {"name": "coredns", "namespace": "kube-system"},
         "data": {"Corefile": ".:53 {\n    forward . 10.0.0.2\n    import custom/*.override\n}\n"}},
        {"metadata": {"name": "coredns-custom", "namespace": "kube-system"},
         "data": {"hosts.override": "hosts {\n  fallthrough\n}\n",
                  "stub.server": "corp.example:53 {\n  forward . 10.1.1.1\n}\n"}},
    ]  # fmt: skip
    setup = corefile.find_dns_setup(configmaps, [])
    assert setup is not None and setup.refused == () and setup.upstreams == ("10.0.0.2",)
    configmaps[1]["data"]["more.override"] = "forward . 8.8.8.8\n"
    refused = corefile.find_dns_setup(configmaps, [])
    assert refused is not None and len(refused.refused) == 1
    assert refused.refused[0].startswith("kube-system/ConfigMap/coredns-custom data.more.override line 1")


def test_a_run_pod_with_an_owner_or_more_labels_is_still_counted() -> None:
    def pod(name: str, labels: dict[str, str]) -> Obj:
        return {"kind": "Pod", "metadata": {"name": name, "namespace": "shop", "labels": labels}}

    pods = [pod("debug", {"run": "debug"}), pod("tool", {"run": "tool", "app": "tool"})]
    census = workload_census(lambda kind: pods if kind == "pods" else [], {"shop"})
    assert census.debug_pods == ["shop/Pod/debug"]
    assert [w.ref for w in census.workloads] == ["shop/Pod/tool"]
