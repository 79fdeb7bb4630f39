"""kubectl-style merge of the ``$KUBECONFIG`` files, and the fleet they give without a fleet file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fleetcheck.errors import ConfigError
from fleetcheck.registry.fleet import load_fleet
from fleetcheck.registry.kubeconfig import default_kubeconfig_paths, merge_kubeconfigs
from tests.builders import kubeconfig, write_yaml


@pytest.fixture
def two_files(tmp_path: Path) -> tuple[Path, Path]:
    """Two kubeconfigs in different folders that both define context ``shared`` and cluster ``c-shared``."""
    first = write_yaml(
        tmp_path / "team" / "config",
        kubeconfig(
            {"prod-eu": "c-prod", "shared": "c-shared"},
            {
                "c-prod": {"server": "https://prod-eu.example.com:6443", "certificate-authority": "certs/prod-ca.crt"},
                "c-shared": {"server": "https://first.example.com:6443", "certificate-authority": "/etc/ca/abs.crt"},
            },
            users={"admin": {"client-certificate": "certs/admin.crt", "client-key": "certs/admin.key"}},
        ),
    )
    second = write_yaml(
        tmp_path / "ops" / "kube.yaml",
        kubeconfig(
            {"shared": "c-shared", "staging": "c-staging"},
            {
                "c-shared": {"server": "https://second.example.com:6443"},
                "c-staging": {"server": "https://staging.example.com:6443", "certificate-authority": "ca.pem"},
            },
            current="staging",
        ),
    )
    return first, second


def test_first_file_wins_per_name_and_contexts_keep_file_order(
    two_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = two_files
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(first), str(second)]))
    merged = merge_kubeconfigs(default_kubeconfig_paths())
    assert merged.contexts == ["prod-eu", "shared", "staging"]
    assert merged.server_of("shared") == "https://first.example.com:6443"
    assert merged.server_of("staging") == "https://staging.example.com:6443"
    assert merged.context_files == {"prod-eu": first, "shared": first, "staging": second}
    assert [c["name"] for c in merged.config["clusters"]] == ["c-prod", "c-shared", "c-staging"]


def test_current_context_from_the_first_file_that_sets_it(
    two_files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = two_files
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(first), str(second)]))
    assert merge_kubeconfigs(default_kubeconfig_paths()).current_context == "staging"

    third = write_yaml(
        tmp_path / "third.yaml",
        kubeconfig({"dev": "c-dev"}, {"c-dev": {"server": "https://dev.example.com"}}, current="dev"),
    )
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(third), str(first), str(second)]))
    merged = merge_kubeconfigs(default_kubeconfig_paths())
    assert merged.current_context == "dev"
    assert merged.contexts[0] == "dev"


def test_relative_file_references_resolve_against_their_own_file(
    two_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = two_files
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(first), str(second)]))
    merged = merge_kubeconfigs(default_kubeconfig_paths())
    clusters = {c["name"]: c["cluster"] for c in merged.config["clusters"]}
    assert clusters["c-prod"]["certificate-authority"] == str((first.parent / "certs" / "prod-ca.crt").resolve())
    assert clusters["c-staging"]["certificate-authority"] == str((second.parent / "ca.pem").resolve())
    assert clusters["c-shared"]["certificate-authority"] == "/etc/ca/abs.crt"
    user = merged.config["users"][0]["user"]
    assert user["client-key"] == str((first.parent / "certs" / "admin.key").resolve())
    assert user["client-certificate"] == str((first.parent / "certs" / "admin.crt").resolve())


def test_relative_kubeconfig_path_still_gives_absolute_references(
    two_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KUBECONFIG", "ops/kube.yaml")
    merged = merge_kubeconfigs(default_kubeconfig_paths())
    ca = next(c for c in merged.config["clusters"] if c["name"] == "c-staging")["cluster"]["certificate-authority"]
    assert Path(ca).is_absolute()
    assert ca == str(tmp_path / "ops" / "ca.pem")


def test_missing_files_are_skipped_unless_none_exist(two_files: tuple[Path, Path], tmp_path: Path) -> None:
    first, _ = two_files
    merged = merge_kubeconfigs([tmp_path / "gone.yaml", first])
    assert merged.paths == (first,)
    assert merged.contexts == ["prod-eu", "shared"]

    with pytest.raises(ConfigError) as info:
        merge_kubeconfigs([tmp_path / "gone.yaml", tmp_path / "also-gone.yaml"])
    assert "gone.yaml" in info.value.one_line()
    assert info.value.fix


def test_default_path_is_home_kube_config(isolated_kubeconfig: Path) -> None:
    assert default_kubeconfig_paths() == [isolated_kubeconfig / ".kube" / "config"]


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("clusters: [\n", "line 2"),  # the bounded reader names where the YAML broke
        ("- just\n- a list\n", "(top)"),
        ("contexts: {a: b}\n", "contexts"),
        ("contexts:\n- context: {cluster: c}\n", "contexts"),
    ],
)
def test_broken_kubeconfig_is_a_one_line_error(tmp_path: Path, text: str, field: str) -> None:
    path = tmp_path / "config"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        merge_kubeconfigs([path])
    assert info.value.source == str(path)
    assert info.value.field == field
    assert "\n" not in info.value.one_line()


def test_no_fleet_file_gives_one_cluster_per_context(
    two_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = two_files
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(first), str(second)]))
    fleet = load_fleet()
    assert fleet.names() == ["prod-eu", "shared", "staging"]
    assert all(c.source == "kubeconfig" and c.context == c.name for c in fleet.clusters)
    assert fleet.get("shared").server == "https://first.example.com:6443"
    assert fleet.get("staging").kubeconfig == (str(first), str(second))
    assert fleet.default_profile == "default"
    assert load_fleet(profile="prod").get("prod-eu").profile == "prod"


def test_kubeconfig_without_contexts_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_yaml(tmp_path / "config", {"apiVersion": "v1", "kind": "Config", "clusters": []})
    monkeypatch.setenv("KUBECONFIG", str(path))
    with pytest.raises(ConfigError) as info:
        load_fleet()
    assert info.value.field == "contexts"
    assert "--snapshot" in info.value.fix


def test_exec_commands_resolve_as_kubectl_resolves_them(tmp_path: Path) -> None:
    """A command with a path separator is relative to its own file; a bare name is left for PATH."""
    users = {
        "dot": {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "./bin/get-token"}},
        "nested": {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "tools/../bin/get-token"}},
        "bare": {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "aws", "args": ["eks"]}},
        "absolute": {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "/usr/local/bin/x"}},
    }
    first = write_yaml(tmp_path / "A" / "config", kubeconfig({"a": "c"}, {"c": {"server": "https://a"}}, users=users))
    later = {"dot": {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "./other"}}}
    second = write_yaml(tmp_path / "B" / "config", kubeconfig({"b": "c"}, {"c": {"server": "https://b"}}, users=later))
    merged = merge_kubeconfigs([first, second])
    commands = {u["name"]: u["user"]["exec"]["command"] for u in merged.config["users"]}
    assert commands == {
        "dot": str(tmp_path / "A" / "bin" / "get-token"),  # the first file's entry wins, against its own folder
        "nested": str(tmp_path / "A" / "bin" / "get-token"),
        "bare": "aws",
        "absolute": "/usr/local/bin/x",
    }
    assert next(u for u in merged.config["users"] if u["name"] == "bare")["user"]["exec"]["args"] == ["eks"]
    assert merged.user_files == {name: first for name in users}


def test_user_origin_is_kept_per_file(two_files: tuple[Path, Path]) -> None:
    first, second = two_files
    merged = merge_kubeconfigs([second, first])
    assert merged.user_files == {"admin": second}  # the first file to define a name wins, as for contexts
