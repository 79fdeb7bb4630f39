"""The gate through the CLI: exit codes, baselines, diff, waivers, shards merged = unsharded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.integration.clusters import write_cluster


def fleetcheck(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fleetcheck.cli", *args, "-p", "no:benchmark"]
        if args and args[0] == "run"
        else [sys.executable, "-m", "fleetcheck.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


@pytest.fixture
def fleet_dirs(tmp_path: Path) -> list[str]:
    root = tmp_path / "snaps"
    return [
        str(write_cluster(root, "prod-a")),
        str(write_cluster(root, "prod-b", bad_namespaces=2, hot_quota=True)),
        str(write_cluster(root, "dev-1", labels={"env": "dev", "region": "eu-west", "owner": "x"})),
        str(write_cluster(root, "edge-1", bad_namespaces=1, labels={"env": "edge", "region": "eu-west"})),
    ]


def snap_args(dirs: list[str]) -> list[str]:
    """The snapshot folders, judged by a profile that selects the quota checks only."""
    profile = Path(dirs[0]).parent / "quota-only.yaml"
    profile.write_text(yaml.safe_dump({"name": "quota-only", "extends": "default", "select": ["FC-QUOTA-*"]}))
    return [*(arg for d in dirs for arg in ("--snapshot", d)), "--profile", str(profile)]


def results(path: Path) -> dict:
    return json.loads((path / "results.json").read_text())


def test_exit_codes(fleet_dirs: list[str], tmp_path: Path) -> None:
    clean = fleetcheck("run", *snap_args(fleet_dirs[:1]), "--report-dir", "r0", cwd=tmp_path)
    assert clean.returncode == 0, clean.stderr
    assert "gate: passed" in clean.stdout
    dirty = fleetcheck("run", *snap_args(fleet_dirs), "--report-dir", "r1", cwd=tmp_path)
    assert dirty.returncode == 1
    assert "FC-QUOTA-001" in dirty.stderr
    lenient = fleetcheck("run", *snap_args(fleet_dirs), "--report-dir", "r2", "--fail-on", "critical", cwd=tmp_path)
    assert lenient.returncode == 0
    bad = fleetcheck("run", "--snapshot", str(tmp_path / "missing"), cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr


def test_undecided_when_clusters_error(tmp_path: Path) -> None:
    """A kubeconfig whose only cluster refuses connections: nothing decided -> 3, never a pass."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "gone",
                "clusters": [{"name": "gone", "cluster": {"server": "https://127.0.0.1:1"}}],
                "users": [{"name": "u", "user": {"token": "not-a-real-token"}}],
                "contexts": [{"name": "gone", "context": {"cluster": "gone", "user": "u"}}],
            }
        )
    )
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(yaml.safe_dump({"defaults": {"kubeconfig": str(kubeconfig)}, "clusters": [{"name": "gone"}]}))
    run = fleetcheck("run", "--fleet", str(fleet), "--connect-timeout", "1", cwd=tmp_path)
    assert run.returncode == 3, run.stdout[-1500:]
    assert "could not decide" in run.stderr
    assert "not-a-real-token" not in run.stdout + run.stderr


def test_baseline_blocks_only_new_findings_and_diff_reports_them(fleet_dirs: list[str], tmp_path: Path) -> None:
    first = fleetcheck("run", *snap_args(fleet_dirs), "--report-dir", "old", cwd=tmp_path)
    assert first.returncode == 1
    same = fleetcheck(
        "run", *snap_args(fleet_dirs), "--report-dir", "same", "--baseline", "old/results.json", cwd=tmp_path
    )
    assert same.returncode == 0, same.stderr
    # one more unbounded namespace on prod-a: a new finding
    extra = tmp_path / "snaps2"
    dirs = [str(write_cluster(extra, "prod-a", bad_namespaces=1)), *fleet_dirs[1:]]
    worse = fleetcheck("run", *snap_args(dirs), "--report-dir", "new", "--baseline", "old/results.json", cwd=tmp_path)
    assert worse.returncode == 1
    assert "new: prod-a FC-QUOTA-001 [high] Namespace/legacy-0" in worse.stdout
    diff = fleetcheck("diff", "old/results.json", "new/results.json", cwd=tmp_path)
    assert diff.returncode == 1
    assert "prod-a: 2 new" in diff.stdout  # FC-QUOTA-001 and FC-QUOTA-002 on legacy-0
    fixed = fleetcheck("diff", "new/results.json", "old/results.json", cwd=tmp_path)
    assert fixed.returncode == 0
    assert "fixed  FC-QUOTA-001 [high] Namespace/legacy-0" in fixed.stdout


