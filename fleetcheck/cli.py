"""The ``fleetcheck`` command: run, demo, checks, explain, clusters, snapshot, replay, report.

Every subcommand validates its input before doing work and turns a
:class:`ConfigError` into one line on stderr and exit code 2; no input
error ever shows a traceback.

Exit codes of ``fleetcheck run``: 0 the gate passed, 1 the gate failed
(a finding at or above ``--fail-on``), 2 usage or configuration error,
3 the scan could not decide (errors on more than ``--max-errors`` of the
checks).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from fleetcheck.core.exit_codes import (
    EXIT_BROKEN_PIPE,
    EXIT_CODES_HELP,
    EXIT_CONFIG,
    EXIT_GATE_FAILED,
    EXIT_OK,
    EXIT_SIGINT,
    EXIT_SIGTERM,
    EXIT_UNDECIDED,
)
from fleetcheck.core.grades import GATE_GRADES
from fleetcheck.core.plugin_options import plugin_options_help
from fleetcheck.errors import ConfigError

if TYPE_CHECKING:
    from fleetcheck.results import ResultsDocument

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """argparse with fleetcheck's usage errors: one line and a hint, exit 2 (never a usage dump)."""

    def error(self, message: str) -> NoReturn:
        """Print ``fleetcheck: error: ...`` and where to read the usage, then exit 2."""
        self.exit(EXIT_CONFIG, f"fleetcheck: error: {message} (see '{self.prog} --help')\n")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"fleetcheck {version('fleetcheck')}"
    except PackageNotFoundError:  # a source tree that was never installed
        return "fleetcheck (not installed)"


def _add_format(parser: argparse.ArgumentParser, default: str = "text") -> None:
    parser.add_argument(
        "--format",
        choices=[default, "json"],
        default=default,
        help=f"{default} for people (default), json for scripts",
    )


