"""Builders of real-shaped Kubernetes objects, snapshot folders, kubeconfigs and profiles for the tests.

Objects look like what ``kubectl get KIND -A -o yaml|json`` prints (apiVersion,
kind, metadata with namespace/uid/creationTimestamp, spec, status), so the
loader and the checks see what they see on a real cluster.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import yaml

Obj = dict[str, Any]

#: the source checkout (``checks/``, ``profiles/``); ``REPO.parent / "shared"`` holds the team's docs and corpus
REPO = Path(__file__).resolve().parent.parent

CREATED = "2026-11-01T09:00:00Z"


def _meta(name: str, namespace: str | None = None, **extra: Any) -> Obj:
    meta: Obj = {
        "name": name,
        "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{namespace}/{name}")),
        "resourceVersion": "4711",
        "creationTimestamp": CREATED,
    }
    if namespace is not None:
        meta["namespace"] = namespace
    meta.update(extra)
    return meta


def namespace(name: str, *, phase: str = "Active", labels: dict[str, str] | None = None) -> Obj:
    """A Namespace as the API returns it."""
    meta = _meta(name, labels={"kubernetes.io/metadata.name": name, **(labels or {})})
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": meta,
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": phase},
    }


def resource_quota(
    ns: str,
    name: str,
    hard: dict[str, str],
    used: dict[str, str] | None = None,
    *,
    scopes: list[str] | None = None,
    status_hard: dict[str, str] | None = None,
) -> Obj:
    """A ResourceQuota with ``spec.hard`` and, when ``used`` is given, ``status.hard``/``status.used``."""
    spec: Obj = {"hard": dict(hard)}
    if scopes:
        spec["scopes"] = list(scopes)
    quota: Obj = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": _meta(name, ns), "spec": spec}
    if used is not None:
        quota["status"] = {"hard": dict(status_hard if status_hard is not None else hard), "used": dict(used)}
    return quota


def limit_range(ns: str, name: str, limits: list[Obj]) -> Obj:
    """A LimitRange with ``spec.limits``."""
    return {"apiVersion": "v1", "kind": "LimitRange", "metadata": _meta(name, ns), "spec": {"limits": limits}}


def container_defaults(cpu: str = "500m", memory: str = "512Mi") -> Obj:
    """A ``type: Container`` LimitRange entry with ``default`` and ``defaultRequest``."""
    return {
        "type": "Container",
        "default": {"cpu": cpu, "memory": memory},
        "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
    }


def pod_limits(cpu: str = "2", memory: str = "4Gi") -> Obj:
    """A ``type: Pod`` LimitRange entry (a max; it gives containers no defaults)."""
    return {"type": "Pod", "max": {"cpu": cpu, "memory": memory}}


def pod(ns: str, name: str, *, image: str = "registry.example.com/app:1.0", node: str = "node-1") -> Obj:
    """A running Pod."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _meta(name, ns, labels={"app": name}),
        "spec": {"nodeName": node, "containers": [{"name": "app", "image": image}]},
        "status": {"phase": "Running", "startTime": "2026-11-01T09:00:05Z"},
    }


def node(name: str, *, heartbeat: str = "2026-11-24T09:59:40Z") -> Obj:
    """A Ready node."""
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": _meta(name, labels={"kubernetes.io/hostname": name}),
        "status": {
            "conditions": [
                {"type": "Ready", "status": "True", "lastHeartbeatTime": heartbeat, "reason": "KubeletReady"}
            ],
            "nodeInfo": {"kubeletVersion": "v1.31.4"},
        },
    }


def daemonset(ns: str, name: str, *, api_version: str = "apps/v1") -> Obj:
    """A DaemonSet (``extensions/v1beta1`` for old clusters)."""
    return {
        "apiVersion": api_version,
        "kind": "DaemonSet",
        "metadata": _meta(name, ns),
        "spec": {"template": {"spec": {"containers": [{"name": name, "image": f"quay.io/{name}:v1"}]}}},
        "status": {"desiredNumberScheduled": 3, "numberReady": 3},
    }


