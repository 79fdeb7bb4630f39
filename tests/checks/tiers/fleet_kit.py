"""Real-shaped objects, snapshot folders and an inner check run for the TIER, STALE, COST and PV tests.

Objects copy what ``kubectl get KIND -A -o json`` prints: apiVersion, kind,
metadata with uid/resourceVersion/creationTimestamp, controller
ownerReferences with uids, ``pod-template-hash`` labels, the fields the API
server defaults, statuses. Each snapshot is one ``List`` file per kind (file
named like ``kubectl get KIND.GROUP`` output) plus ``cluster.yaml``.

Loaded by path from the conftests of ``tests/checks/{tiers,stale,cost,storage}``
(``--import-mode=importlib``: test folders are not importable).
"""

from __future__ import annotations

import hashlib
import json
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from tests.builders import write_empty_lists

Obj = dict[str, Any]

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
CAPTURED = "2026-11-24T10:00:00Z"
REPO = Path(__file__).resolve().parents[3]
CHECKS = REPO / "checks"
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")

#: Kind -> (apiVersion, file stem as ``kubectl get`` names the kind)
KINDS: dict[str, tuple[str, str]] = {
    "Namespace": ("v1", "namespaces"),
    "Pod": ("v1", "pods"),
    "PersistentVolumeClaim": ("v1", "persistentvolumeclaims"),
    "PersistentVolume": ("v1", "persistentvolumes"),
    "Deployment": ("apps/v1", "deployments"),
    "ReplicaSet": ("apps/v1", "replicasets"),
    "StatefulSet": ("apps/v1", "statefulsets"),
    "DaemonSet": ("apps/v1", "daemonsets"),
    "StorageClass": ("storage.k8s.io/v1", "storageclasses"),
    "VolumeSnapshotClass": ("snapshot.storage.k8s.io/v1", "volumesnapshotclasses.snapshot.storage.k8s.io"),
    "Schedule": ("velero.io/v1", "schedules.velero.io"),
    "CustomResourceDefinition": ("apiextensions.k8s.io/v1", "customresourcedefinitions"),
}


