"""Read a user's YAML file and turn pydantic errors into one-line :class:`ConfigError`; parse cluster text bounded.

Shared by the fleet file, profiles and snapshot ``cluster.yaml`` so every
input error reads the same way: ``file: field: problem (fix: ...)``.

:func:`load_cluster_text` is the one parse for YAML or JSON text taken from a
cluster (a ConfigMap value, an OpenTelemetryCollector's ``spec.config``
string, kube-dns JSON, a structured authentication config): any tenant who
can write a ConfigMap controls that text, so it is parsed under a size
budget and an *expanded* node budget (aliases counted as if expanded), and
refused, with the budget named, rather than walked for hours.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from fleetcheck.errors import ConfigError, FleetcheckError

__all__ = [
    "CLUSTER_TEXT_BYTES",
    "CLUSTER_TEXT_NODES",
    "MAX_INPUT_BYTES",
    "AliasBombError",
    "ClusterTextError",
    "ClusterTextInvalid",
    "ClusterTextOverBudget",
    "config_error_from_validation",
    "expanded_node_count",
    "load_cluster_text",
    "read_yaml_mapping",
]

#: A fleet file or profile larger than this is not something a person wrote.
MAX_INPUT_BYTES = 8 * 1024 * 1024
_MAX_NODES = 200_000


class AliasBombError(yaml.YAMLError):
    """A document whose aliases expand it far beyond its size (billion laughs), or refer to themselves."""

    def __init__(self, problem: str, where: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        #: the top-level key or ``line N`` of the offending node
        self.where = where


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _expanded_sizes(root: yaml.Node) -> dict[int, int]:
    """Per distinct node (by id), its node count with every alias below it expanded."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise AliasBombError(
                "a YAML alias refers to its own parent (a recursive structure)", f"line {node.start_mark.line + 1}"
            )
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
    return sizes


def expanded_node_count(root: yaml.Node) -> tuple[int, int]:
    """(nodes once every alias is expanded, distinct nodes) of a composed document.

    Aliases are shared node objects, so the expanded count is computed with
    one memoised walk over the distinct nodes: linear in the file, however
    large the expansion. An alias that refers to its own ancestor (a
    recursive structure) raises :class:`AliasBombError`: nothing fleetcheck
    reads may be infinite.
    """
    sizes = _expanded_sizes(root)
    return sizes[id(root)], len(sizes)


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses alias bombs (billion laughs) by counting nodes as if aliases were expanded."""

    def construct_document(self, node: Any) -> Any:
        sizes = _expanded_sizes(node)
        if sizes[id(node)] > _MAX_NODES:
            where = f"line {node.start_mark.line + 1}"
            if isinstance(node, yaml.MappingNode) and node.value:
                key, _value = max(node.value, key=lambda pair: sizes[id(pair[1])])
                where = str(key.value) if isinstance(key, yaml.ScalarNode) else where
            raise AliasBombError(
                f"expands to {sizes[id(node)]} YAML nodes, over the limit of {_MAX_NODES} (an alias bomb?)", where
            )
        return super().construct_document(node)


def read_yaml_mapping(path: Path, what: str) -> dict[str, Any]:
    """Parse ``path`` as one YAML mapping, or raise a one-line :class:`ConfigError`."""
    if not path.is_file():
        raise ConfigError(path, "", f"{what} not found", f"check the path, or create the {what}")
    size = path.stat().st_size
    if size > MAX_INPUT_BYTES:
        raise ConfigError(path, "", f"{what} is {size} bytes (limit {MAX_INPUT_BYTES})", "split it up")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(path, f"byte {exc.start}", f"{what} is not UTF-8 text", "save it as UTF-8") from None
    try:
        data = yaml.load(text, Loader=_BoundedLoader)
    except AliasBombError as exc:
        raise ConfigError(
            path, exc.where, f"refused: {exc.problem}", "write the values out instead of nesting YAML aliases"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(path, where, f"invalid YAML: {problem}", "fix the YAML syntax") from None
    except RecursionError:
        raise ConfigError(path, "", "YAML nested too deeply", "flatten the file") from None
    except (ValueError, OverflowError) as exc:  # YAML constructors: a 5,000-digit int, 2027-13-45 ...
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(path, "", f"invalid value: {first[:120]}", "fix the value") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(path, "(top)", f"must be a mapping, got {type(data).__name__}", f"see the {what} reference")
    return data


# -- cluster-supplied text ---------------------------------------------------------------------------

#: Bytes of one cluster text parsed at most: etcd refuses objects over 1.5 MiB, so more is not a real config.
CLUSTER_TEXT_BYTES = 4 * 1024 * 1024
#: Nodes of one cluster text, aliases expanded, parsed at most: a large Prometheus config has a few thousand.
CLUSTER_TEXT_NODES = 100_000

_FAST_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ClusterTextError(FleetcheckError):
    """Cluster text that was not parsed: ``what`` names the object and key, ``problem`` says why."""

    def __init__(self, what: str, problem: str) -> None:
        self.what = what
        self.problem = problem
        super().__init__(f"{what}: {problem}")


class ClusterTextInvalid(ClusterTextError):
    """Not valid YAML or JSON (a Helm template, a typo): the program reading it would refuse it too."""


class ClusterTextOverBudget(ClusterTextError):
    """Over a parse budget (size, expanded nodes, nesting, a recursive alias): refused, not parsed.

    Whatever depends on the text cannot be decided from it, so a check that
    needs it gives ``error`` with this message, which names the budget.
    """


class _ClusterTextLoader(_FAST_LOADER):  # type: ignore[valid-type,misc]  # CSafeLoader when libyaml is there
    """The fast safe loader, counting a document's nodes as if its aliases were expanded before building it."""

    node_budget = CLUSTER_TEXT_NODES

    def construct_document(self, node: Any) -> Any:
        expanded, _distinct = expanded_node_count(node)
        if expanded > self.node_budget:
            raise AliasBombError(f"YAML expands to more than {self.node_budget:,} nodes (the parse budget per text)")
        return super().construct_document(node)


