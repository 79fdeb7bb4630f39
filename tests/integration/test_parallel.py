"""pytest-xdist: ``-n 2`` (``--dist loadgroup``) gives the same verdicts as a serial run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.clusters import write_cluster
from tests.integration.conftest import QUOTA_CHECKS


def _verdicts(pytester: pytest.Pytester, dirs: list[Path], out: Path, *extra: str) -> dict[tuple[str, str], tuple]:
    args = [str(QUOTA_CHECKS), "--report-dir", str(out), "-p", "no:benchmark", *extra]
    for d in dirs:
        args += ["--snapshot", str(d)]
    result = pytester.runpytest_subprocess(*args)
    assert result.ret in (0, 1), result.stdout.str()[-2000:]
    doc = json.loads((out / "results.json").read_text())
    return {(r["cluster"], r["code"]): (r["outcome"], r["message"], tuple(r["objects"])) for r in doc["results"]}


def test_two_workers_equal_serial(tmp_path: Path, pytester: pytest.Pytester) -> None:
    root = tmp_path / "snaps"
    dirs = [
        write_cluster(root, "prod-a"),
        write_cluster(root, "prod-b", bad_namespaces=3, hot_quota=True),
        write_cluster(root, "dev-1", bad_namespaces=1, labels={"env": "dev", "region": "eu-west"}),
    ]
    serial = _verdicts(pytester, dirs, tmp_path / "serial")
    parallel = _verdicts(pytester, dirs, tmp_path / "parallel", "-n", "2", "--dist", "loadgroup")
    assert serial == parallel
    assert len(serial) == 9
    assert serial[("prod-b", "FC-QUOTA-001")][0] == "fail"