def stamp(moment: datetime) -> str:
    """RFC 3339 as the API server writes it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ago(days: float = 0, hours: float = 0) -> datetime:
    """A moment before the capture time."""
    return NOW - timedelta(days=days, hours=hours)


def uid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


def _hash(name: str) -> str:
    return hashlib.sha1(name.encode()).hexdigest()[:10]


def meta(
    kind: str,
    name: str,
    namespace: str | None = None,
    *,
    created: datetime = NOW - timedelta(days=200),
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    owner: Obj | None = None,
) -> Obj:
    """``metadata`` as the API server returns it."""
    out: Obj = {
        "name": name,
        "uid": uid(kind, namespace or "", name),
        "resourceVersion": str(100000 + int(_hash(name)[:4], 16)),
        "creationTimestamp": stamp(created),
    }
    if namespace is not None:
        out["namespace"] = namespace
    if labels:
        out["labels"] = dict(labels)
    if annotations:
        out["annotations"] = dict(annotations)
    if owner is not None:
        out["ownerReferences"] = [
            {
                "apiVersion": owner["apiVersion"],
                "kind": owner["kind"],
                "name": owner["metadata"]["name"],
                "uid": owner["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    return out


def obj(kind: str, metadata: Obj, **fields: Any) -> Obj:
    return {"apiVersion": KINDS[kind][0], "kind": kind, "metadata": metadata, **fields}


# -- namespaces and workloads --------------------------------------------------------------------
def namespace(
    name: str, *, created: datetime = NOW - timedelta(days=400), annotations: dict[str, str] | None = None
) -> Obj:
    """An Active Namespace."""
    metadata = meta(
        "Namespace", name, created=created, labels={"kubernetes.io/metadata.name": name}, annotations=annotations
    )
    return obj("Namespace", metadata, spec={"finalizers": ["kubernetes"]}, status={"phase": "Active"})


def container(name: str, image: str) -> Obj:
    return {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }


def _template(app: str, image: str, extra_labels: dict[str, str] | None = None) -> Obj:
    return {
        "metadata": {"creationTimestamp": None, "labels": {"app": app, **(extra_labels or {})}},
        "spec": {
            "containers": [container(app, image)],
            "dnsPolicy": "ClusterFirst",
            "restartPolicy": "Always",
            "schedulerName": "default-scheduler",
            "securityContext": {},
            "terminationGracePeriodSeconds": 30,
        },
    }


def deployment(
    name: str,
    ns: str,
    *,
    created: datetime,
    rolled: datetime | None = None,
    replicas: int = 2,
    image: str = "registry.example.com/shop/web:1.4.2",
) -> list[Obj]:
    """A Deployment and the ReplicaSet of its newest rollout (created at ``rolled``, default ``created``)."""
    rolled = rolled or created
    deploy = obj(
        "Deployment",
        meta(
            "Deployment",
            name,
            ns,
            created=created,
            labels={"app": name},
            annotations={"deployment.kubernetes.io/revision": "3"},
        ),
        spec={
            "replicas": replicas,
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": {"app": name}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": _template(name, image),
        },
        status={
            "observedGeneration": 3,
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "conditions": [
                {
                    "type": "Available",
                    "status": "True",
                    "reason": "MinimumReplicasAvailable",
                    "message": "Deployment has minimum availability.",
                    "lastTransitionTime": stamp(created),
                    "lastUpdateTime": stamp(created),
                },
                {
                    "type": "Progressing",
                    "status": "True",
                    "reason": "NewReplicaSetAvailable",
                    "message": f'ReplicaSet "{name}-{_hash(name)}" has successfully progressed.',
                    "lastTransitionTime": stamp(created),
                    # the rollout completes a little after its ReplicaSet is created
                    "lastUpdateTime": stamp(rolled + timedelta(minutes=2)),
                },
            ],
        },
    )
    pod_hash = _hash(f"{name}{stamp(rolled)}")
    rs = obj(
        "ReplicaSet",
        meta(
            "ReplicaSet",
            f"{name}-{pod_hash}",
            ns,
            created=rolled,
            labels={"app": name, "pod-template-hash": pod_hash},
            annotations={
                "deployment.kubernetes.io/desired-replicas": str(replicas),
                "deployment.kubernetes.io/revision": "3",
            },
            owner=deploy,
        ),
        spec={
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name, "pod-template-hash": pod_hash}},
            "template": _template(name, image, {"pod-template-hash": pod_hash}),
        },
        status={
            "replicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "observedGeneration": 3,
        },
    )
    return [deploy, rs]


def statefulset(name: str, ns: str, *, created: datetime, claim: str = "data", storage_class: str = "gp3") -> Obj:
    """A StatefulSet with one volumeClaimTemplate."""
    template = _template(name, "registry.example.com/db/postgres:16.4")
    template["spec"]["containers"][0]["volumeMounts"] = [{"name": claim, "mountPath": "/var/lib/postgresql/data"}]
    return obj(
        "StatefulSet",
        meta("StatefulSet", name, ns, created=created, labels={"app": name}),
        spec={
            "replicas": 1,
            "serviceName": name,
            "selector": {"matchLabels": {"app": name}},
            "template": template,
            "volumeClaimTemplates": [
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "metadata": {"name": claim},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "storageClassName": storage_class,
                        "resources": {"requests": {"storage": "20Gi"}},
                        "volumeMode": "Filesystem",
                    },
                }
            ],
        },
        status={"replicas": 1, "readyReplicas": 1, "currentReplicas": 1, "updatedReplicas": 1},
    )


def daemonset(name: str, ns: str, image: str, *, created: datetime = NOW - timedelta(days=300)) -> Obj:
    """A DaemonSet running ``image`` (a CNI agent, a log shipper ...)."""
    return obj(
        "DaemonSet",
        meta("DaemonSet", name, ns, created=created, labels={"k8s-app": name}),
        spec={
            "selector": {"matchLabels": {"k8s-app": name}},
            "template": _template(name, image, {"k8s-app": name}),
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
        },
        status={"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 3, "numberAvailable": 3},
    )


def pod(
    name: str,
    ns: str,
    *,
    phase: str = "Running",
    claims: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    created: datetime = NOW - timedelta(days=3),
) -> Obj:
    """A Pod; ``claims`` maps volume name -> PVC name."""
    volumes: list[Obj] = [
        {"name": volume, "persistentVolumeClaim": {"claimName": claim}} for volume, claim in (claims or {}).items()
    ]
    volumes.append({"name": "kube-api-access-x7k2p", "projected": {"defaultMode": 420, "sources": []}})
    spec = {
        "containers": [container(name.rsplit("-", 1)[0], "registry.example.com/app:1.0")],
        "nodeName": "ip-10-0-1-17",
        "volumes": volumes,
    }
    status: Obj = {"phase": phase, "startTime": stamp(created)}
    return obj(
        "Pod",
        meta("Pod", name, ns, created=created, labels={"app": name}, annotations=annotations),
        spec=spec,
        status=status,
    )


# -- storage -----------------------------------------------------------------------------------------
def storage_class(
    name: str, provisioner: str, *, default: bool = False, annotations: dict[str, str] | None = None
) -> Obj:
    """A StorageClass."""
    notes = {**({"storageclass.kubernetes.io/is-default-class": "true"} if default else {}), **(annotations or {})}
    return obj(
        "StorageClass",
        meta("StorageClass", name, annotations=notes or None),
        provisioner=provisioner,
        reclaimPolicy="Delete",
        volumeBindingMode="WaitForFirstConsumer",
        allowVolumeExpansion=True,
    )


def volume_snapshot_class(
    name: str, driver: str, *, labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None
) -> Obj:
    """A VolumeSnapshotClass (``snapshot.storage.k8s.io/v1``)."""
    return obj(
        "VolumeSnapshotClass",
        meta("VolumeSnapshotClass", name, labels=labels, annotations=annotations),
        driver=driver,
        deletionPolicy="Delete",
    )


def claim_and_volume(
    name: str,
    ns: str,
    storage_class_name: str | None,
    *,
    provisioner: str = "ebs.csi.aws.com",
    source: Obj | None = None,
    pv_class: str | None = None,
    annotations: dict[str, str] | None = None,
    bound: bool = True,
) -> list[Obj]:
    """A PVC and (when ``bound``) its PV; ``source`` is the PV's volume source (default: a CSI volume)."""
    pv_name = f"pvc-{uid(ns, name)}"
    spec: Obj = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "20Gi"}},
        "volumeMode": "Filesystem",
    }
    if storage_class_name is not None:
        spec["storageClassName"] = storage_class_name
    notes = {"volume.kubernetes.io/storage-provisioner": provisioner, **(annotations or {})}
    if bound:
        spec["volumeName"] = pv_name
        notes["pv.kubernetes.io/bind-completed"] = "yes"
    status: Obj = (
        {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "20Gi"}}
        if bound
        else {"phase": "Pending"}
    )
    claim = obj(
        "PersistentVolumeClaim",
        meta("PersistentVolumeClaim", name, ns, labels={"app": name}, annotations=notes),
        spec=spec,
        status=status,
    )
    if not bound:
        return [claim]
    claim_ref = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "name": name,
        "namespace": ns,
        "uid": claim["metadata"]["uid"],
    }
    pv_spec: Obj = {
        "accessModes": ["ReadWriteOnce"],
        "capacity": {"storage": "20Gi"},
        "claimRef": claim_ref,
        "persistentVolumeReclaimPolicy": "Delete",
        "volumeMode": "Filesystem",
        **(source if source is not None else csi_source(provisioner, "vol-0a1b2c3d4e5f67890")),
    }
    chosen_class = pv_class if pv_class is not None else storage_class_name
    if chosen_class:
        pv_spec["storageClassName"] = chosen_class
    pv_meta = meta("PersistentVolume", pv_name, annotations={"pv.kubernetes.io/provisioned-by": provisioner})
    return [claim, obj("PersistentVolume", pv_meta, spec=pv_spec, status={"phase": "Bound"})]


