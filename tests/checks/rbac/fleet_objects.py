"""Real-shaped objects and a check runner for the RBAC, GitOps, observability and ingress/mesh tests.

Objects copy what ``kubectl get KIND -A -o json`` prints on real clusters
(the sonobuoy captures in the shared corpus, upstream charts): bootstrap
ClusterRoles with ``kubernetes.io/bootstrapping=rbac-defaults`` and the
autoupdate annotation, aggregated roles with ``aggregationRule``, kubeadm's
bindings, controller ``ownerReferences`` with uids, Argo CD / Flux / Helm
marks as those tools write them, DaemonSet statuses with every counter.
Metadata noise (uid, resourceVersion, creationTimestamp) varies per
cluster on purpose, as it does between real clusters.

Loaded by path from the conftests of the four test folders
(``--import-mode=importlib`` leaves test folders unimportable).
"""

from __future__ import annotations

import copy
import hashlib
import json
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from tests.builders import write_empty_lists

Obj = dict[str, Any]
RBAC = "rbac.authorization.k8s.io"
CAPTURED = "2026-11-24T10:00:00Z"
READ = ["get", "list", "watch"]
BOOTSTRAP = {"kubernetes.io/bootstrapping": "rbac-defaults"}
AUTOUPDATE = {"rbac.authorization.kubernetes.io/autoupdate": "true"}
REPO = Path(__file__).resolve().parents[3]
CHECKS = REPO / "checks"


def uid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


def short_hash(text: str, length: int = 10) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:length]


def meta(
    name: str,
    namespace: str | None = None,
    *,
    cluster: str = "c",
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    owner: tuple[str, str, str] | None = None,
    generation: int | None = None,
    created: str = "2026-10-01T08:00:00Z",
) -> Obj:
    """Metadata as the API server returns it; uid and resourceVersion differ per ``cluster``."""
    data: Obj = {
        "creationTimestamp": created,
        "name": name,
        "resourceVersion": str(int(short_hash(f"{cluster}/{namespace}/{name}"), 16) % 900000 + 1000),
        "uid": uid(cluster, str(namespace), name),
    }
    if namespace is not None:
        data["namespace"] = namespace
    if labels:
        data["labels"] = dict(labels)
    if annotations:
        data["annotations"] = dict(annotations)
    if generation is not None:
        data["generation"] = generation
    if owner is not None:
        api_version, kind, owner_name = owner
        data["ownerReferences"] = [
            {
                "apiVersion": api_version,
                "blockOwnerDeletion": True,
                "controller": True,
                "kind": kind,
                "name": owner_name,
                "uid": uid(cluster, str(namespace), kind, owner_name),
            }
        ]
    return data


# -- RBAC ------------------------------------------------------------------------------------------


def rule(groups: list[str], resources: list[str], verbs: list[str], names: list[str] | None = None) -> Obj:
    entry: Obj = {"apiGroups": groups, "resources": resources, "verbs": verbs}
    if names:
        entry["resourceNames"] = names
    return entry


def cluster_role(
    name: str,
    rules: list[Obj] | None,
    *,
    cluster: str = "c",
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    aggregate: list[str] | None = None,
) -> Obj:
    """A ClusterRole; ``aggregate`` names the ``aggregate-to-*`` labels its aggregationRule selects."""
    role: Obj = {
        "apiVersion": f"{RBAC}/v1",
        "kind": "ClusterRole",
        "metadata": meta(name, cluster=cluster, labels=labels, annotations=annotations),
        "rules": rules,
    }
    if aggregate is not None:
        role["aggregationRule"] = {
            "clusterRoleSelectors": [{"matchLabels": {f"{RBAC}/aggregate-to-{a}": "true"}} for a in aggregate]
        }
    return role


def subject(kind: str, name: str, namespace: str | None = None) -> Obj:
    if kind == "ServiceAccount":
        return {"kind": kind, "name": name, "namespace": namespace}
    return {"apiGroup": RBAC, "kind": kind, "name": name}


