"""Reports are written whole or not at all: a full disk, an unwritable target and a concurrent run leave a complete set.

Every failure here is a real kernel condition in a real process, not a mock:
``RLIMIT_FSIZE`` makes ``write(2)`` fail with ``EFBIG`` exactly as a full
quota does (this runner is root, so a read-only folder by permissions would
not stop it), a report folder that is a regular file fails ``mkdir``, and
two ``fleetcheck report`` processes race for one folder. After each, the
folder holds the previous complete set or the new one, told apart by the run
id every file carries (:func:`fleetcheck.reports.run_ids`).
"""

from __future__ import annotations

import fcntl
import json
import os
import resource
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from fleetcheck.reports import REPORT_FILES, ReportWriteError, run_ids, write_reports
from fleetcheck.reports.writing import LOCK_FILE
from fleetcheck.results import CheckInfo, ClusterSummary, ResultRecord, ResultsDocument

CLI = (sys.executable, "-m", "fleetcheck.cli")
NAMES = tuple(REPORT_FILES.values())


def _document(clusters: int, objects: int, run_id: str) -> ResultsDocument:
    info = CheckInfo(code="FC-QUOTA-001", title="Namespaces have a ResourceQuota", factor="bounded", severity="high")
    results = [
        ResultRecord(
            cluster=f"c-{i:03d}",
            code="FC-QUOTA-001",
            factor="bounded",
            severity="high",
            outcome="fail",
            message=f"{objects} namespaces have no ResourceQuota",
            objects=[f"Namespace/team-{n:05d}" for n in range(objects)],
        )
        for i in range(clusters)
    ]
    return ResultsDocument(
        started="2026-11-24T10:00:00Z",
        clusters=[ClusterSummary(name=f"c-{i:03d}") for i in range(clusters)],
        results=results,
        checks={"FC-QUOTA-001": info},
        run_id=run_id,  # type: ignore[call-arg]  # an extra field of the contract
    )


def _save(doc: ResultsDocument, path: Path) -> Path:
    path.write_bytes(doc.to_json_bytes())
    return path


def _contents(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in NAMES}


def _assert_complete_set(folder: Path) -> str:
    """Every file parses and all name one run; returns that run id."""
    ids = run_ids(folder)
    assert None not in ids.values() and len(set(ids.values())) == 1, ids
    json.loads((folder / "results.json").read_bytes())
    ET.fromstring((folder / "junit.xml").read_bytes())
    from prometheus_client.parser import text_string_to_metric_families

    families = {f.name for f in text_string_to_metric_families((folder / "metrics.prom").read_text())}
    assert "fleetcheck_run_info" in families
    assert (folder / "scorecard.html").read_text().rstrip().endswith("</html>")
    assert not list(folder.glob(".fleetcheck-staging-*")), "no staging folder is left behind"
    return next(iter(ids.values()))  # type: ignore[return-value]


def _report(results: Path, report_dir: Path, **popen: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, "report", str(results), "--report-dir", str(report_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,  # type: ignore[call-overload]
    )


def test_every_report_carries_the_run_id_and_a_rerender_keeps_it(tmp_path: Path) -> None:
    doc = _document(3, 4, "")
    doc = doc.model_copy(update={"run_id": None})
    write_reports(doc, tmp_path / "first")
    run_id = _assert_complete_set(tmp_path / "first")
    assert run_id and run_id != "None"
    again = tmp_path / "again"
    proc = _report(tmp_path / "first" / "results.json", again)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, out + err
    assert _assert_complete_set(again) == run_id
    assert _contents(again) == _contents(tmp_path / "first"), "re-rendering a saved run is byte for byte"


def test_full_disk_leaves_the_previous_set_and_says_so_in_one_line(tmp_path: Path) -> None:
    """``EFBIG`` from ``RLIMIT_FSIZE`` mid-write: exit 2, one line, the old set byte for byte, no debris."""
    folder = tmp_path / "reports"
    write_reports(_document(2, 3, "previous-run"), folder)
    before = _contents(folder)
    big = _save(_document(40, 400, "too-big-run"), tmp_path / "big.json")
    limit = 64 * 1024
    assert len(big.read_bytes()) > limit, "the new set cannot fit under the limit"

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = _report(big, folder, preexec_fn=limit_file_size)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"fleetcheck: cannot write reports to {folder}: "), err
    assert "File too large" in lines[0] and "Traceback" not in err
    assert _contents(folder) == before
    assert _assert_complete_set(folder) == "previous-run"


