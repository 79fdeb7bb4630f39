"""Fleet-scale benchmark: the full scan against its fetch floor, the kubectl loop, requests, memory, scaling.

Usage (from the repository root)::

    python bench/fleet_scan.py                      # fleet-100: 10 prod + 30 dev + 60 edge (+ 1 canary)
    python bench/fleet_scan.py --clusters 10        # a quick run on a proportional fleet-10
    python bench/fleet_scan.py --prod 2 --dev 4 --edge 4 --workdir /tmp/fc-bench --repeat 2

The fleet comes from :func:`fleetcheck.demo.generate.bench_fleet_spec`,
which adds one canary so the prod tier is guarded (fleet-100 is 101
clusters); it is generated once into ``--workdir`` and reused while the
generator's spec is unchanged. A replay server in its own process
(:class:`fleetcheck.replay.ReplayProcess`) serves the clusters of each run
over HTTPS with a request log; it is started afresh for every measured run
(timestamps are rebased to "now" at start-up, and Leases must not age
during a long benchmark) and its start-up is not measured. Every measured
run is a child process, measured with ``wait4`` (wall, CPU, peak RSS); the
server's CPU is read from ``/proc`` around each run, so it is measured
apart. ``--repeat N`` keeps the fastest of N runs (a shared machine is
noisy).

Measured, in this order:

- ``floor``: ``bench/fetch_floor.py`` lists the kinds the enabled checks
  read, raw, with the scan's client, worker count and page size, parses
  them with orjson and keeps them: nothing else, not even the cyclic
  garbage collector (``floor_gc_on``: the same with it, for reference).
- ``scan``: ``python -m fleetcheck.cli run --fleet F`` with every built-in
  check and the reports written (serial), for the whole fleet and, for
  scaling, its first quarter and half (same proportions).
- ``scan -n 2``: the whole fleet with pytest-xdist, two workers (``--workers``
  picks the counts; each count gets a line against the serial scan).
- ``shards[N]``: N processes ``--shard K/N --facts DIR`` at the same time, as
  the Indexed Job runs them, for N = 2 and 4 (``--shards``). Each shard gets
  its own replay server (all clusters, its own request log), so every request
  is attributed to the shard that sent it: ``outside_shard_requests`` counts
  requests a shard sent to a cluster it does not judge, and the shards'
  bytes together are set against the unsharded scan's.
- ``--fleet-1000``: the same generator at 100 prod + 300 dev + 600 edge (+ 1
  canary), scanned serially: its time, peak RSS and time per cluster against
  fleet-100's (about 3.2 GB of snapshots; the replay server keeps their rendered bytes, about 4.5 GB
  at start and 6 GB once its page cache has filled, and needs about 4 minutes to start).
- ``tier1``: ``kubectl get <the same kinds> -A -o json`` once per cluster,
  one cluster after the other, cold discovery cache (the Tier-1 loop the
  project started from).

One line per figure; the last line is the summary (and, with
``--fleet-1000``, a ``summary1000`` line after it)::

    summary clusters=101 scan_s=... floor_s=... scan_over_floor=... tier1_over_scan=... rss_mb=...
        requests_per_cluster=... kinds=... per_cluster_growth=... shard_bytes_over_scan=...
        outside_shard_requests=... xdist2_over_serial=...
    summary1000 clusters=1001 scan_s=... rss_mb=... rss_over_fleet100=... per_cluster_over_fleet100=...
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchfleet import FleetMix, ensure_fleet, kinds_for_profiles, write_fleet_file  # noqa: E402
from latency_replay import LatencyReplayProcess  # noqa: E402
from measure import Measured, process_cpu_seconds, process_rss_mb, run_measured  # noqa: E402

from fleetcheck.core.kinds import parse_kind  # noqa: E402
from fleetcheck.replay import ReplayProcess  # noqa: E402
from fleetcheck.runstate import RunOptions, shard_slice  # noqa: E402

#: (outcome counts, error messages) of one scan's results.json
Outcomes = tuple[Counter[str], list[str]]
_KUBECTL_CANDIDATES = (REPO / ".ci" / "bin" / "kubectl", Path("/tmp/kc/x/usr/bin/kubectl"))
_DISCOVERY = re.compile(r"^/(api|apis|api/v1|apis/[^/]+/[^/]+|apis/[^/]+)$")


def say(line: str) -> None:
    """One figure per line, flushed at once (a fleet-100 run takes minutes)."""
    print(line, flush=True)


@dataclass
class RequestStats:
    """What the replay server answered during one run."""

    clusters: int
    total: int = 0
    lists: int = 0
    pages: int = 0
    discovery: int = 0
    version: int = 0
    non_get: int = 0
    repeated_lists: int = 0
    bytes: int = 0
    per_cluster: Counter[str] = field(default_factory=Counter)

    def per(self, value: int) -> float:
        """``value`` per cluster scanned."""
        return value / self.clusters if self.clusters else 0.0

    def line(self) -> str:
        """The run's requests, per cluster."""
        return (
            f"requests_per_cluster={self.per(self.total):.2f} lists={self.per(self.lists):.2f} "
            f"continue_pages={self.per(self.pages):.2f} discovery={self.per(self.discovery):.2f} "
            f"version={self.per(self.version):.2f} repeated_lists={self.repeated_lists} non_get={self.non_get} "
            f"mb_served={self.bytes / 2**20:.0f}"
        )


