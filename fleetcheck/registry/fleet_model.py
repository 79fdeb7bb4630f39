"""The fleet's models: what a fleet file says, and the resolved clusters the registry hands the run.

Apart from the loader (:mod:`fleetcheck.registry.fleet`) because the
sources build and merge these entries too: they import the models from here,
the loader imports the sources, and no module imports the one that imports it.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from fleetcheck.registry.declared import DeclaredFacts, labels_to_str
from fleetcheck.registry.kubeconfig import MergedKubeconfig, merge_kubeconfigs

__all__ = ["ClusterEntry", "ClusterSpec", "ExplicitCluster", "Fleet", "FleetDefaults", "FleetFile"]

_NAME_PATTERN = r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,126}[A-Za-z0-9])?$"


class ClusterSpec(BaseModel):
    """One ``clusters:`` entry of a fleet file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_NAME_PATTERN)
    context: str | None = None
    kubeconfig: str | None = None
    snapshot: str | None = None
    profile: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    facts: DeclaredFacts = Field(default_factory=DeclaredFacts)

    _coerce_labels = field_validator("labels", mode="before")(labels_to_str)

    @model_validator(mode="after")
    def _one_way_in(self) -> ClusterSpec:
        if self.snapshot and (self.context or self.kubeconfig):
            raise ValueError("give either 'snapshot' or 'context'/'kubeconfig', not both")
        return self


class FleetDefaults(BaseModel):
    """``defaults:`` of a fleet file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    profile: str = "default"
    kubeconfig: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)

    _coerce_labels = field_validator("labels", mode="before")(labels_to_str)


class FleetFile(BaseModel):
    """A ``fleet.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(default=1, ge=1, le=1)
    defaults: FleetDefaults = Field(default_factory=FleetDefaults)
    clusters: list[ClusterSpec] = Field(default_factory=list)
    #: where else clusters come from (kubeconfig, file, capi, argocd, karmada, ocm, rancher, clusterprofile, flux,
    #: sveltos); each entry is
    #: validated by its type's model in :mod:`fleetcheck.registry.sources`, which the registry imports only when used
    sources: list[dict[str, Any]] = Field(default_factory=list)


class ClusterEntry(BaseModel):
    """A resolved cluster: name, how to reach it, labels, profile, declared facts."""

    model_config = ConfigDict(frozen=True)

    name: str
    context: str | None = None
    kubeconfig: tuple[str, ...] = ()
    snapshot: str | None = None
    profile: str = "default"
    labels: dict[str, str] = Field(default_factory=dict)
    facts: DeclaredFacts = Field(default_factory=DeclaredFacts)
    #: where the registry learned of it: ``fleet.yaml``, ``kubeconfig``, ``snapshot``, a source tag (``capi+argocd``)
    source: str = ""
    server: str | None = None
    #: why the cluster cannot be opened (credentials a source could not use): its checks error with this reason
    credentials_error: str | None = None
    #: how the registry assembled the entry (sources merged, renames, the fleet manager's view of the cluster)
    notes: tuple[str, ...] = ()
    #: credentials a source read from a Secret: in memory only, never dumped, printed or logged
    credentials: MergedKubeconfig | None = Field(default=None, exclude=True, repr=False)
    #: where each label and declared fact came from (``labels.tier`` -> ``cluster.yaml``, ``facts.oidc_issuer`` ->
    #: ``fleet file``), for ``fleetcheck clusters``; keys absent here came from the one place the entry was made
    origins: dict[str, str] = Field(default_factory=dict)

    def merged_kubeconfig(self) -> MergedKubeconfig:
        """The credentials to reach it: a source's in-memory kubeconfig, else its kubeconfig files merged."""
        if self.credentials is not None:
            return self.credentials
        return merge_kubeconfigs([Path(p) for p in self.kubeconfig])

    @property
    def is_snapshot(self) -> bool:
        """Backed by a snapshot folder rather than a live API server."""
        return self.snapshot is not None


class ExplicitCluster(NamedTuple):
    """A cluster written in the fleet file (``clusters:`` or a ``type: file`` source), and what it inherits."""

    where: str
    spec: ClusterSpec
    source: str
    labels: Mapping[str, str] = {}  # read only: the source's labels, under the cluster's own
    profile: str | None = None
    profile_field: str = ""


class Fleet(BaseModel):
    """Every cluster of the run, in a stable order."""

    model_config = ConfigDict(frozen=True)

    clusters: tuple[ClusterEntry, ...]
    source: str
    default_profile: str = "default"

    def names(self) -> list[str]:
        """Cluster names in registry order."""
        return [c.name for c in self.clusters]

    def get(self, name: str) -> ClusterEntry:
        """The cluster called ``name``."""
        for cluster in self.clusters:
            if cluster.name == name:
                return cluster
        raise KeyError(name)

    def matching(self, globs: list[str] | None) -> list[ClusterEntry]:
        """Clusters whose name matches any glob (all when none given)."""
        if not globs:
            return list(self.clusters)
        return [c for c in self.clusters if any(fnmatch.fnmatchcase(c.name, g) for g in globs)]
