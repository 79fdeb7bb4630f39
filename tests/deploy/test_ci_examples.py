"""The CI examples: valid YAML with the structure GitHub Actions and GitLab CI expect."""

from __future__ import annotations

from typing import Any

import yaml

from tests.deploy.kit import EXAMPLES

GITHUB = ["github-actions.yml", "github-actions-scheduled.yml"]


def _load(name: str) -> dict[Any, Any]:
    data = yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict), name
    return data


def _triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the bare key `on` as the boolean true; GitHub reads it as "on"
    triggers = workflow.get("on", workflow.get(True))
    assert isinstance(triggers, dict)
    return triggers


def _steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    (job,) = workflow["jobs"].values()
    assert job["runs-on"] and job["timeout-minutes"] > 0
    steps = job["steps"]
    assert all(("uses" in s) != ("run" in s) for s in steps), "each step either uses an action or runs a command"
    return steps


def _uses(steps: list[dict[str, Any]], action: str) -> dict[str, Any]:
    found = [s for s in steps if s.get("uses", "").split("@")[0] == action]
    assert len(found) == 1, action
    assert "@" in found[0]["uses"], f"{action}: pin a version"
    return found[0]


def test_github_workflows_are_least_privilege_and_python_311() -> None:
    for name in GITHUB:
        workflow = _load(name)
        assert workflow["permissions"]["contents"] == "read"
        assert set(workflow["permissions"].values()) <= {"read", "write"}
        steps = _steps(workflow)
        _uses(steps, "actions/checkout")
        assert _uses(steps, "actions/setup-python")["with"]["python-version"] == "3.11"
        assert any(s.get("run") == "pip install ." for s in steps)
        upload = _uses(steps, "actions/upload-artifact")
        assert upload["if"] == "always()" and upload["with"]["path"] == "reports/"
        for step in steps:  # secrets go through env, never inlined into a shell command
            assert "secrets." not in step.get("run", ""), step


def test_github_gate_runs_the_gate_and_publishes_junit() -> None:
    workflow = _load("github-actions.yml")
    assert "pull_request" in _triggers(workflow)
    steps = _steps(workflow)
    gate = next(s["run"] for s in steps if "fleetcheck run" in s.get("run", ""))
    for flag in ('--cluster "$CLUSTER"', "--fail-on high", "--baseline baseline/results.json"):
        assert flag in gate
    junit = _uses(steps, "mikepenz/action-junit-report")
    assert junit["if"] == "always()" and junit["with"]["report_paths"] == "reports/junit.xml"
    assert workflow["permissions"]["checks"] == "write", "the JUnit action creates a check run"


def test_github_scheduled_scan_runs_on_a_schedule() -> None:
    workflow = _load("github-actions-scheduled.yml")
    (schedule,) = _triggers(workflow)["schedule"]
    assert len(schedule["cron"].split()) == 5
    scan = next(s["run"] for s in _steps(workflow) if "fleetcheck run" in s.get("run", ""))
    assert "--fail-on never" in scan
    assert workflow["concurrency"]["cancel-in-progress"] is False, "a scan is never cancelled by the next one"


def test_gitlab_jobs_keep_reports_and_publish_junit() -> None:
    pipeline = _load("gitlab-ci.yml")
    jobs = {name: job for name, job in pipeline.items() if isinstance(job, dict) and "script" in job}
    assert set(jobs) == {"fleetcheck:gate", "fleetcheck:scan"}
    template = pipeline[".fleetcheck"]
    assert template["image"] == "python:3.11-slim"
    assert template["before_script"] == ["pip install ."]
    for name, job in jobs.items():
        assert job["extends"] == ".fleetcheck" and job["rules"], name
        artifacts = job["artifacts"]
        assert artifacts["when"] == "always", name
        assert artifacts["reports"]["junit"] == "reports/junit.xml", name
        assert "reports/" in artifacts["paths"], name
    gate = jobs["fleetcheck:gate"]
    assert "--fail-on high" in gate["script"][0] and "--baseline baseline/results.json" in gate["script"][0]
    assert gate["artifacts"]["expose_as"], "the scorecard is linked from the merge request"
    # expose_as shows only paths without globs or variables; folders must end in '/'
    for path in gate["artifacts"]["paths"]:
        assert "*" not in path and "$" not in path and not path.startswith("./")
        assert path.endswith("/") or "." in path.rsplit("/", 1)[-1]
    assert "reports/scorecard.html" in gate["artifacts"]["paths"]
    assert jobs["fleetcheck:scan"]["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]