class RequestLogReader:
    """Reads the replay server's JSON-lines request log from where the previous run stopped."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def mark(self) -> None:
        """Skip everything logged so far."""
        self.offset = self.path.stat().st_size if self.path.exists() else 0

    def since_mark(self, clusters: int) -> RequestStats:
        """The requests logged since :meth:`mark`."""
        time.sleep(0.3)  # the server logs after answering; let the last lines land
        stats = RequestStats(clusters)
        if not self.path.exists():
            return stats
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            data = handle.read()
        first_pages: Counter[tuple[str, str]] = Counter()
        for line in data.splitlines():
            record = orjson.loads(line)
            stats.total += 1
            stats.bytes += int(record.get("bytes") or 0)
            stats.per_cluster[str(record["cluster"])] += 1
            if record["method"] != "GET":
                stats.non_get += 1
            path, query = str(record["path"]), str(record.get("query") or "")
            if path == "/version":
                stats.version += 1
            elif _DISCOVERY.match(path):
                stats.discovery += 1
            elif "continue=" in query:
                stats.pages += 1
            else:
                stats.lists += 1
                first_pages[(str(record["cluster"]), path)] += 1
        stats.repeated_lists = sum(n - 1 for n in first_pages.values() if n > 1)
        return stats


@dataclass
class RunFigures:
    """One measured run (the fastest of ``--repeat``) and what the replay server did meanwhile."""

    name: str
    measured: Measured
    server_cpu_s: float
    requests: RequestStats
    clusters: int
    load: float
    outcomes: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    walls: list[float] = field(default_factory=list)

    @property
    def per_cluster_s(self) -> float:
        """Wall seconds per cluster scanned."""
        return self.measured.wall_s / self.clusters

    def line(self) -> str:
        """The run's figures on one line."""
        m = self.measured
        outcomes = " ".join(f"{k}={v}" for k, v in sorted(self.outcomes.items()))
        runs = "/".join(f"{w:.1f}" for w in self.walls)
        return (
            f"{self.name} wall_s={m.wall_s:.2f} cpu_s={m.cpu_s:.2f} rss_mb={m.maxrss_mb:.0f} "
            f"s_per_cluster={self.per_cluster_s:.3f} server_cpu_s={self.server_cpu_s:.2f} "
            f"server_busy={self.server_cpu_s / m.wall_s:.0%} rc={m.returncode} load1={self.load:.1f}"
            + (f" runs_s={runs}" if len(self.walls) > 1 else "")
            + (f" {outcomes}" if outcomes else "")
        )


