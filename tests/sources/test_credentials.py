"""Credentials from Secrets: decoded and checked in memory, errors that never quote a value, the 0600 export."""

from __future__ import annotations

import base64
import contextlib
import gc
import os
import re
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetcheck.registry.fleet import ClusterEntry
from fleetcheck.registry.sources.argocd import argocd_credentials
from fleetcheck.registry.sources.credentials import (
    CredentialError,
    InMemoryKubeconfig,
    build_kubeconfig,
    decode_base64,
    export_kubeconfig,
    kubeconfig_from_text,
    normalise_server,
    secret_value,
    write_kubeconfig_export,
)
from fleetcheck.replay.certs import TLSMaterial, generate_tls
from fleetcheck.state.live import LiveClusterState
from tests.sources.managers import b64, kubeconfig_text

TOKEN = "tok-" + "s3cr3t" * 6


@pytest.fixture(scope="module")
def tls() -> TLSMaterial:
    return generate_tls()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://API.Example.com:443/", "https://api.example.com"),
        ("https://api.example.com", "https://api.example.com"),
        ("api.example.com:6443", "https://api.example.com:6443"),
        ("HTTPS://127.0.0.1:8443/", "https://127.0.0.1:8443"),
        ("https://[::1]:6443", "https://[::1]:6443"),
        ("https://rancher.example.com/k8s/clusters/c-m-1/", "https://rancher.example.com/k8s/clusters/c-m-1"),
        ("", None),
        (None, None),
    ],
)
def test_server_urls_normalise_to_one_identity(url: str | None, expected: str | None) -> None:
    assert normalise_server(url) == expected


def test_base64_is_decoded_strictly() -> None:
    assert decode_base64(b64("hello") + "\n", "x") == b"hello"
    with pytest.raises(CredentialError, match=r"^x is not valid base64$"):
        decode_base64("%%%" + TOKEN, "x")
    with pytest.raises(CredentialError, match="not a base64 string"):
        decode_base64(42, "x")


def test_a_secret_value_comes_from_data_or_string_data() -> None:
    secret = {"metadata": {"namespace": "ns", "name": "s"}, "data": {"a": b64("one")}, "stringData": {"b": "two"}}
    assert secret_value(secret, "a") == b"one"
    assert secret_value(secret, "b") == b"two"
    assert secret_value(secret, "c") is None
    with pytest.raises(CredentialError, match=r"^capi Secret ns/s key 'a' is not valid base64$"):
        secret_value({**secret, "data": {"a": "!!"}}, "a", "capi")


def test_a_kubeconfig_from_a_secret_becomes_one_context_named_after_the_cluster(tls: TLSMaterial) -> None:
    text = kubeconfig_text("https://10.0.0.1:6443", TOKEN, tls.ca_pem, cert=tls.cert_pem, key=tls.key_pem)
    config = kubeconfig_from_text(text.encode(), name="prod-1", origin="capi Secret a/prod-1-kubeconfig")
    assert config.contexts == ["prod-1"] and config.current_context == "prod-1"
    assert config.server_of("prod-1") == "https://10.0.0.1:6443"
    assert config.describe() == "capi Secret a/prod-1-kubeconfig"
    assert TOKEN not in repr(config) and "s3cr3t" not in repr(config)
    state = LiveClusterState("prod-1", config, "prod-1")  # the official client accepts it as it is
    state.close()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["users"][0]["user"].update(exec={"command": "aws"}), "authenticates with 'exec'"),
        (lambda d: d["users"][0]["user"].update({"auth-provider": {"name": "gcp"}}), "with 'auth-provider'"),
        (lambda d: d["users"][0]["user"].update(tokenFile="/etc/passwd"), "refers to a local file ('tokenFile')"),
        (lambda d: d["clusters"][0]["cluster"].update({"certificate-authority": "/ca"}), "refers to a local CA file"),
        (lambda d: d["clusters"][0]["cluster"].update({"certificate-authority-data": b64("no pem")}), "no PEM"),
        (lambda d: d["users"][0]["user"].update(token="two words"), "not a single word"),
        (lambda d: d.update(users=[]), "names no user"),
        (lambda d: d["clusters"][0]["cluster"].pop("server"), "has no server URL"),
        (lambda d: d["clusters"][0]["cluster"].update(server="ftp://x"), "is not an http(s) URL"),
        (
            lambda d: d.update(contexts=[*d["contexts"], {"name": "b", "context": {}}], **{"current-context": None}),
            "2 contexts and no usable current-context",
        ),
    ],
)
def test_a_kubeconfig_from_a_secret_may_not_run_commands_read_files_or_be_incomplete(
    tls: TLSMaterial, mutate: Callable[[dict[str, Any]], object], message: str
) -> None:
    doc = yaml.safe_load(kubeconfig_text("https://10.0.0.1:6443", TOKEN, tls.ca_pem))
    mutate(doc)
    with pytest.raises(CredentialError, match=re.escape(message)) as info:
        kubeconfig_from_text(yaml.safe_dump(doc).encode(), name="c", origin="capi Secret a/c-kubeconfig")
    assert str(info.value).startswith("capi Secret a/c-kubeconfig")
    assert TOKEN not in str(info.value)


