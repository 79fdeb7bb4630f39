"""A snapshot folder as a :class:`ClusterState`: the same answers, from files."""

from __future__ import annotations

from datetime import UTC, datetime

from fleetcheck.core.kinds import ResourceRef, canonical_key, is_builtin
from fleetcheck.state.base import ClusterState, KindList, KindUnavailable, ServerVersion
from fleetcheck.state.snapshot_model import Snapshot

__all__ = ["SnapshotClusterState", "not_held_reason"]


def not_held_reason(key: str) -> str:
    """Why a kind cannot be read from a snapshot that does not hold it, and the command that captures it."""
    return f"the snapshot holds no {key} (capture it with: kubectl get {key} -A -o yaml > {key}.yaml)"


_CRDS = "customresourcedefinitions.apiextensions.k8s.io"


class SnapshotClusterState(ClusterState):
    """Reads come from the loaded snapshot; "now" is the capture time.

    A kind the snapshot holds (a file, an empty List included; the fixed set of
    a cluster-info dump; what sonobuoy listed; ``cluster.yaml`` ``kinds:``)
    answers with its objects. A kind it does not hold is an error naming the
    kind and the ``kubectl get`` that would capture it, never "zero objects";
    a kind recorded as unreadable is an error with the recorded reason. A
    CRD-backed kind is "not installed" only when the snapshot holds the CRDs
    and none defines it.
    """

    is_live = False

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__(snapshot.name)
        self.snapshot = snapshot
        self.time_source = snapshot.captured_source or "unknown"
        crds = snapshot.objects.get(_CRDS, [])
        self._crd_keys = {
            f"{(c.get('spec') or {}).get('names', {}).get('plural', '')}.{(c.get('spec') or {}).get('group', '')}"
            for c in crds
        }
        self._crds_held = snapshot.holds(_CRDS) and _CRDS not in snapshot.unreadable

    def _fetch(self, ref: ResourceRef) -> KindList:
        key = canonical_key(ref.group, ref.plural)
        snap = self.snapshot
        if key in snap.unreadable:
            raise KindUnavailable(self.name, ref, f"not captured: {snap.unreadable[key]}")
        if key in snap.objects:
            return KindList(ref, snap.objects[key], served=True, read_at=snap.captured)
        if key in snap.held:
            recorded = snap.held[key]
            served = recorded if recorded is not None else is_builtin(ref) or key in self._crd_keys
            return KindList(ref, [], served=served, read_at=snap.captured)
        if not is_builtin(ref) and self._crds_held and key not in self._crd_keys:
            return KindList(ref, [], served=False, read_at=snap.captured)  # the CRDs are there, and none is this
        raise KindUnavailable(self.name, ref, not_held_reason(key))

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