def crd(group: str, plural: str, kind: str, *, version: str = "v1", namespaced: bool = True) -> Obj:
    """A CustomResourceDefinition."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": _meta(f"{plural}.{group}"),
        "spec": {
            "group": group,
            "names": {"plural": plural, "kind": kind, "singular": kind.lower()},
            "scope": "Namespaced" if namespaced else "Cluster",
            "versions": [{"name": version, "served": True, "storage": True}],
        },
    }


def k8s_list(items: list[Obj]) -> Obj:
    """What ``kubectl get KIND -A -o json`` prints."""
    return {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items}


def write_json(path: Path, data: Any) -> Path:
    """Write ``data`` as JSON, creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path


def write_yaml(path: Path, data: Any) -> Path:
    """Write ``data`` as one YAML document, creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def write_empty_lists(folder: Path, objects: list[Obj]) -> None:
    """An empty ``kubectl get KIND -A -o json`` List for each kind a capture of a real cluster would hold.

    Every built-in kind fleetcheck knows (Secrets aside), the CRDs, and the kinds of the CRDs among
    ``objects``, unless ``objects`` has some of that kind: a snapshot holds only the kinds it has files
    for, so a test meaning "none of these" writes the empty List, as ``fleetcheck snapshot`` does.
    """
    from fleetcheck.core.kinds import KNOWN_KINDS, canonical_key, is_builtin, ref_for_object

    refs = [ref_for_object(str(o.get("apiVersion", "v1")), str(o["kind"])) for o in objects if "kind" in o]
    present = {canonical_key(r.group, r.plural) for r in refs}
    wanted = [(r.group, r.version, r.plural) for r in KNOWN_KINDS if is_builtin(r) and r.plural != "secrets"]
    for obj in objects:
        if obj.get("kind") == "CustomResourceDefinition":
            spec = obj.get("spec") or {}
            versions = [v.get("name") for v in spec.get("versions") or [] if isinstance(v, dict)] or ["v1"]
            wanted.append((spec["group"], str(versions[0]), spec["names"]["plural"]))
    for group, version, plural in wanted:
        if canonical_key(group, plural) not in present:
            write_json(folder / f"{group or 'core'}_{version}_{plural}.json", k8s_list([]))


def write_snapshot(
    folder: Path,
    objects: list[Obj],
    *,
    name: str | None = None,
    captured: str | None = "2026-11-24T10:00:00Z",
    server_version: str | None = "v1.31.4",
    labels: dict[str, str] | None = None,
    complete: bool = True,
) -> Path:
    """A snapshot folder: one ``kubectl get -o json`` List per kind, plus ``cluster.yaml``.

    ``complete`` adds an empty List for every other kind a real capture holds (:func:`write_empty_lists`);
    without it the snapshot holds only the kinds of ``objects``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    by_kind: dict[str, list[Obj]] = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"].lower(), []).append(obj)
    for kind, items in by_kind.items():
        write_json(folder / f"{kind}.json", k8s_list(items))
    if complete:
        write_empty_lists(folder, objects)
    meta: Obj = {}
    if name is not None:
        meta["name"] = name
    if captured is not None:
        meta["captured"] = captured
    if server_version is not None:
        meta["serverVersion"] = server_version
    if labels:
        meta["labels"] = labels
    if meta:
        write_yaml(folder / "cluster.yaml", meta)
    return folder


def kubeconfig(
    contexts: dict[str, str],
    clusters: dict[str, Obj],
    *,
    current: str | None = None,
    users: dict[str, Obj] | None = None,
) -> Obj:
    """A kubeconfig: ``contexts`` maps context name -> cluster name; ``clusters`` name -> cluster fields."""
    user_map = users if users is not None else {"admin": {"token": "not-a-secret"}}
    user_name = next(iter(user_map))
    doc: Obj = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": n, "cluster": fields} for n, fields in clusters.items()],
        "users": [{"name": n, "user": fields} for n, fields in user_map.items()],
        "contexts": [{"name": c, "context": {"cluster": cl, "user": user_name}} for c, cl in contexts.items()],
    }
    if current is not None:
        doc["current-context"] = current
    return doc


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """A billion-laughs YAML document: ``width ** levels`` strings from a few hundred bytes."""
    lines = ["a0: &a0 [" + ", ".join(['"lol"'] * width) + "]"]
    for level in range(1, levels + 1):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"
