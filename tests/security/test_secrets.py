"""No credential or Secret value reaches a log, the terminal or a report, even at DEBUG.

Planted: the replay server's bearer token, a client key in the kubeconfig
(``client-key-data``; the replay server ignores client certificates, the
client still loads the key), and a Secret in the snapshot whose value is
also in its ``last-applied-configuration`` annotation, the way ``kubectl
apply`` leaves it. The scan runs as a user runs it, in its own process, with
pytest's live log at DEBUG and a DEBUG log file.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from fleetcheck.redact import REDACTED, RedactingFilter, install_redaction, redact
from fleetcheck.registry.kubeconfig import merge_kubeconfigs
from fleetcheck.replay import ReplayServer
from fleetcheck.state.live import LiveClusterState
from fleetcheck.state.snapshot import load_snapshot
from tests.integration.clusters import write_cluster, write_list
from tests.security.kit import REPO, edit_kubeconfig, fleet_file, run_at_debug

TOKEN = "fc-planted-bearer-9f2c1a7e5b3d4c6a8e0f"
SECRET_VALUE = "fc-planted-secret-value-hunter2-7d41"
REPORTS = ("results.json", "junit.xml", "scorecard.html", "metrics.prom")


def _client_key_and_cert() -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fleetcheck-scanner")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def _secret(namespace: str) -> dict:
    encoded = base64.b64encode(SECRET_VALUE.encode()).decode()
    applied = json.dumps({"apiVersion": "v1", "kind": "Secret", "stringData": {"password": SECRET_VALUE}})
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": "db-credentials",
            "namespace": namespace,
            "uid": "4b1f0c1e-0000-4000-8000-000000000001",
            "creationTimestamp": "2026-06-01T08:00:00Z",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": applied},
        },
        "data": {"password": encoded},
    }


def _needles(key_pem: bytes) -> dict[str, str]:
    """Every spelling of every planted secret that must not appear anywhere."""
    key_lines = [line for line in key_pem.decode().splitlines() if line and not line.startswith("-----")]
    return {
        "bearer token": TOKEN,
        "client key (PEM body)": max(key_lines, key=len),
        "client key (client-key-data)": base64.b64encode(key_pem).decode()[20:80],
        "Secret value": SECRET_VALUE,
        "Secret value (base64)": base64.b64encode(SECRET_VALUE.encode()).decode(),
    }


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_planted_secrets_appear_in_no_output_at_debug(tmp_path: Path) -> None:
    folder = write_cluster(tmp_path / "snaps", "prod-a", bad_namespaces=1)
    write_list(folder, "secrets.json", [_secret("team-a")])
    key_pem, cert_pem = _client_key_and_cert()

    def add_client_key(doc: dict) -> None:
        for entry in doc["users"]:
            entry["user"]["client-certificate-data"] = base64.b64encode(cert_pem).decode()
            entry["user"]["client-key-data"] = base64.b64encode(key_pem).decode()

    reports, log_file = tmp_path / "reports", tmp_path / "debug.log"
    with ReplayServer([load_snapshot(folder)], token=TOKEN, serve_secrets=False) as server:
        kubeconfig = edit_kubeconfig(server.write_kubeconfig(tmp_path / "kubeconfig"), add_client_key)
        fleet = fleet_file(tmp_path / "fleet.yaml", [{"name": "prod-a", "kubeconfig": str(kubeconfig)}])
        server.add_fault("prod-a", r"/limitranges$", status=401)  # an error path too: messages quoting a response
        proc = run_at_debug(fleet, reports, log_file, cwd=tmp_path, timeout=120)
        log = server.request_log
    assert proc.returncode in (1, 3), proc.stdout[-3000:] + proc.stderr[-3000:]
    outputs = {"stdout": proc.stdout, "stderr": proc.stderr, "debug log": log_file.read_text(errors="replace")}
    outputs |= {name: (reports / name).read_text(errors="replace") for name in REPORTS}
    # the test has teeth: DEBUG really was on, and the client really carried the key and the token
    assert re.search(r"DEBUG .*urllib3.connectionpool.*GET /api/v1/namespaces", outputs["debug log"])
    assert "DEBUG" in proc.stdout
    assert {r.status for r in log} >= {200}, "the scan was authenticated with the planted token"
    leaks = [
        f"{what} in {where}"
        for what, needle in _needles(key_pem).items()
        for where, text in outputs.items()
        if needle in text
    ]
    assert not leaks, leaks
    assert not [o for o, text in outputs.items() if re.search(r"authorization:\s*bearer", text, re.IGNORECASE)]
    assert not [r for r in log if "secrets" in r.path], "the scan asked for Secrets"


# -- the redacting filter -------------------------------------------------------------------------


def _pem_key() -> str:
    return _client_key_and_cert()[0].decode()


@pytest.mark.parametrize(
    "text",
    [
        f"Authorization: Bearer {TOKEN}",
        f"headers={{'Accept': 'application/json', 'Authorization': 'Bearer {TOKEN}'}}",
        f"authorization=bearer {TOKEN}",
        f"retrying with bearer {TOKEN} after 401",
        f"GET /watch?token={TOKEN}&x=1",
        f'{{"token": "{TOKEN}", "kind": "ExecCredential"}}',
        f"id_token: {TOKEN}",
        f"password={TOKEN}",
    ],
)
def test_redact_removes_tokens(text: str) -> None:
    cleaned = redact(text)
    assert TOKEN not in cleaned and REDACTED in cleaned


def test_redact_removes_private_keys_plain_encoded_and_truncated() -> None:
    key = _pem_key()
    body = key.splitlines()[1]
    encoded = base64.b64encode(key.encode()).decode()
    for text in (f"loaded {key} ok", f"client-key-data: {encoded}", f"user:\n  x: {encoded}", key[: len(key) // 2]):
        cleaned = redact(text)
        assert body not in cleaned and encoded[20:80] not in cleaned, cleaned


def test_redact_keeps_what_is_not_a_credential() -> None:
    cert = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").decode()
    for text in (
        "cannot list pods on prod-a: 403 Forbidden",
        "--token-auth-file=/etc/kubernetes/pki/static-tokens.csv",
        f"certificate-authority-data: {cert}",
        "GET /api/v1/pods?limit=500&continue=eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ",
    ):
        assert redact(text) == text


@pytest.mark.parametrize(
    "logger_name", ["fleetcheck", "fleetcheck.live", "urllib3.connectionpool", "kubernetes.client.rest"]
)
def test_filter_redacts_messages_arguments_and_tracebacks(logger_name: str, caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger(logger_name)
    installed = install_redaction()
    assert installed in logger.filters
    with caplog.at_level(logging.DEBUG, logger=logger_name):
        logger.debug("request headers %s", {"Authorization": f"Bearer {TOKEN}"})
        try:
            raise http.client.HTTPException(f"bad response to Authorization: Bearer {TOKEN}")
        except http.client.HTTPException:
            logger.exception("request failed with key %s", _pem_key())
    assert len(caplog.records) == 2
    assert TOKEN not in caplog.text and "PRIVATE KEY-----\nM" not in caplog.text
    assert caplog.text.count(REDACTED) >= 3


def test_filter_is_installed_once_and_never_drops_a_record() -> None:
    first, second = install_redaction(), install_redaction()
    assert first is second
    assert logging.getLogger("urllib3").filters.count(first) == 1
    record = logging.LogRecord("fleetcheck", logging.INFO, __file__, 1, "broken %d format", ("x",), None)
    assert RedactingFilter().filter(record)


# -- the kubernetes client's own debug output ----------------------------------------------------------


def test_live_state_never_turns_on_the_clients_debug_output(tmp_path: Path) -> None:
    """``Configuration.debug`` makes http.client ``print`` every request header, the token included."""
    folder = write_cluster(tmp_path, "prod-a")
    with ReplayServer([load_snapshot(folder)], token=TOKEN) as server:
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
        root, level = logging.getLogger(), logging.getLogger().level
        root.setLevel(logging.DEBUG)
        try:
            state = LiveClusterState("prod-a", merge_kubeconfigs([kubeconfig]), "prod-a")
            state.fetch("namespaces")
        finally:
            root.setLevel(level)
        assert state._api.configuration.debug is False
        assert http.client.HTTPConnection.debuglevel == 0
        state.close()


def test_no_fleetcheck_source_enables_the_clients_debug_output() -> None:
    pattern = re.compile(r"\.debug\s*=\s*True|debug\s*=\s*True|debuglevel|\.logger_file\s*=")
    offenders = [
        f"{path.relative_to(REPO)}:{number}"
        for folder in (REPO / "fleetcheck", REPO / "checks")
        for path in folder.rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if pattern.search(line)
    ]
    assert not offenders, offenders
