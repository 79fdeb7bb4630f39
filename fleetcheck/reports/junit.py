"""``junit.xml``: one test suite per cluster, so CI shows verdicts per cluster.

Built with junitparser, then re-serialized with the standard library so the
bytes do not depend on whether lxml is installed, and so the root element
keeps to the schema Jenkins (xunit plugin ``junit-10.xsd``) and GitLab
accept: that schema has no ``skipped`` attribute on ``<testsuites>``, which
junitparser would add. Every string is stripped of characters illegal in
XML 1.0 first (a NUL in an annotation must not make the file unreadable).
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

from junitparser import Error, Failure, JUnitXml, Skipped, TestCase, TestSuite

from fleetcheck.reports.escape import one_line, xml_text
from fleetcheck.reports.writing import atomic_write_bytes
from fleetcheck.results import ClusterSummary, ResultRecord, ResultsDocument
from fleetcheck.scoring import NO_GRADE, is_scored, score_document

__all__ = ["MAX_OBJECTS", "render_junit", "write_junit"]

#: Objects listed in one failure's text; the rest are counted (CI pages choke on megabyte test cases).
MAX_OBJECTS = 100


def _case(record: ResultRecord, doc: ResultsDocument) -> TestCase:
    info = doc.checks.get(record.code)
    title = record.title or (info.title if info else "")
    case = TestCase(
        name=xml_text(f"{record.code} {title}".strip()),
        classname=xml_text(f"fleetcheck.{record.factor}"),
        time=round(record.duration_s, 3),
    )
    message = xml_text(record.message)
    if record.outcome == "fail":
        body = [message]
        if record.objects:
            listed = "\n".join(f"  - {xml_text(o)}" for o in record.objects[:MAX_OBJECTS])
            more = len(record.objects) - MAX_OBJECTS
            body.append(
                "objects:\n"
                + listed
                + (f"\n  ... and {more} more (every object is in results.json)" if more > 0 else "")
            )
        if info and info.fix:
            body.append("fix: " + xml_text(info.fix))
        result: Failure | Error | Skipped = Failure(one_line(message), record.severity)
        result.text = "\n\n".join(part for part in body if part)
    elif record.outcome == "error":
        result = Error(one_line(message), "error")
        result.text = message
    elif record.outcome == "skip":
        result = Skipped(one_line(message) or "not applicable")
    elif record.outcome == "waived":
        waiver = record.waiver or {}
        reason = waiver.get("reason") or record.message or "no reason given"
        result = Skipped(one_line(f"waived: {reason}"), "waived")
        details = [f"{key}: {xml_text(value)}" for key, value in sorted(waiver.items())]
        if record.message:
            details.append(f"finding: {message}")
        result.text = "\n".join(details)
    else:
        return case
    case.result = [result]
    return case


def _suite(doc: ResultsDocument, cluster: ClusterSummary, records: list[ResultRecord]) -> TestSuite:
    suite = TestSuite(xml_text(cluster.name))
    suite.timestamp = xml_text(doc.started)
    properties = {f"label.{key}": value for key, value in sorted(cluster.labels.items())}
    properties["profile"] = cluster.profile
    properties["score"] = NO_GRADE if cluster.score is None else str(cluster.score)
    properties["grade"] = cluster.grade or NO_GRADE
    coverage = (cluster.model_extra or {}).get("coverage")
    if coverage is not None:
        properties["coverage"] = str(coverage)
    if cluster.server_version:
        properties["server_version"] = cluster.server_version
    if cluster.reachable is not None:
        properties["reachable"] = str(cluster.reachable).lower()
    run_id = getattr(doc, "run_id", None)
    if run_id:  # on every suite (the root has no properties in the schema CI tools accept): ties the set together
        properties["run_id"] = str(run_id)
    for name, value in properties.items():
        suite.add_property(xml_text(name), xml_text(value))
    # by code, not run order, so two runs of the same fleet diff cleanly
    suite.add_testcases([_case(r, doc) for r in sorted(records, key=lambda r: r.code)])
    return suite


def render_junit(doc: ResultsDocument) -> bytes:
    """The JUnit XML for ``doc`` (scored first if needed), UTF-8 with a declaration."""
    if not is_scored(doc):
        doc = score_document(doc)
    xml = JUnitXml("fleetcheck")
    by_cluster: dict[str, list[ResultRecord]] = {c.name: [] for c in doc.clusters}
    for record in doc.results:
        by_cluster.setdefault(record.cluster, []).append(record)
    for cluster in doc.clusters:
        # append, not add_testsuite: the latter compares every suite with every other (quadratic)
        xml.append(_suite(doc, cluster, by_cluster[cluster.name]))  # type: ignore[no-untyped-call]  # unannotated upstream
    xml.update_statistics()  # type: ignore[no-untyped-call]  # unannotated upstream
    buffer = io.BytesIO()
    xml.write(buffer)
    root = ET.fromstring(buffer.getvalue())
    root.attrib.pop("skipped", None)
    ET.indent(root, space="  ")
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"


def write_junit(doc: ResultsDocument, path: Path) -> Path:
    """Write :func:`render_junit` to ``path`` atomically and return it."""
    return atomic_write_bytes(Path(path), render_junit(doc))
