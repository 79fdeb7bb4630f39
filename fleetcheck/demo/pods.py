"""The Pod and container shapes every template shares.

One place draws a Pod the way the API server returns it (spec defaults filled
in, status with conditions and container statuses), so system pods, CNI
pods and team pods look alike and stay about 2-3 KB each, like real ones.
"""

from __future__ import annotations

from typing import Any

from fleetcheck.demo.build import ClusterBuild, NodeSlot, Obj, digest_of

__all__ = [
    "DEFAULT_TOLERATIONS",
    "container",
    "image_ref",
    "make_pod",
    "pod_template",
]

#: What the DefaultTolerationSeconds admission plugin adds to every ordinary pod.
DEFAULT_TOLERATIONS: list[Obj] = [
    {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300},
    {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists", "tolerationSeconds": 300},
]


def image_ref(registry: str, repository: str, tag: str, *, pin_digest: bool = False) -> str:
    """``registry/repository:tag``, optionally pinned with ``@sha256:...`` too."""
    ref = f"{registry}/{repository}:{tag}"
    return f"{ref}@{digest_of(ref)}" if pin_digest else ref


def container(
    name: str,
    image: str,
    *,
    command: list[str] | None = None,
    args: list[str] | None = None,
    env: list[Obj] | None = None,
    ports: list[Obj] | None = None,
    requests: dict[str, str] | None = None,
    limits: dict[str, str] | None = None,
    mounts: list[Obj] | None = None,
    probe_port: int | str | None = None,
    probe_path: str = "/healthz",
    privileged: bool = False,
) -> Obj:
    """A container spec with the defaults the API server adds (pull policy, termination message ...)."""
    spec: Obj = {}
    if args:
        spec["args"] = args
    if command:
        spec["command"] = command
    if env:
        spec["env"] = env
    spec["image"] = image
    spec["imagePullPolicy"] = "IfNotPresent"
    if probe_port is not None:
        spec["livenessProbe"] = {
            "failureThreshold": 3,
            "httpGet": {"path": probe_path, "port": probe_port, "scheme": "HTTP"},
            "initialDelaySeconds": 10,
            "periodSeconds": 10,
            "successThreshold": 1,
            "timeoutSeconds": 1,
        }
    spec["name"] = name
    if ports:
        spec["ports"] = ports
    if probe_port is not None:
        spec["readinessProbe"] = {
            "failureThreshold": 3,
            "httpGet": {"path": probe_path, "port": probe_port, "scheme": "HTTP"},
            "periodSeconds": 5,
            "successThreshold": 1,
            "timeoutSeconds": 1,
        }
    resources: Obj = {}
    if limits:
        resources["limits"] = limits
    if requests:
        resources["requests"] = requests
    spec["resources"] = resources
    if privileged:
        spec["securityContext"] = {"privileged": True}
    spec["terminationMessagePath"] = "/dev/termination-log"
    spec["terminationMessagePolicy"] = "File"
    if mounts:
        spec["volumeMounts"] = mounts
    return spec


def pod_template(labels: dict[str, str], spec: Obj, annotations: dict[str, str] | None = None) -> Obj:
    """A workload's ``spec.template``, with the defaults the API server fills into every pod template."""
    meta: Obj = {"creationTimestamp": None, "labels": labels}
    if annotations:
        meta["annotations"] = annotations
    defaults: Obj = {
        "dnsPolicy": "ClusterFirst",
        "restartPolicy": "Always",
        "schedulerName": "default-scheduler",
        "securityContext": {},
        "terminationGracePeriodSeconds": 30,
    }
    return {"metadata": meta, "spec": {**defaults, **spec}}


def _qos_class(containers: list[Obj]) -> str:
    """Kubernetes' QoS class: Guaranteed when all limits equal requests, BestEffort when nothing is set."""
    best_effort, guaranteed = True, True
    for spec in containers:
        resources = spec.get("resources") or {}
        requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
        if requests or limits:
            best_effort = False
        for name in ("cpu", "memory"):
            limit = limits.get(name)
            if limit is None or requests.get(name, limit) != limit:
                guaranteed = False
    return "BestEffort" if best_effort else "Guaranteed" if guaranteed else "Burstable"


def _api_access(build: ClusterBuild) -> tuple[Obj, Obj]:
    """The projected service-account volume every non-static pod gets, and its mount."""
    name = f"kube-api-access-{build.suffix()}"
    volume = {
        "name": name,
        "projected": {
            "defaultMode": 420,
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}], "name": "kube-root-ca.crt"}},
                {
                    "downwardAPI": {
                        "items": [
                            {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}, "path": "namespace"}
                        ]
                    }
                },
            ],
        },
    }
    mount = {"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": name, "readOnly": True}
    return volume, mount


def _container_status(
    build: ClusterBuild, spec: Obj, started: str, *, ready: bool, crash: str | None, restarts: int, age: float
) -> Obj:
    image = spec["image"]
    repo = image.split("@", 1)[0].rsplit(":", 1)[0] if "/" in image or ":" in image else image
    status: Obj = {
        "containerID": f"containerd://{build.hex_id()}",
        "image": image,
        "imageID": f"{repo}@{digest_of(image.split('@', 1)[0])}",
        "lastState": {},
        "name": spec["name"],
        "ready": ready and crash is None,
        "restartCount": restarts,
        "started": crash is None,
        "state": {"running": {"startedAt": started}},
    }
    if crash is not None:
        died = build.ts(age * 0.1 + 40)
        status["lastState"] = {
            "terminated": {
                "containerID": f"containerd://{build.hex_id()}",
                "exitCode": 137 if crash == "OOMKilled" else 1,
                "finishedAt": died,
                "reason": crash,
                "startedAt": build.ts(age * 0.1 + 55),
            }
        }
        status["state"] = {
            "waiting": {
                "message": f"back-off 5m0s restarting failed container={spec['name']}",
                "reason": "CrashLoopBackOff",
            }
        }
    return status


