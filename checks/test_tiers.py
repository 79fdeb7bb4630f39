"""Tested: every change goes dev -> staging/canary -> prod (FC-TIER-*).

A fleet can only promise "tested before prod" when clusters say which stage
they are (FC-TIER-001), every prod cluster has a cluster ahead of it that
takes changes first (FC-TIER-002), and that canary really runs what prod
runs or newer (FC-TIER-003). Tiers come from the registry labels (``tier``,
else ``env``) as read by :mod:`fleetcheck.facts.tiers`; comparisons stay within a
profile (``fleet.peers``), the unit that promises sameness; a profile's ``cohort_by`` does not
narrow them, since it usually names the very labels (env, tier) these checks compare across.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fleetcheck import ClusterView, FleetView, ServerVersion, check, fail, skip
from fleetcheck.errors import FleetcheckError
from fleetcheck.facts.builtin import CNI, SERVER_VERSION
from fleetcheck.facts.cni import CniDetection, CniMatch, SemVer
from fleetcheck.facts.tiers import TIERS, read_tier
from fleetcheck.outcomes import name_list

_LIST_LIMIT = 8


def _names(names: Iterable[str]) -> str:
    return name_list(names, _LIST_LIMIT, sort=False)


@check(
    "FC-TIER-001",
    title="Cluster declares no promotion tier",
    factor="tested",
    severity="medium",
    success="the cluster declares its promotion tier (dev / staging / canary / prod)",
)
def test_cluster_declares_tier(cluster: ClusterView) -> None:
    """The cluster's registry labels name no promotion tier (dev / staging / canary / prod).

    What: the ``tier`` label of the cluster's registry entry (fleet file, or a
    snapshot's ``cluster.yaml``), else its ``env`` label, must name one of
    ``dev``, ``staging``, ``canary``, ``prod``. Common spellings are accepted
    (``development``, ``sandbox``, ``stage``, ``stg``, ``preprod``, ``uat``,
    ``production``, ``prd``); a ``tier`` that names no stage (``tier: 1``)
    falls back to ``env``.
    Why: "tested before prod" is a property of the fleet, not of one
    cluster, and it can only be checked when each cluster says which stage it
    is. A cluster without a tier is invisible to FC-TIER-002/003 and to the
    prod-only rules (FC-PV-001): an unlabelled prod cluster silently escapes
    them, and nobody can tell whether a change reached it untested.
    Fix: add the label in the fleet file (``labels: {tier: prod}``) or in the
    snapshot's ``cluster.yaml``; use ``staging`` or ``canary`` for the
    clusters that take changes before prod.
    References: https://sre.google/workbook/canarying-releases/
    """
    declared = read_tier(cluster.labels)
    if declared.tier is None:
        fail(
            f"cluster {cluster.name} declares no promotion tier: {declared.problem()}; "
            f"expected label tier (or env) set to one of {', '.join(TIERS)}",
            [],
        )


@check(
    "FC-TIER-002",
    title="Prod cluster with no canary or staging cluster ahead of it",
    factor="tested",
    severity="high",
    scope="fleet",
    success="a canary or staging cluster of the same profile takes changes before this prod cluster",
)
def test_prod_has_canary_or_staging(cluster: ClusterView, fleet: FleetView) -> None:
    """A prod cluster has no canary or staging cluster of the same profile in the fleet.

    What: for a cluster whose tier (FC-TIER-001) is ``prod``, the fleet must
    hold at least one other cluster of the same profile whose tier is
    ``canary`` or ``staging``. Dev clusters do not count: they run what
    developers push, not the release candidate of prod's configuration.
    Clusters of other tiers, and clusters with no tier, are skipped with the
    reason.
    Why: without a cluster that is configured like prod and takes every
    change first, each Kubernetes upgrade, CNI bump, admission policy or
    GitOps change is tested for the first time on prod; the fleet-wide
    outages of the seed notes (a CoreDNS config, a CNI upgrade rolled to
    every cluster at once) are exactly this.
    Fix: give the profile a canary (or staging) cluster that is built from
    the same profile and receives changes before prod, and label it
    ``tier: canary``; if the canary exists but is registered under another
    profile, move it to this profile so the comparison holds.
    References: https://sre.google/workbook/canarying-releases/ ;
    https://kubernetes.io/releases/version-skew-policy/
    """
    mine = read_tier(cluster.labels)
    if mine.tier is None:
        skip(f"cannot tell whether {cluster.name} is a prod cluster: {mine.problem()} (FC-TIER-001 reports it)")
    if mine.tier != "prod":
        skip(f"{mine.tier} cluster ({mine.source}): only prod clusters need a canary or staging cluster ahead of them")
    others = [peer for peer in fleet.peers(cluster) if peer.name != cluster.name]
    guards = [peer for peer in others if read_tier(peer.labels).tier in ("canary", "staging")]
    if guards:
        return
    profile = cluster.profile.name
    if others:
        listed = _names(f"{peer.name} ({read_tier(peer.labels).tier or 'no tier'})" for peer in others)
        seen = f"the other clusters of profile {profile} are {listed}"
    else:
        seen = f"it is the only cluster of profile {profile} in the fleet"
    fail(
        f"prod cluster {cluster.name} has no canary or staging cluster of profile {profile} ahead of it: {seen}; "
        "expected at least one cluster of the same profile labelled tier=canary or tier=staging",
        [],
    )


class CanaryVersionSettings(BaseModel):
    """Settings of FC-TIER-003."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cni_precision: Literal["minor", "patch"] = Field(
        default="patch",
        description="compare CNI versions down to the patch (v3.28.1 < v3.28.2) or only the minor (v3.27 < v3.28)",
    )


