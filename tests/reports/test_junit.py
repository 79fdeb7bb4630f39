from __future__ import annotations

from pathlib import Path

import pytest
from junitparser import Error, Failure, JUnitXml, Skipped

from fleetcheck.reports.junit import render_junit, write_junit
from fleetcheck.results import ClusterSummary, ResultRecord, ResultsDocument
from fleetcheck.scoring import score_document

etree = pytest.importorskip("lxml.etree", reason="lxml validates against the Jenkins XSD")

XSD = Path(__file__).parent / "data" / "jenkins-junit.xsd"


def validate(data: bytes) -> None:
    """Valid against the Jenkins xUnit schema, but for the one attribute it lacks: ``file`` on a testcase.

    GitLab, EnricoMi's publish-unit-test-result-action and mikepenz's
    action-junit-report read ``file`` to place annotations; the xUnit XSD has
    no such attribute (pytest's xunit2 family drops it for the same reason).
    Everything else must conform, so the check removes exactly that
    attribute and validates strictly.
    """
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    document = etree.fromstring(data)
    for case in document.iter("testcase"):
        case.attrib.pop("file", None)
    assert schema.validate(document), schema.error_log


def test_valid_against_jenkins_schema(scored: ResultsDocument) -> None:
    validate(render_junit(scored))


def test_an_unknown_attribute_still_fails_the_schema(scored: ResultsDocument) -> None:
    """The relaxation above is for ``file`` only: any other stray attribute is caught."""
    data = render_junit(scored).replace(b"<testcase ", b'<testcase line="1" ', 1)
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    assert not schema.validate(etree.fromstring(data))


def test_one_identity_per_cluster_and_check_as_gitlab_keys_them(scored: ResultsDocument) -> None:
    """GitLab keys a test by classname + name and keeps only the first duplicate: every case must be distinct."""
    root = etree.fromstring(render_junit(scored))
    cases = list(root.iter("testcase"))
    assert len(cases) == len(scored.results)
    assert len({(c.get("classname"), c.get("name")) for c in cases}) == len(cases)
    names = {c.get("name") for c in cases}
    assert len(names) == len({r.code for r in scored.results}), "a check's name is the same on every cluster"


def test_failures_name_their_cluster_and_the_check_file(scored: ResultsDocument) -> None:
    checks = {
        code: info.model_copy(update={"file": f"checks/test_{info.factor}.py"}) for code, info in scored.checks.items()
    }
    xml = JUnitXml.fromstring(render_junit(scored.model_copy(update={"checks": checks})))
    seen = 0
    for suite in xml:
        for case in suite:
            assert case._elem.get("file", "").startswith("checks/test_")
            for result in case.result:
                if isinstance(result, Failure | Error):
                    assert result.message.startswith(f"{suite.name}: "), result.message
                    assert result.text.startswith(f"cluster: {suite.name}\n")
                    seen += 1
    assert seen == sum(1 for r in scored.results if r.outcome in ("fail", "error"))


def test_fix_text_is_plain_and_reflowed(scored: ResultsDocument) -> None:
    info = scored.checks["FC-OIDC-004"].model_copy(
        update={"fix": "remove ``--token-auth-file``\nfrom the API\nserver.\n\nThen rotate."}
    )
    doc = scored.model_copy(update={"checks": {**scored.checks, "FC-OIDC-004": info}})
    data = render_junit(doc).decode()
    assert "fix: remove --token-auth-file from the API server.\n\nThen rotate." in data
    assert "``" not in data


def test_one_suite_per_cluster_with_properties(scored: ResultsDocument, tmp_path: Path) -> None:
    path = write_junit(scored, tmp_path / "junit.xml")
    xml = JUnitXml.fromfile(str(path))
    suites = {s.name: s for s in xml}
    assert list(suites) == [c.name for c in scored.clusters]
    cluster = scored.clusters[0]
    props = {p.name: p.value for p in suites[cluster.name].properties()}
    assert props["score"] == str(cluster.score)
    assert props["grade"] == cluster.grade
    for key, value in cluster.labels.items():
        assert props[f"label.{key}"] == value
    assert len(list(suites[cluster.name])) == sum(1 for r in scored.results if r.cluster == cluster.name)


def test_outcomes_map_to_junit_results(scored: ResultsDocument) -> None:
    xml = JUnitXml.fromstring(render_junit(scored))
    by_key = {(s.name, c.name.split(" ")[0]): c for s in xml for c in s}
    for record in scored.results:
        case = by_key[(record.cluster, record.code)]
        assert case.classname == f"{record.cluster}.{record.factor}"
        assert case.name.startswith(f"{record.code} {record.title}")
        results = case.result
        if record.outcome == "pass":
            assert results == []
        elif record.outcome == "fail":
            assert isinstance(results[0], Failure)
            assert results[0].type == record.severity
            for obj in record.objects:
                assert obj in results[0].text
        elif record.outcome == "error":
            assert isinstance(results[0], Error)
        elif record.outcome == "skip":
            assert isinstance(results[0], Skipped) and results[0].message == record.message
        else:
            assert isinstance(results[0], Skipped)
            assert results[0].message == "waived: migration to quotas tracked"
            assert "OPS-1234" in results[0].text


def test_control_characters_are_stripped() -> None:
    nasty = "bad\x00\x01\x1b[31m value\x0b"
    doc = ResultsDocument(
        started="2026-11-24T10:00:00Z",
        clusters=[ClusterSummary(name="c\x07one", labels={"k\x02": nasty})],
        results=[
            ResultRecord(
                cluster="c\x07one",
                code="FC-X-001",
                factor="boring",
                severity="high",
                outcome="fail",
                message=nasty,
                objects=[nasty],
                title="t\x1b[0m",
            )
        ],
    )
    data = render_junit(score_document(doc))
    validate(data)
    for char in ("\x00", "\x01", "\x07", "\x0b", "\x1b"):
        assert char.encode() not in data
    assert b"bad value" in data


def test_root_has_no_skipped_attribute(scored: ResultsDocument) -> None:
    root = etree.fromstring(render_junit(scored))
    assert root.tag == "testsuites" and "skipped" not in root.attrib
    assert int(root.get("tests")) == len(scored.results)


def test_unscored_document_is_scored_first(document: ResultsDocument, scored: ResultsDocument) -> None:
    assert render_junit(document) == render_junit(scored)
