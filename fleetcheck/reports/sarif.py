"""``fleetcheck.sarif``: the run as SARIF 2.1.0, for GitHub code scanning and other SARIF readers.

Kubescape, kube-score and kube-linter upload SARIF; this puts fleetcheck's
findings in the same place. The mapping:

* one **rule** per check code (``FC-DNS-002``, stable public API), with the
  title as short description, the check docs as help (plain text and
  Markdown, rendered by :mod:`fleetcheck.reports.doctext`), the first
  reference as ``helpUri``, the factor and scope as tags, and
  ``properties.security-severity`` from the catalog severity (GitHub sorts
  and filters alerts by it);
* one **result** per finding, i.e. per failing object (a failure naming no
  object is one finding for the cluster): level from the record's severity,
  a message naming the cluster and the object, a logical location
  ``<cluster>/<object>``, a physical location at the check module (GitHub
  displays no result without one), and ``partialFingerprints`` from the
  baseline key (cluster + code + object, :mod:`fleetcheck.findings`), so an
  alert stays one alert across runs however its message changes;
* a **waived** failure is a result with an accepted external suppression
  carrying the waiver (reason, expiry, ticket), so it is visible but closed;
* an **error** (the check could not decide) is a tool execution
  notification, never a result: an undecided check is not an alert, and not
  a pass either; passes and skips are not results (an alert absent from a
  new analysis is closed, which is what a fixed finding should do).

Bounded: at most :data:`MAX_OBJECTS` results per record and
:data:`MAX_RESULTS` per file (GitHub's limit per run is 25,000); what is cut
is counted in a notification and in the run's properties.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import orjson

from fleetcheck.core.refs import more as and_more
from fleetcheck.core.version import __version__
from fleetcheck.reports.doctext import to_markdown, to_plain, urls
from fleetcheck.reports.escape import clean_text, one_line
from fleetcheck.results import CheckInfo, ResultRecord, ResultsDocument
from fleetcheck.scoring import is_scored, score_document

__all__ = [
    "FINGERPRINT_KEY",
    "LEVELS",
    "MAX_OBJECTS",
    "MAX_RESULTS",
    "SARIF_SCHEMA",
    "SECURITY_SEVERITY",
    "finding_fingerprint",
    "render_sarif",
]

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
#: The ``partialFingerprints`` key; bump the version if the fingerprint's input ever changes.
FINGERPRINT_KEY = "fleetcheckFinding/v1"
#: Severity -> SARIF level.
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
#: Severity -> GitHub's ``security-severity`` (critical > 9.0, high 7.0-8.9, medium 4.0-6.9, low 0.1-3.9).
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.0"}
MAX_OBJECTS = 100
MAX_RESULTS = 25_000


def finding_fingerprint(cluster: str, code: str, obj: str) -> str:
    """The finding's baseline key (cluster, code, object) as a stable hex digest."""
    return hashlib.sha256("\x1f".join((cluster, code, obj)).encode()).hexdigest()


def _file(info: CheckInfo | None) -> str:
    value = info.file if info else None
    return value if isinstance(value, str) else ""


def _help(info: CheckInfo) -> dict[str, str]:
    sections = (("What it checks", info.what), ("Why it matters", info.why), ("How to fix", info.fix))
    text = [f"{name}: {to_plain(body)}" for name, body in sections if body]
    markdown = [f"**{name}**\n\n{to_markdown(body)}" for name, body in sections if body]
    if info.references:
        text.append(f"References: {to_plain(info.references)}")
        markdown.append("**References**\n\n" + "\n".join(f"- <{url}>" for url in urls(info.references)))
    return {"text": "\n\n".join(text) or info.title, "markdown": "\n\n".join(markdown) or info.title}


def _rule(code: str, info: CheckInfo | None, record: ResultRecord | None) -> dict[str, Any]:
    severity = info.severity if info else (record.severity if record else "medium")
    title = clean_text(info.title if info else (record.title if record else "")) or code
    rule: dict[str, Any] = {
        "id": code,
        "shortDescription": {"text": title},
        "defaultConfiguration": {"level": LEVELS[severity]},
        "properties": {
            "tags": ["fleetcheck", info.factor if info else (record.factor if record else "")],
            "security-severity": SECURITY_SEVERITY[severity],
            "precision": "high",
            "factor": info.factor if info else (record.factor if record else ""),
            "scope": info.scope if info else (record.scope if record else "cluster"),
        },
    }
    if info is not None:
        if info.what:
            rule["fullDescription"] = {"text": to_plain(info.what)}
        rule["help"] = _help(info)
        links = urls(info.references)
        if links:
            rule["helpUri"] = links[0]
    return rule


