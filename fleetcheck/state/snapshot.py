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
from collections.abc import Callable, Iterator
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
from fleetcheck.registry.fleet import DeclaredFacts, labels_to_str
from fleetcheck.registry.yamlfile import AliasBombError, config_error_from_validation, expanded_node_count
from fleetcheck.state.snapshot_coverage import apply_declared_kinds, apply_layout, kind_key
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

#: kubectl never writes YAML aliases; this many extra nodes from expanding them, summed over the documents
#: of one file, is an alias bomb (a budget per document let a file of many small bombs cost minutes)
_MAX_ALIAS_EXPANSION = 1_000_000

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[valid-type,misc]  # CSafeLoader when libyaml is there
    """The fast safe loader, refusing alias bombs and self-referencing aliases before they are walked.

    One loader reads one file (``yaml.load_all``), so the alias budget it keeps is the file's.
    """

    _alias_nodes = 0

    def construct_document(self, node: Any) -> Any:
        expanded, distinct = expanded_node_count(node)
        self._alias_nodes += expanded - distinct
        if self._alias_nodes > _MAX_ALIAS_EXPANSION:
            raise AliasBombError(
                f"aliases expand its documents by {self._alias_nodes} nodes, over the file's budget of "
                f"{_MAX_ALIAS_EXPANSION} (an alias bomb?)"
            )
        return super().construct_document(node)


def _text_when_invalid(
    construct: Callable[[yaml.constructor.SafeConstructor, yaml.ScalarNode], Any],
) -> Callable[[yaml.constructor.SafeConstructor, yaml.ScalarNode], Any]:
    """A YAML constructor that keeps the scalar's text when it is no value (``2026-02-31``, a 5,000-digit int).

    For ``cluster.yaml``: the model then rejects the text naming the field, where the constructor's
    ``ValueError`` could name neither the field nor the line.
    """

    def construct_or_text(loader: yaml.constructor.SafeConstructor, node: yaml.ScalarNode) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, OverflowError):
            return str(node.value)

    return construct_or_text


class _ClusterFileLoader(_Loader):
    """``cluster.yaml``'s loader: impossible dates and over-long numbers stay text for the model to reject."""


for _tag, _construct in (
    ("tag:yaml.org,2002:timestamp", yaml.constructor.SafeConstructor.construct_yaml_timestamp),
    ("tag:yaml.org,2002:int", yaml.constructor.SafeConstructor.construct_yaml_int),
    ("tag:yaml.org,2002:float", yaml.constructor.SafeConstructor.construct_yaml_float),
):
    _ClusterFileLoader.add_constructor(_tag, _text_when_invalid(_construct))


#: ``v1.31.4``, ``v1.31``, ``v1.21.14-eks-18ef993``, ``v1.27.3+k3s1`` (the ``v`` may be left out)
_SERVER_VERSION = re.compile(r"^v?\d{1,4}\.\d{1,4}(?:\.\d{1,6})?(?:[-+.][0-9A-Za-z.+_-]{0,100})?$")
_VERSION_PART = re.compile(r"^\d{1,4}\+?$")
_MAX_LISTED_KINDS = 2000
_MAX_LABEL_CHARS = 1000
_MAX_REASON_CHARS = 2000


