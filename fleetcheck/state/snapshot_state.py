"""A snapshot folder as a :class:`ClusterState`: the same answers, from files."""

from __future__ import annotations

from datetime import UTC, datetime

from fleetcheck.kinds import ResourceRef, canonical_key, is_builtin
from fleetcheck.state.base import ClusterState, KindList, KindUnavailable, ServerVersion
from fleetcheck.state.snapshot_model import Snapshot

__all__ = ["SnapshotClusterState"]


class SnapshotClusterState(ClusterState):
    """Reads come from the loaded snapshot; "now" is the capture time.

    A built-in kind with no file means zero objects (the API always serves
    it); a custom resource with no objects and no CRD means "not installed".
    """

    is_live = False

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__(snapshot.name)
        self.snapshot = snapshot
        self.time_source = snapshot.captured_source or "unknown"
        crds = snapshot.objects.get("customresourcedefinitions.apiextensions.k8s.io", [])
        self._crd_keys = {
            f"{(c.get('spec') or {}).get('names', {}).get('plural', '')}.{(c.get('spec') or {}).get('group', '')}"
            for c in crds
        }

    def _fetch(self, ref: ResourceRef) -> KindList:
        key = canonical_key(ref.group, ref.plural)
        if key in self.snapshot.objects:
            return KindList(ref, self.snapshot.objects[key], served=True, read_at=self.snapshot.captured)
        served = is_builtin(ref) or key in self._crd_keys
        return KindList(ref, [], served=served, read_at=self.snapshot.captured)

    @property
    def version(self) -> ServerVersion:
        """From ``cluster.yaml``'s ``serverVersion`` or ``serverversion.json``."""
        if not self.snapshot.server_version:
            ref = ResourceRef("", "v1", "version", "Version", False)
            raise KindUnavailable(
                self.name,
                ref,
                "the snapshot records no server version (add 'serverVersion: v1.31.4' to its cluster.yaml)",
            )
        return ServerVersion.parse(self.snapshot.server_version)

    @property
    def server_time(self) -> datetime:
        """The capture time (declared, or the newest timestamp seen)."""
        return self.snapshot.captured or datetime.now(UTC)