def _add_fleet_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--fleet", metavar="FILE", help="fleet file (default: every context of $KUBECONFIG)")
    parser.add_argument(
        "--snapshot", action="append", default=[], metavar="DIR", help="scan snapshot folders as the fleet (repeatable)"
    )
    parser.add_argument("--profile", metavar="NAME|FILE", help="profile for every cluster (default: the fleet's)")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="fleetcheck",
        description="Fleet conformance and gotcha-linting for Kubernetes: checks across every cluster, "
        "12-factor scorecards.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser(
        "run",
        help="scan the fleet (pytest underneath; unknown args go to pytest)",
        description="Scan every cluster of the fleet and write reports. Arguments fleetcheck "
        "does not know are passed to pytest (e.g. -n auto, -k quota, -x); -q prints just the summary, "
        "-v adds pytest's line per case.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_format(run)
    _add_fleet_options(run)
    run.add_argument(
        "--cluster",
        action="append",
        default=[],
        metavar="GLOB",
        help="give verdicts only for matching clusters; fleet checks still compare with all",
    )
    run.add_argument("--report-dir", default="reports", metavar="DIR", help="where reports go (default: reports)")
    run.add_argument(
        "--checks", action="append", default=[], metavar="DIR", help="extra folder of check modules (repeatable)"
    )
    run.add_argument(
        "--fail-on",
        default="high",
        choices=["critical", "high", "medium", "low", "info", "never"],
        help="fail the gate on a finding at or above this severity (default: high)",
    )
    run.add_argument(
        "--max-errors",
        type=float,
        default=0.5,
        metavar="FRACTION",
        help="exit 3 when more than this share of decided checks errored (default: 0.5)",
    )
    run.add_argument("--min-grade", choices=GATE_GRADES, help="fail the gate when a cluster grades lower")
    run.add_argument(
        "--baseline", metavar="RESULTS_JSON", help="fail only on findings new or worse than in an earlier results.json"
    )
    run.add_argument("--shard", metavar="K/N", help="scan the K-th of N deterministic slices of the fleet")
    run.add_argument(
        "--facts",
        metavar="DIR",
        help="with --shard: publish this shard's facts into DIR, read the other shards' from it (shared by all)",
    )
    run.add_argument(
        "--facts-wait", type=float, metavar="S", help="seconds to wait for another shard's facts (default 600)"
    )
    declared = {option for action in run._actions for option in action.option_strings}
    run.description = (
        f"{run.description} It also hands on the plugin's own options: {plugin_options_help(declared)} "
        "(README, the table of 'fleetcheck run' and plain pytest)."
    )

    diff = sub.add_parser("diff", help="what changed between two runs: new, fixed, unchanged findings per cluster")
    diff.add_argument("old", metavar="OLD_RESULTS_JSON")
    diff.add_argument("new", metavar="NEW_RESULTS_JSON")
    _add_format(diff)

    merge = sub.add_parser("merge", help="join shards' results.json into one run and render its reports")
    merge.add_argument("results", nargs="+", metavar="RESULTS_JSON")
    merge.add_argument("--report-dir", default="reports", metavar="DIR")

    demo = sub.add_parser(
        "demo",
        help="generate the demo fleet, serve it over HTTPS, scan it end to end",
        epilog="exit codes: 0 every planted gotcha caught, 1 one was missed, 3 the scan produced no results, "
        f"{EXIT_SIGINT}/{EXIT_SIGTERM} interrupted (SIGINT/SIGTERM; the reports are marked incomplete)",
    )
    demo.add_argument(
        "--workdir",
        default=".fleetcheck-demo",
        metavar="DIR",
        help="where the generated snapshots and kubeconfig go (default: .fleetcheck-demo)",
    )
    demo.add_argument("--report-dir", default="reports", metavar="DIR", help="where reports go (default: reports)")
    demo.add_argument("--small", action="store_true", help="shrink the prod clusters (same gotchas, faster)")
    demo.add_argument(
        "--checks",
        action="append",
        default=[],
        metavar="DIR",
        help="also run your own check modules from this folder against the demo fleet (repeatable)",
    )

    checks = sub.add_parser("checks", help="list the check catalog")
    checks.add_argument("--format", choices=["table", "json"], default="table")
    checks.add_argument("--checks", action="append", default=[], metavar="DIR", help="extra folder of checks")

    explain = sub.add_parser("explain", help="show a check's docs: what, why, fix, references, settings")
    explain.add_argument("code", help="check code, e.g. FC-QUOTA-001")
    _add_format(explain)

    clusters = sub.add_parser("clusters", help="list the fleet: source, profile, reachability, version")
    _add_fleet_options(clusters)
    clusters.add_argument("--timeout", type=float, default=5.0, metavar="S", help="per-cluster probe timeout")
    _add_format(clusters, "table")
    clusters.add_argument(
        "--export-kubeconfig",
        metavar="PATH",
        help="also write a kubeconfig with one context per cluster, credentials included (mode 0600)",
    )
    clusters.add_argument(
        "--check-access",
        action="store_true",
        help="per cluster, list the kinds the enabled checks read that the credentials cannot list "
        "(one GET ?limit=1 per kind, nothing written); exit 1 when any cannot",
    )

    snapshot = sub.add_parser(
        "snapshot",
        help="write a snapshot folder of one live cluster (read-only, no Secrets)",
        description="List every kind the checks read and write it as kubectl output, with a cluster.yaml "
        "recording the kinds captured and those that could not be read (and why). Exit codes: 0 every kind "
        f"captured (or --allow-partial and at least one), {EXIT_UNDECIDED} the capture is incomplete (one line "
        f"per kind not read), {EXIT_CONFIG} usage or configuration error.",
    )
    snapshot.add_argument("--context", required=True, help="kubeconfig context to read")
    snapshot.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig (default: $KUBECONFIG)")
    snapshot.add_argument("-o", "--output", required=True, metavar="DIR", help="folder to write")
    snapshot.add_argument("--name", help="cluster name in cluster.yaml (default: the context)")
    snapshot.add_argument(
        "--allow-partial",
        action="store_true",
        help="accept a capture missing kinds that could not be read: exit 0, recorded as 'partial: true' "
        "(scanning it errors the checks that need the missing kinds)",
    )

    replay = sub.add_parser("replay", help="serve snapshot folders as read-only Kubernetes API servers", add_help=False)
    replay.add_argument("args", nargs=argparse.REMAINDER)

    report = sub.add_parser("report", help="re-render reports from a saved results.json")
    report.add_argument("results", metavar="RESULTS_JSON")
    report.add_argument("--report-dir", default="reports", metavar="DIR")
    from fleetcheck.cli_facts import add_facts_parser  # `fleetcheck facts` (H11): its own module

    add_facts_parser(sub)
    return parser