def binding(
    name: str,
    role: str,
    subjects: list[Obj] | None,
    *,
    cluster: str = "c",
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
) -> Obj:
    obj: Obj = {
        "apiVersion": f"{RBAC}/v1",
        "kind": "ClusterRoleBinding",
        "metadata": meta(name, cluster=cluster, labels=labels, annotations=annotations),
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": role},
    }
    if subjects is not None:
        obj["subjects"] = subjects
    return obj


def argocd_marks(app: str, group: str, kind: str, namespace: str, name: str) -> tuple[dict[str, str], dict[str, str]]:
    """What Argo CD's annotation+label tracking writes."""
    return (
        {"app.kubernetes.io/instance": app},
        {"argocd.argoproj.io/tracking-id": f"{app}:{group}/{kind}:{namespace}/{name}"},
    )


def bootstrap_rbac(cluster: str, *, kube_minor: int = 31) -> list[Obj]:
    """What kube-apiserver and kubeadm create: bootstrap roles, aggregated user roles, kubeadm bindings.

    ``kube_minor`` changes the generated content the way upgrades do (it must not count as drift).
    """
    extra_verbs = ["deletecollection"] if kube_minor >= 30 else []
    objects = [
        cluster_role(
            "cluster-admin",
            [rule(["*"], ["*"], ["*"]), {"nonResourceURLs": ["*"], "verbs": ["*"]}],
            cluster=cluster,
            labels=BOOTSTRAP,
            annotations=AUTOUPDATE,
        )
    ]
    for name, feeds in (("admin", []), ("edit", ["admin"]), ("view", ["edit"])):
        generated = [rule(["", "apps"], ["pods", "deployments"], [*READ, *extra_verbs] if name != "view" else READ)]
        objects.append(
            cluster_role(
                name,
                generated,
                cluster=cluster,
                labels={**BOOTSTRAP, **{f"{RBAC}/aggregate-to-{f}": "true" for f in feeds}},
                annotations=AUTOUPDATE,
                aggregate=[name],
            )
        )
        objects.append(
            cluster_role(
                f"system:aggregate-to-{name}",
                generated,
                cluster=cluster,
                labels={**BOOTSTRAP, f"{RBAC}/aggregate-to-{name}": "true"},
                annotations=AUTOUPDATE,
            )
        )
    objects += [
        cluster_role(
            "system:discovery",
            [{"nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/version"], "verbs": ["get"]}],
            cluster=cluster,
            labels=BOOTSTRAP,
            annotations=AUTOUPDATE,
        ),
        cluster_role(
            "system:node-proxier",
            [rule([""], ["endpoints", "services"], READ), rule(["discovery.k8s.io"], ["endpointslices"], READ)],
            cluster=cluster,
            labels=BOOTSTRAP,
            annotations=AUTOUPDATE,
        ),
        binding(
            "cluster-admin",
            "cluster-admin",
            [subject("Group", "system:masters")],
            cluster=cluster,
            labels=BOOTSTRAP,
            annotations=AUTOUPDATE,
        ),
        binding(
            "system:discovery",
            "system:discovery",
            [subject("Group", "system:authenticated")],
            cluster=cluster,
            labels=BOOTSTRAP,
            annotations=AUTOUPDATE,
        ),
        cluster_role("kubeadm:get-nodes", [rule([""], ["nodes"], ["get"])], cluster=cluster),
        binding(
            "kubeadm:get-nodes",
            "kubeadm:get-nodes",
            [subject("Group", "system:bootstrappers:kubeadm:default-node-token")],
            cluster=cluster,
        ),
        binding(
            "kubeadm:node-proxier",
            "system:node-proxier",
            [subject("ServiceAccount", "kube-proxy", "kube-system")],
            cluster=cluster,
        ),
    ]
    if kube_minor >= 29:
        objects.append(
            binding(
                "kubeadm:cluster-admins", "cluster-admin", [subject("Group", "kubeadm:cluster-admins")], cluster=cluster
            )
        )
    return objects


READONLY_RULES = [
    rule([""], ["configmaps", "events", "namespaces", "pods", "pods/log", "services"], READ),
    rule(["apps", "batch"], ["*"], READ),
]


