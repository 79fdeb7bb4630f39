"""Credentials quoted by cluster data reach no report, no terminal line and no log, even at DEBUG.

Planted in a snapshot fleet of three clusters, where the real checks put them
into their messages:

- FC-OBS-001: a Prometheus ``remoteWrite`` URL with ``user:password@`` and an
  OpenTelemetry Collector exporter endpoint with ``?api_key=`` (both inside
  the cluster, so the check fails and lists them);
- FC-OIDC-002 / FC-OIDC-005: ``--oidc-issuer-url=https://user:password@idp``
  on two kube-apiservers (the fleet standard a third cluster is compared
  with; the ``issuer#`` user name prefix FC-OIDC-005 expects);
- FC-BACKUP-001: a Velero BackupStorageLocation whose ``status.message``
  echoes ``aws_secret_access_key=...``;
- a cluster label value with a password (labels may come from a management
  cluster's objects), and the run's bearer token.

The fleet is served over HTTPS by the replay server and scanned as a user
scans it (``fleetcheck run`` in its own process, live log and log file at
DEBUG, ``-rA``); every planted value is then looked for
in all four reports, stdout, stderr and the DEBUG log. The unit tests below
pin each redaction rule, its idempotence and its cost on 4 MB inputs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetcheck.redact import REDACTED, redact
from fleetcheck.replay import ReplayServer
from fleetcheck.state.snapshot import load_snapshot
from tests.checks.backup.builders import NOW, storage_location, velero_crd
from tests.checks.oidc.builders import binding, cluster_admin_role, kubeadm_apiserver
from tests.checks.rbac.fleet_objects import configmap, otel_collector, prometheus, write_snapshot
from tests.security.kit import fleet_file, run_at_debug

REPORTS = ("results.json", "junit.xml", "scorecard.html", "metrics.prom")
TOKEN = "fc-leaks-bearer-0d9e8c7b6a5f4e3d"

REMOTE_WRITE_PASSWORD = "pw-remote-write-5b2e91"
OTEL_API_KEY = "key-otel-api-3e7f0c44"
ALLOY_TOKEN = "tok-alloy-push-77d2a0"
ISSUER_PASSWORD = "pw-issuer-9c1d7a"
AWS_SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYplanted"
LABEL_PASSWORD = "pw-label-41af0e"

LEAKY_ISSUER = f"https://fleet-sso:{ISSUER_PASSWORD}@idp.example.com/realms/fleet"
OTHER_ISSUER = "https://idp.other.example.com/realms/fleet"
NEEDLES = {
    "remote-write password": REMOTE_WRITE_PASSWORD,
    "OTel exporter api_key": OTEL_API_KEY,
    "Alloy remote_write token": ALLOY_TOKEN,
    "OIDC issuer password": ISSUER_PASSWORD,
    "Velero aws_secret_access_key": AWS_SECRET,
    "label password": LABEL_PASSWORD,
    "bearer token": TOKEN,
}


def _apiserver(node: str, issuer: str) -> dict[str, Any]:
    return kubeadm_apiserver(
        node, f"--oidc-issuer-url={issuer}", "--oidc-client-id=kubernetes", "--oidc-username-claim=sub"
    )


def _telemetry(cluster: str) -> list[dict[str, Any]]:
    config = {
        "receivers": {"prometheus": {"config": {}}},
        "exporters": {
            "otlphttp/gw": {"endpoint": f"http://otel-gw.monitoring.svc:4318/v1/metrics?api_key={OTEL_API_KEY}"}
        },
        "service": {"pipelines": {"metrics": {"receivers": ["prometheus"], "exporters": ["otlphttp/gw"]}}},
    }
    url = f"http://writer:{REMOTE_WRITE_PASSWORD}@prometheus-gw.monitoring.svc:9090/api/v1/write"
    alloy = (
        'prometheus.remote_write "local" {\n  endpoint {\n'
        f'    url = "http://mimir-gw.monitoring.svc/api/v1/push?token={ALLOY_TOKEN}"\n  }}\n}}\n'
    )
    return [
        prometheus("k8s", "monitoring", [url], cluster=cluster),
        otel_collector("metrics", "monitoring", config, cluster=cluster),
        configmap("alloy", "monitoring", {"config.alloy": alloy}, cluster=cluster),
    ]


def _velero() -> list[dict[str, Any]]:
    message = (
        "BackupStorageLocation is unavailable: rpc error: code = Unknown desc = InvalidAccessKeyId: "
        f"aws_access_key_id=AKIAEXAMPLE aws_secret_access_key={AWS_SECRET} status code: 403"
    )
    crds = [velero_crd(kind, NOW) for kind in ("BackupStorageLocation", "Schedule", "Backup", "Restore")]
    return [*crds, storage_location("default", "Unavailable", NOW, message=message)]


def _fleet(root: Path) -> list[Path]:
    rbac = [cluster_admin_role(), binding("local-admin", "cluster-admin", ("User", "bob"))]
    folders = []
    for name, issuer in (("leak-a", LEAKY_ISSUER), ("leak-b", LEAKY_ISSUER), ("leak-c", OTHER_ISSUER)):
        objects = [_apiserver(f"{name}-cp-1", issuer), *rbac, *_telemetry(name), *_velero()]
        folders.append(write_snapshot(root, name, objects, labels={"env": "prod"}))
    return folders


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Serve the leaky fleet over HTTPS (replay server), scan it once at DEBUG, and keep every output."""
    root = tmp_path_factory.mktemp("leaks")
    folders = _fleet(root / "snaps")
    reports, log_file = root / "reports", root / "debug.log"
    with ReplayServer([load_snapshot(folder) for folder in folders], token=TOKEN) as server:
        kubeconfig = server.write_kubeconfig(root / "kubeconfig")
        clusters = [
            {"name": f.name, "kubeconfig": str(kubeconfig), "labels": {"note": f"password={LABEL_PASSWORD}"}}
            for f in folders
        ]
        fleet = fleet_file(root / "fleet.yaml", clusters)
        proc = _run(root, fleet, reports, log_file)
    outputs = {"stdout": proc.stdout, "stderr": proc.stderr, "debug log": log_file.read_text(errors="replace")}
    outputs |= {name: (reports / name).read_text(errors="replace") for name in REPORTS}
    document = json.loads(outputs["results.json"])
    return {
        "outputs": outputs,
        "records": {(r["code"], r["cluster"]): r for r in document["results"]},
        "clusters": {c["name"]: c for c in document["clusters"]},
    }


