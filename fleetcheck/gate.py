"""The CI gate: turn a scored run (and optionally a baseline) into an exit code.

0 passed, 1 the gate failed, 3 the scan could not decide. A gate must not
pass silently because a cluster was unreachable, so errors above
``max_errors`` of the decided checks are "undecided", not "passed". With a
baseline, only findings that are new or worse (severity raised) block, so a
gate can be switched on over a fleet with known problems.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fleetcheck.core.exit_codes import EXIT_GATE_FAILED, EXIT_OK, EXIT_UNDECIDED
from fleetcheck.core.grades import GRADES
from fleetcheck.findings import Finding, diff_documents
from fleetcheck.results import SEVERITIES, ResultsDocument

__all__ = ["GateResult", "evaluate_gate"]


@dataclass
class GateResult:
    """The exit code, a one-line reason, and details to print."""

    code: int
    reason: str
    details: list[str] = field(default_factory=list)


def _at_or_above(finding_severity: str, fail_on: str) -> bool:
    return SEVERITIES.index(finding_severity) <= SEVERITIES.index(fail_on)


def evaluate_gate(
    doc: ResultsDocument | None,
    *,
    fail_on: str = "high",
    max_errors: float = 0.5,
    baseline: ResultsDocument | None = None,
    min_grade: str | None = None,
) -> GateResult:
    """Decide the gate for a scored document."""
    if doc is None:
        return GateResult(EXIT_UNDECIDED, "no check ran: nothing was decided")
    decided = [r for r in doc.results if r.outcome in ("pass", "fail", "error")]
    errors = [r for r in decided if r.outcome == "error"]
    if decided and len(errors) / len(decided) > max_errors:
        return GateResult(
            EXIT_UNDECIDED,
            f"{len(errors)} of {len(decided)} checks errored (over {max_errors:.0%}): the scan could not decide",
        )
    details: list[str] = []
    blocking: list[Finding]
    if baseline is not None:
        diff = diff_documents(baseline, doc)
        details += [f"fixed since the baseline: {f}" for f in diff.fixed]
        details += [f"new: {f}" for f in diff.new] + [f"worse: {f}" for f in diff.worse]
        blocking = [f for f in diff.blocking if fail_on != "never" and _at_or_above(f.severity, fail_on)]
        scope = "new or worse findings"
    else:
        blocking = []
        if fail_on != "never":
            for record in doc.results:
                if record.outcome == "fail" and _at_or_above(record.severity, fail_on):
                    blocking += [
                        Finding(record.cluster, record.code, o, record.severity) for o in record.objects or [""]
                    ]
        scope = "findings"
    low_grades: list[str] = []
    if min_grade is not None:
        limit = GRADES.index(min_grade)
        for cluster in doc.clusters:
            if cluster.grade in GRADES and GRADES.index(cluster.grade) > limit:
                low_grades.append(f"{cluster.name} ({cluster.grade})")
    reasons = []
    if blocking:
        codes = sorted({f.code for f in blocking})
        shown = ", ".join(codes[:8]) + (" ..." if len(codes) > 8 else "")
        reasons.append(f"{len(blocking)} {scope} at or above {fail_on} ({shown})")
    if low_grades:
        reasons.append(f"grade below {min_grade}: {', '.join(low_grades)}")
    if reasons:
        return GateResult(EXIT_GATE_FAILED, "; ".join(reasons), details)
    passed = f"no {scope} at or above {fail_on}" if fail_on != "never" else "severity gate disabled"
    if min_grade:
        passed += f"; every cluster at grade {min_grade} or better"
    return GateResult(EXIT_OK, passed, details)
