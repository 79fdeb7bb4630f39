"""Portable data: a prod cluster's volumes survive losing the cluster (FC-PV-001).

A prod volume survives a failover to another cluster in one of two ways:

- its StorageClass is replicated beyond the cluster (Ceph RBD mirrored to a
  second site, a cloud disk replicated across zones that a standby cluster
  can attach): the profile lists those classes in
  ``standards.replicated_storage_classes`` (names or globs);
- Velero backs it up to object storage: an unpaused Schedule covering the
  PVC's namespace either takes CSI snapshots (``snapshotVolumes`` not
  ``false``, and a VolumeSnapshotClass for the volume's CSI driver that
  Velero can pick) or copies the files (``defaultVolumesToFsBackup: true``,
  or the Pod opt-in annotation ``backup.velero.io/backup-volumes``).

``hostPath`` and ``local`` PersistentVolumes live on one node of one
cluster and fail regardless of their class.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fleetcheck import ClusterView, Findings, check, object_ref, skip
from fleetcheck.facts.tiers import read_tier
from fleetcheck.facts.velero import SCHEDULES, ScheduleScope

Obj = dict[str, Any]

PVCS = "persistentvolumeclaims"
PVS = "persistentvolumes"
STORAGE_CLASSES = "storageclasses"
SNAPSHOT_CLASSES = "snapshot.storage.k8s.io/v1 volumesnapshotclasses"

#: Velero picks the VolumeSnapshotClass of a driver carrying this label (any value) ...
VELERO_VSC_LABEL = "velero.io/csi-volumesnapshot-class"
#: ... or the one named by this annotation on the PVC or its StorageClass ...
VELERO_VSC_ANNOTATION = "velero.io/csi-volumesnapshot-class"
#: ... or the driver's default class ...
DEFAULT_VSC_ANNOTATION = "snapshot.storage.kubernetes.io/is-default-class"
#: Pod annotation opting named volumes into Velero file-system backup.
FS_BACKUP_OPT_IN = "backup.velero.io/backup-volumes"
DEFAULT_SC_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)
#: PersistentVolume sources that are not CSI: in-tree drivers, which CSI snapshots cannot take.
_IN_TREE_SOURCES = (
    "awsElasticBlockStore",
    "gcePersistentDisk",
    "azureDisk",
    "azureFile",
    "cinder",
    "vsphereVolume",
    "nfs",
    "iscsi",
    "rbd",
    "cephfs",
    "fc",
    "glusterfs",
    "portworxVolume",
    "flexVolume",
)
_PVC_RESOURCES = ("persistentvolumeclaims", "persistentvolumeclaim", "pvc")
_PV_RESOURCES = ("persistentvolumes", "persistentvolume", "pv")


def _meta(obj: Obj) -> Obj:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _spec(obj: Obj) -> Obj:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def _names_resource(patterns: Iterable[Any], resources: tuple[str, ...]) -> bool:
    for pattern in patterns:
        text = str(pattern).lower()
        if text == "*" or text in resources or any(text.startswith(f"{r}.") for r in resources):
            return True
    return False


@dataclass(frozen=True)
class VolumeSchedule:
    """A Velero Schedule as FC-PV-001 reads it: which namespaces, and how volumes are taken."""

    scope: ScheduleScope
    #: ``spec.template.snapshotVolumes`` is not ``false``
    snapshots: bool
    #: ``spec.template.defaultVolumesToFsBackup`` (or the older ``defaultVolumesToRestic``) is true
    fs_backup: bool
    #: the resource filters keep PVCs and PVs in the backup
    keeps_volumes: bool

    @classmethod
    def from_object(cls, schedule: Obj) -> VolumeSchedule:
        """Read a ``velero.io/v1`` Schedule."""
        template = _spec(schedule).get("template") or {}
        included = [
            *(template.get("includedResources") or []),
            *(template.get("includedNamespaceScopedResources") or []),
        ]
        excluded = [
            *(template.get("excludedResources") or []),
            *(template.get("excludedNamespaceScopedResources") or []),
            *(template.get("excludedClusterScopedResources") or []),
        ]
        keeps = (not included or _names_resource(included, _PVC_RESOURCES)) and not _names_resource(
            excluded, _PVC_RESOURCES + _PV_RESOURCES
        )
        return cls(
            scope=ScheduleScope.from_object(schedule),
            snapshots=template.get("snapshotVolumes") is not False,
            fs_backup=bool(template.get("defaultVolumesToFsBackup") or template.get("defaultVolumesToRestic")),
            keeps_volumes=keeps,
        )

    def covers(self, namespace: str) -> bool:
        """Runs, selects ``namespace`` and keeps its volumes."""
        return self.scope.runs and self.scope.includes(namespace) and self.keeps_volumes


@dataclass(frozen=True)
class Volume:
    """Where a PVC's data lives: its class, its PersistentVolume and the driver that serves it."""

    claim: Obj
    class_name: str | None
    storage_class: Obj | None
    pv: Obj | None

    @property
    def namespace(self) -> str:
        """The PVC's namespace."""
        return str(_meta(self.claim).get("namespace", ""))

    @property
    def node_bound(self) -> str | None:
        """Why the data lives on one node (``hostPath``/``local`` PV), or ``None``."""
        if self.pv is None:
            return None
        spec, name = _spec(self.pv), _meta(self.pv).get("name", "?")
        if isinstance(spec.get("hostPath"), dict):
            path = spec["hostPath"].get("path", "?")
            return f"bound to PersistentVolume/{name}, a hostPath volume ({path} on whichever node mounts it)"
        if isinstance(spec.get("local"), dict):
            nodes = _affinity_nodes(self.pv)
            where = f" on node {', '.join(nodes)}" if nodes else " on one node"
            return f"bound to PersistentVolume/{name}, a local volume ({spec['local'].get('path', '?')}{where})"
        return None

    @property
    def driver(self) -> str | None:
        """The CSI driver: the PV's ``spec.csi.driver``, else (no PV yet) the class's provisioner."""
        if self.pv is not None:
            csi = _spec(self.pv).get("csi")
            return str(csi.get("driver")) if isinstance(csi, dict) and csi.get("driver") else None
        if self.storage_class is not None:
            return str(self.storage_class.get("provisioner") or "") or None
        return None

    @property
    def in_tree_source(self) -> str | None:
        """The PV's in-tree volume source (``awsElasticBlockStore``, ``nfs`` ...), if it has one."""
        spec = _spec(self.pv) if self.pv is not None else {}
        return next((source for source in _IN_TREE_SOURCES if isinstance(spec.get(source), dict)), None)


