"""Policy reports per cluster: wgpolicyk8s.io/v1alpha2 ClusterPolicyReport, openreports.io/v1alpha1 ClusterReport.

Policy Reporter's multi-cluster UI, and the dashboards built on it, read
these two CRDs (Kyverno, Kubescape and fleetsweeper write them). fleetcheck
never writes to a cluster, so the reports are files, one per cluster and
format, that a pipeline may ``kubectl apply`` to wherever Policy Reporter
reads them: ``policyreports/<cluster>.yaml`` and ``openreports/<cluster>.yaml``.

The mapping, the same for both:

* ``policy`` = the check code, ``rule`` = its title, ``category`` = its
  factor, ``source`` = ``fleetcheck``, ``severity`` = the record's severity
  (the CRDs' enum has the same five values), ``scored: true``;
* ``result``: pass, fail, error and skip as they are; a **waived** failure
  is ``skip`` with the waiver (reason, expiry, ticket, status) and the
  finding in ``properties``, so it neither counts as a failure nor hides;
* ``resources``: the failing objects (``namespace/Kind/name`` parsed into
  object references), at most :data:`MAX_RESOURCES`, the rest counted in
  ``properties.objects_not_listed``;
* ``summary``: the count of each result; ``timestamp``: the scan's start;
* ``metadata.name`` = ``fleetcheck-<cluster>`` made a valid object name
  (with a hash suffix when that changed it); the real cluster name and the
  run id are annotations.

Every text passed from a cluster is already redacted in the record; here it
is also stripped of control characters. YAML is written by PyYAML's safe
dumper, so no value can turn into YAML structure.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import yaml

from fleetcheck.reports.escape import clean_text, one_line
from fleetcheck.results import CheckInfo, ClusterSummary, ResultRecord, ResultsDocument
from fleetcheck.scoring import is_scored, score_document

#: libyaml's safe dumper where PyYAML was built with it (the pure-Python one took 14 s of a fleet-100 scan)
_DUMPER: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

__all__ = [
    "FORMATS",
    "MAX_RESOURCES",
    "RESULTS",
    "cluster_reports",
    "object_name",
    "render_policy_reports",
]

#: Folder -> (apiVersion, kind): the two report CRDs written per cluster.
FORMATS: dict[str, tuple[str, str]] = {
    "policyreports": ("wgpolicyk8s.io/v1alpha2", "ClusterPolicyReport"),
    "openreports": ("openreports.io/v1alpha1", "ClusterReport"),
}
#: fleetcheck outcome -> the CRDs' result.
RESULTS = {"pass": "pass", "fail": "fail", "error": "error", "skip": "skip", "waived": "skip"}
MAX_RESOURCES = 100
_NAME_MAX = 253
_INVALID = re.compile(r"[^a-z0-9.-]+")
_KIND = re.compile(r"^[A-Z][A-Za-z0-9]{0,62}$")


def object_name(cluster: str, prefix: str = "fleetcheck-") -> str:
    """``<prefix><cluster>`` as a DNS-subdomain object name or file stem; a hash suffix when it had to change."""
    wanted = f"{prefix}{cluster}"
    # every dot-separated label must start and end with a letter or digit (DNS-1123), not only the whole name
    labels = (label.strip("-") for label in _INVALID.sub("-", wanted.lower()).split("."))
    name = ".".join(label for label in labels if label)
    if name == wanted and len(name) <= _NAME_MAX:
        return name
    digest = hashlib.sha256(cluster.encode()).hexdigest()[:8]
    stem = name[: _NAME_MAX - 9].rstrip("-.")
    return f"{stem}-{digest}" if stem else digest


def _timestamp(started: str) -> dict[str, int]:
    try:
        moment = datetime.fromisoformat(started)
    except ValueError:
        moment = datetime.fromtimestamp(0, UTC)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return {"seconds": int(moment.timestamp()), "nanos": moment.microsecond * 1000}


def _resource(ref: str) -> dict[str, str] | None:
    """``namespace/Kind/name`` or ``Kind/name`` as an object reference; None for anything else."""
    parts = ref.split("/")
    if len(parts) == 3 and all(parts) and _KIND.match(parts[1]):
        return {"kind": parts[1], "namespace": parts[0], "name": parts[2]}
    if len(parts) == 2 and all(parts) and _KIND.match(parts[0]):
        return {"kind": parts[0], "name": parts[1]}
    return None


def _result(record: ResultRecord, info: CheckInfo | None, timestamp: dict[str, int]) -> dict[str, Any]:
    title = clean_text((info.title if info else "") or record.title) or record.code
    message = one_line(record.message)
    properties: dict[str, str] = {"cluster": clean_text(record.cluster), "scope": record.scope}
    result: dict[str, Any] = {
        "policy": record.code,
        "rule": title,
        "category": record.factor,
        "severity": record.severity,
        "result": RESULTS[record.outcome],
        "scored": True,
        "source": "fleetcheck",
        "timestamp": dict(timestamp),  # a copy: one shared dict would be written as a YAML anchor
        "message": message or ("not applicable" if record.outcome == "skip" else title),
    }
    if record.outcome == "waived":
        for key, value in sorted((record.waiver or {}).items()):
            properties[f"waiver.{key}"] = clean_text(value)
        properties["waived"] = "true"
        if message:
            properties["finding"] = message
        result["message"] = one_line(f"waived: {(record.waiver or {}).get('reason') or message or 'no reason given'}")
    objects = [clean_text(o) for o in record.objects]
    total = max(len(objects), record.objects_total or 0)
    if objects:
        listed = objects[:MAX_RESOURCES]
        resources = [r for r in map(_resource, listed) if r is not None]
        if resources:
            result["resources"] = resources
        unparsed = [o for o in listed if _resource(o) is None]
        if unparsed:
            properties["objects"] = "; ".join(unparsed)
        if total > len(listed):
            properties["objects_not_listed"] = str(total - len(listed))
    result["properties"] = properties
    return result


def cluster_reports(doc: ResultsDocument, cluster: ClusterSummary, records: list[ResultRecord]) -> dict[str, Any]:
    """The body shared by both CRDs for one cluster (no apiVersion/kind)."""
    timestamp = _timestamp(doc.started)
    results = [_result(r, doc.checks.get(r.code), timestamp) for r in sorted(records, key=lambda r: r.code)]
    counts = Counter(r["result"] for r in results)
    annotations = {"fleetcheck.io/cluster": clean_text(cluster.name), "fleetcheck.io/started": clean_text(doc.started)}
    run_id = doc.run_id
    if run_id:
        annotations["fleetcheck.io/run-id"] = str(run_id)
    annotations["fleetcheck.io/complete"] = str(doc.complete).lower()
    return {
        "metadata": {
            "name": object_name(cluster.name),
            "labels": {"app.kubernetes.io/managed-by": "fleetcheck"},
            "annotations": annotations,
        },
        "summary": {key: counts.get(key, 0) for key in ("pass", "fail", "warn", "error", "skip")},
        "results": results,
    }


def render_policy_reports(doc: ResultsDocument) -> dict[str, bytes]:
    """``<folder>/<name>.yaml -> bytes`` for every cluster and both CRDs (scored first if needed)."""
    if not is_scored(doc):
        doc = score_document(doc)
    by_cluster: dict[str, list[ResultRecord]] = {c.name: [] for c in doc.clusters}
    for record in doc.results:
        by_cluster.setdefault(record.cluster, []).append(record)
    files: dict[str, bytes] = {}
    for cluster in doc.clusters:
        body = cluster_reports(doc, cluster, by_cluster[cluster.name])
        for folder, (api_version, kind) in FORMATS.items():
            report: dict[str, Any] = {"apiVersion": api_version, "kind": kind, **body}
            if folder == "openreports":
                report["source"] = "fleetcheck"
            text = yaml.dump(report, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=120)
            files[f"{folder}/{object_name(cluster.name, prefix='')}.yaml"] = text.encode("utf-8")
    return files