def _run(root: Path, fleet: Path, reports: Path, log_file: Path) -> subprocess.CompletedProcess[str]:
    checks = (
        "metrics_reach_central_store or oidc_matches_fleet or cluster_admin_users_are_oidc or backup_system_available"
    )
    proc = run_at_debug(fleet, reports, log_file, "-k", checks, "-rA", cwd=root)
    assert proc.returncode in (1, 3), proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.mark.parametrize(
    ("code", "cluster", "outcome"),
    [
        ("FC-OBS-001", "leak-a", "fail"),
        ("FC-OIDC-002", "leak-c", "fail"),
        ("FC-OIDC-005", "leak-a", "fail"),
        ("FC-BACKUP-001", "leak-a", "fail"),
    ],
)
def test_each_planted_text_reached_its_check_and_was_redacted(
    scan: dict[str, Any], code: str, cluster: str, outcome: str
) -> None:
    """The test has teeth: each check quoted the planted text, and only the credential part is gone."""
    record = scan["records"][(code, cluster)]
    assert record["outcome"] == outcome, record
    shown = record["message"] + " " + " ".join(record["objects"])
    assert REDACTED in shown, shown
    hosts = {
        "FC-OBS-001": ["prometheus-gw.monitoring.svc", "api_key=", "mimir-gw.monitoring.svc/api/v1/push?token="],
        "FC-OIDC-002": ["@idp.example.com/realms/fleet"],
        "FC-OIDC-005": ["@idp.example.com/realms/fleet#"],
        "FC-BACKUP-001": ["aws_secret_access_key=", "InvalidAccessKeyId"],
    }[code]
    for kept in hosts:
        assert kept in shown, f"{kept!r} should still be shown: {shown}"


def test_labels_are_redacted_in_the_cluster_rows(scan: dict[str, Any]) -> None:
    assert scan["clusters"]["leak-a"]["labels"]["note"] == f"password={REDACTED}"


def test_no_planted_credential_in_any_output(scan: dict[str, Any]) -> None:
    outputs = scan["outputs"]
    assert "urllib3.connectionpool" in outputs["debug log"], "DEBUG logging really was on"
    assert "FC-OBS-001" in outputs["stdout"], "the verdicts were printed (-rA)"
    leaks = [
        f"{what} in {where}" for what, needle in NEEDLES.items() for where, text in outputs.items() if needle in text
    ]
    assert not leaks, leaks


