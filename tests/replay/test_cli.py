"""``python -m fleetcheck.replay`` and :class:`ReplayProcess`, on snapshot folders written like kubectl does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from kubernetes import client as k8s

from fleetcheck.replay import ReplayProcess, main

from .conftest import CAPTURED, REPO_ROOT, ClientFactory, fleet_objects, make_secret, raw_request, ts


def write_snapshot_dir(root: Path, name: str, *, pods: int = 12) -> Path:
    """A folder as ``kubectl get KIND -A -o json > KIND.json`` leaves it, plus cluster.yaml."""
    folder = root / name
    folder.mkdir()
    by_kind: dict[str, list[dict[str, object]]] = {}
    for obj in [*fleet_objects(pods=pods, nodes=2, namespaces=2), make_secret("token", "default")]:
        by_kind.setdefault(str(obj["kind"]), []).append(obj)
    for kind, items in by_kind.items():
        document = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items}
        (folder / f"{kind.lower()}s.json").write_text(json.dumps(document, indent=4))
    (folder / "cluster.yaml").write_text(
        f"name: {name}\ncaptured: {ts(CAPTURED)}\nserverVersion: v1.30.2\nlabels: {{env: dev}}\n"
    )
    return folder


def test_missing_folder_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main([str(tmp_path / "nope"), "--kubeconfig-out", str(tmp_path / "kc")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "snapshot folder not found" in err and "Traceback" not in err
    assert not (tmp_path / "kc").exists()


def test_bad_clock_offset_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_snapshot_dir(tmp_path, "one")
    assert main([str(folder), "--kubeconfig-out", str(tmp_path / "kc"), "--clock-offset", "one:5"]) == 2
    assert "NAME=SECONDS" in capsys.readouterr().err
    assert main([str(folder), "--kubeconfig-out", str(tmp_path / "kc"), "--clock-offset", "other=5"]) == 2
    assert "no replayed cluster named 'other'" in capsys.readouterr().err


def test_usage_error_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage:" in capsys.readouterr().err


def test_module_entry_point_reports_bad_input() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "fleetcheck.replay", "/does/not/exist", "--kubeconfig-out", "/tmp/unused-kc"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO_ROOT,
        check=False,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("fleetcheck replay: error:") and "Traceback" not in result.stderr


def test_replay_process_serves_folders(tmp_path: Path, api_client: ClientFactory) -> None:
    first = write_snapshot_dir(tmp_path, "dev-eu")
    second = write_snapshot_dir(tmp_path, "dev-us", pods=5)
    log = tmp_path / "requests.jsonl"
    kubeconfig = tmp_path / "kubeconfig"
    with ReplayProcess([first, second], kubeconfig, clock_offsets={"dev-us": -120}, request_log=log) as proc:
        assert proc.pid != os.getpid()
        assert set(proc.urls) == {"dev-eu", "dev-us"}
        assert all(url.startswith("https://127.0.0.1:") for url in proc.urls.values())
        eu = api_client("dev-eu", kubeconfig)
        pods = k8s.CoreV1Api(eu).list_pod_for_all_namespaces()
        assert len(pods.items) == 12
        assert pods.items[0].metadata.creation_timestamp > CAPTURED + timedelta(days=1), "rebased to now"
        assert k8s.VersionApi(eu).get_code().git_version == "v1.30.2"
        with pytest.raises(k8s.ApiException) as denied:
            k8s.CoreV1Api(eu).list_secret_for_all_namespaces()
        assert denied.value.status == 403
        us = api_client("dev-us", kubeconfig)
        skewed = parsedate_to_datetime(raw_request(us, "GET", "/version").headers["Date"])
        true = parsedate_to_datetime(raw_request(eu, "GET", "/version").headers["Date"])
        assert 110 <= (true - skewed).total_seconds() <= 130
        assert proc.token not in " ".join(proc.command(Path("ready.json")))
        assert proc.stop() == 0, "SIGTERM is a clean shutdown"
    assert proc.stop() is None, "already stopped"
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert {(r["cluster"], r["method"]) for r in records} >= {("dev-eu", "GET"), ("dev-us", "GET")}
    assert any(r["path"] == "/api/v1/secrets" and r["status"] == 403 for r in records)
    assert proc.token not in log.read_text()


def test_replay_process_reports_a_failed_start(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="snapshot folder not found"):
        ReplayProcess([tmp_path / "missing"], tmp_path / "kc", ready_timeout=60).start()


def test_a_malformed_file_in_a_served_folder_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Folders are parsed when the server renders them: a broken file still names itself, with no traceback."""
    good = write_snapshot_dir(tmp_path, "good")
    bad = write_snapshot_dir(tmp_path, "bad")
    (bad / "pods.json").write_text('{"apiVersion": "v1", "kind": "List", "items": [')
    code = main([str(good), str(bad), "--kubeconfig-out", str(tmp_path / "kc")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "pods.json" in err and "Traceback" not in err
    assert not (tmp_path / "kc").exists()


def test_folders_are_named_up_front_and_not_kept_parsed(tmp_path: Path, api_client: ClientFactory) -> None:
    """A folder is served under cluster.yaml's name, and the running server holds no parsed snapshot of it."""
    from fleetcheck.replay.server import ReplayServer, SnapshotFolder
    from fleetcheck.state.snapshot_model import Snapshot

    folder = write_snapshot_dir(tmp_path, "folder-name")
    (folder / "cluster.yaml").write_text(f"name: declared-name\ncaptured: {ts(CAPTURED)}\n")
    source = SnapshotFolder.at(folder)
    assert source.name == "declared-name"
    with ReplayServer([source]) as server:
        assert server.clusters == ["declared-name"]
        assert not any(isinstance(kept, Snapshot) for kept in server._sources)
        kubeconfig = server.write_kubeconfig(tmp_path / "kc")
        pods = k8s.CoreV1Api(api_client("declared-name", kubeconfig)).list_pod_for_all_namespaces()
        assert len(pods.items) == 12
