"""Realistic snapshots for the replay-server tests, and servers/clients built on them.

Objects are shaped like ``kubectl get KIND -o json`` output (the strict models
of the ``kubernetes`` 37 client reject anything less), built in memory so the
tests do not depend on the snapshot loader; the CLI tests write them to disk.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from fleetcheck.core.kinds import ref_for_object
from fleetcheck.replay import ReplayServer
from fleetcheck.state.live import CONFIG_LOAD_LOCK
from fleetcheck.state.snapshot_model import Snapshot

Obj = dict[str, Any]

REPO_ROOT = Path(__file__).resolve().parents[2]
#: The moment every test snapshot was "captured".
CAPTURED = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
BIG_PODS = 5000
BIG_NODES = 200


def ts(moment: datetime, micro: bool = False) -> str:
    """RFC 3339 as the API server writes it (Time, or MicroTime with ``micro``)."""
    if micro:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _uid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def make_namespace(name: str, created: datetime, labels: dict[str, str] | None = None) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "uid": _uid("ns", name),
            "resourceVersion": "120",
            "creationTimestamp": ts(created),
            "labels": {"kubernetes.io/metadata.name": name, **(labels or {})},
        },
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def make_node(index: int, created: datetime, *, role: str = "worker", kubelet: str = "v1.31.4") -> Obj:
    name = f"node-{index:03d}"
    labels = {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "topology.kubernetes.io/zone": f"eu-west-1{'abc'[index % 3]}",
        f"node-role.kubernetes.io/{role}": "",
    }
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "uid": _uid("node", name),
            "resourceVersion": str(1000 + index),
            "creationTimestamp": ts(created),
            "labels": labels,
            "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
        },
        "spec": {"podCIDR": f"10.244.{index % 250}.0/24", "providerID": f"aws:///eu-west-1a/i-{index:08x}"},
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": f"10.0.{index // 250}.{index % 250}"},
                {"type": "Hostname", "address": name},
            ],
            "capacity": {"cpu": "8", "memory": "32Gi", "pods": "110"},
            "allocatable": {"cpu": "7800m", "memory": "30Gi", "pods": "110"},
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                    "lastHeartbeatTime": ts(CAPTURED - timedelta(seconds=20)),
                    "lastTransitionTime": ts(created),
                }
            ],
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": _uid("boot", name),
                "containerRuntimeVersion": "containerd://1.7.13",
                "kernelVersion": "6.1.0-18-amd64",
                "kubeProxyVersion": kubelet,
                "kubeletVersion": kubelet,
                "machineID": _digest(name)[:32],
                "operatingSystem": "linux",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "systemUUID": _uid("sys", name),
            },
        },
    }


def make_pod(
    name: str,
    namespace: str,
    *,
    node: str,
    app: str,
    created: datetime,
    image: str = "registry.eu-west.example.com/shop/web:1.4.2",
    tier: str = "backend",
    ready: bool = True,
    restarts: int = 0,
) -> Obj:
    template_hash = _digest(app)[:10]
    started = created + timedelta(seconds=4)
    condition_time = ts(started)
    ready_text = "True" if ready else "False"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "generateName": f"{app}-{template_hash}-",
            "uid": _uid("pod", namespace, name),
            "resourceVersion": str(5000 + int(_digest(name)[:6], 16) % 100000),
            "creationTimestamp": ts(created),
            "labels": {"app": app, "tier": tier, "pod-template-hash": template_hash},
            "annotations": {"kubectl.kubernetes.io/restartedAt": ts(created - timedelta(days=1))},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": f"{app}-{template_hash}",
                    "uid": _uid("rs", namespace, app),
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "containers": [
                {
                    "name": app,
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
                    "resources": {
                        "requests": {"cpu": "100m", "memory": "128Mi"},
                        "limits": {"cpu": "500m", "memory": "256Mi"},
                    },
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                }
            ],
            "dnsPolicy": "ClusterFirst",
            "nodeName": node,
            "restartPolicy": "Always",
            "schedulerName": "default-scheduler",
            "serviceAccountName": "default",
            "terminationGracePeriodSeconds": 30,
        },
        "status": {
            "phase": "Running",
            "hostIP": "10.0.0.10",
            "podIP": f"10.244.{int(_digest(name)[:2], 16)}.{int(_digest(name)[2:4], 16)}",
            "qosClass": "Burstable",
            "startTime": ts(started),
            "conditions": [
                {"type": "Initialized", "status": "True", "lastProbeTime": None, "lastTransitionTime": condition_time},
                {"type": "Ready", "status": ready_text, "lastProbeTime": None, "lastTransitionTime": condition_time},
                {
                    "type": "ContainersReady",
                    "status": ready_text,
                    "lastProbeTime": None,
                    "lastTransitionTime": condition_time,
                },
                {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": ts(created)},
            ],
            "containerStatuses": [
                {
                    "name": app,
                    "ready": ready,
                    "started": True,
                    "restartCount": restarts,
                    "image": image,
                    "imageID": f"{image.rsplit(':', 1)[0]}@sha256:{_digest(image)}",
                    "containerID": f"containerd://{_digest(namespace + name)}",
                    "state": {"running": {"startedAt": condition_time}},
                }
            ],
        },
    }


def make_lease(node: str, renew: datetime) -> Obj:
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {
            "name": node,
            "namespace": "kube-node-lease",
            "uid": _uid("lease", node),
            "resourceVersion": "90210",
            "creationTimestamp": ts(CAPTURED - timedelta(days=30)),
            "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": node, "uid": _uid("node", node)}],
        },
        "spec": {"holderIdentity": node, "leaseDurationSeconds": 40, "renewTime": ts(renew, micro=True)},
    }


def make_legacy_daemonset(name: str, namespace: str, created: datetime) -> Obj:
    """A DaemonSet as a v1.8-era cluster printed it (``extensions/v1beta1``)."""
    return {
        "apiVersion": "extensions/v1beta1",
        "kind": "DaemonSet",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": _uid("ds", namespace, name),
            "resourceVersion": "777",
            "generation": 3,
            "creationTimestamp": ts(created),
            "labels": {"app": name},
        },
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name, "image": f"quay.io/coreos/{name}:v0.9.1"}]},
            },
            "templateGeneration": 3,
            "updateStrategy": {"type": "OnDelete"},
        },
        "status": {
            "currentNumberScheduled": 3,
            "desiredNumberScheduled": 3,
            "numberAvailable": 3,
            "numberMisscheduled": 0,
            "numberReady": 3,
            "observedGeneration": 3,
            "updatedNumberScheduled": 3,
        },
    }


def make_crd(group: str, plural: str, kind: str, version: str, *, scope: str = "Namespaced") -> Obj:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{plural}.{group}",
            "uid": _uid("crd", group, plural),
            "resourceVersion": "333",
            "creationTimestamp": ts(CAPTURED - timedelta(days=200)),
        },
        "spec": {
            "group": group,
            "names": {"plural": plural, "singular": kind.lower(), "kind": kind, "listKind": f"{kind}List"},
            "scope": scope,
            "versions": [
                {
                    "name": version,
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
                }
            ],
        },
        "status": {"acceptedNames": {"plural": plural, "kind": kind}, "storedVersions": [version]},
    }


def make_prometheus(name: str, namespace: str) -> Obj:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "Prometheus",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": _uid("prom", namespace, name),
            "resourceVersion": "4242",
            "creationTimestamp": ts(CAPTURED - timedelta(days=90)),
        },
        "spec": {"replicas": 2, "remoteWrite": [{"url": "https://metrics.example.com/api/v1/write"}]},
    }


def make_backup(name: str, completed: datetime) -> Obj:
    return {
        "apiVersion": "velero.io/v1",
        "kind": "Backup",
        "metadata": {
            "name": name,
            "namespace": "velero",
            "uid": _uid("backup", name),
            "resourceVersion": "5151",
            "creationTimestamp": ts(completed - timedelta(minutes=10)),
            "annotations": {
                # A timestamp quoted inside another string must not move.
                "kubectl.kubernetes.io/last-applied-configuration": '{"metadata":{"creationTimestamp":'
                f'"{ts(completed)}"}}',
            },
        },
        "spec": {"includedNamespaces": ["*"], "ttl": "720h0m0s"},
        "status": {
            "phase": "Completed",
            "startTimestamp": ts(completed - timedelta(minutes=10)),
            "completionTimestamp": ts(completed),
        },
    }


def make_secret(name: str, namespace: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": _uid("secret", namespace, name),
            "resourceVersion": "66",
            "creationTimestamp": ts(CAPTURED - timedelta(days=3)),
        },
        "data": {"password": "c3VwZXItc2VjcmV0LXZhbHVl"},
    }


def snapshot_of(
    name: str,
    objects: list[Obj],
    *,
    captured: datetime | None = CAPTURED,
    server_version: dict[str, Any] | None = None,
    labels: dict[str, str] | None = None,
) -> Snapshot:
    """A :class:`Snapshot` holding ``objects``, keyed the way the loader keys them."""
    snap = Snapshot(name=name, path=None, captured=captured, server_version=server_version, labels=dict(labels or {}))
    for obj in objects:
        ref = ref_for_object(obj["apiVersion"], obj["kind"])
        snap.refs.setdefault(ref.key, ref)
        snap.objects.setdefault(ref.key, []).append(obj)
    return snap


def fleet_objects(*, pods: int, nodes: int, namespaces: int = 10) -> list[Obj]:
    """Namespaces, nodes, their leases and ``pods`` pods spread over them, deterministic."""
    created = CAPTURED - timedelta(days=5)
    ns_names = [f"team-{i:02d}" for i in range(namespaces)]
    objects: list[Obj] = [
        make_namespace(n, CAPTURED - timedelta(days=100))
        for n in ["default", "kube-system", "kube-node-lease", *ns_names]
    ]
    objects += [
        make_node(i, CAPTURED - timedelta(days=60), role="control-plane" if i < 3 else "worker") for i in range(nodes)
    ]
    objects += [make_lease(f"node-{i:03d}", CAPTURED - timedelta(seconds=8)) for i in range(nodes)]
    apps = ["web", "api", "worker", "cache"]
    for i in range(pods):
        app = apps[i % len(apps)]
        objects.append(
            make_pod(
                f"{app}-{i:05d}",
                ns_names[i % namespaces],
                node=f"node-{i % max(nodes, 1):03d}",
                app=app,
                created=created,
                tier="frontend" if app == "web" else "backend",
                restarts=i % 3,
            )
        )
    return objects


def big_snapshot() -> Snapshot:
    """Demo-size cluster: 200 nodes, 5,000 pods."""
    return snapshot_of(
        "big",
        fleet_objects(pods=BIG_PODS, nodes=BIG_NODES, namespaces=20),
        server_version={"major": "1", "minor": "31", "gitVersion": "v1.31.4"},
    )


def small_snapshot() -> Snapshot:
    """A small cluster with CRDs, a legacy DaemonSet, leases, a secret and Velero objects."""
    objects = fleet_objects(pods=40, nodes=3, namespaces=2)
    objects += [
        make_legacy_daemonset("kube-flannel-ds", "kube-system", CAPTURED - timedelta(days=400)),
        make_crd("velero.io", "backups", "Backup", "v1"),
        make_crd("velero.io", "schedules", "Schedule", "v1"),
        make_crd("monitoring.coreos.com", "prometheuses", "Prometheus", "v1"),
        make_prometheus("central", "monitoring"),
        make_backup("nightly-20240501", CAPTURED - timedelta(hours=6)),
        make_secret("db-password", "team-00"),
    ]
    return snapshot_of("small", objects, server_version={"major": "1", "minor": "29", "gitVersion": "v1.29.2"})


@pytest.fixture(scope="session")
def fleet_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplayServer]:
    """One server for the session: the big cluster and the small one."""
    with ReplayServer([big_snapshot(), small_snapshot()]) as server:
        yield server


@pytest.fixture
def server(fleet_server: ReplayServer) -> Iterator[ReplayServer]:
    """The session server, with a clean request log, no faults and true clocks for each test."""
    fleet_server.clear_faults()
    fleet_server.clear_request_log()
    for name in fleet_server.clusters:
        fleet_server.set_clock_offset(name, 0)
    yield fleet_server
    fleet_server.clear_faults()


@pytest.fixture(scope="session")
def kubeconfig(fleet_server: ReplayServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fleet_server.write_kubeconfig(tmp_path_factory.mktemp("kube") / "config")


class ClientFactory(Protocol):
    """Makes an official client for one context of a kubeconfig (the session's by default)."""

    def __call__(self, context: str, path: Path | None = None) -> k8s.ApiClient: ...


@pytest.fixture
def api_client(kubeconfig: Path) -> Iterator[ClientFactory]:
    """``api_client(context)``: an official client for one replayed cluster, no retries, closed after.

    Safe to call from threads: contexts load one at a time, as :class:`LiveClusterState` loads them.
    """
    made: list[k8s.ApiClient] = []

    def factory(context: str, path: Path | None = None) -> k8s.ApiClient:
        configuration = k8s.Configuration()
        configuration.retries = 0
        # the lock fleetcheck loads under: the client may hand a thread a CA temp file not yet written
        with CONFIG_LOAD_LOCK:
            api = k8s_config.new_client_from_config(
                str(path or kubeconfig), context, client_configuration=configuration
            )
        made.append(api)
        return api

    yield factory
    for api in made:
        api.close()


def find_kubectl() -> str | None:
    """kubectl 1.20 from $KUBECTL, the CI's extraction, or the local extraction (never /usr/bin's dispatcher)."""
    for candidate in (os.environ.get("KUBECTL"), str(REPO_ROOT / ".ci/bin/kubectl"), "/tmp/kc/x/usr/bin/kubectl"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("kubectl")
    if found and Path(found).resolve() != Path("/usr/bin/kubectl").resolve():
        return found
    return None


def raw_request(
    api: k8s.ApiClient, method: str, path: str, *, headers: dict[str, str] | None = None, auth: bool = True
) -> k8s.rest.RESTResponse:
    """One request through the official client's transport (TLS, kubeconfig), body read."""
    method, url, header_params, _body, _post = api.param_serialize(
        method, path, header_params=dict(headers or {}), auth_settings=["BearerToken"] if auth else []
    )
    response = api.call_api(method, url, header_params)
    response.read()
    return response
