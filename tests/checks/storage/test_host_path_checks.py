"""FC-PV-002 on real-shaped pods: hostPath volumes mounted read-write in tenant namespaces of prod clusters."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

MODULE = "test_storage.py"
CODE = "FC-PV-002"
PROD = {"tier": "prod", "owner": "team-data"}


def _with_host_path(pod: dict[str, Any], path: str, *, read_only: bool = False) -> dict[str, Any]:
    """The pod mounts ``path`` of its node at /data (as a hand-written manifest or Helm chart would)."""
    pod["spec"]["volumes"].append({"name": "data", "hostPath": {"path": path, "type": "DirectoryOrCreate"}})
    mount: dict[str, Any] = {"name": "data", "mountPath": "/data"}
    if read_only:
        mount["readOnly"] = True
    pod["spec"]["containers"][0].setdefault("volumeMounts", []).append(mount)
    return pod


def test_host_path_data_fails_and_read_only_or_system_passes(
    kit: ModuleType, run: Callable[..., Any], tmp_path: Path
) -> None:
    team = kit.namespace("team-search")
    writer = _with_host_path(kit.pod("indexer-7c9d", "team-search"), "/mnt/indexer")
    reader = _with_host_path(kit.pod("certs-reader-5f2a", "team-search"), "/etc/ssl/certs", read_only=True)
    agent = _with_host_path(kit.pod("fluent-bit-x2k4", "kube-system"), "/var/log")
    clean = [team, kit.pod("api-5d8f", "team-search"), reader, agent]
    fleet = [
        kit.write_snapshot(tmp_path / "prod-bad", [*clean, writer], labels=PROD),
        kit.write_snapshot(tmp_path / "prod-good", clean, labels=PROD),
        kit.write_snapshot(tmp_path / "dev-1", [team, writer], labels={"tier": "dev", "owner": "x"}),
    ]
    results = run(MODULE, fleet)
    assert results.outcome(CODE, "prod-bad") == "fail"
    assert results.objects(CODE, "prod-bad") == ["team-search/Pod/indexer-7c9d"]
    assert "writes to hostPath /mnt/indexer at /data" in results.message(CODE, "prod-bad")
    assert results.outcome(CODE, "prod-good") == "pass"
    assert results.outcome(CODE, "dev-1") == "skip"
    assert "judges prod clusters only" in results.message(CODE, "dev-1")
