"""Managed RBAC: cluster-wide roles and bindings are the same on every cluster of a profile (FC-RBAC-001).

Normalisation (what is left out, how rules are compared) lives in
:mod:`fleetcheck.facts.rbac_normalize`; this check picks the standard and judges.
The standard is a reference cluster when the profile names one, else the
majority of the clusters of the same profile, object by object.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field

from fleetcheck import ClusterView, Findings, FleetView, check, fail, skip
from fleetcheck.errors import ConfigError, FleetcheckError
from fleetcheck.facts.builtin import rbac_inventory
from fleetcheck.facts.compare import Standard
from fleetcheck.facts.rbac_normalize import (
    DEFAULT_IGNORED_NAMES,
    Drift,
    RbacInventory,
    RbacObject,
    describe_difference,
)
from fleetcheck.outcomes import breakdown, name_list

_NAMES_SHOWN = 5
_TIES_SHOWN = 5


class RbacDriftSettings(BaseModel):
    """Settings of FC-RBAC-001."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ignore_names: tuple[str, ...] = Field(
        default=DEFAULT_IGNORED_NAMES,
        description="name globs of installer-owned objects left out (system:* and bootstrap objects always are); "
        "the list replaces the default",
    )
    reference_cluster: str | None = Field(
        default=None,
        description="compare with this cluster's RBAC instead of the majority (breaks ties in small fleets)",
    )


def _inventory(cluster: ClusterView, settings: RbacDriftSettings) -> RbacInventory:
    """The cluster's normalised RBAC, once per run (per set of ignored names)."""
    return cluster.fact(rbac_inventory(tuple(settings.ignore_names)))


def _names(names: list[str]) -> str:
    return name_list(names, _NAMES_SHOWN)


def _has(ref: str) -> Callable[[RbacInventory], bool]:
    return lambda inventory: ref in inventory.objects


def _content(ref: str) -> Callable[[RbacInventory], RbacObject | None]:
    return lambda inventory: inventory.objects.get(ref)


def _variant(obj: RbacObject) -> str:
    """A stable short name for one version of an object's content (for the split message)."""
    parts = []
    for item in dataclasses.fields(obj):
        value = getattr(obj, item.name)
        parts.append(repr(sorted(map(repr, value)) if isinstance(value, frozenset) else value))
    return f"version {hashlib.sha1('|'.join(parts).encode()).hexdigest()[:8]}"


def _present(present: bool) -> str:
    return "present" if present else "absent"


def _drifts(
    cluster: ClusterView, fleet: FleetView, settings: RbacDriftSettings, setting: tuple[str | None, str]
) -> tuple[list[Drift], Standard[bool]]:
    """Object by object, by the one rule: is the object expected here, and with which content."""
    fact = rbac_inventory(tuple(settings.ignore_names))
    whole = fleet.standard(cluster, fact, lambda _: True, reference_setting=setting)  # who compares, who is unreadable
    mine = _inventory(cluster, settings)
    refs: set[str] = set(mine.objects)
    for peer in [*fleet.cohort(cluster), *([fleet.get(whole.reference)] if whole.reference else [])]:
        with contextlib.suppress(FleetcheckError):
            refs.update(_inventory(peer, settings).objects)
    drifts: list[Drift] = []
    for ref in sorted(refs):
        presence = fleet.compare(cluster, fact, _has(ref), show=_present, reference_setting=setting)
        here = ref in mine.objects
        if not presence.decided:
            where = "exists here" if here else "missing here"
            split = breakdown({key: list(names) for key, names in presence.groups.items()}, _NAMES_SHOWN)
            drifts.append(Drift(ref, "undecided", f"{where}; {split}: an even split"))
            continue
        if presence.expected != here:
            detail = (
                f"missing here; expected ({presence.says})" if not here else f"extra: not expected ({presence.says})"
            )
            drifts.append(Drift(ref, "missing" if not here else "extra", detail))
            continue
        if not here:
            continue
        content = fleet.compare(cluster, fact, _content(ref), reference_setting=setting, show=_variant)
        if not content.decided:
            split = breakdown({key: list(names) for key, names in content.groups.items()}, _NAMES_SHOWN)
            drifts.append(Drift(ref, "undecided", f"{len(content.groups)} versions, none on more than half: {split}"))
        elif content.expected != mine.objects[ref]:
            detail = describe_difference(mine.objects[ref], content.expected)
            drifts.append(Drift(ref, "different", f"{detail} ({content.says})"))
    return drifts, whole


