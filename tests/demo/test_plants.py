"""Each planted code fires exactly where planted: a small reference reading of every CHECKS.md rule.

These oracles are not the project's checks; they are the plainest reading of
each rule, run over the generated fleet, so "clean elsewhere" is proven
rather than hoped. A real check that disagrees with one of them on the demo
fleet has either found a generator bug or a different reading of the rule;
both are worth a conversation.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from fleetcheck.demo import Plant, bench_fleet_spec
from fleetcheck.demo.apiserver_metrics import ETCD_DEFAULT_QUOTA, METRICS_FILE
from fleetcheck.demo.generate import demo_profile
from fleetcheck.demo.planted import object_ref
from fleetcheck.demo.providers import AWS_VPC_CNI_VERSION, PROVIDER_CNI, ecr_registry
from fleetcheck.demo.quotas import parse_cpu, parse_memory
from fleetcheck.demo.storage import REPLICATED_STORAGE_CLASSES
from fleetcheck.reference_data import support_calendar

from .conftest import Fleet, Snap, make_fleet, parse_time

Obj = dict[str, Any]
Found = set[tuple[str, str]]
Oracle = Callable[[dict[str, Snap]], Found]

METRICS_URL = "https://metrics.example.com/api/v1/write"
PLATFORM_NAMESPACES = {"velero", "logging", "monitoring", "cert-manager", "default"}
ORACLES: dict[str, Oracle] = {}


def oracle(code: str) -> Callable[[Oracle], Oracle]:
    def register(fn: Oracle) -> Oracle:
        ORACLES[code] = fn
        return fn

    return register


def majority(values: Iterable[Any]) -> Any:
    return Counter(values).most_common(1)[0][0]


def system_namespace(name: str) -> bool:
    return name.startswith("kube-")


def provider(snap: Snap) -> str:
    return snap.labels.get("provider", "kubeadm")


def profiles(fleet: dict[str, Snap]) -> dict[str, list[Snap]]:
    """The clusters per demo profile: fleet comparisons stay inside one (the demo's fleet file groups them so)."""
    grouped: dict[str, list[Snap]] = {}
    for snap in fleet.values():
        grouped.setdefault(demo_profile(snap.labels), []).append(snap)
    return grouped


def flag(snap: Snap, obj: Obj | str) -> tuple[str, str]:
    return snap.name, obj if isinstance(obj, str) else object_ref(obj)


# -- bounded ---------------------------------------------------------------------------------------
@oracle("FC-QUOTA-001")
def no_quota(fleet: dict[str, Snap]) -> Found:
    found = set()
    for snap in fleet.values():
        for ns in snap.items("namespaces"):
            name = ns["metadata"]["name"]
            hards = [q["spec"]["hard"] for q in snap.items("resourcequotas") if q["metadata"]["namespace"] == name]
            bounded = any(
                {"requests.cpu", "limits.cpu"} & set(h) and {"requests.memory", "limits.memory"} & set(h) for h in hards
            )
            if not system_namespace(name) and not bounded:
                found.add(flag(snap, ns))
    return found


@oracle("FC-QUOTA-002")
def no_limit_range(fleet: dict[str, Snap]) -> Found:
    found = set()
    for snap in fleet.values():
        for ns in snap.items("namespaces"):
            name = ns["metadata"]["name"]
            defaults = [
                limit
                for lr in snap.items("limitranges")
                if lr["metadata"]["namespace"] == name
                for limit in lr["spec"]["limits"]
                if limit["type"] == "Container" and limit.get("default") and limit.get("defaultRequest")
            ]
            if not system_namespace(name) and not defaults:
                found.add(flag(snap, ns))
    return found


def quantity(resource: str, value: str) -> int:
    if resource.endswith("cpu"):
        return parse_cpu(value)
    if resource.endswith("memory"):
        return parse_memory(value)
    return int(value)


@oracle("FC-QUOTA-003")
def quota_nearly_full(fleet: dict[str, Snap]) -> Found:
    found = set()
    for snap in fleet.values():
        for quota in snap.items("resourcequotas"):
            hard, used = quota["status"]["hard"], quota["status"]["used"]
            if any(quantity(r, used[r]) >= 0.9 * quantity(r, h) for r, h in hard.items() if quantity(r, h)):
                found.add(flag(snap, quota))
    return found


# -- time-synced -----------------------------------------------------------------------------------
def ready(node: Obj) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in node["status"]["conditions"])


