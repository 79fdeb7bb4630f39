"""``meta.k8s.io`` Table responses, the format ``kubectl get`` asks for.

kubectl sends ``Accept: application/json;as=Table;v=v1;g=meta.k8s.io,...``
and prints the server's columns. This module renders the columns kube-apiserver
prints for pods, nodes and namespaces, and Name + Age for every other kind.
Each row's static cells and its ``PartialObjectMetadata`` are worked out once
per object (on first use, from the rendered bytes); only the Age cell depends
on the request's time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from .pages import KindPages, render_json

__all__ = ["TableRenderer", "human_duration", "wanted_table_version"]

Obj = dict[str, Any]

_NAME_DOC = (
    "Name must be unique within a namespace. Is required when creating resources, although some resources "
    "may allow a client to request the generation of an appropriate name automatically."
)
_AGE_DOC = (
    "CreationTimestamp is a timestamp representing the server time when this object was created. It is not "
    "guaranteed to be set in happens-before order across separate operations."
)


def _column(name: str, description: str, kind: str = "string", fmt: str = "", priority: int = 0) -> Obj:
    return {"name": name, "type": kind, "format": fmt, "description": description, "priority": priority}


def human_duration(seconds: float) -> str:
    """An age as kubectl's ``duration.HumanDuration`` prints it: ``45s``, ``3m20s``, ``5h``, ``3d4h``."""
    total = int(seconds)
    if total < -1:
        return "<invalid>"
    if total < 0:
        return "0s"
    if total < 120:
        return f"{total}s"
    minutes = total // 60
    if minutes < 10:
        rest = total % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = total // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