def _print_json(payload: object) -> None:
    """``payload`` as indented JSON on stdout (what ``--format json`` prints)."""
    import orjson

    sys.stdout.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2, default=str).decode() + "\n")


def _cmd_checks(args: argparse.Namespace) -> int:
    from fleetcheck.catalog import check_dirs, load_catalog

    catalog = load_catalog(check_dirs(args.checks))
    specs = catalog.sorted()
    if args.format == "json":
        import orjson

        payload = [s.info().model_dump() | {"reads": list(s.reads)} for s in specs]
        sys.stdout.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode() + "\n")
        return EXIT_OK
    from fleetcheck.reports.terminal import render_table, stdout_width

    rows = [(s.code, s.factor, s.severity, s.scope, s.title) for s in specs]
    print(render_table(("CODE", "FACTOR", "SEVERITY", "SCOPE", "TITLE"), rows, width=stdout_width()))
    print(f"\n{len(specs)} checks")
    return EXIT_OK


def _cmd_explain(args: argparse.Namespace) -> int:
    from fleetcheck.catalog import load_catalog

    catalog = load_catalog()
    try:
        spec = catalog.get(args.code)
    except KeyError:
        raise ConfigError(
            "explain", "CODE", f"unknown check code {args.code!r}", "list the codes with 'fleetcheck checks'"
        ) from None
    if args.format == "json":
        payload: dict[str, Any] = spec.info().model_dump() | {"reads": list(spec.reads)}
        if spec.settings_model is not None:
            defaults = spec.settings_model()
            payload["settings"] = {
                name: {"default": getattr(defaults, name), "description": field.description or ""}
                for name, field in spec.settings_model.model_fields.items()
            }
        _print_json(payload)
        return EXIT_OK
    from fleetcheck.reports.doctext import to_plain as render_doc  # docs markup as plain, reflowed text

    width = max(40, min(100, shutil.get_terminal_size((100, 24)).columns))
    print(f"{spec.code}  {spec.title}")
    print(f"factor: {spec.factor}   default severity: {spec.severity}   scope: {spec.scope}")
    if spec.reads:
        print(f"reads: {', '.join(spec.reads)}")
    for section in ("what", "why", "fix", "references"):
        print(f"\n{section.capitalize()}:\n" + render_doc(getattr(spec.docs, section), width=width, indent="  "))
    if spec.settings_model is not None:
        print("\nSettings (profile: settings: {" + spec.code + ": {...}}):")
        defaults = spec.settings_model()
        for name, field in spec.settings_model.model_fields.items():
            print(f"  {name} = {getattr(defaults, name)!r}  {field.description or ''}".rstrip())
    from fleetcheck.reference_data import tables_used_by

    for table in tables_used_by(spec.code):
        print(f"\nData: {table.citation()}")
        if table.notes:
            print(f"  {table.notes}")
        for line in table.summary_lines():
            print(f"  {line}")
    return EXIT_OK


def _validate_config(args: argparse.Namespace) -> None:
    """Load fleet, profiles and catalog up front, so bad input is one line and exit 2."""
    from fleetcheck.catalog import check_dirs, load_catalog
    from fleetcheck.runstate import RunOptions, RunState

    run = RunState(RunOptions(fleet_file=args.fleet, snapshots=tuple(args.snapshot), profile=args.profile))
    try:
        catalog = load_catalog(check_dirs(getattr(args, "checks", [])))
    except (ImportError, SyntaxError) as exc:  # a check module that does not import: one line, not a traceback
        raise ConfigError(
            "--checks",
            "import",
            f"a check module does not import: {type(exc).__name__}: {exc}",
            "fix the module, or leave its folder out",
        ) from None
    for entry in run.fleet.clusters:
        profile = run.profile_for(entry)
        for spec in catalog.checks.values():
            run.settings_for(spec, profile)
        for section, codes in (("severity", profile.severity), ("settings", profile.settings)):
            for code in codes:
                if "*" not in code and code not in catalog.checks:
                    raise ConfigError(
                        profile.source,
                        f"{section}.{code}",
                        f"unknown check code {code!r}",
                        "list the codes with 'fleetcheck checks'",
                    )


