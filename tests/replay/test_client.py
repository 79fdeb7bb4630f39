"""The replay server through the official ``kubernetes`` client: real TLS, real kubeconfig, no mocks."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from kubernetes import client as k8s

from fleetcheck.replay import ReplayServer
from fleetcheck.replay.server import DRIFT_STEP_S

from .conftest import BIG_NODES, BIG_PODS, CAPTURED, ClientFactory, raw_request, small_snapshot


def test_paginates_5000_pods_with_limit_and_continue(server: ReplayServer, api_client: ClientFactory) -> None:
    core = k8s.CoreV1Api(api_client("big"))
    names: list[str] = []
    token: str | None = None
    pages = remaining = 0
    while True:
        page = core.list_pod_for_all_namespaces(limit=500, _continue=token)
        pages += 1
        names += [f"{p.metadata.namespace}/{p.metadata.name}" for p in page.items]
        assert page.metadata.resource_version
        token = page.metadata._continue
        if not token:
            assert page.metadata.remaining_item_count is None
            break
        remaining = page.metadata.remaining_item_count
        assert remaining == BIG_PODS - len(names)
        assert len(page.items) == 500
    assert pages == 10 and remaining == 500
    assert len(names) == len(set(names)) == BIG_PODS
    assert names == sorted(names), "lists are ordered like etcd keys: namespace, then name"
    lists = [r for r in server.request_log if r.path == "/api/v1/pods"]
    assert len(lists) == 10 and all(r.method == "GET" and r.status == 200 for r in lists)


def test_unpaginated_list_and_list_kind(server: ReplayServer, api_client: ClientFactory) -> None:
    nodes = k8s.CoreV1Api(api_client("big")).list_node()
    assert len(nodes.items) == BIG_NODES
    assert nodes.metadata._continue is None
    raw = raw_request(api_client("big"), "GET", "/api/v1/nodes?limit=2")
    body = json.loads(raw.data)
    assert (body["kind"], body["apiVersion"]) == ("NodeList", "v1")
    assert body["metadata"]["remainingItemCount"] == BIG_NODES - 2


def test_namespaced_list_and_label_selectors(server: ReplayServer, api_client: ClientFactory) -> None:
    core = k8s.CoreV1Api(api_client("big"))
    team = core.list_namespaced_pod("team-03")
    assert len(team.items) == BIG_PODS // 20
    assert {p.metadata.namespace for p in team.items} == {"team-03"}

    def count(selector: str) -> int:
        # Undecoded (_preload_content=False): the client's models cost seconds per 5,000 pods.
        raw = core.list_pod_for_all_namespaces(label_selector=selector, _preload_content=False)
        return len(json.loads(raw.data)["items"])

    quarter = BIG_PODS // 4
    assert count("app=web") == quarter
    assert count("app==web") == quarter
    assert count("app!=web") == BIG_PODS - quarter
    assert count("app in (web, api)") == 2 * quarter
    assert count("app notin (web,api),tier=backend") == 2 * quarter
    assert count("tier") == BIG_PODS
    assert count("!tier") == 0
    assert count("app=web,tier=backend") == 0
    with pytest.raises(k8s.ApiException) as bad:
        core.list_pod_for_all_namespaces(label_selector="app in (web")
    assert bad.value.status == 400


def test_selector_pagination_omits_remaining_count(server: ReplayServer, api_client: ClientFactory) -> None:
    core = k8s.CoreV1Api(api_client("big"))
    first = core.list_pod_for_all_namespaces(label_selector="app=api", limit=1000)
    assert len(first.items) == 1000 and first.metadata._continue
    assert first.metadata.remaining_item_count is None, "a real server cannot count what a selector keeps"
    rest = core.list_pod_for_all_namespaces(label_selector="app=api", limit=1000, _continue=first.metadata._continue)
    assert len(rest.items) == BIG_PODS // 4 - 1000 and not rest.metadata._continue
    with pytest.raises(k8s.ApiException) as other_query:
        core.list_pod_for_all_namespaces(label_selector="app=web", limit=10, _continue=first.metadata._continue)
    assert other_query.value.status == 400
    with pytest.raises(k8s.ApiException) as garbage:
        core.list_pod_for_all_namespaces(limit=10, _continue="not-a-token")
    assert garbage.value.status == 400


def test_field_selectors(server: ReplayServer, api_client: ClientFactory) -> None:
    core = k8s.CoreV1Api(api_client("big"))

    def names(selector: str, namespace: str | None = None) -> list[str]:
        if namespace:
            raw = core.list_namespaced_pod(namespace, field_selector=selector, _preload_content=False)
        else:
            raw = core.list_pod_for_all_namespaces(field_selector=selector, _preload_content=False)
        return [item["metadata"]["name"] for item in json.loads(raw.data)["items"]]

    assert names("metadata.name=web-00004") == ["web-00004"]
    assert len(names("metadata.namespace==team-01")) == 250
    assert len(names("metadata.namespace!=team-01")) == 4750
    assert len(names("spec.nodeName=node-007")) == 25
    assert names("metadata.name=web-00004,status.phase=Running", "team-04") == ["web-00004"]
    assert names("status.phase!=Running") == []
    typed = core.list_pod_for_all_namespaces(field_selector="metadata.name=api-00001")
    assert [p.metadata.name for p in typed.items] == ["api-00001"]
    with pytest.raises(k8s.ApiException) as unsupported:
        core.list_pod_for_all_namespaces(field_selector="spec.containers=x")
    assert unsupported.value.status == 400 and "field label not supported" in unsupported.value.body


def test_get_one_object_and_404(server: ReplayServer, api_client: ClientFactory) -> None:
    core = k8s.CoreV1Api(api_client("big"))
    pod = core.read_namespaced_pod("api-00001", "team-01")
    assert pod.spec.containers[0].resources.requests["cpu"] == "100m"
    assert pod.metadata.owner_references[0].kind == "ReplicaSet"
    assert core.read_node("node-010").status.node_info.kubelet_version == "v1.31.4"
    assert core.read_namespace("team-05").status.phase == "Active"
    with pytest.raises(k8s.ApiException) as missing:
        core.read_namespaced_pod("api-00001", "team-02")
    assert missing.value.status == 404
    status = json.loads(missing.value.body)
    assert (status["kind"], status["reason"], status["details"]["name"]) == ("Status", "NotFound", "api-00001")
    assert raw_request(api_client("big"), "GET", "/api/v1/pods/api-00001").status == 404


def test_discovery_satisfies_the_strict_client(server: ReplayServer, api_client: ClientFactory) -> None:
    api = api_client("small")
    assert k8s.VersionApi(api).get_code().git_version == "v1.29.2"
    assert k8s.CoreApi(api).get_api_versions().server_address_by_client_cidrs[0].server_address.startswith("127.0.0.1:")
    groups = {g.name: g for g in k8s.ApisApi(api).get_api_versions().groups}
    assert {"apps", "batch", "velero.io", "monitoring.coreos.com"} <= set(groups)
    assert "argoproj.io" not in groups
    assert groups["apps"].preferred_version.group_version == "apps/v1"
    core = {r.name: r for r in k8s.CoreV1Api(api).get_api_resources().resources}
    assert core["pods"].short_names == ["po"] and core["nodes"].namespaced is False
    assert core["pods"].verbs == ["get", "list"] and core["pods"].singular_name == "pod"
    apps = {r.name for r in k8s.AppsV1Api(api).get_api_resources().resources}
    assert {"daemonsets", "deployments", "statefulsets"} <= apps
    velero = raw_request(api, "GET", "/apis/velero.io/v1")
    assert {r["name"] for r in json.loads(velero.data)["resources"]} == {"backups", "schedules"}
    assert k8s.VersionApi(api_client("big")).get_code().minor == "31"


def test_crd_group_served_or_absent(server: ReplayServer, api_client: ClientFactory) -> None:
    custom = k8s.CustomObjectsApi(api_client("small"))
    schedules = custom.list_cluster_custom_object("velero.io", "v1", "schedules")
    assert schedules["items"] == [] and schedules["kind"] == "ScheduleList", "CRD installed, zero objects"
    assert (
        len(custom.list_namespaced_custom_object("monitoring.coreos.com", "v1", "monitoring", "prometheuses")["items"])
        == 1
    )
    with pytest.raises(k8s.ApiException) as absent:
        custom.list_cluster_custom_object("argoproj.io", "v1alpha1", "applications")
    assert absent.value.status == 404, "no CRD, no objects: the group is not served"
    with pytest.raises(k8s.ApiException) as absent_big:
        k8s.CustomObjectsApi(api_client("big")).list_cluster_custom_object("velero.io", "v1", "backups")
    assert absent_big.value.status == 404


def test_builtin_kind_without_objects_is_an_empty_list(server: ReplayServer, api_client: ClientFactory) -> None:
    jobs = k8s.BatchV1Api(api_client("small")).list_job_for_all_namespaces()
    assert jobs.items == []


def test_legacy_group_served_under_modern_version(server: ReplayServer, api_client: ClientFactory) -> None:
    daemonsets = k8s.AppsV1Api(api_client("small")).list_daemon_set_for_all_namespaces()
    assert [(d.api_version, d.kind, d.metadata.name) for d in daemonsets.items] == [
        ("apps/v1", "DaemonSet", "kube-flannel-ds")
    ]
    assert raw_request(api_client("small"), "GET", "/apis/extensions/v1beta1/daemonsets").status == 404


def test_secrets_withheld_unless_asked(server: ReplayServer, api_client: ClientFactory) -> None:
    core = k8s.CoreV1Api(api_client("small"))
    with pytest.raises(k8s.ApiException) as denied:
        core.list_secret_for_all_namespaces()
    assert denied.value.status == 403
    assert "c3VwZXItc2VjcmV0" not in str(denied.value.body)
    names = {r.name for r in core.get_api_resources().resources}
    assert "secrets" in names, "discovery lists secrets, as any server does"


def test_unauthenticated_requests_get_401(server: ReplayServer, api_client: ClientFactory) -> None:
    api = api_client("big")
    response = raw_request(api, "GET", "/api/v1/pods", auth=False)
    assert response.status == 401
    assert json.loads(response.data)["reason"] == "Unauthorized"
    wrong = raw_request(api, "GET", "/version", headers={"Authorization": "Bearer not-the-token"}, auth=False)
    assert wrong.status == 401
    assert [r.status for r in server.request_log] == [401, 401]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_writes_are_refused_with_405(server: ReplayServer, api_client: ClientFactory, method: str) -> None:
    response = raw_request(api_client("big"), method, "/api/v1/namespaces/team-01/pods/api-00001")
    assert response.status == 405
    status = json.loads(response.data)
    assert (status["kind"], status["reason"], status["code"]) == ("Status", "MethodNotAllowed", 405)
    [record] = server.request_log
    assert (record.cluster, record.method, record.status) == ("big", method, 405)
    assert record.path == "/api/v1/namespaces/team-01/pods/api-00001"


def test_watch_is_refused(server: ReplayServer, api_client: ClientFactory) -> None:
    response = raw_request(api_client("big"), "GET", "/api/v1/pods?watch=true")
    assert response.status == 405
    assert "watch" in json.loads(response.data)["message"]


def test_head_and_request_log(server: ReplayServer, api_client: ClientFactory) -> None:
    api = api_client("big")
    head = raw_request(api, "HEAD", "/api/v1/namespaces")
    assert head.status == 200 and head.data == b""
    get = raw_request(api, "GET", "/api/v1/namespaces?limit=3&labelSelector=kubernetes.io%2Fmetadata.name")
    records = server.request_log
    assert [(r.method, r.path, r.status) for r in records] == [
        ("HEAD", "/api/v1/namespaces", 200),
        ("GET", "/api/v1/namespaces", 200),
    ]
    assert records[0].bytes == 0 and records[1].bytes == len(get.data)
    assert records[1].query == "limit=3&labelSelector=kubernetes.io%2Fmetadata.name"


def test_date_header_follows_clock_offset(server: ReplayServer, api_client: ClientFactory) -> None:
    api = api_client("small")
    server.set_clock_offset("small", 3600)
    skewed = parsedate_to_datetime(raw_request(api, "GET", "/version").headers["Date"])
    true = parsedate_to_datetime(raw_request(api_client("big"), "GET", "/version").headers["Date"])
    now = datetime.now(UTC)
    assert abs((true - now).total_seconds()) < 5
    assert abs((skewed - now).total_seconds() - 3600) < 5
    with pytest.raises(KeyError):
        server.set_clock_offset("no-such-cluster", 1)


def _served_drift(server: ReplayServer, response: k8s.rest.RESTResponse) -> timedelta:
    """How far the server had moved its timestamps along with its clock when it sent ``response``."""
    assert server.started_at is not None
    date = parsedate_to_datetime(response.headers["Date"])
    steps = max(0, int((date - server.started_at).total_seconds()) // DRIFT_STEP_S)
    return timedelta(seconds=steps * DRIFT_STEP_S)


def test_timestamps_rebased_to_server_start(server: ReplayServer, api_client: ClientFactory) -> None:
    assert server.started_at is not None
    shift = server.started_at - CAPTURED
    api = api_client("small")
    response = raw_request(api, "GET", "/api/v1/namespaces/team-00/pods/web-00000")
    pod = json.loads(response.data)
    created = datetime.fromisoformat(pod["metadata"]["creationTimestamp"].replace("Z", "+00:00"))
    expected = CAPTURED - timedelta(days=5) + shift + _served_drift(server, response)
    assert abs((created - expected).total_seconds()) <= DRIFT_STEP_S
    response = raw_request(api, "GET", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-000")
    renew = json.loads(response.data)["spec"]["renewTime"]
    assert renew.endswith(".000000Z"), "MicroTime keeps its six digits"
    age = parsedate_to_datetime(response.headers["Date"]) - datetime.fromisoformat(renew.replace("Z", "+00:00"))
    assert 7 <= age.total_seconds() <= 9 + DRIFT_STEP_S, "ages against 'now' are what they were at capture"
    backup = k8s.CustomObjectsApi(api).get_namespaced_custom_object(
        "velero.io", "v1", "velero", "backups", "nightly-20240501"
    )
    completed = datetime.fromisoformat(backup["status"]["completionTimestamp"].replace("Z", "+00:00"))
    assert abs((server.started_at - completed).total_seconds() - 6 * 3600) <= 1 + 2 * DRIFT_STEP_S
    quoted = backup["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
    assert "2024-05-01T06:00:00Z" in quoted, "a timestamp inside another string is left alone"


def test_served_timestamps_follow_the_clock_while_serving(api_client: ClientFactory, tmp_path: Path) -> None:
    """After minutes of serving, a Lease renewed 8 s before capture is still about 8 s old at the Date header."""
    later = [0.0]  # seconds the test moves the server's clock on, as if it had been serving that long

    def clock() -> float:
        return time.time() + later[0]

    path = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-000"
    with ReplayServer([small_snapshot()], time_source=clock) as serving:
        api = api_client("small", serving.write_kubeconfig(tmp_path / "config"))
        later[0] = 125.0  # what a long scan (or a demo left running) sees two minutes on
        response = raw_request(api, "GET", path)
        renew = datetime.fromisoformat(json.loads(response.data)["spec"]["renewTime"].replace("Z", "+00:00"))
        age = (parsedate_to_datetime(response.headers["Date"]) - renew).total_seconds()
        assert 7 <= age <= 9 + DRIFT_STEP_S, f"the Lease fell {age:.0f} s behind the server's clock"
        listed = json.loads(raw_request(api, "GET", "/apis/coordination.k8s.io/v1/leases").data)
        assert {i["spec"]["renewTime"] for i in listed["items"]} == {json.loads(response.data)["spec"]["renewTime"]}
    later[0] = 0.0
    with ReplayServer([small_snapshot()], rebase_time=False, time_source=clock) as frozen:
        api = api_client("small", frozen.write_kubeconfig(tmp_path / "frozen"))
        later[0] = 125.0
        renew_text = json.loads(raw_request(api, "GET", path).data)["spec"]["renewTime"]
        assert renew_text.startswith("2024-05-01T11:59:52"), "without rebasing, timestamps stay as captured"


def test_rebase_off_and_secrets_served(api_client: ClientFactory, tmp_path: Path) -> None:
    with ReplayServer([small_snapshot()], rebase_time=False, serve_secrets=True) as plain:
        api = api_client("small", plain.write_kubeconfig(tmp_path / "config"))
        pod = k8s.CoreV1Api(api).read_namespaced_pod("web-00000", "team-00")
        assert pod.metadata.creation_timestamp == CAPTURED - timedelta(days=5)
        secrets = k8s.CoreV1Api(api).list_secret_for_all_namespaces()
        assert [s.metadata.name for s in secrets.items] == ["db-password"]
