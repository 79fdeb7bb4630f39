"""FC-API-001/002 on real-shaped CRDs and objects carrying managedFields."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.checks.gotcha_kit import meta, profile, scan, write_snapshot


def crd(name: str, versions: list[dict[str, Any]], stored: list[str]) -> dict[str, Any]:
    group = name.split(".", 1)[1]
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": meta(name),
        "spec": {
            "group": group,
            "names": {"kind": "Thing", "plural": name.split(".")[0]},
            "scope": "Namespaced",
            "versions": versions,
        },
        "status": {"storedVersions": stored},
    }


def managed(api_version: str, manager: str) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "fieldsType": "FieldsV1",
        "manager": manager,
        "operation": "Update",
        "time": "2026-11-20T08:00:00Z",
    }


def pdb(name: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": meta(name, "team-a", managedFields=entries),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": name}}},
        "status": {"currentHealthy": 2, "desiredHealthy": 1, "disruptionsAllowed": 1, "expectedPods": 2},
    }


V1 = {"name": "v1", "served": True, "storage": True}


def test_stored_versions(pytester: pytest.Pytester, tmp_path: Path) -> None:
    good = write_snapshot(tmp_path / "good", [crd("certificates.cert-manager.io", [V1], ["v1"])])
    bad = write_snapshot(
        tmp_path / "bad",
        [
            crd("certificates.cert-manager.io", [V1], ["v1alpha2", "v1"]),
            crd(
                "rollouts.argoproj.io",
                [{"name": "v1alpha1", "served": False, "storage": False}, V1],
                ["v1alpha1", "v1"],
            ),
            crd(
                "widgets.example.com",
                [{"name": "v1beta1", "served": True, "storage": True, "deprecated": True}],
                ["v1beta1"],
            ),
        ],
    )
    verdicts = scan(pytester, "test_removed_apis.py", good, bad)
    assert verdicts.outcome("FC-API-001", "good") == "pass"
    assert verdicts.outcome("FC-API-001", "bad") == "fail"
    message = verdicts.message("FC-API-001", "bad")
    assert (
        "CustomResourceDefinition/certificates.cert-manager.io: stored version v1alpha2 is no longer in spec.versions"
        in message
    )
    assert "stored version v1alpha1 is not served" in message
    assert "stored version v1beta1 is deprecated" in message


def test_managed_fields_through_removed_api(pytester: pytest.Pytester, tmp_path: Path) -> None:
    # a 1.24 cluster: policy/v1beta1 goes in 1.25; the old extensions entry (removed in 1.22) is history
    writer = pdb("api", [managed("policy/v1beta1", "helm"), managed("policy/v1", "kube-controller-manager")])
    old = pdb("web", [managed("policy/v1", "argocd-controller")])
    bad = write_snapshot(tmp_path / "old", [writer, old], server_version="v1.24.17")
    current = write_snapshot(tmp_path / "current", [pdb("api", [managed("policy/v1beta1", "helm")])])
    verdicts = scan(pytester, "test_removed_apis.py", bad, current)
    assert verdicts.outcome("FC-API-002", "old") == "fail"
    message = verdicts.message("FC-API-002", "old")
    assert "team-a/PodDisruptionBudget/api: helm writes it as policy/v1beta1 (removed in 1.25; use policy/v1" in message
    assert "1.25 (the cluster's next minor)" in message
    assert verdicts.objects("FC-API-002", "old") == ["team-a/PodDisruptionBudget/api"]
    # on 1.35 a policy/v1beta1 entry is history (removed long before): nothing the next minor removes
    assert verdicts.outcome("FC-API-002", "current") == "pass"


def test_target_minor_and_extra_rows_are_settings(pytester: pytest.Pytester, tmp_path: Path) -> None:
    obj = pdb("api", [managed("policy/v2alpha1", "ci-bot")])
    folder = write_snapshot(tmp_path / "c", [obj])
    rows = [
        {
            "group": "policy",
            "version": "v2alpha1",
            "kinds": ["PodDisruptionBudget"],
            "removed_in": "1.37",
            "replacement": "policy/v1",
        }
    ]
    prof = profile(tmp_path / "p.yaml", {"FC-API-002": {"target_minor": "1.37", "extra_removals": rows}})
    verdicts = scan(pytester, "test_removed_apis.py", folder, profile=prof)
    assert verdicts.outcome("FC-API-002", "c") == "fail"
    assert "1.37 (profile setting target_minor)" in verdicts.message("FC-API-002", "c")
