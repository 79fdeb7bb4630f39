"""``summary.md``: the fleet grade table and failures by cluster, escaped, and under GitHub's comment limit."""

from __future__ import annotations

from collections.abc import Callable

from fleetcheck.reports.markdown import GITHUB_COMMENT_LIMIT, render_markdown
from fleetcheck.results import ClusterSummary, ResultRecord, ResultsDocument


def test_grade_table_and_failures_by_cluster(scored: ResultsDocument) -> None:
    text = render_markdown(scored)
    assert text.startswith(f"## fleetcheck: fleet grade {scored.fleet.grade if scored.fleet else None} ")
    table = [line for line in text.splitlines() if line.startswith("| ") and "|---" not in line]
    for cluster in scored.clusters:
        row = next(line for line in table if line.startswith(f"| {cluster.name.replace('-', chr(92) + '-')} |"))
        assert f"| {cluster.grade} | {cluster.score} |" in row
    sections = [line for line in text.splitlines() if line.startswith("#### ")]
    failing = {r.cluster for r in scored.results if r.outcome == "fail"}
    assert len(sections) == len(failing)
    assert "`FC-OIDC-004`" in text and "[docs](https://example.invalid/runbooks/fc-oidc-004)" in text
    assert "Cut here" not in text


def test_cluster_text_cannot_become_markup(xss: str) -> None:
    doc = ResultsDocument(
        started="2026-11-24T10:00:00Z",
        clusters=[ClusterSummary(name="evil|cluster")],
        results=[
            ResultRecord(
                cluster="evil|cluster",
                code="FC-X-001",
                factor="boring",
                severity="high",
                outcome="fail",
                message=f"![img](https://a.invalid/x.png) [link](https://a.invalid) {xss} | cell\nnew row",
            )
        ],
    )
    text = render_markdown(doc)
    assert "![img](" not in text and "[link](" not in text and "<script>" not in text
    assert "\\!\\[img\\]" in text and "\\<script\\>" in text
    row = next(line for line in text.splitlines() if "FC-X-001" in line and "img" in line)
    assert row.count(" | ") == 3, "the message stays in its cell"


def test_incomplete_runs_say_so(scored: ResultsDocument) -> None:
    doc = scored.model_copy(update={"complete": False, "decided": 78, "planned": 213})
    assert "**Incomplete run**" in render_markdown(doc) and "78 of 213" in render_markdown(doc)
    assert "Incomplete" not in render_markdown(scored)


def test_bounded_under_the_github_comment_limit(
    make_doc: Callable[..., ResultsDocument], fleet_of: Callable[[int], list[tuple[str, dict[str, str]]]]
) -> None:
    doc = make_doc(fleet_of(400))
    text = render_markdown(doc)
    assert len(text) <= GITHUB_COMMENT_LIMIT
    assert "Cut here:" in text and "65,536-character" in text
    shown = sum(1 for line in text.splitlines() if line.startswith("| ") and "`FC-" in line)
    total = sum(1 for r in doc.results if r.outcome == "fail")
    assert f"{shown} of {total} failures shown" in text