def _affinity_nodes(pv: Obj) -> list[str]:
    terms = ((_spec(pv).get("nodeAffinity") or {}).get("required") or {}).get("nodeSelectorTerms") or []
    return [
        str(value)
        for term in terms
        for expr in term.get("matchExpressions") or []
        if expr.get("key") == "kubernetes.io/hostname"
        for value in expr.get("values") or []
    ]


def _default_class(classes: dict[str, Obj]) -> str | None:
    for name, storage_class in sorted(classes.items()):
        annotations = _meta(storage_class).get("annotations") or {}
        if any(str(annotations.get(key, "")).lower() == "true" for key in DEFAULT_SC_ANNOTATIONS):
            return name
    return None


def _volume(claim: Obj, pvs: dict[str, Obj], classes: dict[str, Obj], default: str | None) -> Volume:
    spec = _spec(claim)
    pv = pvs.get(str(spec.get("volumeName") or ""))
    name = spec.get("storageClassName")
    if name is None:
        # a PVC written without a class gets the default one; a bound PV says which class it has
        name = _spec(pv).get("storageClassName") if pv is not None else default
    class_name = str(name) if name else None
    return Volume(claim, class_name, classes.get(class_name) if class_name else None, pv)


def _snapshot_class(volume: Volume, snapshot_classes: list[Obj], snapshot_api: bool) -> tuple[str | None, str]:
    """(the VolumeSnapshotClass Velero would use, or None; why not), as Velero 1.14+ chooses one."""
    driver = volume.driver
    if driver is None:
        if volume.in_tree_source:
            return None, f"it is an in-tree {volume.in_tree_source} volume, which CSI snapshots cannot take"
        if volume.pv is None and volume.storage_class is None:
            known = (
                f"StorageClass {volume.class_name} does not exist" if volume.class_name else "it has no StorageClass"
            )
            return None, f"its CSI driver is unknown ({known} and no PersistentVolume is bound)"
        return None, "its volume has no CSI driver to snapshot"
    if not snapshot_api:
        return None, f"no VolumeSnapshotClass for driver {driver} (the snapshot.storage.k8s.io CRDs are not installed)"
    mine = [vsc for vsc in snapshot_classes if str(vsc.get("driver", "")) == driver]
    if not mine:
        return None, f"no VolumeSnapshotClass for driver {driver}"
    by_name = {str(_meta(vsc).get("name", "")).lower(): vsc for vsc in mine}
    for owner in (volume.claim, volume.storage_class or {}):
        named = str((_meta(owner).get("annotations") or {}).get(VELERO_VSC_ANNOTATION, "")).lower()
        if named and named in by_name:
            return str(_meta(by_name[named]).get("name")), ""
    labelled = [vsc for vsc in mine if VELERO_VSC_LABEL in (_meta(vsc).get("labels") or {})]
    if labelled:
        return str(_meta(labelled[0]).get("name")), ""
    defaults = [vsc for vsc in mine if DEFAULT_VSC_ANNOTATION in (_meta(vsc).get("annotations") or {})]
    if defaults:
        return str(_meta(defaults[0]).get("name")), ""
    if len(mine) == 1:
        return str(_meta(mine[0]).get("name")), ""
    names = ", ".join(sorted(str(_meta(vsc).get("name")) for vsc in mine))
    return None, (
        f"{len(mine)} VolumeSnapshotClasses for driver {driver} ({names}) and none labelled {VELERO_VSC_LABEL} "
        "or annotated default, so Velero cannot pick one"
    )


