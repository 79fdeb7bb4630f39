"""What a fleet file, a source or a snapshot's ``cluster.yaml`` may declare about a cluster the API cannot show.

:class:`DeclaredFacts` and :func:`labels_to_str` are shared by the fleet
file (:mod:`fleetcheck.registry.fleet`), ``cluster.yaml``
(:mod:`fleetcheck.registry.cluster_file`) and the sources: their own module,
below all three, so each imports them at the top and none imports another
to get them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from fleetcheck.core.providers import PROVIDERS

__all__ = ["DeclaredFacts", "labels_to_str"]


def labels_to_str(value: Any) -> Any:
    """YAML turns ``expires: 2027-01-01`` into a date and ``tier: 1`` into an int; labels are strings."""
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            if isinstance(item, date | datetime):
                out[key] = item.isoformat()
            elif isinstance(item, bool):
                out[key] = str(item).lower()
            elif isinstance(item, int | float):
                out[key] = str(item)
            else:
                out[key] = item
        return out
    return value


class DeclaredFacts(BaseModel):
    """Facts the API cannot show (managed control planes, network endpoints)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_username_prefix: str | None = None
    #: ``host:port`` of the cluster's DNS service as reachable from the runner (FC-DNS-004)
    dns_endpoint: str | None = None
    #: the structured authentication config, when the API server uses ``--authentication-config``
    authentication_config: str | None = None
    #: who runs the cluster (eks, gke, aks, openshift, rke2, k3s, kind, kubeadm), for clusters whose nodes and
    #: version do not say (a private EKS AMI without the eks.amazonaws.com labels, a hardened RKE2 build);
    #: it wins over what the provider fact detects
    provider: str | None = None

    @field_validator("provider")
    @classmethod
    def _known_provider(cls, value: str | None) -> str | None:
        if value is None:
            return None
        name = value.strip().lower()
        known = [p for p in PROVIDERS if p != "unknown"]
        if name not in known:
            shown = value if len(value) <= 40 else value[:39] + "…"
            raise ValueError(f"{shown!r} is not a provider: write one of {', '.join(known)} (or leave it out)")
        return name
