"""Small, real-shaped clusters written as snapshot folders (kubectl ``-o json`` Lists).

Objects follow what ``kubectl get -o json`` prints on a kubeadm cluster:
namespaces with the ``kubernetes.io/metadata.name`` label, ResourceQuotas
with ``spec.hard`` and ``status.hard/used``, LimitRanges of type Container,
Deployment-owned pods with resources and container statuses.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import orjson
import yaml

from tests.builders import write_empty_lists

CAPTURED = "2026-11-24T10:00:00Z"


def _uid(*parts: str) -> str:
    digest = hashlib.sha1("/".join(parts).encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def _meta(kind: str, name: str, namespace: str | None = None, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "uid": _uid(kind, namespace or "", name),
        "resourceVersion": str(1000 + len(name)),
        "creationTimestamp": "2026-06-01T08:00:00Z",
    }
    if namespace:
        meta["namespace"] = namespace
    meta.update(extra)
    return meta


def namespace(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": _meta("Namespace", name, labels={"kubernetes.io/metadata.name": name}),
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def quota(ns: str, used_cpu: str = "4", hard_cpu: str = "20") -> dict[str, Any]:
    hard = {
        "requests.cpu": hard_cpu,
        "requests.memory": "64Gi",
        "limits.cpu": "40",
        "limits.memory": "128Gi",
        "pods": "100",
    }
    used = {
        "requests.cpu": used_cpu,
        "requests.memory": "8Gi",
        "limits.cpu": "8",
        "limits.memory": "16Gi",
        "pods": "12",
    }
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": _meta("ResourceQuota", "compute", ns),
        "spec": {"hard": hard},
        "status": {"hard": hard, "used": used},
    }


def limit_range(ns: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": _meta("LimitRange", "container-defaults", ns),
        "spec": {
            "limits": [
                {
                    "type": "Container",
                    "default": {"cpu": "500m", "memory": "512Mi"},
                    "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
                }
            ]
        },
    }


def pod(ns: str, name: str, image: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _meta(
            "Pod",
            name,
            ns,
            labels={"app": name.rsplit("-", 2)[0]},
            ownerReferences=[
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": name.rsplit("-", 1)[0],
                    "uid": _uid("rs", ns, name),
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        ),
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "resources": {
                        "requests": {"cpu": "100m", "memory": "128Mi"},
                        "limits": {"cpu": "500m", "memory": "512Mi"},
                    },
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                }
            ],
            "dnsPolicy": "ClusterFirst",
            "nodeName": "node-1",
            "restartPolicy": "Always",
            "schedulerName": "default-scheduler",
            "serviceAccountName": "default",
        },
        "status": {
            "phase": "Running",
            "qosClass": "Burstable",
            "podIP": "10.244.1.7",
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-11-20T08:00:00Z"}],
            "containerStatuses": [
                {
                    "name": "app",
                    "ready": True,
                    "restartCount": 0,
                    "image": image,
                    "imageID": "",
                    "started": True,
                    "state": {"running": {"startedAt": "2026-11-20T08:00:00Z"}},
                }
            ],
        },
    }


def write_list(folder: Path, filename: str, items: list[dict[str, Any]]) -> None:
    body = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items}
    (folder / filename).write_bytes(orjson.dumps(body))


def write_cluster(
    root: Path,
    name: str,
    *,
    bad_namespaces: int = 0,
    hot_quota: bool = False,
    pods: int = 20,
    version: str = "v1.31.4",
    labels: dict[str, str] | None = None,
) -> Path:
    """A cluster with three clean team namespaces, ``bad_namespaces`` with neither quota nor limits."""
    folder = root / name
    folder.mkdir(parents=True)
    system = ["kube-system", "kube-public", "kube-node-lease", "default"]
    clean = [f"team-{c}" for c in "abc"]
    bad = [f"legacy-{i}" for i in range(bad_namespaces)]
    write_list(folder, "namespaces.json", [namespace(n) for n in [*system, *clean, *bad]])
    quotas = [quota(n) for n in clean]
    if hot_quota:
        quotas[0] = quota(clean[0], used_cpu="19500m")
    write_list(folder, "resourcequotas.json", quotas)
    write_list(folder, "limitranges.json", [limit_range(n) for n in clean])
    write_list(
        folder,
        "pods.json",
        [pod(clean[i % 3], f"api-7d9f8c6b5-{i:05d}", "registry.example.com/api:1.4.2") for i in range(pods)],
    )
    # a capture of a real cluster holds every kind; these are empty here (an absent file would be "not captured")
    write_empty_lists(folder, [{"kind": k} for k in ("Namespace", "ResourceQuota", "LimitRange", "Pod")])
    meta = {
        "name": name,
        "captured": CAPTURED,
        "serverVersion": version,
        "labels": labels or {"env": "prod", "region": "eu-west", "owner": "team-a"},
    }
    (folder / "cluster.yaml").write_text(yaml.safe_dump(meta), encoding="utf-8")
    return folder
