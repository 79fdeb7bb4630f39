"""Boring networking: a known CNI, the same one everywhere, at nearly the same version (FC-CNI-*).

Detection (which DaemonSet, which image, which version) lives in
:mod:`fleetcheck.facts.cni`; these checks judge it. The fleet comparisons use the
clusters of the same profile (``fleet.peers``): a profile is the unit that
promises sameness. A standard the profile declares (``standards.cni``,
``standards.cni_version``) wins over the fleet's majority.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from fleetcheck import ClusterView, FleetView, check, fail, skip
from fleetcheck.errors import ConfigError
from fleetcheck.facts.builtin import CNI
from fleetcheck.facts.cni import SIGNATURES, CniDetection, SemVer, normalize_cni_name
from fleetcheck.facts.compare import Standard
from fleetcheck.facts.provider import PROVIDER
from fleetcheck.outcomes import name_list
from fleetcheck.view import settle

_LIST_LIMIT = 8


def _detection(cluster: ClusterView) -> CniDetection:
    """The cluster's CNI, detected once per run (raises when DaemonSets cannot be listed)."""
    return cluster.fact(CNI)


def _names(names: Iterable[str]) -> str:
    return name_list(names, _LIST_LIMIT)


def _primary_cni(detection: CniDetection) -> str | None:
    return detection.primary.cni if detection.primary is not None else None


def _standard_cni(cluster: ClusterView, fleet: FleetView) -> Standard[str]:
    """The standard CNI by the one rule (``standards.cni``, reference cluster, strict majority)."""
    declared = cluster.profile.standards.cni
    return fleet.compare(
        cluster,
        CNI,
        _primary_cni,
        declared=normalize_cni_name(declared) if declared else None,
        declared_as="standards.cni",
    )


@check(
    "FC-CNI-001",
    title="No known CNI found",
    factor="boring",
    severity="medium",
    reads=["daemonsets"],  # Nodes (k3s's embedded flannel) are read by the CNI fact when they can be
    success="a known CNI's node agent DaemonSet (or k3s's embedded flannel) was found",
)
def test_known_cni_installed(cluster: ClusterView) -> None:
    """No DaemonSet in any namespace is the node agent of a known CNI.

    What: DaemonSets in every namespace are matched by name and by container
    image against the known CNIs: Calico (``calico-node``, ``calico/node``,
    operator-installed in ``calico-system``), Cilium (``cilium``,
    ``cilium/cilium``; GKE Dataplane V2's ``anetd``; Azure CNI powered by
    Cilium), flannel (``kube-flannel-ds`` in ``kube-flannel`` or
    ``kube-system``), the AWS VPC CNI (``aws-node``, ``amazon-k8s-cni``),
    Azure CNI (``azure-cns``), GKE's legacy ``netd``, Weave Net, Antrea,
    kube-router, OVN-Kubernetes and OpenShiftSDN, Canal (RKE2's
    ``rke2-canal`` with ``rancher/hardened-*`` images too) and kind's
    kindnet; on k3s and RKE2 nodes, flannel built into the binary counts
    when the nodes carry ``flannel.alpha.coreos.com/*`` annotations and no
    CNI DaemonSet runs. A DaemonSet named like a CNI agent but running
    another image does not count, and the failure names it. Calico with
    ``CALICO_NETWORKING_BACKEND=none`` enforces policy only and is not a pod
    network. On GKE and AKS, whose default pod networking runs no agent
    DaemonSet (routes-based GKE, kubenet or node-subnet Azure CNI), the
    check is skipped naming the provider evidence instead of failing.
    Why: a cluster whose CNI nobody can name cannot be kept "boring": its
    network policy semantics, MTU, upgrade path and failure modes differ
    from the rest of the fleet, and runbooks written for the fleet's CNI do
    not apply during an incident. It is also how a hand-installed or
    vendor-hidden network plugin announces itself.
    Fix: install the fleet's CNI from the platform's GitOps repository; if
    the cluster runs a CNI this check does not know, waive the code for the
    cluster with the reason, and tell fleetcheck's maintainers the DaemonSet
    and image so it can be added.
    References: https://kubernetes.io/docs/concepts/extend-kubernetes/compute-storage-net/network-plugins/ ;
    https://kubernetes.io/docs/concepts/cluster-administration/addons/#networking-and-network-policy ;
    https://cloud.google.com/kubernetes-engine/docs/concepts/dataplane-v2 ;
    https://learn.microsoft.com/azure/aks/azure-cni-powered-by-cilium ;
    https://docs.k3s.io/networking/basic-network-options
    """
    detection = _detection(cluster)
    if detection.primary is not None:
        return
    seen = _names(detection.daemonsets) if detection.daemonsets else "none"
    extra = [*detection.near_misses, *detection.notes]
    if detection.policy_engines:
        extra.append(detection.describe())
    said = f"; {'; '.join(extra)}" if extra else ""
    platform = cluster.fact(PROVIDER)
    if platform.provider in _AGENTLESS_NETWORKING:
        skip(
            f"{platform.title} runs its default pod networking without a CNI agent DaemonSet "
            f"({_AGENTLESS_NETWORKING[platform.provider]}); none of the {len(detection.daemonsets)} DaemonSets "
            f"({seen}) is a known CNI's agent{said}; provider evidence: {platform.describe()}"
        )
    known = ", ".join(sorted({pattern for s in SIGNATURES for pattern in s.daemonsets if "*" not in pattern}))
    fail(
        f"no known CNI found: none of the {len(detection.daemonsets)} DaemonSets ({seen}) is the node agent "
        f"of a known CNI{said}; expected a DaemonSet such as {known} running that CNI's image",
        [ref.split(" ", 1)[0] for ref in detection.near_misses],
    )