def csi_source(driver: str, handle: str = "0001-0009-rook-ceph-0000000000000002-4b1f") -> Obj:
    return {"csi": {"driver": driver, "fsType": "ext4", "volumeHandle": handle}}


def host_path_source(path: str = "/mnt/data/pg") -> Obj:
    return {"hostPath": {"path": path, "type": "DirectoryOrCreate"}}


def local_source(node: str = "ip-10-0-3-41", path: str = "/mnt/nvme0/pv-7") -> Obj:
    return {
        "local": {"path": path},
        "nodeAffinity": {
            "required": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}
                ]
            }
        },
    }


def schedule(
    name: str,
    *,
    included: list[str] | None = None,
    excluded: list[str] | None = None,
    snapshot_volumes: bool | None = None,
    fs_backup: bool | None = None,
    paused: bool = False,
    excluded_resources: list[str] | None = None,
) -> Obj:
    """A ``velero.io/v1`` Schedule (phase Enabled)."""
    template: Obj = {
        "includedNamespaces": included if included is not None else ["*"],
        "storageLocation": "default",
        "ttl": "720h0m0s",
    }
    if excluded:
        template["excludedNamespaces"] = excluded
    if excluded_resources:
        template["excludedResources"] = excluded_resources
    if snapshot_volumes is not None:
        template["snapshotVolumes"] = snapshot_volumes
    if fs_backup is not None:
        template["defaultVolumesToFsBackup"] = fs_backup
    spec: Obj = {"schedule": "0 2 * * *", "template": template, "useOwnerReferencesInBackup": False}
    if paused:
        spec["paused"] = True
    return obj(
        "Schedule",
        meta("Schedule", name, "velero", created=NOW - timedelta(days=120)),
        spec=spec,
        status={"phase": "Enabled", "lastBackup": stamp(NOW - timedelta(hours=8))},
    )


def crd(plural: str, group: str, kind: str, *, namespaced: bool) -> Obj:
    return obj(
        "CustomResourceDefinition",
        meta("CustomResourceDefinition", f"{plural}.{group}", created=NOW - timedelta(days=300)),
        spec={
            "group": group,
            "names": {"plural": plural, "kind": kind, "singular": kind.lower(), "listKind": f"{kind}List"},
            "scope": "Namespaced" if namespaced else "Cluster",
            "versions": [{"name": "v1", "served": True, "storage": True}],
        },
    )


