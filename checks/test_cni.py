"""Boring networking: a known CNI, the same one everywhere, at nearly the same version (FC-CNI-*).

Detection (which DaemonSet, which image, which version) lives in
:mod:`fleetcheck.cni`; these checks judge it. The fleet comparisons use the
clusters of the same profile (``fleet.peers``): a profile is the unit that
promises sameness. A standard the profile declares (``standards.cni``,
``standards.cni_version``) wins over the fleet's majority.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from fleetcheck import ClusterView, FleetView, check, fail, skip
from fleetcheck.cni import SIGNATURES, CniDetection, CniMatch, SemVer, detect_cni, normalize_cni_name
from fleetcheck.errors import ConfigError, FleetcheckError
from fleetcheck.outcomes import breakdown, name_list

_MEMO_KEY = "fleetcheck.cni.detection"
_LIST_LIMIT = 8


def _detection(cluster: ClusterView) -> CniDetection:
    """The cluster's CNI, detected once per run (raises when DaemonSets cannot be listed)."""
    return cluster.memo(_MEMO_KEY, lambda: detect_cni(cluster.list("daemonsets")))


def _peer_detections(cluster: ClusterView, fleet: FleetView) -> tuple[dict[str, CniDetection], list[str]]:
    """Detections of the same-profile clusters; peers whose DaemonSets cannot be read are left out and named."""
    found: dict[str, CniDetection] = {}
    unreadable: list[str] = []
    for peer in fleet.peers(cluster):
        if peer.name == cluster.name:
            found[peer.name] = _detection(cluster)
            continue
        try:
            found[peer.name] = _detection(peer)
        except FleetcheckError as exc:
            unreadable.append(f"{peer.name} ({exc})")
    return found, unreadable


def _names(names: Iterable[str]) -> str:
    return name_list(names, _LIST_LIMIT)


def _breakdown(groups: dict[str, list[str]]) -> str:
    """``kindnet on 3 (a, b, c), calico on 1 (d)``, largest group first."""
    return breakdown(groups, _LIST_LIMIT)


def _not_counted(unreadable: list[str]) -> str:
    return f"; not counted, DaemonSets unreadable: {'; '.join(unreadable)}" if unreadable else ""


class _Undecided(Exception):
    """No fleet standard can be named; the message says why."""


def _standard_cni(cluster: ClusterView, fleet: FleetView) -> tuple[str, str]:
    """(standard CNI, where it comes from): the profile's ``standards.cni``, else the peers' majority."""
    profile = cluster.profile
    if profile.standards.cni:
        return normalize_cni_name(profile.standards.cni), f"declared by profile {profile.name} (standards.cni)"
    detections, unreadable = _peer_detections(cluster, fleet)
    groups: dict[str, list[str]] = {}
    for name, detection in detections.items():
        if detection.cni is not None:
            groups.setdefault(detection.cni, []).append(name)
    if sum(len(members) for members in groups.values()) < 2:
        raise _Undecided(
            f"no other cluster of profile {profile.name} has a known CNI to compare with "
            f"(declare standards.cni in the profile to judge a cluster alone){_not_counted(unreadable)}"
        )
    ranked = Counter({cni: len(members) for cni, members in groups.items()}).most_common()
    total = sum(count for _, count in ranked)
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        raise _Undecided(
            f"no fleet standard CNI: the {total} clusters of profile {profile.name} are split evenly "
            f"({_breakdown(groups)}); declare standards.cni in the profile{_not_counted(unreadable)}"
        )
    source = (
        f"the majority of the {total} clusters of profile {profile.name} with a known CNI: "
        f"{_breakdown(groups)}{_not_counted(unreadable)}"
    )
    return ranked[0][0], source


