"""``fleetcheck clusters``: the registry, with reachability and server version per cluster."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fleetcheck.core.kinds import ResourceRef
from fleetcheck.redact import redact
from fleetcheck.registry.fleet import ClusterEntry, load_fleet
from fleetcheck.state.base import ClusterUnreachable, KindUnavailable
from fleetcheck.state.management import open_management_reader

if TYPE_CHECKING:
    from fleetcheck.state.live import LiveClusterState

__all__ = ["KindAccess", "check_access", "print_access", "print_clusters", "probe_cluster"]


def probe_cluster(entry: ClusterEntry, timeout: float) -> tuple[str, str]:
    """(reachability, version) of one cluster; snapshots report their recorded version."""
    if entry.snapshot is not None:
        from fleetcheck.registry.cluster_file import read_cluster_file

        meta = read_cluster_file(Path(entry.snapshot))
        version = (
            meta.server_version
            if isinstance(meta.server_version, str)
            else ((meta.server_version or {}).get("gitVersion", "?"))
        )
        if meta.server_version is None:
            version = _recorded_version(Path(entry.snapshot))
        return "snapshot", str(version or "?")
    from fleetcheck.errors import ConfigError
    from fleetcheck.state.live import LiveClusterState, LiveOptions

    if entry.credentials_error is not None:
        return f"error: {entry.credentials_error}", "-"
    try:
        merged = entry.merged_kubeconfig()
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


#: a serverversion.json larger than this is not a /version object
_VERSION_FILE_BYTES = 64 * 1024


def _recorded_version(root: Path) -> str | None:
    """The gitVersion in a snapshot's ``serverversion.json`` (sonobuoy, or ``kubectl version -o json``), if any."""
    import json

    path = root / "serverversion.json"
    try:
        if not path.is_file() or path.stat().st_size > _VERSION_FILE_BYTES:
            return None
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(doc, dict) and isinstance(doc.get("serverVersion"), dict):
        doc = doc["serverVersion"]
    version = doc.get("gitVersion") if isinstance(doc, dict) else None
    return redact(str(version))[:64] if isinstance(version, str) and version else None


def print_clusters(
    fleet_file: str | None,
    snapshots: list[str],
    profile: str | None,
    *,
    timeout: float,
    export_kubeconfig: Path | None = None,
    check_access: bool = False,
    output_format: str = "table",
) -> int:
    """Print one line per cluster: name, source, profile, server, reachability, version; then the notes.

    With ``export_kubeconfig``, also write a kubeconfig with one context per
    cluster (mode 0600): the only way credentials read from a source reach a disk.
    ``output_format="json"`` prints the clusters as one JSON array instead.
    """
    fleet = load_fleet(
        fleet_file, snapshots=list(snapshots) or None, profile=profile, management_reader=open_management_reader
    )
    with ThreadPoolExecutor(max_workers=8) as pool:
        probes = list(pool.map(lambda e: probe_cluster(e, timeout), fleet.clusters))
    rows = [
        (entry.name, redact(entry.source), entry.profile, version, status, redact(entry.server or entry.snapshot or ""))
        for entry, (status, version) in zip(fleet.clusters, probes, strict=True)
    ]
    if output_format == "json":
        import orjson

        keys = ("name", "source", "profile", "version", "status", "server")
        payload = [
            dict(zip(keys, row, strict=True)) | {"notes": entry.notes}
            for row, entry in zip(rows, fleet.clusters, strict=True)
        ]
        print(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode())
        return 0
    from fleetcheck.reports.terminal import render_table, stdout_width

    print(render_table(("NAME", "SOURCE", "PROFILE", "VERSION", "STATUS", "SERVER"), rows, width=stdout_width()))
    noted = [entry for entry in fleet.clusters if entry.notes]
    if noted:
        print("\nnotes:")
        for entry in noted:
            for note in entry.notes:
                print(f"  {entry.name}: {note}")
    print(f"\n{len(fleet.clusters)} clusters from {fleet.source}")
    denied = print_access(fleet.clusters, timeout) if check_access else False
    if export_kubeconfig is not None:
        from fleetcheck.registry.sources.credentials import export_kubeconfig as build_export
        from fleetcheck.registry.sources.credentials import write_kubeconfig_export

        document, skipped = build_export(fleet.clusters)
        write_kubeconfig_export(export_kubeconfig, document)
        print(f"kubeconfig with {len(document['contexts'])} contexts written to {export_kubeconfig} (mode 0600)")
        if skipped:
            names = ", ".join(name for name, _reason in skipped)
            print(f"not exported (no usable credentials, or a snapshot; see STATUS): {names}")
    return 1 if denied else 0


