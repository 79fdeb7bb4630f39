"""The result contract: one record per check x cluster, and the ``results.json`` document.

The names and meanings here are public API (``../shared/CHECKS.md``): CI
configs, baselines and dashboards read them. Extra fields are allowed;
renaming is not. Reports (JUnit, HTML, metrics) are rendered from a
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
    "FactorScore",
    "Outcome",
    "ResultRecord",
    "ResultsDocument",
    "Severity",
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


class ResultRecord(BaseModel):
    """One verdict of one check on one cluster."""

    model_config = ConfigDict(extra="allow")

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


class FactorScore(BaseModel):
    """A cluster's standing on one factor. ``score`` is None for "no data"."""

    model_config = ConfigDict(extra="allow")

    score: int | None = None
    grade: str | None = None
    #: share (0-100) of the factor's applicable checks that could be decided (errors lower it)
    coverage: int | None = None


class ClusterSummary(BaseModel):
    """A cluster's row in ``results.json``."""

    model_config = ConfigDict(extra="allow")

    name: str
    labels: dict[str, str] = Field(default_factory=dict)
    factors: dict[str, FactorScore] = Field(default_factory=dict)
    score: int | None = None
    grade: str | None = None
    profile: str = "default"
    source: str = ""
    server_version: str | None = None
    reachable: bool | None = None


class CheckInfo(BaseModel):
    """Catalog entry copied into the results, so reports can show docs without importing checks."""

    model_config = ConfigDict(extra="allow")

    code: str
    title: str
    factor: str
    severity: Severity
    scope: str = "cluster"
    what: str = ""
    why: str = ""
    fix: str = ""
    references: str = ""


class ResultsDocument(BaseModel):
    """``results.json``: the whole run."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

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
