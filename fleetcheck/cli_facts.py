"""``fleetcheck facts``: every cluster's drift dimensions side by side, per cohort, outliers marked.

It reads the fleet the way ``fleetcheck run`` does (a fleet file, the
kubeconfig's contexts, or ``--snapshot`` folders), lists only the kinds the
dimensions read (:func:`fleetcheck.facts.dimensions.dimension_reads`, each
kind once per cluster, concurrently), computes each fact once, and compares
by the one rule (:func:`fleetcheck.facts.drift.drift`). The terminal table
(``rich``) shows one table per cohort, dimensions by clusters: an outlier's
value is marked ``!``, an unknown one is ``?``, an unreadable one ``ERR``
(the reasons are listed under the table). ``--format json`` prints each
cluster's facts (the ``clusters[].facts`` of ``results.json``) and the
drift report.

Exit codes: 0 the table was made, 2 a configuration error, 3 no cluster
could be read at all.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import Any, TextIO

from fleetcheck.core.exit_codes import EXIT_OK, EXIT_UNDECIDED
from fleetcheck.core.refs import more
from fleetcheck.errors import ConfigError

__all__ = ["FACTS_SCHEMA", "add_facts_parser", "cmd_facts", "facts_payload"]

FACTS_SCHEMA = "fleetcheck/facts/v1"
#: clusters shown as columns of one cohort's table (the rest: --format json)
MAX_COLUMNS = 8
#: characters of a value shown in a cell
CELL_CHARS = 36
#: distinct (cluster, reason) ERR lines printed under a table
MAX_REASONS = 20


def add_facts_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``fleetcheck facts`` on the CLI's subparsers (``sub`` from ``add_subparsers``)."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "facts",
        help="show every cluster's drift dimensions side by side, per cohort, outliers marked",
        description="Read the drift dimensions of every cluster (provider, versions, CNI, DNS, OIDC, webhooks, "
        "storage, backups, telemetry, GitOps, RBAC ...) and compare them per cohort by the fleet rule.",
    )
    parser.add_argument("--fleet", metavar="FILE", help="fleet file (default: every context of $KUBECONFIG)")
    parser.add_argument(
        "--snapshot", action="append", default=[], metavar="DIR", help="read snapshot folders as the fleet (repeatable)"
    )
    parser.add_argument("--profile", metavar="NAME|FILE", help="profile for every cluster (default: the fleet's)")
    parser.add_argument("--reference-cluster", metavar="NAME", help="the cluster every cohort is compared with")
    parser.add_argument("--format", choices=["table", "json"], default="table")
    parser.add_argument("--fetch-workers", type=int, default=8, metavar="N", help="clusters read at once (default 8)")
    return parser


def _check_texts() -> Mapping[str, Any]:
    from fleetcheck.catalog import load_catalog

    return {code: spec.info() for code, spec in load_catalog().checks.items()}


def facts_payload(args: argparse.Namespace) -> tuple[dict[str, Any], Any, bool]:
    """(JSON payload, DriftReport, whether any cluster could be read) for the parsed ``args``."""
    from fleetcheck.facts.dimensions import dimension_reads, dimensions_for, facts_document, read_dimension
    from fleetcheck.facts.drift import drift
    from fleetcheck.runstate import RunOptions, RunState

    if args.fetch_workers < 1:
        raise ConfigError("--fetch-workers", "N", f"{args.fetch_workers} is not a positive number", "write e.g. 8")
    run = RunState(
        RunOptions(
            fleet_file=args.fleet,
            snapshots=tuple(args.snapshot),
            profile=args.profile,
            reference_cluster=args.reference_cluster,
            prefetch_workers=args.fetch_workers,
        )
    )
    try:
        run.selected()  # a bad --reference-cluster or profile reference_cluster: one line, exit 2
        names = run.fleet.names()
        kinds = dimension_reads({run.profile_for(e).name: run.profile_for(e) for e in run.fleet.clusters}.values())
        for future in [run.prefetch(name, kinds) for name in names]:
            future.result()
        fleet = run.fleet_view()
        report = drift(fleet, _check_texts())
        clusters = []
        any_read = False
        for view in fleet:
            readings = {d.name: read_dimension(view, d) for d in dimensions_for(view.profile)}
            any_read = any_read or any(r.error is None for r in readings.values())
            clusters.append(
                {
                    "name": view.name,
                    "profile": view.profile.name,
                    "cohort": fleet.cohort_label(view),
                    "facts": facts_document(view),
                    "unreadable": {name: r.error for name, r in readings.items() if r.error is not None},
                }
            )
        payload = {"schema": FACTS_SCHEMA, "clusters": clusters, "drift": report.to_json()}
        return payload, report, any_read
    finally:
        run.close()


def _cell(text: str) -> str:
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"


def print_table(payload: Mapping[str, Any], report: Any, out: TextIO) -> None:
    """One rich table per cohort: dimensions x clusters, outliers ``!``, unknown ``?``, unreadable ``ERR``."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from fleetcheck.facts.dimensions import show_value

    console = Console(file=out, width=max(120, 24 + 40 * MAX_COLUMNS // 2), highlight=False, soft_wrap=False)
    by_name = {c["name"]: c for c in payload["clusters"]}
    for cohort in report.cohorts:
        shown = list(cohort.cluster_names[:MAX_COLUMNS])
        drifted = len(cohort.drifted)
        table = Table(
            title=f"{cohort.cohort}: {cohort.clusters} cluster(s), {drifted} of {len(cohort.dimensions)} "
            "dimensions drift",
            title_justify="left",
            show_lines=False,
        )
        table.add_column("dimension", no_wrap=True)
        table.add_column("standard (set by)")
        for name in shown:
            table.add_column(name)
        table.add_column("judged by", no_wrap=True)
        for row in cohort.dimensions:
            outliers = {o.cluster for o in row.outliers}
            standard = f"{_cell(row.standard)} ({row.set_by})" if row.standard is not None else f"- ({row.set_by})"
            cells: list[Text] = []
            for name in shown:
                cluster = by_name.get(name, {})
                if row.name in cluster.get("unreadable", {}):
                    cells.append(Text("ERR", style="magenta"))
                    continue
                value = _json_shown(cluster.get("facts", {}).get(row.name), show_value)
                if value == "?":
                    cells.append(Text("?", style="dim"))
                elif name in outliers:
                    cells.append(Text(f"! {_cell(value)}", style="bold red"))
                else:
                    cells.append(Text(_cell(value)))
            judged = row.check or "informational"
            table.add_row(Text(row.name), Text(standard), *cells, Text(judged))
        console.print(table)
        if cohort.clusters > len(shown):
            console.print(f"  {more(cohort.clusters - len(shown))} clusters: see --format json")
        reasons: dict[tuple[str, str], list[str]] = {}
        for row in cohort.dimensions:
            for bad in row.unreadable:
                reasons.setdefault((bad.cluster, bad.value), []).append(row.name)
        for (cluster, reason), dims in list(reasons.items())[:MAX_REASONS]:
            console.print(Text(f"  ERR on {cluster} ({', '.join(dims)}): {reason}"))
        if len(reasons) > MAX_REASONS:
            console.print(f"  {more(len(reasons) - MAX_REASONS)} unreadable readings: see --format json")
        console.print("  ! differs from the standard   ? unknown (the data cannot show it)   ERR unreadable\n")


def _json_shown(value: Any, show_value: Any) -> str:
    """A ``clusters[].facts`` JSON value shown like the dimension's own value."""
    from fleetcheck.facts.dimensions import Digest

    if value is None:
        return "?"
    if isinstance(value, dict):
        return str(Digest.model_validate(value).show())
    if isinstance(value, list):
        return str(show_value(tuple(value)))
    return str(value)


def cmd_facts(args: argparse.Namespace) -> int:
    """Run ``fleetcheck facts`` (ConfigError propagates: the CLI prints it as one line, exit 2)."""
    payload, report, any_read = facts_payload(args)
    if args.format == "json":
        import orjson

        sys.stdout.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print_table(payload, report, sys.stdout)
    if not any_read:
        print("fleetcheck: error: no cluster could be read (see the ERR lines)", file=sys.stderr)
        return EXIT_UNDECIDED
    return EXIT_OK
