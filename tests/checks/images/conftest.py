"""Fixtures for the FC-IMG tests: real-shaped builders, the inner check run, and real registry servers."""

from __future__ import annotations

from types import ModuleType

import pytest

from tests.checks.images.k8s_builders import k8s, run_checks, write_profile
from tests.servers import registry as servers

__all__ = ["k8s", "registry_servers", "run_checks", "write_profile"]


@pytest.fixture
def registry_servers() -> ModuleType:
    """``RegistryServer``, ``StubServer``, ``make_tls`` from tests/servers/registry.py."""
    return servers