@oracle("FC-CLOCK-001")
def skewed_clock(fleet: dict[str, Snap]) -> Found:
    found = set()
    for snap in fleet.values():
        leases = {
            le["metadata"]["name"]: le
            for le in snap.items("leases.coordination.k8s.io")
            if le["metadata"]["namespace"] == "kube-node-lease"
        }
        for node in snap.items("nodes"):
            renewed = parse_time(leases[node["metadata"]["name"]]["spec"]["renewTime"])
            if ready(node) and abs((snap.captured - renewed).total_seconds()) > 60:
                found.add(flag(snap, node))
    return found


# -- explicit-dns ----------------------------------------------------------------------------------
def corefile(snap: Snap) -> tuple[Obj, str]:
    config = next(c for c in snap.items("configmaps") if c["metadata"]["name"] == "coredns")
    return config, config["data"]["Corefile"]


def upstreams(snap: Snap) -> tuple[str, ...]:
    match = re.search(r"forward\s+\.\s+([^{\n]+)", corefile(snap)[1])
    assert match
    return tuple(match.group(1).split())


@oracle("FC-DNS-001")
def host_resolvers(fleet: dict[str, Snap]) -> Found:
    return {flag(s, corefile(s)[0]) for s in fleet.values() if "/etc/resolv.conf" in upstreams(s)}


@oracle("FC-DNS-002")
def other_upstreams(fleet: dict[str, Snap]) -> Found:
    standard = majority(upstreams(s) for s in fleet.values())
    return {flag(s, corefile(s)[0]) for s in fleet.values() if upstreams(s) != standard}


@oracle("FC-DNS-003")
def other_domain(fleet: dict[str, Snap]) -> Found:
    def domain(snap: Snap) -> str:
        match = re.search(r"kubernetes\s+(\S+)", corefile(snap)[1])
        assert match
        return match.group(1)

    standard = majority(domain(s) for s in fleet.values())
    return {flag(s, corefile(s)[0]) for s in fleet.values() if domain(s) != standard}


@oracle("FC-DNS-005")
def one_coredns(fleet: dict[str, Snap]) -> Found:
    found = set()
    for snap in fleet.values():
        if snap.labels.get("tier") != "prod" or snap.labels.get("env") == "edge":  # the edge profile ignores it
            continue
        deployment = next(d for d in snap.items("deployments.apps") if d["metadata"]["name"] == "coredns")
        if deployment["status"].get("readyReplicas", 0) < 2:
            found.add(flag(snap, deployment))
    return found


# -- local-images ----------------------------------------------------------------------------------
def images(pod: Obj) -> list[str]:
    spec = pod["spec"]
    return [c["image"] for c in [*spec["containers"], *spec.get("initContainers", [])]]


def registry(image: str) -> str:
    first = image.split("/", 1)[0]
    if "/" in image and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def pods_with(fleet: dict[str, Snap], bad: Callable[[Snap, str], bool]) -> Found:
    return {flag(s, p) for s in fleet.values() for p in s.items("pods") if any(bad(s, i) for i in images(p))}


@oracle("FC-IMG-001")
def docker_hub(fleet: dict[str, Snap]) -> Found:
    return pods_with(fleet, lambda snap, image: registry(image) == "docker.io")


@oracle("FC-IMG-002")
def foreign_registry(fleet: dict[str, Snap]) -> Found:
    def allowed(snap: Snap) -> set[str]:
        region = snap.labels["region"]
        # EKS add-ons can only come from the region's EKS ECR registry
        return {f"registry.{region}.example.com", *([ecr_registry(region)] if provider(snap) == "eks" else [])}

    return pods_with(fleet, lambda snap, image: registry(image) not in allowed(snap))


@oracle("FC-IMG-003")
def unpinned(fleet: dict[str, Snap]) -> Found:
    def bad(snap: Snap, image: str) -> bool:
        if "@sha256:" in image:
            return False
        last = image.rsplit("/", 1)[-1]
        return ":" not in last or last.endswith(":latest")

    return pods_with(fleet, bad)


# -- boring ----------------------------------------------------------------------------------------
CNI_NAMES = {"calico-node": "calico", "cilium": "cilium", "aws-node": "aws-vpc-cni"}


