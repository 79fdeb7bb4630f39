"""``type: rancher``: the downstream clusters of a Rancher server, reached through Rancher's proxy.

Rancher records every downstream cluster as a ``Cluster`` of
``management.cattle.io/v3`` (cluster-scoped) in its local cluster, the
source's ``context``. Each is reached the way Rancher's own kubeconfigs do:
``<url>/k8s/clusters/<cluster id>`` with a Rancher API token. The token
comes from an environment variable (``token_env``, default
``RANCHER_TOKEN``), never from the fleet file, and stays in memory.

The cluster's direct endpoint (``status.apiEndpoint``), when Rancher knows
it, identifies it too, so the same cluster found through a kubeconfig or
another source is merged rather than scanned twice. The display name
(``spec.displayName``) is the cluster's name.
"""

from __future__ import annotations

import os
from typing import Literal

from fleetcheck.errors import ConfigError
from fleetcheck.registry.sources.base import (
    DiscoveredCluster,
    ManagedSource,
    ManagedSourceSpec,
    ManagementCluster,
    Obj,
    SourceContext,
    object_labels,
    safe_name,
)
from fleetcheck.registry.sources.credentials import CredentialError, build_kubeconfig

__all__ = ["RancherSource", "RancherSourceSpec"]

CLUSTERS_KIND = "management.cattle.io/v3 clusters"


class RancherSourceSpec(ManagedSourceSpec):
    """``{type: rancher, context: RANCHER_LOCAL, url: https://rancher.example.com}``."""

    type: Literal["rancher"] = "rancher"
    #: the Rancher server URL the proxy paths hang off
    url: str
    #: environment variable holding a Rancher API token (``token-xxxxx:yyyy``)
    token_env: str = "RANCHER_TOKEN"
    #: CA of the Rancher server, when not publicly trusted (path, relative to the fleet file)
    ca_file: str | None = None


class RancherSource(ManagedSource):
    """Rancher downstream clusters through Rancher's authenticating proxy."""

    type_name = "rancher"
    spec_model = RancherSourceSpec
    spec: RancherSourceSpec
    what = "Rancher Clusters (management.cattle.io)"

    def check(self, ctx: SourceContext) -> None:
        """The management context, and the CA file when one is named."""
        super().check(ctx)
        if self.spec.ca_file and not ctx.resolve_path(self.spec.ca_file).is_file():
            path = ctx.resolve_path(self.spec.ca_file)
            raise ConfigError(ctx.fleet_file, f"{self.where}.ca_file", f"{path} not found", "fix the path")

    def read(self, mgmt: ManagementCluster, ctx: SourceContext) -> list[DiscoveredCluster]:
        """One cluster per selected Rancher ``Cluster``."""
        ca = ctx.resolve_path(self.spec.ca_file).read_bytes() if self.spec.ca_file else None
        token = os.environ.get(self.spec.token_env, "").strip()
        found = []
        for obj in mgmt.list_all(CLUSTERS_KIND, self.what):
            cluster = self._cluster(obj, token, ca)
            if self.spec.selects(cluster.name):
                found.append(cluster)
        return found

    def _cluster(self, obj: Obj, token: str, ca: bytes | None) -> DiscoveredCluster:
        meta = obj.get("metadata") or {}
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        cluster_id = str(meta.get("name", ""))
        display = spec.get("displayName") if isinstance(spec, dict) else None
        labels = object_labels(meta)
        server = f"{self.spec.url.rstrip('/')}/k8s/clusters/{cluster_id}"
        found = DiscoveredCluster(name=safe_name(str(display or cluster_id)), server=server, labels=labels)
        endpoint = status.get("apiEndpoint") if isinstance(status, dict) else None
        if isinstance(endpoint, str) and endpoint:
            found.aliases.append(endpoint)
        version = (status.get("version") or {}).get("gitVersion") if isinstance(status, dict) else None
        found.notes.append(f"Rancher cluster {cluster_id}" + (f", {version}" if version else ""))
        if not token:
            found.error = f"no Rancher API token: set ${self.spec.token_env}"
            return found
        try:
            found.credentials = build_kubeconfig(
                found.name, server, origin=f"rancher ${self.spec.token_env}", token=token, ca_data=ca
            )
        except CredentialError as exc:
            found.error = str(exc)
        return found
