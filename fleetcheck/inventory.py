"""``fleetcheck clusters``: the registry, with reachability and server version per cluster."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fleetcheck.registry.fleet import ClusterEntry, load_fleet
from fleetcheck.registry.kubeconfig import merge_kubeconfigs
from fleetcheck.state.base import KindUnavailable

__all__ = ["print_clusters", "probe_cluster"]


def probe_cluster(entry: ClusterEntry, timeout: float) -> tuple[str, str]:
    """(reachability, version) of one cluster; snapshots report their recorded version."""
    if entry.snapshot is not None:
        from fleetcheck.state.snapshot import read_cluster_file

        meta = read_cluster_file(Path(entry.snapshot))
        version = (
            meta.server_version
            if isinstance(meta.server_version, str)
            else ((meta.server_version or {}).get("gitVersion", "?"))
        )
        return "snapshot", str(version or "?")
    from fleetcheck.errors import ConfigError
    from fleetcheck.state.live import LiveClusterState, LiveOptions

    try:
        merged = merge_kubeconfigs([Path(p) for p in entry.kubeconfig])
        state = LiveClusterState(
            entry.name,
            merged,
            entry.context or entry.name,
            LiveOptions(connect_timeout=timeout, read_timeout=timeout, attempts=1),
        )
    except ConfigError as exc:
        return f"error: {exc.problem}", "-"
    try:
        return "reachable", state.version.git_version
    except KindUnavailable as exc:
        return f"unreachable: {exc.reason}", "-"
    finally:
        state.close()


def print_clusters(fleet_file: str | None, snapshots: list[str], profile: str | None, *, timeout: float) -> int:
    """Print one line per cluster: name, source, profile, server, reachability, version."""
    fleet = load_fleet(fleet_file, snapshots=list(snapshots) or None, profile=profile)
    with ThreadPoolExecutor(max_workers=8) as pool:
        probes = list(pool.map(lambda e: probe_cluster(e, timeout), fleet.clusters))
    print(f"{'NAME':<24} {'SOURCE':<22} {'PROFILE':<10} {'VERSION':<12} {'STATUS':<12} SERVER")
    for entry, (status, version) in zip(fleet.clusters, probes, strict=True):
        where = entry.server or entry.snapshot or ""
        print(f"{entry.name:<24} {entry.source[:22]:<22} {entry.profile[:10]:<10} {version:<12} {status:<12} {where}")
    print(f"\n{len(fleet.clusters)} clusters from {fleet.source}")
    return 0
