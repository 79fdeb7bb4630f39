"""Cluster-wide RBAC reduced to what it grants, so clusters can be compared object by object (FC-RBAC-001).

Two clusters "have the same RBAC" when the same ClusterRoles grant the same
permissions and the same ClusterRoleBindings give the same roles to the
same subjects. Everything else is noise that would make every cluster look
different from every other:

- **bootstrap objects**: anything named ``system:*`` or labelled
  ``kubernetes.io/bootstrapping=rbac-defaults`` is reconciled by the API
  server itself at start-up and changes with the Kubernetes minor, not with
  anybody's decision; installer objects (``kubeadm:*``, ``eks:*``, ...) are
  left out by name patterns the caller passes;
- **generated rules**: the rules of a role with an ``aggregationRule`` are
  written by the aggregation controller from whatever roles carry the
  selected labels, so the *selectors* are compared, not the rules (the
  contributing roles are compared on their own, including the
  ``aggregate-to-*`` labels that make them contribute);
- **metadata**: uid, resourceVersion, timestamps, managed fields and
  annotations say nothing about access;
- **shape**: rules are expanded into single permissions (one verb on one
  resource, resource name or URL), so a rule split in two, reordered verbs,
  or resources listed in another order compare equal; subjects are a set.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from fleetcheck.core.refs import name_list

__all__ = [
    "BOOTSTRAP_LABEL",
    "DEFAULT_IGNORED_NAMES",
    "Drift",
    "Permission",
    "RbacInventory",
    "RbacObject",
    "describe_difference",
    "normalize_rbac",
]

Obj = dict[str, Any]
RbacKind = Literal["ClusterRole", "ClusterRoleBinding"]
DriftKind = Literal["missing", "extra", "different", "undecided"]

#: The label kube-apiserver puts on the roles and bindings it reconciles at start-up.
BOOTSTRAP_LABEL: tuple[str, str] = ("kubernetes.io/bootstrapping", "rbac-defaults")
#: Names owned by Kubernetes itself: always left out, whatever the caller passes.
_ALWAYS_IGNORED: tuple[str, ...] = ("system:*",)
#: Installer-owned names left out by default (kubeadm, EKS, GKE write these identically per version).
DEFAULT_IGNORED_NAMES: tuple[str, ...] = ("kubeadm:*", "eks:*", "gce:*")
#: Label keys containing this feed an aggregated role; they are part of what a role grants.
_AGGREGATION_MARK = "aggregate-to-"
#: How many single differences one object's description lists before "and N more".
_DIFF_LIMIT = 8


@dataclass(frozen=True, order=True)
class Permission:
    """One verb on one resource (optionally one named object), or on one non-resource URL."""

    api_group: str
    resource: str
    resource_name: str
    url: str
    verb: str

    @property
    def target(self) -> str:
        """What the verb applies to: ``apps/deployments``, ``core/secrets (app-tls)``, ``url /metrics``."""
        if self.url:
            return f"url {self.url}"
        group = self.api_group or "core"
        named = f" ({self.resource_name})" if self.resource_name else ""
        return f"{group}/{self.resource}{named}"


@dataclass(frozen=True)
class RbacObject:
    """A ClusterRole or ClusterRoleBinding reduced to what it grants (equality means "grants the same")."""

    kind: RbacKind
    name: str
    permissions: frozenset[Permission] = frozenset()
    aggregation: frozenset[str] | None = None
    aggregation_labels: frozenset[str] = frozenset()
    role_ref: str = ""
    subjects: frozenset[str] = frozenset()

    @property
    def ref(self) -> str:
        """``ClusterRole/name``, as findings name cluster-scoped objects."""
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True)
class RbacInventory:
    """One cluster's compared RBAC objects, by ref, and how many objects were left out as bootstrap/installer."""

    objects: Mapping[str, RbacObject] = field(default_factory=dict)
    ignored: int = 0


@dataclass(frozen=True)
class Drift:
    """How one object of a cluster differs from the fleet (``undecided``: the fleet is split evenly)."""

    ref: str
    kind: DriftKind
    detail: str


def _strings(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [str(item) for item in value if item is not None]


def _permissions(rules: Any) -> frozenset[Permission]:
    """Every (group, resource, name, verb) or (URL, verb) the rules grant, as a set."""
    granted: set[Permission] = set()
    for rule in rules if isinstance(rules, list) else []:
        if not isinstance(rule, dict):
            continue
        verbs = _strings(rule.get("verbs"))
        for url in _strings(rule.get("nonResourceURLs")):
            granted.update(Permission("", "", "", url, verb) for verb in verbs)
        resources = _strings(rule.get("resources"))
        groups = _strings(rule.get("apiGroups")) or [""]
        names = _strings(rule.get("resourceNames")) or [""]
        for group in groups:
            for resource in resources:
                for name in names:
                    granted.update(Permission(group, resource, name, "", verb) for verb in verbs)
    return frozenset(granted)


def _selector(selector: Any) -> str:
    """A label selector as one canonical string: ``a=b,c in (d,e),!f``."""
    if not isinstance(selector, dict):
        return ""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        if not isinstance(expression, dict):
            continue
        key, operator = str(expression.get("key", "")), str(expression.get("operator", ""))
        values = ",".join(sorted(_strings(expression.get("values"))))
        if operator == "Exists":
            parts.append(key)
        elif operator == "DoesNotExist":
            parts.append(f"!{key}")
        else:
            parts.append(f"{key} {operator.lower()} ({values})")
    return ",".join(sorted(parts)) or "<everything>"


def _aggregation(role: Obj) -> frozenset[str] | None:
    rule = role.get("aggregationRule")
    if not isinstance(rule, dict):
        return None
    return frozenset(_selector(s) for s in rule.get("clusterRoleSelectors") or [])


def _subject(subject: Any) -> str:
    """``Group/oidc:admins``, ``User/alice``, ``ServiceAccount/velero/velero`` (apiGroup is always rbac's)."""
    if not isinstance(subject, dict):
        return "?"
    kind, name = str(subject.get("kind", "?")), str(subject.get("name", "?"))
    if kind == "ServiceAccount":
        return f"{kind}/{subject.get('namespace') or '?'}/{name}"
    return f"{kind}/{name}"


def _is_ignored(meta: Obj, patterns: Sequence[str]) -> bool:
    labels = meta.get("labels") or {}
    if labels.get(BOOTSTRAP_LABEL[0]) == BOOTSTRAP_LABEL[1]:
        return True
    name = str(meta.get("name", ""))
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in (*_ALWAYS_IGNORED, *patterns))


