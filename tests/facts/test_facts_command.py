"""``fleetcheck facts`` end to end: the replayed demo fleet over HTTPS, the sonobuoy corpus, bad input."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from fleetcheck.cli import main
from fleetcheck.demo.generate import demo_fleet_spec, generate_fleet
from fleetcheck.demorun import write_demo_fleet_file
from fleetcheck.facts.dimensions import dimension_names
from fleetcheck.replay import ReplayServer
from fleetcheck.state.snapshot import load_snapshot

REPO = Path(__file__).resolve().parents[2]
SONOBUOY = REPO.parent / "shared" / "corpus" / "sonobuoy"
#: the fleet checks a dimension maps to; a demo plant of one of them must show as that dimension's outlier
JUDGING = ("FC-CNI-002", "FC-DNS-002", "FC-DNS-003", "FC-OIDC-002", "FC-VER-001", "FC-INGRESS-001", "FC-MESH-001")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, ReplayServer, list[dict[str, str]]]]:
    """The small demo fleet, served by the replay server, with the demo's own fleet file and profiles."""
    root = tmp_path_factory.mktemp("facts-demo")
    folders = generate_fleet(root / "snapshots", demo_fleet_spec(small=True))
    plants = orjson.loads((root / "snapshots" / "planted.json").read_bytes())
    server = ReplayServer([load_snapshot(f) for f in folders])
    with server:
        kubeconfig = server.write_kubeconfig(root / "kubeconfig")
        yield write_demo_fleet_file(root, folders, kubeconfig), server, plants


def test_facts_on_the_replayed_demo_fleet_shows_the_planted_drift(
    demo: tuple[Path, ReplayServer, list[dict[str, str]]], capsys: pytest.CaptureFixture[str]
) -> None:
    fleet_file, server, plants = demo
    server.clear_request_log()
    assert main(["facts", "--fleet", str(fleet_file), "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["schema"] == "fleetcheck/facts/v1"
    assert all(list(c["facts"]) == list(dimension_names()) for c in payload["clusters"])
    # GET only, each kind listed once per cluster
    log = server.request_log
    assert log and {r.method for r in log} == {"GET"}
    first_pages = Counter((r.cluster, r.path) for r in log if "continue=" not in r.query)
    assert not {k: n for k, n in first_pages.items() if n > 1}
    outliers: dict[str, set[str]] = {}
    for cohort in payload["drift"]["cohorts"]:
        for row in cohort["dimensions"]:
            if row["check"]:
                outliers.setdefault(row["check"], set()).update(o["cluster"] for o in row["outliers"])
    planted = [p for p in plants if p["code"] in JUDGING]
    assert planted, "the demo plants fleet drift"
    missed = [(p["cluster"], p["code"]) for p in planted if p["cluster"] not in outliers.get(p["code"], set())]
    assert not missed, f"planted drift not shown as an outlier of the judging dimension: {missed}"


def test_facts_table_marks_outliers_unknowns_and_errors(
    demo: tuple[Path, ReplayServer, list[dict[str, str]]], capsys: pytest.CaptureFixture[str]
) -> None:
    fleet_file, _, _ = demo
    assert main(["facts", "--fleet", str(fleet_file)]) == 0
    out = capsys.readouterr().out
    assert "dimensions drift" in out and "FC-CNI-002" in out and "informational" in out
    assert "! " in out  # an outlier is marked
    assert "? unknown" in out


@pytest.mark.skipif(not SONOBUOY.is_dir(), reason=f"no sonobuoy corpus at {SONOBUOY}")
def test_facts_on_the_sonobuoy_corpus(capsys: pytest.CaptureFixture[str]) -> None:
    args = [arg for folder in sorted(SONOBUOY.iterdir()) if folder.is_dir() for arg in ("--snapshot", str(folder))]
    assert len(args) == 8
    assert main(["facts", *args, "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    (cohort,) = payload["drift"]["cohorts"]
    rows = {row["name"]: row for row in cohort["dimensions"]}
    assert rows["kubernetes.minor"]["standard"] == "1.21"
    assert {o["cluster"] for o in rows["kubernetes.minor"]["outliers"]} == {"aws-kubeadm-v1.8", "kind-v1.14"}
    assert [o["cluster"] for o in rows["cni"]["outliers"]] == ["aws-kubeadm-v1.8"]
    # kinds the captures do not hold are unreadable with the reason, never a value
    assert rows["csi.drivers"]["unreadable_count"] == 4 and rows["csi.drivers"]["standard"] is None
    assert main(["facts", *args]) == 0
    assert "kind-v1.21-quick" in capsys.readouterr().out


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snap = tmp_path / "one"
    snap.mkdir()
    (snap / "cluster.yaml").write_text("name: one\nserverVersion: v1.31.4\n")
    assert main(["facts", "--snapshot", str(snap), "--reference-cluster", "ghost"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "fleetcheck: error: --reference-cluster: NAME: no cluster named 'ghost' in the fleet (fix: name one of one)"
    ]
    assert main(["facts", "--snapshot", str(snap), "--fetch-workers", "0"]) == 2
    assert "--fetch-workers" in capsys.readouterr().err


def test_a_fleet_nobody_can_read_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\nclusters: [{name: dead, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "users: [{name: u, user: {token: t}}]\ncontexts: [{name: dead, context: {cluster: dead, user: u}}]\n"
    )
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(f"defaults: {{kubeconfig: {kubeconfig}}}\nclusters: [{{name: dead, context: dead}}]\n")
    assert main(["facts", "--fleet", str(fleet), "--format", "json"]) == 3
    captured = capsys.readouterr()
    assert "no cluster could be read" in captured.err
    assert json.loads(captured.out)["clusters"][0]["facts"]["cni"] is None
