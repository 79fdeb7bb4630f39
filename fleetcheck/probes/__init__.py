"""Network probes (NTP, DNS, OCI registries, OIDC discovery), each with a timeout.

Probes contact only hosts that a profile or the fleet file names, never an
address read from a cluster. A probe that cannot reach or read its server
raises :class:`ProbeError`: the check then ends as ``error`` (could not
decide), never as ``fail``.
"""

from __future__ import annotations

from fleetcheck.errors import FleetcheckError

__all__ = ["ProbeError"]


class ProbeError(FleetcheckError):
    """A probe could not reach or read its server: refused, DNS, TLS, timeout, server error."""