def normalize_role(role: Obj) -> RbacObject:
    """A ClusterRole as compared: its aggregation selectors when aggregated, else its permissions."""
    meta = role.get("metadata") or {}
    labels = meta.get("labels") or {}
    aggregation = _aggregation(role)
    return RbacObject(
        kind="ClusterRole",
        name=str(meta.get("name", "?")),
        permissions=frozenset() if aggregation is not None else _permissions(role.get("rules")),
        aggregation=aggregation,
        aggregation_labels=frozenset(f"{k}={v}" for k, v in labels.items() if _AGGREGATION_MARK in str(k)),
    )


def normalize_binding(binding: Obj) -> RbacObject:
    """A ClusterRoleBinding as compared: the role it grants and the set of subjects."""
    meta = binding.get("metadata") or {}
    ref = binding.get("roleRef") or {}
    return RbacObject(
        kind="ClusterRoleBinding",
        name=str(meta.get("name", "?")),
        role_ref=f"{ref.get('kind', 'ClusterRole')}/{ref.get('name', '?')}",
        subjects=frozenset(_subject(s) for s in binding.get("subjects") or []),
    )


def normalize_rbac(
    cluster_roles: Iterable[Obj], bindings: Iterable[Obj], ignore_names: Sequence[str] = DEFAULT_IGNORED_NAMES
) -> RbacInventory:
    """The cluster's compared RBAC: bootstrap, ``system:*`` and ``ignore_names`` objects left out."""
    objects: dict[str, RbacObject] = {}
    ignored = 0
    for items, normalize in ((cluster_roles, normalize_role), (bindings, normalize_binding)):
        for obj in items:
            if _is_ignored(obj.get("metadata") or {}, ignore_names):
                ignored += 1
                continue
            normalized = normalize(obj)
            objects[normalized.ref] = normalized
    return RbacInventory(objects, ignored)


def _permission_lines(sign: str, permissions: Iterable[Permission]) -> list[str]:
    """``+ apps/deployments [delete get]``: one line per target, its verbs sorted."""
    verbs: dict[str, set[str]] = {}
    for permission in permissions:
        verbs.setdefault(permission.target, set()).add(permission.verb)
    return [f"{sign} {target} [{' '.join(sorted(v))}]" for target, v in sorted(verbs.items())]


def _set_lines(mine: frozenset[str], standard: frozenset[str]) -> list[str]:
    return [f"+ {item}" for item in sorted(mine - standard)] + [f"- {item}" for item in sorted(standard - mine)]


def describe_difference(mine: RbacObject, standard: RbacObject) -> str:
    """What ``mine`` grants beyond (``+``) and short of (``-``) ``standard``, readable in one line."""
    parts: list[str] = []
    if mine.kind == "ClusterRole":
        if mine.aggregation is not None and standard.aggregation is None:
            parts.append(f"aggregated here (selects {', '.join(sorted(mine.aggregation))}), a plain role on the fleet")
        elif mine.aggregation is None and standard.aggregation is not None:
            parts.append(
                f"a plain role here, aggregated on the fleet (selects {', '.join(sorted(standard.aggregation))})"
            )
        elif (
            mine.aggregation is not None
            and standard.aggregation is not None
            and (mine.aggregation != standard.aggregation)
        ):
            lines = _set_lines(mine.aggregation, standard.aggregation)
            parts.append("aggregationRule differs: " + name_list(lines, _DIFF_LIMIT, sort=False))
        if mine.permissions != standard.permissions:
            lines = _permission_lines("+", mine.permissions - standard.permissions)
            lines += _permission_lines("-", standard.permissions - mine.permissions)
            parts.append("rules differ: " + name_list(lines, _DIFF_LIMIT, sort=False))
        if mine.aggregation_labels != standard.aggregation_labels:
            lines = _set_lines(mine.aggregation_labels, standard.aggregation_labels)
            parts.append("aggregation labels differ: " + name_list(lines, _DIFF_LIMIT, sort=False))
    else:
        if mine.role_ref != standard.role_ref:
            parts.append(f"roleRef is {mine.role_ref}, the fleet's is {standard.role_ref}")
        if mine.subjects != standard.subjects:
            lines = _set_lines(mine.subjects, standard.subjects)
            parts.append("subjects differ: " + name_list(lines, _DIFF_LIMIT, sort=False))
    return "; ".join(parts) or "differs"
