"""Policy reports per cluster, validated against our own JSON Schemas of the two report APIs.

``data/schemas/clusterpolicyreport.v1alpha2.schema.json`` and
``clusterreport.v1alpha1.schema.json`` are written from the projects' Go API
types (README.md there names repository, path and commit): strict where the
CRDs are (types, the result and severity enums, required ``policy`` and
timestamp ``seconds``/``nanos``), and also on what the API server enforces or
silently prunes (object name, unknown fields).
"""

from __future__ import annotations

import copy
import re
from typing import Any

import jsonschema
import pytest
import yaml

from fleetcheck.reports.policyreport import FORMATS, object_name, render_policy_reports
from fleetcheck.results import ClusterSummary, ResultRecord, ResultsDocument
from tests.reports.schemas import REPORT_SCHEMAS, report_schema, report_validator, schema_errors


def validate(folder: str, report: dict[str, Any]) -> None:
    errors = schema_errors(report_validator(folder), report)
    assert not errors, errors


def reports(doc: ResultsDocument) -> dict[str, dict[str, Any]]:
    return {name: yaml.safe_load(data) for name, data in render_policy_reports(doc).items()}


def test_every_report_validates_against_its_crd(scored: ResultsDocument) -> None:
    found = reports(scored)
    assert len(found) == 2 * len(scored.clusters)
    for name, report in found.items():
        folder = name.split("/")[0]
        validate(folder, report)
        assert (report["apiVersion"], report["kind"]) == FORMATS[folder]


def test_our_schemas_are_valid_json_schemas() -> None:
    assert set(REPORT_SCHEMAS) == set(FORMATS)
    for folder, (api_version, kind) in FORMATS.items():
        schema = report_schema(folder)
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["properties"]["apiVersion"] == {"const": api_version}
        assert schema["properties"]["kind"] == {"const": kind}


def test_the_schema_catches_a_wrong_result(scored: ResultsDocument) -> None:
    report = reports(scored)["policyreports/dev.yaml"]
    report["results"][0]["result"] = "waived"
    with pytest.raises(AssertionError):
        validate("policyreports", report)


def _break(report: dict[str, Any], how: str) -> None:
    result = report["results"][0]
    if how == "no policy":
        del result["policy"]
    elif how == "severity":
        result["severity"] = "severe"
    elif how == "nanos missing":
        del result["timestamp"]["nanos"]
    elif how == "seconds as text":
        result["timestamp"]["seconds"] = "1795514400"
    elif how == "property not a string":
        result["properties"]["waived"] = True
    elif how == "count not an int":
        report["summary"]["pass"] = 1.5
    elif how == "unknown field":
        result["resource"] = result.pop("resources", [])
    elif how == "wrong kind":
        report["kind"] = "PolicyReport"
    elif how == "bad name":
        report["metadata"]["name"] = "Prod_EU"
    elif how == "scored as text":
        result["scored"] = "true"


BREAKS = [
    "no policy",
    "severity",
    "nanos missing",
    "seconds as text",
    "property not a string",
    "count not an int",
    "unknown field",
    "wrong kind",
    "bad name",
    "scored as text",
]


@pytest.mark.parametrize("folder", sorted(FORMATS))
@pytest.mark.parametrize("how", BREAKS)
def test_the_schemas_are_strict_where_the_apis_are(scored: ResultsDocument, folder: str, how: str) -> None:
    good = reports(scored)[f"{folder}/dev.yaml"]
    validate(folder, good)
    bad = copy.deepcopy(good)
    _break(bad, how)
    assert bad != good
    with pytest.raises(AssertionError):
        validate(folder, bad)


def test_only_openreports_has_a_report_level_source(scored: ResultsDocument) -> None:
    found = reports(scored)
    assert found["openreports/dev.yaml"]["source"] == "fleetcheck"
    policy = copy.deepcopy(found["policyreports/dev.yaml"])
    policy["source"] = "fleetcheck"
    with pytest.raises(AssertionError):
        validate("policyreports", policy)


def test_results_summary_and_mapping(scored: ResultsDocument) -> None:
    report = reports(scored)["openreports/dev.yaml"]
    records = sorted((r for r in scored.results if r.cluster == "dev"), key=lambda r: r.code)
    assert [r["policy"] for r in report["results"]] == [r.code for r in records]
    expected = {"pass": 0, "fail": 0, "warn": 0, "error": 0, "skip": 0}
    for record in records:
        expected["skip" if record.outcome == "waived" else record.outcome] += 1
    assert report["summary"] == expected
    assert report["source"] == "fleetcheck"
    by_code = {r["policy"]: r for r in report["results"]}
    quota = by_code["FC-QUOTA-001"]  # waived on dev in the fixture
    assert quota["result"] == "skip" and quota["properties"]["waived"] == "true"
    assert quota["properties"]["waiver.ticket"] == "OPS-1234" and quota["message"].startswith("waived: ")
    image = by_code["FC-IMG-001"]
    assert image["result"] == "fail" and image["category"] == "local-images" and image["severity"] == "high"
    assert image["rule"] == scored.checks["FC-IMG-001"].title and image["source"] == "fleetcheck"
    assert image["timestamp"] == {"seconds": 1795514400, "nanos": 0}
    for resource in image["resources"]:
        assert set(resource) == {"kind", "namespace", "name"} and resource["kind"] == "Deployment"


def test_unparsable_objects_and_hostile_names_stay_data(xss: str) -> None:
    hostile = "prod/../../etc: {a: b}\n- x"
    doc = ResultsDocument(
        started="2026-11-24T10:00:00Z",
        clusters=[ClusterSummary(name=hostile)],
        results=[
            ResultRecord(
                cluster=hostile,
                code="FC-X-001",
                factor="boring",
                severity="critical",
                outcome="fail",
                message="a: b\n---\nkind: Secret",
                objects=[xss, "kube-system/ConfigMap/coredns"],
            )
        ],
    )
    files = render_policy_reports(doc)
    for name in files:
        assert ".." not in name and name.count("/") == 1
    report = yaml.safe_load(files[f"policyreports/{object_name(hostile, prefix='')}.yaml"])
    validate("policyreports", report)
    assert report["metadata"]["annotations"]["fleetcheck.io/cluster"] == hostile
    (result,) = report["results"]
    assert result["message"] == "a: b --- kind: Secret"
    assert result["properties"]["objects"] == xss
    assert result["resources"] == [{"kind": "ConfigMap", "namespace": "kube-system", "name": "coredns"}]


def test_object_names_are_valid_and_distinct() -> None:
    assert object_name("prod-eu-west") == "fleetcheck-prod-eu-west"
    names = {object_name(n) for n in ("Prod_EU", "prod-eu", "prod.eu", "x" * 300)}
    assert len(names) == 4
    for name in names:
        assert len(name) <= 253 and name == name.lower() and name[0].isalnum() and name[-1].isalnum()


@pytest.mark.parametrize("cluster", ["prod/../../etc: {a: b}\n- x", "a.-b", "-.-", "...", "x.y-.z", "é" * 10])
def test_object_names_are_dns_subdomains_label_by_label(cluster: str) -> None:
    """Each dot-separated label starts and ends alphanumeric, as the API server (and our schema) require."""
    pattern = re.compile(report_schema("policyreports")["$defs"]["objectMeta"]["properties"]["name"]["pattern"])
    name = object_name(cluster)
    assert pattern.fullmatch(name) and len(name) <= 253, name
    assert object_name(cluster, prefix="") and not object_name(cluster, prefix="").startswith(("-", "."))
