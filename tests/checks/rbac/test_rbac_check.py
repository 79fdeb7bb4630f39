"""FC-RBAC-001 on real-shaped fleets: noise is ignored, drift is named object by object, ties are said."""

from __future__ import annotations

import copy
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

CODE = "FC-RBAC-001"
MODULE = "test_rbac.py"


def _find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


def _baseline(k8s: ModuleType, cluster: str, *, kube_minor: int = 31) -> list[dict[str, Any]]:
    return k8s.bootstrap_rbac(cluster, kube_minor=kube_minor) + k8s.org_rbac(cluster)


def _noisy(k8s: ModuleType, cluster: str) -> list[dict[str, Any]]:
    """The baseline as another cluster shows it: older Kubernetes, reshaped rules, more aggregated rules."""
    objects = _baseline(k8s, cluster, kube_minor=28)
    readonly = _find(objects, "ClusterRole", "platform-readonly")
    # the same permissions, split and reordered, with verbs in another order
    readonly["rules"] = [
        k8s.rule(["batch"], ["*"], ["watch", "list", "get"]),
        k8s.rule([""], ["services", "pods/log", "pods", "namespaces"], ["list", "get", "watch"]),
        k8s.rule([""], ["events", "configmaps"], ["get", "watch", "list"]),
        k8s.rule(["apps"], ["*"], ["get", "list", "watch"]),
    ]
    # the aggregation controller filled the aggregated role with more rules: generated, not compared
    aggregated = _find(objects, "ClusterRole", "platform-monitoring")
    aggregated["rules"] = [*aggregated["rules"], k8s.rule(["monitoring.coreos.com"], ["servicemonitors"], ["get"])]
    breakglass = _find(objects, "ClusterRoleBinding", "platform-breakglass")
    breakglass["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = "{}\n"
    breakglass["metadata"]["managedFields"] = [{"manager": "argocd-controller", "operation": "Apply"}]
    return objects


def _drifted(k8s: ModuleType, cluster: str) -> list[dict[str, Any]]:
    objects = _baseline(k8s, cluster)
    readonly = _find(objects, "ClusterRole", "platform-readonly")
    readonly["rules"].append(k8s.rule([""], ["secrets"], ["get", "list"]))
    readonly["rules"][1]["verbs"] = [*readonly["rules"][1]["verbs"], "delete"]
    objects.append(
        k8s.binding(
            "local-admin",
            "cluster-admin",
            [k8s.subject("User", "admin@local")],
            cluster=cluster,
            annotations={"kubectl.kubernetes.io/last-applied-configuration": "{}\n"},
        )
    )
    _find(objects, "ClusterRoleBinding", "velero")["subjects"].append(k8s.subject("User", "jane@example.com"))
    return objects


def _missing_and_reaggregated(k8s: ModuleType, cluster: str) -> list[dict[str, Any]]:
    objects = [o for o in _baseline(k8s, cluster) if o["metadata"]["name"] != "fleetcheck-reader"]
    aggregated = _find(objects, "ClusterRole", "platform-monitoring")
    aggregated["aggregationRule"]["clusterRoleSelectors"].append(
        {"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-edit": "true"}}
    )
    extra = _find(objects, "ClusterRole", "platform-monitoring-extra")
    extra["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-admin"] = "true"
    return objects


@pytest.fixture
def fleet_of_four(k8s: ModuleType, tmp_path: Path) -> list[Path]:
    root = tmp_path / "fleet"
    return [
        k8s.write_snapshot(root, "prod-a", _baseline(k8s, "prod-a")),
        k8s.write_snapshot(root, "prod-b", _noisy(k8s, "prod-b")),
        k8s.write_snapshot(root, "prod-c", _drifted(k8s, "prod-c")),
        k8s.write_snapshot(root, "prod-d", _missing_and_reaggregated(k8s, "prod-d")),
    ]


