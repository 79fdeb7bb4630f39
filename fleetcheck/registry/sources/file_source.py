"""``type: file``: clusters listed in the fleet file itself, as the top-level ``clusters:`` list is.

A file source is the same explicit list, grouped: its ``labels`` and
``profile`` apply to each of its clusters (a cluster's own win), and its
``name`` is what SOURCE shows. The fleet file's loader resolves these
clusters exactly like ``clusters:`` (kubeconfig, context, snapshot, profile
checks), so both spellings behave the same.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from fleetcheck.registry.fleet_model import ClusterSpec, ExplicitCluster
from fleetcheck.registry.sources.base import SourceSpec

__all__ = ["FileSourceSpec", "explicit_clusters"]


class FileSourceSpec(SourceSpec):
    """``{type: file, clusters: [...]}``: explicit clusters, the same fields as ``clusters:``."""

    type: Literal["file"] = "file"
    clusters: list[ClusterSpec] = Field(default_factory=list)


def explicit_clusters(specs: list[tuple[int, SourceSpec]]) -> list[ExplicitCluster]:
    """The clusters of every ``type: file`` source, with where each is written and what it inherits."""
    out: list[ExplicitCluster] = []
    for index, spec in specs:
        if not isinstance(spec, FileSourceSpec):
            continue
        for position, cluster in enumerate(spec.clusters):
            out.append(
                ExplicitCluster(
                    where=f"sources[{index}].clusters[{position}]",
                    spec=cluster,
                    source=spec.tag,
                    labels=dict(spec.labels),
                    profile=spec.profile,
                    profile_field=f"sources[{index}].profile",
                )
            )
    return out
