"""Workload controllers and the pods they own: Deployment -> ReplicaSet -> Pod, DaemonSet, StatefulSet.

Every template (CoreDNS, the CNI, Velero, team apps) goes through these, so
ownerReferences, pod-template hashes, revisions and status counters agree
the way a real controller manager leaves them, and checks that follow
owners or compare ``status`` with ``spec`` see consistent objects.
"""

from __future__ import annotations

import orjson

from fleetcheck.demo.build import DAY, ClusterBuild, NodeSlot, Obj
from fleetcheck.demo.pods import make_pod, pod_template

__all__ = [
    "add_daemonset",
    "add_deployment",
    "add_statefulset",
    "gitops_marks",
    "pick_node",
]


def gitops_marks(
    app: str | None, api_group: str, kind: str, namespace: str, name: str
) -> tuple[dict[str, str], dict[str, str]]:
    """Labels and annotations that say who applied an object.

    With an Argo CD application name: the annotation tracking id Argo CD
    writes, plus the ``app.kubernetes.io/instance`` label of label tracking.
    Without one: the ``last-applied-configuration`` annotation ``kubectl
    apply`` leaves, which is how hand-applied drift looks in a real cluster.
    """
    if app:
        return (
            {"app.kubernetes.io/instance": app},
            {"argocd.argoproj.io/tracking-id": f"{app}:{api_group}/{kind}:{namespace}/{name}"},
        )
    applied = {
        "apiVersion": f"{api_group}/v1" if api_group else "v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace},
    }
    return {}, {"kubectl.kubernetes.io/last-applied-configuration": orjson.dumps(applied).decode() + "\n"}


def pick_node(build: ClusterBuild, *, workers_only: bool = True) -> NodeSlot:
    """A schedulable node, preferring workers and the least loaded of two random picks."""
    pool = build.placement_pool(workers_only=workers_only)
    first, second = build.rng.choice(pool), build.rng.choice(pool)
    return first if first.pod_count <= second.pod_count else second


def _pod_age(build: ClusterBuild, rolled_out: float) -> float:
    """Pods start right after their rollout; a few were rescheduled since (never inside a quiet window)."""
    if build.rng.random() < 0.1:
        floor = build.plan.quiet_days * DAY or 0.01 * DAY
        return build.rng.uniform(min(floor, rolled_out), rolled_out)
    return max(rolled_out - build.rng.uniform(5, 120), 1.0)


