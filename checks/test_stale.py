"""Owned: every cluster has an owner and a date to justify itself again; none is forgotten (FC-STALE-*).

Ownership and dates are read from two places, registry first:

- the cluster's registry labels (fleet file, or a snapshot's ``cluster.yaml``):
  ``owner``, ``expires`` and ``review``;
- annotations on the cluster's ``kube-system`` Namespace, for clusters whose
  registry entry is generated (kubeconfig contexts, CAPI) and carries no
  labels: ``fleetcheck.io/owner``, ``fleetcheck.io/expires`` and
  ``fleetcheck.io/review``. Set them with ``kubectl annotate namespace
  kube-system fleetcheck.io/owner=team-a fleetcheck.io/review=2027-03-31``.

A date is ``YYYY-MM-DD`` (the cluster is fine through that day) or an RFC
3339 time (``2027-03-31T18:00:00Z``). For each of ``expires`` and ``review``
the registry label wins over the annotation.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from fleetcheck import ClusterView, check, fail, object_ref, skip

Obj = dict[str, Any]

#: Annotations on the kube-system Namespace that stand in for registry labels.
OWNER_ANNOTATION = "fleetcheck.io/owner"
EXPIRES_ANNOTATION = "fleetcheck.io/expires"
REVIEW_ANNOTATION = "fleetcheck.io/review"
_DATE_KEYS = (("expires", EXPIRES_ANNOTATION), ("review", REVIEW_ANNOTATION))
_WORKLOAD_KINDS = (
    ("deployments", "Deployment"),
    ("statefulsets", "StatefulSet"),
    ("daemonsets", "DaemonSet"),
    ("replicasets", "ReplicaSet"),
)


def _kube_system(cluster: ClusterView) -> Obj:
    for ns in cluster.list("namespaces"):
        if (ns.get("metadata") or {}).get("name") == "kube-system":
            return ns
    return {}


def _annotations(obj: Obj) -> dict[str, str]:
    return {str(k): str(v) for k, v in ((obj.get("metadata") or {}).get("annotations") or {}).items()}


def parse_timestamp(value: str) -> datetime | None:
    """An RFC 3339 time as an aware datetime (naive times are taken as UTC), else ``None``."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Deadline:
    """A declared expiry or review date, and where it was declared."""

    key: str
    source: str
    text: str
    #: the first moment the date has passed; ``None`` when ``text`` is not a date
    due: datetime | None
    #: the calendar day, when declared as ``YYYY-MM-DD``
    day: date | None = None

    @classmethod
    def parse(cls, key: str, source: str, text: str) -> Deadline:
        """``2027-03-31`` is due at the end of that day (UTC); an RFC 3339 time is due at that time."""
        stripped = text.strip()
        try:
            day = date.fromisoformat(stripped)
        except ValueError:
            return cls(key, source, stripped, parse_timestamp(stripped) if "T" in stripped.upper() else None)
        return cls(key, source, stripped, datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC), day)

    def describe(self) -> str:
        """``expires 2026-10-01 (registry label expires)``."""
        return f"{self.key} {self.text} ({self.source})"

    def overdue(self, now: datetime) -> str:
        """``55 days ago``: how long ago the date was (by calendar day for a day)."""
        if self.day is not None:
            return f"{_age(timedelta(days=(now.astimezone(UTC).date() - self.day).days))} ago"
        return f"{_age(now - self.due)} ago" if self.due is not None else "at an unknown time"


@dataclass(frozen=True)
class Stewardship:
    """Who owns the cluster and when it must justify itself again."""

    owner: str | None
    owner_source: str | None
    deadlines: tuple[Deadline, ...]

    @classmethod
    def read(cls, cluster: ClusterView) -> Stewardship:
        """From the registry labels, else the kube-system Namespace's annotations."""
        annotations = _annotations(_kube_system(cluster))
        labels = cluster.labels
        owner, owner_source = None, None
        if (labels.get("owner") or "").strip():
            owner, owner_source = labels["owner"].strip(), "registry label owner"
        elif annotations.get(OWNER_ANNOTATION, "").strip():
            owner, owner_source = annotations[OWNER_ANNOTATION].strip(), f"kube-system annotation {OWNER_ANNOTATION}"
        deadlines: list[Deadline] = []
        for key, annotation in _DATE_KEYS:
            if (labels.get(key) or "").strip():
                deadlines.append(Deadline.parse(key, f"registry label {key}", labels[key]))
            elif annotations.get(annotation, "").strip():
                deadlines.append(Deadline.parse(key, f"kube-system annotation {annotation}", annotations[annotation]))
        return cls(owner, owner_source, tuple(deadlines))

    @property
    def dates(self) -> list[Deadline]:
        """The declared dates that parse."""
        return [d for d in self.deadlines if d.due is not None]