def cni(snap: Snap) -> tuple[str, Obj]:
    """The CNI and the object that shows it: its DaemonSet, or (k3s) the node flannel inside k3s annotates."""
    daemonset = next((d for d in snap.items("daemonsets.apps") if d["metadata"]["name"] in CNI_NAMES), None)
    if daemonset is not None:
        return CNI_NAMES[daemonset["metadata"]["name"]], daemonset
    node = snap.items("nodes")[0]
    assert node["metadata"]["labels"]["node.kubernetes.io/instance-type"] == "k3s", snap.name
    assert "flannel.alpha.coreos.com/backend-type" in node["metadata"]["annotations"], snap.name
    return "flannel", node


def cni_minor(shown: Obj) -> int | None:
    """The CNI's minor from its image tag (``v1.20.4-eksbuild.1`` -> 20); None for flannel inside k3s."""
    if shown["kind"] != "DaemonSet":
        return None
    image = shown["spec"]["template"]["spec"]["containers"][0]["image"]
    return int(image.rsplit(":", 1)[1].lstrip("v").split(".")[1])


def kubeadm(fleet: dict[str, Snap]) -> list[Snap]:
    return [s for s in fleet.values() if provider(s) == "kubeadm"]


@oracle("FC-CNI-002")
def other_cni(fleet: dict[str, Snap]) -> Found:
    # the kubeadm clusters follow the majority; a provider's clusters the CNI the fleet declares for it
    standard = majority(cni(s)[0] for s in kubeadm(fleet))
    return {flag(s, cni(s)[1]) for s in fleet.values() if cni(s)[0] != PROVIDER_CNI.get(provider(s), standard)}


@oracle("FC-CNI-003")
def cni_behind(fleet: dict[str, Snap]) -> Found:
    standard = majority(cni(s)[0] for s in kubeadm(fleet))
    same = [s for s in kubeadm(fleet) if cni(s)[0] == standard]
    minor = majority(cni_minor(cni(s)[1]) for s in same)
    found = {flag(s, cni(s)[1]) for s in same if abs((cni_minor(cni(s)[1]) or 0) - (minor or 0)) > 1}
    declared = int(AWS_VPC_CNI_VERSION.split(".")[1])
    for snap in fleet.values():
        shown_minor = cni_minor(cni(snap)[1])
        if provider(snap) == "eks" and shown_minor is not None and abs(shown_minor - declared) > 1:
            found.add(flag(snap, cni(snap)[1]))
    return found


def k8s_minor(snap: Snap) -> int:
    return int(snap.meta["serverVersion"].split(".")[1])


@oracle("FC-VER-001")
def old_kubernetes(fleet: dict[str, Snap]) -> Found:
    newest = max(k8s_minor(s) for s in fleet.values())
    return {flag(s, "") for s in fleet.values() if k8s_minor(s) < newest - 1}


# -- recoverable -----------------------------------------------------------------------------------
def has_velero(snap: Snap) -> bool:
    return any(
        c["metadata"]["name"] == "backups.velero.io"
        for c in snap.items("customresourcedefinitions.apiextensions.k8s.io")
    )


@oracle("FC-BACKUP-001")
def no_backup_system(fleet: dict[str, Snap]) -> Found:
    found = set()
    for snap in fleet.values():
        locations = snap.items("backupstoragelocations.velero.io")
        if not has_velero(snap) or not locations:
            found.add(flag(snap, ""))
        elif not any(b["status"]["phase"] == "Available" for b in locations):
            found |= {flag(snap, b) for b in locations}
    return found


@oracle("FC-BACKUP-002")
def uncovered_namespace(fleet: dict[str, Snap]) -> Found:
    found = set()
    for snap in fleet.values():
        if not has_velero(snap):
            continue
        live = [s["spec"]["template"] for s in snap.items("schedules.velero.io") if not s["spec"].get("paused")]
        for ns in snap.items("namespaces"):
            name = ns["metadata"]["name"]
            covered = any(
                ("*" in t.get("includedNamespaces", ["*"]) or name in t["includedNamespaces"])
                and name not in t.get("excludedNamespaces", [])
                for t in live
            )
            if not system_namespace(name) and not covered:
                found.add(flag(snap, ns))
    return found


def _schedule_of(snap: Snap, backup: dict) -> dict:
    """The Schedule a backup came from: FC-BACKUP-003 names the Schedule whose RPO is broken."""
    name = backup["metadata"]["labels"]["velero.io/schedule-name"]
    return next(s for s in snap.items("schedules.velero.io") if s["metadata"]["name"] == name)


