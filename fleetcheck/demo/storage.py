"""StorageClasses, and the PersistentVolumeClaims / PersistentVolumes StatefulSets bind.

Prod and canary clusters store data on a replicated Ceph RBD class (the one
a profile declares replicated for FC-PV-001) and also offer a node-local
NVMe class for scratch data; dev and edge clusters only have local-path and
keep no PVCs.
"""

from __future__ import annotations

from fleetcheck.demo.build import DAY, ClusterBuild, NodeSlot, Obj

__all__ = [
    "LOCAL_STORAGE_CLASS",
    "REPLICATED_STORAGE_CLASSES",
    "add_claim",
    "add_storage_classes",
    "claim_template",
]

#: Classes whose volumes survive losing a node or a zone (what a profile would declare replicated).
REPLICATED_STORAGE_CLASSES: tuple[str, ...] = ("ceph-rbd-replicated",)
#: The node-local class: fast, and gone with the node.
LOCAL_STORAGE_CLASS = "local-nvme"

_PROVISIONERS = {
    "ceph-rbd-replicated": "rbd.csi.ceph.com",
    LOCAL_STORAGE_CLASS: "openebs.io/local",
    "local-path": "rancher.io/local-path",
}


def add_storage_classes(build: ClusterBuild) -> None:
    """The classes this cluster offers; the first one is the default."""
    age = build.rng.uniform(300, 500) * DAY
    if build.plan.persistent_volumes:
        classes: list[tuple[str, dict[str, str], str, bool]] = [
            (
                "ceph-rbd-replicated",
                {
                    "clusterID": "ceph-" + build.plan.region,
                    "csi.storage.k8s.io/fstype": "ext4",
                    "csi.storage.k8s.io/node-stage-secret-name": "csi-rbd-secret",
                    "csi.storage.k8s.io/node-stage-secret-namespace": "ceph-csi",
                    "csi.storage.k8s.io/provisioner-secret-name": "csi-rbd-secret",
                    "csi.storage.k8s.io/provisioner-secret-namespace": "ceph-csi",
                    "imageFeatures": "layering,fast-diff,object-map,deep-flatten,exclusive-lock",
                    "pool": "k8s-replicated-3x",
                },
                "Immediate",
                True,
            ),
            (LOCAL_STORAGE_CLASS, {}, "WaitForFirstConsumer", False),
        ]
    else:
        classes = [("local-path", {}, "WaitForFirstConsumer", True)]
    for name, parameters, binding, default in classes:
        annotations = {"storageclass.kubernetes.io/is-default-class": "true"} if default else {}
        if name == LOCAL_STORAGE_CLASS:
            annotations["cas.openebs.io/config"] = (
                '- name: StorageType\n  value: "hostpath"\n- name: BasePath\n  value: "/mnt/nvme0"\n'
            )
        obj: Obj = {
            "allowVolumeExpansion": name != LOCAL_STORAGE_CLASS,
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": build.metadata(name, age=age, annotations=annotations or None),
            "provisioner": _PROVISIONERS[name],
            "reclaimPolicy": "Delete",
            "volumeBindingMode": binding,
        }
        if parameters:
            obj["parameters"] = parameters
        build.add(obj)


def claim_template(name: str, storage_class: str, size: str) -> Obj:
    """A StatefulSet ``volumeClaimTemplates`` entry."""
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"creationTimestamp": None, "name": name},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": size}},
            "storageClassName": storage_class,
            "volumeMode": "Filesystem",
        },
        "status": {"phase": "Pending"},
    }


def add_claim(
    build: ClusterBuild,
    *,
    name: str,
    namespace: str,
    storage_class: str,
    size: str,
    labels: dict[str, str],
    node: NodeSlot | None,
    age: float,
) -> Obj:
    """A Bound PVC and the dynamically provisioned PV behind it; returns the PVC."""
    provisioner = _PROVISIONERS[storage_class]
    pvc_meta = build.metadata(
        name,
        namespace,
        age=age,
        labels=labels,
        annotations={
            "pv.kubernetes.io/bind-completed": "yes",
            "pv.kubernetes.io/bound-by-controller": "yes",
            "volume.beta.kubernetes.io/storage-provisioner": provisioner,
            "volume.kubernetes.io/storage-provisioner": provisioner,
            **(
                {"volume.kubernetes.io/selected-node": node.name}
                if node and storage_class == LOCAL_STORAGE_CLASS
                else {}
            ),
        },
    )
    pvc_meta["finalizers"] = ["kubernetes.io/pvc-protection"]
    volume_name = f"pvc-{pvc_meta['uid']}"
    pvc = build.add(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": pvc_meta,
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": size}},
                "storageClassName": storage_class,
                "volumeMode": "Filesystem",
                "volumeName": volume_name,
            },
            "status": {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": size}, "phase": "Bound"},
        }
    )
    pv_spec: Obj = {
        "accessModes": ["ReadWriteOnce"],
        "capacity": {"storage": size},
        "claimRef": {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "name": name,
            "namespace": namespace,
            "resourceVersion": pvc_meta["resourceVersion"],
            "uid": pvc_meta["uid"],
        },
        "persistentVolumeReclaimPolicy": "Delete",
        "storageClassName": storage_class,
        "volumeMode": "Filesystem",
    }
    if storage_class == LOCAL_STORAGE_CLASS and node is not None:
        pv_spec["local"] = {"fsType": "", "path": f"/mnt/nvme0/{volume_name}"}
        pv_spec["nodeAffinity"] = {
            "required": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": [node.name]}]}
                ]
            }
        }
    else:
        pv_spec["csi"] = {
            "driver": provisioner,
            "fsType": "ext4",
            "volumeAttributes": {"clusterID": "ceph-" + build.plan.region, "pool": "k8s-replicated-3x"},
            "volumeHandle": f"0001-0024-ceph-{build.plan.region}-0000000000000002-{build.uid()}",
        }
    build.add(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {
                **build.metadata(
                    volume_name, age=age - 2, annotations={"pv.kubernetes.io/provisioned-by": provisioner}
                ),
                "finalizers": ["kubernetes.io/pv-protection"],
            },
            "spec": pv_spec,
            "status": {"lastPhaseTransitionTime": build.ts(age - 2), "phase": "Bound"},
        }
    )
    return pvc
