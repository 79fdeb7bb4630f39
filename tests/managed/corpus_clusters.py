"""Snapshot folders of managed and distribution clusters, built at test time from ``../shared/corpus/managed``.

Nothing of the corpus is copied into the repository: each test reads the
corpus files, fills their template placeholders (``{{cluster_name}}``,
``$CILIUM_IMAGE_REGISTRY``, ``__CALICO_CNI_DIR__``, ``%{...}%``) the way the
upstream tooling would, and writes snapshot folders into ``tmp_path``. What
a manifest lacks and every captured object has is added, and said here:

- DaemonSets and Deployments get the ``status`` the controller writes once
  every pod is up (desired = ready = updated = the number of nodes);
- Nodes get a ``Ready`` condition, since a capture of a working cluster has it;
- objects the corpus cannot supply (AKS's base Corefile, the RKE2 canal
  DaemonSet, the AKS ``gatekeeper-system`` namespace) are written here in
  the shape the corpus README documents, and marked ``# shaped, not captured``.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.builders import k8s_list, write_json
from tests.builders import write_snapshot as _write_snapshot

Obj = dict[str, Any]

_PLACEHOLDERS: tuple[tuple[str, str], ...] = (
    ("$CILIUM_IMAGE_REGISTRY", "mcr.microsoft.com/containernetworking"),
    ("$CILIUM_VERSION_TAG", "v1.18.9-260508"),
    ("%{SYSTEM_DEFAULT_REGISTRY}%", ""),
    ("__CALICO_CNI_DIR__", "/opt/cni/bin"),
)
_MUSTACHE = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def fill(text: str) -> str:
    """The template placeholders of a corpus file filled in as its tooling would."""
    for placeholder, value in _PLACEHOLDERS:
        text = text.replace(placeholder, value)
    return _MUSTACHE.sub(lambda m: "demo" if "name" in m[1] else "On", text)


def corpus_objects(corpus: Path, prefix: str) -> list[Obj]:
    """Every object of the corpus file whose name starts with ``prefix`` (``01_``), placeholders filled."""
    [path] = sorted((corpus / "managed").glob(f"{prefix}*"))
    text = fill(path.read_text(encoding="utf-8"))
    docs: list[Any] = [json.loads(text)] if path.suffix == ".json" else list(yaml.safe_load_all(text))
    objects: list[Obj] = []
    for doc in docs:
        if isinstance(doc, list):
            objects.extend(d for d in doc if isinstance(d, dict))
        elif isinstance(doc, dict) and isinstance(doc.get("items"), list):
            objects.extend(d for d in doc["items"] if isinstance(d, dict))
        elif isinstance(doc, dict):
            objects.append(doc)
    return objects


def of_kind(objects: Iterable[Obj], kind: str, name: str | None = None) -> list[Obj]:
    return [o for o in objects if o.get("kind") == kind and (name is None or o["metadata"].get("name") == name)]


def ready_node(node: Obj, kubelet: str | None = None) -> Obj:
    node = copy.deepcopy(node)
    node.setdefault("apiVersion", "v1")
    node.setdefault("kind", "Node")
    status = node.setdefault("status", {})
    conditions = status.setdefault("conditions", [])
    if not any(c.get("type") == "Ready" for c in conditions):
        conditions.append({"type": "Ready", "status": "True", "lastHeartbeatTime": "2026-11-24T09:59:00Z"})
    if kubelet:
        status.setdefault("nodeInfo", {})["kubeletVersion"] = kubelet
    return node


def rolled_out(obj: Obj, nodes: int, namespace: str | None = None) -> Obj:
    """A workload manifest with the status its controller writes once every pod is ready."""
    obj = copy.deepcopy(obj)
    meta = obj["metadata"]
    if namespace and not meta.get("namespace"):
        meta["namespace"] = namespace
    meta.setdefault("generation", 1)
    if obj["kind"] == "DaemonSet":
        obj["apiVersion"] = "apps/v1"
        obj["status"] = {
            "currentNumberScheduled": nodes,
            "desiredNumberScheduled": nodes,
            "numberAvailable": nodes,
            "numberReady": nodes,
            "updatedNumberScheduled": nodes,
            "observedGeneration": meta["generation"],
        }
    elif obj["kind"] == "Deployment":
        replicas = int((obj.get("spec") or {}).get("replicas") or 1)
        obj["status"] = {
            "replicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "updatedReplicas": replicas,
            "observedGeneration": meta["generation"],
        }
    return obj


def namespace(name: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}, "status": {"phase": "Active"}}


def system_namespaces(*extra: str) -> list[Obj]:
    return [namespace(n) for n in ("default", "kube-system", "kube-public", "kube-node-lease", *extra)]


PODS = ("core", "v1", "pods")
DAEMONSETS = ("apps", "v1", "daemonsets")
#: kinds every built snapshot holds as captured and empty: the checks' tenant kinds (no quota objects are in the
#: corpus, and a managed cluster's own namespaces hold none), and the CRDs (none of the corpus clusters' CRDs
#: matter to these checks, so "installed" questions are answered "no CRD", not "not captured")
EMPTY: tuple[tuple[str, str, str], ...] = (
    ("core", "v1", "resourcequotas"),
    ("core", "v1", "limitranges"),
    ("apiextensions.k8s.io", "v1", "customresourcedefinitions"),
)


def write_snapshot(
    folder: Path,
    objects: list[Obj],
    *,
    name: str,
    server_version: str | None,
    empty: tuple[tuple[str, str, str], ...] = (),
) -> Path:
    """A snapshot holding the kinds of ``objects``, :data:`EMPTY` and ``empty`` (group, version, plural) only.

    Kinds the corpus does not show for a cluster stay unheld, so a check that needs one says "the snapshot
    holds no ..." instead of judging an empty list the data never showed.
    """
    path = _write_snapshot(folder, objects, name=name, server_version=server_version, complete=False)
    for group, version, plural in (*EMPTY, *empty):
        write_json(path / f"{group}_{version}_{plural}.json", k8s_list([]))
    return path


@dataclass(frozen=True)
class CorpusCluster:
    """One snapshot folder and what the corpus objects in it say the cluster runs."""

    name: str
    path: Path
    provider: str


def eks(corpus: Path, root: Path) -> CorpusCluster:
    """EKS 1.24: eksctl nodegroup nodes (12), VPC CNI (01), the default add-ons (03), Container Insights (06),
    aws-for-fluent-bit (09), the EBS CSI driver (07, 08); /version from ``kubectl version -o json`` (05)."""
    nodes = [ready_node(n, "v1.24.16-eks-2d98532") for n in corpus_objects(corpus, "12_")]
    addons = corpus_objects(corpus, "03_")
    insights = corpus_objects(corpus, "06_")
    workloads = [
        *of_kind(corpus_objects(corpus, "01_"), "DaemonSet"),
        *of_kind(addons, "DaemonSet", "kube-proxy"),
        *of_kind(addons, "Deployment"),
        *of_kind(insights, "DaemonSet"),
        *of_kind(corpus_objects(corpus, "09_"), "DaemonSet"),
        *of_kind(corpus_objects(corpus, "07_"), "Deployment"),
        *of_kind(corpus_objects(corpus, "08_"), "DaemonSet"),
    ]
    objects = [
        *nodes,
        *(rolled_out(w, len(nodes), "kube-system") for w in workloads),
        *of_kind(addons, "ConfigMap"),
        *of_kind(corpus_objects(corpus, "01_"), "ConfigMap"),
        *of_kind(insights, "ConfigMap"),
        *system_namespaces("amazon-cloudwatch"),
    ]
    version = json.loads((sorted((corpus / "managed").glob("05_*"))[0]).read_text())["serverVersion"]
    # the corpus has no pods of this cluster: an empty Pod list stands for "no kube-apiserver pod is visible"
    path = write_snapshot(root / "eks", objects, name="eks", server_version=None, empty=(PODS,))
    write_json(path / "serverversion.json", version)
    return CorpusCluster("eks", path, "eks")


def gke(corpus: Path, root: Path) -> CorpusCluster:
    """GKE 1.24 (20: /version and node names) with the Calico policy add-on (22), netd (23) and
    Managed Service for Prometheus in gmp-system (21)."""
    inventory = corpus_objects(corpus, "20_")[0]
    names = [ref.rsplit("/", 1)[1] for ref in inventory["K8SResources"]["/v1/nodes"]]
    nodes = [ready_node({"metadata": {"name": n}}, inventory["serverVersion"]["gitVersion"]) for n in names]
    gmp = corpus_objects(corpus, "21_")
    workloads = [
        *of_kind(corpus_objects(corpus, "22_"), "DaemonSet"),
        *of_kind(corpus_objects(corpus, "23_"), "DaemonSet"),
        *of_kind(gmp, "DaemonSet"),
        *of_kind(gmp, "Deployment"),
    ]
    objects = [
        *nodes,
        *(rolled_out(w, len(nodes), "kube-system") for w in workloads),
        *system_namespaces(),
        *of_kind(gmp, "Namespace"),
    ]
    version = inventory["serverVersion"]["gitVersion"]
    path = write_snapshot(root / "gke", objects, name="gke", server_version=version, empty=(PODS,))
    return CorpusCluster("gke", path, "gke")


# shaped, not captured: AKS reconciles this Corefile itself (it is not in the corpus); the two imports are
# how its coredns pod reads the optional coredns-custom ConfigMap it mounts (31)
AKS_COREFILE = """.:53 {
    errors
    ready
    health {
      lameduck 5s
    }
    kubernetes cluster.local in-addr.arpa ip6.arpa {
      pods insecure
      fallthrough in-addr.arpa ip6.arpa
      ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf
    cache 30
    loop
    reload
    loadbalance
    import custom/*.override
}
import custom/*.server
"""


def aks_coredns(custom_data: dict[str, str]) -> list[Obj]:
    """AKS's kube-system/coredns (addon-manager reconciled) and a coredns-custom with ``custom_data``."""
    labels = {
        "addonmanager.kubernetes.io/mode": "Reconcile",
        "k8s-app": "kube-dns",
        "kubernetes.io/cluster-service": "true",
    }
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "coredns", "namespace": "kube-system", "labels": labels},
            "data": {"Corefile": AKS_COREFILE},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "coredns-custom", "namespace": "kube-system"},
            "data": custom_data,
        },
    ]


def aks(
    corpus: Path,
    root: Path,
    custom_data: dict[str, str] | None = None,
    name: str = "aks",
    extra_namespaces: tuple[str, ...] = (),
) -> CorpusCluster:
    """AKS: the node (30), kube-system pods (31), ama-logs (32), azure-cns (33), Azure CNI powered by Cilium
    (34), and a coredns-custom from the AKS docs (35, the last example unless ``custom_data`` is given)."""
    nodes = [ready_node(n) for n in corpus_objects(corpus, "30_")]
    ama = corpus_objects(corpus, "32_")
    workloads = [
        *of_kind(ama, "DaemonSet"),
        *of_kind(ama, "Deployment"),
        *of_kind(corpus_objects(corpus, "33_"), "DaemonSet"),
        *of_kind(corpus_objects(corpus, "34_"), "DaemonSet"),
    ]
    custom = custom_data if custom_data is not None else of_kind(corpus_objects(corpus, "35_"), "ConfigMap")[-1]["data"]
    pods = [{"apiVersion": "v1", "kind": "Pod", **p} for p in corpus_objects(corpus, "31_")]  # a PodList's items
    objects = [
        *nodes,
        *pods,
        *(rolled_out(w, len(nodes), "kube-system") for w in workloads),
        *aks_coredns(custom),
        *system_namespaces("gatekeeper-system", *extra_namespaces),  # shaped, not captured: Azure Policy's
    ]
    path = write_snapshot(root / name, objects, name=name, server_version="v1.25.11")
    return CorpusCluster(name, path, "aks")


def k3s(corpus: Path, root: Path, *, cilium: bool) -> CorpusCluster:
    """k3s: the node of k3s #3932 (41) and the packaged metrics-server (40); with ``cilium``, the kops-rendered
    Cilium agent (manifests/12) that cluster really ran, else nothing (k3s's embedded flannel)."""
    nodes = [ready_node(n, "v1.21.3+k3s1") for n in corpus_objects(corpus, "41_")]
    workloads = of_kind(corpus_objects(corpus, "40_"), "Deployment")
    if cilium:
        [manifest] = sorted((corpus / "manifests").glob("12_*"))
        rendered = [d for d in yaml.safe_load_all(manifest.read_text(encoding="utf-8")) if isinstance(d, dict)]
        workloads += of_kind(rendered, "DaemonSet", "cilium")
    name = "k3s-cilium" if cilium else "k3s"
    objects = [*nodes, *(rolled_out(w, len(nodes), "kube-system") for w in workloads), *system_namespaces()]
    # k3s runs no CNI DaemonSet: the empty list is what its capture shows (embedded flannel, 41's annotations)
    path = write_snapshot(root / name, objects, name=name, server_version="v1.21.3+k3s1", empty=(DAEMONSETS,))
    return CorpusCluster(name, path, "k3s")


def rke2_canal_daemonset() -> Obj:
    """shaped, not captured: the rke2-canal chart's DaemonSet (README: calico-node + kube-flannel containers)."""
    container = {"imagePullPolicy": "IfNotPresent"}
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "rke2-canal", "namespace": "kube-system", "labels": {"k8s-app": "canal"}},
        "spec": {
            "selector": {"matchLabels": {"k8s-app": "canal"}},
            "template": {
                "metadata": {"labels": {"k8s-app": "canal"}},
                "spec": {
                    "hostNetwork": True,
                    "containers": [
                        container
                        | {
                            "name": "calico-node",
                            "image": "rancher/hardened-calico:v3.26.1-build20230802",
                            "env": [{"name": "CALICO_NETWORKING_BACKEND", "value": "none"}],
                        },
                        container | {"name": "kube-flannel", "image": "rancher/hardened-flannel:v0.22.1-build20230802"},
                    ],
                },
            },
        },
    }


def rke2(corpus: Path, root: Path) -> CorpusCluster:
    """RKE2 v1.23.4 on AWS: the canal node of rke2 #2589 (42) and the rke2-canal DaemonSet."""
    nodes = [ready_node(n, "v1.23.4+rke2r1") for n in corpus_objects(corpus, "42_")]
    objects = [*nodes, rolled_out(rke2_canal_daemonset(), len(nodes)), *system_namespaces()]
    path = write_snapshot(root / "rke2", objects, name="rke2", server_version="v1.23.4+rke2r1")
    return CorpusCluster("rke2", path, "rke2")


def openshift(
    corpus: Path, root: Path, *, deployments_held: bool = False, dns_ready: int | None = None
) -> CorpusCluster:
    """OpenShift 4.x: the RHCOS worker (51) and master (52) nodes, ovnkube-node (56), the DNS operator's
    DaemonSet (54, named and placed as the operator does) and its dns-default ConfigMap (55)."""
    config = corpus_objects(corpus, "52_")
    master = [o for o in config if "kind" not in o and str(o["metadata"].get("name", "")).startswith("master-")]
    nodes = [ready_node(n, "v1.20.0+2817867") for n in [*corpus_objects(corpus, "51_"), *master]]
    dns_ds = of_kind(corpus_objects(corpus, "54_"), "DaemonSet")[0]
    dns_ds["metadata"] = {
        "name": "dns-default",
        "namespace": "openshift-dns",
        "labels": {"dns.operator.openshift.io/daemonset-dns": "default"},
    }
    workloads = [rolled_out(w, len(nodes)) for w in [*of_kind(corpus_objects(corpus, "56_"), "DaemonSet"), dns_ds]]
    if dns_ready is not None:
        workloads[-1]["status"]["numberReady"] = dns_ready
    objects = [
        *nodes,
        *workloads,
        *of_kind(corpus_objects(corpus, "55_"), "ConfigMap"),
        *system_namespaces("openshift-dns", "openshift-ovn-kubernetes", "openshift-ingress"),
    ]
    # deployments_held: an empty Deployment list, for the DNS replica check (OpenShift runs its DNS as a DaemonSet)
    empty = (("apps", "v1", "deployments"),) if deployments_held else ()
    path = write_snapshot(root / "openshift", objects, name="openshift", server_version="v1.20.0+2817867", empty=empty)
    return CorpusCluster("openshift", path, "openshift")