def org_rbac(cluster: str) -> list[Obj]:
    """The organisation's roles and bindings, applied by Argo CD from the platform repo."""

    def marks(kind: str, name: str) -> tuple[dict[str, str], dict[str, str]]:
        return argocd_marks("platform-rbac", RBAC, kind, "", name)

    objects: list[Obj] = []
    for name, rules in (
        ("platform-readonly", READONLY_RULES),
        ("fleetcheck-reader", [rule(["*"], ["*"], READ)]),
        ("platform-monitoring-extra", [rule(["monitoring.coreos.com"], ["prometheusrules"], READ)]),
    ):
        labels, annotations = marks("ClusterRole", name)
        if name == "platform-monitoring-extra":
            labels = {**labels, f"{RBAC}/aggregate-to-platform-monitoring": "true"}
        objects.append(
            cluster_role(name, copy.deepcopy(rules), cluster=cluster, labels=labels, annotations=annotations)
        )
    labels, annotations = marks("ClusterRole", "platform-monitoring")
    objects.append(
        cluster_role(
            "platform-monitoring",
            [rule(["monitoring.coreos.com"], ["prometheusrules"], READ)],
            cluster=cluster,
            labels=labels,
            annotations=annotations,
            aggregate=["platform-monitoring"],
        )
    )
    for name, role, who in (
        ("platform-readonly", "platform-readonly", subject("Group", "oidc:platform-viewers")),
        ("oidc:platform-admins", "cluster-admin", subject("Group", "oidc:platform-admins")),
        ("platform-breakglass", "cluster-admin", subject("User", "oidc:breakglass@example.com")),
        ("fleetcheck-reader", "fleetcheck-reader", subject("Group", "oidc:fleetcheck-scanners")),
        ("velero", "cluster-admin", subject("ServiceAccount", "velero", "velero")),
    ):
        labels, annotations = marks("ClusterRoleBinding", name)
        objects.append(binding(name, role, [who], cluster=cluster, labels=labels, annotations=annotations))
    return objects


# -- workloads -------------------------------------------------------------------------------------


def container(name: str, image: str, **extra: Any) -> Obj:
    entry: Obj = {
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "name": name,
        "resources": {"limits": {"memory": "256Mi"}, "requests": {"cpu": "50m", "memory": "64Mi"}},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }
    entry.update(extra)
    return entry


def pod_template(labels: dict[str, str], containers: list[Obj], **spec: Any) -> Obj:
    return {
        "metadata": {"creationTimestamp": None, "labels": dict(labels)},
        "spec": {
            "containers": containers,
            "dnsPolicy": "ClusterFirst",
            "restartPolicy": spec.pop("restartPolicy", "Always"),
            "schedulerName": "default-scheduler",
            "securityContext": {},
            "terminationGracePeriodSeconds": 30,
            **spec,
        },
    }


def deployment(
    name: str,
    namespace: str,
    image: str,
    *,
    cluster: str = "c",
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    replicas: int = 2,
    template_labels: dict[str, str] | None = None,
) -> Obj:
    selector = {"app.kubernetes.io/name": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta(
            name,
            namespace,
            cluster=cluster,
            labels={**selector, **(labels or {})},
            annotations={"deployment.kubernetes.io/revision": "3", **(annotations or {})},
            generation=3,
        ),
        "spec": {
            "progressDeadlineSeconds": 600,
            "replicas": replicas,
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": selector},
            "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}, "type": "RollingUpdate"},
            "template": pod_template({**selector, **(template_labels or {})}, [container(name, image)]),
        },
        "status": {
            "availableReplicas": replicas,
            "observedGeneration": 3,
            "readyReplicas": replicas,
            "replicas": replicas,
            "updatedReplicas": replicas,
        },
    }


