from __future__ import annotations

import json
from pathlib import Path

import pytest

from fleetcheck.errors import ConfigError
from fleetcheck.reports.json_report import read_results_json, write_results_json
from fleetcheck.results import ResultsDocument


def test_round_trip_is_byte_identical(scored: ResultsDocument, tmp_path: Path) -> None:
    path = write_results_json(scored, tmp_path / "out" / "results.json")
    assert path.read_bytes() == scored.to_json_bytes()
    again = read_results_json(path)
    assert again.to_json_bytes() == scored.to_json_bytes()
    assert again.fleet is not None and again.fleet == scored.fleet
    assert not list(path.parent.glob(".results.json.*")), "temporary file left behind"


def _error(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        read_results_json(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return info.value


def test_missing_file(tmp_path: Path) -> None:
    err = _error(tmp_path / "nope.json")
    assert "cannot read" in err.problem


def test_invalid_json(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text('{"schema": "fleetcheck/v1",\n  "started": ')
    assert "not valid JSON" in _error(path).problem


def test_not_an_object(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text("[1, 2]")
    assert "expected a JSON object" in _error(path).problem


def test_wrong_schema(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"schema": "junit", "started": "x"}))
    err = _error(path)
    assert err.field == "schema" and "'junit'" in err.problem


def test_bad_field_is_named(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    record = {"cluster": "a", "code": "FC-X-001", "factor": "boring", "severity": "high", "outcome": "passed"}
    path.write_text(json.dumps({"schema": "fleetcheck/v1", "started": "x", "results": [record, record]}))
    err = _error(path)
    assert err.field == "results[0].outcome"
    assert "1 more" in err.problem
    assert err.fix
