"""A snapshot's ``serverversion.json`` may be ``kubectl version -o json`` output, not only a ``/version`` object.

``kubectl version -o json`` wraps the server's ``/version`` in
``{"clientVersion": ..., "serverVersion": ...}`` (the EKS sample in the
managed corpus, 05); the scan must read the server's version from it, never
the client's, and say the version is unknown when kubectl reached no server.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from fleetcheck.errors import ConfigError
from fleetcheck.facts.provider_detection import detect_provider
from fleetcheck.state.base import KindUnavailable
from fleetcheck.state.snapshot import load_snapshot
from fleetcheck.state.snapshot_state import SnapshotClusterState
from tests.builders import namespace, write_json, write_snapshot

_CLIENT = {"major": "1", "minor": "28", "gitVersion": "v1.28.1", "platform": "linux/amd64"}
_SERVER = {"major": "1", "minor": "30+", "gitVersion": "v1.30.4-eks-a737599", "platform": "linux/amd64"}


def _state(folder: Path) -> SnapshotClusterState:
    return SnapshotClusterState(load_snapshot(folder))


def _bare(tmp_path: Path, name: str) -> Path:
    return write_snapshot(tmp_path / name, [namespace("kube-system")], name=name, server_version=None)


def test_kubectl_version_output_gives_the_servers_version(tmp_path: Path) -> None:
    folder = _bare(tmp_path, "kv")
    (folder / "serverversion.json").write_text(json.dumps({"clientVersion": _CLIENT, "serverVersion": _SERVER}))
    version = _state(folder).version
    assert version.git_version == "v1.30.4-eks-a737599"
    assert version.minor == 30  # "30+" read as 30, and not the client's 28
    # what the provider fact is given: the gitVersion alone says EKS
    assert detect_provider(None, version.git_version).provider == "eks"


def test_kubectl_version_output_without_a_server_is_unknown_not_the_client(tmp_path: Path) -> None:
    folder = _bare(tmp_path, "offline")
    (folder / "serverversion.json").write_text(json.dumps({"clientVersion": _CLIENT}))
    with pytest.raises(KindUnavailable, match="records no server version"):
        _ = _state(folder).version


def test_a_plain_version_object_still_reads(tmp_path: Path) -> None:
    folder = _bare(tmp_path, "plain")
    write_json(folder / "serverversion.json", _SERVER)
    assert _state(folder).version.git_version == "v1.30.4-eks-a737599"


def test_kubectl_version_output_pasted_into_cluster_yaml(tmp_path: Path) -> None:
    folder = _bare(tmp_path, "pasted")
    meta = yaml.safe_load((folder / "cluster.yaml").read_text())
    (folder / "cluster.yaml").write_text(
        yaml.safe_dump({**meta, "serverVersion": {"clientVersion": _CLIENT, "serverVersion": _SERVER}})
    )
    assert _state(folder).version.git_version == "v1.30.4-eks-a737599"
    (folder / "cluster.yaml").write_text(yaml.safe_dump({**meta, "serverVersion": {"clientVersion": _CLIENT}}))
    with pytest.raises(ConfigError, match="serverVersion"):
        load_snapshot(folder)


def test_the_eks_corpus_sample(tmp_path: Path, corpus: Path) -> None:
    sample = sorted((corpus / "managed").glob("05_*.json"))
    if not sample:
        pytest.skip(f"no 05_*.json (kubectl version against EKS) in {corpus / 'managed'}")
    folder = _bare(tmp_path, "eks")
    (folder / "serverversion.json").write_bytes(sample[0].read_bytes())
    version = _state(folder).version
    assert version.git_version == "v1.24.16-eks-2d98532"
    assert version.minor == 24
