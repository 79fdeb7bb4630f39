"""A demo-size fleet in one process: 20 clusters, the largest 200 nodes / 5,000 pods."""

from __future__ import annotations

import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from kubernetes import client as k8s

from fleetcheck.replay import ReplayServer

from .conftest import BIG_PODS, ClientFactory, big_snapshot, fleet_objects, snapshot_of


def test_twenty_clusters_in_one_process(tmp_path: Path, api_client: ClientFactory) -> None:
    medium = fleet_objects(pods=500, nodes=20, namespaces=5)
    snapshots = [big_snapshot(), *(snapshot_of(f"cluster-{i:02d}", medium) for i in range(19))]
    started = time.monotonic()
    with ReplayServer(snapshots) as server:
        start_seconds = time.monotonic() - started
        urls = server.urls
        assert len(urls) == 20
        ports = {urlsplit(url).port for url in urls.values()}
        assert len(ports) == 20
        assert {urlsplit(url).hostname for url in urls.values()} == {"127.0.0.1"}
        kubeconfig = server.write_kubeconfig(tmp_path / "config")
        doc = yaml.safe_load(kubeconfig.read_text())
        assert [c["name"] for c in doc["contexts"]] == list(urls)

        def first_page(name: str) -> tuple[str, int, int]:
            api = api_client(name, kubeconfig)
            raw = k8s.CoreV1Api(api).list_pod_for_all_namespaces(limit=500, _preload_content=False)
            body = json.loads(raw.data)
            return name, len(body["items"]), body["metadata"].get("remainingItemCount", 0)

        with ThreadPoolExecutor(max_workers=4) as pool:
            pages = sorted(pool.map(first_page, urls))
        assert pages[0] == ("big", 500, BIG_PODS - 500)
        assert all((count, remaining) == (500, 0) for _, count, remaining in pages[1:])
        per_cluster = {r.cluster for r in server.request_log if r.path == "/api/v1/pods"}
        assert per_cluster == set(urls)
    assert start_seconds < 20, f"starting 20 clusters took {start_seconds:.1f}s"


def test_clients_made_from_threads_each_get_their_whole_ca_file(
    kubeconfig: Path, api_client: ClientFactory, slow_ca_writer: None
) -> None:
    """Every replayed cluster shares one CA: clients made at once must not be handed its temp file half-written."""
    contexts = [c["name"] for c in yaml.safe_load(kubeconfig.read_text())["contexts"]] * 2
    assert len(contexts) >= 4
    barrier = threading.Barrier(len(contexts))

    def ca_size(context: str) -> int:
        barrier.wait(10)
        return Path(str(api_client(context).configuration.ssl_ca_cert)).stat().st_size

    with ThreadPoolExecutor(max_workers=len(contexts)) as pool:
        sizes = list(pool.map(ca_size, contexts))
    assert all(size > 0 for size in sizes), sizes


def test_only_loopback_hosts() -> None:
    with pytest.raises(ValueError, match="loopback"):
        ReplayServer([snapshot_of("x", [])], host="0.0.0.0")
    with pytest.raises(ValueError, match="duplicate"):
        ReplayServer([snapshot_of("x", []), snapshot_of("x", [])])


def test_stop_closes_every_port_and_is_idempotent() -> None:
    server = ReplayServer([snapshot_of("a", []), snapshot_of("b", [])]).start()
    ports = [urlsplit(url).port for url in server.urls.values()]
    server.stop()
    server.stop()
    for port in ports:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port or 0), timeout=5).close()
