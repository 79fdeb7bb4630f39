"""The gate of ``fleetcheck run`` (``fleetcheck.gate.evaluate_gate``): 0 passed, 1 failed, 3 could not decide."""

from __future__ import annotations

import pytest

from fleetcheck.gate import evaluate_gate
from fleetcheck.results import ClusterSummary, ResultRecord, ResultsDocument


def gate_exit_code(doc: ResultsDocument | None, fail_on: str, max_errors: float) -> tuple[int, str]:
    result = evaluate_gate(doc, fail_on=fail_on, max_errors=max_errors)
    return result.code, result.reason


def _doc(*verdicts: tuple[str, str]) -> ResultsDocument:
    """One record per (outcome, severity)."""
    results = [
        ResultRecord(cluster=f"c{i}", code=f"FC-TEST-{i:03d}", factor="bounded", severity=sev, outcome=outcome)  # type: ignore[arg-type]
        for i, (outcome, sev) in enumerate(verdicts)
    ]
    return ResultsDocument(started="2026-11-24T10:00:00Z", results=results)


@pytest.mark.parametrize(
    ("verdicts", "fail_on", "expected"),
    [
        ([("pass", "high"), ("fail", "medium")], "high", 0),
        ([("pass", "high"), ("fail", "high")], "high", 1),
        ([("pass", "high"), ("fail", "critical")], "high", 1),
        ([("fail", "medium")], "medium", 1),
        ([("fail", "info")], "low", 0),
        ([("fail", "info")], "info", 1),
        ([("fail", "critical")], "never", 0),
        ([("waived", "critical"), ("pass", "high")], "high", 0),
        ([("skip", "critical")], "high", 0),
        ([("error", "high"), ("pass", "high")], "high", 0),
        ([("error", "high"), ("error", "low"), ("pass", "high")], "high", 3),
        ([("error", "high"), ("error", "low"), ("fail", "critical")], "never", 3),
    ],
)
def test_gate_exit_codes(verdicts: list[tuple[str, str]], fail_on: str, expected: int) -> None:
    code, reason = gate_exit_code(_doc(*verdicts), fail_on, 0.5)
    assert code == expected, reason
    assert "\n" not in reason


def test_no_document_is_undecided() -> None:
    assert gate_exit_code(None, "high", 0.5) == (3, "no check ran: nothing was decided")


def test_reason_names_the_blocking_codes() -> None:
    code, reason = gate_exit_code(_doc(("fail", "high"), ("fail", "low"), ("fail", "critical")), "high", 0.5)
    assert code == 1
    assert reason == "2 findings at or above high (FC-TEST-000, FC-TEST-002)"


def test_max_errors_is_a_share_of_decided_checks() -> None:
    doc = _doc(("error", "high"), ("pass", "high"), ("pass", "high"), ("skip", "high"))
    assert gate_exit_code(doc, "high", 0.34)[0] == 0
    code, reason = gate_exit_code(doc, "high", 0.3)
    assert code == 3
    assert "1 of 3 checks errored" in reason


def test_min_grade_fails_the_gate_for_a_low_cluster() -> None:
    doc = _doc(("pass", "high"))
    doc.clusters = [ClusterSummary(name="prod", grade="D"), ClusterSummary(name="dev", grade="B")]
    result = evaluate_gate(doc, fail_on="high", max_errors=0.5, min_grade="C")
    assert result.code == 1
    assert result.reason == "grade below C: prod (D)"
    assert evaluate_gate(doc, fail_on="high", min_grade="D").code == 0