def replicaset_and_pods(dep: Obj, *, cluster: str = "c") -> list[Obj]:
    """The current ReplicaSet of a Deployment and its Pods, owned as the controllers own them (no GitOps marks)."""
    name, namespace = dep["metadata"]["name"], dep["metadata"]["namespace"]
    pod_hash = short_hash(name, 9)
    rs_name = f"{name}-{pod_hash}"
    labels = {**dep["spec"]["selector"]["matchLabels"], "pod-template-hash": pod_hash}
    replicas = dep["spec"]["replicas"]
    template = json.loads(json.dumps(dep["spec"]["template"]))
    template["metadata"]["labels"] = labels
    objects: list[Obj] = [
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": meta(
                rs_name, namespace, cluster=cluster, labels=labels, owner=("apps/v1", "Deployment", name), generation=1
            ),
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels}, "template": template},
            "status": {"availableReplicas": replicas, "readyReplicas": replicas, "replicas": replicas},
        }
    ]
    for index in range(replicas):
        objects.append(
            pod(
                f"{rs_name}-{short_hash(f'{rs_name}{index}', 5)}",
                namespace,
                template["spec"]["containers"][0]["image"],
                cluster=cluster,
                labels=labels,
                owner=("apps/v1", "ReplicaSet", rs_name),
            )
        )
    return objects


def pod(
    name: str,
    namespace: str,
    image: str,
    *,
    cluster: str = "c",
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    owner: tuple[str, str, str] | None = None,
    managed_fields: list[Obj] | None = None,
    node: str = "worker-1",
) -> Obj:
    metadata = meta(
        name, namespace, cluster=cluster, labels=labels or {"run": name}, annotations=annotations, owner=owner
    )
    if managed_fields:
        metadata["managedFields"] = managed_fields
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {"containers": [container(name.split("-")[0], image)], "nodeName": node, "restartPolicy": "Always"},
        "status": {
            "conditions": [{"lastTransitionTime": "2026-11-20T08:00:00Z", "status": "True", "type": "Ready"}],
            "phase": "Running",
            "startTime": "2026-11-20T08:00:00Z",
        },
    }


def statefulset(
    name: str,
    namespace: str,
    image: str,
    *,
    cluster: str = "c",
    labels: dict[str, str] | None = None,
    owner: tuple[str, str, str] | None = None,
) -> Obj:
    selector = {"app.kubernetes.io/name": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": meta(
            name, namespace, cluster=cluster, labels={**selector, **(labels or {})}, owner=owner, generation=1
        ),
        "spec": {
            "podManagementPolicy": "OrderedReady",
            "replicas": 1,
            "selector": {"matchLabels": selector},
            "serviceName": name,
            "template": pod_template(selector, [container(name, image)]),
            "updateStrategy": {"rollingUpdate": {"partition": 0}, "type": "RollingUpdate"},
        },
        "status": {"availableReplicas": 1, "readyReplicas": 1, "replicas": 1},
    }


def cronjob(name: str, namespace: str, image: str, *, cluster: str = "c", labels: dict[str, str] | None = None) -> Obj:
    selector = {"app.kubernetes.io/name": name}
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": meta(name, namespace, cluster=cluster, labels={**selector, **(labels or {})}),
        "spec": {
            "concurrencyPolicy": "Forbid",
            "jobTemplate": {
                "metadata": {"creationTimestamp": None},
                "spec": {"template": pod_template(selector, [container(name, image)], restartPolicy="OnFailure")},
            },
            "schedule": "0 3 * * *",
            "successfulJobsHistoryLimit": 3,
            "suspend": False,
        },
        "status": {"lastScheduleTime": "2026-11-24T03:00:00Z"},
    }


def job(name: str, namespace: str, image: str, *, cluster: str = "c", cronjob_owner: str | None = None) -> Obj:
    labels = {"batch.kubernetes.io/job-name": name, "job-name": name}
    owner = ("batch/v1", "CronJob", cronjob_owner) if cronjob_owner else None
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": meta(name, namespace, cluster=cluster, labels=labels, owner=owner),
        "spec": {
            "backoffLimit": 6,
            "completions": 1,
            "parallelism": 1,
            "template": pod_template(labels, [container("job", image)], restartPolicy="Never"),
        },
        "status": {"completionTime": "2026-11-24T03:01:10Z", "startTime": "2026-11-24T03:00:02Z", "succeeded": 1},
    }


