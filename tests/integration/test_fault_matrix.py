"""Fault matrix: one faulty cluster in a fleet of healthy ones, through the replay server.

Every fault must give ``error`` (naming the cause) on the affected checks of
the faulty cluster only, leave every other cluster's verdicts identical to a
clean run, never be retried endlessly, and stay inside the time budget.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from fleetcheck.replay import ReplayServer
from fleetcheck.state.snapshot import load_snapshot
from tests.integration.clusters import write_cluster
from tests.integration.conftest import QUOTA_CHECKS

ALL = ("FC-QUOTA-001", "FC-QUOTA-002", "FC-QUOTA-003")


@dataclass(frozen=True)
class Case:
    name: str
    plant: Callable[[ReplayServer, Path], None]
    errored: tuple[str, ...]
    cause: str


def _fault(**kwargs: object) -> Callable[[ReplayServer, Path], None]:
    path = str(kwargs.pop("path", r".*"))
    return lambda server, _kc: server.add_fault("prod-b", path, **kwargs)  # type: ignore[arg-type]


def _edit_kubeconfig(edit: Callable[[dict], None]) -> Callable[[ReplayServer, Path], None]:
    def plant(_server: ReplayServer, kubeconfig: Path) -> None:
        doc = yaml.safe_load(kubeconfig.read_text())
        edit(doc)
        kubeconfig.write_text(yaml.safe_dump(doc))

    return plant


def _refuse(doc: dict) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for cluster in doc["clusters"]:
        if cluster["name"] == "prod-b":
            cluster["cluster"]["server"] = f"https://127.0.0.1:{port}"


def _wrong_ca(doc: dict) -> None:
    from fleetcheck.replay.certs import generate_tls  # a CA the server did not sign with

    other = generate_tls()
    import base64

    for cluster in doc["clusters"]:
        if cluster["name"] == "prod-b":
            cluster["cluster"]["certificate-authority-data"] = base64.b64encode(other.ca_pem).decode()


def _wrong_token(doc: dict) -> None:
    for ctx in doc["contexts"]:
        if ctx["name"] == "prod-b":
            user = ctx["context"]["user"]
    for entry in doc["users"]:
        if entry["name"] == user:
            entry["user"]["token"] = "wrong-token-for-the-matrix"


def _user_of_prod_b(doc: dict) -> dict:
    user = next(ctx["context"]["user"] for ctx in doc["contexts"] if ctx["name"] == "prod-b")
    return next(entry for entry in doc["users"] if entry["name"] == user)


def _hanging_exec_plugin(_server: ReplayServer, kubeconfig: Path) -> None:
    """prod-b's credentials come from an exec plugin that never answers (an EKS/GKE/AKS-style plugin stuck)."""
    plugin = kubeconfig.parent / "stuck-plugin"
    plugin.write_text("#!/bin/sh\nexec sleep 600\n", encoding="utf-8")
    plugin.chmod(0o755)

    def edit(doc: dict) -> None:
        entry = _user_of_prod_b(doc)
        entry["user"] = {
            "exec": {
                "apiVersion": "client.authentication.k8s.io/v1",
                "command": str(plugin),
                "interactiveMode": "Never",
            }
        }

    _edit_kubeconfig(edit)(_server, kubeconfig)


def _missing_token_file(doc: dict) -> None:
    _user_of_prod_b(doc)["user"] = {"tokenFile": "/nonexistent/fleetcheck/token"}