def test_a_report_folder_that_is_a_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    target = tmp_path / "reports"
    target.write_text("not a folder\n")
    results = _save(_document(1, 1, "r1"), tmp_path / "results.json")
    proc = _report(results, target)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, out + err
    assert err.startswith(f"fleetcheck: cannot write reports to {target}: ") and err.count("\n") == 1, err
    assert target.read_text() == "not a folder\n"


def test_write_reports_raises_report_write_error_not_oserror(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(ReportWriteError, match=r"cannot write reports to .*: File exists"):
        write_reports(_document(1, 1, "r1"), target)


def _holds_open(pid: int, path: Path, deadline: float) -> bool:
    """Whether process ``pid`` has ``path`` open (it reached the lock), polled until ``deadline``."""
    while time.monotonic() < deadline:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except FileNotFoundError:
            return False
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == str(path):
                    return True
            except OSError:
                continue
        time.sleep(0.02)
    return False


def test_a_second_writer_waits_for_the_lock_then_writes_its_whole_set(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    write_reports(_document(2, 2, "holder-run"), folder)
    before = _contents(folder)
    results = _save(_document(3, 3, "waiting-run"), tmp_path / "results.json")
    lock = os.open(folder / LOCK_FILE, os.O_RDWR)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        proc = _report(results, folder)
        assert _holds_open(proc.pid, folder / LOCK_FILE, time.monotonic() + 60), "the writer reached the lock"
        assert proc.poll() is None, "the writer waits while another run holds the folder"
        assert _contents(folder) == before
    finally:
        os.close(lock)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, out + err
    assert _assert_complete_set(folder) == "waiting-run"


def test_a_writer_that_waits_too_long_gives_up_in_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    write_reports(_document(2, 2, "holder-run"), folder)
    before = _contents(folder)
    results = _save(_document(3, 3, "late-run"), tmp_path / "results.json")
    lock = os.open(folder / LOCK_FILE, os.O_RDWR)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        proc = _report(results, folder, env={**os.environ, "FLEETCHECK_REPORT_LOCK_TIMEOUT": "0.5"})
        out, err = proc.communicate(timeout=120)
    finally:
        os.close(lock)
    assert proc.returncode == 2, out + err
    assert err.startswith(f"fleetcheck: cannot write reports to {folder}: another fleetcheck run is writing there")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert _contents(folder) == before


def test_two_concurrent_runs_leave_one_complete_set(tmp_path: Path) -> None:
    """Two real processes, each writing its own run into one folder at once, three times over."""
    folder = tmp_path / "reports"
    docs = {rid: _save(_document(30, 200, rid), tmp_path / f"{rid}.json") for rid in ("run-a", "run-b")}
    for _round in range(3):
        procs = [_report(path, folder) for path in docs.values()]
        for proc in procs:
            out, err = proc.communicate(timeout=180)
            assert proc.returncode == 0, out + err
        assert _assert_complete_set(folder) in docs


def test_an_unwritable_report_folder_fails_the_scan_with_exit_2(tmp_path: Path) -> None:
    """``fleetcheck run`` itself: one line, exit 2 (never the gate's 1), no traceback."""
    from tests.integration.clusters import write_cluster

    snapshot = write_cluster(tmp_path / "snaps", "prod-a", bad_namespaces=1)
    target = tmp_path / "reports"
    target.write_text("a file, not a folder\n")
    env = {k: v for k, v in os.environ.items() if k not in {"KUBECONFIG", "PYTEST_ADDOPTS"}}
    proc = subprocess.run(
        [*CLI, "run", "--snapshot", str(snapshot), "--report-dir", str(target), "-p", "no:benchmark", "-k", "quota"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert f"fleetcheck: cannot write reports to {target}: " in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert target.read_text() == "a file, not a folder\n"
