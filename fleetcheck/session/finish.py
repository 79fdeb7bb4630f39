"""The end of a session: the results document, its score, the reports, the push and the terminal summary.

:class:`SessionFinish` is a plugin object (one per pytest config). On the
controller (or the only process) its ``pytest_sessionfinish`` gathers the
inputs (the records, the catalog of the checks that gave a verdict, each
judged cluster's facts and the fleet's drift) and hands them to
:func:`fleetcheck.verdicts.build_document`, scores the document
(:mod:`fleetcheck.scoring`) and writes the reports (:mod:`fleetcheck.reports`);
``pytest_terminal_summary`` prints the findings, the fleet summary and where
the reports are. xdist workers do none of this: their records travel to the
controller on the reports.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from fleetcheck.errors import EXIT_CONFIG, ConfigError, FleetcheckError
from fleetcheck.session.cases import now, spec_of
from fleetcheck.session.records import RecordCollector
from fleetcheck.session.run import run_of

if TYPE_CHECKING:  # a session that collects no check imports none of these
    from fleetcheck.catalog import CheckSpec
    from fleetcheck.results import CheckInfo, ResultsDocument
    from fleetcheck.runstate import RunState
    from fleetcheck.verdicts import RunFacts

__all__ = ["SessionFinish", "check_locations", "facts_and_drift", "stopped"]

_log = logging.getLogger(__name__)


def stopped(interrupted: str | None, shouldfail: bool | str, shouldstop: bool | str) -> str | None:
    """Why the session stopped before deciding every case (a signal, ``-x`` / ``--maxfail``), or None."""
    if interrupted is None and (shouldfail or shouldstop):
        return f"stopped early: {shouldfail or shouldstop}"
    return interrupted


def check_locations(config: pytest.Config) -> list[Path]:
    """Where this run's checks live: the built-in folder and packs, and the paths pytest was given."""
    from fleetcheck.catalog import check_dirs

    found = check_dirs()
    base = Path(config.invocation_params.dir)
    for arg in config.args:
        path = base / str(arg).split("::", 1)[0]
        if path.exists() and path not in found:
            found.append(path)
    return found


def _catalog(config: pytest.Config, collected: Iterable[CheckSpec], codes: set[str]) -> dict[str, CheckInfo]:
    """The catalog entries of the checks that gave a verdict, the same serially and under xdist.

    Serially the collected items name them; an xdist controller collects
    nothing, so the codes its workers reported are looked up in the catalog
    of the run's check folders (declarations only, nothing runs).
    """
    specs = list(collected)
    if codes - {spec.code for spec in specs}:
        from fleetcheck.catalog import load_catalog

        try:
            specs += load_catalog(check_locations(config)).checks.values()
        except Exception as exc:  # the catalog is documentation: a module that will not import costs its docs only
            _log.warning("check catalog unavailable for %s: %s", sorted(codes), exc)
    from fleetcheck.verdicts import catalog_entries

    return catalog_entries(specs, codes)


def facts_and_drift(run: RunState, judged: Sequence[str], checks: Mapping[str, CheckInfo]) -> RunFacts:
    """Each judged cluster's ``facts`` and the fleet's ``drift``: the one place the document's facts come from.

    Read here, on the controller, from the run's views (the dimension
    kinds of clusters not listed yet are listed in the prefetch pool
    first). A cluster whose facts cannot be read gets nulls, never a value;
    a drift report that cannot be made is left out, with a warning.
    """
    from fleetcheck.facts.dimensions import dimension_names, dimension_reads, facts_document
    from fleetcheck.facts.drift import drift
    from fleetcheck.verdicts import RunFacts

    profiles = {p.name: p for p in (run.profile_for(entry) for entry in run.fleet.clusters)}
    if run.sharing is None:  # exchanging facts: peers' (and, on an xdist controller, all) facts are read, not listed
        for future in run.prefetch_peers(run.fleet.names(), dimension_reads(profiles.values())):
            future.exception()  # wait; a kind that failed is cached as its error, which its facts then show
    clusters: dict[str, Any] = {}
    for name in judged:
        try:
            clusters[name] = facts_document(run.view(name))
        except Exception:  # a cluster that cannot be opened, or a bug in one fact: unknown, never made up
            _log.warning("facts of cluster %s unreadable", name, exc_info=True)
            clusters[name] = dict.fromkeys(dimension_names())
    try:
        report: dict[str, Any] | None = drift(run.fleet_view(), checks).to_json()
    except Exception:  # the drift view is an addition: a failure costs it alone, never the verdicts
        _log.warning("fleet drift not computed", exc_info=True)
        report = None
    return RunFacts(clusters, report)