@check(
    "FC-CNI-001",
    title="No known CNI found",
    factor="boring",
    severity="medium",
    reads=["daemonsets"],
    success="a known CNI's node agent DaemonSet was found",
)
def test_known_cni_installed(cluster: ClusterView) -> None:
    """No DaemonSet in any namespace is the node agent of a known CNI.

    What: DaemonSets in every namespace are matched by name and by container
    image against the known CNIs: Calico (``calico-node``, ``calico/node``),
    Cilium (``cilium``, ``cilium/cilium``), flannel (``kube-flannel-ds`` in
    ``kube-flannel`` or ``kube-system``), the AWS VPC CNI (``aws-node``,
    ``amazon-k8s-cni``), Weave Net, Antrea, kube-router, OVN-Kubernetes,
    Canal and kind's kindnet. A DaemonSet named like a CNI agent but running
    another image does not count, and the failure names it.
    Why: a cluster whose CNI nobody can name cannot be kept "boring": its
    network policy semantics, MTU, upgrade path and failure modes differ
    from the rest of the fleet, and runbooks written for the fleet's CNI do
    not apply during an incident. It is also how a hand-installed or
    vendor-hidden network plugin announces itself.
    Fix: install the fleet's CNI from the platform's GitOps repository; if
    the cluster runs a CNI this check does not know (a managed dataplane),
    waive the code for the cluster with the reason, and tell fleetcheck's
    maintainers the DaemonSet and image so it can be added.
    References: https://kubernetes.io/docs/concepts/extend-kubernetes/compute-storage-net/network-plugins/ ;
    https://kubernetes.io/docs/concepts/cluster-administration/addons/#networking-and-network-policy
    """
    detection = _detection(cluster)
    if detection.primary is not None:
        return
    known = ", ".join(sorted({pattern for s in SIGNATURES for pattern in s.daemonsets if "*" not in pattern}))
    seen = _names(detection.daemonsets) if detection.daemonsets else "none"
    near = f"; {'; '.join(detection.near_misses)}" if detection.near_misses else ""
    fail(
        f"no known CNI found: none of the {len(detection.daemonsets)} DaemonSets ({seen}) is the node agent "
        f"of a known CNI{near}; expected a DaemonSet such as {known} running that CNI's image",
        [ref.split(" ", 1)[0] for ref in detection.near_misses],
    )


@check(
    "FC-CNI-002",
    title="CNI differs from the fleet standard",
    factor="boring",
    severity="high",
    scope="fleet",
    reads=["daemonsets"],
    success="the CNI is the fleet standard",
)
def test_cni_matches_fleet(cluster: ClusterView, fleet: FleetView) -> None:
    """The cluster's CNI is not the fleet's standard CNI.

    What: the cluster's primary CNI (the one running pod networking: the
    AWS VPC CNI, not the Calico beside it for policy) is compared with the
    standard: the profile's ``standards.cni`` when declared, else the CNI
    most of the same-profile clusters run. When the clusters are split
    evenly there is no standard: every cluster is skipped with the split,
    nobody fails. Skipped when the cluster has no known CNI (FC-CNI-001) or
    no other cluster of its profile has one to compare with.
    Why: "same CNI everywhere" is what makes a fleet boring: one set of
    network policies behaves the same on every cluster, one upgrade runbook,
    one set of dashboards. An outlier CNI is where a NetworkPolicy that
    "works in staging" silently allows or blocks traffic in production, and
    where the on-call engineer meets an unfamiliar dataplane at 3 a.m.
    Fix: migrate the outlier to the standard CNI (usually by rebuilding the
    cluster from the fleet's template), or, if the fleet is moving to a new
    CNI, declare it in the profile (``standards: {cni: cilium}``) so the
    laggards, not the leaders, are the ones flagged.
    References: https://kubernetes.io/docs/concepts/services-networking/network-policies/ ;
    https://kubernetes.io/docs/concepts/cluster-administration/addons/#networking-and-network-policy
    """
    detection = _detection(cluster)
    primary = detection.primary
    if primary is None:
        skip("no known CNI found on this cluster (FC-CNI-001 reports it)")
    try:
        standard, source = _standard_cni(cluster, fleet)
    except _Undecided as undecided:
        skip(str(undecided))
    if primary.cni != standard:
        fail(
            f"CNI is {detection.describe()}; expected the fleet standard {standard} ({source})",
            [primary.daemonset],
        )