class Bench:
    """The replay server, the request log, and the runs measured against them.

    Every measured run gets a freshly started server serving just the
    clusters it scans: the server rebases the snapshots' timestamps to "now"
    when it starts, and a Lease read minutes later would look stale
    (FC-CLOCK-001 would fail on every cluster and change what the run does).
    The server's start-up is not measured.
    """

    def __init__(
        self, workdir: Path, fleet_dir: Path, kubeconfig: Path, request_log: Path, repeat: int, latency_ms: float = 0.0
    ) -> None:
        self.workdir = workdir
        self.latency_ms = latency_ms
        self.fleet_dir = fleet_dir
        self.kubeconfig = kubeconfig
        self.log = RequestLogReader(request_log)
        self.request_log = request_log
        self.repeat = max(1, repeat)
        self.replay: ReplayProcess | None = None
        self.serving: tuple[str, ...] = ()
        self.ready_s = 0.0
        self.server_rss_mb = 0.0
        self._fresh = False

    def start(self, names: list[str]) -> ReplayProcess:
        """A freshly started replay server for ``names`` (timestamps rebased to now); writes the kubeconfig."""
        self.stop()
        started = time.perf_counter()
        dirs = [self.fleet_dir / name for name in names]
        replay: ReplayProcess
        if self.latency_ms > 0:
            replay = LatencyReplayProcess(
                dirs, self.kubeconfig, latency_ms=self.latency_ms, request_log=self.request_log
            )
        else:
            replay = ReplayProcess(dirs, self.kubeconfig, request_log=self.request_log, ready_timeout=900)
        self.replay = replay.start()
        self.ready_s = time.perf_counter() - started
        self.serving = tuple(names)
        self._fresh = True
        return self.replay

    def stop(self) -> None:
        """Stop the replay server, if running."""
        if self.replay is not None:
            self.server_rss_mb = max(self.server_rss_mb, process_rss_mb(self.replay.pid))
            self.replay.stop()
            self.replay = None

    def measure(
        self, name: str, cmd: list[str], names: list[str], after: Callable[[], Outcomes] | None = None
    ) -> RunFigures:
        """Run ``cmd`` ``repeat`` times against a fresh server for ``names``; the fastest run's figures."""
        best: RunFigures | None = None
        walls: list[float] = []
        for attempt in range(self.repeat):
            replay = self.replay
            if replay is None or not self._fresh or self.serving != tuple(names):
                replay = self.start(names)
            self._fresh = False
            self.log.mark()
            load = os.getloadavg()[0]
            server_before = process_cpu_seconds(replay.pid)
            safe = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
            measured = run_measured(
                cmd, self.workdir / "logs" / f"{safe}-{attempt + 1}.log", cwd=REPO, env=_child_env()
            )
            server_cpu = process_cpu_seconds(replay.pid) - server_before
            self.server_rss_mb = max(self.server_rss_mb, process_rss_mb(replay.pid))
            figures = RunFigures(name, measured, server_cpu, self.log.since_mark(len(names)), len(names), load)
            if after is not None:
                figures.outcomes, figures.errors = after()
            walls.append(measured.wall_s)
            if best is None or measured.wall_s < best.measured.wall_s:
                best = figures
        assert best is not None
        best.walls = walls
        return best


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("KUBECONFIG", None)
    return env


def _read_outcomes(report_dir: Path) -> Outcomes:
    path = report_dir / "results.json"
    if not path.exists():
        return Counter(), ["no results.json"]
    doc = orjson.loads(path.read_bytes())
    outcomes = Counter(str(r["outcome"]) for r in doc["results"])
    errors = [f"{r['cluster']} {r['code']}: {r['message'][:160]}" for r in doc["results"] if r["outcome"] == "error"]
    return outcomes, errors


