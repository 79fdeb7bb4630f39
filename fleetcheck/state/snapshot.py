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

import orjson
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from fleetcheck.errors import ConfigError
from fleetcheck.kinds import (
    KNOWN_KINDS,
    ResourceRef,
    canonical_key,
    guess_plural,
    is_builtin,
    parse_kind,
    ref_for_object,
)
from fleetcheck.registry.fleet import labels_to_str
from fleetcheck.registry.yamlfile import AliasBombError, config_error_from_validation, expanded_node_count
from fleetcheck.state.snapshot_model import Snapshot

__all__ = ["ClusterFile", "load_snapshot", "parse_timestamp", "read_cluster_file"]

_SUFFIXES = {".json", ".yaml", ".yml"}
_SKIP_NAMES = {"cluster.yaml", "cluster.yml", "serverversion.json", "planted.json"}
_SKIP_DIRS = {"meta", "plugins", "podlogs", "hosts"}
#: sonobuoy's ``group_version_plural.json`` (``core`` for the legacy group)
_SONOBUOY_NAME = re.compile(r"^(?P<group>[a-z0-9.-]+)_(?P<version>v[0-9a-z]+)_(?P<plural>[a-z0-9]+)$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$")
_MAX_FILE_BYTES = 2 * 1024**3
#: parts of field names whose timestamps lie ahead of the capture (expiration, notAfter, renewalTime, ...)
_FUTURE_KEYS = ("expir", "notafter", "renewal", "validuntil", "deadline")

#: kubectl never writes YAML aliases; this many extra nodes from expanding them is an alias bomb
_MAX_ALIAS_EXPANSION = 1_000_000

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[valid-type,misc]  # CSafeLoader when libyaml is there
    """The fast safe loader, refusing alias bombs and self-referencing aliases before they are walked."""

    def construct_document(self, node: Any) -> Any:
        expanded, distinct = expanded_node_count(node)
        if expanded > distinct + _MAX_ALIAS_EXPANSION:
            raise AliasBombError(f"aliases expand it to {expanded} nodes (an alias bomb?)")
        return super().construct_document(node)


class ClusterFile(BaseModel):
    """``cluster.yaml`` in a snapshot folder."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str | None = None
    captured: datetime | None = None
    server_version: str | dict[str, Any] | None = Field(default=None, alias="serverVersion")
    labels: dict[str, str] = Field(default_factory=dict)

    #: as in the fleet file: ``expires: 2027-01-01`` and ``tier: 1`` are labels, not type errors
    _coerce_labels = field_validator("labels", mode="before")(labels_to_str)


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


_MAX_YAML_DEPTH = 1000
_FLOW_BRACKETS = re.compile(rb"[\[\]{}]")


def _yaml_nesting_bound(raw: bytes) -> int:
    """An upper bound on a YAML text's nesting: the peak of open flow brackets, or the deepest indentation.

    Cheap (one regex pass and one pass over line starts) next to the parse it guards.
    """
    depth = peak = 0
    for match in _FLOW_BRACKETS.finditer(raw):
        depth += 1 if match.group() in (b"[", b"{") else -1
        peak = max(peak, depth)
        if peak > _MAX_YAML_DEPTH:
            return peak
    indent = max((len(line) - len(line.lstrip(b" -?:")) for line in raw.splitlines()), default=0)
    return max(peak, indent)


def _decode(path: Path) -> list[Any]:
    """Every top-level document in a file (JSON, or YAML with ``---`` separators)."""
    size = path.stat().st_size
    if size > _MAX_FILE_BYTES:
        raise ConfigError(path, "", f"file is {size} bytes, over the 2 GiB limit", "split it per kind")
    raw = path.read_bytes()
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            path, "", f"not UTF-8 text (byte {exc.start})", "write kubectl output as UTF-8 JSON or YAML"
        ) from None
    if path.suffix == ".json":
        try:
            return [orjson.loads(raw)]
        except orjson.JSONDecodeError as exc:
            raise ConfigError(
                path, "", f"invalid JSON: {exc}", "re-capture the file with 'kubectl get KIND -A -o json'"
            ) from None
    try:
        if _yaml_nesting_bound(raw) > _MAX_YAML_DEPTH:
            # libyaml's composer recurses in C: a document nested ~50k deep would crash the process
            raise ConfigError(
                path, "", f"YAML nested more than {_MAX_YAML_DEPTH} levels deep", "this is not kubectl output"
            )
        return [doc for doc in yaml.load_all(raw, Loader=_Loader) if doc is not None]
    except AliasBombError as exc:
        raise ConfigError(
            path, exc.where, f"refused: {exc.problem}", "this is not kubectl output; re-capture it"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(
            path,
            "",
            f"invalid YAML{where}: {getattr(exc, 'problem', exc)}",
            "re-capture the file with 'kubectl get KIND -A -o yaml'",
        ) from None
    except RecursionError:
        raise ConfigError(path, "", "YAML nested too deeply", "this is not kubectl output") from None


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


def read_cluster_file(root: Path) -> ClusterFile:
    """The folder's ``cluster.yaml`` (all fields empty when there is none)."""
    for name in ("cluster.yaml", "cluster.yml"):
        path = root / name
        if not path.is_file():
            continue
        docs = _decode(path)
        data = docs[0] if docs else {}
        if not isinstance(data, dict):
            raise ConfigError(path, "", "must be a mapping", "see the snapshot contract in the README")
        try:
            return ClusterFile.model_validate(data)
        except ValidationError as exc:
            raise config_error_from_validation(
                path, exc, "allowed fields: name, captured, serverVersion, labels"
            ) from None
    return ClusterFile()


def _server_version(root: Path, declared: str | dict[str, Any] | None) -> dict[str, Any] | None:
    if isinstance(declared, dict):
        return declared
    if isinstance(declared, str):
        text = declared.lstrip("v")
        parts = text.split(".")
        return {"major": parts[0], "minor": parts[1] if len(parts) > 1 else "0", "gitVersion": "v" + text}
    path = root / "serverversion.json"
    if path.is_file():
        doc = _decode(path)[0]
        if isinstance(doc, dict):
            return doc
    return None


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


def load_snapshot(path: str | Path) -> Snapshot:
    """Read one snapshot folder into a :class:`Snapshot`.

    Raises :class:`ConfigError` naming the file when a file is not valid
    kubectl output (truncated, not UTF-8, nested too deeply).
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
    snap = Snapshot(name=meta.name or root.resolve().name, path=root, labels=dict(meta.labels))
    seen: dict[str, dict[tuple[str, str], int]] = {}
    skipped_untyped = 0
    for file in _walk_files(root):
        file_ref = _ref_from_filename(file)
        docs = _decode(file)
        snap.files_read.append(str(file.relative_to(root)))
        for doc in docs:
            if file_ref is not None and _is_empty_list(doc):
                # "kubectl get KIND -A" with no objects: the kind is served, with zero objects
                key = canonical_key(file_ref.group, file_ref.plural)
                snap.refs.setdefault(key, file_ref)
                snap.objects.setdefault(key, [])
                seen.setdefault(key, {})
            for obj in _items(doc):
                if not isinstance(obj, dict) or not isinstance(obj.get("metadata"), dict):
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
                ident = (str(obj["metadata"].get("namespace", "")), str(obj["metadata"].get("name", "")))
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
    _use_crd_plurals(snap)
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
