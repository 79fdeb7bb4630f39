"""Plain inputs for the verdict functions: a real check declaration, profiles with waivers, records."""

from __future__ import annotations

from datetime import date
from typing import Any

from fleetcheck.catalog import CheckDocs, CheckSpec
from fleetcheck.registry.profile import Profile
from fleetcheck.results import ResultRecord

TODAY = date(2026, 11, 24)

SPEC = CheckSpec(
    code="FC-QUOTA-001",
    title="Namespaces have a ResourceQuota",
    factor="bounded",
    severity="high",
    scope="cluster",
    reads=("namespaces", "resourcequotas"),
    docs=CheckDocs(what="w", why="y", fix="f", references="r"),
    success="every non-system namespace has a ResourceQuota bounding cpu and memory",
    path="checks/test_quota.py",
)


def profile(*waivers: dict[str, Any], name: str = "prod", **fields: Any) -> Profile:
    """A profile as a user writes it (validated: a typo is an error)."""
    return Profile.model_validate({"name": name, "waivers": list(waivers), **fields})


def waiver(**fields: Any) -> dict[str, Any]:
    """A waiver of FC-QUOTA-001 on every cluster until the end of 2026, with ``fields`` changed."""
    return {"code": "FC-QUOTA-001", "clusters": "*", "reason": "migration to quotas", "expires": "2026-12-31", **fields}


def failed(objects: list[str] | None = None, cluster: str = "prod-eu", **fields: Any) -> ResultRecord:
    """A failed FC-QUOTA-001 record."""
    return ResultRecord(
        cluster=cluster,
        code="FC-QUOTA-001",
        factor="bounded",
        severity="high",
        outcome="fail",
        message="2 namespaces have no ResourceQuota",
        objects=objects if objects is not None else ["team-a/Namespace/team-a", "team-b/Namespace/team-b"],
        **fields,
    )