class ClusterFile(BaseModel):
    """``cluster.yaml`` in a snapshot folder."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str | None = Field(default=None, min_length=1, max_length=253)
    captured: datetime | None = None
    server_version: str | dict[str, Any] | None = Field(default=None, alias="serverVersion")
    labels: dict[str, str] = Field(default_factory=dict, max_length=200)
    #: kinds the capture listed (each with its file; one with no file was found not served)
    kinds: list[str] = Field(default_factory=list, max_length=_MAX_LISTED_KINDS)
    #: kinds the capture could not read, with the reason
    unreadable: dict[str, str] = Field(default_factory=dict, max_length=_MAX_LISTED_KINDS)
    #: the capture was accepted incomplete (``fleetcheck snapshot --allow-partial``)
    partial: bool = False
    #: facts the API cannot show (a managed control plane's OIDC issuer ...); a fleet file's entry wins per key
    facts: DeclaredFacts = Field(default_factory=DeclaredFacts)

    #: as in the fleet file: ``expires: 2027-01-01`` and ``tier: 1`` are labels, not type errors
    _coerce_labels = field_validator("labels", mode="before")(labels_to_str)

    @field_validator("captured", mode="before")
    @classmethod
    def _a_time_not_a_number(cls, value: Any) -> Any:
        """A bare number would pass as seconds since 1970: nobody means that in ``captured``."""
        if isinstance(value, bool | int | float):
            raise ValueError("must be a time such as 2026-11-24T10:00:00Z, not a number")
        return value

    @field_validator("labels")
    @classmethod
    def _labels_are_bounded(cls, value: dict[str, str]) -> dict[str, str]:
        """Labels name clusters in every report: a 5,000-character value is a mistake, not a name."""
        for key, text in value.items():
            if len(key) > _MAX_LABEL_CHARS or len(text) > _MAX_LABEL_CHARS:
                raise ValueError(f"label {key[:60]!r} is over {_MAX_LABEL_CHARS} characters")
        return value

    @field_validator("server_version", mode="before")
    @classmethod
    def _text_or_version_object(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, str | dict):
            raise ValueError(f"must be a version such as v1.31.4 or a /version object, got {type(value).__name__}")
        return value

    @field_validator("server_version")
    @classmethod
    def _looks_like_a_kubernetes_version(cls, value: str | dict[str, Any] | None) -> str | dict[str, Any] | None:
        """``serverVersion: banana`` would make every version check judge nonsense."""
        if isinstance(value, str):
            if not _SERVER_VERSION.match(value.strip()):
                raise ValueError("must look like a Kubernetes version, vMAJOR.MINOR[.PATCH] such as v1.31.4")
        elif isinstance(value, dict):
            git = value.get("gitVersion")
            major, minor = value.get("major"), value.get("minor")
            parts_ok = isinstance(major, str) and isinstance(minor, str)
            parts_ok = parts_ok and bool(_VERSION_PART.match(str(major)) and _VERSION_PART.match(str(minor)))
            git_ok = isinstance(git, str) and bool(_SERVER_VERSION.match(git.strip()))
            if not (parts_ok or git_ok) or (git is not None and not git_ok) or len(value) > 50:
                raise ValueError(
                    "must be a /version object with gitVersion like v1.31.4 (or major and minor as strings)"
                )
        return value

    @field_validator("kinds")
    @classmethod
    def _kinds_are_resources(cls, value: list[str]) -> list[str]:
        for index, spec in enumerate(value):
            _check_kind(spec, f"[{index}]")
        return value

    @field_validator("unreadable")
    @classmethod
    def _unreadable_kinds_are_resources(cls, value: dict[str, str]) -> dict[str, str]:
        for spec, reason in value.items():
            _check_kind(spec, f" {spec[:60]!r}")
            if len(reason) > _MAX_REASON_CHARS:
                raise ValueError(f"the reason for {spec[:60]!r} is over {_MAX_REASON_CHARS} characters")
        return value


def _check_kind(spec: str, where: str) -> None:
    try:
        kind_key(spec)
    except ValueError:
        raise ValueError(
            f"entry{where} names no resource: write it as kubectl does (pods, daemonsets.apps, schedules.velero.io)"
        ) from None


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


def _decode(path: Path, loader: type[_Loader] = _Loader) -> list[Any]:
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
        return [doc for doc in yaml.load_all(raw, Loader=loader) if doc is not None]
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
    except (ValueError, OverflowError) as exc:  # YAML constructors: a 5,000-digit int, 2026-02-31 ...
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ConfigError(
            path, "", f"invalid value: {first[:120]}", "quote the value or re-capture it with kubectl"
        ) from None


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


def read_cluster_file(root: Path) -> ClusterFile:
    """The folder's ``cluster.yaml`` (all fields empty when there is none)."""
    for name in ("cluster.yaml", "cluster.yml"):
        path = root / name
        if not path.is_file():
            continue
        docs = _decode(path, _ClusterFileLoader)
        data = docs[0] if docs else {}
        if not isinstance(data, dict):
            raise ConfigError(path, "", "must be a mapping", "see the snapshot contract in the README")
        try:
            return ClusterFile.model_validate(data)
        except ValidationError as exc:
            raise config_error_from_validation(path, exc, _fix_for(exc)) from None
    return ClusterFile()


_FIELD_FIXES = {
    "captured": "write the capture time as 2026-11-24T10:00:00Z",
    "serverVersion": "write the API server's version as v1.31.4 (kubectl version -o yaml: serverVersion)",
    "labels": "write labels as a mapping of names to text, e.g. {env: prod, tier: prod}",
    "kinds": "list the kinds captured as kubectl names them, e.g. [pods, daemonsets.apps]",
    "unreadable": "map each kind not captured to the reason, e.g. {pods: '403 Forbidden'}",
    "name": "give the cluster a name of 1 to 253 characters",
    "partial": "write partial: true or partial: false",
    "facts": "declare facts as in a fleet file's cluster entry, e.g. {oidc_issuer: https://idp.example.com}",
}


def _fix_for(exc: ValidationError) -> str:
    """The fix for the first error's field (every field its own), else the list of allowed fields."""
    loc = exc.errors()[0].get("loc", ())
    top = str(loc[0]) if loc else ""
    if exc.errors()[0].get("type") != "extra_forbidden" and top in _FIELD_FIXES:
        return _FIELD_FIXES[top]
    return "allowed fields: name, captured, serverVersion, labels, kinds, unreadable, partial"


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
    snap = Snapshot(name=meta.name or root.resolve().name, path=root, labels=dict(meta.labels))
    seen: dict[str, dict[tuple[str, str], int]] = {}
    skipped_untyped = 0
    not_objects: list[str] = []
    for file in _walk_files(root):
        file_ref = _ref_from_filename(file)
        docs = _decode(file)
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
        shown = ", ".join(not_objects[:5]) + (f" and {len(not_objects) - 5} more" if len(not_objects) > 5 else "")
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
