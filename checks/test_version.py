"""Boring versions: no cluster lags the fleet's Kubernetes minor by more than one (FC-VER-001)."""

from __future__ import annotations

from fleetcheck import ClusterView, FleetView, ServerVersion, check, fail, skip
from fleetcheck.errors import ConfigError, FleetcheckError

_LIST_LIMIT = 8


def _minor(version: ServerVersion) -> str:
    return f"{version.major}.{version.minor}"


def _reference(cluster: ClusterView, fleet: FleetView) -> tuple[ServerVersion, str]:
    """(reference minor, where it comes from): ``standards.kubernetes_minor``, else the newest peer."""
    profile = cluster.profile
    declared = profile.standards.kubernetes_minor
    if declared:
        version = ServerVersion.parse(declared)
        if version.major == 0:
            raise ConfigError(
                profile.source or profile.name,
                "standards.kubernetes_minor",
                f"{declared!r} is not a Kubernetes minor",
                "write it as 1.31",
            )
        return version, f"declared by profile {profile.name} (standards.kubernetes_minor)"
    versions: dict[str, ServerVersion] = {}
    unknown: list[str] = []
    for peer in fleet.peers(cluster):
        try:
            versions[peer.name] = peer.version
        except FleetcheckError as exc:
            unknown.append(f"{peer.name} ({exc})")
    not_counted = f"; not counted, version unknown: {'; '.join(unknown)}" if unknown else ""
    if len(versions) < 2:
        skip(
            f"no other cluster of profile {profile.name} has a known version to compare with "
            f"(declare standards.kubernetes_minor to judge a cluster alone){not_counted}"
        )
    newest = max(versions.values(), key=lambda v: (v.major, v.minor))
    holders = sorted(name for name, v in versions.items() if (v.major, v.minor) == (newest.major, newest.minor))
    shown = ", ".join(holders[:_LIST_LIMIT]) + (
        f" and {len(holders) - _LIST_LIMIT} more" if len(holders) > _LIST_LIMIT else ""
    )
    source = f"the newest of the {len(versions)} clusters of profile {profile.name}, run by {shown}{not_counted}"
    return newest, source


@check(
    "FC-VER-001",
    title="Kubernetes minor more than one behind the fleet's newest",
    factor="boring",
    severity="medium",
    scope="fleet",
    success="the Kubernetes minor is at most one behind the fleet's newest",
)
def test_kubernetes_minor_not_behind(cluster: ClusterView, fleet: FleetView) -> None:
    """The cluster's Kubernetes minor is more than one behind the newest minor of its fleet.

    What: the API server's ``major.minor`` (``/version``, or a snapshot's
    ``serverversion.json``/``cluster.yaml``) is compared with the reference:
    the profile's ``standards.kubernetes_minor`` when declared, else the
    newest minor among the clusters of the same profile. The comparison
    group is the profile, not the whole fleet, on purpose: dev clusters
    upgraded ahead of prod are the promotion process working (FC-TIER-003
    guards canary versus prod), not drift. More than one minor behind, or an
    older major, fails; being ahead never does. Peers whose version cannot be
    read are left out and named; a cluster with no comparable peer and no
    declared standard is skipped.
    Why: Kubernetes supports the three newest minors, and kubectl, Helm
    charts, operators and admission policies the fleet ships target a
    version window; a cluster two or more minors behind is out of the window
    others are tested in, usually out of upstream and vendor support, and
    can only catch up one minor at a time, each a separate maintenance.
    Fix: upgrade the control plane and then the nodes one minor at a time
    (read each minor's deprecation guide first) until it is within one of
    the fleet; or, to hold the fleet back on purpose, declare
    ``standards: {kubernetes_minor: "1.30"}`` in the profile.
    References: https://kubernetes.io/releases/version-skew-policy/ ;
    https://kubernetes.io/releases/
    """
    mine = cluster.version
    reference, source = _reference(cluster, fleet)
    if mine.major != reference.major:
        if mine.major < reference.major:
            fail(
                f"Kubernetes {mine.git_version} is a major version behind {_minor(reference)} ({source}); "
                f"expected {_minor(reference)} or at most one minor older",
                [],
            )
        return
    behind = reference.minor - mine.minor
    if behind > 1:
        oldest_ok = f"{reference.major}.{reference.minor - 1}"
        fail(
            f"Kubernetes {mine.git_version} (minor {_minor(mine)}) is {behind} minors behind {_minor(reference)}, "
            f"{source}; expected {oldest_ok} or newer",
            [],
        )
