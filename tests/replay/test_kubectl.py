"""The real kubectl (1.20) against the replay server, and the Table format it asks for."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from fleetcheck.replay import ReplayServer
from fleetcheck.replay.tables import human_duration, wanted_table_version

from .conftest import BIG_PODS, ClientFactory, find_kubectl, raw_request

KUBECTL_TABLE_ACCEPT = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)


@pytest.fixture(scope="module")
def kubectl() -> str:
    found = find_kubectl()
    if found is None:
        pytest.skip("no kubectl binary: set $KUBECTL or extract Debian's kubectl to .ci/bin/kubectl")
    return found


def run(kubectl: str, kubeconfig: Path, context: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [kubectl, "--kubeconfig", str(kubeconfig), "--context", context, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_kubectl_get_pods_all_namespaces(server: ReplayServer, kubeconfig: Path, kubectl: str) -> None:
    result = run(kubectl, kubeconfig, "big", "get", "pods", "-A")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert len(lines) == BIG_PODS + 1
    assert lines[1].split()[:4] == ["team-00", "web-00000", "1/1", "Running"]
    assert lines[1].split()[5] in ("5d", "4d23h")
    requests = [r for r in server.request_log if r.path == "/api/v1/pods"]
    assert len(requests) == BIG_PODS // 500, "kubectl pages 500 at a time"
    assert {r.method for r in server.request_log} == {"GET"}


def test_kubectl_get_raw_apis(server: ReplayServer, kubeconfig: Path, kubectl: str) -> None:
    result = run(kubectl, kubeconfig, "small", "get", "--raw", "/apis")
    assert result.returncode == 0, result.stderr
    groups = {g["name"] for g in json.loads(result.stdout)["groups"]}
    assert {"apps", "velero.io", "monitoring.coreos.com"} <= groups


def test_kubectl_get_one_wide_and_custom_resources(server: ReplayServer, kubeconfig: Path, kubectl: str) -> None:
    wide = run(kubectl, kubeconfig, "big", "get", "pod", "web-00000", "-n", "team-00", "-o", "wide")
    assert wide.returncode == 0, wide.stderr
    assert wide.stdout.split()[:7] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"]
    nodes = run(kubectl, kubeconfig, "big", "get", "nodes", "--no-headers")
    assert nodes.stdout.splitlines()[0].split()[:3] == ["node-000", "Ready", "control-plane"]
    prom = run(kubectl, kubeconfig, "small", "get", "prometheuses.monitoring.coreos.com", "-A")
    assert prom.returncode == 0, prom.stderr
    assert "central" in prom.stdout
    missing = run(kubectl, kubeconfig, "small", "get", "applications.argoproj.io")
    assert missing.returncode != 0 and "the server doesn't have a resource type" in missing.stderr


def test_table_response_shape(server: ReplayServer, api_client: ClientFactory) -> None:
    api = api_client("big")
    response = raw_request(
        api, "GET", "/api/v1/namespaces/team-02/pods?limit=3", headers={"Accept": KUBECTL_TABLE_ACCEPT}
    )
    table = json.loads(response.data)
    assert (table["kind"], table["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    assert [c["name"] for c in table["columnDefinitions"]][:5] == ["Name", "Ready", "Status", "Restarts", "Age"]
    assert table["metadata"]["continue"] and table["metadata"]["remainingItemCount"] == 247
    row = table["rows"][0]
    assert row["object"]["kind"] == "PartialObjectMetadata"
    assert row["object"]["metadata"]["namespace"] == "team-02"
    assert "managedFields" not in row["object"]["metadata"]
    plain = json.loads(raw_request(api, "GET", "/api/v1/namespaces/team-02/pods?limit=3").data)
    assert plain["kind"] == "PodList"
    generic = json.loads(
        raw_request(
            api, "GET", "/apis/coordination.k8s.io/v1/leases?limit=1", headers={"Accept": KUBECTL_TABLE_ACCEPT}
        ).data
    )
    assert [c["name"] for c in generic["columnDefinitions"]] == ["Name", "Age"]


def test_wanted_table_version() -> None:
    assert wanted_table_version(KUBECTL_TABLE_ACCEPT) == "v1"
    assert wanted_table_version("application/json;as=Table;v=v1beta1;g=meta.k8s.io, application/json") == "v1beta1"
    assert wanted_table_version("application/json") is None
    assert wanted_table_version("") is None
    assert wanted_table_version("application/vnd.kubernetes.protobuf, application/json") is None


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "<invalid>"),
        (-1, "0s"),
        (59, "59s"),
        (119, "119s"),
        (150, "2m30s"),
        (600, "10m"),
        (3 * 3600 + 60, "3h1m"),
        (9 * 3600, "9h"),
        (50 * 3600, "2d2h"),
        (30 * 86400, "30d"),
        (3 * 365 * 86400 + 86400, "3y1d"),
        (9 * 365 * 86400, "9y"),
    ],
)
def test_human_duration_matches_kubectl(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text