def _scan_cmd(fleet_file: Path, report_dir: Path, extra: list[str]) -> list[str]:
    """``fleetcheck run`` on ``fleet_file``, every built-in check, reports into ``report_dir``."""
    return [
        sys.executable,
        "-m",
        "fleetcheck.cli",
        "run",
        "--fleet",
        str(fleet_file),
        "--report-dir",
        str(report_dir),
        "--fail-on",
        "never",
        "-q",
        "-p",
        "no:randomly",
        "-p",
        "no:benchmark",
        *extra,
    ]


def _scan(bench: Bench, name: str, fleet_file: Path, names: list[str], extra: list[str]) -> RunFigures:
    report_dir = fleet_file.parent / ("reports" + ("-xdist" if "-n" in extra else ""))
    cmd = _scan_cmd(fleet_file, report_dir, extra)

    def outcomes() -> Outcomes:
        found = _read_outcomes(report_dir)
        shutil.rmtree(report_dir, ignore_errors=True)
        return found

    return bench.measure(name, cmd, names, after=outcomes)


@dataclass
class ShardRun:
    """N shards run at the same time, each against its own replay server (so each request names its shard)."""

    shards: int
    wall_s: float
    cpu_s: float
    #: the largest shard's peak RSS
    maxrss_mb: float
    requests: int
    bytes: int
    #: requests a shard sent to clusters outside its slice, per shard (1-based)
    outside: dict[int, Counter[str]]
    returncodes: list[int]
    errors: int
    load: float

    @property
    def outside_requests(self) -> int:
        """Requests any shard sent to a cluster it does not judge."""
        return sum(sum(c.values()) for c in self.outside.values())

    def line(self, scan: RunFigures) -> str:
        """The shards' figures against the unsharded scan's."""
        foreign = sorted({name for c in self.outside.values() for name in c})
        return (
            f"shards[{self.shards}] wall_s={self.wall_s:.2f} cpu_s={self.cpu_s:.2f} rss_mb={self.maxrss_mb:.0f} "
            f"requests={self.requests} requests_over_scan={self.requests / max(1, scan.requests.total):.3f} "
            f"mb_served={self.bytes / 2**20:.1f} bytes_over_scan={self.bytes / max(1, scan.requests.bytes):.3f} "
            f"outside_shard_requests={self.outside_requests} errors={self.errors} "
            f"rc={'/'.join(map(str, self.returncodes))} load1={self.load:.1f}"
            + (f" outside_clusters={','.join(foreign[:10])}" if foreign else "")
        )


