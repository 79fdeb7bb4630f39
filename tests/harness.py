"""Run check modules in a nested pytest session and read back each case's verdict record.

One harness for every check family's tests: the plugin attaches a JSON
record to each deciding report, and this reads them from the nested run's
reports (no report files needed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fleetcheck.plugin import RECORD_ATTR

REPO = Path(__file__).resolve().parents[1]
#: plugins a nested run does not need (each costs import time in every run)
NESTED_OPTIONS = ("-p", "no:randomly", "-p", "no:hypothesispytest", "-p", "no:benchmark")

Obj = dict[str, Any]


@dataclass
class Verdicts:
    """Every (code, cluster) verdict of one nested run, and the run itself."""

    records: dict[tuple[str, str], Obj]
    result: pytest.RunResult

    def __getitem__(self, key: tuple[str, str]) -> Obj:
        return self.records[key]

    @property
    def stdout(self) -> str:
        """What the nested run printed."""
        return self.result.stdout.str()

    def outcome(self, code: str, cluster: str) -> str:
        return str(self.records[(code, cluster)]["outcome"])

    def message(self, code: str, cluster: str) -> str:
        return str(self.records[(code, cluster)]["message"])

    def objects(self, code: str, cluster: str) -> list[str]:
        return list(self.records[(code, cluster)]["objects"])

    def codes(self) -> set[str]:
        return {code for code, _ in self.records}


def verdicts_of(result: pytest.RunResult) -> Verdicts:
    """The records the plugin attached to the nested run's reports."""
    records: dict[tuple[str, str], Obj] = {}
    for report in result.reprec.getreports("pytest_runtest_logreport"):  # type: ignore[attr-defined]
        payload = getattr(report, RECORD_ATTR, None)
        if payload:
            record = json.loads(payload)
            records[(record["code"], record["cluster"])] = record
    return Verdicts(records, result)


def run_checks(pytester: pytest.Pytester, check_file: Path, *args: str) -> Verdicts:
    """``pytest CHECK_FILE ARGS --no-reports`` in-process; fails the test when nothing was decided."""
    result = pytester.runpytest_inprocess(str(check_file), *args, "--no-reports", *NESTED_OPTIONS)
    verdicts = verdicts_of(result)
    assert verdicts.records, result.stdout.str()
    return verdicts
