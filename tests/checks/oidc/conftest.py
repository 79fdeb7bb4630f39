"""Loopback TLS OIDC servers for the FC-OIDC tests (defined in tests/servers/oidc.py)."""

from __future__ import annotations

from tests.servers.oidc import oidc_provider, oidc_tls, static_issuer

__all__ = ["oidc_provider", "oidc_tls", "static_issuer"]
