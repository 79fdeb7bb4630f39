"""``fleetcheck clusters`` shows the version a snapshot records: serverVersion, else serverversion.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fleetcheck.cli import main
from tests.builders import namespace, write_json, write_snapshot


def _version_of(capsys: pytest.CaptureFixture[str], folder: Path) -> str:
    assert main(["clusters", "--snapshot", str(folder)]) == 0
    [row] = [line for line in capsys.readouterr().out.splitlines() if line.startswith(folder.name)]
    return row.split()[3]


def test_version_comes_from_serverversion_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a sonobuoy-style /version object, as the EKS one in the managed corpus (minor "24+")
    folder = write_snapshot(tmp_path / "eks-a", [namespace("kube-system")], name="eks-a", server_version=None)
    write_json(folder / "serverversion.json", {"major": "1", "minor": "24+", "gitVersion": "v1.24.16-eks-2d98532"})
    assert _version_of(capsys, folder) == "v1.24.16-eks-2d98532"


def test_kubectl_version_output_and_cluster_yaml_win(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_snapshot(tmp_path / "kv", [namespace("kube-system")], name="kv", server_version=None)
    (folder / "serverversion.json").write_text(
        json.dumps({"clientVersion": {"gitVersion": "v1.28.1"}, "serverVersion": {"gitVersion": "v1.30.2"}})
    )
    assert _version_of(capsys, folder) == "v1.30.2"
    declared = write_snapshot(tmp_path / "declared", [namespace("kube-system")], name="declared")
    write_json(declared / "serverversion.json", {"gitVersion": "v1.20.0"})
    assert _version_of(capsys, declared) == "v1.31.4"  # cluster.yaml's serverVersion


def test_no_version_anywhere_is_a_question_mark(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_snapshot(tmp_path / "none", [namespace("kube-system")], name="none", server_version=None)
    (folder / "serverversion.json").write_text("{not json")
    assert _version_of(capsys, folder) == "?"
