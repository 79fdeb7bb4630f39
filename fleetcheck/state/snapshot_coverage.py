"""Which kinds a snapshot folder holds, beyond the files that hold objects.

"What cannot be seen is unknown, never none" (CHECKS.md, "Snapshot
contract"): a kind with a file, an empty ``List`` included, is held; the
folder's layout and its records add to that:

- a ``kubectl cluster-info dump --output-directory`` tree holds the fixed set
  that command lists (kubectl ``pkg/cmd/clusterinfo/clusterinfo_dump.go``):
  ``nodes`` at the top and, per namespace it dumped, events,
  replicationcontrollers, services, daemonsets, deployments, replicasets and
  pods; it holds them only for the namespaces it dumped (by default
  ``kube-system`` and the context's namespace), which a note says;
- sonobuoy's ``meta/query-time.json`` records every list it made: a query
  without an error holds its kind (sonobuoy writes no file for an empty
  list), a 404 says the server does not serve it, any other error makes it
  unreadable;
- ``cluster.yaml`` ``kinds:`` lists kinds captured and ``unreadable:`` those
  the capture could not read, with the reason (``fleetcheck snapshot`` writes
  both).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from fleetcheck.core.kinds import kind_key
from fleetcheck.core.refs import name_list
from fleetcheck.state.snapshot_model import Snapshot

__all__ = ["CLUSTER_INFO_DUMP_KINDS", "apply_declared_kinds", "apply_layout"]

#: what ``kubectl cluster-info dump`` lists: nodes, then per namespace these seven (by snapshot key)
CLUSTER_INFO_DUMP_NAMESPACED = (
    "events",
    "replicationcontrollers",
    "services",
    "daemonsets.apps",
    "deployments.apps",
    "replicasets.apps",
    "pods",
)
CLUSTER_INFO_DUMP_KINDS = ("nodes", *CLUSTER_INFO_DUMP_NAMESPACED)
_DUMP_FILES = {"events", "replicationcontrollers", "services", "daemonsets", "deployments", "replicasets", "pods"}
_DUMP_SUFFIXES = (".json", ".yaml", ".txt")

_MAX_QUERY_LOG_BYTES = 64 * 1024 * 1024
_MAX_QUERIES = 1_000_000
_MAX_REASON_CHARS = 300


def _dumped_namespaces(root: Path) -> list[str] | None:
    """The namespace folders of a cluster-info dump, or None when ``root`` is not one.

    A dump has ``nodes.<ext>`` at the top and, in each namespace folder, the seven per-namespace files.
    """
    if (root / "resources").is_dir() or not any((root / f"nodes{ext}").is_file() for ext in _DUMP_SUFFIXES):
        return None
    namespaces = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        stems = {f.stem for f in folder.iterdir() if f.is_file() and f.suffix in _DUMP_SUFFIXES}
        if stems >= _DUMP_FILES:
            namespaces.append(folder.name)
    return namespaces or None


def _query_error(entry: dict[str, Any]) -> tuple[int | None, str]:
    """(HTTP code, message) of a failed sonobuoy query."""
    error = entry.get("error")
    status = error.get("ErrStatus") if isinstance(error, dict) else None
    if not isinstance(status, dict):
        return None, str(error)[:_MAX_REASON_CHARS]
    code = status.get("code")
    message = str(status.get("message") or status.get("reason") or "failed")[:_MAX_REASON_CHARS]
    return (code if isinstance(code, int) else None), message


def _apply_sonobuoy_queries(snap: Snapshot, root: Path) -> None:
    """Hold what sonobuoy listed (``meta/query-time.json``); a failed list is unreadable, a 404 not served."""
    log = root / "meta" / "query-time.json"
    if not log.is_file() or log.stat().st_size > _MAX_QUERY_LOG_BYTES:
        return
    try:
        entries = orjson.loads(log.read_bytes())
    except orjson.JSONDecodeError:
        snap.notes.append("meta/query-time.json is not JSON: the snapshot holds only the kinds it has files for")
        return
    if not isinstance(entries, list):
        return
    served: set[str] = set()
    absent: set[str] = set()
    for entry in entries[:_MAX_QUERIES]:
        if not isinstance(entry, dict) or not isinstance(entry.get("queryobj"), str):
            continue
        try:
            key = kind_key(entry["queryobj"])
        except ValueError:
            continue  # PodLogs, serverversion, servergroups: not kinds
        if "error" not in entry:
            served.add(key)
            continue
        code, message = _query_error(entry)
        if code == 404:
            absent.add(key)
        elif key not in snap.unreadable:
            where = f" in namespace {entry['namespace']}" if isinstance(entry.get("namespace"), str) else ""
            snap.unreadable[key] = f"sonobuoy could not list it{where}: {message}"
    for key in served:
        snap.held.setdefault(key, True)
    for key in absent - served:
        snap.held.setdefault(key, False)


def apply_layout(snap: Snapshot, root: Path) -> None:
    """Record what the folder's layout (cluster-info dump, sonobuoy results) says it holds."""
    if (root / "resources").is_dir():
        snap.layout = "sonobuoy"
        _apply_sonobuoy_queries(snap, root)
        return
    namespaces = _dumped_namespaces(root)
    if namespaces is None:
        return
    snap.layout = "cluster-info dump"
    for key in CLUSTER_INFO_DUMP_KINDS:
        snap.held.setdefault(key, True)
    shown = name_list(namespaces, 10, sort=False)
    snap.notes.append(
        f"a kubectl cluster-info dump: it holds nodes and, for the namespaces it dumped ({shown}) only, "
        "events, replicationcontrollers, services, daemonsets, deployments, replicasets and pods"
    )


def apply_declared_kinds(snap: Snapshot, kinds: list[str], unreadable: dict[str, str], partial: bool) -> None:
    """``cluster.yaml``'s ``kinds:`` (held) and ``unreadable:`` (an error when read, with the reason)."""
    for spec in kinds:
        snap.held.setdefault(kind_key(spec), None)
    for spec, reason in unreadable.items():
        key = kind_key(spec)
        snap.unreadable[key] = reason
        if key in snap.objects:
            snap.notes.append(f"{key} has a file but cluster.yaml says it could not be read: the file is ignored")
    snap.partial = partial
    if unreadable:
        shown = name_list(unreadable, 10)
        snap.notes.append(f"an incomplete capture: not read: {shown}")
