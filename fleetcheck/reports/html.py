"""``scorecard.html``: the fleet at a glance, then why each cluster lost points.

One self-contained file (inline CSS and a small inline script, no fetches),
so it can be attached to a ticket, published as a CI artifact or opened from
a laptop with no network. Jinja2 renders it with autoescape on; nothing from
a cluster is ever marked safe. A Content-Security-Policy allows only the
page's own script (by hash) and no network at all, so even an escaping bug
could neither run a script nor phone home.

Size is linear in results: the matrix is one row per cluster, each cluster's
details are rendered once inside a closed ``<details>``, and the long check
docs (what / why / references) are rendered once in the check reference and
linked from every failure, instead of repeated per cluster.

The template gets a prepared view (:class:`ScorecardView`), so it holds no
logic beyond loops and conditionals, and the numbers it shows are computed
once, here, from the scored document.
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from markupsafe import Markup

from fleetcheck.reports.doctext import to_html
from fleetcheck.reports.drift_view import drift_section
from fleetcheck.reports.escape import clean_text
from fleetcheck.reports.terminal import incomplete_line
from fleetcheck.reports.writing import atomic_write_bytes
from fleetcheck.results import SEVERITIES, CheckInfo, ClusterSummary, ResultRecord, ResultsDocument
from fleetcheck.scoring import (
    COVERAGE_CAP,
    COVERAGE_FLOOR,
    CRITICAL_CAP,
    GRADES,
    NO_GRADE,
    SEVERITY_WEIGHTS,
    FleetSummary,
    factor_order,
    fleet_summary,
    is_scored,
    score_document,
)

__all__ = ["ScorecardView", "build_view", "render_html", "write_html"]

TEMPLATES = Path(__file__).parent / "templates"
#: Label keys offered first for grouping, when the fleet uses them.
PREFERRED_GROUPS = ("env", "region", "tier", "owner")
MAX_GROUP_KEYS = 8
#: Affected clusters listed under one top fix (the count is always exact).
MAX_FIX_CLUSTERS = 100
TOP_FIXES = 10
#: A failure's objects beyond this many go behind a "show all" disclosure.
INLINE_OBJECTS = 5
#: At most this many objects per finding are listed; the rest are counted ("and N more", all in results.json),
#: so one finding of 1e6 objects costs kilobytes, not tens of megabytes.
MAX_OBJECTS = 100


@dataclass(frozen=True)
class Cell:
    """One factor of one cluster in the matrix and in the cluster's bars."""

    factor: str
    score: int | None
    grade: str | None
    coverage: int | None
    css: str
    title: str


@dataclass(frozen=True)
class Finding:
    """A non-pass record, ready to show."""

    code: str
    title: str
    severity: str
    factor: str
    message: str
    objects: list[str]
    #: objects of the record not listed (beyond :data:`MAX_OBJECTS`)
    objects_more: int
    fix: str
    waiver: list[tuple[str, str]]
    documented: bool


@dataclass(frozen=True)
class ClusterView:
    """Everything the template shows about one cluster."""

    name: str
    labels: list[tuple[str, str]]
    profile: str
    source: str
    server_version: str
    reachable: bool | None
    score: int | None
    grade: str | None
    grade_css: str
    coverage: int | None
    grade_caps: list[str]
    cells: list[Cell]
    failures: dict[str, int]
    failing: list[Finding]
    errors: list[Finding]
    waived: list[Finding]
    skipped: list[Finding]
    passed: list[str]
    group_values: list[str]
    search: str
    #: severity-weighted failures, for sorting the matrix
    weighted_failures: int
    #: some scored factor has undecided (errored) checks: the bars get a footnote
    partial_coverage: bool


@dataclass(frozen=True)
class FixView:
    """One entry of "top fixes across the fleet"."""

    rank: int
    code: str
    title: str
    severity: str
    factor: str
    clusters: list[str]
    more: int
    count: int
    share: int
    impact: int
    fix: str
    documented: bool


@dataclass(frozen=True)
class ScorecardView:
    """The template's whole input."""

    title: str
    profile: str
    started: str
    finished: str
    schema: str
    fleet: FleetSummary
    fleet_css: str
    factors: list[str]
    group_keys: list[str]
    clusters: list[ClusterView]
    fixes: list[FixView]
    gotchas: list[FixView]
    checks: list[CheckInfo]
    error_codes: list[tuple[str, str, int]]
    waivers: list[tuple[str, Finding]]
    severity_counts: list[tuple[str, int]]
    grade_counts: list[tuple[str, int, str]]
    outcome_counts: dict[str, int] = field(default_factory=dict)
    method_note: str = ""
    #: the run id every report of the set carries (:mod:`fleetcheck.reports.writing`)
    run_id: str = ""


