"""Live probes reach only hosts the profile or fleet file names, over HTTPS, with timeouts and size caps.

A cluster is not trusted to tell the scan where to connect: an issuer, a
registry or an upstream resolver read from it is compared, never contacted.
The proof is a trap: a TCP listener and a UDP socket on one loopback port
that the cluster's objects point at everywhere they can (API server flags,
images, the Corefile) while the profile and fleet file name a second trap.
The scan runs every check module; the first trap must see nothing, the
second must see the probes (so they did run).
"""

from __future__ import annotations

import gc
import json
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetcheck.probes import ProbeError
from fleetcheck.probes.dns import resolve_name
from fleetcheck.probes.ntp import query_ntp_server
from fleetcheck.probes.oci import probe_registry, tls_context
from fleetcheck.probes.oidc import FetchLimits, probe_discovery
from fleetcheck.replay import ReplayServer
from fleetcheck.replay.certs import TLSMaterial
from fleetcheck.state.snapshot import load_snapshot
from tests.integration.clusters import write_cluster, write_list
from tests.security.kit import CHECKS, ScriptedServer, Trap, fleet_file, records, scan

FIFTY_MB = 50 * 1024 * 1024
APISERVER_IMAGE = "registry.k8s.io/kube-apiserver:v1.31.4"
#: slack on top of a probe's timeout for thread scheduling on a busy CI runner
SLACK = 1.0


def _apiserver_pod(issuer: str) -> dict[str, Any]:
    flags = ["kube-apiserver", "--advertise-address=10.20.0.10", f"--oidc-issuer-url={issuer}"]
    flags += ["--oidc-client-id=kubernetes", "--oidc-username-claim=email", "--secure-port=6443"]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "kube-apiserver-cp-0",
            "namespace": "kube-system",
            "uid": "0f6c9d57-0000-4000-8000-000000000010",
            "labels": {"component": "kube-apiserver", "tier": "control-plane"},
            "creationTimestamp": "2026-06-01T08:00:00Z",
        },
        "spec": {
            "containers": [
                {"name": "kube-apiserver", "image": "registry.k8s.io/kube-apiserver:v1.31.4", "command": flags}
            ],
            "nodeName": "cp-0",
        },
        "status": {"phase": "Running"},
    }


def _hostile_cluster(root: Path, name: str, undeclared: Trap) -> Path:
    """A cluster whose objects point at ``undeclared`` wherever objects can name a host."""
    folder = write_cluster(root, name, pods=2)
    pods = json.loads((folder / "pods.json").read_text())["items"]
    pods[0]["spec"]["containers"][0]["image"] = f"{undeclared.address}/team/app:1.0"
    pods.append(_apiserver_pod(f"https://{undeclared.address}/realms/platform"))
    write_list(folder, "pods.json", pods)
    corefile = f".:53 {{\n    errors\n    forward . {undeclared.address}\n    cache 30\n}}\n"
    coredns = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "coredns", "namespace": "kube-system", "uid": "0f6c9d57-0000-4000-8000-000000000011"},
        "data": {"Corefile": corefile},
    }
    write_list(folder, "configmaps.json", [coredns])
    return folder


def test_scan_contacts_only_declared_hosts(
    tmp_path: Path, pytester: pytest.Pytester, trap_factory: Callable[[], Trap]
) -> None:
    undeclared, declared = trap_factory(), trap_factory()
    root = tmp_path / "snaps"
    dirs = [_hostile_cluster(root, name, undeclared) for name in ("declared", "silent")]
    profile = tmp_path / "probing.yaml"
    profile.write_text(
        yaml.safe_dump(
            {
                "name": "probing",
                "extends": "default",
                "registries": {"*": [declared.address]},
                "probes": {
                    "enabled": True,
                    "timeout_seconds": 0.5,
                    "ntp_servers": [declared.address],
                    "ntp_samples": 1,
                    "dns_names": ["api.example.com"],
                },
            }
        )
    )
    with ReplayServer([load_snapshot(d) for d in dirs]) as server:
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
        facts = {"oidc_issuer": f"https://{declared.address}/realms/platform", "dns_endpoint": declared.address}
        fleet = fleet_file(
            tmp_path / "fleet.yaml",
            [{"name": "declared", "facts": facts}, {"name": "silent"}],
            defaults={"kubeconfig": str(kubeconfig), "profile": str(profile)},
        )
        scan(pytester, [CHECKS], tmp_path / "r", "--fleet", str(fleet))
    verdicts = records(tmp_path / "r")

    assert (undeclared.connections, undeclared.datagrams) == (0, 0), "a host read from a cluster was contacted"
    # the probes did run, against what the profile and the fleet file name
    assert declared.connections >= 2, "OIDC discovery and the registry probe reach the declared hosts"
    assert declared.datagrams >= 2, "DNS and NTP probes reach the declared hosts"
    oidc = verdicts[("declared", "FC-OIDC-003")]
    assert oidc["outcome"] == "error" and declared.address in oidc["message"], oidc
    assert undeclared.address not in oidc["message"]
    never = verdicts[("silent", "FC-OIDC-003")]
    assert never["outcome"] == "skip" and "never fetches an issuer read from a cluster" in never["message"]


