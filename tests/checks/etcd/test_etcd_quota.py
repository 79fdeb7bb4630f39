"""FC-ETCD-001 against the replay server's /metrics (a snapshot's metrics.txt), the parser's bounds, the RBAC."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fleetcheck.core.prometheus_text import MAX_LINE_CHARS, parse_samples
from fleetcheck.replay import ReplayServer
from fleetcheck.state.snapshot import load_snapshot
from tests.checks.gotcha_kit import CHECKS, HELD, namespace, scan, write_snapshot
from tests.harness import Verdicts, run_checks

MODULE = CHECKS / "test_etcd.py"
GIB = 1024**3

#: shaped like a kube-apiserver 1.31 /metrics page: HELP/TYPE lines, histograms, the storage gauge
METRICS_131 = """# HELP apiserver_request_total [STABLE] Counter of apiserver requests broken out for each verb.
# TYPE apiserver_request_total counter
apiserver_request_total{code="200",component="apiserver",resource="pods",scope="cluster",verb="LIST",version="v1"} 4242
# HELP apiserver_storage_objects [STABLE] Number of stored objects at the time of last check split by kind.
# TYPE apiserver_storage_objects gauge
apiserver_storage_objects{resource="events"} 118204
apiserver_storage_objects{resource="pods"} 312
# HELP apiserver_storage_size_bytes [ALPHA] Size of the storage database file physically allocated in bytes.
# TYPE apiserver_storage_size_bytes gauge
apiserver_storage_size_bytes{storage_cluster_id="etcd-0"} {size}
"""
#: 1.26-era name, with the endpoint label
METRICS_126 = """# TYPE etcd_db_total_size_in_bytes gauge
etcd_db_total_size_in_bytes{endpoint="https://10.0.0.10:2379"} {size}
"""


def _cluster(folder: Path, metrics: str | None, *, server_version: str = "v1.31.4") -> Path:
    write_snapshot(folder, [namespace("shop")], server_version=server_version, held=(*HELD, "pods"))
    if metrics is not None:
        (folder / "metrics.txt").write_text(metrics, encoding="utf-8")
    return folder


def _scan_live(pytester: pytest.Pytester, tmp_path: Path, folders: list[Path], *args: str, faults=()) -> Verdicts:
    with ReplayServer([load_snapshot(f) for f in folders]) as server:
        for cluster, path, status in faults:
            server.add_fault(cluster, path, status=status)
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
        fleet = tmp_path / "fleet.yaml"
        clusters = [{"name": f.name, "context": f.name} for f in folders]
        fleet.write_text(yaml.safe_dump({"defaults": {"kubeconfig": str(kubeconfig)}, "clusters": clusters}))
        return run_checks(pytester, MODULE, "--fleet", str(fleet), *args)


def test_near_quota_fails_below_passes_and_older_names_are_read(pytester: pytest.Pytester, tmp_path: Path) -> None:
    root = tmp_path / "snapshots"
    folders = [
        _cluster(root / "full", METRICS_131.replace("{size}", str(int(1.8 * GIB)))),
        _cluster(root / "roomy", METRICS_131.replace("{size}", str(300 * 1024**2))),
        _cluster(root / "old", METRICS_126.replace("{size}", "1.9e+09"), server_version="v1.26.9"),
        _cluster(root / "kine", "# TYPE apiserver_request_total counter\napiserver_request_total 3\n"),
        _cluster(root / "eks", METRICS_131.replace("{size}", str(2 * GIB)), server_version="v1.31.4-eks-1a2b3c4"),
        _cluster(root / "forbidden", METRICS_131.replace("{size}", "1")),
    ]
    verdicts = _scan_live(pytester, tmp_path, folders, faults=[("forbidden", r"^/metrics$", 403)])

    assert verdicts.outcome("FC-ETCD-001", "full") == "fail"
    message = verdicts.message("FC-ETCD-001", "full")
    assert "apiserver_storage_size_bytes{storage_cluster_id='etcd-0'} = 1.80 GiB (90% of the quota)" in message
    assert "expected below 80% of quota_bytes 2.00 GiB" in message
    assert verdicts.outcome("FC-ETCD-001", "roomy") == "pass", verdicts.message("FC-ETCD-001", "roomy")
    assert verdicts.outcome("FC-ETCD-001", "old") == "fail"
    assert "etcd_db_total_size_in_bytes{endpoint='https://10.0.0.10:2379'}" in verdicts.message("FC-ETCD-001", "old")
    assert verdicts.outcome("FC-ETCD-001", "kine") == "skip"
    assert "reports no etcd database size" in verdicts.message("FC-ETCD-001", "kine")
    assert verdicts.outcome("FC-ETCD-001", "eks") == "skip"
    assert "managed control plane (EKS" in verdicts.message("FC-ETCD-001", "eks")
    assert verdicts.outcome("FC-ETCD-001", "forbidden") == "error"
    forbidden = verdicts.message("FC-ETCD-001", "forbidden")
    assert "403 Forbidden" in forbidden and "nonResourceURL /metrics" in forbidden
    assert "deploy/kubernetes/optional/metrics/metrics-reader.yaml" in forbidden


def test_quota_is_a_setting_and_no_metrics_and_snapshots_skip(pytester: pytest.Pytester, tmp_path: Path) -> None:
    root = tmp_path / "snapshots"
    folders = [
        _cluster(root / "big", METRICS_131.replace("{size}", str(int(1.8 * GIB)))),
        _cluster(root / "bare", None),  # the replay answers 404 for /metrics: a skip saying so, never a pass
    ]
    profile = tmp_path / "profile.yaml"
    settings = {"FC-ETCD-001": {"quota_bytes": 8 * GIB, "threshold_percent": 80}}
    profile.write_text(yaml.safe_dump({"name": "big-etcd", "extends": "default", "settings": settings}))
    verdicts = _scan_live(pytester, tmp_path, folders, "--profile", str(profile))
    assert verdicts.outcome("FC-ETCD-001", "big") == "pass", verdicts.message("FC-ETCD-001", "big")
    assert verdicts.outcome("FC-ETCD-001", "bare") == "skip"
    bare = verdicts.message("FC-ETCD-001", "bare")
    assert bare.startswith("404: the API server does not serve /metrics") and "etcd's size is not reported" in bare

    snapshot = scan(pytester, "test_etcd.py", _cluster(tmp_path / "snap", METRICS_131.replace("{size}", "1")))
    assert snapshot.outcome("FC-ETCD-001", "snap") == "skip"
    assert "read from a live cluster only" in snapshot.message("FC-ETCD-001", "snap")


def test_parser_keeps_only_asked_families_and_is_bounded() -> None:
    text = "\n".join(
        [
            "# HELP apiserver_storage_size_bytes x",
            'apiserver_storage_size_bytes{storage_cluster_id="etcd-0",note="a \\"quoted\\" \\\\ value"} 1.5e3',
            'apiserver_storage_size_bytes{storage_cluster_id="etcd-1"} 7 1700000000000',
            'apiserver_storage_size_bytes{broken="unterminated} 3',
            "apiserver_storage_size_bytes{} not-a-number",
            'apiserver_storage_size_bytes{storage_cluster_id="' + "x" * MAX_LINE_CHARS + '"} 9',
            "other_metric 5",
        ]
        + [f'apiserver_storage_size_bytes{{i="{i}"}} {i}' for i in range(50)]
    ).encode()
    parsed = parse_samples(text, ["apiserver_storage_size_bytes", "absent_metric"], max_samples=10)
    samples = parsed.samples["apiserver_storage_size_bytes"]
    assert len(samples) == 10
    assert samples[0].value == 1500.0
    assert samples[0].labels == {"storage_cluster_id": "etcd-0", "note": 'a "quoted" \\ value'}
    assert samples[1].labels == {"storage_cluster_id": "etcd-1"} and samples[1].value == 7
    assert parsed.samples["absent_metric"] == []
    assert "other_metric" not in parsed.samples
    # the unterminated label, the non-number, the over-long line, and the 42 over the per-family bound
    assert parsed.skipped == 3 + 42


def test_optional_rbac_grants_get_on_metrics_only() -> None:
    repo = Path(__file__).resolve().parents[3]
    optional = repo / "deploy" / "kubernetes" / "optional" / "metrics"
    documents = list(yaml.safe_load_all((optional / "metrics-reader.yaml").read_text()))
    role = next(d for d in documents if d["kind"] == "ClusterRole")
    assert role["rules"] == [{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]
    binding = next(d for d in documents if d["kind"] == "ClusterRoleBinding")
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    base = yaml.safe_load((repo / "deploy" / "kubernetes" / "clusterrole.yaml").read_text())
    base_urls = {url for rule in base["rules"] for url in rule.get("nonResourceURLs", [])}
    assert "/metrics" not in base_urls, "the base RBAC stays without /metrics (it is opt-in)"
    security = (repo / "docs" / "security.md").read_text()
    assert "metrics-reader.yaml" in security and "FC-ETCD-001" in security
