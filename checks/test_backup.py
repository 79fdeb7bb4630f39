"""Recoverable: backups that run, cover every tenant namespace, are fresh, and have been restored (FC-BACKUP-*).

All four read Velero's custom resources. "Now" is the API server's clock
when the kind was listed (a snapshot's capture time), never the runner's.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from fleetcheck import ClusterView, Findings, KindUnavailable, check, fail, object_ref, skip
from fleetcheck.facts.velero import (
    BACKUPS,
    BSLS,
    FAILED_PHASES,
    FINISHED_PHASES,
    RESTORES,
    SCHEDULES,
    VELERO_KINDS,
    ScheduleScope,
    backups_by_schedule,
    describe_age,
    finished_at,
    parse_time,
    phase_of,
    started_at,
)

NO_VELERO = "no Velero (see FC-BACKUP-001)"


def _schedules(cluster: ClusterView) -> list[ScheduleScope]:
    return cluster.memo("velero.schedules", lambda: [ScheduleScope.from_object(s) for s in cluster.list(SCHEDULES)])


def _served(cluster: ClusterView, kind: str) -> bool:
    """Whether the CRD of ``kind`` is installed; a kind that exists but cannot be listed counts as installed.

    Only the storage locations need reading here; a scan whose RBAC forbids
    listing Backups still learns from discovery that Velero is there (the
    checks that read Backups report the forbidden list themselves).
    """
    try:
        return cluster.serves(kind)
    except KindUnavailable:
        return True


@check(
    "FC-BACKUP-001",
    title="No backup system: Velero absent or no BackupStorageLocation Available",
    factor="recoverable",
    severity="high",
    reads=[BSLS],
    success="Velero is installed and at least one BackupStorageLocation is Available",
)
def test_backup_system_available(cluster: ClusterView) -> None:
    """The cluster has no working backup system: Velero's CRDs are absent, or no storage location is Available.

    What: the ``velero.io`` kinds (BackupStorageLocation, Schedule, Backup,
    Restore) must be served (their CRDs installed, as discovery shows), and at
    least one BackupStorageLocation must report ``status.phase: Available``,
    which Velero sets after it could reach the bucket. Development clusters
    are checked too, unless their profile ignores or waives the code.
    Why: without a backup system a deleted namespace, a botched migration or a
    lost etcd is unrecoverable; and a Velero whose storage location is
    Unavailable (expired cloud credentials, a deleted bucket, a changed
    endpoint) keeps creating Schedules' Backups that all fail, silently, until
    the day a restore is needed.
    Fix: install Velero (``velero install --provider ... --bucket ...`` or its
    Helm chart) with a BackupStorageLocation; if one exists but is
    Unavailable, ``kubectl -n velero describe backupstoragelocation NAME``
    shows why (often the credentials Secret), then fix the credentials or
    bucket so the phase turns Available.
    References: https://velero.io/docs/main/locations/ ;
    https://velero.io/docs/main/api-types/backupstoragelocation/
    """
    missing = [kind for kind in VELERO_KINDS if not _served(cluster, kind)]
    if len(missing) == len(VELERO_KINDS):
        fail(
            "no backup system: the Velero CRDs are not installed (velero.io/v1 backupstoragelocations, "
            "schedules, backups, restores are not served); expected Velero with at least one "
            "BackupStorageLocation in phase Available"
        )
    if missing:
        fail(
            f"Velero is only partly installed: no CRD serves {', '.join(missing)}; expected every velero.io CRD "
            "(re-run 'velero install' or the Helm chart's CRD upgrade)"
        )
    locations = cluster.list(BSLS)
    if not locations:
        fail(
            "Velero is installed but has no BackupStorageLocation, so backups have nowhere to go; expected at "
            "least one BackupStorageLocation in phase Available"
        )
    if any(phase_of(bsl) == "Available" for bsl in locations):
        return
    findings = Findings()
    for bsl in locations:
        status = bsl.get("status") or {}
        detail = f"phase {phase_of(bsl) or 'not set (never validated)'}"
        if status.get("message"):
            detail += f": {' '.join(str(status['message']).split())}"
        if status.get("lastValidationTime"):
            detail += f" (last validated {status['lastValidationTime']})"
        findings.add(object_ref(bsl, "BackupStorageLocation"), detail)
    findings.raise_if_any(
        f"none of {len(locations)} BackupStorageLocations is Available (expected status.phase Available on at least "
        "one), so every backup fails"
    )


class CoverageSettings(BaseModel):
    """Settings of FC-BACKUP-002."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label_selectors_cover: bool = Field(
        default=True,
        description="count a Schedule whose template has a labelSelector/orLabelSelectors as covering the "
        "namespaces it includes (false: only Schedules that take every object count)",
    )