def method_note() -> str:
    """The scoring rules in one paragraph, from the constants that implement them."""
    weights = ", ".join(f"{sev} {weight}" for sev, weight in SEVERITY_WEIGHTS.items())
    return (
        f"Scores weigh checks by severity ({weights}); skipped and waived checks do not count; "
        "errors lower coverage, never the score; a factor nothing decided shows no data. "
        f"A failed critical check caps a grade at {CRITICAL_CAP}; "
        f"coverage under {COVERAGE_FLOOR}% caps it at {COVERAGE_CAP}."
    )


def grade_css(grade: str | None) -> str:
    """CSS class for a grade's colour band."""
    return f"g-{grade.lower()}" if grade in GRADES and grade else "g-none"


def _text(value: object) -> str:
    """Strip control characters; escaping is autoescape's job, this keeps the page tidy."""
    return clean_text(value)


def _finding(record: ResultRecord, checks: dict[str, CheckInfo]) -> Finding:
    info = checks.get(record.code)
    return Finding(
        code=_text(record.code),
        title=_text(record.title or (info.title if info else "")),
        severity=record.severity,
        factor=_text(record.factor),
        message=_text(record.message).strip(),
        objects=[_text(o) for o in record.objects[:MAX_OBJECTS]],
        objects_more=max(0, len(record.objects) - MAX_OBJECTS),
        fix=_text(info.fix).strip() if info else "",
        waiver=[(_text(k), _text(v)) for k, v in sorted((record.waiver or {}).items())],
        documented=info is not None,
    )


def _by_severity(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (SEVERITIES.index(f.severity), f.code))


def _group_keys(clusters: list[ClusterSummary]) -> list[str]:
    usage = Counter(key for c in clusters for key in c.labels)
    preferred = [k for k in PREFERRED_GROUPS if k in usage]
    others = sorted((k for k in usage if k not in PREFERRED_GROUPS), key=lambda k: (-usage[k], k))
    return [*preferred, *others][:MAX_GROUP_KEYS]


def _cell(factor: str, cluster: ClusterSummary) -> Cell:
    fs = cluster.factors.get(factor)
    score = fs.score if fs else None
    coverage = fs.coverage if fs else None
    grade = fs.grade if fs else None
    if score is None:
        title = f"{factor}: no data (no check decided)"
    else:
        title = f"{factor}: {score}/100, grade {grade}"
        if coverage is not None and coverage < 100:
            title += f", {coverage}% of checks decided"
    return Cell(factor, score, grade, coverage, grade_css(grade if score is not None else None), title)


def _cluster_view(
    cluster: ClusterSummary,
    records: list[ResultRecord],
    checks: dict[str, CheckInfo],
    factors: list[str],
    group_keys: list[str],
) -> ClusterView:
    buckets: dict[str, list[Finding]] = defaultdict(list)
    passed = []
    for record in records:
        if record.outcome == "pass":
            passed.append(_text(record.code))
        else:
            buckets[record.outcome].append(_finding(record, checks))
    failures = {sev: sum(1 for f in buckets["fail"] if f.severity == sev) for sev in SEVERITIES}
    weights = {"critical": 10000, "high": 1000, "medium": 100, "low": 10, "info": 1}
    labels = [(_text(k), _text(v)) for k, v in sorted(cluster.labels.items())]
    cells = [_cell(f, cluster) for f in factors]
    group_values = [_text(cluster.profile)] + [_text(cluster.labels.get(k, "")) for k in group_keys]
    return ClusterView(
        name=_text(cluster.name),
        labels=labels,
        profile=_text(cluster.profile),
        source=_text(cluster.source),
        server_version=_text(cluster.server_version or ""),
        reachable=cluster.reachable,
        score=cluster.score,
        grade=cluster.grade,
        grade_css=grade_css(cluster.grade),
        coverage=cluster.coverage,
        grade_caps=[_text(c) for c in cluster.grade_caps],
        cells=cells,
        failures=failures,
        failing=_by_severity(buckets["fail"]),
        errors=_by_severity(buckets["error"]),
        waived=_by_severity(buckets["waived"]),
        skipped=sorted(buckets["skip"], key=lambda f: f.code),
        passed=sorted(passed),
        group_values=group_values,
        search=_text(" ".join([cluster.name, *(f"{k}={v}" for k, v in labels)])).lower(),
        weighted_failures=sum(weights[sev] * n for sev, n in failures.items()),
        partial_coverage=any(c.score is not None and (c.coverage or 0) < 100 for c in cells),
    )