def _fs_opt_ins(pods: list[Obj]) -> set[tuple[str, str]]:
    """(namespace, claim) of PVCs a Pod opts into file-system backup by annotation."""
    claims: set[tuple[str, str]] = set()
    for pod in pods:
        meta = _meta(pod)
        wanted = {v.strip() for v in str((meta.get("annotations") or {}).get(FS_BACKUP_OPT_IN, "")).split(",")}
        if not wanted - {""}:
            continue
        for volume in _spec(pod).get("volumes") or []:
            if not isinstance(volume, dict):
                continue
            claim = volume.get("persistentVolumeClaim")
            if volume.get("name") in wanted and isinstance(claim, dict) and claim.get("claimName"):
                claims.add((str(meta.get("namespace", "")), str(claim["claimName"])))
    return claims


def _backup_gap(
    volume: Volume,
    schedules: list[VolumeSchedule],
    snapshot: tuple[str | None, str],
    opted_in: bool,
    velero: bool,
) -> str | None:
    """Why Velero does not back up ``volume``'s data, or ``None`` when it does."""
    covering = [s for s in schedules if s.covers(volume.namespace)]
    if covering and (opted_in or any(s.fs_backup for s in covering)):
        return None
    snapshot_class, no_snapshot = snapshot
    snapshotting = [s for s in covering if s.snapshots]
    if snapshotting and snapshot_class is not None:
        return None
    if not velero:
        reasons = ["Velero is not installed", no_snapshot]
    elif not covering:
        reasons = [f"no unpaused Velero Schedule backs up namespace {volume.namespace} with its volumes", no_snapshot]
    elif not snapshotting:
        refs = ", ".join(s.scope.ref for s in covering)
        reasons = [f"Schedule {refs} covers it with snapshotVolumes: false and no file-system backup"]
    else:
        reasons = [
            no_snapshot,
            f"no file-system backup (defaultVolumesToFsBackup, or Pod annotation {FS_BACKUP_OPT_IN}) takes it instead",
        ]
    return "; ".join(reason for reason in reasons if reason)


