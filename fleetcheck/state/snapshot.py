"""Load a snapshot folder: plain kubectl output, cluster-info dumps, sonobuoy results.

A snapshot is whatever a person can make without fleetcheck (CHECKS.md,
"Snapshot contract"): ``kubectl get KIND -A -o json|yaml`` files (a ``List``,
multi-document YAML, a single object or a bare JSON array), the tree
``kubectl cluster-info dump --output-directory`` writes, or sonobuoy's
``resources/cluster/...`` and ``resources/ns/<ns>/...`` layout with
``serverversion.json``. Items that do not say their kind (old sonobuoy files,
cluster-info dumps) take it from the file name (``Pods.json``,
``core_v1_pods.json``, ``extensions_v1beta1_daemonsets.json``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fleetcheck.core.kinds import (
    KNOWN_KINDS,
    ResourceRef,
    canonical_key,
    guess_plural,
    is_builtin,
    parse_kind,
    ref_for_object,
)
from fleetcheck.core.refs import name_list
from fleetcheck.errors import ConfigError
from fleetcheck.registry.cluster_file import ClusterFile, decode_documents, read_cluster_file
from fleetcheck.state.snapshot_coverage import apply_declared_kinds, apply_layout
from fleetcheck.state.snapshot_model import Snapshot

__all__ = ["load_snapshot", "parse_timestamp", "snapshot_name"]

_SUFFIXES = {".json", ".yaml", ".yml"}
_SKIP_NAMES = {"cluster.yaml", "cluster.yml", "serverversion.json", "planted.json"}
_SKIP_DIRS = {"meta", "plugins", "podlogs", "hosts"}
#: sonobuoy's ``group_version_plural.json`` (``core`` for the legacy group)
_SONOBUOY_NAME = re.compile(r"^(?P<group>[a-z0-9.-]+)_(?P<version>v[0-9a-z]+)_(?P<plural>[a-z0-9]+)$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$")
#: parts of field names whose timestamps lie ahead of the capture (expiration, notAfter, renewalTime, ...)
_FUTURE_KEYS = ("expir", "notafter", "renewal", "validuntil", "deadline")


def parse_timestamp(value: str) -> datetime | None:
    """An RFC 3339 ``...Z`` timestamp (Kubernetes Time or MicroTime) as an aware datetime."""
    if not isinstance(value, str) or not _TIMESTAMP.match(value):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _ref_from_filename(path: Path) -> ResourceRef | None:
    """What kind a file holds, judged from its name (for items that do not say)."""
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    match = _SONOBUOY_NAME.match(stem)
    if match:
        group = "" if match["group"] == "core" else match["group"]
        prefix = f"{group}/" if group else ""
        return parse_kind(f"{prefix}{match['version']} {match['plural']}")
    for candidate in (stem.lower(), stem.split(".", 1)[0].lower()):
        try:
            return parse_kind(candidate)
        except ValueError:
            continue
    return None


def _items(doc: Any) -> Iterator[Any]:
    """Objects in one decoded document: a List, a bare array, or a single object."""
    if isinstance(doc, list):
        yield from doc
    elif isinstance(doc, dict):
        kind = doc.get("kind")
        if isinstance(kind, str) and kind.endswith("List") and "items" in doc and doc["items"] is None:
            return  # an empty List written as ``items: null`` (Go's nil slice): no objects, and not an object itself
        if (isinstance(kind, str) and kind.endswith("List") and isinstance(doc.get("items"), list)) or (
            "items" in doc and isinstance(doc.get("items"), list) and "metadata" not in doc
        ):
            yield from doc["items"]
        else:
            yield doc


def _is_list(doc: Any) -> bool:
    """Whether :func:`_items` yields ``doc``'s items rather than ``doc`` itself."""
    if isinstance(doc, list):
        return True
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        return False
    kind = doc.get("kind")
    return (isinstance(kind, str) and kind.endswith("List")) or "metadata" not in doc


def _is_empty_list(doc: Any) -> bool:
    return (isinstance(doc, list) and not doc) or (
        isinstance(doc, dict) and str(doc.get("kind", "")).endswith("List") and doc.get("items") in ([], None)
    )


def _walk_files(root: Path) -> Iterator[Path]:
    """Data files under ``root`` in a stable order, skipping logs and sonobuoy metadata."""
    # sonobuoy's own folders sit at the top of its results, beside resources/; in a cluster-info dump the
    # top-level folders are namespaces, whatever their names
    sonobuoy = (root / "resources").is_dir()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).parts
        if (sonobuoy and len(rel) > 1 and rel[0] in _SKIP_DIRS) or any(part.startswith(".") for part in rel[:-1]):
            continue
        if path.is_file() and path.suffix in _SUFFIXES and path.name not in _SKIP_NAMES:
            yield path


def _points_ahead(key: Any) -> bool:
    """Fields dated in the future (a Velero Backup's ``expiration``, a certificate's ``notAfter``) are no "now"."""
    lowered = str(key).lower()
    return any(word in lowered for word in _FUTURE_KEYS)