# -- clusters --check-access --------------------------------------------------------------------


@dataclass(frozen=True)
class KindAccess:
    """Whether the scan's credentials can list one kind: ``ok``, ``absent`` (not served), ``denied``, ``error``."""

    kind: str
    verdict: str
    reason: str = ""


def _trial_list(state: LiveClusterState, ref: ResourceRef) -> KindAccess:
    """One ``GET <list path>?limit=1`` through the live state's own request path (timeouts, TLS, wording).

    A 403 is ``denied``, never "nothing there": the scan would error on
    every check reading the kind. Discovery (``/apis``) is read the way the
    scan reads it, so a CRD kind that is not installed is ``absent``.
    """
    try:
        resolved = state._resolve(ref)
        if resolved is None:
            return KindAccess(ref.key, "absent")
        group, version = resolved
        path = f"/api/{version}/{ref.plural}" if not group else f"/apis/{group}/{version}/{ref.plural}"
        response = state._get(path, [("limit", 1)], ref)
        if response.status == 404:
            return KindAccess(ref.key, "absent")
        state._raise_for_status(response, ref)
    except ClusterUnreachable:
        raise
    except KindUnavailable as exc:
        if exc.status == 401:  # the credentials, not this kind: say it once for the cluster
            raise ClusterUnreachable(state.name, ref, exc.reason, exc.status) from None
        return KindAccess(ref.key, "denied" if exc.status == 403 else "error", exc.reason)
    return KindAccess(ref.key, "ok")


def check_access(entry: ClusterEntry, kinds: list[ResourceRef], timeout: float) -> list[KindAccess] | str:
    """Per kind, whether ``entry``'s credentials can list it; a string when the cluster cannot be asked at all.

    GET only, one object per kind: no SelfSubjectAccessReview (a create)
    and no full list, so it is cheap on a 5,000-pod cluster and needs
    exactly the RBAC the scan needs.
    """
    if entry.snapshot is not None:
        return "snapshot: nothing to check"
    if entry.credentials_error is not None:
        return f"error: {entry.credentials_error}"
    from fleetcheck.errors import ConfigError
    from fleetcheck.state.live import LiveClusterState, LiveOptions

    try:
        merged = entry.merged_kubeconfig()
        state = LiveClusterState(
            entry.name,
            merged,
            entry.context or entry.name,
            LiveOptions(connect_timeout=timeout, read_timeout=timeout, attempts=1),
        )
    except ConfigError as exc:
        return f"error: {exc.problem}"
    try:
        return [_trial_list(state, kind) for kind in kinds]
    except ClusterUnreachable as exc:
        return f"unreachable: {exc.reason}"
    finally:
        state.close()


def print_access(clusters: tuple[ClusterEntry, ...], timeout: float) -> bool:
    """Print, per cluster, the kinds its enabled checks read that it cannot list; True when any cannot."""
    from fleetcheck.catalog import load_catalog
    from fleetcheck.core.kinds import parse_kind
    from fleetcheck.registry.profile import load_profile

    catalog = load_catalog()
    wanted: list[list[ResourceRef]] = []
    for entry in clusters:
        profile = load_profile(entry.profile)
        specs = [spec for code, spec in catalog.checks.items() if profile.selects(code)]
        refs = {ref.key: ref for ref in (parse_kind(kind) for spec in specs for kind in spec.reads)}
        wanted.append([refs[key] for key in catalog.kinds_read(spec.code for spec in specs)])
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(check_access, clusters, wanted, [timeout] * len(clusters)))
    print("\naccess (GET ?limit=1 per kind the enabled checks read):")
    denied = False
    for entry, kinds, answer in zip(clusters, wanted, answers, strict=True):
        if isinstance(answer, str):
            denied = denied or not answer.startswith("snapshot")
            print(f"  {entry.name}: {answer}")
            continue
        blocked = [a for a in answer if a.verdict in ("denied", "error")]
        absent = sum(1 for a in answer if a.verdict == "absent")
        note = f" ({absent} not installed)" if absent else ""
        if not blocked:
            print(f"  {entry.name}: can list all {len(kinds)} kinds{note}")
            continue
        denied = True
        print(f"  {entry.name}: cannot list {len(blocked)} of {len(kinds)} kinds{note}:")
        for access in blocked:
            print(f"    {access.kind}: {access.reason}")
    return denied
