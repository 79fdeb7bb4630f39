"""Fixtures for the FC-CLOCK-* tests: real-shaped nodes and node Leases, snapshot folders, replayed clusters.

Objects copy the shape of a kubeadm/kind cluster's ``kubectl get -o json``
output (Node conditions and addresses, kube-node-lease Leases owned by their
Node with a MicroTime ``renewTime``). Checks run in a nested pytest
(``pytester``) over snapshot folders, or over live clusters served by the
replay server, and each case's verdict is read from the record the plugin
attaches to its report.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

# Imported here so that nested runs find them loaded: pytester drops every module a nested run
# imports, and re-importing (with assertion rewriting) would cost each run a second.
import fleetcheck.probes.ntp
import fleetcheck.reports
import fleetcheck.runstate
import fleetcheck.scoring
import fleetcheck.state.live
import fleetcheck.state.snapshot_state  # noqa: F401
from fleetcheck.replay import ReplayServer
from fleetcheck.state.snapshot import load_snapshot
from tests.harness import NESTED_OPTIONS, Verdicts, verdicts_of
from tests.servers import chrony

REPO = Path(__file__).resolve().parents[3]
CHECKS = REPO / "checks" / "test_clock.py"
#: the moment every test snapshot was "captured"
CAPTURED = datetime(2026, 11, 24, 10, 0, 0, tzinfo=UTC)
Obj = dict[str, Any]
#: plugins a nested run does not need (hypothesis's imports hypothesis in every run's terminal summary)


chrony_server = chrony.chrony_server


# -- real-shaped objects ------------------------------------------------------------------------------


def ts(moment: datetime, micro: bool = False) -> str:
    """RFC 3339 as the API server writes it: Time, or MicroTime with ``micro``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if micro else "%Y-%m-%dT%H:%M:%SZ")


def uid(*parts: str) -> str:
    digest = hashlib.sha1("/".join(parts).encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def node(name: str, *, ready: bool = True, control_plane: bool = False, heartbeat: datetime = CAPTURED) -> Obj:
    """A kubeadm node; a NotReady one has the controller's ``NodeStatusUnknown`` conditions."""
    labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
    }
    if control_plane:
        labels["node-role.kubernetes.io/control-plane"] = ""
    beat = ts(heartbeat - timedelta(seconds=55))
    since = ts(CAPTURED - timedelta(days=3))

    def condition(kind: str, ok_status: str, reason: str, message: str) -> Obj:
        if ready:
            return {
                "lastHeartbeatTime": beat,
                "lastTransitionTime": since,
                "message": message,
                "reason": reason,
                "status": ok_status,
                "type": kind,
            }
        return {
            "lastHeartbeatTime": beat,
            "lastTransitionTime": ts(CAPTURED - timedelta(minutes=20)),
            "message": "Kubelet stopped posting node status.",
            "reason": "NodeStatusUnknown",
            "status": "Unknown",
            "type": kind,
        }

    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "annotations": {
                "kubeadm.alpha.kubernetes.io/cri-socket": "unix:///run/containerd/containerd.sock",
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
            "creationTimestamp": since,
            "labels": labels,
            "name": name,
            "resourceVersion": str(100000 + len(name)),
            "uid": uid("node", name),
        },
        "spec": {"podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"], "providerID": f"kind://docker/kind/{name}"},
        "status": {
            "addresses": [{"address": "172.18.0.3", "type": "InternalIP"}, {"address": name, "type": "Hostname"}],
            "conditions": [
                condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory"),
                condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            ],
            "nodeInfo": {
                "architecture": "amd64",
                "containerRuntimeVersion": "containerd://1.7.13",
                "kubeletVersion": "v1.30.2",
                "kubeProxyVersion": "v1.30.2",
                "operatingSystem": "linux",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
            },
        },
    }


