"""Every container image a cluster runs or will run: Pods and the pod templates of workloads.

Image checks must see what is running (Pods, including init and ephemeral
containers, which a template never shows) and what will run next (the
templates of Deployments, DaemonSets, StatefulSets, ReplicaSets, Jobs and
CronJobs: a scaled-to-zero Deployment still pulls its image on the next
scale-up). Reporting both would name one image three times (Deployment,
ReplicaSet, Pod), so a container is attributed to the highest object that
declares it:

- a Pod (or ReplicaSet, or Job) whose controller owner is listed and whose
  owner's template has the same container with the same image is covered by
  the owner, and not reported again;
- anything else is reported on the object itself: bare Pods, static/mirror
  Pods (owned by a Node), Pods owned by controllers fleetcheck does not list,
  ephemeral containers, and Pods whose image differs from their template
  (mutated by a webhook, or left over from an unfinished rollout);
- a ReplicaSet a Deployment owns with ``replicas: 0`` is revision history,
  not something that runs, and is skipped (a Pod it still owns is reported
  on the Pod).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["WORKLOAD_KINDS", "ContainerImage", "ContainerSection", "container_images"]

Obj = dict[str, Any]
ContainerSection = Literal["containers", "initContainers", "ephemeralContainers"]
_SECTIONS: tuple[ContainerSection, ...] = ("initContainers", "containers", "ephemeralContainers")
_SECTION_WORDS: Mapping[ContainerSection, str] = {
    "containers": "container",
    "initContainers": "init container",
    "ephemeralContainers": "ephemeral container",
}

#: (kind as a check's ``reads=`` names it, Kind) in the order findings are listed.
_KINDS: tuple[tuple[str, str], ...] = (
    ("cronjobs", "CronJob"),
    ("deployments", "Deployment"),
    ("statefulsets", "StatefulSet"),
    ("daemonsets", "DaemonSet"),
    ("jobs", "Job"),
    ("replicasets", "ReplicaSet"),
    ("pods", "Pod"),
)
#: The kinds :func:`container_images` lists; put them in a check's ``reads=``.
WORKLOAD_KINDS: tuple[str, ...] = tuple(kind for kind, _ in _KINDS)


@dataclass(frozen=True)
class ContainerImage:
    """One container of one object, and the image it names (as written)."""

    owner: str
    kind: str
    namespace: str
    name: str
    container: str
    section: ContainerSection
    image: str

    def describe(self) -> str:
        """``container web``, ``init container setup`` or ``ephemeral container debugger``."""
        return f"{_SECTION_WORDS[self.section]} {self.container}"


def _pod_spec(obj: Obj, kind: str) -> Obj:
    spec = obj.get("spec") or {}
    if kind == "Pod":
        return spec if isinstance(spec, dict) else {}
    if kind == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    template = (spec.get("template") or {}).get("spec") if isinstance(spec, dict) else None
    return template if isinstance(template, dict) else {}


def _containers(pod_spec: Obj) -> Iterator[tuple[ContainerSection, str, str]]:
    for section in _SECTIONS:
        for container in pod_spec.get(section) or []:
            if isinstance(container, dict):
                yield section, str(container.get("name", "?")), str(container.get("image") or "")


def _controller(obj: Obj) -> tuple[str, str] | None:
    """(Kind, name) of the object's controller owner, if any."""
    for owner in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if isinstance(owner, dict) and owner.get("controller"):
            return str(owner.get("kind", "")), str(owner.get("name", ""))
    return None


def _namespace(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("namespace", ""))


def _name(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def _is_revision_history(obj: Obj, kind: str) -> bool:
    """A ReplicaSet its Deployment keeps at zero replicas for rollbacks: nothing runs from it."""
    controller = _controller(obj)
    return (
        kind == "ReplicaSet"
        and controller is not None
        and controller[0] == "Deployment"
        and (obj.get("spec") or {}).get("replicas") == 0
    )


def _ref(namespace: str, kind: str, name: str) -> str:
    return f"{namespace}/{kind}/{name}" if namespace else f"{kind}/{name}"


def container_images(list_objects: Callable[[str], list[Obj]]) -> list[ContainerImage]:
    """Every container image of the cluster's Pods and workload templates, each attributed once.

    ``list_objects`` lists one kind by the names in :data:`WORKLOAD_KINDS`
    (``ClusterView.list`` fits). Containers without an image are kept (with
    ``image == ""``) so a check can say so rather than skip them silently.
    """
    listed: dict[str, list[Obj]] = {kind: list_objects(plural) for plural, kind in _KINDS}
    templates: dict[tuple[str, str, str], dict[tuple[ContainerSection, str], str]] = {}
    for kind, objects in listed.items():
        if kind == "Pod":
            continue
        for obj in objects:
            if not _is_revision_history(obj, kind):
                key = (_namespace(obj), kind, _name(obj))
                templates[key] = {(s, c): image for s, c, image in _containers(_pod_spec(obj, kind))}

    found: list[ContainerImage] = []
    for _plural, kind in _KINDS:
        for obj in listed[kind]:
            if _is_revision_history(obj, kind):
                continue
            namespace, name = _namespace(obj), _name(obj)
            controller = _controller(obj)
            owner_template = templates.get((namespace, *controller)) if controller is not None else None
            for section, container, image in _containers(_pod_spec(obj, kind)):
                if owner_template is not None and owner_template.get((section, container)) == image:
                    continue
                found.append(
                    ContainerImage(
                        owner=_ref(namespace, kind, name),
                        kind=kind,
                        namespace=namespace,
                        name=name,
                        container=container,
                        section=section,
                        image=image,
                    )
                )
    return found