def namespace(name: str, *, cluster: str = "c") -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": meta(name, cluster=cluster, labels={"kubernetes.io/metadata.name": name}),
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def daemonset(
    name: str,
    namespace: str,
    image: str,
    *,
    cluster: str = "c",
    desired: int = 3,
    ready: int | None = None,
    updated: int | None = None,
    tolerations: list[Obj] | None = None,
    node_selector: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    generation: int = 4,
    observed: int | None = None,
) -> Obj:
    """A DaemonSet with every status counter, as ``kubectl get ds -o json`` shows it."""
    ready = desired if ready is None else ready
    updated = desired if updated is None else updated
    selector = {"app.kubernetes.io/name": name}
    spec: Obj = {"serviceAccountName": name, "priorityClassName": "system-node-critical"}
    if tolerations is not None:
        spec["tolerations"] = tolerations
    if node_selector:
        spec["nodeSelector"] = node_selector
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": meta(
            name,
            namespace,
            cluster=cluster,
            labels={**selector, **(labels or {})},
            annotations={"deprecated.daemonset.template.generation": str(generation)},
            generation=generation,
        ),
        "spec": {
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": selector},
            "template": pod_template(selector, [container(name, image)], **spec),
            "updateStrategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}, "type": "RollingUpdate"},
        },
        "status": {
            "currentNumberScheduled": desired,
            "desiredNumberScheduled": desired,
            "numberAvailable": ready,
            "numberMisscheduled": 0,
            "numberReady": ready,
            **({"numberUnavailable": desired - ready} if ready < desired else {}),
            "observedGeneration": generation if observed is None else observed,
            "updatedNumberScheduled": updated,
        },
    }


def node(
    name: str,
    *,
    cluster: str = "c",
    ready: bool = True,
    taints: list[Obj] | None = None,
    cordoned: bool = False,
    control_plane: bool = False,
) -> Obj:
    labels = {"kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}
    if control_plane:
        labels["node-role.kubernetes.io/control-plane"] = ""
    spec: Obj = {"podCIDR": "10.244.1.0/24", "providerID": f"aws:///eu-west-1a/i-{short_hash(name, 17)}"}
    if taints:
        spec["taints"] = taints
    if cordoned:
        spec["unschedulable"] = True
        spec.setdefault("taints", []).append(
            {"effect": "NoSchedule", "key": "node.kubernetes.io/unschedulable", "timeAdded": "2026-11-24T09:00:00Z"}
        )
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": meta(name, cluster=cluster, labels=labels),
        "spec": spec,
        "status": {
            "conditions": [
                {
                    "lastHeartbeatTime": "2026-11-24T09:59:40Z",
                    "lastTransitionTime": "2026-10-01T08:01:00Z",
                    "message": "kubelet is posting ready status",
                    "reason": "KubeletReady",
                    "status": "True" if ready else "Unknown",
                    "type": "Ready",
                }
            ],
            "nodeInfo": {"containerRuntimeVersion": "containerd://1.7.22", "kubeletVersion": "v1.31.4"},
        },
    }


def configmap(
    name: str, namespace: str, data: dict[str, str], *, cluster: str = "c", labels: dict[str, str] | None = None
) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "data": data,
        "metadata": meta(name, namespace, cluster=cluster, labels=labels),
    }


def prometheus(name: str, namespace: str, urls: list[str], *, cluster: str = "c", agent: bool = False) -> Obj:
    """A Prometheus Operator ``Prometheus`` (or ``PrometheusAgent``) with ``spec.remoteWrite``."""
    spec: Obj = {
        "externalLabels": {"cluster": cluster},
        "image": "quay.io/prometheus/prometheus:v3.0.1",
        "replicas": 1,
        "serviceAccountName": "prometheus-k8s",
        "serviceMonitorSelector": {},
        "version": "v3.0.1",
    }
    if urls:
        spec["remoteWrite"] = [
            {"url": url, "queueConfig": {"capacity": 10000, "maxSamplesPerSend": 2000}} for url in urls
        ]
    return {
        "apiVersion": "monitoring.coreos.com/v1alpha1" if agent else "monitoring.coreos.com/v1",
        "kind": "PrometheusAgent" if agent else "Prometheus",
        "metadata": meta(
            name, namespace, cluster=cluster, labels={"app.kubernetes.io/name": "prometheus"}, generation=3
        ),
        "spec": spec,
        "status": {
            "availableReplicas": 1,
            "paused": False,
            "replicas": 1,
            "unavailableReplicas": 0,
            "updatedReplicas": 1,
        },
    }


