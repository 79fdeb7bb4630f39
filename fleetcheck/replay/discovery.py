"""Discovery documents (``/version``, ``/api``, ``/apis`` ...) for one replayed cluster.

Rendered once per cluster, complete enough for the strict models of the
``kubernetes`` 37 client (``/api`` needs ``serverAddressByClientCIDRs``,
``/version`` every field, each resource ``singularName``, ``verbs``,
``namespaced`` and ``kind``) and for kubectl's RESTMapper.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fleetcheck.core.kinds import ResourceRef

from .pages import ClusterPages, render_json

__all__ = ["DiscoveryDocs", "build_discovery"]

#: What the replay server allows on every resource: it is read-only, and never watches.
VERBS = ("get", "list")


@dataclass(frozen=True)
class DiscoveryDocs:
    """Pre-rendered discovery bodies of one cluster."""

    version: bytes
    api: bytes
    apis: bytes
    #: ``/apis/{group}``
    groups: dict[str, bytes]
    #: ``/api/v1`` under ``("", "v1")``, ``/apis/{group}/{version}`` under ``(group, version)``
    resource_lists: dict[tuple[str, str], bytes]
    root: bytes


def _resource_entry(ref: ResourceRef) -> dict[str, Any]:
    return {
        "name": ref.plural,
        "singularName": ref.kind.lower(),
        "namespaced": ref.namespaced,
        "kind": ref.kind,
        "verbs": list(VERBS),
        "shortNames": list(ref.short_names),
    }


def _group_version(group: str, version: str) -> dict[str, str]:
    return {"groupVersion": f"{group}/{version}", "version": version}


def build_discovery(pages: ClusterPages, server_address: str) -> DiscoveryDocs:
    """Discovery for ``pages``, naming ``server_address`` (``127.0.0.1:PORT``) as the endpoint."""
    group_versions = pages.group_versions()
    by_group_version: dict[tuple[str, str], list[ResourceRef]] = {}
    for ref in sorted(pages.resources(), key=lambda r: r.plural):
        by_group_version.setdefault((ref.group, ref.version), []).append(ref)

    resource_lists = {
        (group, version): render_json(
            {
                "kind": "APIResourceList",
                "apiVersion": "v1",
                "groupVersion": f"{group}/{version}" if group else version,
                "resources": [_resource_entry(ref) for ref in refs],
            }
        )
        for (group, version), refs in by_group_version.items()
    }
    group_objects = {
        group: {
            "name": group,
            "versions": [_group_version(group, v) for v in versions],
            "preferredVersion": _group_version(group, versions[0]),
        }
        for group, versions in sorted(group_versions.items())
        if group
    }
    groups = {
        group: render_json({"kind": "APIGroup", "apiVersion": "v1", **body}) for group, body in group_objects.items()
    }
    core_versions = group_versions.get("", ["v1"])
    paths = ["/api", *(f"/api/{v}" for v in core_versions), "/apis", "/healthz", "/livez", "/readyz", "/version"]
    for group, versions in group_versions.items():
        if group:
            paths.append(f"/apis/{group}")
            paths.extend(f"/apis/{group}/{v}" for v in versions)
    return DiscoveryDocs(
        version=render_json(pages.server_version),
        api=render_json(
            {
                "kind": "APIVersions",
                "versions": core_versions,
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
            }
        ),
        apis=render_json({"kind": "APIGroupList", "apiVersion": "v1", "groups": list(group_objects.values())}),
        groups=groups,
        resource_lists=resource_lists,
        root=render_json({"paths": sorted(paths)}),
    )
