"""Velero: its CRDs, server, BackupStorageLocation, Schedules, and the Backups and Restores they left.

Backups follow their schedule back in time from capture (a six-hourly
``platform-6h`` over every namespace, an hourly one over the critical
namespaces of big clusters), so ages such as "newest backup completed 4 h
before capture" hold after a replay server shifts the timestamps. The
backup plants change phases and coverage, never the clock.
"""

from __future__ import annotations

import time

from fleetcheck.demo.build import DAY, HOUR, ClusterBuild, Obj
from fleetcheck.demo.controllers import add_deployment, gitops_marks
from fleetcheck.demo.crds import add_crds
from fleetcheck.demo.pods import container

__all__ = ["VELERO_VERSION", "add_velero", "backup_name"]

VELERO_VERSION = "v1.15.1"
_KINDS = [
    ("Backup", "backups"),
    ("BackupRepository", "backuprepositories"),
    ("BackupStorageLocation", "backupstoragelocations"),
    ("DataDownload", "datadownloads"),
    ("DataUpload", "datauploads"),
    ("DeleteBackupRequest", "deletebackuprequests"),
    ("DownloadRequest", "downloadrequests"),
    ("PodVolumeBackup", "podvolumebackups"),
    ("PodVolumeRestore", "podvolumerestores"),
    ("Restore", "restores"),
    ("Schedule", "schedules"),
    ("ServerStatusRequest", "serverstatusrequests"),
    ("VolumeSnapshotLocation", "volumesnapshotlocations"),
]
_FAILURE = "error putting object backups/{name}/velero-backup.json: AccessDenied: Access Denied\n\tstatus code: 403"


def backup_name(schedule: str, at_epoch: int) -> str:
    """Velero's name for a scheduled backup: ``<schedule>-<UTC yyyymmddhhmmss>``."""
    return f"{schedule}-{time.strftime('%Y%m%d%H%M%S', time.gmtime(at_epoch))}"


def add_velero(build: ClusterBuild) -> None:
    """The whole Velero install; every template namespace is covered unless the plan excludes it."""
    plan = build.plan
    add_crds(build, "velero.io", _KINDS, labels={"component": "velero"})
    for key in ("backups", "backupstoragelocations", "restores", "schedules"):
        build.declare(f"{key}.velero.io")
    add_deployment(
        build,
        name="velero",
        namespace="velero",
        labels={"component": "velero", "deploy": "velero"},
        pod_spec={
            "containers": [
                container(
                    "velero",
                    f"{plan.registry}/velero/velero:{VELERO_VERSION}",
                    command=["/velero"],
                    args=["server", "--uploader-type=kopia", "--default-backup-ttl=168h0m0s"],
                    ports=[{"containerPort": 8085, "name": "http-monitoring", "protocol": "TCP"}],
                    requests={"cpu": "500m", "memory": "128Mi"},
                    limits={"cpu": "1", "memory": "512Mi"},
                    mounts=[
                        {"mountPath": "/plugins", "name": "plugins"},
                        {"mountPath": "/credentials", "name": "cloud-credential"},
                    ],
                )
            ],
            "initContainers": [
                container(
                    "velero-plugin-for-aws",
                    f"{plan.registry}/velero/velero-plugin-for-aws:v1.11.1",
                    mounts=[{"mountPath": "/target", "name": "plugins"}],
                )
            ],
            "serviceAccountName": "velero",
            "volumes": [
                {"emptyDir": {}, "name": "plugins"},
                {"name": "cloud-credential", "secret": {"defaultMode": 420, "secretName": "velero-credentials"}},
            ],
        },
        replicas=1,
        app="platform-velero",
    )
    _add_location(build)
    schedules = _add_schedules(build)
    for schedule in schedules:
        _add_backups(build, schedule)
    _add_restores(build)


def _velero_object(
    build: ClusterBuild, kind: str, name: str, *, age: float, labels: dict[str, str] | None = None
) -> Obj:
    """An object in ``velero``; what Argo CD applies (locations, schedules) carries its tracking marks."""
    track_labels, annotations = gitops_marks("platform-velero", "velero.io", kind, "velero", name)
    labels = dict(labels or {})
    if kind in ("BackupStorageLocation", "Schedule"):
        labels.update(track_labels)
    else:
        annotations = {}
    return {
        "apiVersion": "velero.io/v1",
        "kind": kind,
        "metadata": build.metadata(
            name,
            "velero",
            age=age,
            labels=labels or None,
            annotations=annotations or None,
            generation=build.rng.randint(1, 30),
        ),
    }


def _add_location(build: ClusterBuild) -> None:
    plan = build.plan
    bsl = _velero_object(build, "BackupStorageLocation", "default", age=build.rng.uniform(100, 400) * DAY)
    bsl["spec"] = {
        "config": {"region": plan.region, "s3ForcePathStyle": "true", "s3Url": f"https://s3.{plan.region}.example.com"},
        "credential": {"key": "cloud", "name": "velero-credentials"},
        "default": True,
        "objectStorage": {"bucket": f"velero-{plan.name}", "prefix": "backups"},
        "provider": "aws",
    }
    status: Obj = {
        "lastSyncedTime": build.ts(build.rng.uniform(5, 55)),
        "lastValidationTime": build.ts(build.rng.uniform(5, 55)),
        "phase": "Available" if plan.bsl_available else "Unavailable",
    }
    if not plan.bsl_available:
        status["message"] = (
            'BackupStorageLocation "default" is unavailable: rpc error: code = Unknown desc = '
            "InvalidAccessKeyId: The AWS Access Key Id you provided does not exist in our records.\n"
            "\tstatus code: 403"
        )
        status["lastSyncedTime"] = build.ts(1.5 * HOUR)
    bsl["status"] = status
    build.add(bsl)