def _shards(workdir: Path, fleet_dir: Path, names: list[str], spec: Any, shards: int, extra: list[str]) -> ShardRun:
    """``--shard K/N --facts DIR`` for K = 1..N at once, as the Indexed Job's pods run, with attributed requests.

    Each shard reads its clusters from its own replay server (every cluster
    served, its own kubeconfig and request log), started together so their
    clocks are rebased alike; a request to a cluster outside the shard's
    slice is then a line in that shard's log.
    """
    base = workdir / f"shards-{shards}"
    shutil.rmtree(base, ignore_errors=True)
    facts = base / "facts"
    dirs = [fleet_dir / name for name in names]
    servers = [
        ReplayProcess(dirs, base / f"kubeconfig-{k}", request_log=base / f"requests-{k}.jsonl", ready_timeout=900)
        for k in range(1, shards + 1)
    ]
    try:
        with ThreadPoolExecutor(max_workers=shards) as pool:  # started together: their "now" is rebased alike
            list(pool.map(ReplayProcess.start, servers))
        fleet_files = [
            write_fleet_file(base / f"run-{k}", fleet_dir, names, base / f"kubeconfig-{k}", spec)
            for k in range(1, shards + 1)
        ]
        load = os.getloadavg()[0]
        started = time.perf_counter()
        procs: list[tuple[subprocess.Popen[bytes], Any]] = []
        for k, fleet_file in enumerate(fleet_files, start=1):
            log = (workdir / "logs" / f"shard-{k}-of-{shards}.log").open("wb")
            cmd = _scan_cmd(
                fleet_file, base / f"reports-{k}", [*extra, "--shard", f"{k}/{shards}", "--facts", str(facts)]
            )
            proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=REPO, env=_child_env()
            )
            procs.append((proc, log))
        cpu, rss, codes = 0.0, 0.0, []
        for proc, log in procs:
            _pid, status, usage = os.wait4(proc.pid, 0)
            log.close()
            codes.append(os.waitstatus_to_exitcode(status))
            cpu += usage.ru_utime + usage.ru_stime
            rss = max(rss, usage.ru_maxrss / 1024.0)
        wall = time.perf_counter() - started
    finally:
        for server in servers:
            server.stop()
    requests = size = errors = 0
    outside: dict[int, Counter[str]] = {}
    for k in range(1, shards + 1):
        stats = RequestLogReader(base / f"requests-{k}.jsonl").since_mark(len(names))
        requests += stats.total
        size += stats.bytes
        mine = set(shard_slice(names, k, shards))
        outside[k] = Counter({c: n for c, n in stats.per_cluster.items() if c not in mine})
        errors += len(_read_outcomes(base / f"reports-{k}")[1])
    return ShardRun(shards, wall, cpu, rss, requests, size, outside, codes, errors, load)


def _floor(
    bench: Bench, plan: dict[str, list[str]], workers: int, page_size: int, gc_mode: str
) -> tuple[RunFigures, dict[str, Any]]:
    plan_file = bench.workdir / "floor-plan.json"
    plan_file.write_bytes(orjson.dumps(plan))
    out = bench.workdir / f"floor-result-{gc_mode}.json"
    out.unlink(missing_ok=True)
    cmd = [
        sys.executable,
        str(REPO / "bench" / "fetch_floor.py"),
        "--plan",
        str(plan_file),
        "--kubeconfig",
        str(bench.kubeconfig),
        "--workers",
        str(workers),
        "--page-size",
        str(page_size),
        "--gc",
        gc_mode,
        "--out",
        str(out),
    ]
    figures = bench.measure("floor" if gc_mode == "off" else "floor_gc_on", cmd, list(plan))
    result: dict[str, Any] = orjson.loads(out.read_bytes()) if out.exists() else {}
    return figures, result


def _find_kubectl(explicit: str | None) -> Path | None:
    if explicit:
        return Path(explicit)
    for candidate in _KUBECTL_CANDIDATES:
        if candidate.exists():
            return candidate
    return None


