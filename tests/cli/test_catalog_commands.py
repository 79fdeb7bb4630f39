"""``fleetcheck checks`` and ``fleetcheck explain``: the catalog without running anything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fleetcheck.catalog import load_catalog
from fleetcheck.cli import main


def test_checks_lists_every_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["checks"]) == 0
    out = capsys.readouterr().out
    catalog = load_catalog()
    rows = {line.split()[0]: line for line in out.splitlines()[1:] if line.startswith("FC-")}
    assert set(rows) == set(catalog.checks)
    assert rows["FC-QUOTA-001"].split()[1:4] == ["bounded", "high", "cluster"]
    assert out.rstrip().endswith(f"{len(catalog.checks)} checks")


def test_checks_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["checks", "--format", "json"]) == 0
    entries = {e["code"]: e for e in json.loads(capsys.readouterr().out)}
    quota = entries["FC-QUOTA-003"]
    assert quota["factor"] == "bounded" and quota["severity"] == "low"
    assert quota["reads"] == ["resourcequotas"]
    assert all(e["what"] and e["why"] and e["fix"] and e["references"] for e in entries.values())


def test_explain_prints_sections_and_settings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "FC-QUOTA-003"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("FC-QUOTA-003  ResourceQuota nearly exhausted\n")
    assert "factor: bounded   default severity: low   scope: cluster" in out
    positions = [out.index(f"\n{section}:\n") for section in ("What", "Why", "Fix", "References")]
    assert positions == sorted(positions)
    assert "1500m" in out  # the What text itself, not only its heading
    assert "Settings (profile: settings: {FC-QUOTA-003: {...}}):" in out
    assert "  threshold_percent = 90.0  used/hard at or above this fails" in out


def test_explain_is_case_insensitive(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "fc-quota-001"]) == 0
    assert capsys.readouterr().out.startswith("FC-QUOTA-001  ")


def test_explain_unknown_code_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "FC-NOPE-999"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        "fleetcheck: error: explain: CODE: unknown check code 'FC-NOPE-999' "
        "(fix: list the codes with 'fleetcheck checks')"
    ]


def test_checks_with_a_missing_extra_folder_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["checks", "--checks", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"fleetcheck: error: {tmp_path / 'nope'}: --checks: folder of checks not found "
        "(fix: pass a folder of test_*.py modules)"
    ]


def test_checks_lists_an_extra_pack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "test_pack.py").write_text(
        "from fleetcheck import check\n\n"
        "@check('FC-PACK-001', title='Pack check', factor='owned', severity='info', reads=['namespaces'])\n"
        "def test_pack(cluster):\n"
        "    '''Pack.\n\n    What: w\n    Why: w\n    Fix: f\n    References: r\n    '''\n",
        encoding="utf-8",
    )
    assert main(["checks", "--checks", str(tmp_path)]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert ["FC-PACK-001", "owned", "info", "cluster", "Pack", "check"] in rows