def _uncovered_reason(namespace: str, scopes: list[ScheduleScope], selectors_cover: bool) -> str | None:
    """Why no running Schedule backs ``namespace`` up, or None when one does."""
    including = [s for s in scopes if s.includes(namespace)]
    running = [s for s in including if s.runs]
    if any(s.selector is None or selectors_cover for s in running):
        return None
    if running:
        shown = ", ".join(f"{s.ref} (labelSelector {s.selector})" for s in running)
        return f"only Schedules with a label selector include it: {shown}; objects without those labels are lost"
    if including:
        shown = ", ".join(f"{s.ref} ({'paused' if s.paused else 'phase ' + s.phase})" for s in including)
        return f"only Schedules that do not run include it: {shown}"
    excluding = [s for s in scopes if s.runs and s.excludes(namespace)]
    if excluding:
        return f"excluded by {', '.join(s.ref for s in excluding)} (spec.template.excludedNamespaces)"
    return "no Schedule includes it" if scopes else "no Schedule exists"


@check(
    "FC-BACKUP-002",
    title="Tenant namespace covered by no unpaused Velero Schedule",
    factor="recoverable",
    severity="high",
    reads=["namespaces", SCHEDULES],
    settings=CoverageSettings,
    success="every tenant namespace is included by an unpaused Velero Schedule",
)
def test_namespaces_covered_by_schedule(cluster: ClusterView, settings: CoverageSettings) -> None:
    """A non-system namespace is backed up by no unpaused Velero Schedule.

    What: for every namespace that is not a system namespace of the profile
    (and not terminating), some Schedule that is not paused and did not fail
    validation must include it: ``spec.template.includedNamespaces`` absent,
    ``*``, the name or a glob matching it, and ``excludedNamespaces`` not
    naming it (exclusion wins, as in Velero). A Schedule whose template has a
    ``labelSelector`` or ``orLabelSelectors`` backs up only the labelled
    objects; it counts as coverage unless the setting
    ``label_selectors_cover`` is false, and the finding then names it.
    Why: Schedules are usually written once, listing the namespaces that
    existed then; every team onboarded later is silently left out, and a
    Schedule paused for maintenance and never resumed covers nothing. The gap
    shows only when a restore is needed.
    Fix: include the namespace in a running Schedule (an ``includedNamespaces:
    ['*']`` Schedule with explicit ``excludedNamespaces`` covers new
    namespaces by default), or resume the paused one with ``velero schedule
    unpause NAME``; fix a FailedValidation Schedule's cron or spec.
    References: https://velero.io/docs/main/api-types/schedule/ ;
    https://velero.io/docs/main/resource-filtering/
    """
    if not cluster.serves(SCHEDULES):
        skip(NO_VELERO)
    namespaces = [str(ns["metadata"]["name"]) for ns in cluster.tenant_namespaces()]
    if not namespaces:
        skip("no tenant namespaces (only system namespaces of the profile)")
    scopes = _schedules(cluster)
    findings = Findings()
    for name in namespaces:
        reason = _uncovered_reason(name, scopes, settings.label_selectors_cover)
        if reason:
            findings.add(f"Namespace/{name}", reason)
    findings.raise_if_any(
        f"{len(findings)} of {len(namespaces)} tenant namespaces are covered by no unpaused Schedule (expected: an "
        "unpaused Schedule whose spec.template.includedNamespaces is '*' or names the namespace, and whose "
        "excludedNamespaces does not)"
    )


