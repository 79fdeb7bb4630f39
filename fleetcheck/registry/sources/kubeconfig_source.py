"""``type: kubeconfig``: the contexts of a kubeconfig, filtered by name.

What fleetcheck does with no fleet file (every context is a cluster), as a
source among others: ``include``/``exclude`` globs pick contexts, so one
fleet file can take ``prod-*`` from a team kubeconfig and the rest from
Cluster API. Credentials stay in the file, read when the scan opens the
cluster, as for any context.
"""

from __future__ import annotations

from typing import Literal

from fleetcheck.registry.sources.base import DiscoveredCluster, DiscoverySpec, Source, SourceContext

__all__ = ["KubeconfigSource", "KubeconfigSourceSpec"]


class KubeconfigSourceSpec(DiscoverySpec):
    """``{type: kubeconfig, kubeconfig: PATH, include: [GLOB], exclude: [GLOB]}``."""

    type: Literal["kubeconfig"] = "kubeconfig"
    #: the kubeconfig (``:``-separated, merged as kubectl does); default ``defaults.kubeconfig``, else ``$KUBECONFIG``
    kubeconfig: str | None = None


class KubeconfigSource(Source):
    """Every selected context is a cluster named after the context (as without a fleet file)."""

    type_name = "kubeconfig"
    spec_model = KubeconfigSourceSpec
    spec: KubeconfigSourceSpec

    def check(self, ctx: SourceContext) -> None:
        """The profile and the kubeconfig files exist."""
        super().check(ctx)
        ctx.kubeconfig(self.spec.kubeconfig, f"{self.where}.kubeconfig")

    def discover(self, ctx: SourceContext) -> list[DiscoveredCluster]:
        """One cluster per context whose name ``include`` keeps and ``exclude`` does not drop."""
        paths, merged = ctx.kubeconfig(self.spec.kubeconfig, f"{self.where}.kubeconfig")
        return [
            DiscoveredCluster(name=context, server=merged.server_of(context), kubeconfig=paths, context=context)
            for context in merged.contexts
            if self.spec.selects(context)
        ]
