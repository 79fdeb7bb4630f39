"""``fleetcheck.sarif`` against the official SARIF 2.1.0 JSON Schema, and the mapping GitHub code scanning reads.

The schema is ``lib/schemas/sarif-2.1.0-rtm.5.json`` of the npm package
``@microsoft/jest-sarif`` 1.0.0-beta.0, installed by ``scripts/setup.sh
--test`` into ``.ci/js`` (see ``tests/reports/schemas.py``). rtm.5 is the
schema of the SARIF 2.1.0 release: its ``$schema`` is JSON Schema draft-04,
its draft-04 ``id`` is SchemaStore's ``.../schemas/json/sarif-2.1.0-rtm.5.json``
and its ``version`` enum is exactly ``["2.1.0"]`` (asserted below, so a
different file in its place fails). A missing schema fails the test; it
skips only on a non-root machine without npm, outside CI.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fleetcheck.reports.sarif import (
    FINGERPRINT_KEY,
    MAX_OBJECTS,
    SECURITY_SEVERITY,
    finding_fingerprint,
    render_sarif,
    sarif_document,
)
from fleetcheck.results import ClusterSummary, ResultRecord, ResultsDocument
from tests.reports.schemas import (
    SARIF_PACKAGE,
    in_ci,
    require_installed,
    sarif_schema,
    sarif_validator,
    schema_errors,
)


def validate(log: dict[str, Any]) -> None:
    errors = schema_errors(sarif_validator(), log)
    assert not errors, errors


def test_the_schema_is_the_sarif_2_1_0_release() -> None:
    schema = sarif_schema()
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert schema["id"].endswith("/sarif-2.1.0-rtm.5.json")
    assert schema["properties"]["version"]["enum"] == ["2.1.0"]
    assert "Version 2.1.0-rtm.5" in schema["title"]


@pytest.mark.parametrize(
    ("npm", "euid", "ci"),
    [("/usr/bin/npm", 1000, False), (None, 0, False), (None, 1000, True), ("/usr/bin/npm", 0, True)],
    ids=["npm-present", "root-installs-npm", "ci", "ci-root"],
)
def test_a_missing_schema_fails_wherever_setup_could_have_installed_it(
    tmp_path: Path, npm: str | None, euid: int, ci: bool
) -> None:
    with pytest.raises(pytest.fail.Exception, match=r"setup\.sh --test. installs @microsoft/jest-sarif@"):
        require_installed(tmp_path / "sarif.json", SARIF_PACKAGE, npm=npm, euid=euid, ci=ci)


def test_a_missing_schema_skips_only_without_npm_and_root_outside_ci(tmp_path: Path) -> None:
    with pytest.raises(pytest.skip.Exception, match="npm is not installed"):
        require_installed(tmp_path / "sarif.json", SARIF_PACKAGE, npm=None, euid=1000, ci=False)
    present = tmp_path / "present.json"
    present.write_text("{}")
    require_installed(present, SARIF_PACKAGE, npm=None, euid=1000, ci=True)  # present: neither fails nor skips


def test_ci_is_recognised_as_the_runner_sets_it() -> None:
    assert in_ci({"CI": "true"}) and in_ci({"CI": "1"})
    assert not in_ci({}) and not in_ci({"CI": ""}) and not in_ci({"CI": "false"})


def test_valid_against_the_sarif_schema(scored: ResultsDocument) -> None:
    log = json.loads(render_sarif(scored))
    validate(log)
    assert log["version"] == "2.1.0"


def test_the_schema_catches_a_broken_log(scored: ResultsDocument) -> None:
    log = sarif_document(scored)
    log["runs"][0]["results"][0]["level"] = "severe"
    with pytest.raises(AssertionError):
        validate(log)


def test_rules_are_the_check_codes_with_help_and_security_severity(scored: ResultsDocument) -> None:
    run = sarif_document(scored)["runs"][0]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    assert set(rules) == set(scored.checks)
    rule = rules["FC-OIDC-004"]
    assert rule["properties"]["security-severity"] == SECURITY_SEVERITY["critical"]
    assert rule["defaultConfiguration"]["level"] == "error"
    assert rule["help"]["text"].startswith("What it checks: ")
    assert "**How to fix**" in rule["help"]["markdown"]
    assert rule["helpUri"] == "https://example.invalid/runbooks/fc-oidc-004"
    assert rules["FC-COST-001"]["defaultConfiguration"]["level"] == "note"
    for result in run["results"]:
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_one_result_per_finding_with_the_baseline_key(scored: ResultsDocument) -> None:
    run = sarif_document(scored)["runs"][0]
    fails = [r for r in scored.results if r.outcome == "fail"]
    unsuppressed = [r for r in run["results"] if "suppressions" not in r]
    assert len(unsuppressed) == sum(max(1, len(r.objects)) for r in fails)
    record = next(r for r in fails if len(r.objects) > 1)
    mine = [r for r in unsuppressed if r["ruleId"] == record.code and r["properties"]["cluster"] == record.cluster]
    assert [r["properties"]["object"] for r in mine] == record.objects
    for result, obj in zip(mine, record.objects, strict=True):
        assert result["partialFingerprints"][FINGERPRINT_KEY] == finding_fingerprint(record.cluster, record.code, obj)
        assert result["message"]["text"].startswith(f"{record.cluster} {obj}: ")
        (logical,) = result["locations"][0]["logicalLocations"]
        assert logical["fullyQualifiedName"] == f"{record.cluster}/{obj}"


def test_fingerprints_do_not_change_when_the_message_does(scored: ResultsDocument) -> None:
    """A second run with other wording and timing must not open new alerts."""
    reworded = scored.model_copy(
        update={"results": [r.model_copy(update={"message": r.message + " (again)"}) for r in scored.results]}
    )
    first = [r["partialFingerprints"] for r in sarif_document(scored)["runs"][0]["results"]]
    second = [r["partialFingerprints"] for r in sarif_document(reworded)["runs"][0]["results"]]
    assert first == second
    assert len({fp[FINGERPRINT_KEY] for fp in first}) == len(first), "one fingerprint per finding"


def test_waived_is_a_suppression_and_errors_are_notifications(scored: ResultsDocument) -> None:
    run = sarif_document(scored)["runs"][0]
    waived = [r for r in run["results"] if "suppressions" in r]
    assert waived and all(r["suppressions"][0]["status"] == "accepted" for r in waived)
    assert any("OPS-1234" in r["suppressions"][0]["justification"] for r in waived)
    notes = run["invocations"][0]["toolExecutionNotifications"]
    errors = [r for r in scored.results if r.outcome == "error"]
    assert len(notes) == len(errors) > 0
    assert all(n["message"]["text"].split(":")[0] in {r.cluster for r in errors} for n in notes)
    shown = {(r["properties"]["cluster"], r["ruleId"]) for r in run["results"]}
    undecided_or_passed = {(r.cluster, r.code) for r in scored.results if r.outcome in ("pass", "skip", "error")}
    assert not shown & undecided_or_passed, "passes, skips and errors are never alerts"


def test_objects_past_the_cap_are_counted_not_listed() -> None:
    objects = [f"ns/ConfigMap/c{i}" for i in range(MAX_OBJECTS + 50)]
    doc = ResultsDocument(
        started="2026-11-24T10:00:00Z",
        clusters=[ClusterSummary(name="big")],
        results=[
            ResultRecord(
                cluster="big", code="FC-X-001", factor="boring", severity="high", outcome="fail", objects=objects
            )
        ],
    )
    log = sarif_document(doc)
    validate(log)
    results = log["runs"][0]["results"]
    assert len(results) == MAX_OBJECTS
    assert "and 50 more objects" in results[-1]["message"]["text"]
    rule = log["runs"][0]["tool"]["driver"]["rules"][0]
    assert rule["id"] == "FC-X-001" and "help" not in rule  # a code without a catalog entry still has a rule


def test_control_characters_never_reach_the_file() -> None:
    doc = ResultsDocument(
        started="2026-11-24T10:00:00Z",
        clusters=[ClusterSummary(name="c")],
        results=[
            ResultRecord(
                cluster="c",
                code="FC-X-001",
                factor="boring",
                severity="medium",
                outcome="fail",
                message="bad \x1b[2J\x00 value",
                objects=["ns/Pod/\u202eevil"],
            )
        ],
    )
    data = render_sarif(doc)
    assert b"\\u001b" not in data and b"\\u0000" not in data and "\u202e".encode() not in data
    assert b"bad value" in data
