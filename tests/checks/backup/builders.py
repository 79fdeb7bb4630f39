"""Velero objects shaped like ``kubectl get ... -o json`` on a cluster running Velero 1.14, and snapshot folders.

Shapes follow Velero's API types (corpus manifest 19 for a Schedule): a
BackupStorageLocation with ``spec.objectStorage`` and a validated
``status.phase``, Backups labelled ``velero.io/schedule-name`` with start and
completion timestamps, Restores with ``spec.backupName`` and a namespace
mapping, and the CRDs that make the ``velero.io`` kinds served.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import yaml

from tests.builders import write_empty_lists

Obj = dict[str, Any]

#: The clusters' "now" (``captured`` in cluster.yaml).
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
#: When long-lived objects (namespaces, CRDs) were created.
OLD = NOW - timedelta(days=400)
TENANTS = ("team-a", "team-b-api", "team-c", "team-d", "team-e")
SYSTEM = ("default", "kube-system", "kube-public", "kube-node-lease", "velero")

VELERO_PLURALS = {
    "BackupStorageLocation": "backupstoragelocations",
    "Schedule": "schedules",
    "Backup": "backups",
    "Restore": "restores",
}


def ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _uid(*parts: str) -> str:
    digest = hashlib.sha1("/".join(parts).encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def meta(kind: str, name: str, namespace: str | None, created: datetime, **extra: Any) -> Obj:
    out: Obj = {
        "name": name,
        "uid": _uid(kind, namespace or "", name),
        "resourceVersion": str(40000 + len(name)),
        "generation": 1,
        "creationTimestamp": ts(created),
    }
    if namespace:
        out["namespace"] = namespace
    out.update(extra)
    return out


def namespace(name: str, created: datetime) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": meta("Namespace", name, None, created, labels={"kubernetes.io/metadata.name": name}),
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def velero_crd(kind: str, created: datetime) -> Obj:
    plural = VELERO_PLURALS[kind]
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": meta(
            "CustomResourceDefinition",
            f"{plural}.velero.io",
            None,
            created,
            labels={"component": "velero"},
            annotations={"controller-gen.kubebuilder.io/version": "v0.14.0"},
        ),
        "spec": {
            "group": "velero.io",
            "names": {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower()},
            "scope": "Namespaced",
            "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {}}}],
        },
        "status": {"acceptedNames": {"kind": kind, "plural": plural}, "storedVersions": ["v1"]},
    }


def storage_location(name: str, phase: str | None, now: datetime, *, message: str | None = None) -> Obj:
    status: Obj = {}
    if phase is not None:
        status = {"phase": phase, "lastValidationTime": ts(now - timedelta(seconds=40))}
        if phase == "Available":
            status["lastSyncedTime"] = ts(now - timedelta(seconds=25))
        if message:
            status["message"] = message
    return {
        "apiVersion": "velero.io/v1",
        "kind": "BackupStorageLocation",
        "metadata": meta(
            "BackupStorageLocation", name, "velero", now - timedelta(days=200), labels={"component": "velero"}
        ),
        "spec": {
            "default": name == "default",
            "provider": "aws",
            "objectStorage": {"bucket": f"velero-{name}", "prefix": "cluster-backups"},
            "config": {"region": "eu-west-1", "s3ForcePathStyle": "false"},
            "credential": {"name": "cloud-credentials", "key": "cloud"},
            "accessMode": "ReadWrite",
        },
        "status": status,
    }


def schedule(
    name: str,
    now: datetime,
    *,
    included: list[str] | None = None,
    excluded: list[str] | None = None,
    paused: bool = False,
    phase: str = "Enabled",
    selector: dict[str, str] | None = None,
    created_ago: timedelta = timedelta(days=180),
) -> Obj:
    template: Obj = {
        "csiSnapshotTimeout": "10m0s",
        "itemOperationTimeout": "4h0m0s",
        "includedNamespaces": included if included is not None else ["*"],
        "excludedResources": ["storageclasses.storage.k8s.io"],
        "snapshotVolumes": True,
        "storageLocation": "default",
        "ttl": "720h0m0s",
        "defaultVolumesToFsBackup": False,
    }
    if excluded:
        template["excludedNamespaces"] = excluded
    if selector:
        template["labelSelector"] = {"matchLabels": selector}
    status: Obj = {"phase": phase}
    if phase == "Enabled":
        status["lastBackup"] = ts(now - timedelta(hours=3))
    else:
        status["validationErrors"] = ["invalid schedule: expected exactly 5 fields, found 4: 0 7 * *"]
    return {
        "apiVersion": "velero.io/v1",
        "kind": "Schedule",
        "metadata": meta("Schedule", name, "velero", now - created_ago),
        "spec": {"paused": paused, "schedule": "0 7 * * *", "useOwnerReferencesInBackup": False, "template": template},
        "status": status,
    }


def backup(
    schedule_name: str | None,
    now: datetime,
    *,
    started_ago: timedelta,
    phase: str = "Completed",
    duration: timedelta = timedelta(minutes=7),
    errors: int = 0,
    warnings: int = 0,
    failure_reason: str | None = None,
) -> Obj:
    started = now - started_ago
    prefix = schedule_name or "manual"
    name = f"{prefix}-{started:%Y%m%d%H%M%S}"
    labels = {"velero.io/storage-location": "default"}
    if schedule_name:
        labels["velero.io/schedule-name"] = schedule_name
    status: Obj = {
        "phase": phase,
        "version": 1,
        "formatVersion": "1.1.0",
        "startTimestamp": ts(started),
        "expiration": ts(started + timedelta(days=30)),
        "progress": {"totalItems": 812, "itemsBackedUp": 812 if phase == "Completed" else 640},
    }
    if phase in ("Completed", "PartiallyFailed", "Failed"):
        status["completionTimestamp"] = ts(started + duration)
    if errors:
        status["errors"] = errors
    if warnings:
        status["warnings"] = warnings
    if failure_reason:
        status["failureReason"] = failure_reason
    return {
        "apiVersion": "velero.io/v1",
        "kind": "Backup",
        "metadata": meta(
            "Backup",
            name,
            "velero",
            started,
            labels=labels,
            annotations={"velero.io/source-cluster-k8s-gitversion": "v1.31.4", "velero.io/resource-timeout": "10m0s"},
        ),
        "spec": {"includedNamespaces": ["*"], "storageLocation": "default", "ttl": "720h0m0s"},
        "status": status,
    }


def restore(name: str, now: datetime, *, finished_ago: timedelta, phase: str = "Completed") -> Obj:
    finished = now - finished_ago
    status: Obj = {
        "phase": phase,
        "startTimestamp": ts(finished - timedelta(minutes=12)),
        "progress": {"totalItems": 214, "itemsRestored": 214},
    }
    if phase in ("Completed", "PartiallyFailed", "Failed"):
        status["completionTimestamp"] = ts(finished)
    if phase == "PartiallyFailed":
        status["errors"] = 4
    return {
        "apiVersion": "velero.io/v1",
        "kind": "Restore",
        "metadata": meta("Restore", name, "velero", finished - timedelta(minutes=12)),
        "spec": {
            "backupName": "daily-20260801070000",
            "includedNamespaces": ["team-a"],
            "namespaceMapping": {"team-a": "team-a-drill"},
            "restorePVs": True,
            "existingResourcePolicy": "none",
        },
        "status": status,
    }


def write_cluster(
    root: Path,
    name: str,
    captured: datetime,
    objects: list[Obj],
    *,
    served: tuple[str, ...] = (),
    labels: dict[str, str] | None = None,
) -> Path:
    """A snapshot folder: one ``kubectl get -o json`` List per kind (sonobuoy file names) and ``cluster.yaml``.

    ``served`` names kinds (``velero.io_v1_restores``) that get a file even when
    empty, as a snapshot of a cluster where the CRD exists but holds nothing.
    """
    folder = root / name
    folder.mkdir(parents=True)
    files: dict[str, list[Obj]] = {stem: [] for stem in served}
    for obj in objects:
        group, _, version = obj["apiVersion"].rpartition("/")
        plural = (
            VELERO_PLURALS.get(obj["kind"])
            or {
                "Namespace": "namespaces",
                "CustomResourceDefinition": "customresourcedefinitions",
            }[obj["kind"]]
        )
        files.setdefault(f"{group or 'core'}_{version}_{plural}", []).append(obj)
    for stem, items in files.items():
        document = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items}
        (folder / f"{stem}.json").write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    write_empty_lists(folder, objects)  # a real capture holds the kinds it found empty
    cluster = {"name": name, "captured": ts(captured), "serverVersion": "v1.31.4", "labels": labels or {"tier": "prod"}}
    (folder / "cluster.yaml").write_text(yaml.safe_dump(cluster, sort_keys=False), encoding="utf-8")
    return folder


# -- scenarios ---------------------------------------------------------------------------------------


def namespaces(*tenants: str, born: datetime = OLD) -> list[Obj]:
    """The system namespaces of a kubeadm cluster with Velero, plus ``tenants``."""
    return [namespace(name, born) for name in (*SYSTEM, *tenants)]


def velero(*objects: Obj, phase: str | None = "Available") -> list[Obj]:
    """Velero's CRDs and its default BackupStorageLocation (in ``phase``), plus ``objects``."""
    crds = [velero_crd(kind, OLD) for kind in VELERO_PLURALS]
    return [*crds, storage_location("default", phase, NOW), *objects]


def healthy() -> list[Obj]:
    """A cluster every FC-BACKUP check passes: daily backups of everything, a drill 20 days ago."""
    return [
        *namespaces(*TENANTS),
        *velero(
            schedule("daily", NOW),
            backup("daily", NOW, started_ago=timedelta(hours=27), warnings=2),
            backup("daily", NOW, started_ago=timedelta(hours=3)),
            backup("daily", NOW, started_ago=timedelta(minutes=5), phase="InProgress"),
            restore("drill-2026-11", NOW, finished_ago=timedelta(days=20)),
        ),
    ]
