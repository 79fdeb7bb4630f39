"""The demo's issue-16 shapes: cert-manager and its Certificates, the API servers' ``/metrics``, the EKS calendar.

Clean clusters must look like healthy real ones (so the checks pass there for
the right reason), the plants like the incidents they stand for, and each plant
refuses a cluster it cannot be real on.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from fleetcheck.demo import ClusterSpec, FleetSpec, generate_fleet
from fleetcheck.demo.apiserver_metrics import ETCD_DEFAULT_QUOTA, METRICS_FILE, go_number
from fleetcheck.demo.generate import demo_fleet_spec
from fleetcheck.reference_data import support_calendar
from fleetcheck.replay.pages import METRICS_FILE as REPLAYED_FILE

from .conftest import Fleet, Snap, parse_time

CERT_MANAGER_SIZES = {"prod", "canary"}


def _families(snap: Snap) -> dict[str, list[tuple[dict[str, str], float]]]:
    text = (snap.path / METRICS_FILE).read_text()
    for line in text.splitlines():
        if not line.startswith("#"):
            name = line.split("{", 1)[0].split(" ", 1)[0]
            assert f"# HELP {name} " in text and f"# TYPE {name} " in text, (snap.name, name)
    return {f.name: [(s.labels, s.value) for s in f.samples] for f in text_string_to_metric_families(text)}


def _sizes() -> dict[str, str]:
    return {c.name: c.size for c in demo_fleet_spec().clusters}


def test_the_metrics_file_is_the_one_the_replay_serves() -> None:
    assert METRICS_FILE == REPLAYED_FILE


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (999_999, "999999"),
        (1_000_000, "1e+06"),
        (1_266_734, "1.266734e+06"),
        (1_868_312_576, "1.868312576e+09"),
    ],
)
def test_samples_are_printed_as_client_golang_prints_them(value: int, text: str) -> None:
    assert go_number(value) == text
    assert float(text) == value


def test_every_cluster_serves_a_parseable_exposition(small_demo: Fleet) -> None:
    for snap in small_demo.clusters.values():
        families = _families(snap)
        objects = {labels["resource"]: value for labels, value in families["apiserver_storage_objects"]}
        assert objects["pods"] == len(snap.items("pods")), snap.name
        assert objects["nodes"] == len(snap.items("nodes")), snap.name
        (build_labels, _), *_ = families["kubernetes_build_info"]
        assert build_labels["git_version"] == snap.meta["serverVersion"], snap.name


def test_etcd_size_is_well_under_quota_except_where_planted(small_demo: Fleet) -> None:
    planted = {p.cluster for p in small_demo.plants if p.code == "FC-ETCD-001"}
    assert planted == {"prod-us-east"}
    for snap in small_demo.clusters.values():
        families = _families(snap)
        if snap.labels["provider"] == "k3s":  # kine's SQLite reports no database size
            assert "apiserver_storage_size_bytes" not in families
            continue
        [(labels, size)] = families["apiserver_storage_size_bytes"]
        assert labels == {"storage_cluster_id": "etcd-0"}
        assert size % 4096 == 0
        if snap.name in planted:
            assert 0.8 * ETCD_DEFAULT_QUOTA <= size < ETCD_DEFAULT_QUOTA
            events = dict((lab["resource"], v) for lab, v in families["apiserver_storage_objects"])["events"]
            assert events > 1_000_000  # what filled it, as the description says
        else:
            assert size < 0.5 * ETCD_DEFAULT_QUOTA, snap.name


def test_cert_manager_runs_where_traffic_is_served(small_demo: Fleet) -> None:
    sizes = _sizes()
    for snap in small_demo.clusters.values():
        crds = {c["metadata"]["name"]: c for c in snap.items("customresourcedefinitions.apiextensions.k8s.io")}
        if sizes[snap.name] not in CERT_MANAGER_SIZES:
            assert "certificates.cert-manager.io" not in crds, snap.name
            continue
        crd = crds["certificates.cert-manager.io"]
        assert crd["spec"]["group"] == "cert-manager.io" and crd["spec"]["scope"] == "Namespaced"
        assert crd["spec"]["names"]["plural"] == "certificates" and crd["status"]["storedVersions"] == ["v1"]
        assert crds["clusterissuers.cert-manager.io"]["spec"]["scope"] == "Cluster"
        assert {"orders.acme.cert-manager.io", "challenges.acme.cert-manager.io"} <= set(crds)
        deployments = {
            d["metadata"]["name"]
            for d in snap.items("deployments.apps")
            if d["metadata"]["namespace"] == "cert-manager"
        }
        assert deployments == {"cert-manager", "cert-manager-cainjector", "cert-manager-webhook"}
        issuers = {i["metadata"]["name"]: i for i in snap.items("clusterissuers.cert-manager.io")}
        assert all(i["status"]["conditions"][0]["status"] == "True" for i in issuers.values())
        assert len(snap.items("certificates.cert-manager.io")) >= 2, snap.name


def test_clean_certificates_are_ready_and_renewed_on_time(small_demo: Fleet) -> None:
    planted = {(p.cluster, p.object) for p in small_demo.plants if p.code == "FC-CERT-002"}
    assert [c for c, _ in planted] == ["prod-eu-west"]
    for snap in small_demo.clusters.values():
        for cert in snap.items("certificates.cert-manager.io"):
            ref = f"{cert['metadata']['namespace']}/Certificate/{cert['metadata']['name']}"
            status = cert["status"]
            left = parse_time(status["notAfter"]) - snap.captured
            lifetime = parse_time(status["notAfter"]) - parse_time(status["notBefore"])
            assert parse_time(status["notBefore"]) + lifetime * 2 / 3 == parse_time(status["renewalTime"])
            if (snap.name, ref) in planted:
                # the renewal came due and keeps failing: still Ready (the old certificate serves), days left
                assert timedelta(days=3) < left < timedelta(days=7)
                issuing = next(c for c in status["conditions"] if c["type"] == "Issuing")
                assert issuing["status"] == "False" and issuing["reason"] == "Failed"
                assert status["failedIssuanceAttempts"] > 1
                assert parse_time(status["renewalTime"]) < snap.captured
                continue
            assert [c["status"] for c in status["conditions"] if c["type"] == "Ready"] == ["True"]
            assert left >= lifetime / 3 - timedelta(days=1), ref  # cert-manager renews at two thirds
            assert left > timedelta(days=14), ref


def test_clean_eks_cluster_is_in_standard_support_and_the_old_one_is_not(small_demo: Fleet) -> None:
    eks = support_calendar().calendars["eks"].entries
    for name, expected_in_support in (("prod-eks-us-east", True), ("dev-eks-eu-west", False)):
        snap = small_demo.clusters[name]
        minor = ".".join(snap.meta["serverVersion"].lstrip("v").split(".")[:2])
        entry = eks[minor]
        assert (snap.captured.date() <= entry.standard_end) is expected_in_support, name
        assert entry.extended_end is not None and snap.captured.date() <= entry.extended_end
    rows = sorted((p.code, p.follows) for p in small_demo.plants if p.cluster == "dev-eks-eu-west")
    assert rows == [("FC-SUP-001", "FC-SUP-002"), ("FC-SUP-002", ""), ("FC-VER-001", "FC-SUP-002")]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (ClusterSpec(name="d", size="dev", plants=("FC-CERT-002",)), "FC-CERT-002 needs cert-manager"),
        (
            ClusterSpec(name="e", size="dev", provider="eks", plants=("FC-ETCD-001",)),
            "FC-ETCD-001 is judged on kubeadm clusters only",
        ),
        (ClusterSpec(name="k", size="dev", plants=("FC-SUP-002",)), "FC-SUP-002 is planted on EKS clusters only"),
        (
            ClusterSpec(name="n", size="dev", provider="eks", server_version="v1.31.4", plants=("FC-SUP-002",)),
            "FC-SUP-002 needs EKS 1.29 in extended support",
        ),
    ],
)
def test_a_plant_refuses_a_cluster_it_cannot_be_real_on(tmp_path: Path, spec: ClusterSpec, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate_fleet(tmp_path, FleetSpec(clusters=(spec,)))
