"""Verdicts: from what a case did to the run's ``results.json``, as plain functions (no pytest session).

* :func:`record_from_outcome`: a case's outcome (passed, skipped, or the
  exception it raised) as a :class:`~fleetcheck.results.ResultRecord`,
  redacted and bounded; :func:`severity_for`: severity is the profile's.
* :func:`apply_waivers` and :func:`waiver_report`: accepted risk, and which
  waivers are active, expired or stale.
* :func:`build_document`: the run's document from records, fleet entries,
  catalog, times, completeness, shard, facts and drift.
* :func:`merge_documents`: ``fleetcheck merge`` of shard documents.

The pytest plugin (:mod:`fleetcheck.plugin`) only gathers the inputs.
"""

from __future__ import annotations

from fleetcheck.verdicts.document import (
    Completeness,
    RunFacts,
    build_document,
    catalog_entries,
    cluster_summary,
    completeness,
)
from fleetcheck.verdicts.merge import merge_documents, merge_waivers
from fleetcheck.verdicts.outcome import CaseOutcome, record_from_outcome, severity_for
from fleetcheck.verdicts.waivers import apply_waivers, waiver_report

__all__ = [
    "CaseOutcome",
    "Completeness",
    "RunFacts",
    "apply_waivers",
    "build_document",
    "catalog_entries",
    "cluster_summary",
    "completeness",
    "merge_documents",
    "merge_waivers",
    "record_from_outcome",
    "severity_for",
    "waiver_report",
]
