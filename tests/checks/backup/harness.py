"""Run check modules in a child pytest session and read back each case's verdict record."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# Loaded before any nested run, so the runs find them imported: pytester drops every module a nested
# run imports itself, and re-importing them (with assertion rewriting) costs each run a second or more.
import fleetcheck.apiserver
import fleetcheck.probes.oidc
import fleetcheck.reports
import fleetcheck.reports.terminal
import fleetcheck.runstate
import fleetcheck.scoring
import fleetcheck.state.live
import fleetcheck.state.snapshot_state
import fleetcheck.velero  # noqa: F401
from fleetcheck.plugin import RECORD_ATTR

REPO = Path(__file__).resolve().parents[3]
BACKUP_CHECKS = REPO / "checks" / "test_backup.py"
#: plugins a nested run does not need (each costs import time in every run)
NESTED_OPTIONS = ("-p", "no:randomly", "-p", "no:hypothesispytest", "-p", "no:benchmark")


@dataclass
class Verdicts:
    """Every (code, cluster) verdict of one run, and what the terminal showed."""

    records: dict[tuple[str, str], dict[str, Any]]
    stdout: str

    def outcome(self, code: str, cluster: str) -> str:
        return str(self.records[(code, cluster)]["outcome"])

    def message(self, code: str, cluster: str) -> str:
        return str(self.records[(code, cluster)]["message"])

    def objects(self, code: str, cluster: str) -> list[str]:
        return list(self.records[(code, cluster)]["objects"])


def run_checks(pytester: pytest.Pytester, check_file: Path, *args: str) -> Verdicts:
    """``pytest CHECK_FILE ARGS --no-reports`` in-process; verdicts come from the records the plugin attaches."""
    result = pytester.runpytest_inprocess(str(check_file), *args, "--no-reports", *NESTED_OPTIONS)
    records: dict[tuple[str, str], dict[str, Any]] = {}
    for report in result.reprec.getreports("pytest_runtest_logreport"):  # type: ignore[attr-defined]
        payload = getattr(report, RECORD_ATTR, None)
        if payload:
            record = json.loads(payload)
            records[(record["code"], record["cluster"])] = record
    assert records, result.stdout.str()
    return Verdicts(records, result.stdout.str())