@oracle("FC-BACKUP-003")
def stale_backup(fleet: dict[str, Snap]) -> Found:
    found = set()
    for snap in fleet.values():
        backups = sorted(snap.items("backups.velero.io"), key=lambda b: b["status"]["startTimestamp"])
        if not has_velero(snap):
            continue
        if not backups:
            found.add(flag(snap, ""))
        elif backups[-1]["status"]["phase"] in ("Failed", "PartiallyFailed"):
            found.add(flag(snap, _schedule_of(snap, backups[-1])))
        else:
            done = [b for b in backups if b["status"]["phase"] == "Completed"]
            if snap.captured - parse_time(done[-1]["status"]["completionTimestamp"]) > timedelta(hours=26):
                found.add(flag(snap, _schedule_of(snap, done[-1])))
    return found


@oracle("FC-BACKUP-004")
def no_restore_drill(fleet: dict[str, Snap]) -> Found:
    found = set()
    for snap in fleet.values():
        recent = [
            r
            for r in snap.items("restores.velero.io")
            if r["status"]["phase"] == "Completed"
            and snap.captured - parse_time(r["status"]["completionTimestamp"]) <= timedelta(days=92)
        ]
        if has_velero(snap) and not recent:
            found.add(flag(snap, ""))
    return found


# -- single-idp ------------------------------------------------------------------------------------
def apiservers(snap: Snap) -> list[tuple[Obj, dict[str, str]]]:
    result = []
    for pod in snap.items("pods"):
        if pod["metadata"].get("labels", {}).get("component") == "kube-apiserver":
            words = [*pod["spec"]["containers"][0].get("command", []), *pod["spec"]["containers"][0].get("args", [])]
            flags = dict(w[2:].split("=", 1) for w in words if w.startswith("--") and "=" in w)
            result.append((pod, flags))
    return result


@oracle("FC-OIDC-001")
def no_oidc(fleet: dict[str, Snap]) -> Found:
    return {flag(s, pod) for s in fleet.values() for pod, flags in apiservers(s) if "oidc-issuer-url" not in flags}


@oracle("FC-OIDC-002")
def other_idp(fleet: dict[str, Snap]) -> Found:
    def idp(flags: dict[str, str]) -> tuple[str, str]:
        return flags["oidc-issuer-url"], flags.get("oidc-client-id", "")

    configured = [(s, pod, idp(f)) for s in fleet.values() for pod, f in apiservers(s) if "oidc-issuer-url" in f]
    standard = majority(value for _, _, value in configured)
    return {flag(s, pod) for s, pod, value in configured if value != standard}


@oracle("FC-OIDC-004")
def static_tokens(fleet: dict[str, Snap]) -> Found:
    return {
        flag(s, pod)
        for s in fleet.values()
        for pod, flags in apiservers(s)
        if {"token-auth-file", "basic-auth-file"} & set(flags)
    }


@oracle("FC-OIDC-005")
def local_admin(fleet: dict[str, Snap]) -> Found:
    return {
        flag(s, b)
        for s in fleet.values()
        for b in s.items("clusterrolebindings.rbac.authorization.k8s.io")
        if b["roleRef"]["name"] == "cluster-admin"
        and any(x["kind"] == "User" and not x["name"].startswith("oidc:") for x in b.get("subjects", []))
    }


# -- managed ---------------------------------------------------------------------------------------
def org_rbac(snap: Snap) -> dict[str, tuple[Obj, bytes]]:
    result = {}
    for key in ("clusterroles.rbac.authorization.k8s.io", "clusterrolebindings.rbac.authorization.k8s.io"):
        for obj in snap.items(key):
            meta = obj["metadata"]
            if meta["name"].startswith("system:") or "kubernetes.io/bootstrapping" in meta.get("labels", {}):
                continue
            content = {k: v for k, v in obj.items() if k in ("rules", "aggregationRule", "roleRef", "subjects")}
            result[object_ref(obj)] = (obj, orjson.dumps(content, option=orjson.OPT_SORT_KEYS))
    return result


