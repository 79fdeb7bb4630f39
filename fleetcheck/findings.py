"""Findings as stable keys, for baselines and ``fleetcheck diff``.

A finding is one (cluster, code, object) that fails. Keying by object means a
baseline still blocks a *new* unbounded namespace on a cluster that already
had one, and lets the gate print exactly what got fixed.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleetcheck.results import SEVERITIES, ResultsDocument

__all__ = ["Finding", "FindingsDiff", "diff_documents", "findings_of"]


@dataclass(frozen=True, order=True)
class Finding:
    """One failing object of one check on one cluster."""

    cluster: str
    code: str
    object: str
    severity: str

    @property
    def key(self) -> tuple[str, str, str]:
        """Identity across runs (severity may change; the object is the same)."""
        return (self.cluster, self.code, self.object)

    def __str__(self) -> str:
        return f"{self.cluster} {self.code} [{self.severity}] {self.object or '(cluster)'}"


def findings_of(doc: ResultsDocument) -> dict[tuple[str, str, str], Finding]:
    """Every failing object of a run (a failure that names no object counts as one finding)."""
    found: dict[tuple[str, str, str], Finding] = {}
    for record in doc.results:
        if record.outcome != "fail":
            continue
        for obj in record.objects or [""]:
            finding = Finding(record.cluster, record.code, obj, record.severity)
            found[finding.key] = finding
    return found


@dataclass(frozen=True)
class FindingsDiff:
    """What changed between two runs."""

    new: list[Finding]
    worse: list[Finding]
    fixed: list[Finding]
    unchanged: list[Finding]

    @property
    def blocking(self) -> list[Finding]:
        """New findings, and old ones whose severity rose."""
        return sorted(self.new + self.worse)


def diff_documents(old: ResultsDocument, new: ResultsDocument) -> FindingsDiff:
    """New, worse (severity raised), fixed and unchanged findings from ``old`` to ``new``.

    A finding on a cluster that ``new`` did not scan (another shard, or a
    ``--cluster`` scope) is neither fixed nor unchanged: it is left out.
    """
    before, after = findings_of(old), findings_of(new)
    scanned = {r.cluster for r in new.results}
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    new_f = [f for k, f in after.items() if k not in before]
    worse = [f for k, f in after.items() if k in before and rank[f.severity] < rank[before[k].severity]]
    unchanged = [f for k, f in after.items() if k in before and f not in worse]
    fixed = [f for k, f in before.items() if k not in after and f.cluster in scanned]
    return FindingsDiff(sorted(new_f), sorted(worse), sorted(fixed), sorted(unchanged))
