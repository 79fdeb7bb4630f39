"""What a snapshot folder holds once loaded: objects by kind, plus capture facts.

Kept apart from the loader so that the replay server and the snapshot-backed
:class:`~fleetcheck.state.base.ClusterState` share one shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from fleetcheck.core.kinds import ResourceRef

__all__ = ["Snapshot"]


@dataclass
class Snapshot:
    """One captured cluster.

    ``objects`` maps :attr:`ResourceRef.key` (version-agnostic, legacy groups
    folded into modern ones) to the objects of that kind, each a plain dict
    exactly as kubectl printed it. ``refs`` gives, per key, the resource as
    the snapshot served it (group, version from the objects' ``apiVersion``,
    kind, and whether it is namespaced).
    """

    name: str
    path: Path | None
    objects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    refs: dict[str, ResourceRef] = field(default_factory=dict)
    captured: datetime | None = None
    #: where ``captured`` came from: ``cluster.yaml``, ``meta/query-time.json``, ``newest timestamp`` ...
    captured_source: str = ""
    #: the ``/version`` object (``major``, ``minor``, ``gitVersion``, ...) when known
    server_version: dict[str, Any] | None = None
    labels: dict[str, str] = field(default_factory=dict)
    #: files read, and files skipped with the reason (shown by ``fleetcheck clusters``)
    files_read: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: kinds the capture holds beyond those with objects in :attr:`objects`, by key: ``True`` served with zero
    #: objects, ``False`` not served (the capture asked and the server has no such resource), ``None`` decided
    #: like any built-in or CRD-backed kind (``cluster.yaml`` ``kinds:``)
    held: dict[str, bool | None] = field(default_factory=dict)
    #: kinds the capture could not read, by key, with the reason (``cluster.yaml`` ``unreadable:``, sonobuoy's
    #: query errors): fetching one is an error, never "none"
    unreadable: dict[str, str] = field(default_factory=dict)
    #: the capture was accepted although some kinds could not be read (``fleetcheck snapshot --allow-partial``)
    partial: bool = False
    #: what wrote the folder: ``kubectl`` (files of kubectl output), ``cluster-info dump`` or ``sonobuoy``
    layout: str = "kubectl"

    def holds(self, key: str) -> bool:
        """Whether the capture says anything about ``key`` (objects, zero objects, not served or unreadable)."""
        return key in self.objects or key in self.held or key in self.unreadable