@oracle("FC-RBAC-001")
def rbac_drift(fleet: dict[str, Snap]) -> Found:
    per_cluster = {name: org_rbac(s) for name, s in fleet.items()}
    refs = {ref for objects in per_cluster.values() for ref in objects}
    found = set()
    for ref in refs:
        contents = {name: objects[ref][1] if ref in objects else None for name, objects in per_cluster.items()}
        standard = majority(contents.values())
        found |= {(name, ref) for name, content in contents.items() if content != standard}
    return found


def workloads(snap: Snap) -> list[Obj]:
    return [
        w
        for key in ("deployments.apps", "statefulsets.apps", "daemonsets.apps")
        for w in snap.items(key)
        if not w["metadata"].get("ownerReferences")
    ]


@oracle("FC-GITOPS-001")
def hand_applied(fleet: dict[str, Snap]) -> Found:
    def tracked(w: Obj) -> bool:
        meta = w["metadata"]
        return "argocd.argoproj.io/tracking-id" in meta.get(
            "annotations", {}
        ) or "app.kubernetes.io/instance" in meta.get("labels", {})

    return {flag(s, "") for s in fleet.values() if sum(map(tracked, workloads(s))) < 0.9 * len(workloads(s))}


# -- observable ------------------------------------------------------------------------------------
@oracle("FC-OBS-001")
def metrics_stay(fleet: dict[str, Snap]) -> Found:
    return {
        flag(s, "")
        for s in fleet.values()
        if not any(
            rw.get("url") == METRICS_URL
            for p in s.items("prometheuses.monitoring.coreos.com")
            for rw in p["spec"].get("remoteWrite", [])
        )
    }


@oracle("FC-OBS-002")
def logs_partial(fleet: dict[str, Snap]) -> Found:
    found = set()
    for snap in fleet.values():
        shippers = [
            d for d in snap.items("daemonsets.apps") if d["metadata"]["name"] in ("fluent-bit", "fluentd", "vector")
        ]
        nodes = len(snap.items("nodes"))
        if not shippers:
            found.add(flag(snap, ""))
        for ds in shippers:
            status = ds["status"]
            if (
                not status["numberReady"]
                == status["desiredNumberScheduled"]
                == status["updatedNumberScheduled"]
                == nodes
            ):
                found.add(flag(snap, ds))
    return found


# -- tested ----------------------------------------------------------------------------------------
TIERS = ("dev", "staging", "canary", "prod")


@oracle("FC-TIER-001")
def tierless(fleet: dict[str, Snap]) -> Found:
    return {flag(s, "") for s in fleet.values() if s.labels.get("tier") not in TIERS}


@oracle("FC-TIER-002")
def unguarded(fleet: dict[str, Snap]) -> Found:
    found = set()
    for members in profiles(fleet).values():
        if not any(s.labels.get("tier") in ("canary", "staging") for s in members):
            found |= {flag(s, "") for s in members if s.labels.get("tier") == "prod"}
    return found


@oracle("FC-TIER-003")
def old_canary(fleet: dict[str, Snap]) -> Found:
    found = set()
    for snap in fleet.values():
        prods = [
            s
            for s in fleet.values()
            if s.labels.get("tier") == "prod" and demo_profile(s.labels) == demo_profile(snap.labels)
        ]
        if snap.labels.get("tier") != "canary" or not prods:
            continue
        behind_k8s = k8s_minor(snap) < min(k8s_minor(p) for p in prods)
        kind, daemonset = cni(snap)
        same_cni = [cni(p)[1] for p in prods if cni(p)[0] == kind]
        behind_cni = bool(same_cni) and (cni_minor(daemonset) or 0) < min(cni_minor(d) or 0 for d in same_cni)
        if behind_k8s or behind_cni:
            found.add(flag(snap, ""))
    return found


# -- owned -----------------------------------------------------------------------------------------
@oracle("FC-STALE-001")
def ownerless(fleet: dict[str, Snap]) -> Found:
    return {flag(s, "") for s in fleet.values() if not s.labels.get("owner") or not s.labels.get("expires")}


@oracle("FC-STALE-002")
def expired(fleet: dict[str, Snap]) -> Found:
    return {
        flag(s, "")
        for s in fleet.values()
        if s.labels.get("expires") and s.labels["expires"] < s.captured.strftime("%Y-%m-%d")
    }


