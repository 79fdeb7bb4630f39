"""The live reader a discovering source reads its management cluster with.

The registry's sources (capi, argocd, flux, sveltos, ...) declare what they
need of a management cluster as
:class:`~fleetcheck.registry.sources.reader.ManagementReader`; this module
is its implementation over :class:`~fleetcheck.state.live.LiveClusterState`,
so a management cluster is read by exactly the client, TLS handling,
credential preparation, redaction and error messages a scanned cluster is.
Callers above the state layer pass :func:`open_management_reader` to
:func:`fleetcheck.registry.fleet.load_fleet`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from fleetcheck.core.kinds import ResourceRef
from fleetcheck.registry.kubeconfig import MergedKubeconfig

if TYPE_CHECKING:
    from fleetcheck.state.live import LiveClusterState

__all__ = ["LiveManagementReader", "open_management_reader"]

#: a management cluster answers inventory reads or is down: connect fast, retry once, no scan-wide budget
_CONNECT_TIMEOUT_CAP = 5.0
_ATTEMPTS = 2


class LiveManagementReader:
    """A :class:`~fleetcheck.registry.sources.reader.ManagementReader` over one live cluster state.

    The GETs go through the live state's request helpers (timeouts, bounded
    retries, status mapping to :class:`~fleetcheck.errors.KindUnavailable`,
    JSON checks) with whatever path the source needs, including namespaced
    ones its cluster-wide ``fetch`` has not.
    """

    def __init__(self, state: LiveClusterState) -> None:
        self._state = state

    @property
    def server(self) -> str:
        """The management cluster's API server URL."""
        return str(self._state.server)

    def list_cluster_wide(self, ref: ResourceRef) -> list[dict[str, Any]] | None:
        """The live state's list of ``ref`` (discovery, every page), None when it is not served."""
        listed = self._state.fetch(ref)
        return listed.items if listed.served else None

    def served_version(self, ref: ResourceRef) -> tuple[str, str] | None:
        """(group, version) discovery finds ``ref`` under, None when the server does not serve it."""
        return self._state._resolve(ref)

    def get_json(self, ref: ResourceRef, path: str, query: Sequence[tuple[str, Any]]) -> dict[str, Any] | None:
        """One GET of ``path``; None on 404, :class:`KindUnavailable` with the live state's message otherwise."""
        state = self._state
        response = state._get(path, list(query), ref)
        if response.status == 404:
            return None
        state._raise_for_status(response, ref)
        return state._json(response, ref)

    def close(self) -> None:
        """Close the connection pool and the memory files of a plugin's client key."""
        self._state.close()


def open_management_reader(
    name: str, kubeconfig: MergedKubeconfig, context: str, timeout: float
) -> LiveManagementReader:
    """A live reader on ``context``: ``timeout`` s per read, connect at most 5 s, 2 attempts, no cluster budget."""
    from fleetcheck.state.live import LiveClusterState, LiveOptions  # local: kubernetes loads only when needed

    options = LiveOptions(
        connect_timeout=min(timeout, _CONNECT_TIMEOUT_CAP),
        read_timeout=timeout,
        attempts=_ATTEMPTS,
        cluster_budget=None,
    )
    return LiveManagementReader(LiveClusterState(name, kubeconfig, context, options))


if TYPE_CHECKING:  # mypy holds the factory to the registry's protocol; nothing is loaded at run time
    from fleetcheck.registry.sources.reader import ManagementReaderFactory

    _CONFORMS: ManagementReaderFactory = open_management_reader
