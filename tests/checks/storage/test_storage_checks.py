"""FC-PV-001 on real-shaped snapshot fleets: one inner run per fleet, verdicts read from results.json."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

MODULE = "test_storage.py"
CODE = "FC-PV-001"
EBS = "ebs.csi.aws.com"
CEPH = "rook-ceph.rbd.csi.ceph.com"
PROD = {"tier": "prod", "owner": "team-data"}
VELERO_LABEL = {"velero.io/csi-volumesnapshot-class": "true"}


def _gp3(kit: ModuleType, **kwargs: Any) -> Any:
    return kit.storage_class("gp3", EBS, **kwargs)


def _ebs_snapshots(kit: ModuleType) -> list[Any]:
    return [kit.SNAPSHOT_CRD, kit.volume_snapshot_class("ebs-vsc", EBS, labels=VELERO_LABEL)]


def _velero(kit: ModuleType, *schedules: Any) -> list[Any]:
    return [kit.SCHEDULE_CRD, kit.namespace("velero"), *schedules]


def _scenarios(kit: ModuleType) -> dict[str, tuple[dict[str, str], list[Any]]]:
    team_a = kit.namespace("team-a")
    daily = kit.schedule("daily")
    gp3_claim = kit.claim_and_volume("data-pg-0", "team-a", "gp3")
    return {
        "prod-replicated": (
            PROD,
            [
                team_a,
                kit.storage_class("ceph-rbd-replicated", CEPH, default=True),
                kit.storage_class("portworx-repl-3", "pxd.portworx.com"),
                *kit.claim_and_volume("data-pg-0", "team-a", "ceph-rbd-replicated", provisioner=CEPH),
                *kit.claim_and_volume(
                    "data-kafka-0",
                    "team-a",
                    "portworx-repl-3",
                    provisioner="pxd.portworx.com",
                    source=kit.csi_source("pxd.portworx.com", "912837465"),
                ),
            ],
        ),
        "prod-snapshots": (
            PROD,
            [
                team_a,
                kit.namespace("kube-system"),
                _gp3(kit, default=True),
                kit.storage_class("local-path", "rancher.io/local-path"),
                *_ebs_snapshots(kit),
                *_velero(kit, daily),
                *gp3_claim,
                # written without a class and still pending: the default class (gp3) applies
                *kit.claim_and_volume("scratch", "team-a", None, bound=False),
                # system namespaces are not judged, even on a node-local volume
                *kit.claim_and_volume(
                    "etcd-backup", "kube-system", "local-path", source=kit.host_path_source("/var/lib/etcd-backup")
                ),
            ],
        ),
        "prod-no-vsc": (PROD, [team_a, _gp3(kit), kit.SNAPSHOT_CRD, *_velero(kit, daily), *gp3_claim]),
        "prod-no-schedule": (
            PROD,
            [
                team_a,
                _gp3(kit),
                *_ebs_snapshots(kit),
                *_velero(
                    kit,
                    kit.schedule("team-b-daily", included=["team-b"]),
                    kit.schedule("everything", paused=True),
                    kit.schedule("no-volumes", excluded_resources=["persistentvolumeclaims"]),
                    kit.schedule("not-a", excluded=["team-a*"]),
                ),
                *gp3_claim,
            ],
        ),
        "prod-snapshots-off": (
            PROD,
            [
                team_a,
                _gp3(kit),
                *_ebs_snapshots(kit),
                *_velero(kit, kit.schedule("cfg", snapshot_volumes=False)),
                *gp3_claim,
            ],
        ),
        "prod-fs-backup": (
            PROD,
            [
                team_a,
                kit.storage_class("nfs", "cluster.local/nfs-subdir-external-provisioner"),
                *_velero(kit, kit.schedule("fs", fs_backup=True, snapshot_volumes=False)),
                *kit.claim_and_volume(
                    "shared", "team-a", "nfs", source={"nfs": {"server": "10.0.7.12", "path": "/exports/team-a"}}
                ),
            ],
        ),
        "prod-node-local": (
            PROD,
            [
                team_a,
                kit.storage_class("ceph-rbd-replicated", CEPH),
                kit.storage_class("local-nvme", "openebs.io/local"),
                *_velero(kit, kit.schedule("fs", fs_backup=True)),
                *kit.claim_and_volume("data-redis-0", "team-a", "ceph-rbd-replicated", source=kit.host_path_source()),
                *kit.claim_and_volume("data-es-0", "team-a", "local-nvme", source=kit.local_source()),
            ],
        ),
        "prod-ambiguous-vsc": (
            PROD,
            [
                team_a,
                _gp3(kit),
                kit.SNAPSHOT_CRD,
                kit.volume_snapshot_class("ebs-fast", EBS),
                kit.volume_snapshot_class("ebs-archive", EBS),
                *_velero(kit, daily),
                *gp3_claim,
                *kit.claim_and_volume(
                    "data-mysql-0", "team-a", "gp3", annotations={"velero.io/csi-volumesnapshot-class": "ebs-archive"}
                ),
            ],
        ),
        "prod-opt-in": (
            PROD,
            [
                team_a,
                kit.storage_class("nfs", "cluster.local/nfs-subdir-external-provisioner"),
                *_ebs_snapshots(kit),
                *_velero(kit, daily),
                *kit.claim_and_volume(
                    "uploads", "team-a", "nfs", source={"nfs": {"server": "10.0.7.12", "path": "/u"}}
                ),
                *kit.claim_and_volume("cache", "team-a", "nfs", source={"nfs": {"server": "10.0.7.12", "path": "/c"}}),
                kit.pod(
                    "web-0",
                    "team-a",
                    claims={"uploads": "uploads", "cache": "cache"},
                    annotations={"backup.velero.io/backup-volumes": "uploads"},
                ),
            ],
        ),
        "prod-no-velero": (PROD, [team_a, _gp3(kit), *_ebs_snapshots(kit), *gp3_claim]),
        "prod-missing-class": (
            PROD,
            [
                team_a,
                *_ebs_snapshots(kit),
                *_velero(kit, daily),
                *kit.claim_and_volume("db", "team-a", "gp2", bound=False),
            ],
        ),
        "prod-no-claims": (PROD, [team_a, _gp3(kit)]),
        "dev-local": (
            {"tier": "dev"},
            [team_a, *kit.claim_and_volume("data", "team-a", "local-path", source=kit.host_path_source())],
        ),
        "untiered": ({"owner": "x"}, [team_a, *gp3_claim]),
    }


@pytest.fixture
def fleet(kit: ModuleType, run: Callable[..., Any], tmp_path: Path, scans: dict[str, Any]) -> Any:
    """One prod cluster per storage scenario, scanned once for the module under a profile declaring replicas."""
    if "storage" not in scans:
        profile = kit.write_profile(
            tmp_path / "profiles",
            standards={"replicated_storage_classes": ["ceph-rbd-replicated", "portworx-repl-*"]},
        )
        snapshots = [
            kit.write_snapshot(tmp_path / name, objects, labels=labels)
            for name, (labels, objects) in _scenarios(kit).items()
        ]
        scans["storage"] = run(MODULE, snapshots, profile=profile)
    return scans["storage"]


def test_replicated_classes_pass_by_name_and_glob(fleet: Any) -> None:
    assert fleet.outcome(CODE, "prod-replicated") == "pass"


def test_snapshot_class_plus_schedule_passes(fleet: Any) -> None:
    assert fleet.outcome(CODE, "prod-snapshots") == "pass"


def test_no_snapshot_class_for_the_driver_fails(fleet: Any) -> None:
    assert fleet.outcome(CODE, "prod-no-vsc") == "fail"
    message = fleet.message(CODE, "prod-no-vsc")
    assert message.startswith("1 of 1 tenant PVCs on prod cluster prod-no-vsc would not survive a failover")
    assert "expected a class in standards.replicated_storage_classes [ceph-rbd-replicated, portworx-repl-*]" in message
    assert (
        "team-a/PersistentVolumeClaim/data-pg-0: StorageClass gp3 (ebs.csi.aws.com) is not declared replicated "
        "and is not backed up: no VolumeSnapshotClass for driver ebs.csi.aws.com; no file-system backup "
        "(defaultVolumesToFsBackup, or Pod annotation backup.velero.io/backup-volumes) takes it instead" in message
    )
    assert fleet.objects(CODE, "prod-no-vsc") == ["team-a/PersistentVolumeClaim/data-pg-0"]


def test_no_unpaused_schedule_keeping_the_namespace_volumes_fails(fleet: Any) -> None:
    assert fleet.outcome(CODE, "prod-no-schedule") == "fail"
    message = fleet.message(CODE, "prod-no-schedule")
    # paused, other namespaces, namespace excluded by glob, PVCs excluded: none counts; the snapshot class is fine
    assert message.endswith(
        "team-a/PersistentVolumeClaim/data-pg-0: StorageClass gp3 (ebs.csi.aws.com) is not declared replicated "
        "and is not backed up: no unpaused Velero Schedule backs up namespace team-a with its volumes"
    )


def test_schedule_with_snapshots_off_and_no_fs_backup_fails(fleet: Any) -> None:
    assert fleet.outcome(CODE, "prod-snapshots-off") == "fail"
    assert "Schedule velero/Schedule/cfg covers it with snapshotVolumes: false and no file-system backup" in (
        fleet.message(CODE, "prod-snapshots-off")
    )


def test_default_file_system_backup_covers_volumes_without_snapshots(fleet: Any) -> None:
    assert fleet.outcome(CODE, "prod-fs-backup") == "pass"


def test_host_path_and_local_volumes_fail_whatever_the_class(fleet: Any) -> None:
    assert fleet.outcome(CODE, "prod-node-local") == "fail"
    message = fleet.message(CODE, "prod-node-local")
    assert "team-a/PersistentVolumeClaim/data-redis-0: bound to PersistentVolume/pvc-" in message
    assert "a hostPath volume (/mnt/data/pg on whichever node mounts it): the data dies with the node" in message
    assert "a local volume (/mnt/nvme0/pv-7 on node ip-10-0-3-41): the data dies with the node" in message
    assert fleet.objects(CODE, "prod-node-local") == [
        "team-a/PersistentVolumeClaim/data-redis-0",
        "team-a/PersistentVolumeClaim/data-es-0",
    ]


def test_velero_must_be_able_to_pick_a_snapshot_class(fleet: Any) -> None:
    assert fleet.outcome(CODE, "prod-ambiguous-vsc") == "fail"
    message = fleet.message(CODE, "prod-ambiguous-vsc")
    assert "2 VolumeSnapshotClasses for driver ebs.csi.aws.com (ebs-archive, ebs-fast) and none labelled" in message
    assert "so Velero cannot pick one" in message
    # the PVC that names its class by annotation is fine
    assert fleet.objects(CODE, "prod-ambiguous-vsc") == ["team-a/PersistentVolumeClaim/data-pg-0"]


def test_pod_opt_in_file_system_backup_covers_only_the_named_volume(fleet: Any) -> None:
    assert fleet.outcome(CODE, "prod-opt-in") == "fail"
    message = fleet.message(CODE, "prod-opt-in")
    assert (
        "team-a/PersistentVolumeClaim/cache: StorageClass nfs is not declared replicated and is not backed up: "
        "it is an in-tree nfs volume, which CSI snapshots cannot take; no file-system backup" in message
    )
    assert fleet.objects(CODE, "prod-opt-in") == ["team-a/PersistentVolumeClaim/cache"]


def test_without_velero_snapshot_classes_are_not_enough(fleet: Any) -> None:
    assert fleet.outcome(CODE, "prod-no-velero") == "fail"
    assert "StorageClass gp3 (ebs.csi.aws.com) is not declared replicated and is not backed up: Velero is not" in (
        fleet.message(CODE, "prod-no-velero")
    )


def test_pending_claim_on_a_missing_class_fails(fleet: Any) -> None:
    assert fleet.outcome(CODE, "prod-missing-class") == "fail"
    assert "its CSI driver is unknown (StorageClass gp2 does not exist and no PersistentVolume is bound)" in (
        fleet.message(CODE, "prod-missing-class")
    )


def test_non_prod_untiered_and_claimless_clusters_skip(fleet: Any) -> None:
    assert fleet.outcome(CODE, "dev-local") == "skip"
    assert fleet.message(CODE, "dev-local") == "dev cluster (label tier=dev): FC-PV-001 judges prod clusters only"
    assert fleet.outcome(CODE, "untiered") == "skip"
    assert "FC-TIER-001 reports it" in fleet.message(CODE, "untiered")
    assert fleet.outcome(CODE, "prod-no-claims") == "skip"
    assert fleet.message(CODE, "prod-no-claims") == "no PersistentVolumeClaims in tenant namespaces"


def test_without_declared_replicas_a_replicated_class_needs_backups(
    kit: ModuleType, run: Callable[..., Any], tmp_path: Path
) -> None:
    labels, objects = _scenarios(kit)["prod-replicated"]
    results = run(MODULE, [kit.write_snapshot(tmp_path / "prod-replicated", objects, labels=labels)])
    assert results.outcome(CODE, "prod-replicated") == "fail"
    message = results.message(CODE, "prod-replicated")
    assert "[none declared]" in message
    assert "StorageClass ceph-rbd-replicated (rook-ceph.rbd.csi.ceph.com) is not declared replicated" in message
    assert "Velero is not installed" in message