# -- the redaction rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://user:pass@mimir.example.com/push", f"https://{REDACTED}@mimir.example.com/push"),
        ("--oidc-issuer-url=https://u:p@idp/realms/x", f"--oidc-issuer-url=https://{REDACTED}@idp/realms/x"),
        ("git+ssh://ghp_tok@github.com/org/repo", f"git+ssh://{REDACTED}@github.com/org/repo"),
        ("http://h:4318/v1/metrics?api_key=abc&x=1", f"http://h:4318/v1/metrics?api_key={REDACTED}&x=1"),
        ("https://b.s3/k?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=beef", None),
        ("https://a.blob.core.windows.net/c?sv=2022-11-02&se=2030-01-01&sig=AbC%3D&sp=r", None),
        ("https://storage.googleapis.com/o?X-Goog-Signature=abc", None),
        ("aws_secret_access_key=wJalr", f"aws_secret_access_key={REDACTED}"),
        ("AWS_SESSION_TOKEN: FQoG", f"AWS_SESSION_TOKEN: {REDACTED}"),
        (
            '{"client_secret": "s3", "private_key": "k"}',
            f'{{"client_secret": "{REDACTED}", "private_key": "{REDACTED}"}}',
        ),
        ("db-password: hunter2", f"db-password: {REDACTED}"),
        ("Passwd=x", f"Passwd={REDACTED}"),
        ("api-key: k", f"api-key: {REDACTED}"),
    ],
)
def test_redact_rules(text: str, expected: str | None) -> None:
    cleaned = redact(text)
    if expected is not None:
        assert cleaned == expected
    for secret in ("AKIA%2F1", "beef", "AbC%3D", "2022-11-02", "2030-01-01"):
        assert secret not in cleaned
    if expected is None:
        assert "sp=r" in cleaned or "X-Amz" in cleaned or "X-Goog" in cleaned
    assert redact(cleaned) == cleaned, "redaction is idempotent"


@pytest.mark.parametrize(
    "text",
    [
        "docker-pullable://nginx@sha256:0123abcd",  # a container's imageID: a digest, not a login
        "https://mimir.example.com/api/v1/push",
        "tokenFile: /var/run/secrets/token",
        "monitoring/ConfigMap/prometheus-server (prometheus.yml) remote_write -> https://m.example.com",
        "GET /api/v1/pods?limit=500&continue=eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ",
        "mytoken=abc is not a credential name",
    ],
)
def test_redact_keeps_what_is_not_a_credential(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "a" * 4_000_000,
        "a-" * 2_000_000,
        "x://" * 1_000_000,
        "https://" + "u" * 4_000_000,
        "https://u:p@h/ " * 250_000,
        "password=" * 400_000,
        "?key=" * 800_000,
        "token" + " " * 4_000_000,
        "-----BEGIN RSA PRIVATE KEY-----" * 100_000,
        "_secret" * 500_000,
    ],
    ids=["letters", "dashes", "schemes", "userinfo-no-at", "urls", "kv", "query", "spaces", "pem", "names"],
)
def test_redact_is_linear_on_4mb_hostile_messages(text: str) -> None:
    """No catastrophic backtracking: measured at 0.1-0.5 s on a shared 2-core runner; a backtrack takes minutes."""
    started = time.perf_counter()
    redact(text)
    assert time.perf_counter() - started < 5.0


def test_snapshot_fixture_is_plain_kubectl_output(tmp_path: Path) -> None:
    """The planted fleet is what the loader reads: kubectl Lists and a cluster.yaml naming each cluster."""
    folders = _fleet(tmp_path)
    assert [yaml.safe_load((f / "cluster.yaml").read_text())["name"] for f in folders] == ["leak-a", "leak-b", "leak-c"]
    listed = json.loads((folders[0] / "velero.io_v1_backupstoragelocation.json").read_text())
    assert listed["kind"] == "List" and AWS_SECRET in listed["items"][0]["status"]["message"]


def test_rerendering_an_old_results_json_redacts_it(tmp_path: Path) -> None:
    """A results.json written before this redaction (or by another tool) is cleaned by ``fleetcheck report``."""
    from fleetcheck.results import ClusterSummary, ResultRecord, ResultsDocument

    record = ResultRecord(
        cluster="old",
        code="FC-OBS-001",
        factor="observable",
        severity="high",
        outcome="fail",
        message=f"metrics stay in the cluster: http://w:{REMOTE_WRITE_PASSWORD}@p.monitoring.svc/api/v1/write",
        objects=[f"monitoring/ConfigMap/x?api_key={OTEL_API_KEY}"],
    )
    doc = ResultsDocument(
        started="2026-11-24T10:00:00Z",
        clusters=[ClusterSummary(name="old", labels={"note": f"password={LABEL_PASSWORD}"})],
        results=[record],
    )
    saved = tmp_path / "old-results.json"
    saved.write_bytes(doc.to_json_bytes())
    reports = tmp_path / "reports"
    proc = subprocess.run(
        [sys.executable, "-m", "fleetcheck.cli", "report", str(saved), "--report-dir", str(reports)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    texts = {name: (reports / name).read_text() for name in REPORTS}
    assert REDACTED in texts["results.json"]
    leaks = [
        f"{needle} in {name}"
        for name, text in texts.items()
        for needle in (REMOTE_WRITE_PASSWORD, OTEL_API_KEY, LABEL_PASSWORD)
        if needle in text
    ]
    assert not leaks, leaks