#: managed providers whose default pod networking runs no agent DaemonSet, and what it then is
_AGENTLESS_NETWORKING = {
    "gke": "the legacy routes-based or VPC-native dataplane; Dataplane V2 would show as DaemonSet anetd",
    "aks": "kubenet or node-subnet Azure CNI; overlay and Cilium clusters would show azure-cns or cilium",
}


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
    fleet standard (the profile's ``standards.cni``, else the reference
    cluster, else the CNI more than half of the cohort runs; see "How the
    fleet standard is chosen"). Skipped when the cluster has no known CNI
    (FC-CNI-001), and, with the reason, when there is no standard.
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
    standard = _standard_cni(cluster, fleet)
    settle(standard)
    if primary.cni != standard.expected:
        fail(
            f"CNI is {detection.describe()}; expected the fleet standard {standard.expected} ({standard.says})",
            [primary.daemonset],
        )


def _minor_of(cni: str) -> Callable[[CniDetection], SemVer | None]:
    """A cluster's ``major.minor`` of ``cni`` (None when it runs another CNI or the version is unknown)."""

    def minor(detection: CniDetection) -> SemVer | None:
        peer = detection.primary
        if peer is None or peer.cni != cni or peer.version is None:
            return None
        return SemVer(peer.version.major, peer.version.minor)

    return minor


def _standard_version(cluster: ClusterView, fleet: FleetView, cni: str) -> Standard[SemVer]:
    """The standard minor of ``cni`` by the one rule; only clusters running ``cni`` with a known version vote."""
    profile = cluster.profile
    declared_text = profile.standards.cni_version
    declared: SemVer | None = None
    if declared_text:
        declared = SemVer.parse(declared_text)
        if declared is None:
            raise ConfigError(
                profile.source or profile.name,
                "standards.cni_version",
                f"{declared_text!r} is not a version",
                "write it as v3.31 or 3.31.6",
            )
    return fleet.standard(
        cluster,
        CNI,
        _minor_of(cni),
        declared=declared,
        declared_as="standards.cni_version",
        show=lambda version: version.minor_version,
    )


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
    declared, else with the reference cluster's minor, else the minor more
    than half of the cohort's clusters running the same CNI with a known
    version use (a split is skipped, not settled by the newest). More than one minor
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
    standard_cni = _standard_cni(cluster, fleet)
    if standard_cni.decided and standard_cni.expected != mine.cni:
        skip(
            f"the cluster runs {mine.cni}, not the standard {standard_cni.expected} ({standard_cni.says}); "
            "versions of different CNIs are not compared (FC-CNI-002 reports it)"
        )
    if mine.version is None:
        skip(f"{mine.cni} version unknown: {mine.version_note} ({mine.daemonset}, image {mine.image})")
    version_standard = _standard_version(cluster, fleet, mine.cni)
    standard, source = version_standard.expected, version_standard.says
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
