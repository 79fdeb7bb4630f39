"""What a person reads: each finding once, no pytest node ids, the real profiles, quiet pipes, one-line errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fleetcheck.cli import main
from tests.builders import namespace, write_snapshot

NODE_ID = re.compile(r"::test_|FAILED |\.py::")


def _cli(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fleetcheck.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    root = tmp_path_factory.mktemp("demo-terminal")
    return _cli("demo", "--small", "--workdir", "work", "--report-dir", "reports", cwd=root)


def test_demo_output_has_no_duplicate_lines_and_no_node_ids(demo: subprocess.CompletedProcess[str]) -> None:
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    lines: list[str] = []  # logical lines: a wrapped message's indented continuation joins its finding
    for line in demo.stdout.splitlines():
        if line.startswith(" ") and lines:
            lines[-1] += " " + line.strip()
        elif line.strip() and not set(line) <= set("= "):
            lines.append(line)
    assert [line for line in lines if lines.count(line) > 1] == []
    assert [line for line in demo.stdout.splitlines() if NODE_ID.search(line)] == []
    assert "gotchas caught" in demo.stdout


def test_demo_prints_each_finding_once_code_first(demo: subprocess.CompletedProcess[str]) -> None:
    fails = re.findall(r"^(FC-[A-Z]+-\d{3}) (critical|high|medium|low|info) +(\S+) ", demo.stdout, re.MULTILINE)
    assert len(fails) == len(set(fails)) > 10
    assert "profiles demo-prod (3), demo-dev (1), demo-edge (1)" in demo.stdout
    assert "profile default" not in demo.stdout
    assert "prod-us-east: " in demo.stdout  # the progress line of a cluster


def test_findings_are_wrapped_not_cut_without_a_tty(tmp_path: Path) -> None:
    from fleetcheck.reports.terminal import render_findings
    from fleetcheck.results import ResultRecord, ResultsDocument

    message = "object " + " ".join(f"ns-{i}/Deployment/app-{i}" for i in range(40)) + " END"
    doc = ResultsDocument(
        started="2026-11-24T10:00:00Z",
        results=[
            ResultRecord(
                cluster="c1", code="FC-X-001", factor="owned", severity="high", outcome="fail", message=message
            )
        ],
    )
    text = render_findings(doc, color=False, width=100) or ""
    assert all(len(line) <= 100 for line in text.splitlines())
    assert text.count("END") == 1
    assert "…" not in text
    flat = " ".join(text.split())
    assert all(f"ns-{i}/Deployment/app-{i}" in flat for i in range(40))


def test_quiet_run_prints_just_the_summary(tmp_path: Path) -> None:
    args: list[str] = []
    for name in ("prod-a", "prod-b"):
        write_snapshot(tmp_path / name, [namespace("kube-system"), namespace("team-a")], name=name)
        args += ["--snapshot", str(tmp_path / name)]
    loud = _cli("run", *args, "--report-dir", "r", cwd=tmp_path)
    quiet = _cli("run", *args, "--report-dir", "r", "-q", cwd=tmp_path)
    assert "fleetcheck findings" in loud.stdout and "prod-a: " in loud.stdout
    assert "fleetcheck findings" not in quiet.stdout and "prod-a: " not in quiet.stdout
    assert "fleetcheck summary" in quiet.stdout
    as_json = _cli("run", *args, "--report-dir", "r", "--format", "json", cwd=tmp_path)
    payload = json.loads(as_json.stdout)
    assert payload["complete"] is True and payload["gate"]["exit_code"] == as_json.returncode
    assert {c["name"] for c in payload["clusters"]} == {"prod-a", "prod-b"}
    bogus = _cli("run", *args, "--no-such-flag", cwd=tmp_path)
    assert bogus.returncode == 2
    assert bogus.stderr.strip().splitlines() == [
        "fleetcheck: error: run: arguments: unrecognized arguments: --no-such-flag "
        "(fix: see 'fleetcheck run --help' (arguments fleetcheck does not know go to pytest))"
    ]


def test_version_help_and_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as version:
        main(["--version"])
    assert version.value.code == 0 and capsys.readouterr().out.startswith("fleetcheck ")
    with pytest.raises(SystemExit) as helped:
        main(["run", "--help"])
    assert helped.value.code == 0
    assert "143  interrupted by SIGTERM" in capsys.readouterr().out
    with pytest.raises(SystemExit) as bad:
        main(["chekcs"])
    assert bad.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("fleetcheck: error: ") and "fleetcheck --help" in err[0]


def test_run_help_names_every_plugin_option_it_hands_on(capsys: pytest.CaptureFixture[str]) -> None:
    """``fleetcheck run`` accepts the plugin's options by their short names; its help must say which."""
    from fleetcheck.core.plugin_options import PLUGIN_OPTIONS

    with pytest.raises(SystemExit):
        main(["run", "--help"])
    shown = set(re.findall(r"--[a-z][a-z-]+", capsys.readouterr().out.replace("\n", " ")))
    assert not PLUGIN_OPTIONS - shown, f"missing from 'fleetcheck run --help': {sorted(PLUGIN_OPTIONS - shown)}"


def test_the_handed_on_options_are_the_plugins_with_its_metavars(tmp_path: Path) -> None:
    """Each name ``fleetcheck run`` hands on is a ``--fleetcheck-`` option of the plugin, with the same metavar."""
    from fleetcheck.core.plugin_options import PLUGIN_OPTION_METAVARS

    helped = subprocess.run(
        [sys.executable, "-m", "pytest", "--help", "-p", "no:randomly"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert helped.returncode == 0, helped.stderr[-2000:]
    plugin = dict(re.findall(r"^\s+--fleetcheck-([a-z-]+)(?:=(\S+))?", helped.stdout, re.MULTILINE))
    for name, metavar in PLUGIN_OPTION_METAVARS.items():
        short = name.removeprefix("--")
        assert short in plugin, f"{name} is not an option of the plugin"
        assert plugin[short] == metavar, f"{name}: the plugin shows {plugin[short]!r}"


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-m", "fleetcheck.cli", "checks"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()  # the reader is gone before the first line
    err = child.stderr.read().decode()
    child.stderr.close()
    assert child.wait(timeout=120) == 141
    assert "Traceback" not in err and "BrokenPipeError" not in err


def test_explain_and_clusters_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "FC-QUOTA-001", "--format", "json"]) == 0
    explained = json.loads(capsys.readouterr().out)
    assert explained["code"] == "FC-QUOTA-001" and explained["why"]
    write_snapshot(tmp_path / "prod-a", [namespace("kube-system")], name="prod-a")
    assert main(["clusters", "--snapshot", str(tmp_path / "prod-a"), "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in listed] == ["prod-a"]
    assert main(["clusters", "--snapshot", str(tmp_path / "prod-a"), "--format", "json", "--check-access"]) == 2
