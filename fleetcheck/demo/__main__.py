"""``python -m fleetcheck.demo OUT_DIR [--fleet demo|bench] [--prod N --dev N --edge N --canary N]``.

Writes a fleet of snapshot folders and ``planted.json`` into OUT_DIR and
prints one line per cluster, then the total, so a benchmark script or a
person can see what was made and how long it took.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from fleetcheck.demo.generate import bench_fleet_spec, demo_fleet_spec, generate_fleet_report


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m fleetcheck.demo",
        description="Generate a deterministic demo fleet (kubectl-format snapshot folders with planted gotchas).",
    )
    parser.add_argument("out_dir", type=Path, help="folder to write the cluster folders and planted.json into")
    parser.add_argument("--fleet", choices=("demo", "bench"), default="demo", help="which fleet (default: demo)")
    parser.add_argument("--small", action="store_true", help="demo fleet with small prod clusters (fast tests)")
    for kind, default in (("prod", 10), ("dev", 30), ("edge", 60), ("canary", 1)):
        parser.add_argument(
            f"--{kind}",
            type=int,
            default=default,
            metavar="N",
            help=f"bench fleet: number of {kind} clusters (default {default})",
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the generator; returns the exit code."""
    args = _parser().parse_args(argv)
    if args.fleet == "bench":
        spec = bench_fleet_spec(prod=args.prod, dev=args.dev, edge=args.edge, canary=args.canary)
    else:
        spec = demo_fleet_spec(small=args.small)
    started = time.perf_counter()
    try:
        clusters = generate_fleet_report(args.out_dir, spec)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    for cluster in clusters:
        counts = cluster.counts
        print(
            f"{cluster.name:<16} {counts.get('nodes', 0):>5} nodes {counts.get('pods', 0):>6} pods "
            f"{counts.get('namespaces', 0):>4} namespaces {len(cluster.plants):>3} plants "
            f"{cluster.bytes_written / 1e6:>7.1f} MB  {cluster.path}"
        )
    total = sum(c.bytes_written for c in clusters)
    print(f"{len(clusters)} clusters, {total / 1e6:.1f} MB in {elapsed:.2f} s -> {args.out_dir / 'planted.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
