"""Planted faults, seen through the official client (retries off) as a scan would see them."""

from __future__ import annotations

import json
import time

import pytest
import urllib3
from kubernetes import client as k8s

from fleetcheck.replay import ReplayServer

from .conftest import ClientFactory, raw_request


def test_status_with_retry_after(server: ReplayServer, api_client: ClientFactory) -> None:
    server.add_fault("small", r"^/api/v1/nodes$", status=429, retry_after=7)
    core = k8s.CoreV1Api(api_client("small"))
    with pytest.raises(k8s.ApiException) as throttled:
        core.list_node()
    assert throttled.value.status == 429
    assert throttled.value.headers["Retry-After"] == "7"
    status = json.loads(throttled.value.body)
    assert (status["kind"], status["reason"], status["code"]) == ("Status", "TooManyRequests", 429)
    assert len(core.list_namespace().items) > 0, "other paths are not hit"
    assert len(k8s.CoreV1Api(api_client("big")).list_node(limit=1).items) == 1, "other clusters are not hit"


def test_times_bounds_the_hits(server: ReplayServer, api_client: ClientFactory) -> None:
    fault = server.add_fault("small", r"/nodes$", status=503, times=2)
    core = k8s.CoreV1Api(api_client("small"))
    for _ in range(2):
        with pytest.raises(k8s.ApiException) as unavailable:
            core.list_node()
        assert unavailable.value.status == 503
    assert len(core.list_node().items) == 3
    assert fault.hits == 2
    assert [r.status for r in server.request_log] == [503, 503, 200]


def test_clear_faults(server: ReplayServer, api_client: ClientFactory) -> None:
    server.add_fault(None, r".*", status=500)
    assert raw_request(api_client("big"), "GET", "/version").status == 500
    server.clear_faults()
    assert raw_request(api_client("big"), "GET", "/version").status == 200


def test_delay_stalls_then_answers(server: ReplayServer, api_client: ClientFactory) -> None:
    server.add_fault("small", r"^/api/v1/namespaces$", delay=0.3, times=1)
    core = k8s.CoreV1Api(api_client("small"))
    started = time.monotonic()
    assert core.list_namespace().items
    assert time.monotonic() - started >= 0.3


def test_delay_beyond_client_timeout(server: ReplayServer, api_client: ClientFactory) -> None:
    server.add_fault("small", r"^/api/v1/namespaces$", delay=1.0, times=1)
    core = k8s.CoreV1Api(api_client("small"))
    with pytest.raises(urllib3.exceptions.HTTPError) as timed_out:
        core.list_namespace(_request_timeout=0.2)
    assert "timed out" in str(timed_out.value).lower()


def test_drop_closes_without_answer(server: ReplayServer, api_client: ClientFactory) -> None:
    server.add_fault("small", r"^/api/v1/pods$", drop=True, times=1)
    core = k8s.CoreV1Api(api_client("small"))
    with pytest.raises(urllib3.exceptions.HTTPError) as dropped:
        core.list_pod_for_all_namespaces()
    assert "closed connection without response" in str(dropped.value)
    assert len(core.list_pod_for_all_namespaces().items) == 40
    assert [r.status for r in server.request_log] == [0, 200]


def test_truncate_promises_more_than_it_sends(server: ReplayServer, api_client: ClientFactory) -> None:
    server.add_fault("small", r"^/api/v1/pods$", truncate=True, times=1)
    core = k8s.CoreV1Api(api_client("small"))
    with pytest.raises(urllib3.exceptions.HTTPError) as truncated:
        core.list_pod_for_all_namespaces()
    assert "IncompleteRead" in repr(truncated.value)
    [record] = server.request_log
    full = raw_request(api_client("small"), "GET", "/api/v1/pods")
    assert record.bytes == len(full.data) // 2


def test_invalid_json(server: ReplayServer, api_client: ClientFactory) -> None:
    server.add_fault("small", r"^/api/v1/pods$", invalid_json=True, times=1)
    response = raw_request(api_client("small"), "GET", "/api/v1/pods")
    assert response.status == 200
    with pytest.raises(ValueError):
        json.loads(response.data)
    assert json.loads(raw_request(api_client("small"), "GET", "/api/v1/pods").data)["kind"] == "PodList"


def test_gone_after_pages(server: ReplayServer, api_client: ClientFactory) -> None:
    server.add_fault("big", r"^/api/v1/pods$", gone_after_pages=2)
    core = k8s.CoreV1Api(api_client("big"))
    token = None
    for _ in range(2):
        raw = core.list_pod_for_all_namespaces(limit=1000, _continue=token, _preload_content=False)
        token = json.loads(raw.data)["metadata"]["continue"]
    with pytest.raises(k8s.ApiException) as expired:
        core.list_pod_for_all_namespaces(limit=1000, _continue=token)
    assert expired.value.status == 410
    assert json.loads(expired.value.body)["reason"] == "Expired"
    restarted = core.list_pod_for_all_namespaces(limit=1000, _preload_content=False)
    assert restarted.status == 200, "a fresh list (no continue) is not hit"


def test_bad_fault_arguments(server: ReplayServer) -> None:
    with pytest.raises(ValueError):
        server.add_fault("small", r".*")
    with pytest.raises(ValueError):
        server.add_fault("small", r".*", retry_after=3)
    with pytest.raises(KeyError):
        server.add_fault("nope", r".*", status=500)
