"""``junit.xml``: one test suite per cluster, one test per cluster and check.

CI tools key a test by classname + name and drop or merge duplicates
(GitLab keeps the first only), and their annotations show the case, never
the suite. So each case's classname is ``<cluster>.<factor>``
(``prod-eu-west.recoverable``), its name the check's stable
``<code> <title>``, its ``file`` the check module, and every failure's
message and text start with the cluster's name.

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

from fleetcheck.core.refs import more
from fleetcheck.reports.doctext import to_plain
from fleetcheck.reports.escape import one_line, xml_text
from fleetcheck.reports.writing import atomic_write_bytes
from fleetcheck.results import CheckInfo, ClusterSummary, ResultRecord, ResultsDocument
from fleetcheck.scoring import NO_GRADE, is_scored, score_document

__all__ = ["MAX_OBJECTS", "render_junit", "write_junit"]

#: Objects listed in one failure's text; the rest are counted (CI pages choke on megabyte test cases).
MAX_OBJECTS = 100


def _check_name(record: ResultRecord, info: CheckInfo | None) -> str:
    """``FC-DNS-002 Upstream resolvers differ from the fleet's``: the catalog's title first, so it is stable."""
    title = (info.title if info else "") or record.title
    return xml_text(f"{record.code} {title}".strip())


def _check_file(info: CheckInfo | None) -> str | None:
    """The check module's path, relative as CI tools resolve it (``checks/test_dns.py``), when the catalog knows it."""
    value = info.file if info else None
    return xml_text(value) if isinstance(value, str) and value else None


def _case(record: ResultRecord, doc: ResultsDocument) -> TestCase:
    info = doc.checks.get(record.code)
    case = TestCase(
        name=_check_name(record, info),
        # GitLab and the GitHub actions key a test by classname + name: the cluster makes each case one test
        classname=xml_text(f"{record.cluster}.{record.factor}"),
        time=round(record.duration_s, 3),
    )
    path = _check_file(info)
    if path:  # read by GitLab, EnricoMi's and mikepenz's actions for annotations; see test_junit.py on the XSD
        case._elem.set("file", path)  # junitparser has no accessor for it
    cluster = xml_text(record.cluster)
    message = xml_text(record.message)
    # a message attribute and text that name the cluster: annotations show only these, never the suite
    headline = f"{cluster}: {one_line(message)}" if message else cluster
    if record.outcome == "fail":
        body = [f"cluster: {cluster}", message]
        if record.objects:
            listed = "\n".join(f"  - {xml_text(o)}" for o in record.objects[:MAX_OBJECTS])
            hidden = len(record.objects) - MAX_OBJECTS
            body.append(
                "objects:\n"
                + listed
                + (f"\n  ... {more(hidden)} (every object is in results.json)" if hidden > 0 else "")
            )
        if info and info.fix:
            body.append("fix: " + xml_text(to_plain(info.fix)))
        result: Failure | Error | Skipped = Failure(headline, record.severity)
        result.text = "\n\n".join(part for part in body if part)
    elif record.outcome == "error":
        result = Error(headline, "error")
        result.text = f"cluster: {cluster}\n\n{message}"
    elif record.outcome == "skip":
        result = Skipped(one_line(message) or "not applicable")
    elif record.outcome == "waived":
        waiver = record.waiver or {}
        reason = waiver.get("reason") or record.message or "no reason given"
        result = Skipped(one_line(f"waived: {reason}"), "waived")
        details = [f"cluster: {cluster}"] + [f"{key}: {xml_text(value)}" for key, value in sorted(waiver.items())]
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
    coverage = cluster.coverage
    if coverage is not None:
        properties["coverage"] = str(coverage)
    if cluster.server_version:
        properties["server_version"] = cluster.server_version
    if cluster.reachable is not None:
        properties["reachable"] = str(cluster.reachable).lower()
    # an interrupted run says so in every suite: a CI tool must not read a partial run as the whole fleet
    properties["complete"] = str(doc.complete).lower()
    properties["decided"] = str(doc.decided)
    run_id = doc.run_id
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
