"""Two clusters in one scan never see each other's data, credentials or connections.

Each cluster gets its own replay server, so its own port, CA and bearer
token: a request sent to the wrong server would fail TLS or come back 401,
and each server's request log is the list of what reached it. The data
differ (each cluster has namespaces the other lacks), so a verdict computed
from the wrong cluster's objects names the wrong namespaces.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from fleetcheck.replay import ReplayServer, RequestRecord
from fleetcheck.state.snapshot import load_snapshot
from tests.integration.clusters import namespace, write_cluster, write_list
from tests.security.kit import check_module, fleet_file, records, scan, scan_args

CHECKS = [check_module("quota"), check_module("transport")]

#: per cluster and code: (outcome, objects)
EXPECTED = {
    ("alpha", "FC-QUOTA-001"): ("fail", ["Namespace/legacy-0", "Namespace/only-in-alpha"]),
    ("alpha", "FC-QUOTA-002"): ("fail", ["Namespace/legacy-0", "Namespace/only-in-alpha"]),
    ("alpha", "FC-QUOTA-003"): ("pass", []),
    ("alpha", "FC-TLS-001"): ("pass", []),
    ("beta", "FC-QUOTA-001"): ("fail", ["Namespace/legacy-0", "Namespace/legacy-1", "Namespace/legacy-2"]),
    ("beta", "FC-QUOTA-002"): ("fail", ["Namespace/legacy-0", "Namespace/legacy-1", "Namespace/legacy-2"]),
    ("beta", "FC-QUOTA-003"): ("fail", ["team-a/ResourceQuota/compute"]),
    ("beta", "FC-TLS-001"): ("pass", []),
}


def _add_namespace(folder: Path, name: str) -> Path:
    items = json.loads((folder / "namespaces.json").read_text())["items"]
    write_list(folder, "namespaces.json", [*items, namespace(name)])
    return folder


def _start(root: Path) -> dict[str, ReplayServer]:
    alpha = _add_namespace(write_cluster(root, "alpha", bad_namespaces=1), "only-in-alpha")
    beta = write_cluster(root, "beta", bad_namespaces=3, hot_quota=True)
    return {name: ReplayServer([load_snapshot(d)]).start() for name, d in (("alpha", alpha), ("beta", beta))}


def _fleet(tmp_path: Path, servers: dict[str, ReplayServer]) -> Path:
    clusters = [
        {"name": name, "kubeconfig": str(server.write_kubeconfig(tmp_path / f"kubeconfig-{name}"))}
        for name, server in servers.items()
    ]
    return fleet_file(tmp_path / "fleet.yaml", clusters)


def _assert_isolated(report_dir: Path, logs: dict[str, list[RequestRecord]]) -> None:
    verdicts = {key: (r["outcome"], r["objects"]) for key, r in records(report_dir).items()}
    assert verdicts == EXPECTED
    for name, log in logs.items():
        assert log and {r.cluster for r in log} == {name}
        assert {r.status for r in log} <= {200, 404}, f"{name} saw a request it could not authenticate"
        assert {r.method for r in log} == {"GET"}
        lists = {r.path for r in log if r.query}
        assert {"/api/v1/namespaces", "/api/v1/resourcequotas", "/api/v1/limitranges"} <= lists


def _first_pages(log: list[RequestRecord]) -> Counter[str]:
    return Counter(r.path for r in log if r.query and "continue=" not in r.query)


def test_serial_scan_keeps_clusters_apart(tmp_path: Path, pytester: pytest.Pytester) -> None:
    servers = _start(tmp_path / "snaps")
    try:
        scan(pytester, CHECKS, tmp_path / "r", "--fleet", str(_fleet(tmp_path, servers)), "--page-size", "2")
        logs = {name: server.request_log for name, server in servers.items()}
    finally:
        for server in servers.values():
            server.stop()
    _assert_isolated(tmp_path / "r", logs)
    for name, log in logs.items():
        assert all(n == 1 for n in _first_pages(log).values()), f"{name}: a kind listed twice"


@pytest.fixture(scope="module")
def parallel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[RequestRecord]], str]:
    """One ``-n 2 --dist loadgroup`` scan in its own process: (report dir, each server's log, pytest's output)."""
    tmp = tmp_path_factory.mktemp("parallel")
    servers = _start(tmp / "snaps")
    try:
        args = scan_args(CHECKS, tmp / "r", "--fleet", str(_fleet(tmp, servers)), "--page-size", "2")
        env = {k: v for k, v in os.environ.items() if k not in {"KUBECONFIG", "PYTEST_ADDOPTS"}}
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", *args, "-n", "2", "--dist", "loadgroup", "-v"],
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        logs = {name: server.request_log for name, server in servers.items()}
    finally:
        for server in servers.values():
            server.stop()
    assert proc.returncode == 1 and "2 workers" in proc.stdout, proc.stdout[-3000:]
    return tmp / "r", logs, proc.stdout


def test_two_workers_keep_clusters_apart(parallel: tuple[Path, dict[str, list[RequestRecord]], str]) -> None:
    report_dir, logs, _ = parallel
    _assert_isolated(report_dir, logs)


def test_two_workers_group_each_cluster_on_one_worker(
    parallel: tuple[Path, dict[str, list[RequestRecord]], str],
) -> None:
    _, logs, output = parallel
    ran = [line for line in output.splitlines() if line.startswith("[gw") and "::test_" in line]
    workers_of: dict[str, set[str]] = {}
    for line in ran:
        # "[gw0] [ 12%] PASSED .../test_quota.py::test_x[alpha]" (pytest < 9.2 under loadgroup adds "@alpha")
        found = re.search(r"^\[(gw\d+)\].*::test_\w+\[(\w+)\]", line)
        assert found, line
        workers_of.setdefault(found[2], set()).add(found[1])
    assert set(workers_of) == {"alpha", "beta"}, ran[:4]
    assert all(len(workers) == 1 for workers in workers_of.values()), workers_of
    for name, log in logs.items():
        assert all(n == 1 for n in _first_pages(log).values()), f"{name}: a kind listed twice"
