"""What a scan hands to its reports: the check catalog under xdist, and skip reasons pytest prints.

- ``-n 2``: the controller collects no checks, so the catalog part of
  ``results.json`` (what / why / fix, which the scorecard and JUnit show)
  must come from the catalog of the codes the workers reported, equal to a
  serial run's.
- ``pytest -rA`` prints every skip reason; reasons quote cluster data (user
  names of a ClusterRoleBinding here), so they reach the terminal cleaned of
  escape sequences and control characters, and redacted.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.checks.oidc.builders import binding, cluster_admin_role, coredns_pod
from tests.checks.oidc.builders import write_cluster as write_oidc_cluster
from tests.integration.clusters import write_cluster
from tests.security.kit import check_module, scan_args

CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
HOSTILE_USER = "mallory\x1b]0;owned\x07\x1b[2J\u202eoot password=pw-skip-reason-6c1e"


def _results(pytester: pytest.Pytester, targets: list[Path], snapshots: list[Path], *extra: str) -> dict[str, Any]:
    out = pytester.path / f"reports-{len(list(pytester.path.glob('reports-*')))}"
    args = scan_args(targets, out, "-p", "no:randomly", *extra)
    for folder in snapshots:
        args += ["--snapshot", str(folder)]
    result = pytester.runpytest_subprocess(*args)
    assert result.ret in (0, 1), result.stdout.str()[-3000:]
    document: dict[str, Any] = json.loads((out / "results.json").read_text())
    return document


def test_the_check_catalog_under_two_workers_equals_serial(tmp_path: Path, pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist", reason="pytest-xdist is a test dependency: pip install -e '.[test]'")
    root = tmp_path / "snaps"
    snapshots = [write_cluster(root, "prod-a", bad_namespaces=2), write_cluster(root, "prod-b")]
    targets = [check_module("quota")]
    serial = _results(pytester, targets, snapshots)
    parallel = _results(pytester, targets, snapshots, "-n", "2", "--dist", "loadgroup")
    assert serial["checks"], "a serial run has a catalog"
    assert parallel["checks"] == serial["checks"]
    assert set(parallel["checks"]) == {r["code"] for r in parallel["results"]}
    assert all(info["fix"] and info["why"] for info in parallel["checks"].values())


def test_skip_reasons_printed_by_rA_are_clean_and_redacted(tmp_path: Path, pytester: pytest.Pytester) -> None:
    """FC-OIDC-005 skips naming the Users that hold cluster-admin when no username prefix is known."""
    rbac = [cluster_admin_role(), binding("local-admin", "cluster-admin", ("User", HOSTILE_USER))]
    folder = write_oidc_cluster(tmp_path / "snaps", "skip-a", [coredns_pod(), *rbac])
    out = tmp_path / "reports"
    args = scan_args([check_module("oidc")], out, "-p", "no:randomly", "-rA", "-k", "cluster_admin_users_are_oidc")
    result = pytester.runpytest_subprocess(*args, "--snapshot", str(folder))
    assert result.ret == 0, result.stdout.str()[-3000:]
    terminal = result.stdout.str() + result.stderr.str()
    skipped = [line for line in terminal.splitlines() if line.startswith("SKIPPED")]
    assert skipped and "mallory" in skipped[0], terminal[-3000:]
    assert not CONTROL.search(terminal), repr(CONTROL.search(terminal))
    assert "pw-skip-reason-6c1e" not in terminal and "password=[REDACTED]" in skipped[0]
    record = json.loads((out / "results.json").read_text())["results"][0]
    assert record["outcome"] == "skip" and "pw-skip-reason-6c1e" not in record["message"]