def _facts_args(args: argparse.Namespace) -> list[str]:
    """``--facts DIR`` / ``--facts-wait S`` handed on to the plugin (docs/operations.md, Sharding)."""
    out = ["--facts", args.facts] if args.facts else []
    return out + (["--facts-wait", str(args.facts_wait)] if args.facts_wait is not None else [])


def _cmd_run(args: argparse.Namespace, passthrough: list[str]) -> int:
    from fleetcheck.runner import run_scan

    _validate_config(args)
    return run_scan(
        fleet=args.fleet,
        snapshots=args.snapshot,
        profile=args.profile,
        clusters=args.cluster,
        report_dir=Path(args.report_dir),
        extra_checks=args.checks,
        fail_on=args.fail_on,
        max_errors=args.max_errors,
        pytest_args=[*passthrough, *_facts_args(args)],
        baseline=Path(args.baseline) if args.baseline else None,
        min_grade=args.min_grade,
        shard=args.shard,
        output_format=args.format,
    )


def _cmd_demo(args: argparse.Namespace) -> int:
    from fleetcheck.demorun import run_demo

    return run_demo(Path(args.workdir), Path(args.report_dir), small=args.small, extra_checks=tuple(args.checks))


def _cmd_clusters(args: argparse.Namespace) -> int:
    from fleetcheck.inventory import print_clusters

    export = Path(args.export_kubeconfig) if args.export_kubeconfig else None
    if args.format == "json" and (export or args.check_access):
        raise ConfigError(
            "clusters", "--format", "json lists the clusters only", "run --check-access / --export-kubeconfig apart"
        )
    return print_clusters(
        args.fleet,
        args.snapshot,
        args.profile,
        timeout=args.timeout,
        export_kubeconfig=export,
        check_access=args.check_access,
        output_format=args.format,
    )


def _cmd_snapshot(args: argparse.Namespace) -> int:
    from fleetcheck.catalog import load_catalog
    from fleetcheck.facts.dimensions import dimension_reads
    from fleetcheck.state.snapshot_writer import write_live_snapshot

    kubeconfig = [Path(p) for p in args.kubeconfig.split(":")] if args.kubeconfig else None
    # what the checks read and what the drift dimensions read: a scan of the snapshot sees what a live scan sees
    kinds = sorted({*load_catalog().kinds_read(), *dimension_reads()})
    capture = write_live_snapshot(
        args.context, Path(args.output), kinds, kubeconfig=kubeconfig, name=args.name, allow_partial=args.allow_partial
    )
    for kind, reason in sorted(capture.failed.items()):
        print(f"fleetcheck: not captured: {kind}: {reason}", file=sys.stderr)
    if capture.complete:
        print(f"snapshot written: {capture.folder} ({len(capture.captured)} kinds)")
        return EXIT_OK
    if not capture.captured:
        print(
            f"fleetcheck: error: nothing captured from context {args.context!r}: no kind could be read",
            file=sys.stderr,
        )
        return EXIT_UNDECIDED
    if args.allow_partial:
        print(
            f"partial snapshot written: {capture.folder} ({len(capture.captured)} kinds, "
            f"{len(capture.failed)} not captured; recorded in its cluster.yaml)"
        )
        return EXIT_OK
    print(
        f"fleetcheck: error: incomplete snapshot in {capture.folder}: {len(capture.failed)} kinds not captured "
        "(fix the access, or accept it with --allow-partial)",
        file=sys.stderr,
    )
    return EXIT_UNDECIDED


def _cmd_replay(args: argparse.Namespace) -> int:
    from fleetcheck.replay import main as replay_main

    return replay_main(list(args.args))


