"""The ``results.json`` document of a run, built from plain inputs (records, fleet entries, catalog, times).

Scoring (:mod:`fleetcheck.scoring`) fills in the scores afterwards; the
reports render the scored document. Nothing here knows about pytest: the
plugin hands in what the session gathered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fleetcheck.catalog import CheckSpec
from fleetcheck.redact import redact
from fleetcheck.registry.fleet import ClusterEntry
from fleetcheck.results import (
    CheckInfo,
    ClusterSummary,
    FactValue,
    ResultRecord,
    ResultsDocument,
    WaiverStatus,
)

__all__ = ["Completeness", "RunFacts", "build_document", "catalog_entries", "cluster_summary", "completeness"]


@dataclass(frozen=True)
class Completeness:
    """``complete``, ``decided``, ``planned`` and ``incomplete_reason`` of a results document."""

    complete: bool
    decided: int
    planned: int | None
    reason: str | None


def completeness(decided: int, planned: int | None, stopped: str | None) -> Completeness:
    """Whether a run decided everything: nothing stopped it (``stopped``) and, when known, every planned case."""
    reason = stopped
    if reason is None and planned is not None and decided < planned:
        reason = f"{planned - decided} of {planned} cases gave no verdict"
    return Completeness(complete=reason is None, decided=decided, planned=planned, reason=reason)


@dataclass(frozen=True)
class RunFacts:
    """Each cluster's facts (dimension -> JSON value, None for unknown) and the fleet's drift report as JSON."""

    clusters: Mapping[str, Mapping[str, FactValue]]
    drift: dict[str, Any] | None


def cluster_summary(
    entry: ClusterEntry, profile_name: str, records: Sequence[ResultRecord], facts: Mapping[str, FactValue]
) -> ClusterSummary:
    """A cluster's row: who it is (label values and source redacted: they may come from a management cluster).

    Names key the records and are validated identifiers (fleet file pattern,
    no ``:``, ``=``, ``@``), so they stay as they are. A cluster is
    unreachable when every decided (not skipped) record says so.
    """
    versions = [r.server_version for r in records if r.server_version]
    decided = [r for r in records if r.outcome != "skip"]
    return ClusterSummary(
        name=entry.name,
        labels={key: redact(value) for key, value in entry.labels.items()},
        profile=entry.profile,
        profile_name=profile_name,
        source=redact(entry.source),
        server_version=versions[0] if versions else None,
        reachable=not (bool(decided) and all(r.unreachable for r in decided)),
        facts=dict(facts),
    )


def catalog_entries(specs: Iterable[CheckSpec], codes: Iterable[str]) -> dict[str, CheckInfo]:
    """The catalog entries of ``codes`` found in ``specs`` (the first spec of a code wins), sorted by code."""
    wanted = set(codes)
    found: dict[str, CheckSpec] = {}
    for spec in specs:
        if spec.code in wanted:
            found.setdefault(spec.code, spec)
    return {code: found[code].info() for code in sorted(found)}


def build_document(
    *,
    records: Sequence[ResultRecord],
    entries: Sequence[ClusterEntry],
    profile_names: Mapping[str, str],
    run_profile: str,
    checks: Mapping[str, CheckInfo],
    started: str,
    finished: str,
    done: Completeness,
    run_id: str | None = None,
    shard: tuple[int, int] | None = None,
    waivers: Sequence[WaiverStatus] = (),
    facts: RunFacts | None = None,
) -> ResultsDocument:
    """The run's unscored document: records in fleet order (then by code), one row per cluster with a verdict.

    ``entries`` is the whole fleet in fleet-file order (it is the
    document's ``fleet_order``, which ``fleetcheck merge`` checks);
    ``profile_names`` maps each cluster to the name of the profile that
    judged it.
    """
    order = {entry.name: i for i, entry in enumerate(entries)}
    ordered = sorted(records, key=lambda r: (order.get(r.cluster, 1 << 30), r.code))
    by_cluster: dict[str, list[ResultRecord]] = {}
    for record in ordered:
        by_cluster.setdefault(record.cluster, []).append(record)
    cluster_facts = facts.clusters if facts is not None else {}
    clusters = [
        cluster_summary(entry, profile_names.get(entry.name, entry.profile), mine, cluster_facts.get(entry.name, {}))
        for entry in entries
        if (mine := by_cluster.get(entry.name))
    ]
    return ResultsDocument(
        started=started,
        finished=finished,
        profile=run_profile,
        clusters=clusters,
        results=ordered,
        checks=dict(sorted(checks.items())),
        complete=done.complete,
        decided=done.decided,
        planned=done.planned,
        incomplete_reason=done.reason,
        run_id=run_id,
        fleet_order=[entry.name for entry in entries],
        waivers=list(waivers),
        shard=f"{shard[0]}/{shard[1]}" if shard is not None else None,
        drift=facts.drift if facts is not None else None,
    )
