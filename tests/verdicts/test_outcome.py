"""Outcome mapping and severity as plain functions: no pytest session, real exceptions and a real profile."""

from __future__ import annotations

import pytest

from fleetcheck.core.kinds import parse_kind
from fleetcheck.errors import BudgetExceeded, FleetcheckError
from fleetcheck.outcomes import MESSAGE_MAX_CHARS, OBJECTS_MAX, CheckFailed
from fleetcheck.redact import register_secret
from fleetcheck.state.base import ClusterUnreachable, KindUnavailable
from fleetcheck.verdicts import CaseOutcome, record_from_outcome, severity_for
from tests.verdicts.kit import SPEC, profile


def raised(exc: BaseException, phase: str = "call") -> CaseOutcome:
    return CaseOutcome(raised=exc, phase=phase, duration_s=0.123456)


def test_pass_says_the_success_message_and_reads_the_version() -> None:
    record = record_from_outcome(SPEC, "prod-eu", "high", CaseOutcome(passed=True), lambda: "v1.31.4")
    assert (record.outcome, record.message, record.objects) == ("pass", SPEC.success, [])
    assert (record.code, record.factor, record.title, record.scope) == (SPEC.code, "bounded", SPEC.title, "cluster")
    assert record.server_version == "v1.31.4" and not record.unreachable and record.objects_total is None


def test_skip_keeps_the_reason_on_one_line() -> None:
    case = CaseOutcome(skipped=True, skip_reason="no Velero CRDs:\n  install Velero")
    record = record_from_outcome(SPEC, "c", "high", case)
    assert (record.outcome, record.message) == ("skip", "no Velero CRDs: install Velero")


def test_check_failed_keeps_objects_and_the_count_past_the_cap() -> None:
    found = [f"ns-{i}/Namespace/ns-{i}" for i in range(OBJECTS_MAX + 5)]
    record = record_from_outcome(SPEC, "c", "high", raised(CheckFailed("namespaces lack quotas", found)))
    assert record.outcome == "fail"
    assert len(record.objects) == OBJECTS_MAX and record.objects_total == OBJECTS_MAX + 5
    assert "the first 1,000 listed" in record.message
    few = record_from_outcome(SPEC, "c", "high", raised(CheckFailed("one", ["a/Namespace/a"])))
    assert few.objects == ["a/Namespace/a"] and few.objects_total is None


def test_a_bare_assert_fails_in_the_body_and_errors_in_setup() -> None:
    exc = AssertionError("quota missing\nassert 1 == 2\n +  where 1 = len(x)")
    in_body = record_from_outcome(SPEC, "c", "high", raised(exc))
    assert (in_body.outcome, in_body.message) == ("fail", "quota missing")
    assert record_from_outcome(SPEC, "c", "high", raised(AssertionError(""))).message == "assertion failed"
    in_setup = record_from_outcome(SPEC, "c", "high", raised(exc, phase="setup"))
    assert in_setup.outcome == "error" and in_setup.message.startswith("internal error in FC-QUOTA-001: AssertionError")


def test_unavailable_kinds_and_budgets_are_errors_not_verdicts() -> None:
    forbidden = KindUnavailable("c", parse_kind("resourcequotas"), "403 Forbidden")
    record = record_from_outcome(SPEC, "c", "high", raised(forbidden), lambda: "v1.31.4")
    assert record.outcome == "error" and "cannot list" in record.message and "403 Forbidden" in record.message
    assert not record.unreachable and record.server_version == "v1.31.4"
    budget = record_from_outcome(SPEC, "c", "high", raised(BudgetExceeded("over its 1 s budget")))
    assert budget.outcome == "error" and "budget" in budget.message


def test_an_unreachable_cluster_is_marked_and_its_version_never_read() -> None:
    def version() -> str:
        raise AssertionError("the version of an unreachable cluster must not be read")

    exc = ClusterUnreachable("c", parse_kind("namespaces"), "connection refused")
    record = record_from_outcome(SPEC, "c", "high", raised(exc), version)
    assert (record.outcome, record.unreachable, record.server_version) == ("error", True, None)


def test_an_unreadable_version_is_unknown_not_a_crash() -> None:
    def version() -> str:
        raise FleetcheckError("version endpoint forbidden")

    record = record_from_outcome(SPEC, "c", "high", CaseOutcome(passed=True), version)
    assert record.server_version is None and record.outcome == "pass"


def test_a_bug_in_a_check_names_the_check() -> None:
    record = record_from_outcome(SPEC, "c", "high", raised(KeyError("spec")))
    assert (record.outcome, record.message) == ("error", "internal error in FC-QUOTA-001: KeyError: 'spec'")
    assert record_from_outcome(SPEC, "c", "high", CaseOutcome()).message == "unknown error"


def test_messages_and_objects_are_redacted_and_bounded() -> None:
    register_secret("s3cr3t-token-value-h15")
    exc = CheckFailed(
        "token s3cr3t-token-value-h15 " + "x" * (3 * MESSAGE_MAX_CHARS), ["ns/Secret/s3cr3t-token-value-h15"]
    )
    record = record_from_outcome(SPEC, "c", "high", raised(exc))
    assert "s3cr3t-token-value-h15" not in record.message and "s3cr3t-token-value-h15" not in record.objects[0]
    assert len(record.message) <= MESSAGE_MAX_CHARS + 200
    hostile = record_from_outcome(SPEC, "c", "high", raised(FleetcheckError("https://user:pw@idp.example/x")))
    assert "pw@" not in hostile.message


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [({}, "high"), ({"FC-QUOTA-*": "low"}, "low"), ({"FC-QUOTA-*": "low", "FC-QUOTA-001": "critical"}, "critical")],
)
def test_severity_belongs_to_the_profile(overrides: dict[str, str], expected: str) -> None:
    assert severity_for(SPEC, profile(severity=overrides)) == expected