def _json_nodes(value: Any) -> Iterator[Any]:
    """Every node of a parsed JSON value, iteratively (JSON shares nothing, so this is its expanded size)."""
    stack = [value]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"not valid YAML{where}: {problem}"


def load_cluster_text(
    text: str,
    *,
    what: str,
    syntax: Literal["yaml", "json"] = "yaml",
    max_bytes: int = CLUSTER_TEXT_BYTES,
    max_nodes: int = CLUSTER_TEXT_NODES,
) -> Any:
    """Parse one YAML (or JSON) text taken from a cluster, within a size and an expanded-node budget.

    ``what`` names the text in errors (``monitoring/ConfigMap/prom (prometheus.yml)``).
    Raises :class:`ClusterTextOverBudget` when the text is larger than
    ``max_bytes``, expands (aliases counted as expanded) to more than
    ``max_nodes`` nodes, nests too deeply, or holds a recursive alias; and
    :class:`ClusterTextInvalid` when it is not valid YAML/JSON. The node
    count is one memoised walk over the distinct nodes, so refusing a
    billion-laughs text costs as much as reading it, not as expanding it.
    """
    size = len(text) if len(text) * 4 <= max_bytes else len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise ClusterTextOverBudget(
            what, f"text is {size:,} bytes, more than the parse budget of {max_bytes:,} bytes; not parsed"
        )
    try:
        if syntax == "json":
            value = json.loads(text)
            for count, _node in enumerate(_json_nodes(value), start=1):
                if count > max_nodes:
                    raise ClusterTextOverBudget(
                        what, f"JSON has more than {max_nodes:,} nodes (the parse budget per text); not parsed"
                    )
            return value
        loader = _ClusterTextLoader(text)
        loader.node_budget = max_nodes
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except AliasBombError as exc:
        raise ClusterTextOverBudget(what, f"{exc.problem}; not parsed") from None
    except RecursionError:
        raise ClusterTextOverBudget(what, "nested too deeply to parse (the parse budget); not parsed") from None
    except yaml.YAMLError as exc:
        raise ClusterTextInvalid(what, _yaml_problem(exc)) from None
    except json.JSONDecodeError as exc:
        raise ClusterTextInvalid(what, f"not valid JSON at line {exc.lineno}: {exc.msg}") from None
    except (ValueError, OverflowError) as exc:  # YAML constructors: a 5,000-digit int, 2027-13-45 ...
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ClusterTextInvalid(what, f"invalid value: {first[:120]}") from None


def config_error_from_validation(path: Path | str, exc: ValidationError, fix: str) -> ConfigError:
    """The first pydantic error as a :class:`ConfigError` naming the dotted field."""
    err = exc.errors()[0]
    loc = err.get("loc", ())
    field = ""
    for part in loc:
        field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
    problem = str(err.get("msg", "invalid value"))
    if err.get("type") == "extra_forbidden":
        problem = "unknown field"
    elif err.get("type") == "missing":
        problem = "required field is missing"
    value = err.get("input")
    if err.get("type") not in {"missing", "extra_forbidden"} and isinstance(value, str | int | float | bool):
        shown = repr(value)
        problem += f" (got {shown[:60]}{'...' if len(shown) > 60 else ''})"
    return ConfigError(path, field or "(top)", problem, fix)
