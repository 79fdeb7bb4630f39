"""Waivers: a person's accepted risk turns a ``fail`` into ``waived`` until a date; the run says which still matter.

:func:`apply_waivers` decides one record; :func:`waiver_report` lists
every waiver of the profiles in use as ``active`` (it matched a finding),
``expired`` or ``stale`` (it matched nothing: remove it). Plain functions
of a record, a profile and today's date, tested without a pytest session.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from datetime import date

from fleetcheck.registry.profile import Profile
from fleetcheck.results import ResultRecord, WaiverState, WaiverStatus

__all__ = ["apply_waivers", "waiver_report"]


def apply_waivers(record: ResultRecord, profile: Profile, today: date) -> ResultRecord:
    """``record`` under ``profile``'s waivers (a new record; only a ``fail`` can be waived).

    The first matching, unexpired waiver that covers every object makes it
    ``waived``. An expired waiver says so in the message and waives nothing.
    A waiver with an object glob covers only the objects it matches: the
    others stay listed (and the record failed); objects past the list cap
    were never listed, so a glob cannot be shown to cover them.
    """
    if record.outcome != "fail":
        return record
    record = record.model_copy(deep=True)
    for waiver in profile.waivers:
        if not waiver.matches(record.code, record.cluster):
            continue
        info = {"reason": waiver.reason, "expires": waiver.expires.isoformat(), "ticket": waiver.ticket or ""}
        if waiver.expired(today):
            record.message += f" (waiver expired {waiver.expires.isoformat()}: {waiver.reason})"
            record.waiver = {**info, "status": "expired"}
            continue
        if waiver.objects is not None and record.objects:
            pattern = waiver.objects
            left = [o for o in record.objects if not fnmatch.fnmatchcase(o, pattern)]
            if left:
                record.objects = left
                record.message += f" ({len(left)} objects not covered by the waiver for {pattern})"
                continue
            unseen = (record.objects_total or 0) - len(record.objects)
            if unseen > 0:
                record.message += f" ({unseen:,} objects past the list cap not matched against the waiver {pattern})"
                continue
        record.outcome = "waived"
        record.waiver = {**info, "status": "active"}
        return record
    return record


def waiver_report(profiles: Iterable[Profile], records: Sequence[ResultRecord], today: date) -> list[WaiverStatus]:
    """Every waiver of ``profiles`` (each profile once, by name, in the order given) and its status."""
    report: list[WaiverStatus] = []
    seen: set[str] = set()
    for profile in profiles:
        if profile.name in seen:
            continue
        seen.add(profile.name)
        for waiver in profile.waivers:
            hits = [
                r
                for r in records
                if r.waiver and r.waiver.get("reason") == waiver.reason and waiver.matches(r.code, r.cluster)
            ]
            status: WaiverState
            if waiver.expired(today) or any(r.waiver and r.waiver.get("status") == "expired" for r in hits):
                status = "expired"
            elif hits:
                status = "active"
            else:
                status = "stale"
            report.append(
                WaiverStatus(
                    profile=profile.name,
                    code=waiver.code,
                    clusters=waiver.clusters,
                    objects=waiver.objects or "",
                    reason=waiver.reason,
                    expires=waiver.expires.isoformat(),
                    ticket=waiver.ticket or "",
                    status=status,
                    matched=len(hits),
                )
            )
    return report