class RpoSettings(BaseModel):
    """Settings of FC-BACKUP-003."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rpo_hours: float = Field(
        default=26.0, gt=0, description="the newest Completed backup of each Schedule must be younger than this"
    )


def _backup_problem(backup: dict[str, Any]) -> str:
    """``velero/Backup/x PartiallyFailed (3 errors) reason: ...``: what ``velero backup describe`` would lead with."""
    status = backup.get("status") or {}
    parts = [f"{object_ref(backup, 'Backup')} {phase_of(backup)}"]
    counts = [
        f"{status[key]} {key if status[key] != 1 else key[:-1]}" for key in ("errors", "warnings") if status.get(key)
    ]
    if counts:
        parts.append(f"({', '.join(counts)})")
    if status.get("failureReason"):
        parts.append(f"reason: {' '.join(str(status['failureReason']).split())}")
    if status.get("validationErrors"):
        parts.append(f"validation: {'; '.join(str(e) for e in status['validationErrors'])}")
    return " ".join(parts)


@check(
    "FC-BACKUP-003",
    title="Newest scheduled backup older than the RPO, or failed",
    factor="recoverable",
    severity="high",
    reads=[SCHEDULES, BACKUPS],
    settings=RpoSettings,
    success="every unpaused Schedule's newest backup Completed within the RPO",
)
def test_backups_fresh_and_successful(cluster: ClusterView, settings: RpoSettings) -> None:
    """A running Schedule's newest Completed backup is older than the RPO, or its newest backup failed.

    What: for every Schedule that is not paused (nor FailedValidation), its
    Backups are found by the label ``velero.io/schedule-name``. The newest
    finished one (by ``status.startTimestamp``) must not be ``Failed``,
    ``PartiallyFailed`` or ``FailedValidation``, and the newest ``Completed``
    one must have finished (``status.completionTimestamp``) within the RPO,
    default 26 hours (a daily schedule plus slack), measured against the API
    server's clock when Backups were listed. A Schedule created less than one
    RPO ago with no backup yet is not judged. Manual backups do not count.
    Why: a Schedule that exists is not a backup that works: the storage
    credentials expire, a volume snapshotter breaks, a webhook times out, and
    Velero records Failed or PartiallyFailed every night while dashboards show
    a Schedule. PartiallyFailed means some objects or volumes are missing from
    the backup, which is found out during the restore.
    Fix: ``velero backup describe NAME --details`` and ``velero backup logs
    NAME`` show what failed; fix it, then ``velero backup create --from-schedule
    SCHEDULE`` to get a fresh backup now. Set the RPO with ``settings:
    {FC-BACKUP-003: {rpo_hours: 26}}``.
    References: https://velero.io/docs/main/api-types/backup/ ;
    https://velero.io/docs/main/troubleshooting/
    """
    if not (cluster.serves(SCHEDULES) and cluster.serves(BACKUPS)):
        skip(NO_VELERO)
    running = [s for s in _schedules(cluster) if s.runs]
    if not running:
        skip("no unpaused Schedule to hold to the RPO (see FC-BACKUP-002)")
    now = cluster.read_time(BACKUPS)
    rpo = timedelta(hours=settings.rpo_hours)
    grouped = backups_by_schedule(cluster.list(BACKUPS))
    findings = Findings()
    for schedule in running:
        namespace = schedule.ref.split("/", 1)[0]
        backups = grouped.get(f"{namespace}/{schedule.name}", [])
        finished = [b for b in backups if phase_of(b) in FINISHED_PHASES]
        if finished and phase_of(finished[0]) in FAILED_PHASES:
            when = finished_at(finished[0]) or started_at(finished[0])
            age = f", {describe_age(now - when)} ago" if when else ""
            findings.add(schedule.ref, f"newest backup {_backup_problem(finished[0])}{age}")
            continue
        completed = [b for b in finished if phase_of(b) == "Completed"]
        if not completed:
            if schedule.created is not None and now - schedule.created < rpo:
                continue
            pending = len(backups) - len(finished)
            findings.add(
                schedule.ref,
                "no Completed backup" + (f" ({pending} not finished yet)" if pending else " (none at all)"),
            )
            continue
        newest = completed[0]
        done = finished_at(newest) or started_at(newest)
        if done is None or now - done > rpo:
            age = f"finished {describe_age(now - done)} ago ({done:%Y-%m-%d %H:%M}Z)" if done else "with no timestamp"
            findings.add(
                schedule.ref,
                f"newest Completed backup {object_ref(newest, 'Backup')} {age}, older than the RPO of "
                f"{settings.rpo_hours:g}h",
            )
    findings.raise_if_any(
        f"{len(findings)} of {len(running)} unpaused Schedules break the RPO (expected: newest backup Completed, "
        f"finished within {settings.rpo_hours:g}h of {now:%Y-%m-%d %H:%M}Z)"
    )


class DrillSettings(BaseModel):
    """Settings of FC-BACKUP-004."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    drill_interval_days: float = Field(
        default=92.0, gt=0, description="a Restore must have Completed within this many days"
    )