@check(
    "FC-STALE-001",
    title="Cluster without an owner or an expiry/review date",
    factor="owned",
    severity="medium",
    reads=["namespaces"],
    success="the cluster names its owner and an expiry or review date",
)
def test_cluster_has_owner_and_date(cluster: ClusterView) -> None:
    """The cluster has no owner, or no expiry or review date.

    What: the owner comes from the registry label ``owner``, else the
    ``fleetcheck.io/owner`` annotation of the ``kube-system`` Namespace; the
    date from the registry labels ``expires`` or ``review``, else the
    annotations ``fleetcheck.io/expires`` or ``fleetcheck.io/review``. A
    date must be ``YYYY-MM-DD`` or an RFC 3339 time; one that does not parse
    (``next spring``, ``never``) counts as missing.
    Why: clusters are cheap to create and nobody's job to delete. A cluster
    without an owner gets no upgrades, no incident response and no
    decision when it is no longer needed; one without a date is never asked
    whether it still is. The result is the forgotten cluster of the seed
    notes: paying a control plane, running an unpatched Kubernetes with
    credentials that still work.
    Fix: add ``owner`` (a team or on-call alias that outlives one person) and
    ``expires`` (temporary clusters) or ``review`` (permanent ones) to the
    cluster's labels in the fleet file or ``cluster.yaml``, e.g. ``labels:
    {owner: team-payments, review: 2027-03-31}``; for clusters without
    registry labels, ``kubectl annotate namespace kube-system
    fleetcheck.io/owner=team-payments fleetcheck.io/review=2027-03-31``.
    References: https://kubernetes.io/docs/concepts/overview/working-with-objects/annotations/ ;
    https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/
    """
    found = Stewardship.read(cluster)
    missing: list[str] = []
    if found.owner is None:
        missing.append(f"no owner (registry label owner, or kube-system annotation {OWNER_ANNOTATION})")
    unparsed = [d for d in found.deadlines if d.due is None]
    if not found.dates:
        where = (
            f"registry label expires or review, or kube-system annotation {EXPIRES_ANNOTATION} or {REVIEW_ANNOTATION}"
        )
        if unparsed:
            bad = ", ".join(f"{d.source} is {d.text!r}" for d in unparsed)
            missing.append(f"no expiry or review date ({bad}, not a date)")
        else:
            missing.append(f"no expiry or review date ({where})")
    if missing:
        fail(
            f"cluster {cluster.name} has {' and '.join(missing)}; "
            "expected an owner and an expiry or review date as YYYY-MM-DD",
            [],
        )


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def _age(delta: timedelta) -> str:
    days = delta.days
    return f"{days} days" if days != 1 else "1 day"


@check(
    "FC-STALE-002",
    title="Cluster past its expiry or review date",
    factor="owned",
    severity="high",
    reads=["namespaces"],
    success="the cluster's expiry and review dates are still ahead",
)
def test_cluster_not_expired(cluster: ClusterView) -> None:
    """The cluster's expiry or review date has passed.

    What: each declared date (see FC-STALE-001 for where they are read) is
    compared with the cluster's now: the API server's clock, or the
    snapshot's capture time. A ``YYYY-MM-DD`` date holds through that day
    (UTC) and has passed from the next day; an RFC 3339 time has passed
    at that time. Clusters with no parseable date are skipped (FC-STALE-001
    reports them).
    Why: an expiry date nobody acts on is worse than none: it says someone
    decided, when nobody did. An expired test cluster still runs (and still
    costs its control plane and nodes); an expired review means a permanent
    cluster has gone unexamined, often with an owner who moved on.
    Fix: ask the owner whether the cluster is still needed. If not, drain and
    delete it (and remove it from the fleet file); if so, set a new date in
    the registry label (or the kube-system annotation) after that decision.
    References: https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/
    """
    found = Stewardship.read(cluster)
    dates = found.dates
    if not dates:
        skip("no parseable expiry or review date declared (FC-STALE-001 reports it)")
    now = cluster.server_time
    passed = [d for d in dates if d.due is not None and now >= d.due]
    if passed:
        owner = f"owner {found.owner} ({found.owner_source})" if found.owner else "no owner declared"
        listed = "; ".join(f"{d.describe()}, {d.overdue(now)}" for d in passed)
        fail(
            f"cluster {cluster.name} is past its date: {listed} (the cluster's now is "
            f"{_stamp(now)}); {owner}; expected a date after now: "
            "decommission the cluster, or set a new date once its owner confirms it is still needed",
            [],
        )


