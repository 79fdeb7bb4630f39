"""FC-IMG-004 and the OCI probe against real registries on loopback (Debian's docker-registry, v2.8).

The probe is tested directly (every way a registry can answer or not), then
the check end to end: snapshots served by the replay server as live
clusters, a fleet file naming their contexts with a region label each, and
a profile mapping each region to one of the registries started here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from fleetcheck.probes import ProbeError
from fleetcheck.probes.oci import probe_registry, registry_base_url, tls_context
from fleetcheck.replay import ReplayServer
from fleetcheck.state.snapshot import load_snapshot

pytestmark = pytest.mark.servers


@pytest.fixture(autouse=True)
def _needs_registry(registry_servers: ModuleType) -> None:
    if not registry_servers.registry_available():
        pytest.skip(f"{registry_servers.REGISTRY_BINARY} not installed (apt-get install docker-registry)")


@pytest.fixture
def tls(registry_servers: ModuleType, tmp_path: Path) -> Any:
    return registry_servers.make_tls(tmp_path / "tls")


def test_registry_base_url() -> None:
    assert registry_base_url("docker.io") == "https://registry-1.docker.io/v2/"
    assert registry_base_url("Index.Docker.io", "http") == "http://registry-1.docker.io/v2/"
    assert registry_base_url("127.0.0.1:5000") == "https://127.0.0.1:5000/v2/"


def test_probe_verified_tls_open_and_authenticated(registry_servers: ModuleType, tmp_path: Path, tls: Any) -> None:
    context = tls_context(tls.ca)
    with (
        registry_servers.RegistryServer(tmp_path / "open", tls=tls) as open_registry,
        registry_servers.RegistryServer(tmp_path / "private", tls=tls, auth=True) as private,
    ):
        answer = probe_registry(open_registry.address, timeout=5, ssl_context=context)
        assert (answer.status, answer.answering, answer.api_version) == (200, True, "registry/2.0")
        assert answer.url == f"https://{open_registry.address}/v2/"
        answer = probe_registry(private.address, timeout=5, ssl_context=context)
        assert (answer.status, answer.answering) == (401, True)
        # without the test CA the same server is not trusted, and never downgraded to HTTP
        with pytest.raises(ProbeError, match="TLS certificate not trusted"):
            probe_registry(open_registry.address, timeout=5, allow_http=True)


def test_probe_plain_http_only_when_allowed(registry_servers: ModuleType, tmp_path: Path) -> None:
    with registry_servers.RegistryServer(tmp_path / "plain") as plain:
        with pytest.raises(ProbeError, match=r"TLS handshake failed .*probes.allow_http: true"):
            probe_registry(plain.address, timeout=5)
        answer = probe_registry(plain.address, timeout=5, allow_http=True)
        assert (answer.status, answer.url) == (200, f"http://{plain.address}/v2/")


def test_probe_failures(registry_servers: ModuleType) -> None:
    with registry_servers.StubServer(404) as web:
        answer = probe_registry(web.address, timeout=5, allow_http=True)
        assert (answer.status, answer.answering, answer.api_version) == (404, False, None)
    with registry_servers.StubServer(silent=True) as silent, pytest.raises(ProbeError, match=r"no answer within 0\.3s"):
        probe_registry(silent.address, timeout=0.3)
    with (
        registry_servers.StubServer(refusing=True) as refusing,
        pytest.raises(ProbeError, match=r"cannot connect \(Connection refused\)"),
    ):
        probe_registry(refusing.address, timeout=5)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (b"SSH-2.0-OpenSSH_9.6\r\n", r"over plain HTTP: .*not an HTTP answer \(got 'SSH-2\.0-OpenSSH_9\.6'\)"),
        (b"", r"TLS handshake failed .*over plain HTTP: .*not an HTTP answer \(got 'nothing'\)"),
        (b"HTTP/1.1 200 OK\r\nX-Pad: " + b"a" * 70000 + b"\r\n\r\n{}", r"answer headers longer than 65536 bytes"),
    ],
)
def test_probe_refuses_what_is_not_a_registry_answer(registry_servers: ModuleType, reply: bytes, expected: str) -> None:
    with registry_servers.StubServer(reply=reply) as stub, pytest.raises(ProbeError, match=expected):
        probe_registry(stub.address, timeout=5, allow_http=True)


def test_tls_context_rejects_a_bad_bundle(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot load CA bundle"):
        tls_context(tmp_path / "missing.pem")
    (tmp_path / "junk.pem").write_text("not a certificate")
    with pytest.raises(ValueError, match="cannot load CA bundle"):
        tls_context(tmp_path / "junk.pem")


# -- the check, on live (replayed) clusters --------------------------------------------------------


@contextlib.contextmanager
def live_fleet(k8s: ModuleType, folder: Path, regions: dict[str, str | None]) -> Iterator[Path]:
    """Replay one small cluster per name (region label as given) and write a fleet file naming their contexts."""
    objects = k8s.deployment_family("web", "shop", [("web", "registry.eu-west.example.com/shop/web:1.4.2")])
    snapshots = [load_snapshot(k8s.write_snapshot(folder / "snapshots", name, objects)) for name in regions]
    with ReplayServer(snapshots) as server:
        kubeconfig = server.write_kubeconfig(folder / "kubeconfig")
        clusters = [
            {"name": name, "context": name, "labels": {"region": region} if region else {}}
            for name, region in regions.items()
        ]
        fleet = folder / "fleet.yaml"
        fleet.write_text(
            yaml.safe_dump({"version": 1, "defaults": {"kubeconfig": str(kubeconfig)}, "clusters": clusters})
        )
        yield fleet


def test_region_registry_answers_on_live_clusters(
    k8s: ModuleType,
    registry_servers: ModuleType,
    tmp_path: Path,
    tls: Any,
    run_checks: Callable[..., Any],
    write_profile: Callable[..., Path],
) -> None:
    other_ca = registry_servers.make_tls(tmp_path / "other-tls")
    with (
        registry_servers.RegistryServer(tmp_path / "open", tls=tls) as open_registry,
        registry_servers.RegistryServer(tmp_path / "private", tls=tls, auth=True) as private,
        registry_servers.RegistryServer(tmp_path / "foreign", tls=other_ca) as foreign,
        registry_servers.RegistryServer(tmp_path / "plain") as plain,
        registry_servers.StubServer(silent=True) as blackhole,
        registry_servers.StubServer(refusing=True) as refusing,
        live_fleet(
            k8s,
            tmp_path,
            {
                "prod-open": "r-open",
                "prod-private": "r-private",
                "prod-foreign": "r-foreign",
                "prod-plain": "r-plain",
                "prod-refused": "r-refused",
                "prod-blackhole": "r-blackhole",
                "prod-globs": "r-globs",
                "prod-undeclared": "r-undeclared",
            },
        ) as fleet,
    ):
        profile = write_profile(
            registries={
                "r-open": [open_registry.address, "*.dkr.ecr.eu-west-1.amazonaws.com"],
                "r-private": [f"https://{private.address}/team/*"],
                "r-foreign": [foreign.address],
                "r-plain": [plain.address],
                "r-refused": [refusing.address, open_registry.address],
                "r-blackhole": [blackhole.address],
                "r-globs": ["*.dkr.ecr.eu-west-1.amazonaws.com", "registry-?.example.com"],
            },
            probes={"timeout_seconds": 5},
            settings={"FC-IMG-004": {"ca_bundle": str(tls.ca), "timeout_seconds": 1}},
        )
        run = run_checks("test_images.py", fleet=fleet, profile=profile)
    outcomes = run.outcomes("FC-IMG-004")
    assert outcomes == {
        "prod-open": "pass",
        "prod-private": "pass",
        "prod-foreign": "fail",
        "prod-plain": "fail",
        "prod-refused": "fail",
        "prod-blackhole": "fail",
        "prod-globs": "skip",
        "prod-undeclared": "skip",
    }, run.stdout
    foreign_verdict = run["FC-IMG-004", "prod-foreign"]
    assert foreign_verdict.objects == [f"Registry/{foreign.address}"]
    assert foreign_verdict.message.startswith(
        "1 of 1 registries allowed for region r-foreign do not answer the OCI /v2/ endpoint within 1s: "
        f"Registry/{foreign.address}: GET https://{foreign.address}/v2/: TLS certificate not trusted"
    )
    assert "probes.allow_http: true" in run["FC-IMG-004", "prod-plain"].message
    refused_verdict = run["FC-IMG-004", "prod-refused"]
    assert refused_verdict.objects == [f"Registry/{refusing.address}"]  # the open registry beside it answers
    assert refused_verdict.message.startswith("1 of 2 registries allowed for region r-refused")
    assert "cannot connect (Connection refused)" in refused_verdict.message
    assert f"GET https://{blackhole.address}/v2/: no answer within 1s" in run["FC-IMG-004", "prod-blackhole"].message
    assert run["FC-IMG-004", "prod-globs"].message == (
        "the registries allowed for region r-globs are all patterns (*.dkr.ecr.eu-west-1.amazonaws.com, "
        "registry-?.example.com); nothing concrete to probe"
    )
    assert "lists no allowed registries for region r-undeclared" in run["FC-IMG-004", "prod-undeclared"].message
    assert "FC-IMG-004 [prod-refused] fail: 1 of 2 registries" in run.stdout
    # the cluster-scope image checks read the same live clusters through the replay server
    assert run["FC-IMG-001", "prod-open"].outcome == "pass"
    assert run["FC-IMG-003", "prod-open"].outcome == "pass"
    assert run["FC-IMG-002", "prod-open"].objects == ["shop/Deployment/web"]


def test_plain_http_registry_when_the_profile_allows_it(
    k8s: ModuleType,
    registry_servers: ModuleType,
    tmp_path: Path,
    run_checks: Callable[..., Any],
    write_profile: Callable[..., Path],
) -> None:
    with (
        registry_servers.RegistryServer(tmp_path / "plain", auth=True) as plain,
        registry_servers.StubServer(404) as web,
        live_fleet(k8s, tmp_path, {"lab-plain": "lab", "lab-web": "web", "lab-badca": "badca"}) as fleet,
    ):
        (tmp_path / "profiles").mkdir()
        (tmp_path / "profiles" / "junk-ca.pem").write_text("not a certificate\n")
        profile = write_profile(
            registries={"lab": [plain.address], "web": [web.address], "badca": [plain.address]},
            probes={"allow_http": True, "timeout_seconds": 2},
        )
        bad_profile = write_profile(
            "badca",
            registries={"badca": [plain.address]},
            settings={"FC-IMG-004": {"ca_bundle": "profiles/junk-ca.pem"}},
        )
        run = run_checks("test_images.py", fleet=fleet, profile=profile, args=("-k", "registry_answers"))
        bad = run_checks("test_images.py", fleet=fleet, profile=bad_profile, args=("-k", "registry_answers"))
    assert run["FC-IMG-004", "lab-plain"].outcome == "pass"
    web_verdict = run["FC-IMG-004", "lab-web"]
    assert web_verdict.outcome == "fail"
    assert f"GET http://{web.address}/v2/ answered HTTP 404, expected 200 or 401" in web_verdict.message
    # a CA bundle that is not one is the profile's mistake: error (could not decide), not fail
    verdict = bad["FC-IMG-004", "lab-badca"]
    assert verdict.outcome == "error"
    assert "settings.FC-IMG-004.ca_bundle" in verdict.message
    assert str(tmp_path / "profiles" / "junk-ca.pem") in verdict.message  # resolved next to the profile file
