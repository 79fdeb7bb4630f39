"""The shell and Python the pods run, executed for real with a stub ``fleetcheck`` on PATH.

Each script goes through the kubelet's ``$(VAR)`` expansion and then ``/bin/sh`` (dash here,
as in python:3.11-slim), with the container's own env; the stub records the arguments,
which are then parsed with fleetcheck's own argument parser.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.rest import ApiException

from fleetcheck.runstate import parse_shard
from tests.deploy.kit import (
    KUSTOMIZE,
    container,
    kubectl,
    kustomize_build,
    literal_env,
    manifests,
    one,
    pod_templates,
    recorded_calls,
    run_script,
    stub_bin,
    subcommands,
)

ALL = manifests()
Obj = dict[str, Any]


def _sharded_jobs() -> Iterator[tuple[str, Obj, Obj]]:
    yield "manifests", one(ALL, "Job", "fleetcheck-shards").obj, one(ALL, "Job", "fleetcheck-merge").obj
    if kubectl() is not None:
        built = kustomize_build(KUSTOMIZE / "overlays" / "sharded")
        jobs = {o["metadata"]["name"]: o for o in built if o["kind"] == "Job"}
        yield "overlays/sharded", jobs["fleetcheck-shards"], jobs["fleetcheck-merge"]


SHARDED = list(_sharded_jobs())


@pytest.fixture
def stub(tmp_path: Path) -> dict[str, Any]:
    return {"bin": stub_bin(tmp_path / "bin"), "log": tmp_path / "calls.jsonl", "reports": tmp_path / "reports"}


# -- the Indexed Job ------------------------------------------------------------------------
@pytest.mark.parametrize(("source", "shards", "merge"), SHARDED, ids=[s[0] for s in SHARDED])
def test_every_index_scans_its_own_shard_k_of_n(source: str, shards: Obj, merge: Obj, stub: dict[str, Any]) -> None:
    """JOB_COMPLETION_INDEX is 0-based, --shard K/N 1-based: index i scans shard i+1, into shard-i."""
    n = shards["spec"]["completions"]
    scanner = container(pod_templates(shards)[0], "fleetcheck")
    run = subcommands()["run"]
    seen = []
    for index in range(n):
        done = run_script(
            scanner,
            stub["bin"],
            {"JOB_COMPLETION_INDEX": str(index), "STUB_LOG": str(stub["log"]), "REPORTS": str(stub["reports"])},
        )
        assert done.returncode == 0, done.stderr
        argv = recorded_calls(stub["log"])[-1]
        assert argv[0] == "run"
        args, unknown = run.parse_known_args(argv[1:])
        assert not unknown, unknown
        assert args.shard == f"{index + 1}/{n}"
        assert parse_shard(args.shard) == (index + 1, n)
        assert args.report_dir == f"{stub['reports']}/shard-{index}"
        assert args.fleet == literal_env(scanner)["FLEETCHECK_FLEET"]
        assert args.fail_on == "never", "findings must not fail (and retry) a shard"
        seen.append(parse_shard(args.shard))
    assert sorted(seen) == [(k, n) for k in range(1, n + 1)], "every shard exactly once"


@pytest.mark.parametrize(("source", "shards", "merge"), SHARDED, ids=[s[0] for s in SHARDED])
def test_merge_joins_exactly_the_shards_written(source: str, shards: Obj, merge: Obj, stub: dict[str, Any]) -> None:
    n = shards["spec"]["completions"]
    merger = container(pod_templates(merge)[0], "merge")
    done = run_script(merger, stub["bin"], {"STUB_LOG": str(stub["log"]), "REPORTS": str(stub["reports"])})
    assert done.returncode == 0, done.stderr
    (argv,) = recorded_calls(stub["log"])
    args = subcommands()["merge"].parse_args(argv[1:])
    assert argv[0] == "merge"
    assert args.results == [f"{stub['reports']}/shard-{i}/results.json" for i in range(n)]
    assert args.report_dir == f"{stub['reports']}/merged"


def test_merge_fails_loudly_when_fleetcheck_does() -> None:
    merger = container(pod_templates(one(ALL, "Job", "fleetcheck-merge").obj)[0], "merge")
    script = merger["args"][0]
    assert script.splitlines()[0] == "set -eu" and "exec fleetcheck merge" in script


# -- waiting for the shards -----------------------------------------------------------------
def _job(*conditions: tuple[str, str], succeeded: int = 0) -> k8s.V1Job:
    status = k8s.V1JobStatus(
        conditions=[k8s.V1JobCondition(type=t, status=s) for t, s in conditions] or None, succeeded=succeeded
    )
    return k8s.V1Job(metadata=k8s.V1ObjectMeta(name="fleetcheck-shards"), status=status)


def _run_wait(monkeypatch: pytest.MonkeyPatch, answers: list[Any]) -> tuple[Any, list[tuple[str, str]], int]:
    wait = container(pod_templates(one(ALL, "Job", "fleetcheck-merge").obj)[0], "wait-for-shards")
    assert wait["command"] == ["python", "-c"]
    calls: list[tuple[str, str]] = []
    sleeps: list[float] = []

    class FakeBatch:
        def read_namespaced_job(self, name: str, namespace: str, _request_timeout: Any = None) -> k8s.V1Job:
            assert _request_timeout is not None, "every API call needs a timeout"
            calls.append((name, namespace))
            answer = answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer

    monkeypatch.setattr(k8s_config, "load_incluster_config", lambda: None)
    monkeypatch.setattr(k8s, "BatchV1Api", FakeBatch)
    monkeypatch.setattr(time, "sleep", sleeps.append)
    for name, value in literal_env(wait).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("POD_NAMESPACE", "fleetcheck")
    with pytest.raises(SystemExit) as exited:
        exec(compile(wait["args"][0], "wait-for-shards", "exec"), {"__name__": "__main__"})
    return exited.value.code, calls, len(sleeps)


def test_wait_retries_until_the_shards_job_completes(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = [
        ApiException(status=404, reason="Not Found"),  # applied together: the Job may not exist yet
        OSError("connection reset"),
        _job(succeeded=1),
        _job(("Complete", "True"), succeeded=3),
    ]
    code, calls, sleeps = _run_wait(monkeypatch, answers)
    assert code in (0, None)
    assert calls == [("fleetcheck-shards", "fleetcheck")] * 4 and sleeps == 3


def test_wait_fails_when_the_shards_job_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, _ = _run_wait(monkeypatch, [_job(("Failed", "True"))])
    assert isinstance(code, str) and "failed" in code


# -- the scheduled scan's wrapper -----------------------------------------------------------
@pytest.fixture
def cron(stub: dict[str, Any]) -> dict[str, Any]:
    scanner = container(pod_templates(one(ALL, "CronJob", "fleetcheck").obj)[0], "fleetcheck")
    stub["reports"].mkdir()
    (stub["reports"] / "runs").mkdir()
    base = {"STUB_LOG": str(stub["log"]), "REPORTS": str(stub["reports"])}

    def scan(**extra: str) -> Any:
        return run_script(scanner, stub["bin"], {**base, **extra})

    return {**stub, "scan": scan, "container": scanner}


def _latest(reports: Path) -> str:
    return os.readlink(reports / "latest")


def test_scan_writes_a_run_and_points_latest_at_it(cron: dict[str, Any]) -> None:
    done = cron["scan"](STUB_WRITE="1")
    assert done.returncode == 0, done.stderr
    (argv,) = recorded_calls(cron["log"])
    args, unknown = subcommands()["run"].parse_known_args(argv[1:])
    assert argv[0] == "run" and not unknown
    assert args.fail_on == "never" and args.fleet == literal_env(cron["container"])["FLEETCHECK_FLEET"]
    run_dir = Path(args.report_dir)
    assert run_dir.parent == cron["reports"] / "runs"
    assert _latest(cron["reports"]) == f"runs/{run_dir.name}", "relative, so it works wherever the volume is mounted"
    assert (cron["reports"] / "latest" / "results.json").is_file()
    assert not (cron["reports"] / ".latest").exists()


def test_undecided_scan_still_updates_latest_and_exits_3(cron: dict[str, Any]) -> None:
    (cron["reports"] / "runs" / "20200101T000000Z").mkdir()
    (cron["reports"] / "latest").symlink_to("runs/20200101T000000Z")
    done = cron["scan"](STUB_WRITE="1", STUB_RC="3")
    assert done.returncode == 3
    assert _latest(cron["reports"]) != "runs/20200101T000000Z"
    assert (cron["reports"] / "latest" / "results.json").is_file()


def test_config_error_exits_2_and_keeps_latest(cron: dict[str, Any]) -> None:
    assert cron["scan"](STUB_WRITE="1").returncode == 0
    before = _latest(cron["reports"])
    done = cron["scan"](STUB_WRITE="0", STUB_RC="2")
    assert done.returncode == 2
    assert _latest(cron["reports"]) == before


def test_old_runs_are_pruned(cron: dict[str, Any]) -> None:
    old, recent = cron["reports"] / "runs" / "20200101T000000Z", cron["reports"] / "runs" / "20991231T000000Z"
    for folder, age_days in ((old, 40), (recent, 2)):
        folder.mkdir()
        stamp = time.time() - age_days * 86400
        os.utime(folder, (stamp, stamp))
    assert cron["scan"](STUB_WRITE="1", FLEETCHECK_KEEP_DAYS="30").returncode == 0
    assert not old.exists() and recent.exists()


def test_failed_metrics_push_warns_but_keeps_the_exit_code(cron: dict[str, Any]) -> None:
    """A failing push (here: a python that fails) is logged; the scan's exit code stands.

    The push itself, through fleetcheck's push_metrics, is tested end to end in test_scheduled_scan.py.
    """
    failing = cron["bin"] / "python"
    failing.unlink()
    failing.write_text("#!/bin/sh\ncat > /dev/null\necho 'pushgateway: connection refused' >&2\nexit 1\n")
    failing.chmod(0o755)
    done = cron["scan"](STUB_WRITE="1", STUB_RC="3", PUSHGATEWAY_URL="http://127.0.0.1:9")
    assert done.returncode == 3
    assert "metrics push failed" in done.stderr
    assert (cron["reports"] / "latest" / "results.json").is_file()


# -- the interpreter the scripts find on PATH -----------------------------------------------
def test_python_on_the_stub_path_has_the_project_packages(tmp_path: Path) -> None:
    """``python`` beside the stub runs this interpreter with its packages, wherever the folder lives.

    The image's ``python`` has fleetcheck's dependencies; a symlink to a venv's interpreter placed
    outside the venv runs as the base interpreter instead, which on a fresh machine has none.
    """
    import subprocess

    bin_dir = stub_bin(tmp_path / "elsewhere" / "bin")
    done = subprocess.run(
        [str(bin_dir / "python"), "-c", "import junitparser, kubernetes, fleetcheck, sys; print(sys.prefix)"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == sys.prefix
