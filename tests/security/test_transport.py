"""TLS is verified by default, skipping it is a finding (FC-TLS-001), and the replay server is loopback + token only."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from fleetcheck.catalog import load_catalog
from fleetcheck.redact import REDACTED
from fleetcheck.replay import ReplayServer
from fleetcheck.replay.certs import TLSMaterial
from fleetcheck.state.snapshot import load_snapshot
from tests.integration.clusters import write_cluster
from tests.security.kit import ScriptedServer, check_module, edit_kubeconfig, fleet_file, raw_https_get, records, scan

QUOTA = ("FC-QUOTA-001", "FC-QUOTA-002", "FC-QUOTA-003")
REPORTS = ("results.json", "junit.xml", "scorecard.html", "metrics.prom")


def _drop_ca(name: str) -> object:
    def edit(doc: dict) -> None:
        for entry in doc["clusters"]:
            if entry["name"] == name:
                entry["cluster"].pop("certificate-authority-data")

    return edit


# urllib3 warns on every unverified request; the outer suite turns warnings into errors, and this one is the point
@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_tls_is_verified_by_default_and_skipping_it_is_a_finding(tmp_path: Path, pytester: pytest.Pytester) -> None:
    """One replay server, three ways in: a CA, no CA (system trust store), insecure-skip-tls-verify."""
    root = tmp_path / "snaps"
    dirs = [write_cluster(root, name, bad_namespaces=1) for name in ("verified", "no-ca", "skip-verify")]
    offline = write_cluster(root, "offline")
    with ReplayServer([load_snapshot(d) for d in dirs]) as server:
        kubeconfig = edit_kubeconfig(server.write_kubeconfig(tmp_path / "kubeconfig"), _drop_ca("no-ca"))
        insecure = server.write_kubeconfig(tmp_path / "insecure-kubeconfig", insecure=True)
        fleet = fleet_file(
            tmp_path / "fleet.yaml",
            [
                {"name": "verified", "kubeconfig": str(kubeconfig)},
                {"name": "no-ca", "kubeconfig": str(kubeconfig)},
                {"name": "skip-verify", "kubeconfig": str(insecure)},
                {"name": "offline", "snapshot": str(offline)},
            ],
        )
        scan(pytester, [check_module("quota"), check_module("transport")], tmp_path / "r", "--fleet", str(fleet))
        served = {record.cluster for record in server.request_log}
        url = server.urls["skip-verify"]
    verdicts = records(tmp_path / "r")

    # no CA: every check errors, saying why; none passes or fails on data it never read
    for code in (*QUOTA, "FC-TLS-001"):
        record = verdicts[("no-ca", code)]
        assert record["outcome"] == "error", (code, record)
        assert "TLS verification failed" in record["message"]
    assert "no-ca" not in served, "a request with an unverified certificate reached the server"

    # insecure-skip-tls-verify is honoured (the data checks run) but is itself a high finding naming the server
    assert verdicts[("skip-verify", "FC-QUOTA-001")]["outcome"] == "fail"
    finding = verdicts[("skip-verify", "FC-TLS-001")]
    assert finding["outcome"] == "fail"
    assert finding["severity"] == "high" and finding["factor"] == "single-idp"
    assert url in finding["message"] and finding["objects"] == [url]

    assert verdicts[("verified", "FC-TLS-001")]["outcome"] == "pass"
    skipped = verdicts[("offline", "FC-TLS-001")]
    assert skipped["outcome"] == "skip" and "snapshot" in skipped["message"]


def test_tls_check_is_declared_as_the_catalog_requires() -> None:
    spec = load_catalog().get("FC-TLS-001")
    assert (spec.factor, spec.severity, spec.scope, spec.reads) == ("single-idp", "high", "cluster", ())
    assert not spec.docs.missing(), spec.docs.missing()


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> ReplayServer:
    folder = write_cluster(tmp_path_factory.mktemp("replay"), "prod-a")
    with ReplayServer([load_snapshot(folder)]) as server:
        yield server


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-the-token"}, {"Authorization": "Basic dXNlcjpwYXNz"}],
    ids=["no token", "wrong token", "basic auth"],
)
def test_replay_server_answers_nothing_without_its_token(replay: ReplayServer, headers: dict[str, str]) -> None:
    url = replay.urls["prod-a"] + "/api/v1/namespaces"
    assert raw_https_get(replay, url, headers) == 401
    assert raw_https_get(replay, url, {"Authorization": f"Bearer {replay.token}"}) == 200


def test_replay_server_refuses_writes_even_with_the_token(replay: ReplayServer) -> None:
    url = replay.urls["prod-a"] + "/api/v1/namespaces"
    assert raw_https_get(replay, url, {"Authorization": f"Bearer {replay.token}"}, method="DELETE") == 405


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "::1", "10.0.0.1", "192.168.1.10", "example.com", ""])
def test_replay_server_binds_loopback_only(tmp_path: Path, host: str) -> None:
    snapshot = load_snapshot(write_cluster(tmp_path, "prod-a"))
    with pytest.raises(ValueError, match="loopback"):
        ReplayServer([snapshot], host=host)


def test_replay_listeners_are_on_127_0_0_1(replay: ReplayServer) -> None:
    assert all(url.startswith("https://127.0.0.1:") for url in replay.urls.values())


def test_replay_kubeconfig_pins_the_ca_and_is_private(replay: ReplayServer, tmp_path: Path) -> None:
    import yaml

    path = replay.write_kubeconfig(tmp_path / "kubeconfig")
    assert path.stat().st_mode & 0o077 == 0, "the kubeconfig holds the token: owner-only"
    cluster = yaml.safe_load(path.read_text())["clusters"][0]["cluster"]
    assert "insecure-skip-tls-verify" not in cluster
    assert base64.b64decode(cluster["certificate-authority-data"]) == replay.ca_pem


# -- plain http:// and a server that echoes the token -------------------------------------------------------------

PLAIN_TOKEN = "fc-plain-http-token-0c4d9e2a7b18"


def _drop_user(name: str) -> object:
    def edit(doc: dict) -> None:
        for entry in doc["contexts"]:
            if entry["name"] == name:
                entry["context"].pop("user")

    return edit


def test_plain_http_server_fails_tls_check_saying_the_token_travels_in_cleartext(
    tmp_path: Path, pytester: pytest.Pytester
) -> None:
    dirs = [write_cluster(tmp_path / "snaps", name, bad_namespaces=1) for name in ("plain", "anonymous")]
    with ReplayServer([load_snapshot(d) for d in dirs], token=PLAIN_TOKEN, plain_http=True) as server:
        kubeconfig = edit_kubeconfig(server.write_kubeconfig(tmp_path / "kubeconfig"), _drop_user("anonymous"))
        fleet = fleet_file(tmp_path / "fleet.yaml", [{"name": n, "kubeconfig": str(kubeconfig)} for n in server.urls])
        scan(pytester, [check_module("quota"), check_module("transport")], tmp_path / "r", "--fleet", str(fleet))
        urls = server.urls
        answered = {(r.cluster, r.status) for r in server.request_log}
    verdicts = records(tmp_path / "r")
    assert urls["plain"].startswith("http://127.0.0.1:")

    # the token went over the wire in cleartext and was accepted: the data checks ran, and the transport is a finding
    assert ("plain", 200) in answered
    assert verdicts[("plain", "FC-QUOTA-001")]["outcome"] == "fail"
    finding = verdicts[("plain", "FC-TLS-001")]
    assert finding["outcome"] == "fail", finding
    assert "plain http://" in finding["message"] and "travels in cleartext" in finding["message"]
    assert finding["objects"] == [urls["plain"]]
    assert PLAIN_TOKEN not in (tmp_path / "r" / "results.json").read_text()

    # a context without a user sends nothing secret, still a finding; its 401s say why, not "expired token?"
    anonymous = verdicts[("anonymous", "FC-TLS-001")]
    assert anonymous["outcome"] == "fail" and "sends no credentials" in anonymous["message"]
    assert ("anonymous", 200) not in answered
    quota = verdicts[("anonymous", "FC-QUOTA-001")]
    assert quota["outcome"] == "error" and "the context names no user" in quota["message"], quota
    assert "expired token" not in quota["message"]


ECHOED_TOKEN = "fc-echoed-bearer-token-5a7c3e9b1d24f6"


def _echo_token_401(conn: socket.socket, stats: dict[str, int]) -> None:
    """An API server (or proxy) that quotes the bearer token it got in its 401 Status message, bare."""
    message = f"the credential {ECHOED_TOKEN} is not valid for this cluster (got {ECHOED_TOKEN})"
    body = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message, "code": 401})
    head = f"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    conn.sendall((head + "Connection: close\r\n\r\n" + body).encode())
    stats["sent"] += len(body)


def test_a_token_echoed_in_a_401_reaches_no_report(
    tmp_path: Path, pytester: pytest.Pytester, tls_material: TLSMaterial, server_factory: Callable[..., ScriptedServer]
) -> None:
    server = server_factory(_echo_token_401, tls_material)
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "echo",
                "cluster": {
                    "server": f"https://127.0.0.1:{server.port}",
                    "certificate-authority-data": base64.b64encode(tls_material.ca_pem).decode(),
                },
            }
        ],
        "users": [{"name": "echo", "user": {"token": ECHOED_TOKEN}}],
        "contexts": [{"name": "echo", "context": {"cluster": "echo", "user": "echo"}}],
    }
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(doc))
    fleet = fleet_file(tmp_path / "fleet.yaml", [{"name": "echo", "kubeconfig": str(kubeconfig)}])
    reports = tmp_path / "r"
    result = scan(
        pytester,
        [check_module("quota"), check_module("transport")],
        reports,
        "--fleet",
        str(fleet),
        "-o",
        "log_cli=true",
        "--log-level=DEBUG",
    )
    assert server.stats["sent"] > 0, "the scripted server was never asked"
    verdicts = records(reports)
    record = verdicts[("echo", "FC-QUOTA-001")]
    assert record["outcome"] == "error" and "401 Unauthorized" in record["message"], record
    assert f"the credential {REDACTED} is not valid" in record["message"], record["message"]
    outputs = {"terminal": "\n".join(result.outlines + result.errlines)}
    outputs |= {name: (reports / name).read_text(errors="replace") for name in REPORTS}
    assert not [where for where, text in outputs.items() if ECHOED_TOKEN in text]
