"""Velero objects as the backup checks read them: storage locations, Schedules, Backups, Restores.

Velero keeps its whole state in custom resources (``velero.io/v1``): where
backups go (BackupStorageLocation, ``status.phase: Available``), what is
backed up and when (Schedule, ``spec.template`` is a Backup spec), and what
happened (Backup and Restore, ``status.phase`` and timestamps). These
helpers turn those objects into the few facts the FC-BACKUP checks judge,
so the checks read as rules, not as dictionary digging.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "BACKUPS",
    "BSLS",
    "FAILED_PHASES",
    "FINISHED_PHASES",
    "RESTORES",
    "SCHEDULES",
    "SCHEDULE_LABEL",
    "VELERO_KINDS",
    "ScheduleScope",
    "backups_by_schedule",
    "describe_age",
    "finished_at",
    "parse_time",
    "phase_of",
    "started_at",
]

Obj = dict[str, Any]

BSLS = "velero.io/v1 backupstoragelocations"
SCHEDULES = "velero.io/v1 schedules"
BACKUPS = "velero.io/v1 backups"
RESTORES = "velero.io/v1 restores"
#: The kinds whose CRDs make "Velero is installed".
VELERO_KINDS = (BSLS, SCHEDULES, BACKUPS, RESTORES)
#: Label Velero puts on every Backup a Schedule creates.
SCHEDULE_LABEL = "velero.io/schedule-name"
#: Backup phases after which nothing changes any more.
FINISHED_PHASES = frozenset({"Completed", "PartiallyFailed", "Failed", "FailedValidation"})
#: Finished phases that mean "this backup cannot be trusted to restore everything".
FAILED_PHASES = frozenset({"PartiallyFailed", "Failed", "FailedValidation"})
#: Sorts before every real timestamp (objects with none go last when newest come first).
_DAWN = datetime.min.replace(tzinfo=UTC)


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 timestamp (``2026-11-24T10:00:00Z``, fractions and offsets too) as an aware datetime."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def phase_of(obj: Obj) -> str:
    """``status.phase``, or ``""`` when the controller has not set one yet."""
    return str((obj.get("status") or {}).get("phase") or "")


def started_at(obj: Obj) -> datetime | None:
    """When a Backup or Restore started (``status.startTimestamp``), else when it was created."""
    status = obj.get("status") or {}
    return parse_time(status.get("startTimestamp")) or parse_time((obj.get("metadata") or {}).get("creationTimestamp"))


def finished_at(obj: Obj) -> datetime | None:
    """``status.completionTimestamp``: when a Backup or Restore finished (any outcome)."""
    return parse_time((obj.get("status") or {}).get("completionTimestamp"))


def describe_age(delta: timedelta) -> str:
    """``3d 4h``, ``5h 12m`` or ``40m``: an age a person reads at a glance."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {mins}m"
    return f"{mins}m"


def _selector_text(selector: Any) -> str | None:
    if not isinstance(selector, dict):
        return None
    parts = [f"{key}={value}" for key, value in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        values = ",".join(str(v) for v in expr.get("values") or [])
        parts.append(f"{expr.get('key')} {str(expr.get('operator', '')).lower()} ({values})".replace(" ()", ""))
    return ",".join(parts) or None


def _names(value: Any) -> tuple[str, ...]:
    return tuple(str(item) for item in value or [] if item is not None and str(item) != "")


@dataclass(frozen=True)
class ScheduleScope:
    """The namespaces a Schedule backs up, and whether it runs at all."""

    ref: str
    name: str
    paused: bool
    #: ``status.phase``: ``FailedValidation`` means Velero never runs it (bad cron, bad spec)
    phase: str
    included: tuple[str, ...]
    excluded: tuple[str, ...]
    #: the object label selector(s) of the template, as ``k=v`` text; None when every object is taken
    selector: str | None
    created: datetime | None

    @classmethod
    def from_object(cls, schedule: Obj) -> ScheduleScope:
        """Read a ``velero.io/v1`` Schedule (corpus manifest 19)."""
        meta = schedule.get("metadata") or {}
        spec = schedule.get("spec") or {}
        template = spec.get("template") or {}
        selector = _selector_text(template.get("labelSelector"))
        alternatives = [text for text in map(_selector_text, template.get("orLabelSelectors") or []) if text]
        if alternatives:
            selector = " or ".join(f"({text})" for text in alternatives)
        return cls(
            ref=f"{meta.get('namespace', '')}/Schedule/{meta.get('name', '?')}",
            name=str(meta.get("name", "")),
            paused=bool(spec.get("paused")),
            phase=phase_of(schedule),
            included=_names(template.get("includedNamespaces")),
            excluded=_names(template.get("excludedNamespaces")),
            selector=selector,
            created=parse_time(meta.get("creationTimestamp")),
        )

    @property
    def runs(self) -> bool:
        """Not paused and not rejected by Velero's validation."""
        return not self.paused and self.phase != "FailedValidation"

    def includes(self, namespace: str) -> bool:
        """Whether the template selects ``namespace`` (Velero's rules: no list or ``*`` is all, globs match).

        ``excludedNamespaces`` wins over ``includedNamespaces``, as in Velero.
        """
        if any(fnmatch.fnmatchcase(namespace, pattern) for pattern in self.excluded):
            return False
        if not self.included:
            return True
        return any(pattern == "*" or fnmatch.fnmatchcase(namespace, pattern) for pattern in self.included)

    def excludes(self, namespace: str) -> bool:
        """Whether ``excludedNamespaces`` names ``namespace`` explicitly (or by glob)."""
        return any(fnmatch.fnmatchcase(namespace, pattern) for pattern in self.excluded)


def backups_by_schedule(backups: Iterable[Obj]) -> dict[str, list[Obj]]:
    """Backups grouped by the Schedule that made them (label ``velero.io/schedule-name``), newest first.

    Manual backups (no label) are left out: the RPO is a promise the
    Schedules make. Backups being deleted do not count either.
    """
    grouped: dict[str, list[Obj]] = {}
    for backup in backups:
        labels = (backup.get("metadata") or {}).get("labels") or {}
        schedule = labels.get(SCHEDULE_LABEL)
        if not schedule or phase_of(backup) == "Deleting":
            continue
        namespace = str((backup.get("metadata") or {}).get("namespace", ""))
        grouped.setdefault(f"{namespace}/{schedule}", []).append(backup)
    for items in grouped.values():
        items.sort(key=lambda b: started_at(b) or _DAWN, reverse=True)
    return grouped
