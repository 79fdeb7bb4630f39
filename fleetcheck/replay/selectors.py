"""Label and field selectors, parsed and matched the way kube-apiserver does.

Only what a list request can carry: ``labelSelector`` with ``=``, ``==``,
``!=``, ``in``, ``notin``, existence (``key``) and absence (``!key``), all
ANDed; ``fieldSelector`` with ``=``, ``==``, ``!=`` on the fields the real
server indexes for that kind. A selector the real server would reject is
rejected here too (:class:`SelectorError`, answered as 400 BadRequest), so
code that passes against the replay server does not fail against a cluster.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FieldRequirement",
    "LabelRequirement",
    "SelectorError",
    "field_value",
    "parse_field_selector",
    "parse_label_selector",
    "supported_fields",
]


class SelectorError(ValueError):
    """A selector the API server would answer with 400 BadRequest."""


# Label keys: optional DNS-subdomain prefix, then a name of up to 63 characters.
_KEY = re.compile(r"^(?:[a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_VALUE = re.compile(r"^(?:[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_SET_EXPR = re.compile(r"^(?P<key>\S+)\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)$")
_BINARY = re.compile(r"^(?P<key>[^=!\s]+)\s*(?P<op>==|=|!=)\s*(?P<value>[^=!\s]*)$")


@dataclass(frozen=True)
class LabelRequirement:
    """One ANDed term of a label selector."""

    key: str
    op: str  # "in", "notin", "exists", "!"
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` satisfy this term (``!=`` and ``notin`` match a missing key)."""
        if self.op == "exists":
            return self.key in labels
        if self.op == "!":
            return self.key not in labels
        if self.op == "in":
            return labels.get(self.key) in self.values
        value = labels.get(self.key)
        return value is None or value not in self.values


def _split_terms(text: str) -> list[str]:
    """Split on commas that are not inside ``( ... )``."""
    terms: list[str] = []
    depth = 0
    current: list[str] = []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise SelectorError(f"unbalanced parentheses in selector {text!r}")
        if char == "," and depth == 0:
            terms.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if depth != 0:
        raise SelectorError(f"unbalanced parentheses in selector {text!r}")
    terms.append("".join(current).strip())
    return terms


def _check_key(key: str, text: str) -> str:
    if not _KEY.match(key):
        raise SelectorError(f"invalid label key {key!r} in selector {text!r}")
    return key


def _check_value(value: str, text: str) -> str:
    if not _VALUE.match(value) or len(value) > 63:
        raise SelectorError(f"invalid label value {value!r} in selector {text!r}")
    return value


def parse_label_selector(text: str) -> tuple[LabelRequirement, ...]:
    """Parse ``app=web,tier in (a,b),!legacy``; an empty string selects everything."""
    if not text.strip():
        return ()
    requirements: list[LabelRequirement] = []
    for term in _split_terms(text):
        if not term:
            raise SelectorError(f"empty term in label selector {text!r}")
        set_match = _SET_EXPR.match(term)
        if set_match:
            values = [v.strip() for v in set_match["values"].split(",")]
            if set_match["op"] == "in" and values == [""]:
                raise SelectorError(f"'in' needs at least one value in selector {text!r}")
            checked = frozenset(_check_value(v, text) for v in values)
            requirements.append(LabelRequirement(_check_key(set_match["key"], text), set_match["op"], checked))
        elif term.startswith("!"):
            requirements.append(LabelRequirement(_check_key(term[1:].strip(), text), "!"))
        elif any(op in term for op in ("=", "!")):
            binary = _BINARY.match(term)
            if not binary:
                raise SelectorError(f"cannot parse label selector term {term!r}")
            op = "notin" if binary["op"] == "!=" else "in"
            value = _check_value(binary["value"], text)
            requirements.append(LabelRequirement(_check_key(binary["key"], text), op, frozenset({value})))
        else:
            requirements.append(LabelRequirement(_check_key(term, text), "exists"))
    return tuple(requirements)


@dataclass(frozen=True)
class FieldRequirement:
    """One ANDed term of a field selector: ``field`` equals (or not) ``value``."""

    field: str
    value: str
    negate: bool = False

    def matches(self, actual: str) -> bool:
        """Whether the object's value for :attr:`field` satisfies the term."""
        return (actual == self.value) != self.negate


# The fields kube-apiserver accepts in a fieldSelector, per resource (besides
# metadata.name and metadata.namespace, which every resource accepts).
_EXTRA_FIELDS: dict[str, frozenset[str]] = {
    "pods": frozenset(
        {
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        }
    ),
    "events": frozenset(
        {
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        }
    ),
    "secrets": frozenset({"type"}),
    "nodes": frozenset({"spec.unschedulable"}),
    "namespaces": frozenset({"status.phase"}),
    "replicasets.apps": frozenset({"status.replicas"}),
    "jobs.batch": frozenset({"status.successful"}),
    "certificatesigningrequests.certificates.k8s.io": frozenset({"spec.signerName"}),
}


def supported_fields(resource_key: str) -> frozenset[str]:
    """Field labels a ``fieldSelector`` may name for the resource ``resource_key``."""
    return frozenset({"metadata.name", "metadata.namespace"}) | _EXTRA_FIELDS.get(resource_key, frozenset())


def parse_field_selector(text: str, resource_key: str) -> tuple[FieldRequirement, ...]:
    """Parse ``metadata.name=x,status.phase!=Running`` for the resource ``resource_key``."""
    if not text.strip():
        return ()
    allowed = supported_fields(resource_key)
    requirements: list[FieldRequirement] = []
    for term in text.split(","):
        term = term.strip()
        for op in ("!=", "==", "="):
            if op in term:
                field_name, value = (part.strip() for part in term.split(op, 1))
                break
        else:
            raise SelectorError(f"invalid field selector term {term!r}: expected field=value or field!=value")
        if field_name not in allowed:
            raise SelectorError(f"field label not supported: {field_name}")
        requirements.append(FieldRequirement(field_name, value, negate=op == "!="))
    return tuple(requirements)


def field_value(obj: Mapping[str, Any], path: str) -> str:
    """The string form of a dotted field of ``obj`` (``""`` when absent), as the server compares it."""
    node: Any = obj
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return ""
        node = node.get(part)
    if node is None:
        return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    if isinstance(node, Mapping):
        # `source` on events is an object; the server compares its component.
        return str(node.get("component", ""))
    return str(node)
