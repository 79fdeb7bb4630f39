"""Fixtures for the FC-DNS-* tests: real-shaped CoreDNS and kube-dns objects, snapshots, replayed clusters.

Objects copy the shape of real clusters' ``kubectl get -o json`` output: the
kubeadm CoreDNS ConfigMap and Deployment (``k8s-app: kube-dns`` labels,
``config-volume`` mount, readiness on :8181), k3s's ``coredns-custom``
ConfigMap of ``*.override``/``*.server`` keys, and a kubeadm v1.8 kube-dns
Deployment (``kubedns``/``dnsmasq``/``sidecar`` containers, ``--domain``).
Checks run in a nested pytest (``pytester``) and each case's verdict is read
from the record the plugin attaches to its report.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

# Imported here so that nested runs find them loaded: pytester drops every module a nested run
# imports, and re-importing (with assertion rewriting) would cost each run a second.
import fleetcheck.facts.corefile
import fleetcheck.probes.dns
import fleetcheck.reports
import fleetcheck.runstate
import fleetcheck.scoring
import fleetcheck.state.live
import fleetcheck.state.snapshot_state  # noqa: F401
from fleetcheck.replay import ReplayServer
from fleetcheck.state.snapshot import load_snapshot
from tests.harness import NESTED_OPTIONS, Verdicts, verdicts_of
from tests.servers import dnsmasq

REPO = Path(__file__).resolve().parents[3]
CHECKS = REPO / "checks" / "test_dns.py"
CAPTURED = "2026-11-24T10:00:00Z"
#: plugins a nested run does not need (hypothesis's imports hypothesis in every run's terminal summary)
Obj = dict[str, Any]

#: kubeadm's default Corefile (CoreDNS 1.8+), with the upstream and domain to fill in
KUBEADM_COREFILE = """\
.:53 {{
    errors
    health {{
       lameduck 5s
    }}
    ready
    kubernetes {domain} in-addr.arpa ip6.arpa {{
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }}
    prometheus :9153
    forward . {upstream} {{
       max_concurrent 1000
    }}
    cache 30
    loop
    reload
    loadbalance
}}
"""


dnsmasq_server = dnsmasq.dnsmasq_server
silent_dns = dnsmasq.silent_dns


# -- real-shaped objects ------------------------------------------------------------------------------


def uid(*parts: str) -> str:
    digest = hashlib.sha1("/".join(parts).encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def _meta(kind: str, name: str, **extra: Any) -> Obj:
    return {
        "creationTimestamp": "2026-06-01T08:00:00Z",
        "name": name,
        "namespace": "kube-system",
        "resourceVersion": str(1000 + len(name)),
        "uid": uid(kind, name),
        **extra,
    }


def configmap(name: str, data: dict[str, str], labels: dict[str, str] | None = None) -> Obj:
    meta = _meta("ConfigMap", name, **({"labels": labels} if labels else {}))
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


def coredns_deployment(replicas: int, ready: int, name: str = "coredns") -> Obj:
    """kubeadm's CoreDNS Deployment (v1.30), with its rollout status."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(
            "Deployment",
            name,
            annotations={"deployment.kubernetes.io/revision": "1"},
            generation=1,
            labels={"k8s-app": "kube-dns"},
        ),
        "spec": {
            "progressDeadlineSeconds": 600,
            "replicas": replicas,
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": {"k8s-app": "kube-dns"}},
            "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}, "type": "RollingUpdate"},
            "template": {
                "metadata": {"labels": {"k8s-app": "kube-dns"}},
                "spec": {
                    "containers": [
                        {
                            "args": ["-conf", "/etc/coredns/Corefile"],
                            "image": "registry.k8s.io/coredns/coredns:v1.11.1",
                            "name": "coredns",
                            "ports": [
                                {"containerPort": 53, "name": "dns", "protocol": "UDP"},
                                {"containerPort": 53, "name": "dns-tcp", "protocol": "TCP"},
                                {"containerPort": 9153, "name": "metrics", "protocol": "TCP"},
                            ],
                            "readinessProbe": {"httpGet": {"path": "/ready", "port": 8181, "scheme": "HTTP"}},
                            "resources": {"limits": {"memory": "170Mi"}, "requests": {"cpu": "100m", "memory": "70Mi"}},
                            "volumeMounts": [{"mountPath": "/etc/coredns", "name": "config-volume", "readOnly": True}],
                        }
                    ],
                    "dnsPolicy": "Default",
                    "priorityClassName": "system-cluster-critical",
                    "serviceAccountName": "coredns",
                    "volumes": [
                        {
                            "configMap": {"items": [{"key": "Corefile", "path": "Corefile"}], "name": "coredns"},
                            "name": "config-volume",
                        }
                    ],
                },
            },
        },
        "status": {
            "availableReplicas": ready,
            "observedGeneration": 1,
            "readyReplicas": ready,
            "replicas": replicas,
            "updatedReplicas": replicas,
        }
        if ready
        else {"observedGeneration": 1, "replicas": replicas, "unavailableReplicas": replicas},
    }


