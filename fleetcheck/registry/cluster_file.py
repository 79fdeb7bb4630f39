"""``cluster.yaml``, the file a snapshot folder describes itself with, and the bounded reader of capture files.

The registry reads ``cluster.yaml`` to name and label a snapshot's cluster
(its fleet entry) before any state is loaded, and the snapshot loader
(:mod:`fleetcheck.state.snapshot`) reads it again for the capture's kinds and
version; both use this one model and reader, which is why it lives in the
registry, the lower layer. :func:`decode_documents` is the one bounded
decoder of kubectl output (JSON or multi-document YAML) that both use.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from fleetcheck.core.kinds import kind_key
from fleetcheck.errors import ConfigError
from fleetcheck.registry.declared import DeclaredFacts, labels_to_str
from fleetcheck.registry.yamlfile import AliasBombError, config_error_from_validation, expanded_node_count

__all__ = ["ClusterFile", "decode_documents", "read_cluster_file"]

_MAX_FILE_BYTES = 2 * 1024**3

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
        if isinstance(value, dict) and ("serverVersion" in value or "clientVersion" in value):
            # ``kubectl version -o yaml`` pasted whole: its serverVersion is the cluster's
            value = value.get("serverVersion")
            if not isinstance(value, dict):
                raise ValueError("is kubectl version output without a serverVersion (kubectl reached no server)")
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


def decode_documents(path: Path, loader: type[_Loader] = _Loader) -> list[Any]:
    """Every top-level document in a file (JSON, or YAML with ``---`` separators), bounded.

    Used for ``cluster.yaml`` here and for every object file of a snapshot
    (:mod:`fleetcheck.state.snapshot`): size, encoding, nesting depth and
    alias expansion are checked before anything is built.
    """
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


def read_cluster_file(root: Path) -> ClusterFile:
    """The folder's ``cluster.yaml`` (all fields empty when there is none)."""
    for name in ("cluster.yaml", "cluster.yml"):
        path = root / name
        if not path.is_file():
            continue
        docs = decode_documents(path, _ClusterFileLoader)
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
