"""Check docs written once, rendered as plain text, HTML and Markdown."""

from __future__ import annotations

import time

from fleetcheck.reports.doctext import MAX_DOC_CHARS, markdown_text, to_html, to_markdown, to_plain, urls

DOC = """rewrite every object (the
kube-storage-version-migrator, or ``kubectl get KIND -A -o json |
kubectl replace -f -``), then drop it. Counts toward *boring*.

See https://kubernetes.io/docs/tasks/ ;
https://example.invalid/a_b."""


def test_plain_reflows_and_drops_markup() -> None:
    assert to_plain(DOC) == (
        "rewrite every object (the kube-storage-version-migrator, or kubectl get KIND -A -o json | "
        "kubectl replace -f -), then drop it. Counts toward boring."
        "\n\nSee https://kubernetes.io/docs/tasks/ ; https://example.invalid/a_b."
    )
    wrapped = to_plain(DOC, width=40, indent="  ")
    assert all(len(line) <= 40 or " " not in line.strip() for line in wrapped.splitlines())
    assert all(line.startswith("  ") or not line for line in wrapped.splitlines())


def test_html_escapes_everything_it_does_not_mark_up() -> None:
    html = str(to_html("a <b>bold</b> ``<script>x</script>`` *em* http://h/?q=<x>&y\n\nsecond"))
    assert html == (
        "<p>a &lt;b&gt;bold&lt;/b&gt; <code>&lt;script&gt;x&lt;/script&gt;</code> <em>em</em> "
        '<a href="http://h/?q=" rel="noreferrer noopener">http://h/?q=</a>&lt;x&gt;&amp;y</p><p>second</p>'
    )
    assert "href" not in str(to_html("javascript:alert(1) ``javascript:x`` data:text/html,x"))


def test_markdown_keeps_code_and_escapes_text() -> None:
    md = to_markdown(DOC)
    assert "`kubectl get KIND -A -o json | kubectl replace -f -`" in md
    assert "*boring*" in md and "<https://kubernetes.io/docs/tasks/>" in md
    assert "\\(the kube\\-storage" in md
    assert to_markdown("``a`b``") == "``a`b``"
    assert markdown_text("[x](y) *z*") == "\\[x\\]\\(y\\) \\*z\\*"


def test_links_for_help_uris() -> None:
    assert urls(DOC) == ["https://kubernetes.io/docs/tasks/", "https://example.invalid/a_b"]


def test_hostile_docs_are_bounded_and_linear() -> None:
    hostile = ("``" + "`a" * 50_000) + ("*" * 50_000) + "\x1b[2J"
    start = time.monotonic()
    text = to_plain(hostile)
    assert time.monotonic() - start < 2.0
    assert len(text) <= MAX_DOC_CHARS + 20 and text.endswith("(cut)") and "\x1b" not in text