@check(
    "FC-BACKUP-004",
    title="No Completed restore drill within the drill interval",
    factor="recoverable",
    severity="medium",
    reads=[RESTORES, "namespaces"],
    settings=DrillSettings,
    success="a Velero Restore Completed within the drill interval",
)
def test_restore_drill_recent(cluster: ClusterView, settings: DrillSettings) -> None:
    """No Velero Restore Completed within the drill interval (default 92 days).

    What: the newest Restore with ``status.phase: Completed`` must have
    finished (``status.completionTimestamp``, else its start) within the
    interval, measured against the API server's clock when Restores were
    listed. A cluster younger than one interval (its ``kube-system``
    namespace's creation) is skipped with the date its first drill is due.
    Why: a backup nobody has restored is a hope, not a backup: restores fail
    on missing CRDs, on volumes whose snapshots cannot be read in another
    zone, on admission webhooks, on ordering. A quarterly drill finds that
    while nothing is on fire, and keeps the runbook working.
    Fix: restore a recent backup into scratch namespaces, e.g. ``velero restore
    create drill-$(date +%F) --from-backup BACKUP --namespace-mappings
    team-a:team-a-drill``, check the application, then delete the copies
    (Restore objects are kept as the record). Tune with ``settings:
    {FC-BACKUP-004: {drill_interval_days: 92}}``.
    References: https://velero.io/docs/main/restore-reference/ ;
    https://velero.io/docs/main/api-types/restore/
    """
    if not cluster.serves(RESTORES):
        skip(NO_VELERO)
    now = cluster.read_time(RESTORES)
    interval = timedelta(days=settings.drill_interval_days)
    restores = cluster.list(RESTORES)
    dated = [(when, r) for r in restores if phase_of(r) == "Completed" and (when := finished_at(r) or started_at(r))]
    newest_at, newest = max(dated, key=lambda pair: pair[0]) if dated else (None, None)
    if newest_at is not None and now - newest_at <= interval:
        return
    born = next(
        (
            parse_time(ns["metadata"].get("creationTimestamp"))
            for ns in cluster.list("namespaces")
            if ns["metadata"].get("name") == "kube-system"
        ),
        None,
    )
    if born is not None and now - born < interval:
        skip(
            f"the cluster is {describe_age(now - born)} old (kube-system created {born:%Y-%m-%d}); its first restore "
            f"drill is due by {born + interval:%Y-%m-%d} (drill interval {settings.drill_interval_days:g} days)"
        )
    expected = f"expected a Completed Restore within {settings.drill_interval_days:g} days of {now:%Y-%m-%d}"
    if newest is not None and newest_at is not None:
        later = [
            f"{object_ref(r, 'Restore')} {phase_of(r) or 'no phase'}"
            for r in restores
            if phase_of(r) != "Completed" and (started_at(r) or newest_at) > newest_at
        ]
        since = f" (since then: {', '.join(later)})" if later else ""
        fail(
            f"the newest Completed Restore {object_ref(newest, 'Restore')} finished {describe_age(now - newest_at)} "
            f"ago ({newest_at:%Y-%m-%d}){since}; {expected}",
            [object_ref(newest, "Restore")],
        )
    others = sorted({phase_of(r) or "no phase" for r in restores})
    seen = f" ({len(restores)} Restores, phases: {', '.join(others)})" if restores else ""
    fail(
        f"no Restore has ever Completed{seen}; {expected}",
        [object_ref(r, "Restore") for r in restores[:10]],
    )