def _tier1(bench: Bench, kubectl: Path, served: dict[str, list[str]]) -> RunFigures:
    """``kubectl get KINDS -A -o json`` per cluster, serially, with a cold discovery cache (as the seed loop ran).

    Only the kinds the cluster serves (as the floor found them): kubectl
    refuses the whole command when one resource type is unknown.
    """
    cache = bench.workdir / "kubectl-cache"
    script = bench.workdir / "tier1.sh"
    lines = ["#!/bin/sh", "set -e", f"rm -rf '{cache}'"]
    for context, kinds in served.items():
        names = ",".join(parse_kind(kind).key for kind in kinds)
        lines.append(
            f"'{kubectl}' --kubeconfig '{bench.kubeconfig}' --context '{context}' --cache-dir '{cache}' "
            f"--request-timeout 300s get {names} -A -o json > /dev/null"
        )
    script.write_text("\n".join(lines) + "\n")
    try:
        return bench.measure("tier1", ["/bin/sh", str(script)], list(served))
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark fleetcheck at fleet scale (see the module docstring and docs/performance.md)."
    )
    parser.add_argument(
        "--clusters", type=int, default=100, help="fleet size: 10%% prod, 30%% dev, the rest edge (default 100)"
    )
    parser.add_argument("--prod", type=int, help="prod clusters (overrides the --clusters mix)")
    parser.add_argument("--dev", type=int, help="dev clusters (overrides the --clusters mix)")
    parser.add_argument("--edge", type=int, help="edge clusters (overrides the --clusters mix)")
    parser.add_argument("--canary", type=int, default=1, help="canaries the generator adds (default 1)")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "fleetcheck-bench",
        help="where generated fleets are cached and runs write (default: $TMPDIR/fleetcheck-bench)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="run each measurement N times, keep the fastest")
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="add this round trip to every API request (default 0: loopback; try 50 for a remote API server)",
    )
    defaults = RunOptions()
    parser.add_argument(
        "--floor-workers",
        type=int,
        default=defaults.prefetch_workers,
        help=f"the floor's thread pool, as the scan's --fetch-workers (default {defaults.prefetch_workers})",
    )
    parser.add_argument(
        "--page-size",
        type=int,
        default=defaults.page_size,
        help=f"the floor's page size; keep it equal to the scan's (default {defaults.page_size})",
    )
    parser.add_argument("--scan-arg", action="append", default=[], help="extra argument for every scan (repeatable)")
    parser.add_argument("--kubectl", help="kubectl for the Tier-1 loop (default: .ci/bin/kubectl, /tmp/kc/...)")
    parser.add_argument("--no-scaling", action="store_true", help="skip the quarter and half fleet scans")
    parser.add_argument("--no-xdist", action="store_true", help="skip the -n 2 scan")
    parser.add_argument("--no-tier1", action="store_true", help="skip the kubectl loop")
    parser.add_argument("--no-floor", action="store_true", help="skip the fetch floor (floor_s is then nan)")
    parser.add_argument(
        "--workers",
        type=int,
        action="append",
        help="xdist worker counts to scan with, each against serial (repeatable; default 2; keep <= the cores)",
    )
    parser.add_argument(
        "--shards",
        type=int,
        action="append",
        help="shard counts run at the same time with --facts (repeatable; default 2 and 4)",
    )
    parser.add_argument("--no-shards", action="store_true", help="skip the sharded scans")
    parser.add_argument(
        "--fleet-1000",
        action="store_true",
        help="also scan fleet-1000 (100 prod + 300 dev + 600 edge + 1 canary: ~3.2 GB of snapshots, ~6 GB replay)",
    )
    args = parser.parse_args(argv)
    for flag, values in (("--workers", args.workers), ("--shards", args.shards)):
        if values and any(v < 1 for v in values):
            parser.error(f"{flag}: counts must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Generate (or reuse) the fleet, serve it, run every measurement, print the figures."""
    args = _parse_args(argv)
    base = FleetMix.for_size(args.clusters)
    mix = FleetMix(
        args.prod if args.prod is not None else base.prod,
        args.dev if args.dev is not None else base.dev,
        args.edge if args.edge is not None else base.edge,
        args.canary,
    )
    workdir: Path = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    say(
        f"machine cores={os.cpu_count()} mem_gb={os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} "
        f"python={platform.python_version()} platform={platform.platform()} load1={os.getloadavg()[0]:.1f}"
    )
    say(f"fleet {mix.label}: {mix.describe()} (the generator adds the canary that guards the prod tier)")
    started = time.perf_counter()
    fleet_dir, generated = ensure_fleet(workdir, mix)
    say(f"fleet_dir {fleet_dir} {'generated' if generated else 'cached'} in {time.perf_counter() - started:.1f}s")
    names = mix.names()
    fleet_bytes = sum(f.stat().st_size for name in names for f in (fleet_dir / name).iterdir())
    say(f"fleet_bytes mb={fleet_bytes / 2**20:.0f} mb_per_cluster={fleet_bytes / 2**20 / len(names):.1f}")

    whole = mix.prod + mix.dev + mix.edge
    wanted = {mix} if args.no_scaling else {mix.scaled(max(2, round(whole / 4))), mix.scaled(round(whole / 2)), mix}
    sizes = sorted(wanted, key=lambda m: m.total)
    runs_dir = workdir / "runs"
    request_log = workdir / "requests.jsonl"
    request_log.unlink(missing_ok=True)
    kubeconfig = workdir / "kubeconfig"
    bench = Bench(workdir, fleet_dir, kubeconfig, request_log, args.repeat, args.latency_ms)
    try:
        replay = bench.start(names)
        say(
            f"replay pid={replay.pid} ready_s={bench.ready_s:.1f} rss_mb={process_rss_mb(replay.pid):.0f} "
            f"(its own process, restarted before each run; start-up not measured) repeat={bench.repeat} "
            f"latency_ms={args.latency_ms:g}"
        )
        fleet_files = {
            m.total: write_fleet_file(runs_dir / m.label, fleet_dir, m.names(), kubeconfig, mix.spec()) for m in sizes
        }
        plan = kinds_for_profiles(fleet_files[mix.total])
        kinds = max(len(k) for k in plan.values())
        say(f"kinds_read distinct={kinds} (kinds the enabled checks read, per cluster; + discovery and /version)")

        floor: RunFigures | None = None
        floor_result: dict[str, Any] = {}
        if not args.no_floor:
            floor, floor_result = _floor(bench, plan, args.floor_workers, args.page_size, "off")
            say(
                floor.line()
                + f" fetch_s={floor_result.get('wall_s', 0.0):.2f} objects={floor_result.get('objects', 0)}"
                + f" workers={args.floor_workers} page_size={args.page_size} gc=off"
            )
            say("floor_" + floor.requests.line())
            floor_gc, _ = _floor(bench, plan, args.floor_workers, args.page_size, "on")
            say(floor_gc.line() + " (the same with the cyclic garbage collector on, as a plain script runs)")

        scans: dict[int, RunFigures] = {}
        scans[mix.total] = full = _scan(bench, f"scan[{mix.label}]", fleet_files[mix.total], names, args.scan_arg)
        say(full.line())
        say("scan_" + full.requests.line() + f" kinds={kinds}")
        for error in full.errors[:5]:
            say(f"  error {error}")
        for m in sizes:
            if m.total == mix.total:
                continue
            scans[m.total] = run = _scan(bench, f"scan[{m.label}]", fleet_files[m.total], m.names(), args.scan_arg)
            say(run.line() + f" ({m.describe()})")
        smallest = scans[min(scans)]
        for total, run in sorted(scans.items()):
            say(
                f"scaling clusters={total} wall_s={run.measured.wall_s:.2f} s_per_cluster={run.per_cluster_s:.3f} "
                f"cpu_s_per_cluster={run.measured.cpu_s / total:.3f}"
            )

        xdist_over: dict[int, float] = {}
        if not args.no_xdist:
            say(f"xdist workers=0 wall_s={full.measured.wall_s:.2f} over_serial=1.00 (serial)")
            for workers in sorted(set(args.workers or [2])):
                xdist_args = [*args.scan_arg, "-n", str(workers)]
                xdist = _scan(bench, f"scan[{mix.label} -n {workers}]", fleet_files[mix.total], names, xdist_args)
                xdist_over[workers] = xdist.measured.wall_s / full.measured.wall_s
                say(xdist.line() + f" vs_serial={xdist_over[workers]:.2f}")
                say(f"xdist{workers}_" + xdist.requests.line())
                say(f"xdist workers={workers} wall_s={xdist.measured.wall_s:.2f} over_serial={xdist_over[workers]:.2f}")

        tier1_s: float | None = None
        kubectl = None if args.no_tier1 else _find_kubectl(args.kubectl)
        if kubectl is not None:
            served = {name: info["served"] for name, info in floor_result.get("clusters", {}).items()}
            tier1 = _tier1(bench, kubectl, served)
            tier1_s = tier1.measured.wall_s
            say(tier1.line() + f" kubectl={kubectl}")
            say("tier1_" + tier1.requests.line())
        else:
            say("tier1 skipped (no kubectl: see docs/performance.md)" if not args.no_tier1 else "tier1 skipped")
    finally:
        bench.stop()
    say(f"replay_server peak_rss_mb={bench.server_rss_mb:.0f}")

    sharded: dict[int, ShardRun] = {}
    if not args.no_shards:
        for shards in sorted(set(args.shards or [2, 4])):
            sharded[shards] = _shards(workdir, fleet_dir, names, mix.spec(), shards, args.scan_arg)
            say(sharded[shards].line(full))

    big: RunFigures | None = None
    if args.fleet_1000:
        big_mix = FleetMix(100, 300, 600, args.canary)
        started = time.perf_counter()
        big_dir, generated = ensure_fleet(workdir, big_mix)
        say(f"fleet_dir {big_dir} {'generated' if generated else 'cached'} in {time.perf_counter() - started:.1f}s")
        big_names = big_mix.names()
        big_bench = Bench(
            workdir, big_dir, workdir / "kubeconfig-1000", workdir / "requests-1000.jsonl", args.repeat, args.latency_ms
        )
        try:
            big_file = write_fleet_file(
                runs_dir / big_mix.label, big_dir, big_names, big_bench.kubeconfig, big_mix.spec()
            )
            big = _scan(
                bench=big_bench,
                name=f"scan[{big_mix.label}]",
                fleet_file=big_file,
                names=big_names,
                extra=args.scan_arg,
            )
            say(big.line() + f" ({big_mix.describe()})")
        finally:
            big_bench.stop()

    scan_s = full.measured.wall_s
    floor_s = floor.measured.wall_s if floor is not None else float("nan")
    floor_cpu = floor.measured.cpu_s if floor is not None else float("nan")
    growth = full.per_cluster_s / smallest.per_cluster_s
    nan = float("nan")
    widest = sharded.get(max(sharded)) if sharded else None
    say(
        f"ratios scan_over_floor={scan_s / floor_s:.2f} "
        f"scan_over_floor_cpu={full.measured.cpu_s / floor_cpu:.2f} "
        + (f"tier1_over_scan={tier1_s / scan_s:.1f} " if tier1_s else "")
        + f"per_cluster_growth={growth:.2f} (fleet of {full.clusters} vs {smallest.clusters})"
    )
    say(
        f"summary clusters={mix.total} scan_s={scan_s:.1f} floor_s={floor_s:.1f} "
        f"scan_over_floor={scan_s / floor_s:.2f} "
        f"tier1_over_scan={(tier1_s / scan_s) if tier1_s else float('nan'):.1f} "
        f"rss_mb={full.measured.maxrss_mb:.0f} requests_per_cluster={full.requests.per(full.requests.total):.0f} "
        f"kinds={kinds} per_cluster_growth={growth:.2f} "
        f"shard_bytes_over_scan={widest.bytes / max(1, full.requests.bytes) if widest else nan:.2f} "
        f"outside_shard_requests={sum(r.outside_requests for r in sharded.values()) if sharded else 'nan'} "
        f"xdist2_over_serial={xdist_over.get(2, nan):.2f}"
    )
    if big is not None:
        say(
            f"summary1000 clusters={big.clusters} scan_s={big.measured.wall_s:.1f} rss_mb={big.measured.maxrss_mb:.0f} "
            f"rss_over_fleet100={big.measured.maxrss_mb / full.measured.maxrss_mb:.2f} "
            f"per_cluster_over_fleet100={big.per_cluster_s / full.per_cluster_s:.2f}"
        )
    failed = any(code not in (0, 1) for r in sharded.values() for code in r.returncodes)
    return 0 if full.measured.returncode in (0, 1) and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
