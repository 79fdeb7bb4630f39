"""The OIDC discovery probe against a real provider (oidc-provider-mock) and a fixed-answer server, over TLS."""

from __future__ import annotations

import time

import pytest

from fleetcheck.probes import ProbeError
from fleetcheck.probes.oidc import FetchLimits, discovery_url, probe_discovery
from tests.servers.oidc import REALM_PATH, IdpTLS, ProviderServer, StaticIssuer, closed_port


def _limits(tls: IdpTLS, **overrides: object) -> FetchLimits:
    values: dict[str, object] = {"timeout": 3.0, "ca_bundle": str(tls.ca_file)}
    values.update(overrides)
    return FetchLimits(**values)  # type: ignore[arg-type]


def test_real_provider_passes(oidc_provider: ProviderServer, oidc_tls: IdpTLS) -> None:
    report = probe_discovery(oidc_provider.url, _limits(oidc_tls))
    assert report.ok, report.problems
    assert report.advertised_issuer == oidc_provider.url
    assert report.jwks_uri == f"{oidc_provider.url}/jwks"
    assert report.keys >= 1


def test_realm_path_names_another_issuer(oidc_provider: ProviderServer, oidc_tls: IdpTLS) -> None:
    declared = oidc_provider.url + REALM_PATH
    report = probe_discovery(declared, _limits(oidc_tls))
    assert report.discovery_url == f"{declared}/.well-known/openid-configuration"
    assert report.problems[0] == (
        f"the discovery document names issuer {oidc_provider.url!r}, not {declared!r}: kube-apiserver rejects "
        "every token from it"
    )
    assert report.keys == 0
    assert report.problems[1] == f"JWKS {report.jwks_uri} not fetched: the discovery document is not the issuer's"


def test_a_document_naming_another_issuer_is_not_followed(static_issuer: StaticIssuer, oidc_tls: IdpTLS) -> None:
    """Its jwks_uri could name any host (an internal one): nothing it points at is fetched."""
    other = f"https://127.0.0.1:{closed_port()}"
    static_issuer.documents["/spoof/.well-known/openid-configuration"] = (
        200,
        {"issuer": other, "jwks_uri": "{url}/spoof/keys"},
        {},
    )
    static_issuer.documents["/spoof/keys"] = (200, {"keys": [{"kty": "RSA", "use": "sig"}]}, {})
    report = probe_discovery(static_issuer.url + "/spoof", _limits(oidc_tls))
    assert not report.ok
    assert "names issuer" in report.problems[0]
    assert "/spoof/keys" not in static_issuer.hits


def test_trailing_slash_is_a_different_issuer(oidc_provider: ProviderServer, oidc_tls: IdpTLS) -> None:
    report = probe_discovery(oidc_provider.url + "/", _limits(oidc_tls))
    assert discovery_url(oidc_provider.url + "/") == f"{oidc_provider.url}/.well-known/openid-configuration"
    assert "only a trailing slash differs" in report.problems[0]


def test_empty_key_set_fails(static_issuer: StaticIssuer, oidc_tls: IdpTLS) -> None:
    report = probe_discovery(static_issuer.url, _limits(oidc_tls))
    assert report.problems == (
        f"JWKS {static_issuer.url}/keys holds no signing key (0 keys): no token can be verified",
    )


def test_untrusted_certificate_is_an_error_not_a_finding(oidc_provider: ProviderServer, oidc_tls: IdpTLS) -> None:
    with pytest.raises(ProbeError, match=r"TLS certificate not trusted .* set the check's ca_bundle"):
        probe_discovery(oidc_provider.url, _limits(oidc_tls, ca_bundle=None))


def test_refused_is_an_error(oidc_tls: IdpTLS) -> None:
    with pytest.raises(ProbeError, match=r"connection refused \(nothing listens on 127.0.0.1:\d+\)"):
        probe_discovery(f"https://127.0.0.1:{closed_port()}", _limits(oidc_tls))


def test_http_issuer_is_refused_without_contact(static_issuer: StaticIssuer, oidc_tls: IdpTLS) -> None:
    before = len(static_issuer.hits)
    plain = static_issuer.url.replace("https://", "http://")
    report = probe_discovery(plain, _limits(oidc_tls))
    assert report.problems == (
        f"issuer {plain!r} is not an https URL (kube-apiserver accepts only https issuers and key sets)",
    )
    assert len(static_issuer.hits) == before


def test_server_errors_sizes_and_stalls_are_errors(static_issuer: StaticIssuer, oidc_tls: IdpTLS) -> None:
    static_issuer.documents["/five/.well-known/openid-configuration"] = (503, {"error": "down"}, {})
    with pytest.raises(ProbeError, match="HTTP 503"):
        probe_discovery(static_issuer.url + "/five", _limits(oidc_tls))
    static_issuer.documents["/big/.well-known/openid-configuration"] = (200, b" " * 5000, {})
    with pytest.raises(ProbeError, match="over the 2048-byte cap"):
        probe_discovery(static_issuer.url + "/big", _limits(oidc_tls, max_bytes=2048))
    static_issuer.stall.add("/slow/.well-known/openid-configuration")
    started = time.monotonic()
    with pytest.raises(ProbeError, match=r"no complete answer within 0.3s"):
        probe_discovery(static_issuer.url + "/slow", _limits(oidc_tls, timeout=0.3))
    assert time.monotonic() - started < 2


def test_redirects_stay_on_the_origin(static_issuer: StaticIssuer, oidc_tls: IdpTLS) -> None:
    static_issuer.documents["/moved/.well-known/openid-configuration"] = (
        302,
        b"",
        {"Location": "/.well-known/openid-configuration"},
    )
    report = probe_discovery(static_issuer.url + "/moved", _limits(oidc_tls))
    assert "names issuer" in report.problems[0], "followed within the origin, then judged"
    static_issuer.documents["/away/.well-known/openid-configuration"] = (
        302,
        b"",
        {"Location": "https://idp.example.com/.well-known/openid-configuration"},
    )
    before = len(static_issuer.hits)
    report = probe_discovery(static_issuer.url + "/away", _limits(oidc_tls))
    assert report.problems[0].endswith(
        "redirects to https://idp.example.com/.well-known/openid-configuration (not followed: another origin or "
        "too many redirects)"
    )
    assert len(static_issuer.hits) == before + 1


def test_not_json_and_missing_fields_are_findings(static_issuer: StaticIssuer, oidc_tls: IdpTLS) -> None:
    static_issuer.documents["/html/.well-known/openid-configuration"] = (200, b"<html>login</html>", {})
    report = probe_discovery(static_issuer.url + "/html", _limits(oidc_tls))
    assert report.problems == (
        f"discovery document {static_issuer.url}/html/.well-known/openid-configuration is not JSON",
    )
    static_issuer.documents["/nokeys/.well-known/openid-configuration"] = (200, {"issuer": "{url}/nokeys"}, {})
    report = probe_discovery(static_issuer.url + "/nokeys", _limits(oidc_tls))
    assert report.problems == ("the discovery document names no jwks_uri",)
