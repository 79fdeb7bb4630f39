"""``--pushgateway URL``: the scan's metrics reach a Pushgateway on loopback; a dead one never fails the scan."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.integration.clusters import write_cluster
from tests.integration.conftest import QUOTA_CHECKS


class _Gateway(BaseHTTPRequestHandler):
    received: list[tuple[str, str, bytes]] = []

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.received.append(("PUT", self.path, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def gateway() -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    received: list[tuple[str, str, bytes]] = []
    handler = type("Gateway", (_Gateway,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


def test_metrics_are_pushed(gateway: tuple[str, list], tmp_path: Path, pytester: pytest.Pytester) -> None:
    url, received = gateway
    snap = write_cluster(tmp_path / "s", "prod-b", bad_namespaces=1)
    result = pytester.runpytest_inprocess(
        str(QUOTA_CHECKS),
        "--snapshot",
        str(snap),
        "--report-dir",
        str(tmp_path / "r"),
        "--pushgateway",
        url,
        "-p",
        "no:benchmark",
    )
    assert len(received) == 1
    method, path, body = received[0]
    assert method == "PUT"
    assert path.startswith("/metrics/job/fleetcheck")
    assert b'fleetcheck_check_failures{cluster="prod-b",code="FC-QUOTA-001",severity="high"}' in body
    assert f"pushgateway: {url}" in result.stdout.str()


def test_a_dead_gateway_is_reported_not_fatal(tmp_path: Path, pytester: pytest.Pytester) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    snap = write_cluster(tmp_path / "s", "prod-a")
    result = pytester.runpytest_inprocess(
        str(QUOTA_CHECKS),
        "--snapshot",
        str(snap),
        "--report-dir",
        str(tmp_path / "r"),
        "--pushgateway",
        f"http://127.0.0.1:{port}",
        "-p",
        "no:benchmark",
    )
    assert result.ret == 0
    assert "push to http://127.0.0.1:" in result.stdout.str()
    assert (tmp_path / "r" / "results.json").exists()