@check(
    "FC-RBAC-001",
    title="Cluster-wide RBAC differs from the fleet",
    factor="managed",
    severity="medium",
    scope="fleet",
    reads=["clusterroles", "clusterrolebindings"],
    settings=RbacDriftSettings,
    success="every non-system ClusterRole and ClusterRoleBinding matches the fleet",
)
def test_rbac_matches_fleet(cluster: ClusterView, fleet: FleetView, settings: RbacDriftSettings) -> None:
    """Non-system ClusterRoles and ClusterRoleBindings differ from the fleet's.

    What: ClusterRoles and ClusterRoleBindings are compared with the other
    clusters of the same profile, object by object: an object most clusters
    have is expected (``missing`` here otherwise), an object most clusters
    lack is ``extra``, and an object's content is expected to be the version
    most of its holders share (``different`` otherwise, with the
    difference: ``+`` what this cluster grants beyond the fleet, ``-`` what
    it lacks). Left out: ``system:*`` and bootstrap objects (label
    ``kubernetes.io/bootstrapping=rbac-defaults``), installer objects named
    by ``ignore_names`` (default ``kubeadm:*``, ``eks:*``, ``gce:*``), and
    metadata. Rules are compared as single permissions (a verb on a resource
    or URL), so order and rule splitting do not count; aggregated roles are
    compared on their ``aggregationRule``, not on the rules the controller
    generates, and the ``aggregate-to-*`` labels of the roles feeding them
    are compared. An even split decides nothing: it is said, not guessed,
    and a cluster whose only differences are even splits is skipped. With
    ``reference_cluster`` set, that cluster's RBAC is the standard instead.
    Why: cluster-wide RBAC drift is invisible until it matters: a "temporary"
    binding of cluster-admin left on one cluster, a read-only role that
    someone widened to Secrets during an incident, a team role missing on
    the cluster a service fails over to. The same identity then has
    different powers on clusters that are supposed to be interchangeable,
    which is both a security hole and a failover surprise.
    Fix: change RBAC only through the fleet's GitOps repository and let it
    re-apply the standard objects; delete the extra ones (after checking who
    uses them); if a difference is intended, move the cluster to its own
    profile or waive the object (``objects: ClusterRoleBinding/<name>``).
    References: https://kubernetes.io/docs/reference/access-authn-authz/rbac/ ;
    https://kubernetes.io/docs/reference/access-authn-authz/rbac/#aggregated-clusterroles ;
    https://kubernetes.io/docs/concepts/security/rbac-good-practices/
    """
    setting = (settings.reference_cluster, "settings FC-RBAC-001.reference_cluster")
    if settings.reference_cluster and settings.reference_cluster not in {c.name for c in fleet}:
        profile = cluster.profile
        raise ConfigError(
            profile.source or profile.name,
            "settings.FC-RBAC-001.reference_cluster",
            f"no cluster named {settings.reference_cluster!r} in the fleet",
            f"name one of {_names([c.name for c in fleet])}",
        )
    drifts, whole = _drifts(cluster, fleet, settings, setting)
    if whole.kind == "reference":
        source = f"the {whole.source}"
    else:
        source = f"the fleet (cohort {whole.cohort}: {_names(list(whole.holders))}){whole.not_counted_text}"
    definite = [d for d in drifts if d.kind != "undecided"]
    ties = [d for d in drifts if d.kind == "undecided"]
    tie_text = name_list((f"{d.ref} ({d.detail})" for d in ties), _TIES_SHOWN, sort=False, sep="; ")
    if not definite:
        if ties:
            skip(
                f"no majority decides {len(ties)} RBAC differences among {source}: {tie_text}; "
                "name a reference cluster (--reference-cluster NAME, or reference_cluster in the profile)"
            )
        return
    findings = Findings()
    for drift in definite:
        findings.add(drift.ref, drift.detail)
    counts = {kind: sum(1 for d in definite if d.kind == kind) for kind in ("missing", "extra", "different")}
    breakdown = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)
    noun = "object differs" if len(definite) == 1 else "objects differ"
    message = findings.message(f"{len(definite)} cluster-wide RBAC {noun} from {source} ({breakdown})")
    if ties:
        message += f". Undecided (even split, not judged): {tie_text}"
    fail(message, findings.objects)
