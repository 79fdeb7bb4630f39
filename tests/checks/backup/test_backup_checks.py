"""FC-BACKUP-001..004 on real-shaped Velero snapshots: one fleet per run, one cluster per scenario."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from fleetcheck.facts.velero import ScheduleScope, backups_by_schedule, describe_age
from tests.checks.backup import builders as b
from tests.checks.backup.harness import BACKUP_CHECKS, Verdicts, run_checks

CORPUS = Path(__file__).resolve().parents[4] / "shared" / "corpus"
NOW, OLD, TENANTS = b.NOW, b.OLD, b.TENANTS
_namespaces, _velero, _healthy = b.namespaces, b.velero, b.healthy


@pytest.fixture(scope="module")
def fleet_dirs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """One snapshot per scenario, written once for the module."""
    root = tmp_path_factory.mktemp("backup-fleet")
    unavailable = (
        'BackupStorageLocation "default" is unavailable: rpc error: code = Unknown desc = operation error S3: '
        "ListObjectsV2, https response error StatusCode: 403, api error InvalidAccessKeyId"
    )
    scenarios: dict[str, list[b.Obj]] = {
        "healthy": _healthy(),
        "no-velero": _namespaces(*TENANTS),
        "bsl-down": [
            *_namespaces("team-a"),
            *[b.velero_crd(kind, OLD) for kind in b.VELERO_PLURALS],
            b.storage_location("default", "Unavailable", NOW, message=unavailable),
            b.storage_location("secondary", None, NOW),
            b.schedule("daily", NOW),
        ],
        "gaps": [
            *_namespaces(*TENANTS),
            *_velero(
                b.schedule("apps", NOW, included=["team-a", "team-b*"]),
                b.schedule("legacy", NOW, included=["team-c"], paused=True),
                b.schedule("everything", NOW, included=["*"], excluded=["team-c", "team-d"]),
                b.schedule("typo", NOW, included=["team-d"], phase="FailedValidation"),
                b.backup("apps", NOW, started_ago=timedelta(days=2)),
                b.backup("everything", NOW, started_ago=timedelta(days=1), phase="PartiallyFailed", errors=3),
                b.backup("everything", NOW, started_ago=timedelta(days=2)),
                b.backup(None, NOW, started_ago=timedelta(hours=1)),
                b.restore("drill-old", NOW, finished_ago=timedelta(days=120)),
                b.restore("drill-broken", NOW, finished_ago=timedelta(days=3), phase="PartiallyFailed"),
            ),
        ],
        "selected": [
            *_namespaces("team-a", "team-e"),
            *_velero(
                b.schedule("apps", NOW, included=["team-a"]),
                b.schedule("labelled", NOW, included=["team-e"], selector={"backup": "true"}),
                b.schedule("fresh", NOW, included=["team-a"], created_ago=timedelta(hours=2)),
                b.backup("apps", NOW, started_ago=timedelta(hours=5)),
                b.backup("labelled", NOW, started_ago=timedelta(hours=5), phase="Failed", failure_reason="timeout"),
            ),
        ],
        "young": [*_namespaces("team-a", born=NOW - timedelta(days=10)), *_velero(b.schedule("daily", NOW))],
        "paused-only": [*_namespaces("team-a"), *_velero(b.schedule("daily", NOW, paused=True))],
    }
    served = ("velero.io_v1_backups", "velero.io_v1_restores", "velero.io_v1_schedules")
    return [
        b.write_cluster(root, name, NOW, objects, served=served if name != "no-velero" else ())
        for name, objects in scenarios.items()
    ]


def _fleet_args(dirs: list[Path]) -> list[str]:
    return [arg for folder in dirs for arg in ("--snapshot", str(folder))]


@pytest.fixture(scope="module")
def _runs() -> dict[str, Verdicts]:
    return {}


@pytest.fixture
def verdicts(pytester: pytest.Pytester, fleet_dirs: list[Path], _runs: dict[str, Verdicts]) -> Verdicts:
    """All four checks over the whole scenario fleet, under the default profile (run once per module)."""
    if "default" not in _runs:
        _runs["default"] = run_checks(pytester, BACKUP_CHECKS, *_fleet_args(fleet_dirs))
    return _runs["default"]


def test_backup_system(verdicts: Verdicts) -> None:
    assert verdicts.outcome("FC-BACKUP-001", "healthy") == "pass"
    assert verdicts.outcome("FC-BACKUP-001", "no-velero") == "fail"
    assert "the Velero CRDs are not installed" in verdicts.message("FC-BACKUP-001", "no-velero")
    assert "FC-BACKUP-001 [no-velero] fail: no backup system: the Velero CRDs are not installed" in verdicts.stdout
    message = verdicts.message("FC-BACKUP-001", "bsl-down")
    assert verdicts.outcome("FC-BACKUP-001", "bsl-down") == "fail"
    assert message.startswith("none of 2 BackupStorageLocations is Available (expected status.phase Available")
    assert "velero/BackupStorageLocation/default: phase Unavailable: BackupStorageLocation" in message
    assert "InvalidAccessKeyId" in message
    assert "velero/BackupStorageLocation/secondary: phase not set (never validated)" in message
    assert verdicts.objects("FC-BACKUP-001", "bsl-down") == [
        "velero/BackupStorageLocation/default",
        "velero/BackupStorageLocation/secondary",
    ]


def test_without_velero_the_others_skip(verdicts: Verdicts) -> None:
    for code in ("FC-BACKUP-002", "FC-BACKUP-003", "FC-BACKUP-004"):
        assert verdicts.outcome(code, "no-velero") == "skip"
        assert verdicts.message(code, "no-velero") == "no Velero (see FC-BACKUP-001)"


def test_namespace_coverage(verdicts: Verdicts) -> None:
    assert verdicts.outcome("FC-BACKUP-002", "healthy") == "pass"
    message = verdicts.message("FC-BACKUP-002", "gaps")
    assert verdicts.outcome("FC-BACKUP-002", "gaps") == "fail"
    assert message.startswith("2 of 5 tenant namespaces are covered by no unpaused Schedule (expected: an unpaused")
    assert "Namespace/team-c: only Schedules that do not run include it: velero/Schedule/legacy (paused)" in message
    assert (
        "Namespace/team-d: only Schedules that do not run include it: velero/Schedule/typo (phase FailedValidation)"
        in message
    )
    assert verdicts.objects("FC-BACKUP-002", "gaps") == ["Namespace/team-c", "Namespace/team-d"]
    # a label-selected Schedule covers by default (see the settings test)
    assert verdicts.outcome("FC-BACKUP-002", "selected") == "pass"
    assert verdicts.outcome("FC-BACKUP-002", "paused-only") == "fail"
    assert "velero/Schedule/daily (paused)" in verdicts.message("FC-BACKUP-002", "paused-only")


def test_backup_freshness(verdicts: Verdicts) -> None:
    assert verdicts.outcome("FC-BACKUP-003", "healthy") == "pass"
    message = verdicts.message("FC-BACKUP-003", "gaps")
    assert verdicts.outcome("FC-BACKUP-003", "gaps") == "fail"
    assert message.startswith("2 of 2 unpaused Schedules break the RPO (expected: newest backup Completed, finished")
    assert (
        "velero/Schedule/apps: newest Completed backup velero/Backup/apps-20261122100000 finished 1d 23h ago" in message
    )
    assert "older than the RPO of 26h" in message
    assert (
        "velero/Schedule/everything: newest backup velero/Backup/everything-20261123100000 PartiallyFailed (3 errors)"
        in message
    )
    message = verdicts.message("FC-BACKUP-003", "selected")
    assert (
        "velero/Schedule/labelled: newest backup velero/Backup/labelled-20261124050000 Failed reason: timeout"
        in message
    )
    assert "Schedule/fresh" not in message, "a Schedule younger than the RPO is not judged yet"
    assert "Schedule/apps" not in message
    assert verdicts.outcome("FC-BACKUP-003", "young") == "fail"
    assert "velero/Schedule/daily: no Completed backup (none at all)" in verdicts.message("FC-BACKUP-003", "young")
    assert verdicts.outcome("FC-BACKUP-003", "paused-only") == "skip"
    assert "no unpaused Schedule" in verdicts.message("FC-BACKUP-003", "paused-only")


def test_restore_drills(verdicts: Verdicts) -> None:
    assert verdicts.outcome("FC-BACKUP-004", "healthy") == "pass"
    assert verdicts.outcome("FC-BACKUP-004", "gaps") == "fail"
    assert verdicts.message("FC-BACKUP-004", "gaps") == (
        "the newest Completed Restore velero/Restore/drill-old finished 120d 0h ago (2026-07-27) "
        "(since then: velero/Restore/drill-broken PartiallyFailed); "
        "expected a Completed Restore within 92 days of 2026-11-24"
    )
    assert verdicts.objects("FC-BACKUP-004", "gaps") == ["velero/Restore/drill-old"]
    assert verdicts.outcome("FC-BACKUP-004", "selected") == "fail"
    assert verdicts.message("FC-BACKUP-004", "selected").startswith("no Restore has ever Completed; expected")
    assert verdicts.outcome("FC-BACKUP-004", "young") == "skip"
    assert "its first restore drill is due by 2027-02-14" in verdicts.message("FC-BACKUP-004", "young")


def test_settings_change_thresholds(pytester: pytest.Pytester, fleet_dirs: list[Path], tmp_path: Path) -> None:
    profile = tmp_path / "strict.yaml"
    settings = {
        "FC-BACKUP-002": {"label_selectors_cover": False},
        "FC-BACKUP-003": {"rpo_hours": 50},
        "FC-BACKUP-004": {"drill_interval_days": 2},
    }
    profile.write_text(yaml.safe_dump({"name": "strict", "extends": "default", "settings": settings}), encoding="utf-8")
    verdicts = run_checks(pytester, BACKUP_CHECKS, *_fleet_args(fleet_dirs), "--profile", str(profile))
    assert verdicts.outcome("FC-BACKUP-002", "selected") == "fail"
    assert (
        "Namespace/team-e: only Schedules with a label selector include it: velero/Schedule/labelled "
        "(labelSelector backup=true)" in verdicts.message("FC-BACKUP-002", "selected")
    )
    gaps = verdicts.message("FC-BACKUP-003", "gaps")
    assert "Schedule/apps" not in gaps and "RPO" in gaps and "within 50h" in gaps
    assert verdicts.outcome("FC-BACKUP-004", "healthy") == "fail"
    assert "within 2 days" in verdicts.message("FC-BACKUP-004", "healthy")


def test_bad_setting_is_an_error_naming_the_field(
    pytester: pytest.Pytester, fleet_dirs: list[Path], tmp_path: Path
) -> None:
    profile = tmp_path / "typo.yaml"
    profile.write_text(
        yaml.safe_dump({"name": "typo", "extends": "default", "settings": {"FC-BACKUP-003": {"rpo_hour": 5}}}),
        encoding="utf-8",
    )
    verdicts = run_checks(pytester, BACKUP_CHECKS, "--snapshot", str(fleet_dirs[0]), "--profile", str(profile))
    assert verdicts.outcome("FC-BACKUP-003", "healthy") == "error"
    assert "settings.FC-BACKUP-003" in verdicts.message("FC-BACKUP-003", "healthy")


# -- the helpers, on their own -----------------------------------------------------------------------


def test_schedule_scope_follows_velero_rules() -> None:
    scope = ScheduleScope.from_object(
        b.schedule("s", NOW, included=["team-*", "ops"], excluded=["team-secret"], selector={"app": "db"})
    )
    assert scope.includes("team-a") and scope.includes("ops")
    assert not scope.includes("team-secret"), "excludedNamespaces wins"
    assert not scope.includes("other")
    assert scope.selector == "app=db"
    everything = ScheduleScope.from_object(b.schedule("all", NOW, included=[]))
    assert everything.includes("anything"), "no includedNamespaces means all"


def test_backups_grouped_newest_first_manual_ones_left_out() -> None:
    backups = [
        b.backup("daily", NOW, started_ago=timedelta(days=2)),
        b.backup("daily", NOW, started_ago=timedelta(hours=1)),
        b.backup(None, NOW, started_ago=timedelta(minutes=1)),
    ]
    grouped = backups_by_schedule(backups)
    assert list(grouped) == ["velero/daily"]
    assert [x["metadata"]["name"] for x in grouped["velero/daily"]] == ["daily-20261124090000", "daily-20261122100000"]
    assert describe_age(timedelta(days=3, hours=4, minutes=5)) == "3d 4h"
    assert describe_age(timedelta(minutes=59)) == "59m"


def test_corpus_schedule_reads_like_velero() -> None:
    path = CORPUS / "manifests" / "19_velero-docs-schedule-annotated-example.yaml"
    if not path.is_file():
        pytest.skip(f"corpus not present at {path}")
    scope = ScheduleScope.from_object(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert scope.ref == "velero/Schedule/a" and scope.runs
    assert scope.includes("team-a") and not scope.includes("some-namespace")
    assert scope.selector == "(app=velero) or (app=data-protection)"
