"""Slim projections: what a scan keeps in memory of each listed object.

A scan holds every listed object of every cluster until its checks have
run; at fleet scale the Pods dominate (a 5,000-pod cluster is about 19 MB
of JSON, and several times that as Python objects). A projection keeps
only what checks read:

- every kind: ``metadata.managedFields`` entries keep ``manager``,
  ``operation``, ``apiVersion``, ``subresource`` and ``time`` and lose
  ``fieldsV1`` (the bulk; no check reads it). FC-GITOPS-001 reads the
  managers (:mod:`fleetcheck.facts.ownership`).
- Pods (:data:`POD_FIELDS`): ``apiVersion``, ``kind``, all of
  ``metadata`` (as above), ``spec.nodeName``, the ``name``, ``image``,
  ``command``, ``args`` and ``volumeMounts`` of containers, init and
  ephemeral containers, the ``name``, ``persistentVolumeClaim`` and
  ``hostPath`` of volumes, and ``status.phase``. Who reads them: the image checks (containers' images,
  owner references; :mod:`fleetcheck.facts.workloads`), FC-GITOPS-001 (labels,
  annotations, owners, managers; :mod:`fleetcheck.facts.ownership`), the OIDC
  checks (the kube-apiserver static pod's command, args and node;
  :mod:`fleetcheck.facts.apiserver`), FC-PV-001 (file-system backup
  annotations and PVC volumes), FC-PV-002 (hostPath volumes and their
  mounts) and FC-COST-001 (namespace and phase).

``tests/state/test_projection.py`` runs every built-in check on the demo
fleet with recording objects and fails when a check reads a Pod field the
projection drops, and checks that verdicts are the same with and without
it. A check pack that reads other Pod fields runs with ``--full-objects``
(which turns projections off). Snapshots written by ``fleetcheck snapshot``
are never projected.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

__all__ = ["KEEP", "POD_FIELDS", "Fields", "project", "project_items", "projected_kinds"]

Obj = dict[str, Any]

#: Keep this field and everything under it.
KEEP: Final = True
#: A projection: field name -> KEEP, a nested projection (for an object), or a one-element list holding the
#: projection of each element (for a list of objects).
Fields = dict[str, Any]

_MANAGED_FIELD_KEYS: Final = ("manager", "operation", "apiVersion", "subresource", "time")

_CONTAINER: Final[Fields] = {"name": KEEP, "image": KEEP, "command": KEEP, "args": KEEP, "volumeMounts": KEEP}

#: What a scan keeps of a Pod (``metadata`` is kept whole but for managedFields' ``fieldsV1``).
POD_FIELDS: Final[Fields] = {
    "apiVersion": KEEP,
    "kind": KEEP,
    "metadata": KEEP,
    "spec": {
        "nodeName": KEEP,
        "containers": [_CONTAINER],
        "initContainers": [_CONTAINER],
        "ephemeralContainers": [_CONTAINER],
        "volumes": [{"name": KEEP, "persistentVolumeClaim": KEEP, "hostPath": KEEP}],
    },
    "status": {"phase": KEEP},
}

_BY_KEY: Final[dict[str, Fields]] = {"pods": POD_FIELDS}


def projected_kinds() -> dict[str, Fields]:
    """Kinds (ResourceRef keys) with a field projection beyond the managedFields trim, and their projections."""
    return dict(_BY_KEY)


def _slim_metadata(meta: Obj) -> Obj:
    managed = meta.get("managedFields")
    if not isinstance(managed, list) or not managed:
        return meta
    slim = dict(meta)
    slim["managedFields"] = [
        {k: entry[k] for k in _MANAGED_FIELD_KEYS if k in entry} if isinstance(entry, dict) else entry
        for entry in managed
    ]
    return slim


Projector = Callable[[Any], Any]


def _compile(fields: Any) -> Projector | None:
    """A function applying ``fields`` to a value (None: keep the value as it is), built once per projection."""
    if fields is KEEP:
        return None
    if isinstance(fields, list):
        inner = _compile(fields[0])
        if inner is None:
            return None
        element: Projector = inner

        def each(value: Any) -> Any:
            return [element(v) for v in value] if isinstance(value, list) else value

        return each
    picks = [(key, _compile(sub)) for key, sub in fields.items()]

    def pick(value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out = {}
        for key, sub in picks:
            if key in value:
                out[key] = value[key] if sub is None else sub(value[key])
        return out

    return pick


_COMPILED: dict[int, tuple[Fields, Projector | None]] = {}


def _projector(fields: Fields) -> Projector | None:
    cached = _COMPILED.get(id(fields))
    if cached is None or cached[0] is not fields:
        cached = _COMPILED[id(fields)] = (fields, _compile(fields))
    return cached[1]


def project(obj: Obj, fields: Fields | None) -> Obj:
    """``obj`` with only ``fields`` (None: every field) and managedFields trimmed; the input is not changed."""
    if not isinstance(obj, dict):
        return obj
    projector = None if fields is None else _projector(fields)
    slim = obj if projector is None else projector(obj)
    meta = slim.get("metadata")
    if isinstance(meta, dict) and meta.get("managedFields"):
        if slim is obj:
            slim = dict(obj)
        slim["metadata"] = _slim_metadata(meta)
    return slim


def project_items(key: str, items: list[Obj]) -> list[Obj]:
    """The projection of one kind's items (``key`` as :attr:`fleetcheck.core.kinds.ResourceRef.key`)."""
    fields = _BY_KEY.get(key)
    if fields is None:
        # only managedFields to trim: leave objects without them untouched (no copy)
        return [project(obj, None) if _has_managed_fields(obj) else obj for obj in items]
    return [project(obj, fields) for obj in items]


def _has_managed_fields(obj: Any) -> bool:
    if not isinstance(obj, dict):
        return False
    meta = obj.get("metadata")
    return isinstance(meta, dict) and bool(meta.get("managedFields"))
