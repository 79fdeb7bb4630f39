"""Real-shaped Kubernetes objects, snapshot folders and a check runner for the image and CNI tests.

The objects copy the shape of what ``kubectl get -o json`` prints on real
clusters (the sonobuoy captures and upstream manifests in the shared corpus):
full container entries, controller ``ownerReferences`` with uids,
``pod-template-hash`` labels, statuses. Only names and images vary.

Loaded by path from the conftests of ``tests/checks/images`` and
``tests/checks/cni`` (``--import-mode=importlib``: test folders are not
importable), which hand these out as fixtures.
"""

from __future__ import annotations

import hashlib
import json
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from tests.builders import write_empty_lists

Obj = dict[str, Any]
CREATED = "2026-10-01T08:00:00Z"
CAPTURED = "2026-11-24T10:00:00Z"
#: ``Kind`` -> (apiVersion, file name kubectl users give it)
KINDS: dict[str, tuple[str, str]] = {
    "Pod": ("v1", "pods"),
    "Deployment": ("apps/v1", "deployments"),
    "ReplicaSet": ("apps/v1", "replicasets"),
    "DaemonSet": ("apps/v1", "daemonsets"),
    "StatefulSet": ("apps/v1", "statefulsets"),
    "Job": ("batch/v1", "jobs"),
    "CronJob": ("batch/v1", "cronjobs"),
    "Namespace": ("v1", "namespaces"),
}


def uid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


def template_hash(name: str) -> str:
    return hashlib.sha1(name.encode()).hexdigest()[:10]


def container(name: str, image: str, *, ports: tuple[int, ...] = ()) -> Obj:
    """A container entry as the API server returns it (defaults filled in)."""
    entry: Obj = {
        "name": name,
        "image": image,
        "imagePullPolicy": "Always"
        if image.endswith(":latest") or ":" not in image.rsplit("/", 1)[-1]
        else "IfNotPresent",
        "resources": {"limits": {"memory": "170Mi"}, "requests": {"cpu": "100m", "memory": "70Mi"}},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "volumeMounts": [
            {
                "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                "name": "kube-api-access-7xk2p",
                "readOnly": True,
            }
        ],
    }
    if ports:
        entry["ports"] = [{"containerPort": p, "protocol": "TCP"} for p in ports]
    return entry


def _meta(kind: str, name: str, namespace: str, labels: dict[str, str], owner: tuple[str, str] | None) -> Obj:
    meta: Obj = {
        "creationTimestamp": CREATED,
        "labels": dict(labels),
        "name": name,
        "namespace": namespace,
        "resourceVersion": str(int(template_hash(f"{kind}/{namespace}/{name}"), 16) % 900000 + 1000),
        "uid": uid(kind, namespace, name),
    }
    if kind in ("Deployment", "DaemonSet", "StatefulSet", "ReplicaSet"):
        meta["generation"] = 1
    if owner is not None:
        owner_kind, owner_name = owner
        meta["ownerReferences"] = [
            {
                "apiVersion": KINDS.get(owner_kind, ("v1", ""))[0],
                "blockOwnerDeletion": True,
                "controller": True,
                "kind": owner_kind,
                "name": owner_name,
                "uid": uid(owner_kind, namespace, owner_name),
            }
        ]
    return meta


def _pod_spec(
    containers: list[tuple[str, str]],
    init: list[tuple[str, str]] | None = None,
    *,
    restart: str = "Always",
) -> Obj:
    spec: Obj = {
        "containers": [container(n, i) for n, i in containers],
        "dnsPolicy": "ClusterFirst",
        "enableServiceLinks": True,
        "restartPolicy": restart,
        "schedulerName": "default-scheduler",
        "securityContext": {},
        "serviceAccountName": "default",
        "terminationGracePeriodSeconds": 30,
    }
    if init:
        spec["initContainers"] = [container(n, i) for n, i in init]
    return spec