def add_deployment(
    build: ClusterBuild,
    *,
    name: str,
    namespace: str,
    labels: dict[str, str],
    pod_spec: Obj,
    replicas: int,
    app: str | None,
    ready: int | None = None,
    crash: str | None = None,
    old_revisions: int = 1,
    rolled_out: float | None = None,
    workers_only: bool = True,
    extra_annotations: dict[str, str] | None = None,
) -> tuple[Obj, list[Obj]]:
    """A Deployment with its current and old ReplicaSets and ``replicas`` pods.

    ``pod_spec`` holds the containers and settings of the template (shared by
    the pods); ``ready`` pods are ready, the rest are in CrashLoopBackOff
    with ``crash`` as the last termination reason.
    """
    ready = replicas if ready is None else ready
    rolled_out = build.rollout_age() if rolled_out is None else rolled_out
    created = build.creation_age(rolled_out)
    revision = old_revisions + 1
    track_labels, annotations = gitops_marks(app, "apps", "Deployment", namespace, name)
    annotations = {"deployment.kubernetes.io/revision": str(revision), **annotations, **(extra_annotations or {})}
    selector = dict(labels)
    template_labels = dict(labels)
    deployment: Obj = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": build.metadata(
            name,
            namespace,
            age=created,
            labels={**labels, **track_labels},
            annotations=annotations,
            generation=revision,
        ),
        "spec": {
            "progressDeadlineSeconds": 600,
            "replicas": replicas,
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": selector},
            "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}, "type": "RollingUpdate"},
            "template": pod_template(template_labels, pod_spec),
        },
    }
    hashes = [build.suffix(10) for _ in range(revision)]
    current_rs = f"{name}-{hashes[-1]}"
    available = "True" if ready >= max(replicas - replicas // 4, 1) or replicas == 0 else "False"
    status: Obj = {
        "availableReplicas": ready,
        "conditions": [
            {
                "lastTransitionTime": build.ts(rolled_out - 30),
                "lastUpdateTime": build.ts(rolled_out - 30),
                "message": "Deployment has minimum availability."
                if available == "True"
                else "Deployment does not have minimum availability.",
                "reason": "MinimumReplicasAvailable" if available == "True" else "MinimumReplicasUnavailable",
                "status": available,
                "type": "Available",
            },
            {
                "lastTransitionTime": build.ts(created - 20),
                "lastUpdateTime": build.ts(rolled_out - 25),
                "message": f'ReplicaSet "{current_rs}" has successfully progressed.',
                "reason": "NewReplicaSetAvailable",
                "status": "True",
                "type": "Progressing",
            },
        ],
        "observedGeneration": revision,
        "readyReplicas": ready,
        "replicas": replicas,
        "updatedReplicas": replicas,
    }
    if ready < replicas:
        status["unavailableReplicas"] = replicas - ready
    if ready == 0:
        del status["readyReplicas"], status["availableReplicas"]
    deployment["status"] = status
    build.add(deployment)

    pods: list[Obj] = []
    for rev, pod_hash in enumerate(hashes, start=1):
        current = rev == revision
        rs_age = rolled_out if current else rolled_out + (revision - rev) * build.rng.uniform(3, 40) * DAY
        rs_labels = {**template_labels, "pod-template-hash": pod_hash}
        rs_replicas = replicas if current else 0
        rs_status: Obj = {"observedGeneration": 1 if current else 2, "replicas": rs_replicas}
        if current and replicas:
            rs_status = {
                "availableReplicas": ready,
                "fullyLabeledReplicas": replicas,
                "observedGeneration": 1,
                "readyReplicas": ready,
                "replicas": replicas,
            }
        rs = build.add(
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": build.metadata(
                    f"{name}-{pod_hash}",
                    namespace,
                    age=rs_age,
                    labels=rs_labels,
                    annotations={
                        "deployment.kubernetes.io/desired-replicas": str(replicas),
                        "deployment.kubernetes.io/max-replicas": str(replicas + max(1, (replicas + 3) // 4)),
                        "deployment.kubernetes.io/revision": str(rev),
                    },
                    owner=deployment,
                    generation=1 if current else 2,
                ),
                "spec": {
                    "replicas": rs_replicas,
                    "selector": {"matchLabels": {**selector, "pod-template-hash": pod_hash}},
                    "template": pod_template(rs_labels, pod_spec),
                },
                "status": rs_status,
            }
        )
        if not current:
            continue
        for index in range(replicas):
            pod_name = f"{name}-{pod_hash}-{build.suffix()}"
            crashing = index >= ready
            pods.append(
                make_pod(
                    build,
                    name=pod_name,
                    namespace=namespace,
                    node=pick_node(build, workers_only=workers_only),
                    containers=pod_spec["containers"],
                    init_containers=pod_spec.get("initContainers"),
                    labels=rs_labels,
                    age=_pod_age(build, rolled_out),
                    owner=rs,
                    generate_name=f"{name}-{pod_hash}-",
                    service_account=pod_spec.get("serviceAccountName", "default"),
                    priority_class=pod_spec.get("priorityClassName"),
                    tolerations=pod_spec.get("tolerations"),
                    volumes=pod_spec.get("volumes"),
                    node_selector=pod_spec.get("nodeSelector"),
                    crash=(crash or "Error") if crashing else None,
                    restarts=build.rng.randint(20, 60) if crashing else build.rng.choice((0, 0, 0, 0, 1, 2)),
                )
            )
    return deployment, pods


def add_daemonset(
    build: ClusterBuild,
    *,
    name: str,
    namespace: str,
    labels: dict[str, str],
    pod_spec: Obj,
    app: str | None,
    host_network: bool = False,
    crashing: int = 0,
    crash_image: str | None = None,
    rolled_out: float | None = None,
) -> Obj:
    """A DaemonSet that tolerates every taint, with one pod per node.

    ``crashing`` pods (from the first nodes) run ``crash_image``, a newer
    version stuck in CrashLoopBackOff: a rollout that never finished.
    """
    rolled_out = build.rollout_age() if rolled_out is None else rolled_out
    created = build.creation_age(rolled_out)
    generation = build.rng.randint(2, 9) + (1 if crashing else 0)
    track_labels, annotations = gitops_marks(app, "apps", "DaemonSet", namespace, name)
    revision_hash = build.suffix(10)
    new_hash = build.suffix(10)
    daemonset: Obj = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": build.metadata(
            name,
            namespace,
            age=created,
            labels={**labels, **track_labels},
            annotations={"deprecated.daemonset.template.generation": str(generation), **annotations},
            generation=generation,
        ),
        "spec": {
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": dict(labels)},
            "template": pod_template(dict(labels), pod_spec),
            "updateStrategy": {
                "rollingUpdate": {"maxSurge": 0, "maxUnavailable": "10%" if crashing else 1},
                "type": "RollingUpdate",
            },
        },
    }
    if crashing and crash_image:
        daemonset["spec"]["template"]["spec"] = {
            **pod_spec,
            "containers": [{**pod_spec["containers"][0], "image": crash_image}, *pod_spec["containers"][1:]],
        }
    build.add(daemonset)
    ready = 0
    for position, node in enumerate(build.nodes):
        crashed = position < crashing
        containers = pod_spec["containers"]
        if crashed and crash_image:
            containers = [{**containers[0], "image": crash_image}, *containers[1:]]
        pod_ready = node.ready and not crashed
        ready += pod_ready
        make_pod(
            build,
            name=f"{name}-{build.suffix()}",
            namespace=namespace,
            node=node,
            containers=containers,
            init_containers=pod_spec.get("initContainers"),
            labels={
                **labels,
                "controller-revision-hash": new_hash if crashed else revision_hash,
                "pod-template-generation": str(generation if crashed else generation - (1 if crashing else 0)),
            },
            age=build.rng.uniform(0.3, 2) * DAY if crashed else _pod_age(build, rolled_out),
            owner=daemonset,
            generate_name=f"{name}-",
            host_network=host_network,
            service_account=pod_spec.get("serviceAccountName", name),
            priority_class=pod_spec.get("priorityClassName", "system-node-critical"),
            tolerations=pod_spec.get("tolerations", [{"operator": "Exists"}]),
            volumes=pod_spec.get("volumes"),
            ready=node.ready,
            crash="Error" if crashed else None,
            restarts=build.rng.randint(40, 300) if crashed else 0,
            extra_spec={
                "affinity": {
                    "nodeAffinity": {
                        "requiredDuringSchedulingIgnoredDuringExecution": {
                            "nodeSelectorTerms": [
                                {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node.name]}]}
                            ]
                        }
                    }
                }
            },
        )
    desired = len(build.nodes)
    status: Obj = {
        "currentNumberScheduled": desired,
        "desiredNumberScheduled": desired,
        "numberAvailable": ready,
        "numberMisscheduled": 0,
        "numberReady": ready,
        "observedGeneration": generation,
        "updatedNumberScheduled": crashing if crashing else desired,
    }
    if ready < desired:
        status["numberUnavailable"] = desired - ready
    daemonset["status"] = status
    return daemonset


