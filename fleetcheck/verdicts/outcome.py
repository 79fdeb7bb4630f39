"""Outcome mapping: what pytest decided for one case, as a verdict record.

A plain function of plain inputs (the check's declaration, the cluster's
name, the severity its profile gives the check, and :class:`CaseOutcome`:
passed, skipped with a reason, or the exception the case raised), so the
mapping is tested without a pytest session. This is the one place cluster
text enters a verdict: the message is redacted and bounded here, and every
report shows only what passed here.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from fleetcheck.catalog import CheckSpec
from fleetcheck.errors import FleetcheckError
from fleetcheck.outcomes import CheckFailed, bounded_message
from fleetcheck.redact import redact
from fleetcheck.registry.profile import Profile
from fleetcheck.results import Outcome, ResultRecord, Severity
from fleetcheck.state.base import ClusterUnreachable

__all__ = ["CaseOutcome", "record_from_outcome", "severity_for"]


@dataclass(frozen=True)
class CaseOutcome:
    """How one case ended, in pytest's terms but without pytest's objects.

    ``raised`` is the exception of a case that neither passed nor skipped
    (None when pytest did not keep one); ``phase`` is the report's ``when``
    (``setup`` or ``call``): a bare ``assert`` only fails a check in its body.
    """

    passed: bool = False
    skipped: bool = False
    skip_reason: str = ""
    raised: BaseException | None = None
    phase: str = "call"
    duration_s: float = 0.0


def severity_for(spec: CheckSpec, profile: Profile) -> Severity:
    """The severity of ``spec`` under ``profile``: severity belongs to the profile, the check only proposes one."""
    return cast(Severity, profile.severity_of(spec.code, spec.severity))


def _assertion_text(exc: AssertionError) -> str:
    """A bare ``assert``'s message without pytest's rewritten ``assert ...`` explanation."""
    return str(exc).split("\nassert ")[0].strip() or "assertion failed"


def _decide(spec: CheckSpec, case: CaseOutcome) -> tuple[Outcome, str, list[str], int | None, bool]:
    """(outcome, raw message, objects, objects_total when capped, unreachable) of one case."""
    if case.skipped:
        return "skip", case.skip_reason, [], None, False
    if case.passed:
        return "pass", spec.success, [], None, False
    exc = case.raised
    if isinstance(exc, CheckFailed):
        total = exc.objects_total if exc.objects_total > len(exc.objects) else None
        return "fail", exc.message, list(exc.objects), total, False
    if isinstance(exc, AssertionError) and case.phase == "call":
        return "fail", _assertion_text(exc), [], None, False
    if isinstance(exc, FleetcheckError):  # KindUnavailable and ClusterUnreachable included: could not decide
        return "error", str(exc), [], None, isinstance(exc, ClusterUnreachable)
    if exc is None:
        return "error", "unknown error", [], None, False
    return "error", f"internal error in {spec.code}: {type(exc).__name__}: {exc}", [], None, False


def _read_version(server_version: Callable[[], object] | None) -> str | None:
    """The API server's version, redacted; None when it cannot be read (never raises from a report hook)."""
    if server_version is None:
        return None
    with warnings.catch_warnings():  # a report hook must not turn a transport warning into an INTERNALERROR
        warnings.simplefilter("ignore")
        with contextlib.suppress(FleetcheckError):
            version = server_version()
            return redact(version) if isinstance(version, str) else None
    return None


def record_from_outcome(
    spec: CheckSpec,
    cluster: str,
    severity: Severity,
    case: CaseOutcome,
    server_version: Callable[[], object] | None = None,
) -> ResultRecord:
    """The verdict record of one case (before waivers: see :func:`fleetcheck.verdicts.apply_waivers`).

    ``server_version`` reads the cluster's ``gitVersion``; it is not called
    for an unreachable cluster (it would only wait for the same failure).
    """
    outcome, message, objects, objects_total, unreachable = _decide(spec, case)
    message = bounded_message(message)  # redacted first, then cut
    return ResultRecord(
        cluster=cluster,
        code=spec.code,
        factor=spec.factor,
        severity=severity,
        outcome=outcome,
        message=" ".join(message.split()) if outcome != "fail" else message.strip(),
        objects=[redact(o) for o in objects],
        title=spec.title,
        scope=spec.scope,
        duration_s=round(case.duration_s, 4),
        objects_total=objects_total,
        unreachable=unreachable,
        server_version=None if unreachable else _read_version(server_version),
    )
