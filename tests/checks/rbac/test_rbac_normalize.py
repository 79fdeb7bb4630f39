"""Normalisation of ClusterRoles/ClusterRoleBindings: what counts as the same grant, what is left out."""

from __future__ import annotations

from types import ModuleType

from fleetcheck.facts.rbac_normalize import (
    describe_difference,
    normalize_binding,
    normalize_rbac,
    normalize_role,
)


def test_bootstrap_system_and_installer_objects_are_left_out(k8s: ModuleType) -> None:
    objects = k8s.bootstrap_rbac("a") + k8s.org_rbac("a")
    roles = [o for o in objects if o["kind"] == "ClusterRole"]
    bindings = [o for o in objects if o["kind"] == "ClusterRoleBinding"]

    inventory = normalize_rbac(roles, bindings)

    assert sorted(inventory.objects) == [
        "ClusterRole/fleetcheck-reader",
        "ClusterRole/platform-monitoring",
        "ClusterRole/platform-monitoring-extra",
        "ClusterRole/platform-readonly",
        "ClusterRoleBinding/fleetcheck-reader",
        "ClusterRoleBinding/oidc:platform-admins",
        "ClusterRoleBinding/platform-breakglass",
        "ClusterRoleBinding/platform-readonly",
        "ClusterRoleBinding/velero",
    ]
    # cluster-admin/admin/edit/view (bootstrap label), system:*, kubeadm:* (default installer pattern)
    assert inventory.ignored == len(objects) - 9
    assert "ClusterRole/kubeadm:get-nodes" in normalize_rbac(roles, bindings, ignore_names=[]).objects


def test_rules_compare_as_permissions_not_as_written(k8s: ModuleType) -> None:
    written = k8s.cluster_role("r", [k8s.rule(["", "apps"], ["pods", "deployments"], ["get", "list"])], cluster="x")
    reshaped = k8s.cluster_role(
        "r",
        [
            k8s.rule(["apps"], ["deployments", "pods"], ["list", "get"]),
            k8s.rule([""], ["deployments"], ["list", "get"]),
            k8s.rule([""], ["pods"], ["get"]),
            k8s.rule([""], ["pods"], ["list"]),
        ],
        cluster="y",
    )
    assert normalize_role(written) == normalize_role(reshaped)

    wider = k8s.cluster_role(
        "r",
        [
            k8s.rule(["", "apps"], ["pods", "deployments"], ["get", "list"]),
            k8s.rule([""], ["secrets"], ["get"], names=["app-tls"]),
            {"nonResourceURLs": ["/metrics"], "verbs": ["get"]},
        ],
    )
    assert describe_difference(normalize_role(wider), normalize_role(written)) == (
        "rules differ: + core/secrets (app-tls) [get], + url /metrics [get]"
    )


def test_aggregated_roles_compare_selectors_not_generated_rules(k8s: ModuleType) -> None:
    one = k8s.cluster_role("mon", [k8s.rule(["x"], ["a"], ["get"])], aggregate=["mon"])
    two = k8s.cluster_role("mon", [k8s.rule(["x"], ["a", "b", "c"], ["*"])], aggregate=["mon"])
    assert normalize_role(one) == normalize_role(two)

    wider = k8s.cluster_role("mon", None, aggregate=["mon", "edit"])
    assert describe_difference(normalize_role(wider), normalize_role(one)) == (
        "aggregationRule differs: + rbac.authorization.k8s.io/aggregate-to-edit=true"
    )


def test_binding_differences_name_role_and_subjects(k8s: ModuleType) -> None:
    fleet = normalize_binding(k8s.binding("b", "view", [k8s.subject("Group", "oidc:viewers")]))
    mine = normalize_binding(
        k8s.binding("b", "cluster-admin", [k8s.subject("ServiceAccount", "ci", "tools")], cluster="other")
    )
    assert describe_difference(mine, fleet) == (
        "roleRef is ClusterRole/cluster-admin, the fleet's is ClusterRole/view; "
        "subjects differ: + ServiceAccount/tools/ci, - Group/oidc:viewers"
    )
