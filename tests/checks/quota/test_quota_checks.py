"""FC-QUOTA-001..003 on real-shaped objects, run the way users run them: pytest with the plugin on snapshots."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fleetcheck.plugin import RECORD_ATTR
from fleetcheck.results import ResultRecord, ResultsDocument
from tests.builders import (
    REPO,
    container_defaults,
    limit_range,
    namespace,
    pod_limits,
    resource_quota,
    write_snapshot,
    write_yaml,
)

QUOTA_CHECKS = str(REPO / "checks" / "test_quota.py")
#: hypothesis' plugin re-imports hypothesis in every in-process run (about 1.5 s each); the checks do not use it
INNER = ("-p", "no:randomly", "-p", "no:hypothesispytest")

BOUNDED = {"requests.cpu": "20", "requests.memory": "64Gi", "limits.cpu": "40", "limits.memory": "128Gi"}


def _run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict[tuple[str, str], ResultRecord]]:
    """Run the quota checks in-process; returns the result and the verdict records by (code, cluster)."""
    result = pytester.runpytest_inprocess(QUOTA_CHECKS, *INNER, *args)
    records: dict[tuple[str, str], ResultRecord] = {}
    for report in result.reprec.getreports("pytest_runtest_logreport"):  # type: ignore[attr-defined]
        payload = getattr(report, RECORD_ATTR, None)
        if payload:
            record = ResultRecord.model_validate(json.loads(payload))
            records[(record.code, record.cluster)] = record
    return result, records


def _line(result: pytest.RunResult, prefix: str) -> str:
    """The one output line that starts with ``prefix`` (the plugin's verdict line)."""
    found = [line for line in result.outlines if line.startswith(prefix)]
    assert len(found) == 1, f"{prefix!r} not found exactly once in:\n{result.stdout.str()}"
    return found[0]


@pytest.fixture
def good(tmp_path: Path) -> Path:
    """A well-bounded cluster: every tenant namespace has a quota and container defaults; usage is modest."""
    objects = [
        namespace("kube-system"),
        namespace("monitoring"),
        namespace("team-a"),
        namespace("team-b"),
        namespace("old-team", phase="Terminating"),
        resource_quota("team-a", "compute", BOUNDED, {"requests.cpu": "4500m", "requests.memory": "20Gi"}),
        # cpu and memory may be bounded by two quotas together
        resource_quota("team-b", "cpu", {"limits.cpu": "8"}, {"limits.cpu": "1"}),
        resource_quota("team-b", "memory", {"memory": "16Gi"}, {"memory": "2Gi"}),
        limit_range("team-a", "defaults", [container_defaults(), pod_limits()]),
        limit_range("team-b", "defaults", [{"type": "Container", "defaultRequest": {"cpu": "50m"}}]),
        # system namespaces are exempt, even when their quota is nearly used up
        resource_quota("kube-system", "critical-pods", {"pods": "100"}, {"pods": "99"}),
    ]
    return write_snapshot(tmp_path / "good", objects, name="good")


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    """Every way to be unbounded, as found on real clusters."""
    objects = [
        namespace("kube-system"),
        namespace("team-a"),
        namespace("team-b"),
        namespace("team-c"),
        namespace("team-d"),
        resource_quota(
            "team-a",
            "compute",
            {"requests.cpu": "20", "requests.memory": "2Gi"},
            {"requests.cpu": "19500m", "requests.memory": "1Gi"},
        ),
        resource_quota("team-b", "best-effort", {"pods": "10"}, {"pods": "3"}, scopes=["BestEffort"]),
        resource_quota("team-c", "cpu-only", {"requests.cpu": "4"}, {"requests.cpu": "4"}),
        limit_range("team-a", "defaults", [container_defaults()]),
        limit_range("team-b", "pod-max", [pod_limits()]),
    ]
    return write_snapshot(tmp_path / "bad", objects, name="bad")


def test_a_bounded_cluster_passes(pytester: pytest.Pytester, good: Path) -> None:
    result, records = _run(pytester, "--snapshot", str(good), "--no-reports")
    result.assert_outcomes(passed=3)
    assert result.ret == 0
    assert {code: r.outcome for (code, _), r in records.items()} == dict.fromkeys(
        ("FC-QUOTA-001", "FC-QUOTA-002", "FC-QUOTA-003"), "pass"
    )
    assert records[("FC-QUOTA-001", "good")].message.startswith("every tenant namespace")
    assert records[("FC-QUOTA-001", "good")].server_version == "v1.31.4"  # type: ignore[attr-defined]


def test_an_unbounded_cluster_fails_with_actionable_messages(pytester: pytest.Pytester, bad: Path) -> None:
    result, records = _run(pytester, "--snapshot", str(bad), "--no-reports")
    result.assert_outcomes(failed=3)
    assert _line(result, "FC-QUOTA-001 [bad] fail: ") == (
        "FC-QUOTA-001 [bad] fail: 3 of 4 tenant namespaces are not bounded in cpu and memory: "
        "Namespace/team-b: only scoped quotas (they bound some pods, not all); "
        "Namespace/team-c: quota does not bound memory; "
        "Namespace/team-d: no ResourceQuota"
    )
    assert _line(result, "FC-QUOTA-002 [bad] fail: ") == (
        "FC-QUOTA-002 [bad] fail: 3 of 4 tenant namespaces have no container defaults: "
        "Namespace/team-b: LimitRange sets no container default/defaultRequest; "
        "Namespace/team-c: no LimitRange; Namespace/team-d: no LimitRange"
    )
    # 19500m of 20 cpu is 97.5%; 1Gi of 2Gi memory (50%) is fine; team-c is at 100% of its cpu
    assert _line(result, "FC-QUOTA-003 [bad] fail: ") == (
        "FC-QUOTA-003 [bad] fail: 2 ResourceQuotas are at or above 90% of a hard limit: "
        "team-a/ResourceQuota/compute: requests.cpu 19500m/20 (98%); "
        "team-c/ResourceQuota/cpu-only: requests.cpu 4/4 (100%)"
    )
    quota1 = records[("FC-QUOTA-001", "bad")]
    assert (quota1.outcome, quota1.severity, quota1.factor) == ("fail", "high", "bounded")
    assert quota1.objects == ["Namespace/team-b", "Namespace/team-c", "Namespace/team-d"]
    assert records[("FC-QUOTA-003", "bad")].objects == ["team-a/ResourceQuota/compute", "team-c/ResourceQuota/cpu-only"]
    assert "Traceback" not in result.stdout.str()


def test_checks_skip_with_a_reason_when_nothing_applies(pytester: pytest.Pytester, tmp_path: Path) -> None:
    folder = write_snapshot(tmp_path / "system", [namespace("kube-system"), namespace("kube-public")], name="sys")
    result, records = _run(pytester, "--snapshot", str(folder), "--no-reports", "-rs")
    result.assert_outcomes(skipped=3)
    assert records[("FC-QUOTA-001", "sys")].message == (
        "no tenant namespaces (only system namespaces of the profile and of the cluster's provider)"
    )
    assert records[("FC-QUOTA-003", "sys")].message == "no ResourceQuotas in tenant namespaces"


def test_spec_hard_backs_up_status_and_odd_or_zero_limits_are_not_findings(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    # the quota controller has filled status.used but not (yet) status.hard: spec.hard is the limit
    fresh = resource_quota("team-a", "fresh", {"limits.memory": "2Gi"}, {"limits.memory": "1900Mi"})
    del fresh["status"]["hard"]
    odd = resource_quota("team-b", "odd", {"requests.cpu": "lots"}, {"requests.cpu": "1"})
    # "0" forbids a resource outright; it is not a quota about to run out
    forbid = resource_quota("team-c", "no-lbs", {"services.loadbalancers": "0"}, {"services.loadbalancers": "0"})
    unused = resource_quota("team-d", "new", BOUNDED)  # no status at all yet
    folder = write_snapshot(tmp_path / "s", [namespace("team-a"), fresh, odd, forbid, unused], name="s")
    result, records = _run(pytester, "--snapshot", str(folder), "--no-reports", "-k", "exhausted")
    result.assert_outcomes(failed=1)
    assert records[("FC-QUOTA-003", "s")].objects == ["team-a/ResourceQuota/fresh"]
    assert _line(result, "FC-QUOTA-003 [s] fail: ").endswith("limits.memory 1900Mi/2Gi (93%)")


def _profile(path: Path, **fields: Any) -> Path:
    return write_yaml(path, {"extends": "default", **fields})


def test_a_waiver_turns_a_fail_into_waived(pytester: pytest.Pytester, bad: Path, tmp_path: Path) -> None:
    today = datetime.now(UTC).date()
    profile = _profile(
        tmp_path / "waived.yaml",
        waivers=[
            {
                "code": "FC-QUOTA-00[12]",
                "clusters": "ba?",
                "reason": "tenants migrate in Q1",
                "ticket": "OPS-42",
                "expires": (today + timedelta(days=30)).isoformat(),
            },
        ],
    )
    result, records = _run(pytester, "--snapshot", str(bad), "--profile", str(profile), "--no-reports", "-rs")
    result.assert_outcomes(skipped=2, failed=1)  # a waived finding is a skip for pytest, with the waiver's reason
    for code in ("FC-QUOTA-001", "FC-QUOTA-002"):
        record = records[(code, "bad")]
        assert record.outcome == "waived"
        assert record.waiver == {
            "reason": "tenants migrate in Q1",
            "expires": (today + timedelta(days=30)).isoformat(),
            "ticket": "OPS-42",
            "status": "active",
        }
        expected = f"{code} waived until {(today + timedelta(days=30)).isoformat()}: tenants migrate in Q1"
        assert any(expected in line for line in result.outlines), result.stdout.str()
    assert records[("FC-QUOTA-003", "bad")].outcome == "fail"  # not named by the waiver


def test_an_expired_waiver_does_not_apply_and_says_so(pytester: pytest.Pytester, bad: Path, tmp_path: Path) -> None:
    profile = _profile(
        tmp_path / "expired.yaml",
        waivers=[{"code": "FC-QUOTA-001", "reason": "tenants migrate in Q1", "expires": "2020-03-31"}],
    )
    result, records = _run(pytester, "--snapshot", str(bad), "--profile", str(profile), "--no-reports")
    record = records[("FC-QUOTA-001", "bad")]
    assert record.outcome == "fail"
    assert record.message.endswith(" (waiver expired 2020-03-31: tenants migrate in Q1)")
    assert record.waiver is not None and record.waiver["status"] == "expired"
    assert _line(result, "FC-QUOTA-001 [bad] fail: ").endswith("(waiver expired 2020-03-31: tenants migrate in Q1)")


def test_a_waiver_for_some_objects_leaves_the_rest_failing(
    pytester: pytest.Pytester, bad: Path, tmp_path: Path
) -> None:
    profile = _profile(
        tmp_path / "partial.yaml",
        waivers=[
            {"code": "FC-QUOTA-001", "objects": "Namespace/team-[bc]", "reason": "sandbox", "expires": "2999-01-01"}
        ],
    )
    _, records = _run(pytester, "--snapshot", str(bad), "--profile", str(profile), "--no-reports")
    record = records[("FC-QUOTA-001", "bad")]
    assert record.outcome == "fail"
    assert record.objects == ["Namespace/team-d"]
    assert "(1 objects not covered by the waiver for Namespace/team-[bc])" in record.message


def test_profile_threshold_and_severity(pytester: pytest.Pytester, good: Path, tmp_path: Path) -> None:
    profile = _profile(
        tmp_path / "tight.yaml",
        settings={"FC-QUOTA-003": {"threshold_percent": 20}},
        severity={"FC-QUOTA-003": "high"},
    )
    result, records = _run(pytester, "--snapshot", str(good), "--profile", str(profile), "--no-reports")
    result.assert_outcomes(passed=2, failed=1)
    record = records[("FC-QUOTA-003", "good")]
    assert record.severity == "high"
    assert _line(result, "FC-QUOTA-003 [good] fail: ") == (
        "FC-QUOTA-003 [good] fail: 1 ResourceQuotas are at or above 20% of a hard limit: "
        "team-a/ResourceQuota/compute: requests.cpu 4500m/20 (22%), requests.memory 20Gi/64Gi (31%)"
    )


def test_profile_ignore_removes_the_cases(pytester: pytest.Pytester, bad: Path, tmp_path: Path) -> None:
    profile = _profile(tmp_path / "lax.yaml", ignore=["FC-QUOTA-00[23]"])
    result, records = _run(pytester, "--snapshot", str(bad), "--profile", str(profile), "--no-reports")
    result.assert_outcomes(failed=1)
    assert set(records) == {("FC-QUOTA-001", "bad")}


def test_a_fleet_of_snapshots_gives_one_case_per_cluster(
    pytester: pytest.Pytester, good: Path, bad: Path, tmp_path: Path
) -> None:
    report_dir = tmp_path / "r"
    result, records = _run(pytester, "--snapshot", str(good), "--snapshot", str(bad), "--report-dir", str(report_dir))
    result.assert_outcomes(passed=3, failed=3)
    assert {cluster for _, cluster in records} == {"good", "bad"}
    doc = ResultsDocument.model_validate_json((report_dir / "results.json").read_bytes())
    assert doc.schema_ == "fleetcheck/v1"
    assert [c.name for c in doc.clusters] == ["good", "bad"]
    assert {(r.cluster, r.code, r.outcome) for r in doc.results} == {
        (r.cluster, r.code, r.outcome) for r in records.values()
    }


def test_cluster_glob_limits_the_verdicts(pytester: pytest.Pytester, good: Path, bad: Path) -> None:
    result, records = _run(pytester, "--snapshot", str(good), "--snapshot", str(bad), "--cluster", "b*", "--no-reports")
    result.assert_outcomes(failed=3)
    assert {cluster for _, cluster in records} == {"bad"}


def test_cases_are_grouped_per_cluster_for_xdist(pytester: pytest.Pytester, good: Path, bad: Path) -> None:
    items, _ = pytester.inline_genitems(QUOTA_CHECKS, *INNER, "--snapshot", str(good), "--snapshot", str(bad))
    groups = {item.nodeid.split("[")[1].rstrip("]"): item.get_closest_marker("xdist_group") for item in items}
    assert len(items) == 6
    assert {name: marker.args for name, marker in groups.items() if marker} == {"good": ("good",), "bad": ("bad",)}
    assert all(item.get_closest_marker("xdist_group") for item in items)


def test_a_bad_snapshot_is_exit_code_2(pytester: pytest.Pytester, tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "cluster.yaml").write_text("colour: red\n", encoding="utf-8")
    result, _ = _run(pytester, "--snapshot", str(folder), "--no-reports")
    assert result.ret == 2
    assert "colour: unknown field" in result.stdout.str() + result.stderr.str()


def test_a_test_that_parametrizes_cluster_itself_is_left_alone(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("cluster", ["not-a-fleet-cluster"])
        def test_own(cluster):
            assert cluster == "not-a-fleet-cluster"
        """
    )
    result = pytester.runpytest_inprocess(*INNER)
    result.assert_outcomes(passed=1)
