"""Fixtures of the security tests (the helpers they use live in ``tests/security/kit.py``)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fleetcheck.replay.certs import TLSMaterial, generate_tls
from tests.security.kit import ScriptedServer, Trap


@pytest.fixture
def trap_factory() -> Iterator[Callable[[], Trap]]:
    """Make traps that are closed at the end of the test."""
    made: list[Trap] = []

    def make() -> Trap:
        trap = Trap()
        made.append(trap)
        return trap

    yield make
    for trap in made:
        trap.close()


@pytest.fixture(scope="session")
def tls_material() -> TLSMaterial:
    """One throw-away CA and loopback server certificate for every scripted TLS server."""
    return generate_tls()


@pytest.fixture(scope="session")
def ca_file(tls_material: TLSMaterial, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The CA of :func:`tls_material` as a PEM file (what a profile's ``ca_bundle`` names)."""
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    path.write_bytes(tls_material.ca_pem)
    return path


@pytest.fixture
def server_factory() -> Iterator[Callable[..., ScriptedServer]]:
    """Make scripted servers that are closed at the end of the test."""
    made: list[ScriptedServer] = []

    def make(script: Callable[[socket.socket, dict[str, int]], None], tls: TLSMaterial | None = None) -> ScriptedServer:
        server = ScriptedServer(script, tls)
        made.append(server)
        return server

    yield make
    for server in made:
        server.close()