@oracle("FC-STALE-003")
def untouched(fleet: dict[str, Snap]) -> Found:
    found = set()
    for snap in fleet.values():
        stamps = [o["metadata"]["creationTimestamp"] for key in ("replicasets.apps", "pods") for o in snap.items(key)]
        for w in workloads(snap):
            stamps.append(w["metadata"]["creationTimestamp"])
            stamps += [c["lastUpdateTime"] for c in w["status"].get("conditions", []) if "lastUpdateTime" in c]
        if snap.captured - parse_time(max(stamps)) > timedelta(days=30):
            found.add(flag(snap, ""))
    return found


@oracle("FC-COST-001")
def tiny(fleet: dict[str, Snap]) -> Found:
    def own(ns: str) -> bool:
        return not system_namespace(ns) and ns not in PLATFORM_NAMESPACES

    return {flag(s, "") for s in fleet.values() if sum(own(p["metadata"]["namespace"]) for p in s.items("pods")) < 20}


# -- portable-data ---------------------------------------------------------------------------------
@oracle("FC-PV-001")
def unreplicated(fleet: dict[str, Snap]) -> Found:
    return {
        flag(s, c)
        for s in fleet.values()
        if s.labels.get("tier") == "prod"
        for c in s.items("persistentvolumeclaims")
        if c["spec"]["storageClassName"] not in REPLICATED_STORAGE_CLASSES
    }


# -- issue 16: cert-manager, etcd, provider support -------------------------------------------------
@oracle("FC-CERT-002")
def certificate_not_renewed(fleet: dict[str, Snap]) -> Found:
    found = set()
    for snap in fleet.values():
        for cert in snap.items("certificates.cert-manager.io"):
            ready = [c for c in cert["status"]["conditions"] if c["type"] == "Ready"]
            left = parse_time(cert["status"]["notAfter"]) - snap.captured
            if not ready or ready[0]["status"] != "True" or left <= timedelta(days=14):
                found.add(flag(snap, cert))
    return found


def etcd_size(snap: Snap) -> float | None:
    """The ``apiserver_storage_size_bytes`` sample of the folder's ``metrics.txt`` (None: no file or no sample)."""
    path = snap.path / METRICS_FILE
    if not path.exists():
        return None
    for line in path.read_text().splitlines():
        if line.startswith("apiserver_storage_size_bytes{"):
            return float(line.rsplit(" ", 1)[1])
    return None


@oracle("FC-ETCD-001")
def etcd_nearly_full(fleet: dict[str, Snap]) -> Found:
    found = set()
    for snap in fleet.values():
        size = etcd_size(snap)
        if provider(snap) != "eks" and size is not None and size >= 0.8 * ETCD_DEFAULT_QUOTA:
            found.add(flag(snap, ""))
    return found


@oracle("FC-SUP-002")
def past_provider_support(fleet: dict[str, Snap]) -> Found:
    eks = support_calendar().calendars["eks"].entries
    found = set()
    for snap in fleet.values():
        minor = ".".join(snap.meta["serverVersion"].lstrip("v").split(".")[:2])
        if provider(snap) == "eks" and snap.captured.date() > eks[minor].standard_end:
            found.add(flag(snap, ""))
    return found


def planted(plants: list[Plant], code: str) -> Found:
    return {(p.cluster, p.object) for p in plants if p.code == code}


@pytest.mark.parametrize("code", sorted(ORACLES))
def test_plant_fires_exactly_where_planted_small(code: str, small_demo: Fleet) -> None:
    assert ORACLES[code](small_demo.clusters) == planted(small_demo.plants, code)


@pytest.mark.parametrize("code", sorted(ORACLES))
def test_plant_fires_exactly_where_planted_full(code: str, full_demo: Fleet) -> None:
    assert ORACLES[code](full_demo.clusters) == planted(full_demo.plants, code)


def test_unguarded_prod_fleet(tmp_path: Path) -> None:
    bench = bench_fleet_spec(prod=1, dev=1, edge=1, canary=0)
    shrunk = tuple(
        c.model_copy(update={"nodes": 12, "pods": 300, "namespaces": 24}) if c.size == "prod" else c
        for c in bench.clusters
    )
    fleet = make_fleet(tmp_path, bench.model_copy(update={"clusters": shrunk}))
    for code in ("FC-TIER-002", "FC-QUOTA-003", "FC-DNS-001", "FC-DNS-002", "FC-OIDC-001", "FC-COST-001"):
        assert ORACLES[code](fleet.clusters) == planted(fleet.plants, code), code