# -- https only, unless the profile allows http ---------------------------------------------------------


def _http_ok(sock: socket.socket, stats: dict[str, int]) -> None:
    body = b'{"issuer": "x"}'
    sock.sendall(
        b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    stats["sent"] += len(body)


def test_oidc_probe_refuses_http_issuers_without_contact(trap_factory: Callable[[], Trap]) -> None:
    trap = trap_factory()
    report = probe_discovery(f"http://{trap.address}", FetchLimits(timeout=0.5))
    assert report.problems and "not an https URL" in report.problems[0]
    assert trap.connections == 0
    with pytest.raises(ProbeError):  # allowed: contacted (and the trap never answers)
        probe_discovery(f"http://{trap.address}", FetchLimits(timeout=0.5, allow_http=True))
    assert trap.connections == 1


def test_registry_probe_speaks_plain_http_only_when_allowed(server_factory: Callable[..., ScriptedServer]) -> None:
    server = server_factory(_http_ok)
    with pytest.raises(ProbeError, match="allow_http"):
        probe_registry(f"127.0.0.1:{server.port}", timeout=2)
    assert server.first_bytes and all(first[:1] == b"\x16" for first in server.first_bytes), server.first_bytes
    answer = probe_registry(f"127.0.0.1:{server.port}", timeout=2, allow_http=True)
    assert answer.status == 200 and answer.url.startswith("http://")
    assert server.first_bytes[-1].startswith(b"GET /v2/ ")


# -- timeouts ---------------------------------------------------------------------------------------------


def _elapsed(call: Callable[[], object]) -> tuple[float, BaseException | None]:
    started = time.monotonic()
    try:
        call()
    except (ProbeError, OSError) as exc:
        return time.monotonic() - started, exc
    return time.monotonic() - started, None


def test_every_probe_gives_up_on_a_silent_server(trap_factory: Callable[[], Trap], ca_file: Path) -> None:
    trap = trap_factory()
    timeout = 0.5
    calls: dict[str, Callable[[], object]] = {
        "oidc": lambda: probe_discovery(f"https://{trap.address}", FetchLimits(timeout, ca_bundle=str(ca_file))),
        "oci": lambda: probe_registry(trap.address, timeout=timeout, ssl_context=tls_context(ca_file)),
        "dns": lambda: resolve_name(trap.address, "api.example.com", timeout=timeout),
        "ntp": lambda: query_ntp_server(trap.address, samples=1, timeout=timeout),
    }
    for name, call in calls.items():
        elapsed, error = _elapsed(call)
        assert isinstance(error, ProbeError), (name, error)
        assert elapsed < timeout + SLACK, f"{name} took {elapsed:.1f}s with a {timeout}s timeout"


# -- size caps ---------------------------------------------------------------------------------------------


def _stream(declare_length: bool) -> Callable[[socket.socket, dict[str, int]], None]:
    """Answer 200 and stream up to 50 MB; ``stats["closed"]`` is set once the client hung up."""

    def script(sock: socket.socket, stats: dict[str, int]) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
        if declare_length:
            head += b"Content-Length: %d\r\n" % FIFTY_MB
        chunk = b" " * 65536
        try:
            sock.sendall(head + b"\r\n[")
            while stats["sent"] < FIFTY_MB:
                sock.sendall(chunk)
                stats["sent"] += len(chunk)
        except OSError:
            stats["closed"] = 1

    return script


def _hung_up(server: ScriptedServer, within: float = 1.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if server.stats.get("closed"):
            return True
        time.sleep(0.02)
    return False


def _oidc_cap(server: ScriptedServer, ca_file: Path) -> tuple[float, BaseException | None]:
    limits = FetchLimits(timeout=10, ca_bundle=str(ca_file))
    return _elapsed(lambda: probe_discovery(f"https://127.0.0.1:{server.port}", limits))


@pytest.mark.parametrize("declare_length", [False, True], ids=["streamed", "declared-50MB"])
def test_oidc_probe_cuts_off_a_50_mb_answer(
    declare_length: bool, server_factory: Callable[..., ScriptedServer], tls_material: TLSMaterial, ca_file: Path
) -> None:
    server = server_factory(_stream(declare_length), tls_material)
    elapsed, error = _oidc_cap(server, ca_file)
    assert isinstance(error, ProbeError) and "cap" in str(error), error
    assert elapsed < 5, elapsed
    assert server.stats["sent"] < 16 * 1024 * 1024, f"{server.stats['sent']} bytes were pulled"
    del error
    gc.collect()  # finalize the leaked socket here, where its warning is expected


@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_oidc_probe_hangs_up_when_it_gives_up(
    server_factory: Callable[..., ScriptedServer], tls_material: TLSMaterial, ca_file: Path
) -> None:
    server = server_factory(_stream(False), tls_material)
    _elapsed_s, error = _oidc_cap(server, ca_file)
    try:
        assert isinstance(error, ProbeError)
        assert _hung_up(server), "the probe returned but kept the connection open"
    finally:
        del error
        gc.collect()


def test_registry_probe_reads_at_most_its_cap_of_a_50_mb_answer(
    server_factory: Callable[..., ScriptedServer], tls_material: TLSMaterial, ca_file: Path
) -> None:
    server = server_factory(_stream(False), tls_material)
    context = tls_context(ca_file)
    elapsed, error = _elapsed(lambda: probe_registry(f"127.0.0.1:{server.port}", timeout=10, ssl_context=context))
    assert error is None and elapsed < 5, (error, elapsed)
    assert server.stats["sent"] < 16 * 1024 * 1024, f"{server.stats['sent']} bytes were pulled"
    assert _hung_up(server), "the probe returned but kept the connection open"


# -- a server that answers, slowly, forever ------------------------------------------------------------------

DRIP_SECONDS = 1.5


def _drip(where: str) -> Callable[[socket.socket, dict[str, int]], None]:
    def script(sock: socket.socket, stats: dict[str, int]) -> None:
        if where == "body":
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
        else:
            sock.sendall(b"HTTP/1.1 200 OK\r\n")
        ends = time.monotonic() + DRIP_SECONDS
        while time.monotonic() < ends:
            sock.sendall(b" " if where == "body" else b"X-Slow: 1\r\n")
            stats["sent"] += 1
            time.sleep(0.1)

    return script


@pytest.mark.parametrize("where", ["headers", "body"])
def test_registry_probe_deadline_holds_against_a_slow_drip(
    where: str, server_factory: Callable[..., ScriptedServer], tls_material: TLSMaterial, ca_file: Path
) -> None:
    server = server_factory(_drip(where), tls_material)
    elapsed, _ = _elapsed(
        lambda: probe_registry(f"127.0.0.1:{server.port}", timeout=0.5, ssl_context=tls_context(ca_file))
    )
    assert elapsed < 0.5 + SLACK, elapsed


@pytest.mark.parametrize("where", ["headers", "body"])
def test_oidc_probe_deadline_holds_against_a_slow_drip(
    where: str, server_factory: Callable[..., ScriptedServer], tls_material: TLSMaterial, ca_file: Path
) -> None:
    server = server_factory(_drip(where), tls_material)
    limits = FetchLimits(timeout=0.3, ca_bundle=str(ca_file))
    elapsed, _ = _elapsed(lambda: probe_discovery(f"https://127.0.0.1:{server.port}", limits))
    assert elapsed < 0.3 + SLACK, f"the probe took {elapsed:.1f}s with a 0.3s deadline"