def _cmd_diff(args: argparse.Namespace) -> int:
    from fleetcheck.findings import diff_documents
    from fleetcheck.reports.json_report import read_results_json

    diff = diff_documents(read_results_json(Path(args.old)), read_results_json(Path(args.new)))
    clusters = sorted({f.cluster for f in diff.new + diff.worse + diff.fixed + diff.unchanged})
    if args.format == "json":
        import dataclasses

        groups = {"new": diff.new, "worse": diff.worse, "fixed": diff.fixed, "unchanged": diff.unchanged}
        _print_json(
            {label: [dataclasses.asdict(f) for f in group] for label, group in groups.items()}
            | {"blocking": len(diff.blocking)}
        )
        return EXIT_GATE_FAILED if diff.blocking else EXIT_OK
    for cluster in clusters:
        rows = [("new", diff.new), ("worse", diff.worse), ("fixed", diff.fixed), ("unchanged", diff.unchanged)]
        counts = ", ".join(f"{len([f for f in group if f.cluster == cluster])} {label}" for label, group in rows)
        print(f"{cluster}: {counts}")
        for label, group in rows[:3]:
            for finding in group:
                if finding.cluster == cluster:
                    print(f"  {label:<6} {finding.code} [{finding.severity}] {finding.object or '(cluster)'}")
    print(
        f"total: {len(diff.new)} new, {len(diff.worse)} worse, {len(diff.fixed)} fixed, {len(diff.unchanged)} unchanged"
    )
    return EXIT_GATE_FAILED if diff.blocking else EXIT_OK


def _cmd_merge(args: argparse.Namespace) -> int:
    from fleetcheck.reports.json_report import read_results_json
    from fleetcheck.verdicts import merge_documents

    paths = [Path(p) for p in args.results]
    merged = merge_documents([read_results_json(p) for p in paths], paths)
    return _write_and_list(merged, Path(args.report_dir))


def _cmd_report(args: argparse.Namespace) -> int:
    from fleetcheck.reports.json_report import read_results_json

    return _write_and_list(read_results_json(Path(args.results)), Path(args.report_dir))


def _write_and_list(doc: ResultsDocument, report_dir: Path) -> int:
    """Write every report of ``doc`` together and list them; an I/O failure is one line and exit 2."""
    from fleetcheck.reports import ReportWriteError, write_reports
    from fleetcheck.results import redacted_document

    try:
        paths = write_reports(redacted_document(doc), report_dir)
    except ReportWriteError as exc:
        print(exc.one_line(), file=sys.stderr)
        return EXIT_CONFIG
    for name, path in sorted(paths.items()):
        print(f"{name}: {path}")
    return EXIT_OK


def _cmd_facts(args: argparse.Namespace) -> int:
    from fleetcheck.cli_facts import cmd_facts

    return cmd_facts(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fleetcheck`` console script.

    A reader that stops early (``fleetcheck checks | head``) ends the
    command quietly with :data:`EXIT_BROKEN_PIPE`, no traceback.
    """
    try:
        return _main(argv)
    except BrokenPipeError:
        import os

        # the rest of the output has nowhere to go; point stdout at /dev/null so the final flush cannot fail again
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _main(argv: Sequence[str] | None) -> int:
    parser = _build_parser()
    raw = list(sys.argv[1:] if argv is None else argv)
    if raw[:1] == ["replay"]:
        args, passthrough = argparse.Namespace(command="replay", args=raw[1:]), list[str]()
    elif raw[:1] == ["run"]:
        args, passthrough = parser.parse_known_args(raw)
    else:
        args, passthrough = parser.parse_args(raw), list[str]()
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "checks": _cmd_checks,
        "explain": _cmd_explain,
        "demo": _cmd_demo,
        "clusters": _cmd_clusters,
        "snapshot": _cmd_snapshot,
        "replay": _cmd_replay,
        "report": _cmd_report,
        "diff": _cmd_diff,
        "merge": _cmd_merge,
        "facts": _cmd_facts,
    }
    try:
        if args.command in ("run", "demo"):
            from fleetcheck.runner import interrupt_on_signals

            with interrupt_on_signals():  # SIGTERM too unwinds through pytest, so the reports say "incomplete"
                return _cmd_run(args, passthrough) if args.command == "run" else _cmd_demo(args)
        return handlers[args.command](args)
    except ConfigError as exc:
        print(f"fleetcheck: error: {exc.one_line()}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt as exc:
        from fleetcheck.runner import exit_code_for

        print(f"fleetcheck: interrupted ({exc or 'SIGINT'})", file=sys.stderr)
        return exit_code_for(exc)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
