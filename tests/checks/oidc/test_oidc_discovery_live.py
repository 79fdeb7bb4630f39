"""FC-OIDC-003 end to end: replayed clusters over HTTPS, a fleet file declaring issuers, real TLS IdPs on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetcheck.replay import ReplayServer
from fleetcheck.state.snapshot import load_snapshot
from tests.checks.backup.harness import REPO, run_checks
from tests.checks.oidc import builders as k
from tests.servers.oidc import REALM_PATH, IdpTLS, ProviderServer, StaticIssuer, closed_port

OIDC_CHECKS = REPO / "checks" / "test_oidc.py"
CLUSTERS = ("idp-ok", "idp-realm", "idp-empty", "idp-down", "idp-untrusted", "idp-undeclared", "idp-standard")


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplayServer]:
    root = tmp_path_factory.mktemp("idp-snapshots")
    snapshots = [load_snapshot(k.write_cluster(root, name, [k.coredns_pod()])) for name in CLUSTERS]
    with ReplayServer(snapshots) as server:
        yield server


def _profile(folder: Path, name: str, **extra: Any) -> str:
    document = {"name": name, "extends": "default", **extra}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return str(path)


def test_discovery_against_real_idps(
    pytester: pytest.Pytester,
    tmp_path: Path,
    replay: ReplayServer,
    oidc_provider: ProviderServer,
    static_issuer: StaticIssuer,
    oidc_tls: IdpTLS,
) -> None:
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "idp-ca.pem").write_bytes(oidc_tls.ca_file.read_bytes())
    # a relative ca_bundle is read relative to the profile file
    trusting = _profile(tmp_path, "live", settings={"FC-OIDC-003": {"ca_bundle": "certs/idp-ca.pem"}})
    system_store = _profile(tmp_path, "live-system-store")
    standard = _profile(
        tmp_path,
        "live-standard",
        standards={"oidc_issuer": oidc_provider.url},
        settings={"FC-OIDC-003": {"ca_bundle": str(oidc_tls.ca_file)}},
    )
    issuers = {
        "idp-ok": oidc_provider.url,
        "idp-realm": oidc_provider.url + REALM_PATH,
        "idp-empty": static_issuer.url,
        "idp-down": f"https://127.0.0.1:{closed_port()}",
        "idp-untrusted": oidc_provider.url,
    }
    profiles = {"idp-untrusted": system_store, "idp-standard": standard}
    kubeconfig = replay.write_kubeconfig(tmp_path / "kubeconfig")
    clusters = []
    for name in CLUSTERS:
        entry: dict[str, Any] = {"name": name, "context": name, "profile": profiles.get(name, trusting)}
        if name in issuers:
            entry["facts"] = {"oidc_issuer": issuers[name], "oidc_client_id": "kubernetes"}
        clusters.append(entry)
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(
        yaml.safe_dump({"defaults": {"kubeconfig": str(kubeconfig)}, "clusters": clusters}, sort_keys=False),
        encoding="utf-8",
    )

    verdicts = run_checks(pytester, OIDC_CHECKS, "--fleet", str(fleet), "-k", "test_oidc_discovery")

    assert verdicts.outcome("FC-OIDC-003", "idp-ok") == "pass"
    assert verdicts.outcome("FC-OIDC-003", "idp-standard") == "pass", verdicts.message("FC-OIDC-003", "idp-standard")
    realm = oidc_provider.url + REALM_PATH
    assert verdicts.outcome("FC-OIDC-003", "idp-realm") == "fail"
    assert verdicts.message("FC-OIDC-003", "idp-realm") == (
        f"OIDC discovery of {realm} (fleet file facts.oidc_issuer) fails: the discovery document names issuer "
        f"{oidc_provider.url!r}, not {realm!r}: kube-apiserver rejects every token from it; JWKS {realm}/jwks not "
        "fetched: the discovery document is not the issuer's; expected "
        f"{realm}/.well-known/openid-configuration to name issuer {realm!r} and a jwks_uri serving at least one "
        "signing key"
    )
    assert verdicts.objects("FC-OIDC-003", "idp-realm") == [f"{realm}/.well-known/openid-configuration"]
    assert verdicts.outcome("FC-OIDC-003", "idp-empty") == "fail"
    assert f"JWKS {static_issuer.url}/keys holds no signing key (0 keys)" in verdicts.message(
        "FC-OIDC-003", "idp-empty"
    )
    assert f"FC-OIDC-003 [idp-empty] fail: OIDC discovery of {static_issuer.url}" in verdicts.stdout
    assert verdicts.outcome("FC-OIDC-003", "idp-down") == "error"
    assert "connection refused" in verdicts.message("FC-OIDC-003", "idp-down")
    assert verdicts.outcome("FC-OIDC-003", "idp-untrusted") == "error"
    assert "TLS certificate not trusted" in verdicts.message("FC-OIDC-003", "idp-untrusted")
    assert verdicts.outcome("FC-OIDC-003", "idp-undeclared") == "skip"
    assert verdicts.message("FC-OIDC-003", "idp-undeclared").startswith("no issuer declared: set standards.oidc_issuer")
