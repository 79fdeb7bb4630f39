"""``summary.md``: the run in GitHub-flavoured Markdown, for a PR comment or ``$GITHUB_STEP_SUMMARY``.

``cat reports/summary.md >> "$GITHUB_STEP_SUMMARY"`` (or posting it as a
comment) shows, in order: the fleet grade, a table of the clusters (grade,
score, coverage, failures, errors), then the failures by cluster, each with
its code, severity, message and a link to the check's first reference, the
worst clusters first.

Bounded: GitHub refuses a comment over 65,536 characters, so the file stops
at :data:`MAX_CHARS` (leaving room for the closing note) and says how many
failures it left out and where they all are. Every text from a cluster is
Markdown-escaped (:func:`fleetcheck.reports.doctext.markdown_text`), so a
label or message cannot turn into a link, an image or a table cell of its
own; messages are cut at :data:`MAX_MESSAGE` characters.
"""

from __future__ import annotations

from collections import defaultdict

from fleetcheck.reports.doctext import markdown_text, to_plain, urls
from fleetcheck.reports.escape import truncate
from fleetcheck.results import SEVERITIES, CheckInfo, ResultRecord, ResultsDocument
from fleetcheck.scoring import NO_GRADE, fleet_summary, is_scored, score_document

__all__ = ["GITHUB_COMMENT_LIMIT", "MAX_CHARS", "MAX_MESSAGE", "render_markdown"]

#: GitHub's limit on an issue or PR comment body, in characters.
GITHUB_COMMENT_LIMIT = 65_536
#: The file's budget: the limit less room for the note saying what was cut.
MAX_CHARS = GITHUB_COMMENT_LIMIT - 1_536
MAX_MESSAGE = 300
MAX_FIX = 200


def _cell(text: str, width: int) -> str:
    return markdown_text(truncate(" ".join(text.split()), width))


def _fix_link(code: str, info: CheckInfo | None) -> str:
    if info is None:
        return ""
    links = urls(info.references)
    fix = _cell(to_plain(info.fix), MAX_FIX) if info.fix else ""
    if links:
        return f"{fix} [docs]({links[0]})" if fix else f"[docs]({links[0]})"
    return fix


def _header(doc: ResultsDocument) -> list[str]:
    fleet = fleet_summary(doc)
    grade = fleet.grade or NO_GRADE
    score = f"{fleet.score}/100" if fleet.score is not None else "no data"
    outcomes = fleet.outcomes
    lines = [
        f"## fleetcheck: fleet grade {grade} ({score})",
        "",
        f"Profile {markdown_text(doc.profile)} · {len(doc.clusters)} clusters · "
        f"{outcomes.get('fail', 0)} failed · {outcomes.get('error', 0)} could not decide · "
        f"{outcomes.get('waived', 0)} waived · {outcomes.get('pass', 0)} passed · started {markdown_text(doc.started)}",
    ]
    if not doc.complete:
        decided = doc.decided
        planned = doc.planned
        of = f" of {planned}" if planned else ""
        reason = doc.incomplete_reason or "interrupted"
        lines += ["", f"> **Incomplete run** ({markdown_text(reason)}): only {decided}{of} cases were decided."]
    run_id = doc.run_id
    if run_id:
        # ours (time + hex), never data; only "-->" could end the comment early, and it cannot occur
        lines += ["", f"<!-- fleetcheck-run-id: {str(run_id).replace('-->', '')} -->"]
    return lines


def _cluster_table(doc: ResultsDocument, failed: dict[str, list[ResultRecord]], errors: dict[str, int]) -> list[str]:
    lines = [
        "",
        "| Cluster | Grade | Score | Coverage | Failed (critical/high/medium/low) | Could not decide |",
        "|---|:-:|--:|--:|--:|--:|",
    ]
    for cluster in sorted(doc.clusters, key=lambda c: (c.score if c.score is not None else -1, c.name)):
        by_sev = {sev: sum(1 for r in failed[cluster.name] if r.severity == sev) for sev in SEVERITIES}
        coverage = cluster.coverage
        lines.append(
            f"| {_cell(cluster.name, 120)} | {cluster.grade or NO_GRADE} | "
            f"{cluster.score if cluster.score is not None else 'no data'} | "
            f"{f'{coverage}%' if coverage is not None else 'n/a'} | "
            f"{len(failed[cluster.name])} ({by_sev['critical']}/{by_sev['high']}/{by_sev['medium']}/{by_sev['low']}) | "
            f"{errors.get(cluster.name, 0)} |"
        )
    return lines


def _failure_rows(records: list[ResultRecord], checks: dict[str, CheckInfo]) -> list[str]:
    rows = []
    for record in sorted(records, key=lambda r: (SEVERITIES.index(r.severity), r.code)):
        info = checks.get(record.code)
        title = (info.title if info else "") or record.title
        objects = f" ({len(record.objects)} objects)" if len(record.objects) > 1 else ""
        rows.append(
            f"| {record.severity} | `{record.code}` {_cell(title, 120)} | "
            f"{_cell(record.message, MAX_MESSAGE)}{objects} | {_fix_link(record.code, info)} |"
        )
    return rows


def render_markdown(doc: ResultsDocument) -> str:
    """``summary.md`` for ``doc`` (scored first if needed), at most :data:`GITHUB_COMMENT_LIMIT` characters."""
    if not is_scored(doc):
        doc = score_document(doc)
    failed: dict[str, list[ResultRecord]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    for record in doc.results:
        if record.outcome == "fail":
            failed[record.cluster].append(record)
        elif record.outcome == "error":
            errors[record.cluster] += 1
    lines = _header(doc) + _cluster_table(doc, failed, errors)
    total_failures = sum(len(v) for v in failed.values())
    if total_failures:
        lines += ["", "### Failures by cluster"]
    size = sum(len(line) + 1 for line in lines)
    shown = 0
    cut = False
    for cluster in sorted(doc.clusters, key=lambda c: (c.score if c.score is not None else -1, c.name)):
        records = failed.get(cluster.name)
        if not records:
            continue
        block = [
            "",
            f"#### {_cell(cluster.name, 120)}: grade {cluster.grade or NO_GRADE}, {len(records)} failed",
            "",
            "| Severity | Check | Finding | Fix |",
            "|---|---|---|---|",
        ]
        block_size = sum(len(line) + 1 for line in block)
        if size + block_size > MAX_CHARS:
            cut = True
            break
        lines += block
        size += block_size
        for row in _failure_rows(records, doc.checks):
            if size + len(row) + 1 > MAX_CHARS:
                cut = True
                break
            lines.append(row)
            size += len(row) + 1
            shown += 1
        if cut:
            break
    if cut:
        lines += [
            "",
            f"_Cut here: {shown} of {total_failures} failures shown, to stay under GitHub's "
            f"{GITHUB_COMMENT_LIMIT:,}-character comment limit; every finding is in results.json and scorecard.html._",
        ]
    text = "\n".join(lines) + "\n"
    return text[:GITHUB_COMMENT_LIMIT]