def _template(included: list[str], excluded: list[str], ttl: str) -> Obj:
    spec: Obj = {
        "csiSnapshotTimeout": "10m0s",
        "defaultVolumesToFsBackup": False,
        "hooks": {},
        "includedNamespaces": included,
        "itemOperationTimeout": "4h0m0s",
        "metadata": {},
        "snapshotMoveData": False,
        "snapshotVolumes": False,
        "storageLocation": "default",
        "ttl": ttl,
    }
    if excluded:
        spec["excludedNamespaces"] = excluded
    return spec


def _add_schedules(build: ClusterBuild) -> list[Obj]:
    plan = build.plan
    teams = build.team_namespaces
    excluded = sorted({teams[index % len(teams)] for index in plan.backup_excluded})
    rows: list[tuple[str, str, list[str], list[str], str, bool]] = [
        ("platform-6h", "0 */6 * * *", ["*"], excluded, "168h0m0s", False)
    ]
    if plan.hourly_schedule:
        critical = [ns for ns in teams[:4] if ns not in excluded]
        rows.append(("critical-hourly", "15 * * * *", critical, [], "72h0m0s", False))
    if excluded:
        legacy = sorted({*excluded, *teams[-2:]})
        rows.append(("legacy-weekly", "0 3 * * 0", legacy, [], "720h0m0s", True))
    schedules = []
    for name, cron, included, excluded, ttl, paused in rows:
        schedule = _velero_object(build, "Schedule", name, age=build.rng.uniform(60, 400) * DAY)
        schedule["spec"] = {
            "paused": paused,
            "schedule": cron,
            "skipImmediately": False,
            "template": _template(included, excluded, ttl),
            "useOwnerReferencesInBackup": False,
        }
        schedule["status"] = {"phase": "Enabled"}
        schedules.append(build.add(schedule))
    return schedules


def _runs(build: ClusterBuild, cron: str, ttl_hours: float) -> list[int]:
    """Epoch seconds of the runs of a ``0 */6`` or ``15 *`` schedule still inside their TTL, newest first."""
    period = 6 * 3600 if cron.startswith("0 */6") else 3600
    offset = 0 if period > 3600 else 15 * 60
    latest = (build.now - 20 * 60 - offset) // period * period + offset
    count = int(ttl_hours * 3600 // period)
    return [latest - i * period for i in range(count)]


def _add_backups(build: ClusterBuild, schedule: Obj) -> None:
    plan = build.plan
    spec = schedule["spec"]
    name = schedule["metadata"]["name"]
    if spec["paused"]:
        schedule["status"]["lastBackup"] = build.ts(build.rng.uniform(200, 400) * DAY)
        return
    ttl_hours = float(spec["template"]["ttl"].split("h", 1)[0])
    runs = _runs(build, spec["schedule"], ttl_hours)
    schedule["status"]["lastBackup"] = build.ts(build.now - runs[0])
    items = (
        build.rng.randint(900, 4000) if "*" in spec["template"]["includedNamespaces"] else build.rng.randint(60, 400)
    )
    for position, run in enumerate(runs):
        started = build.now - run - build.rng.uniform(0.5, 4)
        duration = build.rng.uniform(3, 14) * 60
        failed = position == 0 and plan.newest_backup_failed and name == "platform-6h"
        backup = _velero_object(
            build,
            "Backup",
            backup_name(name, run),
            age=started,
            labels={"velero.io/schedule-name": name, "velero.io/storage-location": "default"},
        )
        backup["spec"] = dict(spec["template"])
        status: Obj = {
            "completionTimestamp": build.ts(started - duration),
            "expiration": build.ts(started - ttl_hours * HOUR),
            "formatVersion": "1.1.0",
            "hookStatus": {},
            "phase": "Failed" if failed else "Completed",
            "progress": {"itemsBackedUp": items, "totalItems": items},
            "startTimestamp": build.ts(started),
            "version": 1,
        }
        if failed:
            status["failureReason"] = _FAILURE.format(name=backup["metadata"]["name"])
            status["progress"] = {"itemsBackedUp": items - build.rng.randint(1, 50), "totalItems": items}
            status["errors"] = 1
        elif build.rng.random() < 0.15:
            status["warnings"] = build.rng.randint(1, 4)
        backup["status"] = status
        build.add(backup)


def _add_restores(build: ClusterBuild) -> None:
    """Two restore drills of one team namespace into a scratch namespace: the newest ``last_restore_days`` ago."""
    plan = build.plan
    target = build.team_namespaces[0]
    for ago in (plan.last_restore_days, plan.last_restore_days + build.rng.uniform(80, 100)):
        started = ago * DAY + build.rng.uniform(0, 6) * HOUR
        source = backup_name("platform-6h", int(build.now - started) // (6 * 3600) * (6 * 3600))
        restore = _velero_object(
            build,
            "Restore",
            f"drill-{time.strftime('%Y%m%d', time.gmtime(build.now - started))}",
            age=started,
        )
        restore["spec"] = {
            "backupName": source,
            "excludedResources": ["nodes", "events", "events.events.k8s.io", "backups.velero.io", "restores.velero.io"],
            "hooks": {},
            "includedNamespaces": [target],
            "itemOperationTimeout": "4h0m0s",
            "namespaceMapping": {target: f"{target}-drill"},
            "restorePVs": True,
        }
        items = build.rng.randint(40, 300)
        restore["status"] = {
            "completionTimestamp": build.ts(started - build.rng.uniform(2, 9) * 60),
            "phase": "Completed",
            "progress": {"itemsRestored": items, "totalItems": items},
            "startTimestamp": build.ts(started),
            "warnings": build.rng.randint(0, 6),
        }
        build.add(restore)