def kube_dns_deployment(replicas: int, ready: int, domain: str = "cluster.local") -> Obj:
    """kubeadm v1.8's kube-dns Deployment: kubedns, dnsmasq (nanny) and sidecar containers."""
    return {
        "apiVersion": "extensions/v1beta1",
        "kind": "Deployment",
        "metadata": _meta("Deployment", "kube-dns", generation=1, labels={"k8s-app": "kube-dns"}),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"k8s-app": "kube-dns"}},
            "template": {
                "metadata": {"labels": {"k8s-app": "kube-dns"}},
                "spec": {
                    "containers": [
                        {
                            "name": "kubedns",
                            "image": "gcr.io/google_containers/k8s-dns-kube-dns-amd64:1.14.5",
                            "args": [f"--domain={domain}.", "--dns-port=10053", "--config-dir=/kube-dns-config"],
                        },
                        {
                            "name": "dnsmasq",
                            "image": "gcr.io/google_containers/k8s-dns-dnsmasq-nanny-amd64:1.14.5",
                            "args": [
                                "-v=2",
                                "-logtostderr",
                                "-configDir=/etc/k8s/dns/dnsmasq-nanny",
                                "--",
                                "-k",
                                f"--server=/{domain}/127.0.0.1#10053",
                            ],
                        },
                        {"name": "sidecar", "image": "gcr.io/google_containers/k8s-dns-sidecar-amd64:1.14.5"},
                    ],
                    "dnsPolicy": "Default",
                    "volumes": [{"configMap": {"name": "kube-dns", "optional": True}, "name": "kube-dns-config"}],
                },
            },
        },
        "status": {"observedGeneration": 1, "replicas": replicas, "readyReplicas": ready, "availableReplicas": ready},
    }


@dataclass
class DnsCluster:
    """A cluster's DNS objects to write; ``corefile`` None with ``kube_dns`` set makes a kube-dns cluster."""

    name: str
    upstream: str = "10.0.0.2 10.0.0.3"
    domain: str = "cluster.local"
    corefile: str | None = None
    custom: dict[str, str] | None = None
    kube_dns: dict[str, str] | None = None
    replicas: int = 2
    ready: int = 2
    dns_endpoint: str | None = None
    labels: dict[str, str] = field(default_factory=lambda: {"env": "prod", "region": "eu-west"})
    no_dns: bool = False

    def objects(self) -> tuple[list[Obj], list[Obj]]:
        """(ConfigMaps, Deployments) as the cluster would list them."""
        configmaps = [configmap("kube-proxy", {"config.conf": "apiVersion: kubeproxy.config.k8s.io/v1alpha1\n"})]
        deployments: list[Obj] = []
        if self.no_dns:
            return configmaps, deployments
        if self.kube_dns is not None:
            if self.kube_dns:
                configmaps.append(
                    configmap("kube-dns", self.kube_dns, {"addonmanager.kubernetes.io/mode": "EnsureExists"})
                )
            deployments.append(kube_dns_deployment(self.replicas, self.ready, self.domain))
            return configmaps, deployments
        text = self.corefile or KUBEADM_COREFILE.format(upstream=self.upstream, domain=self.domain)
        configmaps.append(configmap("coredns", {"Corefile": text}))
        if self.custom is not None:
            configmaps.append(configmap("coredns-custom", self.custom))
        deployments.append(coredns_deployment(self.replicas, self.ready))
        return configmaps, deployments