def _fix_views(fleet: FleetSummary, checks: dict[str, CheckInfo], *, gotchas: bool) -> list[FixView]:
    source = fleet.gotchas if gotchas else fleet.top_fixes[:TOP_FIXES]
    views = []
    for rank, item in enumerate(source, start=1):
        info = checks.get(item.code)
        views.append(
            FixView(
                rank=rank,
                code=_text(item.code),
                title=_text(item.title),
                severity=item.severity,
                factor=_text(item.factor),
                clusters=[_text(c) for c in item.clusters[:MAX_FIX_CLUSTERS]],
                more=max(0, len(item.clusters) - MAX_FIX_CLUSTERS),
                count=len(item.clusters),
                share=item.share,
                impact=item.impact,
                fix=_text(info.fix).strip() if info else "",
                documented=info is not None,
            )
        )
    return views


def build_view(doc: ResultsDocument) -> ScorecardView:
    """Prepare everything the template shows from a (scored) document."""
    if not is_scored(doc):
        doc = score_document(doc)
    fleet = fleet_summary(doc)
    by_cluster: dict[str, list[ResultRecord]] = defaultdict(list)
    for record in doc.results:
        by_cluster[record.cluster].append(record)
    factors = factor_order(name for c in doc.clusters for name in c.factors)
    group_keys = _group_keys(doc.clusters)
    clusters = [
        _cluster_view(c, by_cluster.get(c.name, []), doc.checks, factors, group_keys)
        for c in sorted(doc.clusters, key=lambda c: c.name)
    ]
    error_clusters: dict[str, set[str]] = defaultdict(set)
    for record in doc.results:
        if record.outcome == "error":
            error_clusters[record.code].add(record.cluster)
    error_codes = [
        (_text(code), _text(doc.checks[code].title if code in doc.checks else ""), len(names))
        for code, names in sorted(error_clusters.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    ]
    waivers = [(c.name, f) for c in clusters for f in c.waived]
    grade_counts = [(g, fleet.grades.get(g, 0), grade_css(g if g != NO_GRADE else None)) for g in fleet.grades]
    return ScorecardView(
        title=f"fleetcheck scorecard: {_text(doc.profile)}",
        profile=_text(doc.profile),
        started=_text(doc.started),
        finished=_text(doc.finished or ""),
        schema=_text(doc.schema_),
        fleet=fleet,
        fleet_css=grade_css(fleet.grade),
        factors=factors,
        group_keys=[_text(k) for k in group_keys],
        clusters=clusters,
        fixes=_fix_views(fleet, doc.checks, gotchas=False),
        gotchas=_fix_views(fleet, doc.checks, gotchas=True),
        checks=[doc.checks[code] for code in sorted(doc.checks)],
        error_codes=error_codes,
        waivers=waivers,
        severity_counts=[(sev, fleet.failures.get(sev, 0)) for sev in SEVERITIES],
        grade_counts=grade_counts,
        outcome_counts=dict(fleet.outcomes),
        method_note=method_note(),
        run_id=_text(doc.run_id or ""),
    )


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["clean"] = _text
    env.filters["doc"] = to_html  # check docs: <p>, <code>, <em>, <a>, every text escaped (doctext)
    return env


_ENV = _environment()


def _script() -> tuple[Markup, str]:
    """The page's own script and its CSP hash, so no other inline script may run."""
    text = (TEMPLATES / "scorecard.js").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    # Markup: this is our shipped file, never data; it is hashed into the CSP as-is.
    return Markup(text), f"'sha256-{digest}'"


def render_html(doc: ResultsDocument) -> str:
    """The scorecard for ``doc`` (scored first if needed) as one HTML string."""
    script, script_hash = _script()
    style = (TEMPLATES / "scorecard.css").read_text(encoding="utf-8")
    return _ENV.get_template("scorecard.html.j2").render(
        view=build_view(doc),
        script=script,
        script_hash=script_hash,
        style=Markup(style),
        incomplete=incomplete_line(doc),  # autoescaped: the reason is plain text
        drift=drift_section(doc),  # the drift view (H11): _drift.html.j2, None when the run has no drift
    )


def write_html(doc: ResultsDocument, path: Path) -> Path:
    """Write :func:`render_html` to ``path`` atomically and return it."""
    return atomic_write_bytes(Path(path), render_html(doc).encode("utf-8"))
