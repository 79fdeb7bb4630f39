"""The result contract: one record per check x cluster, and the ``results.json`` document.

The names and meanings here are public API (``../shared/CHECKS.md``): CI
configs, baselines and dashboards read them. Fields are only added, never
renamed; every field the project writes is declared here, and
``fleetcheck/schemas/results-v1.schema.json`` is generated from these models
(``scripts/results_schema.py``). Reports (JUnit, HTML, metrics) are rendered from a
:class:`ResultsDocument` only, so a saved ``results.json`` re-renders the
same reports.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fleetcheck.redact import redact

__all__ = [
    "FACTORS",
    "OUTCOMES",
    "SCHEMA",
    "SEVERITIES",
    "CheckInfo",
    "ClusterSummary",
    "CodeSummary",
    "FactValue",
    "FactorScore",
    "FactorSummary",
    "FleetSummary",
    "Outcome",
    "ResultRecord",
    "ResultsDocument",
    "Severity",
    "WaiverState",
    "WaiverStatus",
    "redacted_document",
]

SCHEMA = "fleetcheck/v1"

Outcome = Literal["pass", "fail", "skip", "error", "waived"]
Severity = Literal["critical", "high", "medium", "low", "info"]
OUTCOMES: tuple[str, ...] = ("pass", "fail", "skip", "error", "waived")
#: Most severe first.
SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low", "info")

#: The 12 factors of a fleet cluster, in scorecard order (CHECKS.md).
FACTORS: tuple[str, ...] = (
    "boring",
    "managed",
    "observable",
    "single-idp",
    "recoverable",
    "tested",
    "time-synced",
    "explicit-dns",
    "local-images",
    "bounded",
    "owned",
    "portable-data",
)


#: how every results model reads a document: fields it does not declare are ignored, so a newer or
#: extended ``results.json`` still loads; every field the project writes is declared (the shipped schema,
#: ``fleetcheck/schemas/results-v1.schema.json``, forbids any other, which is how the tests prove it)
_READ: ConfigDict = ConfigDict(extra="ignore")

#: a cluster fact's JSON value (``clusters[].facts``): a string, a sorted list of strings, or a digest
#: object ``{count, sha256, sample}``; null when unknown or unreadable
FactValue = str | list[str] | dict[str, Any] | None


class ResultRecord(BaseModel):
    """One verdict of one check on one cluster."""

    model_config = _READ

    cluster: str
    code: str
    factor: str
    severity: Severity
    outcome: Outcome
    message: str = ""
    objects: list[str] = Field(default_factory=list)
    title: str = ""
    #: ``cluster``, ``fleet`` or ``live`` (CHECKS.md's "kind" column)
    scope: str = "cluster"
    duration_s: float = 0.0
    #: for ``waived``: the waiver's reason, expiry and ticket; for an expired waiver, why it no longer applies
    waiver: dict[str, str] | None = None
    #: objects the check found when more than ``objects`` lists (the list is capped); None when all are listed
    objects_total: int | None = None
    #: the error came from an unreachable cluster (a cluster whose every decided record says so is unreachable)
    unreachable: bool = False
    #: the API server's ``gitVersion`` as the case saw it (redacted); None when unknown
    server_version: str | None = None


class FactorScore(BaseModel):
    """A cluster's standing on one factor. ``score`` is None for "no data"."""

    model_config = _READ

    score: int | None = None
    grade: str | None = None
    #: share (0-100) of the factor's applicable checks that could be decided (errors lower it)
    coverage: int | None = None
    #: outcome -> records of this factor
    counts: dict[str, int] = Field(default_factory=dict)


class ClusterSummary(BaseModel):
    """A cluster's row in ``results.json``."""

    model_config = _READ

    name: str
    labels: dict[str, str] = Field(default_factory=dict)
    factors: dict[str, FactorScore] = Field(default_factory=dict)
    score: int | None = None
    grade: str | None = None
    profile: str = "default"
    source: str = ""
    server_version: str | None = None
    reachable: bool | None = None
    #: the name of the profile that judged the cluster (``profile`` is what the fleet file wrote: a name or a file)
    profile_name: str | None = None
    #: share (0-100) of the cluster's applicable checks that could be decided; None when nothing applied
    coverage: int | None = None
    #: outcome -> records (every outcome, 0 included)
    counts: dict[str, int] = Field(default_factory=dict)
    #: severity -> failed records (every severity, 0 included)
    failures: dict[str, int] = Field(default_factory=dict)
    #: why the grade is lower than the score's letter (a failed critical check, low coverage)
    grade_caps: list[str] = Field(default_factory=list)
    #: dimension -> the cluster's value (CHECKS.md: null for unknown or unreadable, never a made-up value)
    facts: dict[str, FactValue] = Field(default_factory=dict)


class CheckInfo(BaseModel):
    """Catalog entry copied into the results, so reports can show docs without importing checks."""

    model_config = _READ

    code: str
    title: str
    factor: str
    severity: Severity
    scope: str = "cluster"
    what: str = ""
    why: str = ""
    fix: str = ""
    references: str = ""
    #: the check module's path as CI tools resolve it (``checks/test_dns.py``); None when unknown
    file: str | None = None


WaiverState = Literal["active", "expired", "stale"]


