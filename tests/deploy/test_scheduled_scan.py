"""The scheduled scan end to end: the CronJob's own script, config and kubeconfig, against a real API server.

The API server is fleetcheck's replay server (HTTPS, bearer token) serving a cluster made of
the kit's own objects: its namespace, quota, LimitRange, RBAC, and the pod the CronJob
creates. The ConfigMap's ``in-cluster.kubeconfig`` is used as shipped, except that its
three in-cluster references (API server URL, ServiceAccount CA and token files) point at
the replay server and at files holding its CA and token: the same ``tokenFile`` mechanism
the pod uses. The script runs under ``/bin/sh`` with the real ``fleetcheck`` on PATH, and
pushes its metrics to a Pushgateway stand-in on loopback.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetcheck.replay import ReplayServer
from fleetcheck.state.snapshot import load_snapshot
from tests.builders import write_empty_lists
from tests.deploy.kit import container, manifests, one, pod_templates, run_script, stub_bin

ALL = manifests()
CAPTURED = "2026-11-24T10:00:00Z"
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
KIT_KINDS = ("ResourceQuota", "LimitRange", "ServiceAccount", "ConfigMap", "PersistentVolumeClaim", "CronJob")
KIT_KINDS += ("ClusterRole", "ClusterRoleBinding")
#: what the scan of the kit's own cluster must find: the kit passes fleetcheck's own checks
KIT_PASSES = ("FC-QUOTA-001", "FC-QUOTA-002", "FC-IMG-001", "FC-IMG-003")


def _stamped(obj: dict[str, Any]) -> dict[str, Any]:
    meta = {**obj["metadata"], "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, json.dumps(obj["metadata"])))}
    meta |= {"resourceVersion": "1", "creationTimestamp": "2026-11-01T00:00:00Z"}
    return {**obj, "metadata": meta}


def _namespace(name: str) -> dict[str, Any]:
    labels = {"kubernetes.io/metadata.name": name}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def _cronjob_pod() -> dict[str, Any]:
    """The pod the CronJob's Job creates, as the API server would return it."""
    cron = one(ALL, "CronJob", "fleetcheck").obj
    (spec,) = pod_templates(cron)
    labels = cron["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    statuses = [
        {"name": c["name"], "image": c["image"], "imageID": "", "ready": True, "restartCount": 0, "started": True}
        for c in spec["containers"]
    ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "fleetcheck-29001234-abcde", "namespace": "fleetcheck", "labels": labels},
        "spec": {**spec, "nodeName": "node-1"},
        "status": {"phase": "Running", "containerStatuses": statuses},
    }


def _write_cluster(folder: Path) -> Path:
    folder.mkdir(parents=True)
    objects = [_namespace("kube-system"), one(ALL, "Namespace", "fleetcheck").obj, _cronjob_pod()]
    objects += [m.obj for m in ALL if m.kind in KIT_KINDS and m.path.parent.name == "kubernetes"]
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"], []).append(_stamped(obj))
    for kind, items in by_kind.items():
        body = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items}
        (folder / f"{kind.lower()}s.json").write_text(json.dumps(body), encoding="utf-8")
    write_empty_lists(folder, objects)  # a capture holds every kind: the rest are empty, not "not captured"
    meta = {"name": "management", "captured": CAPTURED, "serverVersion": "v1.31.4"}
    (folder / "cluster.yaml").write_text(yaml.safe_dump(meta), encoding="utf-8")
    return folder


class _Pushgateway(BaseHTTPRequestHandler):
    received: list[tuple[str, str, bytes]] = []

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.command, self.path, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def pushgateway() -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    received: list[tuple[str, str, bytes]] = []
    handler = type("Handler", (_Pushgateway,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _in_cluster_config(folder: Path, server: ReplayServer) -> Path:
    """The ConfigMap's files, with the in-cluster references pointed at the replay server."""
    folder.mkdir()
    (config,) = [m.obj for m in ALL if m.kind == "ConfigMap" and m.name == "fleetcheck-config"]
    for name, text in config["data"].items():
        (folder / name).write_text(text, encoding="utf-8")
    kubeconfig = yaml.safe_load(config["data"]["in-cluster.kubeconfig"])
    (cluster,) = kubeconfig["clusters"]
    (user,) = kubeconfig["users"]
    in_cluster = {"server": "https://kubernetes.default.svc", "certificate-authority": f"{SA_DIR}/ca.crt"}
    assert cluster["cluster"] == in_cluster
    assert user["user"] == {"tokenFile": f"{SA_DIR}/token"}, "no credential in the ConfigMap, only the mounted token"
    sa = folder.parent / "serviceaccount"
    sa.mkdir()
    (sa / "ca.crt").write_bytes(server.ca_pem)
    (sa / "token").write_text(server.token, encoding="utf-8")
    cluster["cluster"] = {"server": server.urls["management"], "certificate-authority": str(sa / "ca.crt")}
    user["user"] = {"tokenFile": str(sa / "token")}
    (folder / "in-cluster.kubeconfig").write_text(yaml.safe_dump(kubeconfig), encoding="utf-8")
    return folder


def test_cronjob_scans_its_own_cluster_and_pushes_metrics(
    tmp_path: Path, pushgateway: tuple[str, list[tuple[str, str, bytes]]]
) -> None:
    url, received = pushgateway
    scanner = container(pod_templates(one(ALL, "CronJob", "fleetcheck").obj)[0], "fleetcheck")
    with ReplayServer([load_snapshot(_write_cluster(tmp_path / "snapshot"))]) as server:
        config = _in_cluster_config(tmp_path / "config", server)
        reports = tmp_path / "reports"
        reports.mkdir()
        done = run_script(
            scanner,
            stub_bin(tmp_path / "bin", real=True),
            {
                "REPORTS": str(reports),
                "FLEETCHECK_FLEET": str(config / "fleet.yaml"),
                # as in the pod: the in-cluster kubeconfig, then the (absent) optional Secret
                "KUBECONFIG": f"{config / 'in-cluster.kubeconfig'}:{tmp_path / 'kubeconfigs' / 'kubeconfig'}",
                "PUSHGATEWAY_URL": url,
                "HOME": str(tmp_path),
            },
        )
        requests = server.request_log
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert requests and all(r.method == "GET" for r in requests), "read-only: GET and nothing else"

    latest = reports / "latest"
    assert latest.is_symlink()
    for name in ("results.json", "junit.xml", "scorecard.html", "metrics.prom"):
        assert (latest / name).is_file(), name
    results = json.loads((latest / "results.json").read_text(encoding="utf-8"))
    assert [c["name"] for c in results["clusters"]] == ["management"]
    outcomes = {r["code"]: r["outcome"] for r in results["results"]}
    assert not [code for code, outcome in outcomes.items() if outcome == "error"], outcomes
    for code in KIT_PASSES:
        assert outcomes.get(code) == "pass", f"{code}: {outcomes.get(code)} (the kit must pass its own check)"

    (method, path, body) = received[-1]
    assert (method, path) == ("PUT", "/metrics/job/fleetcheck")
    assert b'fleetcheck_cluster_score{cluster="management"' in body
    assert "metrics pushed" in done.stdout