CASES = [
    Case("connection refused", _edit_kubeconfig(_refuse), ALL, "cannot connect"),
    Case("TLS failure (wrong CA)", _edit_kubeconfig(_wrong_ca), ALL, "TLS"),
    Case("401", _edit_kubeconfig(_wrong_token), ALL, "401 Unauthorized"),
    Case("403 on one kind", _fault(path=r"/limitranges$", status=403), ("FC-QUOTA-002",), "403 Forbidden"),
    Case(
        "429 with Retry-After, never ends",
        _fault(path=r"/resourcequotas$", status=429, retry_after=1),
        ("FC-QUOTA-001", "FC-QUOTA-003"),
        "429 Too Many Requests",
    ),
    Case("429 once, then served", _fault(path=r"/resourcequotas$", status=429, retry_after=1, times=1), (), ""),
    Case("500", _fault(path=r"/namespaces$", status=500), ("FC-QUOTA-001", "FC-QUOTA-002"), "HTTP 500"),
    Case("503", _fault(path=r"/limitranges$", status=503), ("FC-QUOTA-002",), "HTTP 503"),
    Case("stall past the read timeout", _fault(path=r"/limitranges$", delay=5.0), ("FC-QUOTA-002",), "timed out"),
    Case(
        "truncated body", _fault(path=r"/resourcequotas$", truncate=True), ("FC-QUOTA-001", "FC-QUOTA-003"), "truncated"
    ),
    Case(
        "invalid JSON",
        _fault(path=r"/namespaces$", invalid_json=True),
        ("FC-QUOTA-001", "FC-QUOTA-002"),
        "invalid JSON",
    ),
    Case("exec plugin hangs", _hanging_exec_plugin, ALL, "timed out after 2 s"),
    Case("tokenFile missing", _edit_kubeconfig(_missing_token_file), ALL, "tokenFile"),
    Case(
        "continue token expires (410)",
        _fault(path=r"/namespaces$", gone_after_pages=1),
        ("FC-QUOTA-001", "FC-QUOTA-002"),
        "410 Gone",
    ),
]


@pytest.fixture(scope="module")
def fleet_dirs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("matrix")
    return [
        write_cluster(root, "prod-a"),
        write_cluster(root, "prod-b", bad_namespaces=2, hot_quota=True),
        write_cluster(root, "prod-c", bad_namespaces=1),
    ]


def _scan(
    pytester: pytest.Pytester, server: ReplayServer, tmp: Path, plant: Callable[[ReplayServer, Path], None] | None
) -> tuple[dict, float]:
    kubeconfig = server.write_kubeconfig(tmp / "kubeconfig")
    if plant is not None:
        plant(server, kubeconfig)
    fleet = tmp / "fleet.yaml"
    fleet.write_text(
        yaml.safe_dump(
            {
                "defaults": {"kubeconfig": str(kubeconfig)},
                "clusters": [{"name": n} for n in ("prod-a", "prod-b", "prod-c")],
            }
        )
    )
    started = time.monotonic()
    pytester.runpytest_inprocess(
        str(QUOTA_CHECKS),
        "--fleet",
        str(fleet),
        "--report-dir",
        str(tmp / "r"),
        "--read-timeout",
        "1.5",
        "--connect-timeout",
        "2",
        "--cluster-timeout",
        "20",
        "--page-size",
        "3",
        "--exec-timeout",
        "2",
    )  # small pages: lists span several pages (the 410 case)
    elapsed = time.monotonic() - started
    doc = json.loads((tmp / "r" / "results.json").read_text())
    return {(r["cluster"], r["code"]): r for r in doc["results"]}, elapsed


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fault_matrix(case: Case, fleet_dirs: list[Path], tmp_path: Path, pytester: pytest.Pytester) -> None:
    with ReplayServer([load_snapshot(p) for p in fleet_dirs]) as server:
        clean, _ = _scan(pytester, server, tmp_path / "clean", None)
        server.clear_request_log()
        faulty, elapsed = _scan(pytester, server, tmp_path / "faulty", case.plant)
        methods = {r.method for r in server.request_log}
    for (cluster, code), record in faulty.items():
        if cluster != "prod-b":
            assert record["outcome"] == clean[(cluster, code)]["outcome"], (cluster, code)
            assert record["objects"] == clean[(cluster, code)]["objects"]
        elif code in case.errored:
            assert record["outcome"] == "error", (code, record["message"])
            assert case.cause in record["message"], record["message"]
        else:
            assert record["outcome"] == clean[(cluster, code)]["outcome"], (code, record["message"])
    assert methods <= {"GET"}
    assert elapsed < 25, f"the scan took {elapsed:.1f} s"