def test_invalid_yaml_is_reported_by_line_without_quoting_it() -> None:
    text = f"users:\n- user: {{token: {TOKEN}\n  x: [unclosed".encode()
    with pytest.raises(CredentialError) as info:
        kubeconfig_from_text(text, name="c", origin="o")
    assert str(info.value) == "o: the kubeconfig is not valid YAML (line 3)"


def test_not_a_kubeconfig() -> None:
    with pytest.raises(CredentialError, match="not a kubeconfig"):
        kubeconfig_from_text(b"just: a mapping", name="c", origin="o")
    with pytest.raises(CredentialError, match="not UTF-8"):
        kubeconfig_from_text(b"\xff\xfe", name="c", origin="o")


def test_built_credentials_are_checked_offline(tls: TLSMaterial) -> None:
    config = build_kubeconfig("c", "https://h:6443", origin="o", token=TOKEN, ca_data=tls.ca_pem, insecure=True)
    cluster = config.config["clusters"][0]["cluster"]
    assert cluster == {"server": "https://h:6443", "insecure-skip-tls-verify": True}  # insecure drops the CA
    with pytest.raises(CredentialError, match="o: the bearer token contains whitespace"):
        build_kubeconfig("c", "https://h", origin="o", token="a b")
    with pytest.raises(CredentialError, match="needs both the certificate and the key"):
        build_kubeconfig("c", "https://h", origin="o", cert_data=tls.cert_pem)
    with pytest.raises(CredentialError, match="the client key holds no PEM private key"):
        build_kubeconfig("c", "https://h", origin="o", cert_data=tls.cert_pem, key_data=b"garbage")
    with pytest.raises(CredentialError, match="no credentials"):
        build_kubeconfig("c", "https://h", origin="o")
    with pytest.raises(CredentialError, match="the CA data holds no PEM certificate"):
        build_kubeconfig("c", "https://h", origin="o", token=TOKEN, ca_data=b"nope")


def test_argocd_bearer_token_and_client_certificate_are_supported(tls: TLSMaterial) -> None:
    bearer = argocd_credentials(
        "c", "https://h", {"bearerToken": TOKEN, "tlsClientConfig": {"caData": b64(tls.ca_pem)}}, "o"
    )
    assert bearer.config["users"][0]["user"] == {"token": TOKEN}
    cert = argocd_credentials(
        "c",
        "https://h",
        {
            "tlsClientConfig": {
                "certData": b64(tls.cert_pem),
                "keyData": b64(tls.key_pem),
                "serverName": "api.internal",
                "insecure": False,
            }
        },
        "o",
    )
    assert base64.b64decode(cert.exportable["users"][0]["user"]["client-key-data"]) == tls.key_pem
    assert cert.config["clusters"][0]["cluster"]["tls-server-name"] == "api.internal"
    LiveClusterState("c", cert, "c").close()


