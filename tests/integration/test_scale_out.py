"""Scale-out exchanges facts: ``-n 2`` and ``--shard K/N --facts DIR`` equal serial, and list only what they own.

The small demo fleet (every fleet check, planted drift) is served over HTTPS
by the replay server; scans are real ``fleetcheck run`` processes. The
replay server's request log says which cluster each request went to, so a
worker or shard that listed a cluster it does not own shows up as a second
list of that kind (under ``-n 2``) or as any request at all (a shard).
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetcheck.catalog import check_dirs
from fleetcheck.core.kinds import parse_kind
from fleetcheck.demo.generate import demo_fleet_spec, generate_fleet
from fleetcheck.demorun import write_demo_fleet_file
from fleetcheck.facts.builtin import CNI
from fleetcheck.replay import ReplayServer
from fleetcheck.runner import pytest_args_for
from fleetcheck.runstate import RunOptions, RunState, shard_slice
from fleetcheck.state.base import KindReleased
from fleetcheck.state.snapshot import load_snapshot
from tests.integration.clusters import write_cluster

#: per run by nature
_VOLATILE = ("started", "finished", "shard", "run_id")
#: the replay server rebases timestamps to its start and reads carry the API server's clock: masked in messages
_SECONDS = re.compile(r"about \d+(?:-\d+)? s")  # a clock skew estimated against the read time, +-2 s
_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?Z")  # "... within 26h of 2026-12-04 21:09Z" too
#: ages measured against the read time ("3h 54m ago"): two scans a minute apart may fall on either side of a minute
_AGE = re.compile(r"\b\d+[dhms](?: \d+[dhms])* ago\b")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, ReplayServer, list[str]]]:
    """The small demo fleet, replayed, with its fleet file; and the cluster names."""
    root = tmp_path_factory.mktemp("scale-out")
    folders = generate_fleet(root / "snapshots", demo_fleet_spec(small=True))
    server = ReplayServer([load_snapshot(f) for f in folders])
    with server:
        kubeconfig = server.write_kubeconfig(root / "kubeconfig")
        fleet_file = write_demo_fleet_file(root, folders, kubeconfig)
        names = [load_snapshot(f).name for f in folders]
        yield fleet_file, server, names


def scan(fleet_file: Path, out: Path, *extra: str) -> subprocess.Popen[str]:
    """``fleetcheck run`` on the demo fleet in its own process (started, not waited for)."""
    cmd = [sys.executable, "-m", "fleetcheck.cli", "run", "--fleet", str(fleet_file), "--report-dir", str(out)]
    return subprocess.Popen(
        [*cmd, "--fail-on", "never", "-p", "no:randomly", *extra],
        cwd=fleet_file.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(proc: subprocess.Popen[str]) -> str:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, (out + err)[-3000:]
    return out + err


def comparable(path: Path) -> dict[str, Any]:
    """results.json without what differs per run by nature (times, ids, the shard label)."""
    doc: dict[str, Any] = json.loads((path / "results.json").read_text())
    for key in _VOLATILE:
        doc.pop(key, None)
    for record in doc["results"]:
        record.pop("duration_s", None)
        record["message"] = _AGE.sub("<age> ago", _SECONDS.sub("about N s", _TIME.sub("<time>", record["message"])))
    return doc


def first_pages(server: ReplayServer) -> Counter[tuple[str, str]]:
    """(cluster, path) of every list's first page (continuations excluded) and of ``/version``."""
    return Counter(
        (r.cluster, r.path)
        for r in server.request_log
        if "continue=" not in r.query
        and not r.path.startswith(("/api?", "/apis?"))
        and r.path not in ("/api", "/apis")
        and not (r.path.startswith("/apis/") and r.path.count("/") == 3)  # discovery of a group version
    )