def _location(cluster: str, obj: str, path: str) -> dict[str, Any]:
    location: dict[str, Any] = {
        "logicalLocations": [
            {
                "name": obj or cluster,
                "fullyQualifiedName": f"{cluster}/{obj}" if obj else cluster,
                "kind": "resource" if obj else "module",
            }
        ]
    }
    if path:
        location["physicalLocation"] = {"artifactLocation": {"uri": path}, "region": {"startLine": 1}}
    return location


def _findings(record: ResultRecord) -> Iterator[tuple[str, int]]:
    """(object, objects not listed) per result of a record: each listed object, or the cluster itself."""
    objects = [clean_text(o) for o in record.objects[:MAX_OBJECTS]]
    total = max(len(record.objects), record.objects_total or 0)
    if not objects:
        yield "", 0
        return
    for index, obj in enumerate(objects):
        yield obj, (total - len(objects) if index == len(objects) - 1 else 0)


def _result(record: ResultRecord, rule_index: int, obj: str, more: int, path: str) -> dict[str, Any]:
    cluster = clean_text(record.cluster)
    message = one_line(record.message) or "check failed"
    where = f"{cluster} {obj}" if obj else cluster
    text = f"{where}: {message}"
    if more:
        text += f" ({and_more(more)} objects not listed here; every listed object is in results.json)"
    result: dict[str, Any] = {
        "ruleId": record.code,
        "ruleIndex": rule_index,
        "kind": "fail",
        "level": LEVELS[record.severity],
        "message": {"text": text},
        "locations": [_location(cluster, obj, path)],
        "partialFingerprints": {FINGERPRINT_KEY: finding_fingerprint(record.cluster, record.code, obj)},
        "properties": {
            "cluster": cluster,
            "object": obj,
            "factor": record.factor,
            "severity": record.severity,
            "scope": record.scope,
        },
    }
    if record.outcome == "waived":
        waiver = {k: clean_text(v) for k, v in sorted((record.waiver or {}).items())}
        justification = "; ".join(f"{k}: {v}" for k, v in waiver.items() if v) or "waived in the profile"
        result["suppressions"] = [{"kind": "external", "status": "accepted", "justification": justification}]
        result["properties"]["waiver"] = waiver
    return result


def _notification(record: ResultRecord, rule_index: int) -> dict[str, Any]:
    cluster = clean_text(record.cluster)
    return {
        "level": "error",
        "message": {"text": f"{cluster}: {record.code} could not decide: {one_line(record.message) or 'error'}"},
        "associatedRule": {"id": record.code, "index": rule_index},
        "locations": [_location(cluster, "", "")],
    }


def sarif_document(doc: ResultsDocument) -> dict[str, Any]:
    """The SARIF log for ``doc`` (scored first if needed) as a JSON-ready dict."""
    if not is_scored(doc):
        doc = score_document(doc)
    codes = sorted(set(doc.checks) | {r.code for r in doc.results})
    first_record: dict[str, ResultRecord] = {}
    for record in doc.results:
        first_record.setdefault(record.code, record)
    rules = [_rule(code, doc.checks.get(code), first_record.get(code)) for code in codes]
    index = {code: i for i, code in enumerate(codes)}
    results: list[dict[str, Any]] = []
    notifications: list[dict[str, Any]] = []
    cut = 0
    for record in sorted(doc.results, key=lambda r: (r.cluster, r.code)):
        if record.outcome == "error":
            notifications.append(_notification(record, index[record.code]))
            continue
        if record.outcome not in ("fail", "waived"):
            continue
        path = _file(doc.checks.get(record.code))
        for obj, more in _findings(record):
            if len(results) >= MAX_RESULTS:
                cut += 1
                continue
            results.append(_result(record, index[record.code], obj, more, path))
    if cut:
        notifications.append(
            {
                "level": "warning",
                "message": {
                    "text": f"{cut} findings past the first {MAX_RESULTS} are not in this file: see results.json"
                },
            }
        )
    invocation: dict[str, Any] = {
        "executionSuccessful": doc.complete,
        "startTimeUtc": doc.started,
        "toolExecutionNotifications": notifications,
    }
    if doc.finished:
        invocation["endTimeUtc"] = doc.finished
    properties: dict[str, Any] = {"profile": doc.profile, "findings_not_listed": cut}
    run_id = doc.run_id
    if run_id:
        properties["run_id"] = str(run_id)
    properties["complete"] = doc.complete
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "fleetcheck",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": rules,
                    }
                },
                "automationDetails": {"id": "fleetcheck/"},
                "invocations": [invocation],
                "results": results,
                "properties": properties,
            }
        ],
    }


def render_sarif(doc: ResultsDocument) -> bytes:
    """``fleetcheck.sarif``: :func:`sarif_document` as indented UTF-8 JSON."""
    data: bytes = orjson.dumps(sarif_document(doc), option=orjson.OPT_INDENT_2)
    return data + b"\n"