def _pod_status(obj: Obj) -> str:
    """The STATUS column, following kubectl's ``printPod`` for the common cases."""
    status = obj.get("status") or {}
    reason = str(status.get("reason") or status.get("phase") or "Unknown")
    init_statuses = status.get("initContainerStatuses") or []
    initializing = False
    for i, container in enumerate(init_statuses):
        state = container.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated and terminated.get("exitCode") == 0:
            continue
        initializing = True
        if terminated:
            reason = "Init:" + str(terminated.get("reason") or f"ExitCode:{terminated.get('exitCode')}")
        elif waiting and waiting.get("reason") and waiting.get("reason") != "PodInitializing":
            reason = "Init:" + str(waiting["reason"])
        else:
            spec_init = (obj.get("spec") or {}).get("initContainers") or []
            reason = f"Init:{i}/{len(spec_init)}"
        break
    if not initializing:
        running = False
        for container in reversed(status.get("containerStatuses") or []):
            state = container.get("state") or {}
            waiting, terminated = state.get("waiting"), state.get("terminated")
            if waiting and waiting.get("reason"):
                reason = str(waiting["reason"])
            elif terminated:
                reason = str(terminated.get("reason") or f"ExitCode:{terminated.get('exitCode')}")
            elif container.get("ready") and state.get("running") is not None:
                running = True
        if reason == "Completed" and running:
            reason = "Running"
    if (obj.get("metadata") or {}).get("deletionTimestamp"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    return reason


def _pod_cells(obj: Obj) -> list[Any]:
    status = obj.get("status") or {}
    statuses = status.get("containerStatuses") or []
    total = len((obj.get("spec") or {}).get("containers") or []) or len(statuses)
    ready = sum(1 for c in statuses if c.get("ready"))
    restarts = sum(int(c.get("restartCount") or 0) for c in statuses)
    return [
        obj["metadata"].get("name", ""),
        f"{ready}/{total}",
        _pod_status(obj),
        restarts,
        None,
        status.get("podIP") or "<none>",
        (obj.get("spec") or {}).get("nodeName") or "<none>",
    ]


def _node_cells(obj: Obj) -> list[Any]:
    conditions = (obj.get("status") or {}).get("conditions") or []
    ready = next((c.get("status") for c in conditions if c.get("type") == "Ready"), None)
    state = {"True": "Ready", "False": "NotReady"}.get(str(ready), "Unknown")
    if (obj.get("spec") or {}).get("unschedulable"):
        state += ",SchedulingDisabled"
    labels: Mapping[str, str] = obj["metadata"].get("labels") or {}
    roles = sorted(
        {key.split("/", 1)[1] for key in labels if key.startswith("node-role.kubernetes.io/")}
        | ({labels["kubernetes.io/role"]} if labels.get("kubernetes.io/role") else set())
    )
    version = ((obj.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion", "")
    return [obj["metadata"].get("name", ""), state, ",".join(r for r in roles if r) or "<none>", None, version]


def _namespace_cells(obj: Obj) -> list[Any]:
    return [obj["metadata"].get("name", ""), (obj.get("status") or {}).get("phase", ""), None]


def _generic_cells(obj: Obj) -> list[Any]:
    return [obj["metadata"].get("name", ""), None]


@dataclass(frozen=True)
class _Layout:
    columns: bytes
    cells: Callable[[Obj], list[Any]]
    #: which cell is Age (filled per request; ``None`` in the static cells)
    age_index: int


def _layout(columns: list[Obj], cells: Callable[[Obj], list[Any]]) -> _Layout:
    age_index = next(i for i, column in enumerate(columns) if column["name"] == "Age")
    return _Layout(render_json(columns), cells, age_index)


_AGE = _column("Age", _AGE_DOC)
_LAYOUTS: dict[str, _Layout] = {
    "pods": _layout(
        [
            _column("Name", _NAME_DOC, fmt="name"),
            _column("Ready", "The aggregate readiness state of this pod for accepting traffic."),
            _column("Status", "The aggregate status of the containers in this pod."),
            _column("Restarts", "The number of times the containers in this pod have been restarted.", "integer"),
            _AGE,
            _column("IP", "IP address allocated to the pod. Routable at least within the cluster.", priority=1),
            _column("Node", "NodeName is a request to schedule this pod onto a specific node.", priority=1),
        ],
        _pod_cells,
    ),
    "nodes": _layout(
        [
            _column("Name", _NAME_DOC, fmt="name"),
            _column("Status", "The status of the node"),
            _column("Roles", "The roles of the node"),
            _AGE,
            _column("Version", "Kubelet Version reported by the node."),
        ],
        _node_cells,
    ),
    "namespaces": _layout(
        [
            _column("Name", _NAME_DOC, fmt="name"),
            _column("Status", "The status of the namespace"),
            _AGE,
        ],
        _namespace_cells,
    ),
}
_GENERIC = _layout([_column("Name", _NAME_DOC, fmt="name"), _AGE], _generic_cells)


_TABLE_VERSIONS = ("v1", "v1beta1")


def wanted_table_version(accept: str) -> str | None:
    """``v1``/``v1beta1`` when the Accept header's first usable type is a meta.k8s.io Table, else None."""
    for media_range in accept.split(","):
        parts = [part.strip() for part in media_range.split(";")]
        media_type = parts[0].lower()
        params = dict(part.split("=", 1) for part in parts[1:] if "=" in part)
        if media_type not in ("application/json", "*/*", "application/*"):
            continue
        if "as" not in params:
            return None
        if params.get("as") == "Table" and params.get("g") == "meta.k8s.io" and params.get("v") in _TABLE_VERSIONS:
            return params["v"]
    return None


@dataclass(frozen=True)
class _Row:
    cells: list[Any]
    created: float | None
    metadata: bytes


class TableRenderer:
    """Renders Table bodies for one cluster, remembering each object's row parts."""

    def __init__(self) -> None:
        self._rows: dict[tuple[int, int], _Row] = {}

    def _row(self, pages: KindPages, index: int, layout: _Layout) -> _Row:
        key = (id(pages), index)
        row = self._rows.get(key)
        if row is None:
            obj = orjson.loads(pages.bodies[index])
            metadata = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
            obj["metadata"] = metadata
            created: float | None = None
            stamp = metadata.get("creationTimestamp")
            if isinstance(stamp, str):
                try:
                    created = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
                except ValueError:
                    created = None
            partial = render_json(
                {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": metadata,
                }
            )
            row = self._rows[key] = _Row(layout.cells(obj), created, partial)
        return row

    def render(
        self,
        pages: KindPages,
        indices: Sequence[int],
        *,
        now: float,
        metadata: bytes,
        api_version: str = "v1",
        include_object: str = "Metadata",
    ) -> bytes:
        """A Table of ``indices`` of ``pages``; ``now`` (epoch seconds) is the server's clock for Age."""
        layout = _LAYOUTS.get(pages.ref.key, _GENERIC)
        rows: list[bytes] = []
        for index in indices:
            row = self._row(pages, index, layout)
            cells = list(row.cells)
            cells[layout.age_index] = human_duration(now - row.created) if row.created is not None else "<unknown>"
            rendered = b'{"cells":' + render_json(cells)
            if include_object == "Object":
                rendered += b',"object":' + pages.bodies[index]
            elif include_object != "None":
                rendered += b',"object":' + row.metadata
            rows.append(rendered + b"}")
        return b"".join(
            (
                b'{"kind":"Table","apiVersion":"meta.k8s.io/',
                api_version.encode(),
                b'","metadata":',
                metadata,
                b',"columnDefinitions":',
                layout.columns,
                b',"rows":[',
                b",".join(rows),
                b"]}",
            )
        )
