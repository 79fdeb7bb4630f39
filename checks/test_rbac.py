"""Managed RBAC: cluster-wide roles and bindings are the same on every cluster of a profile (FC-RBAC-001).

Normalisation (what is left out, how rules are compared) lives in
:mod:`fleetcheck.rbac_normalize`; this check picks the standard and judges.
The standard is a reference cluster when the profile names one, else the
majority of the clusters of the same profile, object by object.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from fleetcheck import ClusterView, Findings, FleetView, check, fail, skip
from fleetcheck.errors import ConfigError, FleetcheckError
from fleetcheck.outcomes import name_list
from fleetcheck.rbac_normalize import (
    DEFAULT_IGNORED_NAMES,
    Drift,
    RbacInventory,
    compare_with_majority,
    compare_with_reference,
    normalize_rbac,
)

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
    return cluster.memo(
        "fleetcheck.rbac.inventory:" + "\x00".join(settings.ignore_names),
        lambda: normalize_rbac(
            cluster.list("clusterroles"), cluster.list("clusterrolebindings"), settings.ignore_names
        ),
    )


def _names(names: list[str]) -> str:
    return name_list(names, _NAMES_SHOWN)


def _against_reference(
    cluster: ClusterView, fleet: FleetView, settings: RbacDriftSettings, reference: str
) -> tuple[list[Drift], str]:
    if reference == cluster.name:
        skip("this is the reference cluster the others are compared with (settings FC-RBAC-001.reference_cluster)")
    try:
        other = fleet.get(reference)
    except KeyError:
        profile = cluster.profile
        raise ConfigError(
            profile.source or profile.name,
            "settings.FC-RBAC-001.reference_cluster",
            f"no cluster named {reference!r} in the fleet",
            f"name one of {_names([c.name for c in fleet])}",
        ) from None
    try:
        standard = _inventory(other, settings)
    except FleetcheckError as exc:
        raise FleetcheckError(f"cannot read the RBAC of the reference cluster {reference}: {exc}") from None
    drifts = compare_with_reference(_inventory(cluster, settings), standard, reference)
    return drifts, f"the reference cluster {reference} (settings FC-RBAC-001.reference_cluster)"


def _against_majority(cluster: ClusterView, fleet: FleetView, settings: RbacDriftSettings) -> tuple[list[Drift], str]:
    inventories: dict[str, RbacInventory] = {cluster.name: _inventory(cluster, settings)}
    unreadable: list[str] = []
    for peer in fleet.peers(cluster):
        if peer.name == cluster.name:
            continue
        try:
            inventories[peer.name] = _inventory(peer, settings)
        except FleetcheckError as exc:
            unreadable.append(f"{peer.name} ({exc})")
    not_counted = f"; not counted, RBAC unreadable: {'; '.join(unreadable)}" if unreadable else ""
    profile = cluster.profile.name
    if len(inventories) < 2:
        skip(
            f"no other cluster of profile {profile} to compare RBAC with "
            f"(name one in settings FC-RBAC-001.reference_cluster to compare across profiles){not_counted}"
        )
    source = f"the majority of the {len(inventories)} clusters of profile {profile} ({_names(list(inventories))})"
    return compare_with_majority(cluster.name, inventories), source + not_counted


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
    if settings.reference_cluster:
        drifts, source = _against_reference(cluster, fleet, settings, settings.reference_cluster)
    else:
        drifts, source = _against_majority(cluster, fleet, settings)
    definite = [d for d in drifts if d.kind != "undecided"]
    ties = [d for d in drifts if d.kind == "undecided"]
    tie_text = "; ".join(f"{d.ref} ({d.detail})" for d in ties[:_TIES_SHOWN])
    tie_text += f"; and {len(ties) - _TIES_SHOWN} more" if len(ties) > _TIES_SHOWN else ""
    if not definite:
        if ties:
            skip(
                f"no majority decides {len(ties)} RBAC differences among {source}: {tie_text}; "
                "set settings FC-RBAC-001.reference_cluster to name the standard"
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