def _template(labels: dict[str, str], containers: list[tuple[str, str]], init: list[tuple[str, str]] | None) -> Obj:
    return {"metadata": {"creationTimestamp": None, "labels": dict(labels)}, "spec": _pod_spec(containers, init)}


def pod(
    name: str,
    namespace: str,
    containers: list[tuple[str, str]],
    *,
    init: list[tuple[str, str]] | None = None,
    ephemeral: list[tuple[str, str]] | None = None,
    owner: tuple[str, str] | None = None,
    labels: dict[str, str] | None = None,
    node: str = "ip-10-0-1-23.eu-west-1.compute.internal",
    phase: str = "Running",
) -> Obj:
    """A scheduled Pod with statuses for each container."""
    spec = _pod_spec(containers, init)
    spec["nodeName"] = node
    if ephemeral:
        spec["ephemeralContainers"] = [
            {k: v for k, v in container(n, i).items() if k != "resources"} | {"targetContainerName": containers[0][0]}
            for n, i in ephemeral
        ]
    statuses = [
        {
            "containerID": f"containerd://{template_hash(name + n)}",
            "image": i,
            "imageID": f"{i.split('@')[0].rsplit(':', 1)[0]}@sha256:{hashlib.sha256(i.encode()).hexdigest()}",
            "lastState": {},
            "name": n,
            "ready": True,
            "restartCount": 0,
            "started": True,
            "state": {"running": {"startedAt": CREATED}},
        }
        for n, i in containers
    ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _meta("Pod", name, namespace, labels or {"app": name}, owner),
        "spec": spec,
        "status": {
            "conditions": [{"lastTransitionTime": CREATED, "status": "True", "type": "Ready"}],
            "containerStatuses": statuses,
            "hostIP": "10.0.1.23",
            "phase": phase,
            "podIP": "10.244.1.17",
            "qosClass": "Burstable",
            "startTime": CREATED,
        },
    }


def deployment(
    name: str,
    namespace: str,
    containers: list[tuple[str, str]],
    *,
    init: list[tuple[str, str]] | None = None,
    replicas: int = 2,
) -> Obj:
    labels = {"app.kubernetes.io/name": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta("Deployment", name, namespace, labels, None)
        | {"annotations": {"deployment.kubernetes.io/revision": "3"}},
        "spec": {
            "progressDeadlineSeconds": 600,
            "replicas": replicas,
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": labels},
            "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}, "type": "RollingUpdate"},
            "template": _template(labels, containers, init),
        },
        "status": {"availableReplicas": replicas, "readyReplicas": replicas, "replicas": replicas},
    }


def replicaset(
    name: str,
    namespace: str,
    containers: list[tuple[str, str]],
    *,
    owner: str | None,
    init: list[tuple[str, str]] | None = None,
    replicas: int = 2,
) -> Obj:
    hashed = name.rsplit("-", 1)[-1]
    labels = {"app.kubernetes.io/name": owner or name, "pod-template-hash": hashed}
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": _meta("ReplicaSet", name, namespace, labels, ("Deployment", owner) if owner else None),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": _template(labels, containers, init),
        },
        "status": {"availableReplicas": replicas, "readyReplicas": replicas, "replicas": replicas},
    }


def daemonset(
    name: str,
    namespace: str,
    containers: list[tuple[str, str]],
    *,
    init: list[tuple[str, str]] | None = None,
    labels: dict[str, str] | None = None,
    api_version: str = "apps/v1",
) -> Obj:
    labels = labels or {"k8s-app": name}
    spec = _template(labels, containers, init)
    spec["spec"] |= {"hostNetwork": True, "priorityClassName": "system-node-critical"}
    return {
        "apiVersion": api_version,
        "kind": "DaemonSet",
        "metadata": _meta("DaemonSet", name, namespace, labels, None),
        "spec": {
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": labels},
            "template": spec,
            "updateStrategy": {"rollingUpdate": {"maxUnavailable": 1}, "type": "RollingUpdate"},
        },
        "status": {
            "currentNumberScheduled": 3,
            "desiredNumberScheduled": 3,
            "numberAvailable": 3,
            "numberMisscheduled": 0,
            "numberReady": 3,
            "observedGeneration": 1,
            "updatedNumberScheduled": 3,
        },
    }


