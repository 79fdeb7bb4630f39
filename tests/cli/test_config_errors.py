"""Every input error reaches the user as one line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fleetcheck.cli import main
from tests.builders import alias_bomb, kubeconfig, namespace, write_snapshot, write_yaml

SNAP = "snaps/prod-eu"

#: case -> (files to write, fleetcheck arguments, file named in the error, field named in the error)
CASES: dict[str, tuple[dict[str, str | bytes], list[str], str, str]] = {
    "unknown field": (
        {"fleet.yaml": f"clusters:\n- name: prod-eu\n  snapshot: {SNAP}\n  colour: red\n"},
        ["run", "--fleet", "fleet.yaml"],
        "fleet.yaml",
        "clusters[0].colour",
    ),
    "wrong type": (
        {"fleet.yaml": f"clusters:\n- name: prod-eu\n  snapshot: {SNAP}\n  labels: [prod]\n"},
        ["run", "--fleet", "fleet.yaml"],
        "fleet.yaml",
        "clusters[0].labels",
    ),
    "duplicate cluster names": (
        {"fleet.yaml": f"clusters:\n- name: a\n  snapshot: {SNAP}\n- name: a\n  snapshot: {SNAP}\n"},
        ["run", "--fleet", "fleet.yaml"],
        "fleet.yaml",
        "clusters[1].name",
    ),
    "missing kubeconfig file": (
        {"fleet.yaml": "clusters:\n- name: a\n  kubeconfig: kube/missing.yaml\n"},
        ["run", "--fleet", "fleet.yaml"],
        "fleet.yaml",
        "clusters[0].kubeconfig",
    ),
    "unknown context": (
        {"fleet.yaml": "clusters:\n- name: a\n  kubeconfig: kube/config\n  context: prod-us\n"},
        ["clusters", "--fleet", "fleet.yaml"],
        "fleet.yaml",
        "clusters[0].context",
    ),
    "snapshot and context": (
        {"fleet.yaml": f"clusters:\n- name: a\n  snapshot: {SNAP}\n  context: prod-eu\n"},
        ["run", "--fleet", "fleet.yaml"],
        "fleet.yaml",
        "clusters[0]",
    ),
    "missing snapshot folder in the fleet file": (
        {"fleet.yaml": "clusters:\n- name: a\n  snapshot: snaps/gone\n"},
        ["run", "--fleet", "fleet.yaml"],
        "fleet.yaml",
        "clusters[0].snapshot",
    ),
    "missing snapshot folder": ({}, ["run", "--snapshot", "snaps/gone"], "snaps/gone", "--snapshot"),
    "fleet and snapshot": ({}, ["run", "--fleet", "fleet.yaml", "--snapshot", SNAP], "fleet.yaml", "--snapshot"),
    "unknown profile in extends": (
        {"p.yaml": "extends: nosuch\n"},
        ["run", "--snapshot", SNAP, "--profile", "p.yaml"],
        "p.yaml",
        "extends",
    ),
    "extends cycle": (
        {"p.yaml": "extends: q.yaml\n", "q.yaml": "extends: p.yaml\n"},
        ["run", "--snapshot", SNAP, "--profile", "p.yaml"],
        "p.yaml",
        "extends",
    ),
    "waiver without reason": (
        {"p.yaml": "extends: default\nwaivers:\n- code: FC-QUOTA-001\n  expires: 2030-01-01\n"},
        ["run", "--snapshot", SNAP, "--profile", "p.yaml"],
        "p.yaml",
        "waivers[0].reason",
    ),
    "threshold over 100": (
        {"p.yaml": "extends: default\nsettings:\n  FC-QUOTA-003: {threshold_percent: 150}\n"},
        ["run", "--snapshot", SNAP, "--profile", "p.yaml"],
        "p.yaml",
        "settings.FC-QUOTA-003.threshold_percent",
    ),
    "unknown setting": (
        {"p.yaml": "extends: default\nsettings:\n  FC-QUOTA-003: {threshhold_percent: 50}\n"},
        ["run", "--snapshot", SNAP, "--profile", "p.yaml"],
        "p.yaml",
        "settings.FC-QUOTA-003.threshhold_percent",
    ),
    "unknown code in severity": (
        {"p.yaml": "extends: default\nseverity:\n  FC-NOPE-001: high\n"},
        ["run", "--snapshot", SNAP, "--profile", "p.yaml"],
        "p.yaml",
        "severity.FC-NOPE-001",
    ),
    "invalid YAML": (
        {"fleet.yaml": "clusters:\n- name: a\n  snapshot: [\n"},
        ["run", "--fleet", "fleet.yaml"],
        "fleet.yaml",
        "line 4",
    ),
    "alias bomb": (
        {"p.yaml": "extends: default\n" + alias_bomb()},
        ["run", "--snapshot", SNAP, "--profile", "p.yaml"],
        "p.yaml",
        "a9",
    ),
    "not UTF-8": (
        {"fleet.yaml": b"clusters:\n- name: caf\xe9\n"},
        ["run", "--fleet", "fleet.yaml"],
        "fleet.yaml",
        "byte 21",
    ),
    "unknown field in cluster.yaml": (
        {f"{SNAP}/cluster.yaml": "name: prod-eu\ncolour: red\n"},
        ["run", "--snapshot", SNAP],
        f"{SNAP}/cluster.yaml",
        "colour",
    ),
    "no kubeconfig and no fleet": ({}, ["run"], "KUBECONFIG", "kubeconfig"),
}


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with a valid snapshot and kubeconfig; no real kubeconfig is visible."""
    write_snapshot(tmp_path / SNAP, [namespace("team-a")], name="prod-eu")
    write_yaml(
        tmp_path / "kube" / "config", kubeconfig({"prod-eu": "eu"}, {"eu": {"server": "https://eu.example.com"}})
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    return tmp_path


def _write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def _assert_one_line(err: str, source: str, field: str) -> str:
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("fleetcheck: error: ")
    assert source in line
    assert f": {field}: " in line
    assert "(fix: " in line and line.endswith(")")
    return line


@pytest.mark.parametrize("case", list(CASES))
def test_config_error_in_process(case: str, workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files, args, source, field = CASES[case]
    _write(workspace, files)
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    _assert_one_line(err, source, field)


def test_snapshot_and_context_message_says_which_to_drop(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files, args, _, _ = CASES["snapshot and context"]
    _write(workspace, files)
    assert main(args) == 2
    assert "either 'snapshot' or 'context'" in capsys.readouterr().err


def _subprocess_env(workspace: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"KUBECONFIG", "PYTEST_ADDOPTS"}}
    env["HOME"] = str(workspace / "home")
    return env


def test_config_error_as_a_subprocess(workspace: Path) -> None:
    files, args, source, field = CASES["alias bomb"]
    _write(workspace, files)
    proc = subprocess.run(
        [sys.executable, "-m", "fleetcheck.cli", *args],
        cwd=workspace,
        env=_subprocess_env(workspace),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    _assert_one_line(proc.stderr, source, field)


@pytest.mark.skipif(shutil.which("fleetcheck") is None, reason="the fleetcheck console script is not installed")
def test_console_script_exit_code(workspace: Path) -> None:
    files, args, source, field = CASES["unknown field"]
    _write(workspace, files)
    proc = subprocess.run(
        [str(shutil.which("fleetcheck")), *args],
        cwd=workspace,
        env=_subprocess_env(workspace),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    line = _assert_one_line(proc.stderr, source, field)
    assert "unknown field" in line