class IdleSettings(BaseModel):
    """Settings of FC-STALE-003."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    idle_days: int = Field(default=30, ge=1, le=3650, description="no workload change within this many days fails")


@dataclass(frozen=True)
class Activity:
    """One sign of life: a workload created or a Deployment condition updated."""

    at: datetime
    ref: str
    what: str


def _activities(cluster: ClusterView) -> Iterator[Activity]:
    for plural, kind in _WORKLOAD_KINDS:
        for obj in cluster.list(plural):
            meta = obj.get("metadata") or {}
            if cluster.is_system_namespace(str(meta.get("namespace", ""))):
                continue
            ref = object_ref(obj, kind)
            created = parse_timestamp(str(meta.get("creationTimestamp") or ""))
            if created is not None:
                yield Activity(created, ref, "created")
            if kind != "Deployment":
                continue
            for condition in (obj.get("status") or {}).get("conditions") or []:
                updated = parse_timestamp(str(condition.get("lastUpdateTime") or ""))
                if updated is not None:
                    yield Activity(updated, ref, f"condition {condition.get('type', '?')} updated")


def _born(cluster: ClusterView) -> datetime | None:
    created = (_kube_system(cluster).get("metadata") or {}).get("creationTimestamp")
    return parse_timestamp(str(created)) if created else None


@check(
    "FC-STALE-003",
    title="No workload created or changed in the last N days",
    factor="owned",
    severity="low",
    reads=["namespaces", "deployments", "statefulsets", "daemonsets", "replicasets"],
    settings=IdleSettings,
    success="workloads in tenant namespaces were created or rolled out recently",
)
def test_cluster_recently_changed(cluster: ClusterView, settings: IdleSettings) -> None:
    """No workload in a tenant namespace was created or changed in the last N days (default 30).

    What: the newest sign of change among the tenant namespaces' workloads
    (namespaces that are not system namespaces of the profile, nor the
    provider's own, such as GKE's ``gmp-system``): the
    ``creationTimestamp`` of Deployments, StatefulSets, DaemonSets and
    ReplicaSets (a Deployment's new ReplicaSet is a rollout) and the
    ``lastUpdateTime`` of Deployment conditions. It must be within
    ``idle_days`` of the cluster's now. Pods and Jobs do not count: they are
    created by controllers and CronJobs on clusters nobody touches.
    StatefulSet and DaemonSet rollouts that create no new object are not
    seen. A cluster younger than ``idle_days`` (by its ``kube-system``
    Namespace) is skipped.
    Why: a cluster where nothing has been deployed for a month is either
    done (and should be deleted) or forgotten (and drifting: no upgrades go
    where no deploys go). Either way it costs a control plane and nodes, and
    carries credentials and exposed endpoints no one watches.
    Fix: ask the owner (FC-STALE-001) whether the cluster is still needed;
    decommission it, or consolidate its workloads onto a shared cluster
    (FC-COST-001). For a cluster that is meant to stay frozen (a DR standby),
    waive FC-STALE-003 in the profile with a reason and an expiry, or raise
    ``settings: {FC-STALE-003: {idle_days: 90}}``.
    References: https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#deployment-status ;
    https://kubernetes.io/docs/concepts/overview/working-with-objects/owners-dependents/
    """
    now = cluster.server_time
    window = timedelta(days=settings.idle_days)
    born = _born(cluster)
    if born is not None and now - born < window:
        skip(
            f"the cluster is only {_age(now - born)} old (kube-system created {born.strftime('%Y-%m-%d')}), "
            f"younger than the {settings.idle_days}-day window"
        )
    newest = max(_activities(cluster), key=lambda a: a.at, default=None)
    if newest is None:
        fail(
            f"no workload (Deployment, StatefulSet, DaemonSet, ReplicaSet) runs in a tenant namespace of "
            f"{cluster.name}, so nothing was created or changed in the last {settings.idle_days} days; "
            "expected recent workload changes, or the cluster decommissioned",
            [],
        )
    if now - newest.at > window:
        fail(
            f"no workload in a tenant namespace was created or changed in the last {settings.idle_days} days: "
            f"the newest change is {newest.ref} ({newest.what} {_stamp(newest.at)}), "
            f"{_age(now - newest.at)} before the cluster's now ({_stamp(now)}); "
            f"expected a change within {settings.idle_days} days, or the cluster decommissioned",
            [newest.ref],
        )