def statefulset(name: str, namespace: str, containers: list[tuple[str, str]], *, replicas: int = 3) -> Obj:
    labels = {"app.kubernetes.io/name": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": _meta("StatefulSet", name, namespace, labels, None),
        "spec": {
            "podManagementPolicy": "OrderedReady",
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "serviceName": name,
            "template": _template(labels, containers, None),
            "updateStrategy": {"rollingUpdate": {"partition": 0}, "type": "RollingUpdate"},
        },
        "status": {"availableReplicas": replicas, "readyReplicas": replicas, "replicas": replicas},
    }


def cronjob(name: str, namespace: str, containers: list[tuple[str, str]], *, schedule: str = "0 3 * * *") -> Obj:
    labels = {"app.kubernetes.io/name": name}
    job_template = {
        "metadata": {"creationTimestamp": None},
        "spec": {
            "backoffLimit": 2,
            "template": {
                "metadata": {"creationTimestamp": None, "labels": labels},
                "spec": _pod_spec(containers, None, restart="OnFailure"),
            },
        },
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": _meta("CronJob", name, namespace, labels, None),
        "spec": {
            "concurrencyPolicy": "Forbid",
            "failedJobsHistoryLimit": 1,
            "jobTemplate": job_template,
            "schedule": schedule,
            "successfulJobsHistoryLimit": 3,
            "suspend": False,
        },
        "status": {"lastScheduleTime": "2026-11-24T03:00:00Z"},
    }


def job(name: str, namespace: str, containers: list[tuple[str, str]], *, owner: str | None = None) -> Obj:
    labels = {"job-name": name}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _meta("Job", name, namespace, labels, ("CronJob", owner) if owner else None),
        "spec": {
            "backoffLimit": 2,
            "completions": 1,
            "parallelism": 1,
            "template": {
                "metadata": {"creationTimestamp": None, "labels": labels},
                "spec": _pod_spec(containers, None, restart="OnFailure"),
            },
        },
        "status": {"completionTime": "2026-11-24T03:01:10Z", "startTime": "2026-11-24T03:00:02Z", "succeeded": 1},
    }


def namespace(name: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "creationTimestamp": CREATED,
            "labels": {"kubernetes.io/metadata.name": name},
            "name": name,
            "resourceVersion": "210",
            "uid": uid("Namespace", name),
        },
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def deployment_family(
    name: str,
    namespace: str,
    containers: list[tuple[str, str]],
    *,
    init: list[tuple[str, str]] | None = None,
    replicas: int = 2,
) -> list[Obj]:
    """A Deployment with its current ReplicaSet and that ReplicaSet's Pods, as a rollout leaves them."""
    rs_name = f"{name}-{template_hash(name)[:9]}"
    labels = {"app.kubernetes.io/name": name, "pod-template-hash": rs_name.rsplit("-", 1)[-1]}
    objects = [
        deployment(name, namespace, containers, init=init, replicas=replicas),
        replicaset(rs_name, namespace, containers, owner=name, init=init, replicas=replicas),
    ]
    for index in range(replicas):
        suffix = template_hash(f"{rs_name}-{index}")[:5]
        objects.append(
            pod(f"{rs_name}-{suffix}", namespace, containers, init=init, owner=("ReplicaSet", rs_name), labels=labels)
        )
    return objects


def daemonset_family(
    name: str,
    namespace: str,
    containers: list[tuple[str, str]],
    *,
    init: list[tuple[str, str]] | None = None,
    nodes: int = 2,
) -> list[Obj]:
    """A DaemonSet and one Pod per node."""
    objects = [daemonset(name, namespace, containers, init=init)]
    for index in range(nodes):
        objects.append(
            pod(
                f"{name}-{template_hash(f'{name}{index}')[:5]}",
                namespace,
                containers,
                init=init,
                owner=("DaemonSet", name),
                labels={"k8s-app": name, "controller-revision-hash": "6d8f7b9c5"},
                node=f"ip-10-0-{index}-10.eu-west-1.compute.internal",
            )
        )
    return objects