def write_cluster(root: Path, spec: DnsCluster) -> Path:
    folder = root / spec.name
    folder.mkdir(parents=True)
    configmaps, deployments = spec.objects()
    for file, items in (("configmaps.json", configmaps), ("deployments.json", deployments)):
        doc = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items}
        (folder / file).write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    meta = {"name": spec.name, "captured": CAPTURED, "serverVersion": "v1.30.2", "labels": spec.labels}
    (folder / "cluster.yaml").write_text(yaml.safe_dump(meta), encoding="utf-8")
    return folder


def kube_dns_data(upstreams: list[str] | None = None, stubs: dict[str, list[str]] | None = None) -> dict[str, str]:
    """kube-dns ConfigMap data: JSON strings, as ``kubectl create configmap`` leaves them."""
    data: dict[str, str] = {}
    if upstreams is not None:
        data["upstreamNameservers"] = json.dumps(upstreams)
    if stubs is not None:
        data["stubDomains"] = json.dumps(stubs)
    return data


# -- running the checks -------------------------------------------------------------------------------


@pytest.fixture
def run_dns_checks(pytester: pytest.Pytester) -> Any:
    """``run_dns_checks(*args)``: run checks/test_dns.py in a nested pytest; returns its :class:`Verdicts`."""

    def run(*args: str) -> Verdicts:
        result = pytester.runpytest_inprocess(str(CHECKS), "--no-reports", *NESTED_OPTIONS, *args)
        return verdicts_of(result)

    return run


@pytest.fixture
def dns_cluster() -> Any:
    """``dns_cluster(name, upstream=..., domain=..., corefile=..., custom=..., kube_dns=..., ready=...)``."""
    return DnsCluster


@pytest.fixture
def kubeadm_corefile() -> Any:
    """``kubeadm_corefile(upstream, domain="cluster.local")``: kubeadm's default Corefile text."""

    def render(upstream: str = "/etc/resolv.conf", domain: str = "cluster.local") -> str:
        return KUBEADM_COREFILE.format(upstream=upstream, domain=domain)

    return render


@pytest.fixture
def kube_dns_config() -> Any:
    """``kube_dns_config(upstreams, stubs)``: data of a kube-dns ConfigMap."""
    return kube_dns_data


@pytest.fixture
def snapshots(tmp_path: Path) -> Any:
    """``snapshots(*clusters)``: write snapshot folders, return ``--snapshot`` arguments."""

    def write(*specs: DnsCluster) -> list[str]:
        args: list[str] = []
        for spec in specs:
            args += ["--snapshot", str(write_cluster(tmp_path / "snapshots", spec))]
        return args

    return write


@pytest.fixture
def replayed(tmp_path: Path) -> Iterator[Any]:
    """``replayed(*clusters)``: serve them over HTTPS; returns a fleet file naming their contexts and endpoints."""
    servers: list[ReplayServer] = []

    def serve(*specs: DnsCluster) -> Path:
        folders = [write_cluster(tmp_path / "live", spec) for spec in specs]
        server = ReplayServer([load_snapshot(f) for f in folders]).start()
        servers.append(server)
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
        clusters = []
        for spec in specs:
            entry: Obj = {"name": spec.name, "context": spec.name, "labels": spec.labels}
            if spec.dns_endpoint:
                entry["facts"] = {"dns_endpoint": spec.dns_endpoint}
            clusters.append(entry)
        path = tmp_path / "fleet.yaml"
        path.write_text(yaml.safe_dump({"defaults": {"kubeconfig": str(kubeconfig)}, "clusters": clusters}))
        return path

    yield serve
    for server in servers:
        server.stop()


@pytest.fixture
def profile_file(tmp_path: Path) -> Any:
    """``profile_file(name, **fields)``: a profile YAML extending the built-in default; returns its path."""

    def write(name: str, extends: str = "default", **fields: Any) -> str:
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump({"name": name, "extends": extends, **fields}), encoding="utf-8")
        return str(path)

    return write
