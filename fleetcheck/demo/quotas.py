"""ResourceQuotas and LimitRanges: one of each in every namespace people deploy to.

Drawn after all pods exist, so each quota's ``status.used`` is the real sum
of its namespace's pod requests and limits (LimitRange defaults filling
gaps, as admission would) and ``hard`` sits comfortably above it (at most
70% used). FC-QUOTA-003's plant then only has to lower one ``hard``.
"""

from __future__ import annotations

import math

from fleetcheck.core.quantity import parse_quantity
from fleetcheck.demo.build import DAY, ClusterBuild, Obj

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_REQUESTS",
    "QUOTA_NAME",
    "add_quotas",
    "format_cpu",
    "format_memory",
    "parse_cpu",
    "parse_memory",
]

QUOTA_NAME = "compute"
LIMIT_RANGE_NAME = "container-defaults"
DEFAULT_LIMITS = {"cpu": "500m", "memory": "512Mi"}
DEFAULT_REQUESTS = {"cpu": "100m", "memory": "128Mi"}


def parse_cpu(quantity: str) -> int:
    """Millicores of a CPU quantity (``250m``, ``2``)."""
    return math.ceil(parse_quantity(quantity) * 1000)


def parse_memory(quantity: str) -> int:
    """Whole MiB of a memory quantity (``128Mi``, ``2Gi``), rounded up."""
    return math.ceil(parse_quantity(quantity) / 2**20)


def format_cpu(millicores: int) -> str:
    """``2500m`` -> ``"2500m"``, ``3000`` -> ``"3"`` (as the API server prints used quantities)."""
    return str(millicores // 1000) if millicores % 1000 == 0 else f"{millicores}m"


def format_memory(mib: int) -> str:
    """``3072`` -> ``"3Gi"``, ``2560`` -> ``"2560Mi"``."""
    if mib == 0:
        return "0"
    return f"{mib // 1024}Gi" if mib % 1024 == 0 else f"{mib}Mi"


def _usage(pods: list[Obj]) -> dict[str, int]:
    used = {"limits.cpu": 0, "limits.memory": 0, "pods": len(pods), "requests.cpu": 0, "requests.memory": 0}
    for pod in pods:
        for spec in pod["spec"]["containers"]:
            resources = spec.get("resources") or {}
            requests = resources.get("requests") or {}
            limits = resources.get("limits") or {}
            used["requests.cpu"] += parse_cpu(requests.get("cpu", limits.get("cpu", DEFAULT_REQUESTS["cpu"])))
            used["requests.memory"] += parse_memory(
                requests.get("memory", limits.get("memory", DEFAULT_REQUESTS["memory"]))
            )
            used["limits.cpu"] += parse_cpu(limits.get("cpu", DEFAULT_LIMITS["cpu"]))
            used["limits.memory"] += parse_memory(limits.get("memory", DEFAULT_LIMITS["memory"]))
    return used


def _hard(build: ClusterBuild, used: dict[str, int]) -> dict[str, int]:
    """Limits with headroom: used / hard is at most 0.7 for every resource, rounded up to whole units."""
    hard: dict[str, int] = {}
    for resource, value in used.items():
        share = build.rng.uniform(0.3, 0.7)
        wanted = value / share
        if resource.endswith("cpu"):
            hard[resource] = max(4000, math.ceil(wanted / 1000) * 1000)
        elif resource.endswith("memory"):
            hard[resource] = max(8192, math.ceil(wanted / 1024) * 1024)
        else:
            hard[resource] = max(20, math.ceil(wanted / 10) * 10)
    return hard


def quota_quantities(values: dict[str, int]) -> dict[str, str]:
    """Render millicores / MiB / counts the way the API server prints a quota."""
    rendered = {}
    for resource, value in sorted(values.items()):
        if resource.endswith("cpu"):
            rendered[resource] = format_cpu(value)
        elif resource.endswith("memory"):
            rendered[resource] = format_memory(value)
        else:
            rendered[resource] = str(value)
    return rendered


def add_quotas(build: ClusterBuild) -> None:
    """A ``compute`` ResourceQuota and a ``container-defaults`` LimitRange in every non-``kube-*`` namespace."""
    by_namespace: dict[str, list[Obj]] = {}
    for pod in build.items("pods"):
        by_namespace.setdefault(pod["metadata"]["namespace"], []).append(pod)
    for namespace in build.items("namespaces"):
        name = namespace["metadata"]["name"]
        if name.startswith("kube-"):
            continue
        age = build.rng.uniform(20, 200) * DAY
        used = _usage(by_namespace.get(name, []))
        hard = quota_quantities(_hard(build, used))
        build.add(
            {
                "apiVersion": "v1",
                "kind": "ResourceQuota",
                "metadata": build.metadata(QUOTA_NAME, name, age=age),
                "spec": {"hard": hard},
                "status": {"hard": dict(hard), "used": quota_quantities(used)},
            }
        )
        build.add(
            {
                "apiVersion": "v1",
                "kind": "LimitRange",
                "metadata": build.metadata(LIMIT_RANGE_NAME, name, age=age),
                "spec": {
                    "limits": [
                        {
                            "default": dict(DEFAULT_LIMITS),
                            "defaultRequest": dict(DEFAULT_REQUESTS),
                            "max": {"cpu": "8", "memory": "16Gi"},
                            "type": "Container",
                        }
                    ]
                },
            }
        )
