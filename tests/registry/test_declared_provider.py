"""``provider`` declared in a fleet file's (or ``cluster.yaml``'s) facts: validated, and preferred by the fact.

A private EKS AMI without the ``eks.amazonaws.com/*`` labels shows no provider
signal; declaring ``facts: {provider: eks}`` makes the provider's namespaces
system namespaces and says where the provider came from.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fleetcheck.errors import ConfigError
from fleetcheck.facts import provider_detection as provider
from fleetcheck.registry.fleet import load_fleet
from tests.builders import namespace, write_snapshot
from tests.harness import REPO, run_checks

QUOTA = REPO / "checks" / "test_quota.py"


def _plain_cluster(tmp_path: Path, name: str, facts: dict[str, str] | None = None) -> Path:
    """A cluster whose nodes say nothing of EKS, running Container Insights in amazon-cloudwatch."""
    folder = write_snapshot(tmp_path / name, [namespace("kube-system"), namespace("amazon-cloudwatch")], name=name)
    if facts is not None:
        meta = yaml.safe_load((folder / "cluster.yaml").read_text())
        (folder / "cluster.yaml").write_text(yaml.safe_dump({**meta, "facts": facts}))
    return folder


def _fleet_file(tmp_path: Path, entries: list[dict[str, object]]) -> Path:
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump({"clusters": entries}))
    return path


def test_a_declared_provider_wins_and_says_so() -> None:
    detected = provider.detect_provider([{"metadata": {"name": "n1", "labels": {}}}], "v1.31.4")
    assert detected.provider == "unknown"
    chosen = provider.declared_provider("eks", detected)
    assert chosen.provider == "eks" and chosen.managed_control_plane
    assert chosen.describe().startswith("EKS: declared in the fleet file (facts.provider)")
    # a declaration that the cluster's own signals contradict keeps the contradiction in sight
    k3s = provider.detect_provider(None, "v1.31.4+k3s1")
    assert provider.declared_provider("rke2", k3s).evidence == (
        "declared in the fleet file (facts.provider)",
        "the cluster's own signals say k3s: gitVersion v1.31.4+k3s1",
    )


def test_declared_in_the_fleet_file_makes_the_providers_namespaces_system(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    undeclared = _plain_cluster(tmp_path, "plain")
    declared = _plain_cluster(tmp_path, "private-ami")
    fleet = _fleet_file(
        tmp_path,
        [
            {"name": "plain", "snapshot": str(undeclared)},
            {"name": "private-ami", "snapshot": str(declared), "facts": {"provider": "eks"}},
        ],
    )
    verdicts = run_checks(pytester, QUOTA, "--fleet", str(fleet))
    # undeclared, nothing says EKS: amazon-cloudwatch is a tenant without a quota
    assert verdicts.outcome("FC-QUOTA-001", "plain") == "fail"
    assert verdicts.objects("FC-QUOTA-001", "plain") == ["Namespace/amazon-cloudwatch"]
    assert verdicts.outcome("FC-QUOTA-001", "private-ami") == "skip"


def test_declared_in_cluster_yaml_counts_too(pytester: pytest.Pytester, tmp_path: Path) -> None:
    folder = _plain_cluster(tmp_path, "captured-eks", {"provider": "EKS"})
    verdicts = run_checks(pytester, QUOTA, "--snapshot", str(folder))
    assert verdicts.outcome("FC-QUOTA-001", "captured-eks") == "skip"


@pytest.mark.parametrize("value", ["amazon", "unknown", "openshift4"])
def test_an_unknown_provider_is_a_one_line_config_error(tmp_path: Path, value: str) -> None:
    folder = _plain_cluster(tmp_path, "c1")
    fleet = _fleet_file(tmp_path, [{"name": "c1", "snapshot": str(folder), "facts": {"provider": value}}])
    with pytest.raises(ConfigError) as caught:
        load_fleet(fleet)
    line = caught.value.one_line()
    assert str(fleet) in line and "provider" in line
    assert f"{value!r} is not a provider: write one of eks, gke, aks, openshift, rke2, k3s, kind, kubeadm" in line


def test_an_unknown_provider_in_cluster_yaml_names_that_file(tmp_path: Path) -> None:
    folder = _plain_cluster(tmp_path, "c2", {"provider": "amazon"})
    with pytest.raises(ConfigError) as caught:
        load_fleet(snapshots=[folder])
    assert "cluster.yaml" in caught.value.one_line() and "'amazon' is not a provider" in caught.value.one_line()