@pytest.mark.skipif(not hasattr(os, "memfd_create"), reason="memory files are Linux-only")
def test_a_client_key_reaches_the_client_through_memory_not_a_temp_file(tls: TLSMaterial) -> None:
    config = build_kubeconfig("c", "https://h", origin="o", cert_data=tls.cert_pem, key_data=tls.key_pem)
    user = config.config["users"][0]["user"]
    assert "client-key-data" not in user and user["client-key"].startswith("/proc/self/fd/")
    before = set(Path(tempfile.gettempdir()).iterdir())
    LiveClusterState("c", config, "c").close()
    created = set(Path(tempfile.gettempdir()).iterdir()) - before
    assert not [p for p in created if p.is_file() and b"PRIVATE KEY" in p.read_bytes()]
    path = user["client-key"]
    del config, user
    gc.collect()
    with contextlib.suppress(FileNotFoundError):  # the memory file goes with the credentials (the fd may be reused)
        assert "fleetcheck-client-credentials" not in os.readlink(path)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"execProviderConfig": {"command": "argocd-k8s-auth"}}, "auth kind 'execProviderConfig' is not supported"),
        ({"awsAuthConfig": {"clusterName": "x"}, "bearerToken": TOKEN}, "auth kind 'awsAuthConfig' is not supported"),
        ({"azureAuth": {}, "tlsClientConfig": {}}, "unknown auth kind 'azureAuth'"),
        ({"username": "admin", "password": TOKEN}, "auth kind 'username/password' (basic auth) is not supported"),
        ({"tlsClientConfig": {"insecure": True}}, "no credentials in 'config'"),
        ({"bearerToken": TOKEN, "tlsClientConfig": {"caData": "%%"}}, "tlsClientConfig.caData is not valid base64"),
        (["not", "an", "object"], "'config' is not a JSON object"),
    ],
)
def test_argocd_auth_kinds_fleetcheck_refuses_are_named(config: object, message: str) -> None:
    with pytest.raises(CredentialError) as info:
        argocd_credentials("c", "https://h", config, "argocd Secret argocd/c")
    assert message in str(info.value)
    assert TOKEN not in str(info.value)


def test_an_entry_never_shows_its_credentials(tls: TLSMaterial) -> None:
    config = build_kubeconfig("c", "https://h", origin="argocd Secret argocd/c", token=TOKEN)
    entry = ClusterEntry(name="c", context="c", credentials=config, source="argocd", server="https://h")
    for text in (repr(entry), str(entry), entry.model_dump_json(), str(entry.model_dump()), repr(config)):
        assert TOKEN not in text
    assert entry.credentials is config
    assert isinstance(entry.model_copy(update={"name": "d"}).credentials, InMemoryKubeconfig)


def test_the_export_is_written_0600_atomically_whatever_the_umask(tmp_path: Path, tls: TLSMaterial) -> None:
    target = tmp_path / "out" / "fleet.kubeconfig"
    target.parent.mkdir()
    target.write_text("old")
    os.chmod(target, 0o644)
    entries = [
        ClusterEntry(name="a", credentials=build_kubeconfig("a", "https://a", origin="o", token=TOKEN), context="a"),
        ClusterEntry(name="b", credentials_error="argocd Secret argocd/b: auth kind 'awsAuthConfig' ..."),
        ClusterEntry(name="s", snapshot=str(tmp_path)),
    ]
    document, skipped = export_kubeconfig(entries)
    old = os.umask(0)
    try:
        write_kubeconfig_export(target, document)
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    written = yaml.safe_load(target.read_text())
    assert [c["name"] for c in written["contexts"]] == ["a"]
    assert written["users"][0]["user"]["token"] == TOKEN
    assert [name for name, _reason in skipped] == ["b", "s"]
    assert [p.name for p in target.parent.iterdir()] == ["fleet.kubeconfig"]  # no temp file left behind
