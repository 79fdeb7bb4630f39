"""``fleetcheck clusters --check-access``: which kinds the scan's credentials cannot list, found with GETs only."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetcheck.catalog import load_catalog
from fleetcheck.cli import main
from fleetcheck.replay import ReplayServer
from fleetcheck.state.snapshot import load_snapshot
from tests.integration.clusters import write_cluster
from tests.security.kit import fleet_file


@pytest.fixture
def two_live(tmp_path: Path) -> tuple[ReplayServer, Path]:
    root = tmp_path / "snaps"
    dirs = [write_cluster(root, "prod-a"), write_cluster(root, "prod-b")]
    server = ReplayServer([load_snapshot(d) for d in dirs]).start()
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    fleet = fleet_file(
        tmp_path / "fleet.yaml",
        [{"name": "prod-a"}, {"name": "prod-b"}, {"name": "offline", "snapshot": str(dirs[0])}],
        defaults={"kubeconfig": str(kubeconfig)},
    )
    yield server, fleet
    server.stop()


def _section(out: str, cluster: str) -> str:
    """The lines of the access report about ``cluster``."""
    lines = out.split("\naccess ", 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"  {cluster}:"))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith("    ")), len(lines))
    return "\n".join(lines[start:end])


def test_a_403_is_reported_as_denied_never_as_nothing_there(
    two_live: tuple[ReplayServer, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    server, fleet = two_live
    server.add_fault("prod-b", r"/limitranges$", status=403)
    code = main(["clusters", "--fleet", str(fleet), "--check-access"])
    out = capsys.readouterr().out
    kinds = load_catalog().kinds_read()
    assert code == 1, out
    assert f"prod-a: can list all {len(kinds)} kinds" in _section(out, "prod-a")
    denied = _section(out, "prod-b")
    assert f"cannot list 1 of {len(kinds)} kinds" in denied
    assert "limitranges: 403 Forbidden: the scan's RBAC lacks 'list' on 'limitranges'" in denied
    assert "snapshot" in _section(out, "offline")

    log = server.request_log
    assert {r.method for r in log} == {"GET"}, "the preflight wrote, or asked a SelfSubjectAccessReview"
    lists = [r for r in log if r.query]
    assert lists and all(r.query == "limit=1" for r in lists), {r.query for r in lists}
    # every kind the checks read was tried on each cluster, each once
    for cluster in ("prod-a", "prod-b"):
        tried = [r.path for r in lists if r.cluster == cluster]
        assert len(tried) == len(set(tried))
    assert not [r for r in log if "selfsubject" in r.path or "secrets" in r.path]


def test_all_kinds_listable_exits_0(two_live: tuple[ReplayServer, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _server, fleet = two_live
    assert main(["clusters", "--fleet", str(fleet), "--check-access"]) == 0
    assert "cannot list" not in capsys.readouterr().out


def test_rejected_credentials_are_said_once_per_cluster(
    two_live: tuple[ReplayServer, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    server, fleet = two_live
    server.add_fault("prod-a", r"^/api", status=401)
    assert main(["clusters", "--fleet", str(fleet), "--check-access", "--timeout", "2"]) == 1
    section = _section(capsys.readouterr().out, "prod-a")
    assert "401 Unauthorized" in section and section.count("\n") == 0
