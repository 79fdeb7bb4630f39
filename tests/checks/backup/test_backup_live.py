"""The backup checks against a replayed API server: discovery of the Velero CRDs, and a forbidden kind."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fleetcheck.replay import ReplayServer
from fleetcheck.state.snapshot import load_snapshot
from tests.checks.backup import builders as b
from tests.checks.backup.harness import BACKUP_CHECKS, run_checks


def test_live_velero_and_a_forbidden_kind(pytester: pytest.Pytester, tmp_path: Path) -> None:
    served = ("velero.io_v1_backups", "velero.io_v1_restores", "velero.io_v1_schedules")
    folders = [
        b.write_cluster(tmp_path / "snapshots", "live-healthy", b.NOW, b.healthy(), served=served),
        b.write_cluster(tmp_path / "snapshots", "live-forbidden", b.NOW, b.healthy(), served=served),
        b.write_cluster(tmp_path / "snapshots", "live-no-velero", b.NOW, b.namespaces("team-a")),
    ]
    with ReplayServer([load_snapshot(folder) for folder in folders]) as server:
        server.add_fault("live-forbidden", r"^/apis/velero\.io/v1/backups$", status=403)
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
        fleet = tmp_path / "fleet.yaml"
        clusters = [{"name": f.name, "context": f.name} for f in folders]
        fleet.write_text(yaml.safe_dump({"defaults": {"kubeconfig": str(kubeconfig)}, "clusters": clusters}))
        verdicts = run_checks(pytester, BACKUP_CHECKS, "--fleet", str(fleet))

    for code in ("FC-BACKUP-001", "FC-BACKUP-002", "FC-BACKUP-003", "FC-BACKUP-004"):
        assert verdicts.outcome(code, "live-healthy") == "pass", (code, verdicts.message(code, "live-healthy"))
    assert verdicts.outcome("FC-BACKUP-003", "live-forbidden") == "error"
    assert "cannot list velero.io/v1 backups on live-forbidden" in verdicts.message("FC-BACKUP-003", "live-forbidden")
    assert verdicts.outcome("FC-BACKUP-001", "live-forbidden") == "pass", verdicts.message(
        "FC-BACKUP-001", "live-forbidden"
    )
    assert verdicts.outcome("FC-BACKUP-002", "live-forbidden") == "pass"
    assert verdicts.outcome("FC-BACKUP-001", "live-no-velero") == "fail"
    assert verdicts.message("FC-BACKUP-004", "live-no-velero") == "no Velero (see FC-BACKUP-001)"