@check(
    "FC-PV-001",
    title="Prod PVC whose data would not survive a failover to another cluster",
    factor="portable-data",
    severity="high",
    reads=[PVCS, PVS, STORAGE_CLASSES, SNAPSHOT_CLASSES, SCHEDULES, "pods"],
    success="every tenant PVC of this prod cluster is on a replicated class or backed up by Velero",
)
def test_prod_volumes_survive_failover(cluster: ClusterView) -> None:
    """A prod PVC's StorageClass is neither declared replicated nor covered by snapshots plus Velero backup.

    What: on clusters whose tier (FC-TIER-001) is ``prod``, every PVC in a
    tenant namespace (not a system namespace of the profile or the
    provider) passes when
    its StorageClass (``spec.storageClassName``; for a PVC without one, its
    PersistentVolume's class, else the default class) matches the profile's
    ``standards.replicated_storage_classes``, or when Velero backs it up: an
    unpaused Schedule that selects the namespace and keeps PVCs/PVs in its
    resource filters, and either copies files (``defaultVolumesToFsBackup:
    true``, or the Pod annotation ``backup.velero.io/backup-volumes`` naming
    the volume) or takes CSI snapshots (``snapshotVolumes`` not ``false``)
    with a VolumeSnapshotClass for the volume's CSI driver that Velero can
    pick: one named by the PVC's or StorageClass's
    ``velero.io/csi-volumesnapshot-class`` annotation, one labelled
    ``velero.io/csi-volumesnapshot-class``, the driver's default class, or
    the driver's only class. A PVC bound to a ``hostPath`` or ``local``
    PersistentVolume fails whatever its class. Not evaluated: Schedules'
    label selectors, and whether a Pod mounts the volume when the backup
    runs (Velero's file-system backup copies only mounted volumes). Clusters
    of other tiers are skipped with the reason.
    Why: a fleet promises that a cluster can be lost and its workloads
    brought up elsewhere, but volumes are the part that does not move. Data
    on node-local disks (``local-path``, ``local``/``hostPath`` PVs, a local
    NVMe class) dies with the node; data on a cluster-local, unsnapshotted
    class dies with the cluster or its zone; a VolumeSnapshotClass alone is
    not a backup, since snapshots stay on the same storage unless Velero (or
    its data mover) takes them on a schedule. Stateful prod services are
    where that loss is permanent.
    Fix: move the data to a class the profile declares replicated (and list
    it under ``standards.replicated_storage_classes``), or back it up:
    install the external-snapshotter CRDs and a VolumeSnapshotClass for the
    driver labelled ``velero.io/csi-volumesnapshot-class: "true"``, and give
    the namespace an unpaused Velero Schedule (``snapshotVolumes`` left
    unset, or ``defaultVolumesToFsBackup: true`` for drivers without
    snapshots). Never keep prod data on hostPath/local volumes; move it to a
    network-attached class.
    References: https://velero.io/docs/main/csi/ ;
    https://velero.io/docs/main/file-system-backup/ ;
    https://kubernetes.io/docs/concepts/storage/volume-snapshot-classes/ ;
    https://kubernetes.io/docs/concepts/storage/volumes/#hostpath
    """
    declared = read_tier(cluster.labels)
    if declared.tier is None:
        skip(f"cannot tell whether {cluster.name} is a prod cluster: {declared.problem()} (FC-TIER-001 reports it)")
    if declared.tier != "prod":
        skip(f"{declared.tier} cluster ({declared.source}): FC-PV-001 judges prod clusters only")
    profile = cluster.profile
    claims = [
        claim
        for claim in cluster.list(PVCS)
        if not cluster.is_system_namespace(str(_meta(claim).get("namespace", "")))
        and not _meta(claim).get("deletionTimestamp")
    ]
    if not claims:
        skip("no PersistentVolumeClaims in tenant namespaces")

    replicated = profile.standards.replicated_storage_classes
    pvs = {str(_meta(pv).get("name", "")): pv for pv in cluster.list(PVS)}
    classes = {str(_meta(sc).get("name", "")): sc for sc in cluster.list(STORAGE_CLASSES)}
    default = _default_class(classes)
    snapshot_api = cluster.serves(SNAPSHOT_CLASSES)
    snapshot_classes = cluster.list(SNAPSHOT_CLASSES)
    velero = cluster.serves(SCHEDULES)
    schedules = [VolumeSchedule.from_object(s) for s in cluster.list(SCHEDULES)]
    opt_ins = _fs_opt_ins(cluster.list("pods"))

    findings = Findings()
    for claim in claims:
        volume = _volume(claim, pvs, classes, default)
        ref = object_ref(claim, "PersistentVolumeClaim")
        node_bound = volume.node_bound
        if node_bound is not None:
            findings.add(ref, f"{node_bound}: the data dies with the node")
            continue
        if volume.class_name and any(fnmatch.fnmatchcase(volume.class_name, p) for p in replicated):
            continue
        snapshot = _snapshot_class(volume, snapshot_classes, snapshot_api)
        opted_in = (volume.namespace, str(_meta(claim).get("name", ""))) in opt_ins
        gap = _backup_gap(volume, schedules, snapshot, opted_in, velero)
        if gap is None:
            continue
        driver = f" ({volume.driver})" if volume.driver else ""
        what = f"StorageClass {volume.class_name}{driver}" if volume.class_name else "no StorageClass"
        findings.add(ref, f"{what} is not declared replicated and is not backed up: {gap}")
    declared_classes = ", ".join(replicated) if replicated else "none declared"
    findings.raise_if_any(
        f"{len(findings)} of {len(claims)} tenant PVCs on prod cluster {cluster.name} would not survive a failover "
        f"to another cluster (expected a class in standards.replicated_storage_classes [{declared_classes}], or an "
        "unpaused Velero Schedule of the namespace taking CSI snapshots or file-system backups; never hostPath/local)"
    )