SNAPSHOT_CRD = crd("volumesnapshotclasses", "snapshot.storage.k8s.io", "VolumeSnapshotClass", namespaced=False)
SCHEDULE_CRD = crd("schedules", "velero.io", "Schedule", namespaced=True)


# -- snapshots and runs --------------------------------------------------------------------------
def write_snapshot(
    folder: Path,
    objects: list[Obj],
    *,
    labels: dict[str, Any] | None = None,
    server_version: str | None = "v1.31.4",
    captured: str | None = CAPTURED,
    with_system_namespaces: bool = True,
) -> Path:
    """One ``kubectl get KIND -A -o json`` List per kind, plus ``cluster.yaml``."""
    folder.mkdir(parents=True, exist_ok=True)
    items = list(objects)
    if with_system_namespaces:
        present = {o["metadata"]["name"] for o in items if o["kind"] == "Namespace"}
        items = [namespace(ns) for ns in SYSTEM_NAMESPACES if ns not in present] + items
    by_kind: dict[str, list[Obj]] = {}
    for item in items:
        by_kind.setdefault(item["kind"], []).append(item)
    for kind, group in by_kind.items():
        doc = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": group}
        (folder / f"{KINDS[kind][1]}.json").write_text(json.dumps(doc, indent=1), encoding="utf-8")
    write_empty_lists(folder, items)  # a real capture holds the kinds it found empty
    info: Obj = {"name": folder.name}
    if captured is not None:
        info["captured"] = captured
    if server_version is not None:
        info["serverVersion"] = server_version
    if labels:
        info["labels"] = labels
    (folder / "cluster.yaml").write_text(yaml.safe_dump(info, sort_keys=False), encoding="utf-8")
    return folder


@dataclass
class Results:
    """``results.json`` of one inner run, by (code, cluster)."""

    records: dict[tuple[str, str], Obj]
    output: str

    def get(self, code: str, cluster: str) -> Obj:
        try:
            return self.records[(code, cluster)]
        except KeyError:
            raise AssertionError(
                f"no result for {code} on {cluster}; have {sorted(self.records)}\n{self.output}"
            ) from None

    def outcome(self, code: str, cluster: str) -> str:
        return str(self.get(code, cluster)["outcome"])

    def message(self, code: str, cluster: str) -> str:
        return str(self.get(code, cluster)["message"])

    def objects(self, code: str, cluster: str) -> list[str]:
        return list(self.get(code, cluster)["objects"])


def run_checks(
    pytester: pytest.Pytester,
    module: str,
    snapshots: list[Path],
    *,
    profile: Path | None = None,
    report_dir: Path,
) -> Results:
    """``pytest checks/MODULE --snapshot ...`` in-process; the verdicts are read back from ``results.json``."""
    argv = [str(CHECKS / module)]
    for folder in snapshots:
        argv += ["--snapshot", str(folder)]
    if profile is not None:
        argv += ["--profile", str(profile)]
    argv += ["--report-dir", str(report_dir), "-p", "no:benchmark", "-p", "no:hypothesispytest", "--assert=plain", "-q"]
    result = pytester.runpytest_inprocess(*argv)
    output = result.stdout.str() + result.stderr.str()
    path = report_dir / "results.json"
    assert path.is_file(), output
    document = json.loads(path.read_text(encoding="utf-8"))
    records = {(r["code"], r["cluster"]): r for r in document["results"]}
    return Results(records, output)


def write_profile(folder: Path, name: str = "test", **fields: Any) -> Path:
    """A profile file extending ``default``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"name": name, "extends": "default", **fields}, sort_keys=False), encoding="utf-8")
    return path


# -- fixtures, imported by the conftests of tests/checks/{tiers,stale,cost,storage} -----------------------
@pytest.fixture
def kit() -> ModuleType:
    """Builders (namespace, deployment, claim_and_volume, schedule ...) and ``write_snapshot``."""
    return sys.modules[__name__]


@pytest.fixture(scope="session")
def scans() -> dict[str, Any]:
    """Results of inner runs kept for the session: a fleet scanned once serves every test that reads it."""
    return {}


@pytest.fixture
def run(pytester: pytest.Pytester, tmp_path: Path) -> Callable[..., Any]:
    """``run(module, snapshots, profile=None)`` -> ``Results`` read from the inner run's results.json."""
    counter = iter(range(1000))

    def go(module: str, snapshots: list[Path], profile: Path | None = None) -> Any:
        report_dir = tmp_path / f"reports-{next(counter)}"
        return run_checks(pytester, module, snapshots, profile=profile, report_dir=report_dir)

    return go