def _newest_timestamp(value: Any, newest: datetime | None) -> datetime | None:
    """Walk an object for the latest timestamp string in it (ignoring fields that point into the future)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(v for k, v in item.items() if not _points_ahead(k))
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and len(item) >= 20 and item[4] == "-" and item.endswith("Z"):
            stamp = parse_timestamp(item)
            if stamp is not None and (newest is None or stamp > newest):
                newest = stamp
    return newest


def _server_version(root: Path, declared: str | dict[str, Any] | None) -> dict[str, Any] | None:
    if isinstance(declared, dict):
        return declared
    if isinstance(declared, str):
        text = declared.lstrip("v")
        parts = text.split(".")
        return {"major": parts[0], "minor": parts[1] if len(parts) > 1 else "0", "gitVersion": "v" + text}
    path = root / "serverversion.json"
    if path.is_file():
        return _version_object(decode_documents(path)[0])
    return None


def _version_object(doc: Any) -> dict[str, Any] | None:
    """The ``/version`` object in ``doc``: the object itself, or ``kubectl version -o json``'s ``serverVersion``.

    ``kubectl version -o json`` wraps the server's ``/version`` as
    ``{"clientVersion": {...}, "serverVersion": {...}}``; read whole, it has
    no ``gitVersion`` and the version would be unknown. Output without a
    ``serverVersion`` (kubectl could not reach the server) holds only the
    client's version, which says nothing of the cluster: ``None``.
    """
    if not isinstance(doc, dict):
        return None
    if "serverVersion" in doc or "clientVersion" in doc:
        inner = doc.get("serverVersion")
        return inner if isinstance(inner, dict) else None
    return doc


def _use_crd_plurals(snap: Snapshot) -> None:
    """Re-key custom resources by the plural their CRD declares (``Gateway`` -> ``gateways``, not a guess)."""
    for crd in snap.objects.get("customresourcedefinitions.apiextensions.k8s.io", []):
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        group, kind, plural = spec.get("group"), names.get("kind"), names.get("plural")
        if not (isinstance(group, str) and isinstance(kind, str) and isinstance(plural, str)):
            continue
        guessed, declared = f"{guess_plural(kind)}.{group}", f"{plural}.{group}"
        if guessed == declared or guessed not in snap.objects or declared in snap.objects:
            continue
        snap.objects[declared] = snap.objects.pop(guessed)
        ref = snap.refs.pop(guessed)
        snap.refs[declared] = replace(ref, plural=plural, namespaced=spec.get("scope", "Namespaced") == "Namespaced")


def _where(doc_index: int, doc_count: int, item_index: int | None) -> str:
    """``items[3]``, ``document 2``, ``document 2 items[3]``: where in a file an object sits."""
    doc = f"document {doc_index + 1}" if doc_count > 1 or item_index is None else ""
    item = f"items[{item_index}]" if item_index is not None else ""
    return " ".join(part for part in (doc, item) if part)


def _check_object(obj: Any, file: Path, where: str) -> dict[str, Any] | None:
    """``obj`` when it is shaped like a Kubernetes object; a :class:`ConfigError` naming file and index when not.

    Checks read ``metadata.name`` as text and ``spec``/``status`` as mappings; an object that breaks that
    (a hand-edited or forged file) is refused here, naming where it is, instead of failing deep in a check
    as "internal error: AttributeError". A single document that is no object at all (no ``kind``, no
    ``metadata``) is not kubectl output: the caller skips it with a note. Returns None for that case.
    """
    fix = "re-capture the file with 'kubectl get KIND -A -o yaml'"
    if not isinstance(obj, dict):
        raise ConfigError(file, where, f"not an object but {type(obj).__name__}", fix)
    if "metadata" not in obj and "kind" not in obj and "apiVersion" not in obj:
        return None
    for field in ("apiVersion", "kind"):
        if field in obj and not isinstance(obj[field], str):
            raise ConfigError(file, f"{where}.{field}", f"must be text, got {type(obj[field]).__name__}", fix)
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        problem = "has no metadata" if meta is None else f"metadata must be a mapping, got {type(meta).__name__}"
        raise ConfigError(file, f"{where}.metadata", problem, fix)
    if not isinstance(meta.get("name"), str):
        got = "nothing" if meta.get("name") is None else type(meta.get("name")).__name__
        raise ConfigError(file, f"{where}.metadata.name", f"must be text, got {got}", fix)
    if "namespace" in meta and not isinstance(meta["namespace"], str | None):
        raise ConfigError(file, f"{where}.metadata.namespace", "must be text", fix)
    for field in ("labels", "annotations"):
        value = meta.get(field)
        if value is not None and not (isinstance(value, dict) and all(isinstance(v, str) for v in value.values())):
            raise ConfigError(file, f"{where}.metadata.{field}", "must be a mapping of names to text", fix)
    owners = meta.get("ownerReferences")
    if owners is not None and not (isinstance(owners, list) and all(isinstance(o, dict) for o in owners)):
        raise ConfigError(file, f"{where}.metadata.ownerReferences", "must be a list of mappings", fix)
    for field in ("spec", "status"):
        if obj.get(field) is not None and not isinstance(obj[field], dict):
            raise ConfigError(file, f"{where}.{field}", f"must be a mapping, got {type(obj[field]).__name__}", fix)
    return obj


def _name_of(meta: ClusterFile, root: Path) -> str:
    """The cluster a folder holds: ``cluster.yaml``'s name, else the folder's own name."""
    return meta.name or root.resolve().name


def snapshot_name(path: str | Path) -> str:
    """The name :func:`load_snapshot` gives the folder's cluster, read from ``cluster.yaml`` alone.

    Lets a caller (the replay server) name a fleet of folders without
    parsing any of their objects.
    """
    root = Path(path)
    if not root.is_dir():
        raise ConfigError(root, "", "snapshot folder not found", "pass a folder of kubectl output")
    return _name_of(read_cluster_file(root), root)


def load_snapshot(path: str | Path) -> Snapshot:
    """Read one snapshot folder into a :class:`Snapshot`.

    Raises :class:`ConfigError` naming the file when a file is not valid
    kubectl output (truncated, not UTF-8, nested too deeply), and naming the
    item too when an object in it is malformed.
    """
    root = Path(path)
    if not root.is_dir():
        raise ConfigError(
            root,
            "",
            "snapshot folder not found",
            "pass a folder of kubectl output (see 'fleetcheck snapshot --help')",
        )
    meta = read_cluster_file(root)
    snap = Snapshot(name=_name_of(meta, root), path=root, labels=dict(meta.labels))
    seen: dict[str, dict[tuple[str, str], int]] = {}
    skipped_untyped = 0
    not_objects: list[str] = []
    for file in _walk_files(root):
        file_ref = _ref_from_filename(file)
        docs = decode_documents(file)
        snap.files_read.append(str(file.relative_to(root)))
        for doc_index, doc in enumerate(docs):
            if file_ref is not None and _is_empty_list(doc):
                # "kubectl get KIND -A" with no objects: the kind is served, with zero objects
                key = canonical_key(file_ref.group, file_ref.plural)
                snap.refs.setdefault(key, file_ref)
                snap.objects.setdefault(key, [])
                seen.setdefault(key, {})
            listed = _is_list(doc)
            for item_index, item in enumerate(_items(doc)):
                where = _where(doc_index, len(docs), item_index if listed else None)
                obj = _check_object(item, file, where)
                if obj is None:
                    if listed:
                        raise ConfigError(
                            file, where, "not a Kubernetes object (no kind, no metadata)", "re-capture the file"
                        )
                    not_objects.append(f"{file.relative_to(root)} {where}".strip())
                    continue
                api_version, kind = obj.get("apiVersion"), obj.get("kind")
                if isinstance(api_version, str) and isinstance(kind, str):
                    ref = ref_for_object(api_version, kind)
                elif file_ref is not None:
                    ref = file_ref
                    obj = {"apiVersion": ref.group_version, "kind": ref.kind, **obj}
                else:
                    skipped_untyped += 1
                    continue
                key = canonical_key(ref.group, ref.plural)
                if key not in snap.refs:
                    if ref.key != key or (not is_builtin(ref) and ref not in KNOWN_KINDS):
                        # a custom resource: namespaced is what its objects say
                        ref = replace(ref, namespaced=bool(obj["metadata"].get("namespace")))
                    snap.refs[key] = ref
                    snap.objects[key] = []
                    seen[key] = {}
                ident = (str(obj["metadata"].get("namespace") or ""), str(obj["metadata"]["name"]))
                index = seen[key].get(ident)
                if index is None:
                    seen[key][ident] = len(snap.objects[key])
                    snap.objects[key].append(obj)
                else:
                    snap.objects[key][index] = obj
    if skipped_untyped:
        snap.notes.append(
            f"{skipped_untyped} objects without apiVersion/kind in files whose name names no kind were skipped"
        )
    if not_objects:
        shown = name_list(not_objects, 5, sort=False)
        snap.notes.append(f"skipped, not Kubernetes objects (no kind, no metadata): {shown}")
    _use_crd_plurals(snap)
    apply_layout(snap, root)
    apply_declared_kinds(snap, meta.kinds, meta.unreadable, meta.partial)
    snap.server_version = _server_version(root, meta.server_version)
    if meta.captured is not None:
        captured = meta.captured
        snap.captured = captured if captured.tzinfo else captured.replace(tzinfo=UTC)
        snap.captured_source = "cluster.yaml"
    else:
        newest: datetime | None = None
        for objects in snap.objects.values():
            for obj in objects:
                newest = _newest_timestamp(obj, newest)
        snap.captured = newest
        snap.captured_source = "newest timestamp in the snapshot" if newest else "unknown"
        if newest is not None:
            snap.notes.append(f"capture time not declared; using the newest timestamp seen ({newest.isoformat()})")
    return snap
