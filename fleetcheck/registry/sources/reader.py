"""What a discovering source needs of its management cluster, as a protocol the caller fills in.

The registry sits below the state layer, so it cannot build a live client
itself: the caller that loads the fleet (the run, ``fleetcheck clusters``)
passes a :class:`ManagementReaderFactory`, normally
:func:`fleetcheck.state.management.open_management_reader`, and
:class:`~fleetcheck.registry.sources.base.ManagementCluster` builds the
source-facing reads (narrow Secret reads, selected lists, paging bounds) on
the four calls below. The protocol is only what those reads use, so a
reader is easy to fake in a unit test and a new client is one small class.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from fleetcheck.core.kinds import ResourceRef
from fleetcheck.registry.kubeconfig import MergedKubeconfig

__all__ = ["ManagementReader", "ManagementReaderFactory", "Obj"]

Obj = dict[str, Any]


class ManagementReader(Protocol):
    """Read-only GETs on one management cluster; failures raise :class:`~fleetcheck.errors.KindUnavailable`."""

    @property
    def server(self) -> str:
        """The API server URL the reader talks to."""
        ...

    def list_cluster_wide(self, ref: ResourceRef) -> list[Obj] | None:
        """Every object of ``ref`` in the cluster, every page; None when the server does not serve it."""
        ...

    def served_version(self, ref: ResourceRef) -> tuple[str, str] | None:
        """(group, version) the server serves ``ref`` under (discovery), None when it serves no such kind."""
        ...

    def get_json(self, ref: ResourceRef, path: str, query: Sequence[tuple[str, Any]]) -> Obj | None:
        """One GET of ``path``: the JSON object, None on 404, :class:`KindUnavailable` on any other failure."""
        ...

    def close(self) -> None:
        """Close connections and whatever holds the credentials."""
        ...


class ManagementReaderFactory(Protocol):
    """Opens a :class:`ManagementReader` on ``context`` of ``kubeconfig``.

    ``name`` is what error messages call the cluster (``sources[0] context mgmt``); ``timeout`` is the
    source's ``timeout_seconds`` for each request.
    """

    def __call__(self, name: str, kubeconfig: MergedKubeconfig, context: str, timeout: float) -> ManagementReader:
        """A reader ready for its first request (the context is loaded; nothing is sent to the API server yet)."""
        ...