def _writable_host_paths(pod: Obj) -> list[str]:
    """``hostPath`` volumes a pod's containers mount read-write (read-only mounts keep no data)."""
    spec = _spec(pod)
    host_paths = {
        str(v.get("name")): str((v.get("hostPath") or {}).get("path", "?"))
        for v in spec.get("volumes") or []
        if isinstance(v.get("hostPath"), dict)
    }
    if not host_paths:
        return []
    writable: list[str] = []
    for container in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]:
        for mount in container.get("volumeMounts") or []:
            name = str(mount.get("name"))
            if name in host_paths and not mount.get("readOnly"):
                writable.append(f"{host_paths[name]} at {mount.get('mountPath', '?')} ({container.get('name', '?')})")
    return writable


@check(
    "FC-PV-002",
    title="Prod pod keeps data in a hostPath directory on its node",
    factor="portable-data",
    severity="medium",
    reads=["pods"],
    success="no tenant pod of this prod cluster writes to a hostPath directory",
)
def test_prod_pods_keep_no_data_on_the_node(cluster: ClusterView) -> None:
    """A pod in a tenant namespace of a prod cluster mounts a ``hostPath`` volume read-write.

    What: on clusters whose tier (FC-TIER-001) is ``prod``, every running or
    pending pod in a tenant namespace (not a system namespace of the
    profile or the provider) is read; a ``hostPath`` volume mounted without ``readOnly:
    true`` by any container or init container is a finding. Such data never
    passes through a PersistentVolumeClaim, so FC-PV-001, Velero's volume
    backups and every storage report are blind to it. Read-only mounts (a
    node's certificates, its logs) keep no data and pass. Clusters of other
    tiers are skipped with the reason.
    Why: a pod writing to its node's disk loses that data when it is
    rescheduled to another node, when the node is replaced, and certainly
    when the workload fails over to another cluster; the loss is silent,
    because nothing in the API says the data existed. On a fleet, where
    clusters are meant to be rebuilt from git, node-local state is the part
    that cannot be rebuilt.
    Fix: give the workload a PersistentVolumeClaim on a class the profile
    declares replicated (or one Velero backs up), or an ``emptyDir`` if the
    data is scratch; keep ``hostPath`` for system agents in system
    namespaces, mounted read-only where they only read.
    References: https://kubernetes.io/docs/concepts/storage/volumes/#hostpath ;
    https://kubernetes.io/docs/concepts/storage/persistent-volumes/
    """
    declared = read_tier(cluster.labels)
    if declared.tier is None:
        skip(f"cannot tell whether {cluster.name} is a prod cluster: {declared.problem()} (FC-TIER-001 reports it)")
    if declared.tier != "prod":
        skip(f"{declared.tier} cluster ({declared.source}): FC-PV-002 judges prod clusters only")
    pods = [
        pod
        for pod in cluster.list("pods")
        if not cluster.is_system_namespace(str(_meta(pod).get("namespace", "")))
        and (_spec(pod) and (pod.get("status") or {}).get("phase") in (None, "Pending", "Running"))
    ]
    if not pods:
        skip("no running pods in tenant namespaces")
    findings = Findings()
    for pod in pods:
        writable = _writable_host_paths(pod)
        if writable:
            findings.add(object_ref(pod, "Pod"), "writes to hostPath " + "; ".join(writable))
    findings.raise_if_any(
        f"{len(findings)} of {len(pods)} tenant pods on prod cluster {cluster.name} keep data on their node "
        "(expected a PersistentVolumeClaim on a replicated or backed-up class, or emptyDir for scratch data)"
    )