def test_waivers_active_expired_and_stale(fleet_dirs: list[str], tmp_path: Path) -> None:
    profile = tmp_path / "waived.yaml"
    profile.write_text(
        yaml.safe_dump(
            {
                "name": "waived",
                "extends": "default",
                "select": ["FC-QUOTA-*"],
                "waivers": [
                    {
                        "code": "FC-QUOTA-001",
                        "clusters": "prod-b",
                        "reason": "legacy namespaces, migration in Q1",
                        "expires": "2099-01-31",
                        "ticket": "PLAT-1",
                    },
                    {"code": "FC-QUOTA-002", "clusters": "prod-b", "reason": "old waiver", "expires": "2020-01-01"},
                    {
                        "code": "FC-QUOTA-003",
                        "clusters": "nowhere-*",
                        "reason": "matches nothing",
                        "expires": "2099-01-01",
                    },
                ],
            }
        )
    )
    args = [a for d in fleet_dirs for a in ("--snapshot", d)]
    run = fleetcheck("run", *args, "--profile", str(profile), "--report-dir", "r", cwd=tmp_path)
    doc = results(tmp_path / "r")
    by = {(r["cluster"], r["code"]): r for r in doc["results"]}
    assert by[("prod-b", "FC-QUOTA-001")]["outcome"] == "waived"
    assert by[("prod-b", "FC-QUOTA-002")]["outcome"] == "fail"
    assert "waiver expired 2020-01-01" in by[("prod-b", "FC-QUOTA-002")]["message"]
    status = {w["code"]: w["status"] for w in doc["waivers"]}
    assert status == {"FC-QUOTA-001": "active", "FC-QUOTA-002": "expired", "FC-QUOTA-003": "stale"}
    assert "waiver stale: FC-QUOTA-003" in run.stdout


@pytest.mark.parametrize("shards", [2, 3])
def test_sharded_then_merged_equals_unsharded(fleet_dirs: list[str], tmp_path: Path, shards: int) -> None:
    fleetcheck("run", *snap_args(fleet_dirs), "--report-dir", "whole", cwd=tmp_path)
    # the shards run at once (an Indexed Job's pods): each publishes its clusters' facts into --facts and reads
    # the others' from it, so its fleet verdicts and the document's facts are the unsharded run's
    cmd = [sys.executable, "-m", "fleetcheck.cli", "run", *snap_args(fleet_dirs), "-p", "no:benchmark"]
    procs = [
        subprocess.Popen(
            [*cmd, "--shard", f"{k}/{shards}", "--facts", "facts", "--report-dir", f"s{k}"],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(1, shards + 1)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode in (0, 1), err[-2000:]
    merged = fleetcheck(
        "merge", *[f"s{k}/results.json" for k in range(1, shards + 1)], "--report-dir", "merged", cwd=tmp_path
    )
    assert merged.returncode == 0, merged.stderr

    def comparable(doc: dict) -> dict:
        for key in ("started", "finished", "shard", "run_id"):  # per run by nature
            doc.pop(key, None)
        for record in doc["results"]:
            record.pop("duration_s")
        return doc

    whole, combined = results(tmp_path / "whole"), results(tmp_path / "merged")
    assert comparable(combined) == comparable(whole)
    assert [c.get("facts") for c in combined["clusters"]] == [c.get("facts") for c in whole["clusters"]]
    assert any(c.get("facts") for c in whole["clusters"])  # the facts compared are there
    junit_whole = (tmp_path / "whole" / "junit.xml").read_text()
    junit_merged = (tmp_path / "merged" / "junit.xml").read_text()
    assert junit_merged.count("<testsuite ") == junit_whole.count("<testsuite ") == 4
