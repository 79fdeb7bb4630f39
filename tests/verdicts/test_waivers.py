"""Waivers as plain functions: active, expired, stale, object globs, objects past the list cap."""

from __future__ import annotations

from datetime import date

from fleetcheck.verdicts import apply_waivers, waiver_report
from tests.verdicts.kit import TODAY, failed, profile, waiver


def test_an_active_waiver_waives_a_failure_with_its_reason() -> None:
    record = failed()
    waived = apply_waivers(record, profile(waiver(ticket="OPS-1")), TODAY)
    assert waived.outcome == "waived"
    assert waived.waiver == {
        "reason": "migration to quotas",
        "expires": "2026-12-31",
        "ticket": "OPS-1",
        "status": "active",
    }
    assert record.outcome == "fail" and record.waiver is None, "the input record is not changed"


def test_the_expiry_day_still_counts_and_the_day_after_does_not() -> None:
    assert apply_waivers(failed(), profile(waiver(expires="2026-11-24")), TODAY).outcome == "waived"
    expired = apply_waivers(failed(), profile(waiver(expires="2026-11-23")), TODAY)
    assert expired.outcome == "fail"
    assert expired.message.endswith("(waiver expired 2026-11-23: migration to quotas)")
    assert expired.waiver is not None and expired.waiver["status"] == "expired"


def test_only_failures_of_matching_codes_and_clusters_are_waived() -> None:
    rules = profile(waiver(code="FC-QUOTA-*", clusters="dev-*"))
    assert apply_waivers(failed(cluster="dev-1"), rules, TODAY).outcome == "waived"
    assert apply_waivers(failed(cluster="prod-eu"), rules, TODAY).outcome == "fail"
    passed = failed().model_copy(update={"outcome": "pass"})
    assert apply_waivers(passed, profile(waiver()), TODAY) is passed
    assert apply_waivers(failed(), profile(waiver(code="FC-IMG-*")), TODAY).outcome == "fail"


def test_an_object_glob_covers_only_the_objects_it_matches() -> None:
    partial = apply_waivers(failed(), profile(waiver(objects="team-a/*")), TODAY)
    assert partial.outcome == "fail" and partial.objects == ["team-b/Namespace/team-b"]
    assert partial.message.endswith("(1 objects not covered by the waiver for team-a/*)")
    whole = apply_waivers(failed(), profile(waiver(objects="team-*/Namespace/*")), TODAY)
    assert whole.outcome == "waived" and whole.objects == ["team-a/Namespace/team-a", "team-b/Namespace/team-b"]


def test_a_later_waiver_covers_what_an_earlier_one_left() -> None:
    rules = profile(waiver(objects="team-a/*"), waiver(objects="team-b/*", reason="team b moves in Q1"))
    record = apply_waivers(failed(), rules, TODAY)
    assert record.outcome == "waived" and record.objects == ["team-b/Namespace/team-b"]
    assert record.waiver is not None and record.waiver["reason"] == "team b moves in Q1"


def test_objects_past_the_cap_are_never_waived_by_a_glob() -> None:
    capped = failed(objects_total=1_500)
    record = apply_waivers(capped, profile(waiver(objects="team-*")), TODAY)
    assert record.outcome == "fail"
    assert record.message.endswith("(1,498 objects past the list cap not matched against the waiver team-*)")
    # a waiver without an object glob covers the whole finding, listed or not
    assert apply_waivers(capped, profile(waiver()), TODAY).outcome == "waived"


def test_the_report_says_active_expired_and_stale() -> None:
    active, old, unused = (
        waiver(),
        waiver(code="FC-BACKUP-001", reason="no backups yet", expires="2026-01-01"),
        waiver(code="FC-IMG-001", reason="mirror pending", ticket="OPS-7"),
    )
    prod = profile(active, old, unused)
    records = [apply_waivers(failed(cluster=name), prod, TODAY) for name in ("a", "b")]
    report = waiver_report([prod, prod, profile(name="dev")], records, TODAY)
    by_code = {w.code: w for w in report}
    assert len(report) == 3, "each profile once"
    assert (by_code["FC-QUOTA-001"].status, by_code["FC-QUOTA-001"].matched) == ("active", 2)
    assert by_code["FC-BACKUP-001"].status == "expired" and by_code["FC-BACKUP-001"].matched == 0
    assert (by_code["FC-IMG-001"].status, by_code["FC-IMG-001"].ticket) == ("stale", "OPS-7")
    assert by_code["FC-IMG-001"].objects == "" and by_code["FC-IMG-001"].expires == "2026-12-31"


def test_a_waiver_that_expired_during_the_run_is_expired() -> None:
    prod = profile(waiver(expires="2026-11-24"))
    records = [apply_waivers(failed(), prod, TODAY)]
    (status,) = waiver_report([prod], records, date(2026, 11, 25))
    assert status.status == "expired" and status.matched == 1
    records = [apply_waivers(failed(), prod, date(2026, 11, 25))]
    (status,) = waiver_report([prod], records, TODAY)
    assert status.status == "expired", "a record that saw the waiver expired makes it expired"