def make_pod(
    build: ClusterBuild,
    *,
    name: str,
    namespace: str,
    node: NodeSlot,
    containers: list[Obj],
    labels: dict[str, str],
    age: float,
    owner: Obj | None = None,
    generate_name: str | None = None,
    annotations: dict[str, str] | None = None,
    init_containers: list[Obj] | None = None,
    host_network: bool = False,
    service_account: str | None = "default",
    priority_class: str | None = None,
    tolerations: list[Obj] | None = None,
    volumes: list[Obj] | None = None,
    node_selector: dict[str, str] | None = None,
    ready: bool = True,
    crash: str | None = None,
    restarts: int = 0,
    extra_spec: dict[str, Any] | None = None,
) -> Obj:
    """A scheduled, running Pod on ``node`` created ``age`` seconds before capture.

    ``ready=False`` draws a pod whose node stopped reporting; ``crash`` (a
    termination reason such as ``OOMKilled``) draws one in CrashLoopBackOff.
    """
    node.pod_count += 1
    pod_volumes = list(volumes or [])
    pod_containers = containers
    if service_account is not None:
        volume, mount = _api_access(build)
        pod_volumes.append(volume)
        pod_containers = [{**c, "volumeMounts": [*c.get("volumeMounts", []), mount]} for c in containers]
    spec: Obj = {}
    if extra_spec:
        spec.update(extra_spec)
    spec["containers"] = pod_containers
    spec["dnsPolicy"] = "ClusterFirst"
    spec["enableServiceLinks"] = True
    if host_network:
        spec["hostNetwork"] = True
    if init_containers:
        spec["initContainers"] = init_containers
    spec["nodeName"] = node.name
    if node_selector:
        spec["nodeSelector"] = node_selector
    spec["preemptionPolicy"] = "PreemptLowerPriority"
    if priority_class:
        spec["priority"] = 2000001000 if priority_class == "system-node-critical" else 2000000000
        spec["priorityClassName"] = priority_class
    else:
        spec["priority"] = 0
    spec["restartPolicy"] = "Always"
    spec["schedulerName"] = "default-scheduler"
    spec["securityContext"] = {}
    if service_account is not None:
        spec["serviceAccount"] = service_account
        spec["serviceAccountName"] = service_account
    spec["terminationGracePeriodSeconds"] = 30
    spec["tolerations"] = tolerations if tolerations is not None else DEFAULT_TOLERATIONS
    if pod_volumes:
        spec["volumes"] = pod_volumes

    created = build.ts(age)
    started = build.ts(max(age - build.rng.uniform(2, 20), 0))
    is_ready = ready and crash is None
    ready_at = build.ts(age * 0.1 + 30) if crash else started
    cond_ready = "True" if is_ready else "False"
    conditions: list[Obj] = [
        {"lastProbeTime": None, "lastTransitionTime": started, "status": "True", "type": "PodReadyToStartContainers"},
        {"lastProbeTime": None, "lastTransitionTime": created, "status": "True", "type": "Initialized"},
        {"lastProbeTime": None, "lastTransitionTime": ready_at, "status": cond_ready, "type": "Ready"},
        {"lastProbeTime": None, "lastTransitionTime": ready_at, "status": cond_ready, "type": "ContainersReady"},
        {"lastProbeTime": None, "lastTransitionTime": created, "status": "True", "type": "PodScheduled"},
    ]
    if not ready:
        conditions[2]["reason"] = conditions[3]["reason"] = "NodeNotReady" if not node.ready else "ContainersNotReady"
    status: Obj = {"conditions": conditions}
    status["containerStatuses"] = [
        _container_status(build, c, started, ready=ready, crash=crash, restarts=restarts, age=age) for c in containers
    ]
    host_ip = node.ip
    pod_ip = host_ip if host_network else node.next_pod_ip()
    status["hostIP"] = host_ip
    status["hostIPs"] = [{"ip": host_ip}]
    if init_containers:
        status["initContainerStatuses"] = [
            {
                "containerID": f"containerd://{build.hex_id()}",
                "image": c["image"],
                "imageID": f"{c['image'].rsplit(':', 1)[0]}@{digest_of(c['image'])}",
                "lastState": {},
                "name": c["name"],
                "ready": True,
                "restartCount": 0,
                "started": False,
                "state": {
                    "terminated": {
                        "containerID": f"containerd://{build.hex_id()}",
                        "exitCode": 0,
                        "finishedAt": started,
                        "reason": "Completed",
                        "startedAt": created,
                    }
                },
            }
            for c in init_containers
        ]
    status["phase"] = "Running"
    status["podIP"] = pod_ip
    status["podIPs"] = [{"ip": pod_ip}]
    status["qosClass"] = _qos_class(containers)
    status["startTime"] = created

    return build.add(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": build.metadata(
                name,
                namespace,
                age=age,
                labels=labels,
                annotations=annotations,
                owner=owner,
                generate_name=generate_name,
            ),
            "spec": spec,
            "status": status,
        }
    )