def _cni(cluster: ClusterView) -> CniDetection:
    """The cluster's CNI: the same fact FC-CNI-002/003 read, detected once per run (raises when unreadable)."""
    return cluster.fact(CNI)


def _cni_key(version: SemVer, precision: str) -> tuple[int, ...]:
    return (version.major, version.minor, version.patch) if precision == "patch" else (version.major, version.minor)


def _k8s(version: ServerVersion) -> str:
    return f"{version.minor_version} ({version.git_version})"


@check(
    "FC-TIER-003",
    title="Canary runs an older Kubernetes or CNI version than the prod clusters it guards",
    factor="tested",
    severity="medium",
    scope="fleet",
    reads=["daemonsets"],
    settings=CanaryVersionSettings,
    success="the canary runs the Kubernetes minor and CNI version of the prod clusters it guards, or newer",
)
def test_canary_not_behind_prod(cluster: ClusterView, fleet: FleetView, settings: CanaryVersionSettings) -> None:
    """A canary runs an older Kubernetes minor or CNI version than a prod cluster of its profile.

    What: for a cluster whose tier is ``canary``, every prod cluster of the
    same profile is compared with it: the API server's Kubernetes
    ``major.minor``, and the version of the primary CNI's agent image as
    :mod:`fleetcheck.facts.cni` detects it from the DaemonSets (``calico-node``
    running ``calico/node:v3.28.2``). A prod cluster on a newer Kubernetes
    minor, or on a newer version of the same CNI (to the patch by default;
    setting ``cni_precision: minor`` compares minors only), fails the
    canary; so does a prod cluster running a different CNI, which the canary
    cannot test at all. Unknown CNI versions (``:latest``, digests) are not
    compared (FC-CNI-003 reports them); prod clusters that cannot be read
    are named in the message and left out. Prod clusters themselves, and
    other tiers, are skipped with the reason: the canary is the one judged.
    Why: a canary only protects prod if it runs what prod is about to get.
    When prod was upgraded first (by hand, by a faster auto-upgrade channel,
    or because the canary was forgotten), the canary lags behind and the next
    upgrade or CNI bump meets prod untested: the canary is green because it
    runs something else.
    Fix: upgrade the canary to the prod clusters' Kubernetes minor and CNI
    version now, then make the upgrade pipeline (GitOps wave, CAPI
    MachineDeployment rollout, managed release channel) upgrade the canary
    before prod and stop on its failure.
    References: https://kubernetes.io/releases/version-skew-policy/ ;
    https://sre.google/workbook/canarying-releases/
    """
    mine = read_tier(cluster.labels)
    if mine.tier is None:
        skip(f"cannot tell whether {cluster.name} is a canary: {mine.problem()} (FC-TIER-001 reports it)")
    if mine.tier == "prod":
        skip("prod cluster: FC-TIER-003 judges the canary clusters that guard prod, not prod itself")
    if mine.tier != "canary":
        skip(f"{mine.tier} cluster ({mine.source}): only canaries are compared with the prod clusters they guard")
    profile = cluster.profile.name
    prods = [p for p in fleet.peers(cluster) if p.name != cluster.name and read_tier(p.labels).tier == "prod"]
    if not prods:
        skip(f"no prod cluster of profile {profile} in the fleet for this canary to guard")

    my_version = cluster.fact(SERVER_VERSION)
    my_cni = _cni(cluster).primary
    newer_k8s: list[str] = []
    newer_cni: list[str] = []
    other_cni: list[str] = []
    unreadable: list[str] = []
    compared = 0
    for prod in prods:
        try:
            version = prod.fact(SERVER_VERSION)
            detection = _cni(prod)
        except FleetcheckError as exc:
            unreadable.append(f"{prod.name} ({exc})")
            continue
        compared += 1
        if (version.major, version.minor) > (my_version.major, my_version.minor):
            newer_k8s.append(f"{prod.name} on {_k8s(version)}")
        theirs = detection.primary
        if my_cni is None or theirs is None:
            continue  # FC-CNI-001 reports a cluster with no known CNI
        if theirs.cni != my_cni.cni:
            other_cni.append(f"{prod.name} runs {theirs.cni} {theirs.version_text}")
        elif my_cni.version is not None and theirs.version is not None:
            precision = settings.cni_precision
            if _cni_key(theirs.version, precision) > _cni_key(my_cni.version, precision):
                newer_cni.append(f"{prod.name} on {theirs.version_note}")
    if compared == 0:
        skip(f"no prod cluster of profile {profile} could be read: {'; '.join(unreadable)}")
    problems: list[str] = []
    objects: list[str] = []
    if newer_k8s:
        problems.append(f"Kubernetes {_k8s(my_version)} is older than prod: {_names(newer_k8s)}")
    if newer_cni and my_cni is not None:
        problems.append(
            f"{my_cni.cni} {my_cni.version_note} ({my_cni.daemonset}) is older than prod: {_names(newer_cni)}"
        )
        objects.append(my_cni.daemonset)
    if other_cni and my_cni is not None:
        problems.append(f"it runs {_describe(my_cni)} but {_names(other_cni)}, which the canary cannot test")
        objects.append(my_cni.daemonset)
    if problems:
        left_out = f"; not compared, unreadable: {'; '.join(unreadable)}" if unreadable else ""
        fail(
            f"canary {cluster.name} guards prod clusters of profile {profile} but runs older versions: "
            f"{'; '.join(problems)}{left_out}; expected the canary on each prod cluster's Kubernetes minor "
            "and CNI version or newer, so every upgrade reaches the canary first",
            list(dict.fromkeys(objects)),
        )


def _describe(match: CniMatch) -> str:
    return f"{match.cni} {match.version_text}"
