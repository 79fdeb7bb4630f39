"""The drift table on a fleet with planted drift: majority, declared, split, reference, unreadable, no quorum."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fleetcheck.facts import builtin
from fleetcheck.facts.dimensions import dimension_names
from fleetcheck.facts.drift import DimensionDrift, DriftReport, drift
from fleetcheck.results import CheckInfo
from fleetcheck.runstate import RunOptions, RunState
from tests.facts import fleet_kit as kit

CHECKS = {
    "FC-CNI-002": CheckInfo(
        code="FC-CNI-002", title="CNI differs", factor="boring", severity="high", fix="Move to it."
    ),
}


def _fleet(tmp_path: Path, sides: dict[str, kit.Variant], **options: object) -> RunState:
    snaps = tuple(str(kit.write_cluster(tmp_path / "snaps", name, side, "prod")) for name, side in sides.items())
    return RunState(RunOptions(snapshots=snaps, **options))  # type: ignore[arg-type]


def _row(report: DriftReport, name: str, cohort: int = 0) -> DimensionDrift:
    return next(d for d in report.cohorts[cohort].dimensions if d.name == name)


def test_majority_names_the_outlier_with_its_value_and_the_judging_check(tmp_path: Path) -> None:
    run = _fleet(tmp_path, {"a": kit.A, "b": kit.A, "c": kit.A, "d": kit.B})
    report = drift(run.fleet_view(), CHECKS)
    assert report.dimensions == len(dimension_names()) >= 30
    cni = _row(report, "cni")
    assert (cni.standard, cni.set_by, cni.holders) == ("calico", "majority", 3)
    assert [(o.cluster, o.value) for o in cni.outliers] == [("d", "cilium")]
    assert (cni.check, cni.check_title, cni.fix) == ("FC-CNI-002", "CNI differs", "Move to it.")
    assert cni.source.startswith("majority: 3 of 4 clusters of cohort profile default")
    judged = {row.name: row.check for row in report.cohorts[0].dimensions}
    assert judged["dns.upstreams"] == "FC-DNS-002"
    assert judged["dns.cluster_domain"] == "FC-DNS-003"
    assert judged["kubernetes.minor"] == "FC-VER-001"
    assert judged["oidc.issuers"] == "FC-OIDC-002"
    assert judged["rbac.fingerprint"] == "FC-RBAC-001"
    assert judged["ingress.controllers"] == "FC-INGRESS-001"
    assert judged["mesh"] == "FC-MESH-001"
    assert judged["cni"] == "FC-CNI-002"
    assert judged["kube_proxy.mode"] is None and _row(report, "kube_proxy.mode").informational
    for name in ("dns.upstreams", "dns.cluster_domain", "oidc.issuers", "rbac.fingerprint", "mesh"):
        assert [o.cluster for o in _row(report, name).outliers] == ["d"], name
    minor = _row(report, "kubernetes.minor")
    assert (minor.standard, minor.set_by) == ("1.31", "newest")
    # the JSON form round-trips
    assert DriftReport.model_validate(report.to_json()) == report


def test_each_fact_is_computed_once_for_the_table_and_the_checks(tmp_path: Path) -> None:
    run = _fleet(tmp_path, {"a": kit.A, "b": kit.A, "c": kit.B})
    fleet = run.fleet_view()
    drift(fleet)
    drift(fleet)
    for view in fleet:
        view.fact(builtin.CNI)  # what FC-CNI-002 reads: the same key, already computed
        assert view.facts_computed, view.name
        assert max(view.facts_computed.values()) == 1, view.facts_computed


def test_a_declared_standard_wins_over_the_majority(tmp_path: Path) -> None:
    profile = kit.write_profile(tmp_path, standards={"cni": "cilium", "dns_upstreams": ["/etc/resolv.conf"]})
    run = _fleet(tmp_path, {"a": kit.A, "b": kit.A, "c": kit.A, "d": kit.B}, profile=str(profile))
    report = drift(run.fleet_view())
    cni = _row(report, "cni")
    assert (cni.standard, cni.set_by) == ("cilium", "declared")
    assert cni.source == "declared by profile pin (standards.cni)"
    assert [o.cluster for o in cni.outliers] == ["a", "b", "c"]
    upstreams = _row(report, "dns.upstreams")
    assert (upstreams.standard, upstreams.set_by) == ("/etc/resolv.conf", "declared")


def test_a_split_has_no_standard_and_names_the_values(tmp_path: Path) -> None:
    run = _fleet(tmp_path, {"a": kit.A, "b": kit.A, "c": kit.B, "d": kit.B})
    cni = _row(drift(run.fleet_view()), "cni")
    assert (cni.standard, cni.set_by, cni.outliers) == (None, "split", ())
    assert cni.drifted
    assert {(g.value, g.clusters) for g in cni.values} == {("calico", ("a", "b")), ("cilium", ("c", "d"))}
    assert "no fleet standard" in cni.source and "declare standards.cni" in cni.source


def test_the_reference_cluster_sets_every_standard(tmp_path: Path) -> None:
    run = _fleet(tmp_path, {"a": kit.A, "b": kit.A, "c": kit.A, "d": kit.B}, reference_cluster="d")
    report = drift(run.fleet_view())
    assert report.reference_cluster == "d"
    for name in ("cni", "dns.upstreams", "oidc.issuers", "rbac.fingerprint"):
        row = _row(report, name)
        assert row.set_by == "reference", name
        assert row.source == "reference cluster d (--reference-cluster)", name
        assert [o.cluster for o in row.outliers] == ["a", "b", "c"], name
    assert _row(report, "cni").standard == "cilium"


def test_an_unreadable_cluster_is_not_counted_and_says_why(tmp_path: Path) -> None:
    run_dir = tmp_path / "snaps"
    sides = {"a": kit.A, "b": kit.A, "c": kit.B}
    folders = {name: kit.write_cluster(run_dir, name, side, "prod") for name, side in sides.items()}
    broken = folders["c"]
    for file in broken.glob("apps_v1_daemonset*.json"):
        file.unlink()
    info = yaml.safe_load((broken / "cluster.yaml").read_text())
    info["unreadable"] = {"daemonsets": "403 Forbidden: daemonsets is forbidden"}
    (broken / "cluster.yaml").write_text(yaml.safe_dump(info))
    run = RunState(RunOptions(snapshots=tuple(str(f) for f in folders.values())))
    cni = _row(drift(run.fleet_view()), "cni")
    assert (cni.standard, cni.set_by, cni.holders, cni.outliers) == ("calico", "majority", 2, ())
    assert [u.cluster for u in cni.unreadable] == ["c"] and cni.unreadable_count == 1
    assert "403 Forbidden" in cni.unreadable[0].value
    assert "not counted: c (unreadable" in cni.source


def test_a_cluster_alone_has_no_quorum(tmp_path: Path) -> None:
    run = _fleet(tmp_path, {"solo": kit.A})
    cni = _row(drift(run.fleet_view()), "cni")
    assert (cni.standard, cni.set_by) == (None, "no quorum")
    assert not cni.drifted


def test_cohort_by_gives_each_cohort_its_own_standard(tmp_path: Path) -> None:
    profile = kit.write_profile(tmp_path, cohort_by=["region"])
    snaps = []
    for name, (side, region) in {
        "eu-1": (kit.A, "eu"),
        "eu-2": (kit.A, "eu"),
        "us-1": (kit.B, "us"),
        "us-2": (kit.B, "us"),
    }.items():
        folder = kit.write_cluster(tmp_path / "snaps", name, side, "prod")
        info = yaml.safe_load((folder / "cluster.yaml").read_text())
        info["labels"]["region"] = region
        (folder / "cluster.yaml").write_text(yaml.safe_dump(info))
        snaps.append(str(folder))
    report = drift(RunState(RunOptions(snapshots=tuple(snaps), profile=str(profile))).fleet_view())
    standards = {c.cohort: _row_of(c.dimensions, "cni").standard for c in report.cohorts}
    assert standards == {"profile pin, region=eu": "calico", "profile pin, region=us": "cilium"}


def _row_of(rows: tuple[DimensionDrift, ...], name: str) -> DimensionDrift:
    return next(r for r in rows if r.name == name)


@pytest.mark.parametrize("count", [13, 10_000])
def test_a_large_set_is_a_bounded_digest(count: int) -> None:
    from fleetcheck.facts.dimensions import Digest, item_set

    value = item_set(f"crd-{i}.example.com" for i in range(count))
    assert isinstance(value, Digest) and value.count == count and len(value.sample) == 4
    assert value == item_set(f"crd-{i}.example.com" for i in reversed(range(count)))  # compares by content
    assert value != item_set(f"crd-{i}.example.com" for i in range(count + 1))
    assert len(value.show()) < 200
