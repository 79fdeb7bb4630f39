"""``fleetcheck merge``: join the ``results.json`` of shards into one run.

Every report (JUnit included) is rendered from the merged document, so a
merged run's reports equal those of an unsharded run of the same fleet,
save for timings. Shards must come from the same fleet (``fleet_order``)
and schema; a cluster present in two shards is an error, not a silent
overwrite.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fleetcheck.errors import ConfigError
from fleetcheck.results import CheckInfo, ClusterSummary, ResultRecord, ResultsDocument, WaiverStatus

__all__ = ["merge_documents", "merge_waivers"]

#: a waiver seen in several shards takes the most telling status: expired, then active, then stale
_RANK = {"expired": 0, "active": 1, "stale": 2}


def merge_waivers(per_shard: Sequence[Sequence[WaiverStatus]]) -> list[WaiverStatus]:
    """A waiver is active if it matched in any shard, expired if expired in any, stale only if stale everywhere."""
    merged: dict[tuple[str, ...], WaiverStatus] = {}
    for waivers in per_shard:
        for waiver in waivers:
            key = (waiver.profile, waiver.code, waiver.clusters, waiver.objects, waiver.reason, waiver.expires)
            seen = merged.get(key)
            if seen is None:
                merged[key] = waiver
                continue
            status = waiver.status if _RANK[waiver.status] < _RANK[seen.status] else seen.status
            merged[key] = seen.model_copy(update={"matched": seen.matched + waiver.matched, "status": status})
    return list(merged.values())


def merge_documents(docs: Sequence[ResultsDocument], sources: Sequence[Path] | None = None) -> ResultsDocument:
    """One document from shard documents (cluster order: the fleet's, as each shard recorded it)."""
    if not docs:
        raise ConfigError("merge", "RESULTS", "no results.json given", "pass the shards' results.json files")
    names = [str(p) for p in (sources or [Path(f"shard{i}") for i in range(len(docs))])]
    first = docs[0]
    order = list(first.fleet_order)
    owner: dict[str, str] = {}
    clusters: list[ClusterSummary] = []
    results: list[ResultRecord] = []
    checks: dict[str, CheckInfo] = {}
    for doc, name in zip(docs, names, strict=True):
        if doc.schema_ != first.schema_:
            raise ConfigError(
                name, "schema", f"{doc.schema_} differs from {first.schema_}", "merge runs of one version"
            )
        if order and doc.fleet_order and doc.fleet_order != order:
            raise ConfigError(name, "fleet_order", "the shards scanned different fleets", "merge shards of one run")
        for cluster in doc.clusters:
            if cluster.name in owner:
                raise ConfigError(
                    name,
                    "clusters",
                    f"cluster {cluster.name!r} is also in {owner[cluster.name]}",
                    "each cluster belongs to exactly one shard",
                )
            owner[cluster.name] = name
            clusters.append(cluster)
        results.extend(doc.results)
        checks.update(doc.checks)
    position = {n: i for i, n in enumerate(order)}
    clusters.sort(key=lambda c: (position.get(c.name, len(position)), c.name))
    results.sort(key=lambda r: (position.get(r.cluster, len(position)), r.cluster, r.code))
    return ResultsDocument(
        started=min(d.started for d in docs),
        finished=max((d.finished or d.started) for d in docs),
        profile=first.profile,
        # scores are recomputed from the records; facts stay each cluster's own
        clusters=[c.model_copy(update={"factors": {}, "score": None, "grade": None}) for c in clusters],
        results=results,
        checks=dict(sorted(checks.items())),
        # one interrupted shard makes the merged run incomplete
        complete=all(d.complete for d in docs),
        decided=sum(d.decided for d in docs),
        planned=None if any(d.planned is None for d in docs) else sum(d.planned or 0 for d in docs),
        incomplete_reason="; ".join(
            f"{n}: {d.incomplete_reason}" for d, n in zip(docs, names, strict=True) if not d.complete
        )
        or None,
        fleet_order=order,
        waivers=merge_waivers([d.waivers for d in docs]),
        # every shard compares the whole fleet, so each shard's drift is the fleet's: the first one recorded
        drift=next((d.drift for d in docs if d.drift is not None), None),
    )
