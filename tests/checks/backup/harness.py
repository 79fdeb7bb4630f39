"""Run check modules in a child pytest session and read back each case's verdict record."""

from __future__ import annotations

# Loaded before any nested run, so the runs find them imported: pytester drops every module a nested
# run imports itself, and re-importing them (with assertion rewriting) costs each run a second or more.
import fleetcheck.facts.apiserver
import fleetcheck.facts.velero
import fleetcheck.probes.oidc
import fleetcheck.reports
import fleetcheck.reports.terminal
import fleetcheck.runstate
import fleetcheck.scoring
import fleetcheck.state.live
import fleetcheck.state.snapshot_state  # noqa: F401
from tests.harness import NESTED_OPTIONS, REPO, Verdicts, run_checks

BACKUP_CHECKS = REPO / "checks" / "test_backup.py"

__all__ = ["BACKUP_CHECKS", "NESTED_OPTIONS", "REPO", "Verdicts", "run_checks"]
