"""Which containers image checks see, and on which object each is reported (fleetcheck.facts.workloads)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from fleetcheck.facts.workloads import WORKLOAD_KINDS, ContainerImage, container_images
from fleetcheck.state.snapshot import load_snapshot

_PLURAL = {
    "Pod": "pods",
    "Deployment": "deployments",
    "ReplicaSet": "replicasets",
    "DaemonSet": "daemonsets",
    "StatefulSet": "statefulsets",
    "Job": "jobs",
    "CronJob": "cronjobs",
}


def lister(objects: list[dict[str, Any]]) -> Callable[[str], list[dict[str, Any]]]:
    by_plural: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        by_plural.setdefault(_PLURAL[obj["kind"]], []).append(obj)

    def list_kind(kind: str) -> list[dict[str, Any]]:
        assert kind in WORKLOAD_KINDS
        return by_plural.get(kind, [])

    return list_kind


def seen(objects: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(c.owner, c.describe(), c.image) for c in container_images(lister(objects))]


def test_deployment_family_is_one_finding_on_the_deployment(k8s: ModuleType) -> None:
    family = k8s.deployment_family("web", "shop", [("web", "nginx:1.25")], init=[("migrate", "busybox:1.36")])
    assert len(family) == 4  # Deployment, ReplicaSet, 2 Pods
    assert seen(family) == [
        ("shop/Deployment/web", "init container migrate", "busybox:1.36"),
        ("shop/Deployment/web", "container web", "nginx:1.25"),
    ]


def test_bare_and_static_and_foreign_pods_are_never_missed(k8s: ModuleType) -> None:
    bare = k8s.pod("debug-shell", "shop", [("shell", "busybox:1.36")])
    static = k8s.pod(
        "kube-apiserver-cp-1",
        "kube-system",
        [("kube-apiserver", "registry.k8s.io/kube-apiserver:v1.31.4")],
        owner=("Node", "cp-1"),
    )
    rollout = k8s.pod("api-6f9c-x2x9z", "shop", [("api", "ghcr.io/acme/api:2.1")], owner=("Rollout", "api"))
    orphan = k8s.pod("web-5d8f-abcde", "shop", [("web", "nginx:1.24")], owner=("ReplicaSet", "web-5d8f"))
    assert [owner for owner, _, _ in seen([bare, static, rollout, orphan])] == [
        "shop/Pod/debug-shell",
        "kube-system/Pod/kube-apiserver-cp-1",
        "shop/Pod/api-6f9c-x2x9z",
        "shop/Pod/web-5d8f-abcde",
    ]


def test_pod_differing_from_its_template_is_reported_on_the_pod(k8s: ModuleType) -> None:
    family = k8s.deployment_family("web", "shop", [("web", "registry.eu-west.example.com/shop/web:1.4.2")], replicas=1)
    pod = family[-1]
    # an admission webhook rewrote the registry of the running pod
    pod["spec"]["containers"][0]["image"] = "docker.io/shop/web:1.4.2"
    assert seen(family) == [
        ("shop/Deployment/web", "container web", "registry.eu-west.example.com/shop/web:1.4.2"),
        (f"shop/Pod/{pod['metadata']['name']}", "container web", "docker.io/shop/web:1.4.2"),
    ]


def test_ephemeral_containers_are_reported_on_their_pod(k8s: ModuleType) -> None:
    family = k8s.deployment_family("web", "shop", [("web", "nginx:1.25")], replicas=1)
    pod = k8s.pod(
        "web-x",
        "shop",
        [("web", "nginx:1.25")],
        ephemeral=[("debugger-7kq2m", "busybox")],
        owner=("ReplicaSet", family[1]["metadata"]["name"]),
    )
    assert seen([*family, pod]) == [
        ("shop/Deployment/web", "container web", "nginx:1.25"),
        ("shop/Pod/web-x", "ephemeral container debugger-7kq2m", "busybox"),
    ]


def test_revision_history_replicasets_are_skipped_but_their_pods_are_not(k8s: ModuleType) -> None:
    current = k8s.deployment_family("web", "shop", [("web", "nginx:1.25")], replicas=1)
    old = k8s.replicaset("web-7c6d5b9f8", "shop", [("web", "nginx:latest")], owner="web", replicas=0)
    terminating = k8s.pod(
        "web-7c6d5b9f8-q8w2e", "shop", [("web", "nginx:latest")], owner=("ReplicaSet", "web-7c6d5b9f8")
    )
    standalone = k8s.replicaset("legacy-5f5f5f5f5", "shop", [("legacy", "nginx:1.19")], owner=None, replicas=0)
    assert seen([*current, old, terminating, standalone]) == [
        ("shop/Deployment/web", "container web", "nginx:1.25"),
        ("shop/ReplicaSet/legacy-5f5f5f5f5", "container legacy", "nginx:1.19"),
        ("shop/Pod/web-7c6d5b9f8-q8w2e", "container web", "nginx:latest"),
    ]


def test_cronjob_job_pod_chain_and_other_workloads(k8s: ModuleType) -> None:
    cron = k8s.cronjob("report", "billing", [("report", "ghcr.io/acme/report:3.2")])
    job = k8s.job("report-29212345", "billing", [("report", "ghcr.io/acme/report:3.2")], owner="report")
    pod = k8s.pod(
        "report-29212345-5xk2l",
        "billing",
        [("report", "ghcr.io/acme/report:3.2")],
        owner=("Job", "report-29212345"),
        phase="Succeeded",
    )
    manual = k8s.job("backfill", "billing", [("backfill", "ghcr.io/acme/report:3.1")])
    sts = k8s.statefulset("postgres", "billing", [("postgres", "postgres:16.4")])
    sts_pod = k8s.pod("postgres-0", "billing", [("postgres", "postgres:16.4")], owner=("StatefulSet", "postgres"))
    daemon = k8s.daemonset_family(
        "node-exporter", "monitoring", [("node-exporter", "quay.io/prometheus/node-exporter:v1.8.2")]
    )
    result = seen([cron, job, pod, manual, sts, sts_pod, *daemon])
    assert result == [
        ("billing/CronJob/report", "container report", "ghcr.io/acme/report:3.2"),
        ("billing/StatefulSet/postgres", "container postgres", "postgres:16.4"),
        ("monitoring/DaemonSet/node-exporter", "container node-exporter", "quay.io/prometheus/node-exporter:v1.8.2"),
        ("billing/Job/backfill", "container backfill", "ghcr.io/acme/report:3.1"),
    ]


def test_container_without_image_is_kept(k8s: ModuleType) -> None:
    pod = k8s.pod("broken", "shop", [("app", "nginx:1.25")])
    del pod["spec"]["containers"][0]["image"]
    (item,) = container_images(lister([pod]))
    assert item == ContainerImage("shop/Pod/broken", "Pod", "shop", "broken", "app", "containers", "")


@pytest.mark.parametrize("capture", ["aws-kubeadm-v1.8", "kind-v1.14", "kind-v1.21-e2e", "kind-v1.21-quick"])
def test_sonobuoy_capture_every_pod_container_is_accounted_for(corpus: Path, capture: str) -> None:
    """Each container of each captured Pod is reported on the Pod or on an owner up its chain, with its image."""
    snapshot = load_snapshot(corpus / "sonobuoy" / capture)
    objects = {
        kind: snapshot.objects.get(key, [])
        for kind, key in (
            ("pods", "pods"),
            ("deployments", "deployments.apps"),
            ("replicasets", "replicasets.apps"),
            ("daemonsets", "daemonsets.apps"),
            ("statefulsets", "statefulsets.apps"),
            ("jobs", "jobs.batch"),
            ("cronjobs", "cronjobs.batch"),
        )
    }
    found = container_images(objects.__getitem__)
    reported = {(c.owner, c.container, c.image) for c in found}
    index = {
        (o["metadata"].get("namespace", ""), o["kind"], o["metadata"]["name"]): o
        for kind, items in objects.items()
        if kind != "pods"
        for o in items
    }
    assert objects["pods"], "the capture has pods"
    for pod in objects["pods"]:
        meta = pod["metadata"]
        chain = [("Pod", meta["name"], meta)]
        owner_meta: dict[str, Any] | None = meta
        while owner_meta is not None:
            refs = [r for r in owner_meta.get("ownerReferences") or [] if r.get("controller")]
            owner = index.get((meta.get("namespace", ""), refs[0]["kind"], refs[0]["name"])) if refs else None
            owner_meta = owner["metadata"] if owner else None
            if owner is not None:
                chain.append((owner["kind"], owner["metadata"]["name"], owner_meta))
        for section in ("initContainers", "containers"):
            for container in pod["spec"].get(section) or []:
                candidates = {
                    (f"{meta.get('namespace')}/{kind}/{name}", container["name"], container["image"])
                    for kind, name, _ in chain
                }
                assert candidates & reported, f"{meta['name']}/{container['name']} not reported anywhere"
    # and the dedupe works on real data: no ReplicaSet-owned pod whose template matches is reported
    pod_reports = [c for c in found if c.kind == "Pod"]
    assert len(pod_reports) < sum(len(p["spec"]["containers"]) for p in objects["pods"])