def otel_collector(name: str, namespace: str, config: Obj | str, *, cluster: str = "c") -> Obj:
    """An ``OpenTelemetryCollector``: v1beta1 (``spec.config`` an object) or v1alpha1 (a YAML string)."""
    return {
        "apiVersion": "opentelemetry.io/v1beta1" if isinstance(config, dict) else "opentelemetry.io/v1alpha1",
        "kind": "OpenTelemetryCollector",
        "metadata": meta(name, namespace, cluster=cluster, generation=1),
        "spec": {
            "config": config,
            "mode": "deployment",
            "replicas": 1,
            "image": "otel/opentelemetry-collector-contrib:0.114.0",
        },
        "status": {"version": "0.114.0"},
    }


def ingress_class(name: str, controller: str, *, cluster: str = "c", default: bool = False) -> Obj:
    annotations = {"ingressclass.kubernetes.io/is-default-class": "true"} if default else None
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IngressClass",
        "metadata": meta(
            name, cluster=cluster, annotations=annotations, labels={"app.kubernetes.io/component": "controller"}
        ),
        "spec": {"controller": controller},
    }


# -- snapshots and runs ----------------------------------------------------------------------------


def write_snapshot(root: Path, name: str, objects: list[Obj], *, labels: dict[str, str] | None = None) -> Path:
    """A snapshot folder: one ``kubectl get -o json`` List per kind, plus ``cluster.yaml``."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    by_kind: dict[str, list[Obj]] = {}
    for obj in objects:
        by_kind.setdefault(f"{obj['apiVersion'].replace('/', '_')}_{obj['kind'].lower()}", []).append(obj)
    for file_name, items in by_kind.items():
        document = {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}
        (folder / f"{file_name}.json").write_text(json.dumps(document, indent=1))
    write_empty_lists(folder, objects)  # a real capture holds the kinds it found empty
    info = {"name": name, "captured": CAPTURED, "serverVersion": "v1.31.4", "labels": labels or {}}
    (folder / "cluster.yaml").write_text(yaml.safe_dump(info))
    return folder


@dataclass
class Results:
    """The records of ``results.json`` by (code, cluster)."""

    records: dict[tuple[str, str], Obj]
    output: str

    def get(self, code: str, cluster: str) -> Obj:
        assert (code, cluster) in self.records, f"no result for {code} on {cluster}:\n{self.output}"
        return self.records[(code, cluster)]

    def outcome(self, code: str, cluster: str) -> str:
        return str(self.get(code, cluster)["outcome"])

    def message(self, code: str, cluster: str) -> str:
        return str(self.get(code, cluster)["message"])

    def objects(self, code: str, cluster: str) -> list[str]:
        return list(self.get(code, cluster)["objects"])


def run_checks(
    pytester: pytest.Pytester, module: str, snapshots: list[Path], *, profile: Path | None = None
) -> Results:
    """Run one check module over ``snapshots`` in-process and read the verdicts back from ``results.json``."""
    reports = pytester.path / f"reports-{short_hash(module + ''.join(map(str, snapshots)) + str(profile))}"
    # hypothesis' plugin re-imports (and pytester re-rewrites) hypothesis on every in-process run: 3 s each
    quiet = ["-p", "no:benchmark", "-p", "no:hypothesispytest", "-p", "no:cacheprovider", "-q"]
    argv = [str(CHECKS / module), "--report-dir", str(reports), *quiet]
    for folder in snapshots:
        argv += ["--snapshot", str(folder)]
    if profile is not None:
        argv += ["--profile", str(profile)]
    result = pytester.runpytest_inprocess(*argv)
    output = result.stdout.str()
    document = json.loads((reports / "results.json").read_text())
    return Results({(r["code"], r["cluster"]): r for r in document["results"]}, output)


def write_profile(folder: Path, name: str, **fields: Any) -> Path:
    """A profile extending ``default`` with the given top-level fields."""
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"name": name, "extends": "default", **fields}, sort_keys=False))
    return path


@pytest.fixture
def k8s() -> ModuleType:
    """Real-shaped object builders, ``write_snapshot``, ``write_profile`` and ``run_checks`` (this module)."""
    return sys.modules[__name__]
