"""``fleetcheck merge``: join the ``results.json`` of shards into one run.

Every report (JUnit included) is rendered from the merged document, so a
merged run's reports equal those of an unsharded run of the same fleet,
save for timings. Shards must come from the same fleet (``fleet_order``)
and schema; a cluster present in two shards is an error, not a silent
overwrite.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fleetcheck.errors import ConfigError
from fleetcheck.results import ResultsDocument

__all__ = ["merge_documents"]


def _merge_waivers(per_shard: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """A waiver is active if it matched in any shard, expired if expired, stale only if stale everywhere."""
    merged: dict[tuple[str, ...], dict[str, Any]] = {}
    rank = {"expired": 0, "active": 1, "stale": 2}
    for waivers in per_shard:
        for waiver in waivers:
            key = tuple(str(waiver.get(k, "")) for k in ("profile", "code", "clusters", "objects", "reason", "expires"))
            if key not in merged:
                merged[key] = dict(waiver)
                continue
            seen = merged[key]
            seen["matched"] = int(seen.get("matched", 0)) + int(waiver.get("matched", 0))
            if rank.get(str(waiver.get("status")), 2) < rank.get(str(seen.get("status")), 2):
                seen["status"] = waiver["status"]
    return list(merged.values())


def merge_documents(docs: list[ResultsDocument], sources: list[Path] | None = None) -> ResultsDocument:
    """One document from shard documents (cluster order: the fleet's, as each shard recorded it)."""
    if not docs:
        raise ConfigError("merge", "RESULTS", "no results.json given", "pass the shards' results.json files")
    names = [str(p) for p in (sources or [Path(f"shard{i}") for i in range(len(docs))])]
    first = docs[0]
    order: list[str] = list(getattr(first, "fleet_order", None) or [])
    owner: dict[str, str] = {}
    clusters = []
    results = []
    checks: dict[str, Any] = {}
    for doc, name in zip(docs, names, strict=True):
        if doc.schema_ != first.schema_:
            raise ConfigError(
                name, "schema", f"{doc.schema_} differs from {first.schema_}", "merge runs of one version"
            )
        other_order = list(getattr(doc, "fleet_order", None) or [])
        if order and other_order and other_order != order:
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
    for cluster in clusters:  # scores are recomputed from the records
        cluster.factors = {}
        cluster.score = None
        cluster.grade = None
    extra: dict[str, Any] = {"fleet_order": order} if order else {}
    waivers = _merge_waivers([list(getattr(d, "waivers", None) or []) for d in docs])
    if any(getattr(d, "waivers", None) is not None for d in docs):
        extra["waivers"] = waivers
    return ResultsDocument(
        started=min(d.started for d in docs),
        finished=max((d.finished or d.started) for d in docs),
        profile=first.profile,
        clusters=[c.model_copy() for c in clusters],
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
        **extra,
    )
