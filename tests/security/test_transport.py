"""TLS is verified by default, skipping it is a finding (FC-TLS-001), and the replay server is loopback + token only."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from fleetcheck.catalog import load_catalog
from fleetcheck.replay import ReplayServer
from fleetcheck.state.snapshot import load_snapshot
from tests.integration.clusters import write_cluster
from tests.security.kit import check_module, edit_kubeconfig, fleet_file, raw_https_get, records, scan

QUOTA = ("FC-QUOTA-001", "FC-QUOTA-002", "FC-QUOTA-003")


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