def test_two_workers_equal_serial_and_list_each_kind_once(demo: tuple[Path, ReplayServer, list[str]]) -> None:
    fleet_file, server, _ = demo
    root = fleet_file.parent
    server.clear_request_log()
    finished(scan(fleet_file, root / "serial"))
    serial_lists = first_pages(server)
    server.clear_request_log()
    finished(scan(fleet_file, root / "xdist", "-n", "2"))
    parallel_lists = first_pages(server)

    serial, parallel = comparable(root / "serial"), comparable(root / "xdist")
    assert parallel["results"] == serial["results"]  # verdicts and messages
    assert parallel["clusters"] == serial["clusters"]  # each cluster's facts included
    assert parallel.get("drift") == serial.get("drift")
    assert serial["results"] and any(c.get("facts") for c in serial["clusters"])
    fleet_codes = {r["code"] for r in serial["results"] if r.get("scope") == "fleet" and r["outcome"] == "fail"}
    assert {"FC-CNI-002", "FC-DNS-002"} <= fleet_codes  # the planted drift is judged from peers' facts
    # no worker listed a peer: every kind is listed once per cluster in the run, as serially
    assert {k: n for k, n in parallel_lists.items() if n > 1} == {}
    assert set(parallel_lists) == set(serial_lists)


@pytest.mark.parametrize("shards", [2, 3])
def test_shards_merged_equal_unsharded_and_list_only_their_clusters(
    demo: tuple[Path, ReplayServer, list[str]], shards: int
) -> None:
    fleet_file, server, names = demo
    root = fleet_file.parent / f"shards-{shards}"
    finished(scan(fleet_file, root / "whole"))
    facts = root / "facts"
    server.clear_request_log()
    # the shards run at once, as an Indexed Job's pods do: each publishes its clusters' facts and reads the others'
    procs = [
        scan(fleet_file, root / f"s{k}", "--shard", f"{k}/{shards}", "--facts", str(facts))
        for k in range(1, shards + 1)
    ]
    for proc in procs:
        finished(proc)
    lists = first_pages(server)
    assert {k: n for k, n in lists.items() if n > 1} == {}  # every kind once per cluster, over all shards
    merged = subprocess.run(
        [
            sys.executable,
            "-m",
            "fleetcheck.cli",
            "merge",
            *(str(root / f"s{k}" / "results.json") for k in range(1, shards + 1)),
            "--report-dir",
            str(root / "merged"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert merged.returncode == 0, merged.stderr
    whole, combined = comparable(root / "whole"), comparable(root / "merged")
    assert combined["results"] == whole["results"]
    assert combined["clusters"] == whole["clusters"]  # facts too
    assert sorted(p.name for p in facts.glob("*.facts.json")) == sorted(f"{n}.facts.json" for n in names)


def test_a_shard_sends_no_request_to_clusters_it_does_not_own(demo: tuple[Path, ReplayServer, list[str]]) -> None:
    fleet_file, server, names = demo
    root = fleet_file.parent / "one-shard"
    facts = root / "facts"
    # shard 2 first, alone (its fleet checks give up on shard 1 at once), then shard 1 reads shard 2's facts
    finished(scan(fleet_file, root / "s2", "--shard", "2/2", "--facts", str(facts), "--facts-wait", "0.1"))
    server.clear_request_log()
    finished(scan(fleet_file, root / "s1", "--shard", "1/2", "--facts", str(facts)))
    touched = {r.cluster for r in server.request_log}
    assert touched == set(shard_slice(names, 1, 2))


def test_a_shard_without_a_facts_folder_is_a_one_line_error(demo: tuple[Path, ReplayServer, list[str]]) -> None:
    fleet_file, _, _ = demo
    proc = scan(fleet_file, fleet_file.parent / "nofacts", "--shard", "1/2")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert "--facts DIR" in err and "Traceback" not in err + out


def test_a_missing_peer_shard_errors_its_fleet_checks_after_the_wait(
    demo: tuple[Path, ReplayServer, list[str]],
) -> None:
    """No other shard published: fleet checks error naming whose facts are missing (never a verdict without them)."""
    fleet_file, _, names = demo
    root = fleet_file.parent / "lonely"
    finished(scan(fleet_file, root / "s1", "--shard", "1/2", "--facts", str(root / "facts"), "--facts-wait", "0.2"))
    doc = comparable(root / "s1")
    profile_of = {c["name"]: c["profile"] for c in yaml.safe_load(fleet_file.read_text())["clusters"]}
    missing = {profile_of[name] for name in shard_slice(names, 2, 2)}
    fleet = [r for r in doc["results"] if r["code"] == "FC-CNI-002"]
    blocked = [r for r in fleet if profile_of[r["cluster"]] in missing]  # a peer of its cohort is in shard 2
    assert blocked and all(r["outcome"] == "error" for r in blocked), blocked
    assert all("were not published by shard 2/2" in r["message"] for r in blocked)
    quota = [r for r in doc["results"] if r["code"] == "FC-QUOTA-001"]
    assert quota and all(r["outcome"] != "error" for r in quota)  # its own clusters' checks are unaffected


def _comparing_checks() -> set[str]:
    """Check functions that take the ``fleet`` fixture (fleet comparisons), from the built-in checks' source."""
    found: set[str] = set()
    for folder in check_dirs():
        for path in Path(folder).glob("test_*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.FunctionDef) and any(a.arg == "fleet" for a in node.args.args):
                    found.add(node.name)
    return found


def test_a_serial_run_groups_cases_by_cluster_in_fleet_order_fleet_comparisons_last(
    demo: tuple[Path, ReplayServer, list[str]],
) -> None:
    """The prefetch window relies on this order: a cluster's own cases together, then every fleet comparison."""
    fleet_file, _, _ = demo
    args = pytest_args_for(
        fleet=str(fleet_file), snapshots=(), profile=None, clusters=(), report_dir=fleet_file.parent / "collect"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", *args, "--collect-only", "-p", "no:randomly"],
        cwd=fleet_file.parent,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    cases = [
        (m.group(1), m.group(2))
        for line in proc.stdout.splitlines()
        if (m := re.search(r"::(test_\w+)\[([^\]]+)\]$", line.strip()))
    ]
    comparing = _comparing_checks()
    flags = [fn in comparing for fn, _ in cases]
    assert any(flags) and not all(flags)
    first_comparison = flags.index(True)
    assert all(flags[first_comparison:]), "a cluster's own case ran after a fleet comparison"
    fleet_order = [c["name"] for c in yaml.safe_load(fleet_file.read_text())["clusters"]]
    for part in (cases[:first_comparison], cases[first_comparison:]):
        runs = [name for i, (_, name) in enumerate(part) if i == 0 or part[i - 1][1] != name]
        assert runs == [n for n in fleet_order if n in runs], "cases not grouped by cluster in fleet order"


@pytest.fixture
def five_clusters(tmp_path: Path) -> Iterator[RunState]:
    names = [f"edge-{i}" for i in range(5)]
    snapshots = tuple(str(write_cluster(tmp_path / "snaps", name)) for name in names)
    run = RunState(RunOptions(snapshots=snapshots, prefetch_workers=1))
    yield run
    run.close()


def test_the_window_lists_the_next_fetch_workers_clusters_and_release_keeps_facts(five_clusters: RunState) -> None:
    run = five_clusters
    plan = {name: ["namespaces"] for name in run.fleet.names()}
    run.prefetch_window(plan, "edge-0")
    assert set(run._prefetch) == {"edge-0"}  # the first cluster alone, until it is weighed (state/held.py)
    run._prefetch["edge-0"].result(timeout=30)
    run.prefetch_window(plan, "edge-0")  # its next case
    assert set(run._prefetch) == {"edge-0", "edge-1"}  # --fetch-workers 1: one cluster ahead, no more
    run._prefetch["edge-1"].result(timeout=30)
    listed = set(run.state("edge-1").fetched_kinds())
    assert {parse_kind(k).key for k in ["namespaces", *run._shared_reads("edge-1")]} <= listed  # facts' kinds too
    run._prefetch["edge-0"].result(timeout=30)
    cni = run.view("edge-0").fact(CNI)
    run.release("edge-0")
    assert run.released("edge-0")
    assert run.view("edge-0").fact(CNI) == cni  # fleet comparisons read the released cluster's facts
    with pytest.raises(KindReleased, match="edge-0 was released"):  # never an empty list
        run.view("edge-0").list("namespaces")
    run.prefetch_window(plan, "edge-1")
    assert set(run._prefetch) == {"edge-0", "edge-1", "edge-2"}
    run.prefetch_window(plan, "edge-1")  # the same case again (a second check of it) queues nothing more
    assert len(run._prefetch) == 3


def test_a_peer_with_no_case_here_is_listed_for_its_facts_and_released(five_clusters: RunState) -> None:
    run = five_clusters
    futures = run.prefetch_peer_facts(["edge-3", "edge-4"])
    for future in futures:
        future.result(timeout=30)
    assert run.released("edge-3") and run.released("edge-4")
    assert run.view("edge-4").fact(CNI) is not None  # computed before its objects went
    with pytest.raises(KindReleased):
        run.view("edge-4").list("namespaces")
    assert run.prefetch_peer_facts(["edge-3"]) == futures[:1]  # once per run