class SessionFinish:
    """The scored document of one session and where its reports went (see the module docstring)."""

    NAME = "fleetcheck-finish"

    def __init__(self, config: pytest.Config, records: RecordCollector) -> None:
        self.config = config
        self.records = records
        self.started = now()
        #: the scored document (None until the session finished with a verdict)
        self.doc: ResultsDocument | None = None
        #: report format (and ``pushgateway``) -> where it went, or why the push failed
        self.paths: dict[str, str] = {}
        self._items: list[pytest.Item] = []

    def collected(self, session: pytest.Session) -> None:
        """Keep the collected items: their checks are the catalog part of ``results.json``."""
        self._items = list(session.items)

    def _specs(self) -> list[CheckSpec]:
        """The checks collected in this process (none on an xdist controller: its workers collect)."""
        seen: dict[str, CheckSpec] = {}
        for item in self._items:
            spec = spec_of(getattr(item, "function", None))
            if spec is not None:
                seen[spec.code] = spec
        return list(seen.values())

    def document(self, session: pytest.Session) -> ResultsDocument | None:
        """The run's unscored ``results.json`` document, or None when no check ran."""
        records = self.records.records
        if not records:
            return None
        run = run_of(self.config)
        entries = run.fleet.clusters
        profiles = {entry.name: run.profile_for(entry) for entry in entries}
        judged = {r.cluster for r in records}
        checks = _catalog(self.config, self._specs(), {r.code for r in records})
        from fleetcheck.reports.writing import new_run_id
        from fleetcheck.verdicts import build_document, completeness, waiver_report

        return build_document(
            records=records,
            entries=entries,
            profile_names={name: profile.name for name, profile in profiles.items()},
            run_profile=run.default_profile_name,
            checks=checks,
            started=self.started,
            finished=now(),
            done=completeness(
                len(records),
                self.records.planned,
                stopped(self.records.interrupted, session.shouldfail, session.shouldstop),
            ),
            run_id=new_run_id(),
            shard=run.options.shard,
            waivers=waiver_report(profiles.values(), records, datetime.now(UTC).date()),
            facts=facts_and_drift(run, [e.name for e in entries if e.name in judged], checks),
        )

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Build, score and write the reports (on the controller only, never on xdist workers)."""
        config = self.config
        if hasattr(config, "workerinput"):
            return
        try:
            doc = self.document(session)
        except ConfigError:
            return
        if doc is None:
            return
        from fleetcheck.scoring import score_document

        self.doc = scored = score_document(doc)
        if not config.getoption("fleetcheck_no_reports"):
            from fleetcheck.reports import ReportWriteError, write_reports

            try:
                paths = write_reports(
                    scored, run_of(config).options.report_dir, formats=config.getoption("fleetcheck_report_formats")
                )
            except ReportWriteError as exc:
                # one line, no traceback, exit 2 (``fleetcheck run`` maps it to a usage/config error, never a verdict)
                sys.stderr.write(exc.one_line() + "\n")
                session.exitstatus = EXIT_CONFIG
                return
            self.paths = {k: str(v) for k, v in paths.items()}
        gateway = config.getoption("fleetcheck_pushgateway")
        if gateway:
            self._push(scored, gateway)

    def _push(self, doc: ResultsDocument, url: str) -> None:
        """Push the metrics; a push that fails is reported, and never changes the verdicts."""
        from fleetcheck.reports import push_metrics

        try:
            push_metrics(doc, url)
            self.paths["pushgateway"] = url
        except (FleetcheckError, OSError) as exc:
            self.paths["pushgateway"] = f"push to {url} failed: {exc}"

    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
        """The fleet summary table, then where the reports are."""
        doc = self.doc
        if doc is None:
            return
        from fleetcheck.reports.terminal import console_width, render_findings, render_summary

        color = terminalreporter.isatty and os.environ.get("NO_COLOR") is None
        writer = getattr(terminalreporter, "_tw", None)
        width = console_width(bool(terminalreporter.isatty), writer.fullwidth if writer is not None else None)
        # ``-qq`` (``fleetcheck run -q``): just the summary; with a traceback style pytest lists the failures itself
        if config.get_verbosity() >= -1 and config.option.tbstyle == "no":
            findings = render_findings(doc, color=color, width=width)
            if findings:
                terminalreporter.write_sep("=", "fleetcheck findings")
                terminalreporter.write_line(findings)
        terminalreporter.write_sep("=", "fleetcheck summary")
        terminalreporter.write_line(render_summary(doc, color=color, width=width))
        for waiver in doc.waivers:
            if waiver.status != "active":
                terminalreporter.write_line(
                    f"waiver {waiver.status}: {waiver.code} on {waiver.clusters} ({waiver.reason}, "
                    f"expires {waiver.expires}) in profile {waiver.profile}"
                )
        for name, path in sorted(self.paths.items()):
            terminalreporter.write_line(f"{name}: {path}")