class WaiverStatus(BaseModel):
    """One waiver of a profile in use: active (it matched a finding), expired, or stale (it matched nothing)."""

    model_config = _READ

    profile: str
    code: str
    clusters: str
    #: the object glob, "" when the waiver covers the whole finding
    objects: str = ""
    reason: str
    expires: str
    ticket: str = ""
    status: WaiverState
    #: findings it matched
    matched: int = 0


class FactorSummary(BaseModel):
    """One factor across the fleet: how bad it is and how widespread."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    factor: str
    #: mean of the clusters' factor scores that have data; None when no cluster has data
    score: int | None = None
    grade: str | None = None
    clusters_with_data: int = 0
    #: clusters with at least one failed check in this factor
    clusters_failing: int = 0
    failures: int = 0
    errors: int = 0


class CodeSummary(BaseModel):
    """One failing check code across the fleet."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    code: str
    title: str = ""
    factor: str
    severity: str
    weight: int
    #: names of the clusters where the check failed, sorted
    clusters: list[str] = Field(default_factory=list)
    #: clusters affected x severity weight: what fixing it fleet-wide is worth
    impact: int = 0
    #: percent of the fleet's clusters affected
    share: int = 0


class FleetSummary(BaseModel):
    """The fleet at a glance (:func:`fleetcheck.scoring.score_document`); ``fleet`` in ``results.json``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    #: the scoring formula's name (``fleetcheck.scoring.SCORING_METHOD``), so a re-render knows what it shows
    method: str = "fleetcheck-score/1"
    clusters: int = 0
    #: mean of the cluster scores that have data
    score: int | None = None
    grade: str | None = None
    #: A..F then ``n/a``, always all keys, in that order
    grades: dict[str, int] = Field(default_factory=dict)
    #: outcome -> number of records, fleet-wide
    outcomes: dict[str, int] = Field(default_factory=dict)
    #: severity -> failed records, fleet-wide
    failures: dict[str, int] = Field(default_factory=dict)
    #: every factor, worst first; no-data factors last
    factors: list[FactorSummary] = Field(default_factory=list)
    gotchas: list[CodeSummary] = Field(default_factory=list)
    top_fixes: list[CodeSummary] = Field(default_factory=list)
    unreachable: list[str] = Field(default_factory=list)


class ResultsDocument(BaseModel):
    """``results.json``: the whole run."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    schema_: str = Field(default=SCHEMA, alias="schema")
    started: str
    finished: str | None = None
    profile: str = "default"
    clusters: list[ClusterSummary] = Field(default_factory=list)
    results: list[ResultRecord] = Field(default_factory=list)
    checks: dict[str, CheckInfo] = Field(default_factory=dict)
    #: False when the run was interrupted or cut short (CHECKS.md): the reports hold only the ``decided`` cases
    complete: bool = True
    #: cases that reached a verdict (one record each); a document without it counts its records
    decided: int = 0
    #: cases the run set out to decide, when known (None under xdist, whose controller collects nothing)
    planned: int | None = None
    #: why the run is incomplete (``interrupted by SIGINT``, ``stopped after 1 failure``); None when complete
    incomplete_reason: str | None = None
    #: one id per run, shared by every report file of the run (None in a document that predates it)
    run_id: str | None = None
    #: every cluster of the fleet in fleet-file order (a shard's document too: ``fleetcheck merge`` checks it)
    fleet_order: list[str] = Field(default_factory=list)
    #: every waiver of the profiles in use and whether it is active, expired or stale
    waivers: list[WaiverStatus] = Field(default_factory=list)
    #: ``K/N`` for a shard's document, None for a whole run (or a merged one)
    shard: str | None = None
    #: the fleet summary; None until the document is scored
    fleet: FleetSummary | None = None
    #: the fleet's drift (a ``fleetcheck/drift/v1`` report, :class:`fleetcheck.facts.drift.DriftReport` as JSON,
    #: kept as plain JSON here so the contract imports no fact code); None when the run computed none
    drift: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _count_decided(cls, data: Any) -> Any:
        """An older ``results.json`` has no ``decided``: every record it holds was decided."""
        if isinstance(data, dict) and "decided" not in data:
            data = {**data, "decided": len(data.get("results") or ())}
        return data

    def to_json_bytes(self) -> bytes:
        """Stable, pretty JSON (keys in declaration order, ``schema`` first)."""
        return self.model_dump_json(by_alias=True, indent=2).encode() + b"\n"


def redacted_document(doc: ResultsDocument) -> ResultsDocument:
    """``doc`` with every message, object reference, label value and source passed through :func:`redact`.

    A scan redacts once, where each record is made; this is for documents
    read back (``fleetcheck report``, ``fleetcheck merge``) that an older
    version or another tool wrote. Redaction is idempotent, so a current
    ``results.json`` comes back unchanged and re-renders byte for byte.
    """
    results = [
        r.model_copy(update={"message": redact(r.message), "objects": [redact(o) for o in r.objects]})
        for r in doc.results
    ]
    clusters = [
        c.model_copy(update={"labels": {k: redact(v) for k, v in c.labels.items()}, "source": redact(c.source)})
        for c in doc.clusters
    ]
    return doc.model_copy(update={"results": results, "clusters": clusters})
