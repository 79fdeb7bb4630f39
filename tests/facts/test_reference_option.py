"""``--reference-cluster NAME`` and the profile's ``reference_cluster``: every fleet check, and bad names exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.facts import fleet_kit as kit
from tests.harness import NESTED_OPTIONS, verdicts_of


def fleet_args(tmp_path: Path) -> list[str]:
    args: list[str] = []
    for name, side in {"a": kit.A, "b": kit.A, "c": kit.A, "d": kit.B}.items():
        args += ["--snapshot", str(kit.write_cluster(tmp_path / "snaps", name, side, "prod"))]
    return args


def test_the_option_makes_one_cluster_the_standard_of_every_fleet_check(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    modules = [str(kit.CHECKS / m) for m in ("test_dns.py", "test_cni.py", "test_version.py", "test_rbac.py")]
    result = pytester.runpytest_inprocess(
        *modules, *fleet_args(tmp_path), "--reference-cluster", "d", "--no-reports", "-q", *NESTED_OPTIONS
    )
    verdicts = verdicts_of(result)
    for code in ("FC-DNS-002", "FC-DNS-003", "FC-CNI-002", "FC-RBAC-001"):
        assert verdicts.outcome(code, "a") == "fail", code  # the majority's side is now the outlier
        assert "reference cluster d (--reference-cluster)" in verdicts.message(code, "a"), code
        assert verdicts.outcome(code, "d") == "skip", code
        assert verdicts.message(code, "d").startswith("this is the reference cluster d (--reference-cluster)")
    # FC-VER-001: the reference's minor is the standard; a is 3 minors ahead, and ahead never fails
    assert verdicts.outcome("FC-VER-001", "a") == "pass"


def test_an_unknown_reference_cluster_is_a_one_line_config_error(pytester: pytest.Pytester, tmp_path: Path) -> None:
    args = fleet_args(tmp_path)
    result = pytester.runpytest_inprocess(
        str(kit.CHECKS / "test_cni.py"), *args, "--reference-cluster", "nope", "--no-reports", *NESTED_OPTIONS
    )
    assert result.ret == 2
    result.stdout.fnmatch_lines(
        ["*--reference-cluster: NAME: no cluster named 'nope' in the fleet (fix: name one of a, b, c, d)*"]
    )
    profile = kit.write_profile(tmp_path, reference_cluster="ghost")
    result = pytester.runpytest_inprocess(
        str(kit.CHECKS / "test_cni.py"), *args, "--profile", str(profile), "--no-reports", *NESTED_OPTIONS
    )
    assert result.ret == 2
    result.stdout.fnmatch_lines([f"*{profile}: reference_cluster: no cluster named 'ghost' in the fleet*"])


def test_cohort_by_compares_only_clusters_with_the_same_labels(pytester: pytest.Pytester, tmp_path: Path) -> None:
    """eu runs A twice and B once; us runs B twice: by region, us's B clusters are the standard, not outliers."""
    clusters = {
        "eu-1": (kit.A, "eu"),
        "eu-2": (kit.A, "eu"),
        "eu-3": (kit.B, "eu"),
        "us-1": (kit.B, "us"),
        "us-2": (kit.B, "us"),
    }
    args: list[str] = []
    for name, (side, region) in clusters.items():
        folder = kit.write_cluster(tmp_path / "snaps", name, side, "prod")
        text = (folder / "cluster.yaml").read_text().replace("tier: prod", f"tier: prod\n  region: {region}")
        (folder / "cluster.yaml").write_text(text)
        args += ["--snapshot", str(folder)]
    profile = kit.write_profile(tmp_path, cohort_by=["region"])
    result = pytester.runpytest_inprocess(
        str(kit.CHECKS / "test_cni.py"), *args, "--profile", str(profile), "--no-reports", "-q", *NESTED_OPTIONS
    )
    verdicts = verdicts_of(result)
    assert verdicts.outcome("FC-CNI-002", "eu-3") == "fail"
    assert "majority: 2 of 3 clusters of cohort profile pin, region=eu: eu-1, eu-2" in verdicts.message(
        "FC-CNI-002", "eu-3"
    )
    assert verdicts.outcome("FC-CNI-002", "us-1") == "pass"  # without cohort_by: 3 of 5 run cilium, eu-1 would fail
    assert verdicts.outcome("FC-CNI-002", "eu-1") == "pass"
