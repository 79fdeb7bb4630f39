"""How checks spell kinds, and how objects map to resources (legacy groups folded in)."""

from __future__ import annotations

import pytest

from fleetcheck.core.kinds import (
    KNOWN_KINDS,
    canonical_key,
    guess_plural,
    is_builtin,
    parse_kind,
    ref_for_object,
    split_api_version,
)


@pytest.mark.parametrize(
    ("spec", "key", "version"),
    [
        ("pods", "pods", "v1"),
        ("po", "pods", "v1"),
        ("Pod", "pods", "v1"),
        ("  ns ", "namespaces", "v1"),
        ("quota", "resourcequotas", "v1"),
        ("ds", "daemonsets.apps", "v1"),
        ("daemonsets.apps", "daemonsets.apps", "v1"),
        ("apps/v1 daemonsets", "daemonsets.apps", "v1"),
        ("extensions/v1beta1 daemonsets", "daemonsets.apps", "v1beta1"),
        ("deployments.extensions", "deployments.apps", "v1"),
        ("velero.io/v1 schedules", "schedules.velero.io", "v1"),
        ("schedules.velero.io", "schedules.velero.io", "v1"),
        ("crds", "customresourcedefinitions.apiextensions.k8s.io", "v1"),
        ("leases", "leases.coordination.k8s.io", "v1"),
        ("example.com/v1alpha2 widgets", "widgets.example.com", "v1alpha2"),
    ],
)
def test_parse_kind(spec: str, key: str, version: str) -> None:
    ref = parse_kind(spec)
    assert ref.key == key
    assert ref.version == version


def test_unknown_custom_resource_by_group_version() -> None:
    ref = parse_kind("example.com/v1alpha2 widgets")
    assert (ref.group, ref.kind, ref.group_version, ref.spec) == (
        "example.com",
        "Widget",
        "example.com/v1alpha2",
        "example.com/v1alpha2 widgets",
    )
    assert ref.list_path() == "/apis/example.com/v1alpha2/widgets"
    assert ref.list_path(namespace="team-a") == "/apis/example.com/v1alpha2/namespaces/team-a/widgets"


@pytest.mark.parametrize("spec", ["widgets", "widgets.example.com", "apps/v1", "", "v1 pods extra"])
def test_unknown_kind_says_how_to_spell_one(spec: str) -> None:
    with pytest.raises(ValueError, match=r"velero\.io/v1 schedules"):
        parse_kind(spec)


def test_list_paths() -> None:
    assert parse_kind("pods").list_path() == "/api/v1/pods"
    assert parse_kind("pods").list_path(namespace="kube-system") == "/api/v1/namespaces/kube-system/pods"
    assert parse_kind("nodes").list_path(namespace="kube-system") == "/api/v1/nodes"  # cluster-scoped
    assert parse_kind("daemonsets").list_path("v1beta2") == "/apis/apps/v1beta2/daemonsets"


@pytest.mark.parametrize(
    ("api_version", "kind", "key"),
    [
        ("v1", "Pod", "pods"),
        ("extensions/v1beta1", "DaemonSet", "daemonsets.apps"),
        ("extensions/v1beta1", "Deployment", "deployments.apps"),
        ("extensions/v1beta1", "Ingress", "ingresses.networking.k8s.io"),
        ("apps/v1beta2", "DaemonSet", "daemonsets.apps"),
        ("velero.io/v1", "Backup", "backups.velero.io"),
        ("example.com/v1", "Policy", "policies.example.com"),
        ("example.com/v1", "Ingress", "ingresses.example.com"),
    ],
)
def test_ref_for_object(api_version: str, kind: str, key: str) -> None:
    assert ref_for_object(api_version, kind).key == key


@pytest.mark.parametrize(
    ("kind", "plural"),
    [("Pod", "pods"), ("Ingress", "ingresses"), ("NetworkPolicy", "networkpolicies"), ("Endpoints", "endpoints")],
)
def test_guess_plural(kind: str, plural: str) -> None:
    assert guess_plural(kind) == plural


def test_split_and_canonical_keys() -> None:
    assert split_api_version("apps/v1") == ("apps", "v1")
    assert split_api_version("v1") == ("", "v1")
    assert canonical_key("extensions", "daemonsets") == "daemonsets.apps"
    assert canonical_key("extensions", "podsecuritypolicies") == "podsecuritypolicies.extensions"
    assert canonical_key("", "pods") == "pods"


def test_builtin_versus_custom() -> None:
    assert is_builtin(parse_kind("pods")) and is_builtin(parse_kind("leases"))
    assert not is_builtin(parse_kind("velero.io/v1 schedules"))
    assert not is_builtin(parse_kind("monitoring.coreos.com/v1 prometheuses"))


def test_known_kinds_are_unique_and_consistent() -> None:
    keys = [ref.key for ref in KNOWN_KINDS]
    assert len(keys) == len(set(keys))
    for ref in KNOWN_KINDS:
        assert parse_kind(ref.key) == ref
        assert parse_kind(ref.plural) == ref
        assert ref_for_object(ref.group_version, ref.kind) == ref