def add_statefulset(
    build: ClusterBuild,
    *,
    name: str,
    namespace: str,
    labels: dict[str, str],
    pod_spec: Obj,
    replicas: int,
    app: str | None,
    claim_templates: list[Obj] | None = None,
    owner: Obj | None = None,
) -> tuple[Obj, list[Obj]]:
    """A StatefulSet and its ordinal pods (``name-0`` ...); PVCs are the caller's (``storage.py``)."""
    rolled_out = build.rollout_age()
    created = build.creation_age(rolled_out)
    # An operator-owned StatefulSet carries its owner's labels, not tracking marks of its own.
    track_labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    if owner is None:
        track_labels, annotations = gitops_marks(app, "apps", "StatefulSet", namespace, name)
    revision = f"{name}-{build.suffix(10)}"
    spec: Obj = {
        "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
        "podManagementPolicy": "OrderedReady" if owner is None else "Parallel",
        "replicas": replicas,
        "revisionHistoryLimit": 10,
        "selector": {"matchLabels": dict(labels)},
        "serviceName": f"{name}-headless" if owner is None else "prometheus-operated",
        "template": pod_template(dict(labels), pod_spec),
        "updateStrategy": {"rollingUpdate": {"partition": 0}, "type": "RollingUpdate"},
    }
    if claim_templates:
        spec["volumeClaimTemplates"] = claim_templates
    statefulset = build.add(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": build.metadata(
                name,
                namespace,
                age=created,
                labels={**labels, **track_labels},
                annotations=annotations or None,
                owner=owner,
                generation=build.rng.randint(1, 6),
            ),
            "spec": spec,
        }
    )
    statefulset["status"] = {
        "availableReplicas": replicas,
        "collisionCount": 0,
        "currentReplicas": replicas,
        "currentRevision": revision,
        "observedGeneration": statefulset["metadata"]["generation"],
        "readyReplicas": replicas,
        "replicas": replicas,
        "updateRevision": revision,
        "updatedReplicas": replicas,
    }
    pods = [
        make_pod(
            build,
            name=f"{name}-{index}",
            namespace=namespace,
            node=pick_node(build),
            containers=pod_spec["containers"],
            init_containers=pod_spec.get("initContainers"),
            labels={
                **labels,
                "apps.kubernetes.io/pod-index": str(index),
                "controller-revision-hash": revision,
                "statefulset.kubernetes.io/pod-name": f"{name}-{index}",
            },
            age=_pod_age(build, rolled_out),
            owner=statefulset,
            generate_name=f"{name}-",
            service_account=pod_spec.get("serviceAccountName", "default"),
            volumes=[
                *(
                    {
                        "name": t["metadata"]["name"],
                        "persistentVolumeClaim": {"claimName": f"{t['metadata']['name']}-{name}-{index}"},
                    }
                    for t in claim_templates or []
                ),
                *pod_spec.get("volumes", []),
            ],
            extra_spec={"hostname": f"{name}-{index}", "subdomain": spec["serviceName"]},
        )
        for index in range(replicas)
    ]
    return statefulset, pods