def test_noise_is_not_drift_and_drift_is_named(
    pytester: pytest.Pytester, k8s: ModuleType, fleet_of_four: list[Path]
) -> None:
    results = k8s.run_checks(pytester, MODULE, fleet_of_four)

    assert results.outcome(CODE, "prod-a") == "pass"
    assert results.outcome(CODE, "prod-b") == "pass", results.message(CODE, "prod-b")

    assert results.outcome(CODE, "prod-c") == "fail"
    message = results.message(CODE, "prod-c")
    assert message.startswith(
        "3 cluster-wide RBAC objects differ from the fleet (cohort profile default: prod-a, prod-b, prod-c, prod-d)"
    )
    assert (
        "ClusterRole/platform-readonly: rules differ: + apps/* [delete], + batch/* [delete], + core/secrets [get list] "
        "(majority: 3 of 4 clusters of cohort profile default: prod-a, prod-b, prod-d)" in message
    )
    assert (
        "ClusterRoleBinding/local-admin: extra: not expected (majority: 3 of 4 clusters of cohort profile default: "
        "prod-a, prod-b, prod-d)" in message
    )
    assert "ClusterRoleBinding/velero: subjects differ: + User/jane@example.com" in message
    assert results.objects(CODE, "prod-c") == [
        "ClusterRole/platform-readonly",
        "ClusterRoleBinding/local-admin",
        "ClusterRoleBinding/velero",
    ]

    assert results.outcome(CODE, "prod-d") == "fail"
    message = results.message(CODE, "prod-d")
    assert (
        message.startswith("4 cluster-wide RBAC objects differ from the fleet")
        and "(2 missing, 2 different)" in message
    )
    assert (
        "ClusterRole/fleetcheck-reader: missing here; expected (majority: 3 of 4 clusters of cohort profile default: "
        "prod-a, prod-b, prod-c)" in message
    )
    assert "ClusterRoleBinding/fleetcheck-reader: missing here" in message
    assert (
        "ClusterRole/platform-monitoring: aggregationRule differs: "
        "+ rbac.authorization.k8s.io/aggregate-to-edit=true" in message
    )
    assert (
        "ClusterRole/platform-monitoring-extra: aggregation labels differ: "
        "+ rbac.authorization.k8s.io/aggregate-to-admin=true" in message
    )


def test_two_clusters_that_differ_are_an_even_split_not_a_guess(
    pytester: pytest.Pytester, k8s: ModuleType, tmp_path: Path
) -> None:
    left = k8s.write_snapshot(tmp_path, "dev-1", _baseline(k8s, "dev-1"))
    right = k8s.write_snapshot(tmp_path, "dev-2", _drifted(k8s, "dev-2"))

    results = k8s.run_checks(pytester, MODULE, [left, right])

    for cluster in ("dev-1", "dev-2"):
        assert results.outcome(CODE, cluster) == "skip"
        assert "no majority decides 3 RBAC differences" in results.message(CODE, cluster)
        assert "reference_cluster" in results.message(CODE, cluster)
    assert (
        "ClusterRoleBinding/local-admin (missing here; absent on 1 (dev-1), present on 1 (dev-2): an even split)"
        in (results.message(CODE, "dev-1"))
    )


def test_reference_cluster_breaks_the_tie_and_ignore_names_apply(
    pytester: pytest.Pytester, k8s: ModuleType, tmp_path: Path
) -> None:
    left = k8s.write_snapshot(tmp_path, "dev-1", _baseline(k8s, "dev-1"))
    right = k8s.write_snapshot(tmp_path, "dev-2", _drifted(k8s, "dev-2"))
    settings = {"reference_cluster": "dev-1", "ignore_names": ["kubeadm:*", "velero"]}
    profile = k8s.write_profile(tmp_path, "dev-ref", settings={CODE: settings})

    results = k8s.run_checks(pytester, MODULE, [left, right], profile=profile)

    assert results.outcome(CODE, "dev-1") == "skip"
    assert "this is the reference cluster" in results.message(CODE, "dev-1")
    assert results.outcome(CODE, "dev-2") == "fail"
    message = results.message(CODE, "dev-2")
    assert message.startswith(
        "2 cluster-wide RBAC objects differ from the reference cluster dev-1 "
        "(settings FC-RBAC-001.reference_cluster) (1 extra, 1 different): "
    )
    assert (
        "ClusterRoleBinding/local-admin: extra: not expected (reference cluster dev-1 (settings "
        "FC-RBAC-001.reference_cluster))" in message
    )
    assert "velero" not in message


def test_a_cluster_alone_has_nothing_to_compare_with(
    pytester: pytest.Pytester, k8s: ModuleType, tmp_path: Path
) -> None:
    solo = k8s.write_snapshot(tmp_path, "edge-1", copy.deepcopy(_drifted(k8s, "edge-1")))

    results = k8s.run_checks(pytester, MODULE, [solo])

    assert results.outcome(CODE, "edge-1") == "skip"
    assert (
        "no standard: no other cluster of cohort profile default has a known value to compare with"
        in results.message(CODE, "edge-1")
    )