def write_snapshot(
    root: Path,
    name: str,
    objects: list[Obj],
    *,
    labels: dict[str, str] | None = None,
    server_version: str | None = "v1.31.4",
) -> Path:
    """A snapshot folder: one kubectl ``List`` file per kind, plus ``cluster.yaml``."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    by_file: dict[str, list[Obj]] = {}
    for obj in objects:
        by_file.setdefault(KINDS[obj["kind"]][1], []).append(obj)
    for file_name, items in by_file.items():
        document = {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}
        (folder / f"{file_name}.json").write_text(json.dumps(document, indent=1))
    write_empty_lists(folder, objects)  # a real capture holds the kinds it found empty
    meta: Obj = {"name": name, "captured": CAPTURED, "labels": labels or {}}
    if server_version is not None:
        meta["serverVersion"] = server_version
    (folder / "cluster.yaml").write_text(yaml.safe_dump(meta))
    return folder


@dataclass(frozen=True)
class Verdict:
    outcome: str
    message: str
    objects: list[str] = field(default_factory=list)


class CheckRun:
    """The verdicts of one inner pytest run, by (code, cluster), from the records the plugin attaches."""

    def __init__(self, result: Any) -> None:
        self.result = result
        self.stdout = result.stdout.str()
        self.verdicts: dict[tuple[str, str], Verdict] = {}
        for report in result.reprec.getreports("pytest_runtest_logreport"):
            payload = getattr(report, "fleetcheck_record", None)
            if payload:
                record = json.loads(payload)
                self.verdicts[(record["code"], record["cluster"])] = Verdict(
                    record["outcome"], record["message"], list(record.get("objects") or [])
                )

    def __getitem__(self, key: tuple[str, str]) -> Verdict:
        if key not in self.verdicts:
            raise KeyError(f"no verdict for {key}; have {sorted(self.verdicts)}\n{self.stdout}")
        return self.verdicts[key]

    def outcomes(self, code: str) -> dict[str, str]:
        return {cluster: v.outcome for (c, cluster), v in self.verdicts.items() if c == code}


# -- fixtures, imported by the conftests of tests/checks/images and tests/checks/cni ------------------------
REPO = Path(__file__).resolve().parents[3]
CHECKS = REPO / "checks"


@pytest.fixture
def k8s() -> ModuleType:
    """Real-shaped object builders and ``write_snapshot`` (this module)."""
    return sys.modules[__name__]


@pytest.fixture
def write_profile(tmp_path: Path) -> Callable[..., Path]:
    """Write a profile extending ``default`` with the given top-level fields."""

    def write(name: str = "test", **fields: Any) -> Path:
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump({"name": name, "extends": "default", **fields}, sort_keys=False))
        return path

    return write


@pytest.fixture
def run_checks(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """Run check modules in an inner pytest session over snapshots (or a fleet file); return a ``CheckRun``."""
    pytester = request.getfixturevalue("pytester")

    def run(
        modules: str | tuple[str, ...],
        *snapshots: Path,
        profile: Path | None = None,
        fleet: Path | None = None,
        args: tuple[str, ...] = (),
    ) -> Any:
        names = (modules,) if isinstance(modules, str) else modules
        # hypothesis' plugin re-imports hypothesis in every inner session (pytester restores sys.modules): 0.7 s
        # each; --tb=native: pytest's own traceback rendering parses the kubernetes client's huge modules (4 s)
        argv = [*(str(CHECKS / m) for m in names), "--no-reports", "-q", "--tb=native", "-p", "no:hypothesispytest"]
        for folder in snapshots:
            argv += ["--snapshot", str(folder)]
        if profile is not None:
            argv += ["--profile", str(profile)]
        if fleet is not None:
            argv += ["--fleet", str(fleet)]
        return CheckRun(pytester.runpytest_inprocess(*argv, *args))

    return run