def node_lease(name: str, renewed: datetime) -> Obj:
    """The kubelet's Lease in kube-node-lease, owned by its Node, renewed at ``renewed`` (node clock)."""
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {
            "creationTimestamp": ts(CAPTURED - timedelta(days=3)),
            "name": name,
            "namespace": "kube-node-lease",
            "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": name, "uid": uid("node", name)}],
            "resourceVersion": str(200000 + len(name)),
            "uid": uid("lease", name),
        },
        "spec": {"holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": ts(renewed, micro=True)},
    }


@dataclass
class ClusterSpec:
    """A cluster to write: node name -> (Ready, lease renewTime offset from capture time in s, or None)."""

    name: str
    nodes: dict[str, tuple[bool, float | None]]
    labels: dict[str, str] | None = None


def write_cluster(root: Path, spec: ClusterSpec) -> Path:
    """A snapshot folder: ``nodes.json``, ``leases.json`` (kubectl Lists) and ``cluster.yaml``."""
    folder = root / spec.name
    folder.mkdir(parents=True)
    nodes, leases = [], []
    for index, (name, (ready, lease_offset)) in enumerate(spec.nodes.items()):
        nodes.append(node(name, ready=ready, control_plane=index == 0))
        if lease_offset is not None:
            leases.append(node_lease(name, CAPTURED + timedelta(seconds=lease_offset)))
    for file, items in (("nodes.json", nodes), ("leases.json", leases)):
        doc = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items}
        (folder / file).write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    meta = {
        "name": spec.name,
        "captured": ts(CAPTURED),
        "serverVersion": "v1.30.2",
        "labels": spec.labels or {"env": "prod", "region": "eu-west", "owner": "team-platform"},
    }
    (folder / "cluster.yaml").write_text(yaml.safe_dump(meta), encoding="utf-8")
    return folder


# -- running the checks -------------------------------------------------------------------------------


@pytest.fixture
def run_clock_checks(pytester: pytest.Pytester) -> Any:
    """``run_clock_checks(*args)``: run checks/test_clock.py in a nested pytest; returns its :class:`Verdicts`."""

    def run(*args: str) -> Verdicts:
        result = pytester.runpytest_inprocess(str(CHECKS), "--no-reports", *NESTED_OPTIONS, *args)
        return verdicts_of(result)

    return run


@pytest.fixture
def snapshots(tmp_path: Path) -> Any:
    """``snapshots(*specs)``: write snapshot folders, return ``--snapshot`` arguments."""

    def write(*specs: ClusterSpec) -> list[str]:
        args: list[str] = []
        for spec in specs:
            args += ["--snapshot", str(write_cluster(tmp_path / "snapshots", spec))]
        return args

    return write


@pytest.fixture
def replayed(tmp_path: Path) -> Iterator[Any]:
    """``replayed(*specs)``: serve the clusters over HTTPS; returns (server, fleet file path)."""
    servers: list[ReplayServer] = []

    def serve(*specs: ClusterSpec) -> tuple[ReplayServer, Path]:
        folders = [write_cluster(tmp_path / "live", spec) for spec in specs]
        server = ReplayServer([load_snapshot(f) for f in folders]).start()
        servers.append(server)
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
        fleet = {
            "defaults": {"kubeconfig": str(kubeconfig)},
            "clusters": [{"name": s.name, "context": s.name, "labels": s.labels or {"env": "prod"}} for s in specs],
        }
        path = tmp_path / "fleet.yaml"
        path.write_text(yaml.safe_dump(fleet), encoding="utf-8")
        return server, path

    yield serve
    for server in servers:
        server.stop()


@pytest.fixture
def clock_cluster() -> Any:
    """``clock_cluster(name, {node: (ready, lease offset s | None)}, labels=None)`` -> a cluster to write."""
    return ClusterSpec


@pytest.fixture
def profile_file(tmp_path: Path) -> Any:
    """``profile_file(name, **fields)``: a profile YAML extending the built-in default; returns its path."""

    def write(name: str, **fields: Any) -> str:
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump({"name": name, "extends": "default", **fields}), encoding="utf-8")
        return str(path)

    return write
