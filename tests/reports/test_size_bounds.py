"""Reports stay bounded when a finding names a million objects.

A cluster with 1e6 pods once made a 37 MB scorecard and a 33 MB junit.xml
(every object listed); now each finding lists :data:`MAX_OBJECTS` and counts
the rest, pointing at results.json, which keeps whatever the record holds.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from fleetcheck.reports.html import MAX_OBJECTS, render_html
from fleetcheck.reports.junit import MAX_OBJECTS as JUNIT_MAX_OBJECTS
from fleetcheck.reports.junit import render_junit
from fleetcheck.results import CheckInfo, ClusterSummary, ResultRecord, ResultsDocument

MILLION = 1_000_000


@pytest.fixture(scope="module")
def million() -> ResultsDocument:
    """One cluster, one failing check whose record lists 1e6 pods."""
    objects = [f"team-{k:07d}/Pod/api-{k:07d}" for k in range(MILLION)]
    return ResultsDocument(
        started="2026-11-24T10:00:00Z",
        clusters=[ClusterSummary(name="huge", labels={"env": "prod"})],
        results=[
            ResultRecord(
                cluster="huge",
                code="FC-IMG-001",
                factor="local-images",
                severity="high",
                outcome="fail",
                message=f"{MILLION} pods pull from docker.io",
                objects=objects,
            )
        ],
        checks={
            "FC-IMG-001": CheckInfo(
                code="FC-IMG-001", title="No images from docker.io", factor="local-images", severity="high"
            )
        },
    )


def test_scorecard_of_a_million_objects_stays_small(million: ResultsDocument) -> None:
    page = render_html(million)
    assert len(page.encode()) < 512 * 1024, len(page.encode())
    assert page.count("/Pod/api-") == MAX_OBJECTS
    assert f"{MILLION - 5} more objects" in page
    assert f"and {MILLION - MAX_OBJECTS} more (every object is in results.json)" in page


def test_junit_of_a_million_objects_stays_small(million: ResultsDocument) -> None:
    data = render_junit(million)
    assert len(data) < 256 * 1024, len(data)
    failure = ET.fromstring(data).find(".//failure")
    assert failure is not None and failure.text is not None
    assert failure.text.count("/Pod/api-") == JUNIT_MAX_OBJECTS
    assert f"and {MILLION - JUNIT_MAX_OBJECTS:,} more" in failure.text  # the one "and N more" (core.refs.more)


def test_a_short_object_list_is_shown_whole(million: ResultsDocument) -> None:
    few = million.model_copy(deep=True)
    few.results[0].objects = few.results[0].objects[:7]
    page = render_html(few)
    assert page.count("/Pod/api-") == 7 and "more (every object" not in page
