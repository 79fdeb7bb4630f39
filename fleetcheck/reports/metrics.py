"""``metrics.prom``: the scored fleet in the Prometheus text exposition format.

Written as a file for the node-exporter textfile collector, or pushed to a
Pushgateway by scheduled scans, so trends and alerts ("a prod cluster fell
below B") live in the monitoring stack that already exists. Rendered by hand
(the format is small) so the runtime needs no Prometheus library; the tests
parse it back with ``prometheus_client``.

Cardinality stays bounded: failures are emitted only for failing checks,
no-data factors are omitted rather than exported as a fake value, and
waiver expiries are capped at :data:`MAX_WAIVERS` series. Beside scores and
grades: ``fleetcheck_build_info{version}``, the scan's duration, each
cluster's coverage, and each waiver's expiry (alert before it lapses).
"""

from __future__ import annotations

import base64
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time
from pathlib import Path

from fleetcheck.core.version import __version__
from fleetcheck.errors import ConfigError, FleetcheckError
from fleetcheck.reports.escape import clean_text
from fleetcheck.reports.writing import atomic_write_bytes
from fleetcheck.results import ResultsDocument
from fleetcheck.scoring import is_scored, score_document

__all__ = ["CONTENT_TYPE", "MetricsPushError", "push_metrics", "render_metrics", "write_metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: Waivers exported as expiry series (a profile with more is a profile problem, not a metrics one).
MAX_WAIVERS = 1000

Sample = tuple[Mapping[str, str], float | int]


class MetricsPushError(FleetcheckError):
    """The Pushgateway could not be reached or refused the metrics."""


def _label_value(value: str) -> str:
    """Escape a label value per the exposition format: backslash, double quote, newline."""
    return clean_text(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float | int) -> str:
    return str(value) if isinstance(value, int) else repr(float(value))


def _family(name: str, help_text: str, samples: Iterable[Sample]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
    for labels, value in samples:
        inner = ",".join(f'{key}="{_label_value(val)}"' for key, val in labels.items())
        lines.append(f"{name}{{{inner}}} {_number(value)}" if inner else f"{name} {_number(value)}")
    return lines


def _timestamp(started: str) -> float | None:
    try:
        moment = datetime.fromisoformat(started)
    except ValueError:
        return None
    # the contract writes UTC ("...Z"); a naive time is read as UTC, not the runner's zone
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _waiver_expiries(doc: ResultsDocument) -> list[Sample]:
    """One sample per waiver the run reports (``results.json`` ``waivers``); bounded by the profiles' waivers."""
    samples: list[Sample] = []
    for waiver in doc.waivers[:MAX_WAIVERS]:
        try:
            day = date.fromisoformat(waiver.expires)
        except ValueError:
            continue
        expires = datetime.combine(day, time(23, 59, 59), tzinfo=UTC).timestamp()
        labels = {"profile": waiver.profile, "code": waiver.code, "clusters": waiver.clusters, "status": waiver.status}
        samples.append((labels, expires))
    return samples


def render_metrics(doc: ResultsDocument) -> str:
    """The exposition text for ``doc`` (scored first if needed)."""
    if not is_scored(doc):
        doc = score_document(doc)
    scores: list[Sample] = []
    grades: list[Sample] = []
    up: list[Sample] = []
    coverages: list[Sample] = []
    errors: Counter[str] = Counter()
    failures: Counter[tuple[str, str, str]] = Counter()
    for record in doc.results:
        if record.outcome == "fail":
            # findings, as the baseline counts them: each failing object, or 1 for a failure naming none
            found = max(len(record.objects), record.objects_total or 0, 1)
            failures[(record.cluster, record.code, record.severity)] += found
        elif record.outcome == "error":
            errors[record.cluster] += 1
    for cluster in doc.clusters:
        if cluster.score is not None:
            scores.append(({"cluster": cluster.name, "factor": "overall"}, cluster.score))
        for factor, factor_score in cluster.factors.items():
            if factor_score.score is not None:
                scores.append(({"cluster": cluster.name, "factor": factor}, factor_score.score))
        if cluster.grade is not None:
            grades.append(({"cluster": cluster.name, "grade": cluster.grade}, 1))
        up.append(({"cluster": cluster.name}, 0 if cluster.reachable is False else 1))
        coverage = cluster.coverage
        if isinstance(coverage, int | float):
            coverages.append(({"cluster": cluster.name}, round(coverage / 100, 4)))
    lines = [
        *_family(
            "fleetcheck_run_complete",
            "1 when the run decided every case, 0 when it was interrupted or cut short.",
            [({}, 1 if doc.complete else 0)],
        ),
        *_family("fleetcheck_run_decided_cases", "Cases that reached a verdict in this run.", [({}, doc.decided)]),
        *_family(
            "fleetcheck_cluster_score",
            'Score 0-100 per cluster and 12-factor property; factor="overall" is the cluster score.',
            scores,
        ),
        *_family("fleetcheck_cluster_grade_info", "The cluster's grade A-F (value always 1).", grades),
        *_family(
            "fleetcheck_check_failures",
            "Findings of failed checks per cluster, code and severity: the failing objects "
            "(a failure naming no object counts 1); only failing checks have a series.",
            (
                ({"cluster": cluster, "code": code, "severity": severity}, count)
                for (cluster, code, severity), count in sorted(failures.items())
            ),
        ),
        *_family(
            "fleetcheck_check_errors",
            "Checks that could not be decided (unreachable, forbidden, timeout) per cluster.",
            (({"cluster": c.name}, errors.get(c.name, 0)) for c in doc.clusters),
        ),
        *_family("fleetcheck_cluster_up", "0 when the cluster could not be reached during the scan.", up),
        *_family(
            "fleetcheck_cluster_coverage_ratio",
            "Share (0-1) of the cluster's applicable checks that were decided (errors lower it).",
            coverages,
        ),
        *_family(
            "fleetcheck_build_info",
            "The fleetcheck version that wrote these metrics (value always 1).",
            [({"version": __version__}, 1)],
        ),
    ]
    expiries = _waiver_expiries(doc)
    if expiries:
        lines += _family(
            "fleetcheck_waiver_expiry_timestamp_seconds",
            "When each waiver of the profiles in use expires (end of its expiry day, UTC), Unix time; "
            "status is active, expired or stale (matched nothing).",
            expiries,
        )
    run_id = doc.run_id
    if run_id:  # one series, not a label on every metric: the id changes every run
        lines += _family(
            "fleetcheck_run_info", "The run these metrics come from (value always 1).", [({"run_id": str(run_id)}, 1)]
        )
    timestamp = _timestamp(doc.started)
    if timestamp is not None:
        lines += _family("fleetcheck_scan_timestamp_seconds", "When the scan started, Unix time.", [({}, timestamp)])
    finished = _timestamp(doc.finished) if doc.finished else None
    if timestamp is not None and finished is not None and finished >= timestamp:
        lines += _family(
            "fleetcheck_scan_duration_seconds", "Wall time of the scan, start to finish.", [({}, finished - timestamp)]
        )
    return "\n".join(lines) + "\n"


def write_metrics(doc: ResultsDocument, path: Path) -> Path:
    """Write :func:`render_metrics` to ``path`` atomically and return it."""
    return atomic_write_bytes(Path(path), render_metrics(doc).encode("utf-8"))


def _path_segment(name: str, value: str) -> str:
    """A Pushgateway grouping-key path segment; base64 form when the value has a slash or is empty."""
    if not value or "/" in value:
        encoded = base64.urlsafe_b64encode(value.encode()).decode() or "="
        return f"{name}@base64/{encoded}"
    return f"{name}/{urllib.parse.quote(value, safe='')}"


def push_metrics(
    doc: ResultsDocument,
    url: str,
    job: str = "fleetcheck",
    *,
    grouping: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> None:
    """PUT the metrics to a Pushgateway at ``url``, replacing the group ``job`` (+ ``grouping``).

    PUT, not POST, so clusters that left the fleet disappear from the group
    instead of lingering with their last score.
    """
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(url, "pushgateway", "not an http(s) URL", "use e.g. http://pushgateway:9091")
    segments = [_path_segment("job", job)]
    segments += [_path_segment(key, value) for key, value in sorted((grouping or {}).items())]
    target = url.rstrip("/") + "/metrics/" + "/".join(segments)
    request = urllib.request.Request(
        target,
        data=render_metrics(doc).encode(),
        method="PUT",
        headers={"Content-Type": CONTENT_TYPE},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # scheme checked above: no file://
            response.read()
    except urllib.error.HTTPError as exc:
        exc.close()
        raise MetricsPushError(f"pushgateway {target}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise MetricsPushError(f"pushgateway {target}: {reason}") from exc
