"""Boring versions: no cluster lags the fleet's Kubernetes minor by more than one (FC-VER-001)."""

from __future__ import annotations

from fleetcheck import ClusterView, FleetView, ServerVersion, check, fail
from fleetcheck.errors import ConfigError
from fleetcheck.facts.builtin import SERVER_VERSION


def _minor(version: ServerVersion) -> str:
    return f"{version.major}.{version.minor}"


def _minor_only(version: ServerVersion) -> ServerVersion:
    return ServerVersion(version.major, version.minor, f"v{version.major}.{version.minor}")


def _reference(cluster: ClusterView, fleet: FleetView) -> tuple[ServerVersion, str]:
    """(reference minor, where it comes from): the one rule, deriving the newest known minor of the cohort."""
    profile = cluster.profile
    declared_text = profile.standards.kubernetes_minor
    declared: ServerVersion | None = None
    if declared_text:
        declared = _minor_only(ServerVersion.parse(declared_text))
        if declared.major == 0:
            raise ConfigError(
                profile.source or profile.name,
                "standards.kubernetes_minor",
                f"{declared_text!r} is not a Kubernetes minor",
                "write it as 1.31",
            )
    standard = fleet.standard(
        cluster,
        SERVER_VERSION,
        _minor_only,
        declared=declared,
        declared_as="standards.kubernetes_minor",
        show=_minor,
        derive="newest",
        newest=lambda v: (v.major, v.minor),
    )
    return standard.expected, standard.says


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
    reference cluster's minor, else the newest known minor of the cohort
    (the one rule, with "newest" in place of "majority"). The comparison
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
    mine = cluster.fact(SERVER_VERSION)
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
