"""Kubernetes minors past their support dates, upstream and at the provider (FC-SUP-*)."""

from __future__ import annotations

from datetime import UTC, date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fleetcheck import ClusterView, check, fail, skip
from fleetcheck.facts.provider import PROVIDER
from fleetcheck.redact import redact
from fleetcheck.reference_data import support_calendar


def _today(cluster: ClusterView) -> date:
    return cluster.server_time.astimezone(UTC).date()


def _minor(cluster: ClusterView) -> str:
    return f"{cluster.version.major}.{cluster.version.minor}"


class UpstreamSupportSettings(BaseModel):
    """Calendar overrides of FC-SUP-001."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    end_of_life: dict[str, date] = Field(
        default_factory=dict, description='upstream end-of-life dates added or replaced, e.g. {"1.37": 2027-10-28}'
    )


@check(
    "FC-SUP-001",
    title="Kubernetes minor past upstream end of life",
    factor="boring",
    severity="high",
    settings=UpstreamSupportSettings,
    success="the Kubernetes minor is within upstream support",
)
def test_minor_within_upstream_support(cluster: ClusterView, settings: UpstreamSupportSettings) -> None:
    """The cluster's Kubernetes minor is past its upstream end-of-life date.

    What: the API server's ``major.minor`` is looked up in the upstream
    calendar of ``support_calendar.yaml`` (dates from kubernetes.io/releases,
    shipped with the date they were taken; ``fleetcheck explain FC-SUP-001``
    prints them; a profile adds or replaces dates with ``end_of_life``). The
    cluster's time (API server clock, or a snapshot's capture time) after
    that date fails, naming the date. A minor the calendar does not list is
    unknown: newer than the table is skipped with the reason, older than it
    fails as long past its end of life. Counts toward *boring*: an
    unsupported minor is the one the rest of the fleet, its charts and its
    tools have moved on from.
    Why: after end of life a minor gets no patch releases: no CVE fixes,
    no Go runtime updates; providers refuse new node pools or upgrade it
    forcibly, and the next upgrade must then cross several minors one at a
    time under time pressure.
    Fix: plan the upgrade minor by minor (read each deprecation guide and
    FC-API-001/002 first), starting with the oldest clusters of the fleet.
    References: https://kubernetes.io/releases/ ;
    https://kubernetes.io/releases/patch-releases/#support-period
    """
    table = support_calendar()
    upstream = table.calendars["upstream"]
    dates = {minor: entry.standard_end for minor, entry in upstream.entries.items()} | settings.end_of_life
    minor = _minor(cluster)
    today = _today(cluster)
    source = "profile setting end_of_life" if minor in settings.end_of_life else table.citation()
    end = dates.get(minor)
    if end is None:
        known = sorted(dates, key=lambda m: tuple(int(p) for p in m.split(".")))
        newest = tuple(int(p) for p in known[-1].split(".")) if known else (0, 0)
        if (cluster.version.major, cluster.version.minor) > newest:
            skip(
                f"Kubernetes {minor} is newer than the calendar ({table.citation()}, newest {known[-1]}): its "
                "end of life is unknown; declare it with settings.FC-SUP-001.end_of_life"
            )
        fail(
            f"Kubernetes {redact(cluster.version.git_version)} (minor {minor}) is older than every minor in the "
            f"upstream calendar ({table.citation()}): long past end of life; expected a supported minor",
            [],
        )
    if today > end:
        fail(
            f"Kubernetes {redact(cluster.version.git_version)} (minor {minor}) reached upstream end of life on "
            f"{end.isoformat()}, {(today - end).days} days before {today.isoformat()} ({source}); expected a minor "
            "still receiving patch releases",
            [],
        )


class ProviderSupportSettings(BaseModel):
    """Provider and calendar overrides of FC-SUP-002."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: Literal["eks", "gke", "aks"] | None = Field(
        default=None, description="the managed provider (default: guessed from gitVersion and node labels)"
    )
    standard_end: dict[str, date] = Field(
        default_factory=dict, description="end of the provider's standard support per minor, added or replaced"
    )
    allow_extended: bool = Field(default=False, description="pass during paid extended support")


@check(
    "FC-SUP-002",
    title="Kubernetes minor past the provider's standard support",
    factor="boring",
    severity="medium",
    reads=["nodes"],
    settings=ProviderSupportSettings,
    success="the Kubernetes minor is within the provider's standard support",
)
def test_minor_within_provider_support(cluster: ClusterView, settings: ProviderSupportSettings) -> None:
    """A managed cluster's minor is past its provider's standard support (into paid extended support, or beyond).

    What: the provider is the profile's ``provider`` setting, else the
    provider fact (``fleetcheck/facts/provider_detection.py``: ``-eks-`` or ``-gke.`` in the
    gitVersion, ``kubernetes.azure.com/*``, ``eks.amazonaws.com/*`` or
    ``cloud.google.com/gke-*`` node labels, providerID, the pods present;
    a distribution such as RKE2 on EC2 is not EKS). The minor is looked up in that
    provider's calendar in ``support_calendar.yaml`` (EKS, GKE; AKS has no
    verified rows yet, so declare them with ``standard_end``). Past the end
    of standard support fails, saying whether extended support still runs
    and until when (``allow_extended: true`` accepts that period). Not a
    managed cluster, or no row for the minor: skipped with the reason.
    Counts toward *boring*: the same reason as FC-SUP-001, with a bill.
    Why: EKS charges extended support per cluster-hour (six times the
    standard price) and auto-upgrades when it ends; GKE and AKS upgrade
    clusters on their own schedule once support ends, which is an
    unplanned, fleet-wide change nobody tested.
    Fix: upgrade before the standard-support date the finding names; or,
    when extended support is a decision, record it with ``allow_extended``.
    References: https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html ;
    https://cloud.google.com/kubernetes-engine/docs/release-schedule ;
    https://learn.microsoft.com/en-us/azure/aks/supported-kubernetes-versions
    """
    if settings.provider:
        provider, evidence = settings.provider, "profile setting provider"
    else:
        detection = cluster.fact(PROVIDER)
        evidence = "; ".join(detection.evidence) or detection.describe()
        if not detection.managed_control_plane:
            skip(f"not recognised as a managed cluster ({redact(evidence)}); FC-SUP-001 applies")
        provider = detection.provider
    table = support_calendar()
    calendar = table.calendars.get(provider)
    minor = _minor(cluster)
    entries = {m: (e.standard_end, e.extended_end) for m, e in (calendar.entries.items() if calendar else [])}
    entries |= {m: (d, entries.get(m, (d, None))[1]) for m, d in settings.standard_end.items()}
    if minor not in entries:
        skip(
            f"{provider} (from {redact(evidence)}): no support dates for {minor} in {table.citation()}; declare "
            "them with settings.FC-SUP-002.standard_end"
        )
    standard_end, extended_end = entries[minor]
    today = _today(cluster)
    if today <= standard_end:
        return
    source = calendar.source if calendar and minor not in settings.standard_end else "profile setting standard_end"
    if extended_end is not None and today <= extended_end:
        if settings.allow_extended:
            return
        state = f"in paid extended support until {extended_end.isoformat()}"
    else:
        state = "past extended support too" if extended_end else "with no extended support listed"
    fail(
        f"{provider} (from {redact(evidence)}) ended standard support for Kubernetes {minor} on "
        f"{standard_end.isoformat()}; on {today.isoformat()} the cluster is {state} ({source}); expected a minor in "
        "standard support",
        [],
    )