def _standard_version(cluster: ClusterView, fleet: FleetView, mine: CniMatch) -> tuple[SemVer, str]:
    """(standard version, where it comes from) for the cluster's CNI."""
    profile = cluster.profile
    declared = profile.standards.cni_version
    if declared:
        version = SemVer.parse(declared)
        if version is None:
            raise ConfigError(
                profile.source or profile.name,
                "standards.cni_version",
                f"{declared!r} is not a version",
                "write it as v3.31 or 3.31.6",
            )
        return version, f"declared by profile {profile.name} (standards.cni_version)"
    detections, unreadable = _peer_detections(cluster, fleet)
    groups: dict[SemVer, list[str]] = {}
    for name, detection in detections.items():
        peer = detection.primary
        if peer is not None and peer.cni == mine.cni and peer.version is not None:
            groups.setdefault(SemVer(peer.version.major, peer.version.minor), []).append(name)
    if sum(len(members) for members in groups.values()) < 2:
        raise _Undecided(
            f"no other cluster of profile {profile.name} runs {mine.cni} with a known version to compare with "
            f"(declare standards.cni_version to judge a cluster alone){_not_counted(unreadable)}"
        )
    standard = max(groups, key=lambda v: (len(groups[v]), v))
    total = sum(len(members) for members in groups.values())
    named = {v.minor_version: members for v, members in groups.items()}
    source = (
        f"the most common {mine.cni} minor (ties: the newest) among the {total} clusters of profile "
        f"{profile.name} running it: {_breakdown(named)}{_not_counted(unreadable)}"
    )
    return standard, source


@check(
    "FC-CNI-003",
    title="CNI version more than one minor from the standard",
    factor="boring",
    severity="medium",
    scope="fleet",
    reads=["daemonsets"],
    success="the CNI version is within one minor of the fleet standard",
)
def test_cni_version_near_standard(cluster: ClusterView, fleet: FleetView) -> None:
    """The CNI's version is more than one minor away from the standard version.

    What: the version of the cluster's primary CNI, read from its agent's
    image tag, is compared with the profile's ``standards.cni_version`` when
    declared, else with the minor most same-profile clusters running the
    same CNI use (on a tie, the newest of the tied). More than one minor
    away in either direction, or another major, fails. Skipped, with the
    reason, when the version cannot be read (no tag, ``:latest``,
    digest-only, a tag that is not a version: said, never guessed), when the
    cluster runs another CNI than the standard (FC-CNI-002 reports that), or
    when no other cluster runs the same CNI with a known version.
    Why: CNIs support a narrow window of Kubernetes versions and of each
    other's versions during upgrades; a cluster several minors behind has
    missed fixes the rest of the fleet relies on (Calico and Cilium have
    shipped dataplane CVE fixes as minor releases), and its upgrade can no
    longer be done in one step when it is finally urgent.
    Fix: upgrade the CNI one minor at a time to the standard, following the
    CNI's upgrade guide, from the same GitOps source as the rest of the
    fleet; pin agent images to a version tag so the version can be read.
    References: https://docs.tigera.io/calico/latest/operations/upgrading/ ;
    https://docs.cilium.io/en/stable/operations/upgrade/
    """
    detection = _detection(cluster)
    mine = detection.primary
    if mine is None:
        skip("no known CNI found on this cluster (FC-CNI-001 reports it)")
    try:
        standard_cni, cni_source = _standard_cni(cluster, fleet)
    except _Undecided:
        standard_cni, cni_source = mine.cni, ""
    if standard_cni != mine.cni:
        skip(
            f"the cluster runs {mine.cni}, not the standard {standard_cni} ({cni_source}); "
            "versions of different CNIs are not compared (FC-CNI-002 reports it)"
        )
    if mine.version is None:
        skip(f"{mine.cni} version unknown: {mine.version_note} ({mine.daemonset}, image {mine.image})")
    try:
        standard, source = _standard_version(cluster, fleet, mine)
    except _Undecided as undecided:
        skip(str(undecided))
    distance = mine.version.minors_from(standard)
    if distance is None:
        fail(
            f"{mine.cni} {mine.version} ({mine.daemonset}, image {mine.image}) is another major version than "
            f"the standard {standard.minor_version} ({source}); expected {standard.minor_version} +/- 1 minor",
            [mine.daemonset],
        )
    if abs(distance) > 1:
        direction = "behind" if distance < 0 else "ahead of"
        fail(
            f"{mine.cni} {mine.version} ({mine.daemonset}, image {mine.image}) is {abs(distance)} minors "
            f"{direction} the standard {standard.minor_version} ({source}); expected {standard.minor_version} "
            "+/- 1 minor",
            [mine.daemonset],
        )
