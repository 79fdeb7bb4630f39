from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import fleetcheck
from fleetcheck.errors import ConfigError
from fleetcheck.reports.metrics import MetricsPushError, push_metrics, render_metrics, write_metrics
from fleetcheck.results import ClusterSummary, ResultRecord, ResultsDocument
from fleetcheck.scoring import score_document

parser = pytest.importorskip("prometheus_client.parser", reason="prometheus_client parses the exposition back")


def samples(text: str) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for family in parser.text_string_to_metric_families(text):
        assert family.type == "gauge"
        found.setdefault(family.name, []).extend(family.samples)
    return found


def test_parses_and_matches_the_document(scored: ResultsDocument, tmp_path: Path) -> None:
    text = write_metrics(scored, tmp_path / "metrics.prom").read_text()
    found = samples(text)
    scores = {(s.labels["cluster"], s.labels["factor"]): s.value for s in found["fleetcheck_cluster_score"]}
    for cluster in scored.clusters:
        assert scores[(cluster.name, "overall")] == cluster.score
        for factor, fs in cluster.factors.items():
            if fs.score is None:
                assert (cluster.name, factor) not in scores, "no-data factors are omitted"
            else:
                assert scores[(cluster.name, factor)] == fs.score
    grades = {s.labels["cluster"]: s.labels["grade"] for s in found["fleetcheck_cluster_grade_info"]}
    assert grades == {c.name: c.grade for c in scored.clusters}
    failures = sum(s.value for s in found["fleetcheck_check_failures"])
    assert failures == sum(max(len(r.objects), 1) for r in scored.results if r.outcome == "fail"), "findings"
    assert failures > sum(1 for r in scored.results if r.outcome == "fail")
    (build,) = found["fleetcheck_build_info"]
    assert build.labels == {"version": fleetcheck.__version__} and build.value == 1
    (duration,) = found["fleetcheck_scan_duration_seconds"]
    assert duration.value == 192.0  # 10:00:00 to 10:03:12
    coverage = {s.labels["cluster"]: s.value for s in found["fleetcheck_cluster_coverage_ratio"]}
    assert coverage == {c.name: (c.coverage or 0) / 100 for c in scored.clusters}
    assert coverage["edge-001"] < 1.0
    errors = {s.labels["cluster"]: s.value for s in found["fleetcheck_check_errors"]}
    assert errors["edge-001"] == sum(1 for r in scored.results if r.cluster == "edge-001" and r.outcome == "error")
    up = {s.labels["cluster"]: s.value for s in found["fleetcheck_cluster_up"]}
    assert up == {c.name: (0 if c.reachable is False else 1) for c in scored.clusters}
    (stamp,) = found["fleetcheck_scan_timestamp_seconds"]
    assert stamp.value == 1795514400.0  # 2026-11-24T10:00:00Z


def test_label_values_are_escaped() -> None:
    name = 'we"ird\\name\nx\x1b[1m'
    doc = ResultsDocument(
        started="2026-11-24T10:00:00",
        clusters=[ClusterSummary(name=name)],
        results=[ResultRecord(cluster=name, code="FC-X-001", factor="boring", severity="high", outcome="fail")],
    )
    found = samples(render_metrics(score_document(doc)))
    (failure,) = found["fleetcheck_check_failures"]
    assert failure.labels == {"cluster": 'we"ird\\name\nx', "code": "FC-X-001", "severity": "high"}
    # a naive start time is read as UTC
    assert found["fleetcheck_scan_timestamp_seconds"][0].value == 1795514400.0


def test_unparsable_start_time_omits_the_timestamp() -> None:
    text = render_metrics(score_document(ResultsDocument(started="yesterday")))
    assert "fleetcheck_scan_timestamp_seconds " not in text
    samples(text)


class _Recorder(BaseHTTPRequestHandler):
    received: list[tuple[str, str, str, bytes]] = []
    status = 200

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append(("PUT", self.path, self.headers["Content-Type"], body))
        self.send_response(self.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[tuple[str, type[_Recorder]]]:
    handler = type("Handler", (_Recorder,), {"received": [], "status": 200})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_push_puts_the_exposition(scored: ResultsDocument, gateway: tuple[str, type[_Recorder]]) -> None:
    url, handler = gateway
    push_metrics(scored, url + "/", "fleet scan", grouping={"profile": "default", "site": "a/b"}, timeout=5)
    ((method, path, content_type, body),) = handler.received
    assert method == "PUT"
    assert path == "/metrics/job/fleet%20scan/profile/default/site@base64/YS9i"
    assert content_type.startswith("text/plain; version=0.0.4")
    assert body.decode() == render_metrics(scored)


def test_push_reports_http_errors(scored: ResultsDocument, gateway: tuple[str, type[_Recorder]]) -> None:
    url, handler = gateway
    handler.status = 400
    with pytest.raises(MetricsPushError, match="HTTP 400"):
        push_metrics(scored, url, timeout=5)


def test_push_reports_connection_errors(scored: ResultsDocument) -> None:
    with pytest.raises(MetricsPushError, match="pushgateway"):
        push_metrics(scored, "http://127.0.0.1:9", timeout=2)


def test_push_refuses_non_http_urls(scored: ResultsDocument) -> None:
    with pytest.raises(ConfigError, match="http"):
        push_metrics(scored, "file:///etc/passwd")


def test_findings_count_objects_past_the_list_cap() -> None:
    record = ResultRecord(
        cluster="c", code="FC-QUOTA-001", factor="bounded", severity="high", outcome="fail", objects=["a/Namespace/x"]
    )
    record.objects_total = 5000  # type: ignore[attr-defined]  # extra field: the listed objects were capped
    doc = ResultsDocument(started="2026-11-24T10:00:00Z", clusters=[ClusterSummary(name="c")], results=[record])
    (sample,) = samples(render_metrics(doc))["fleetcheck_check_failures"]
    assert sample.value == 5000


def test_waiver_expiry_and_no_duration_without_a_finish() -> None:
    waivers = [
        {"profile": "prod", "code": "FC-QUOTA-001", "clusters": "dev-*", "reason": "r", "expires": "2027-01-31"},
        {"profile": "prod", "code": "FC-IMG-001", "clusters": "*", "reason": "r", "expires": "not a date"},
    ]
    doc = ResultsDocument.model_validate(
        {
            "started": "2026-11-24T10:00:00Z",
            "clusters": [{"name": "c"}],
            "waivers": [{**waivers[0], "status": "active"}, {**waivers[1], "status": "stale"}],
        }
    )
    found = samples(render_metrics(doc))
    (expiry,) = found["fleetcheck_waiver_expiry_timestamp_seconds"]
    assert expiry.labels == {"profile": "prod", "code": "FC-QUOTA-001", "clusters": "dev-*", "status": "active"}
    assert expiry.value == 1801439999.0  # 2027-01-31T23:59:59Z
    assert "fleetcheck_scan_duration_seconds" not in found
