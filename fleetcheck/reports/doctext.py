"""Check docs, written once in docstrings, rendered for each place that shows them.

Check docstrings use a small reStructuredText-like markup: paragraphs
separated by blank lines, hard-wrapped at ~80 columns, ``double backticks``
around code and names, ``*emphasis*`` around a factor's name, and bare
``https://`` links. Shown verbatim, that markup leaks (491 raw backtick pairs
on the demo scorecard, fix texts broken mid-sentence). So every output reads
the docs through this module:

* :func:`to_plain` for the terminal, JUnit failure text, SARIF ``text`` and
  ``fleetcheck explain``: markup removed, each paragraph one reflowed line
  (or wrapped to a width);
* :func:`to_html` for the scorecard: ``<p>`` per paragraph, ``<code>``,
  ``<em>`` and ``<a>``, every piece of text escaped (docs may come from a
  third-party check pack, so they are data, never markup);
* :func:`to_markdown` for SARIF help and ``summary.md``.

The parse is one linear pass per paragraph with non-backtracking patterns,
so a hostile docstring costs time proportional to its length.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from typing import Literal

from markupsafe import Markup, escape

from fleetcheck.reports.escape import clean_text

__all__ = [
    "Span",
    "markdown_text",
    "paragraphs",
    "to_html",
    "to_markdown",
    "to_plain",
    "urls",
]

SpanKind = Literal["text", "code", "em", "link"]

#: Docs longer than this are cut (a check pack's docstring is not a book; the cut says so).
MAX_DOC_CHARS = 20_000

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_CODE = re.compile(r"``([^`]+(?:`[^`]+)*)``")
_EMPH = re.compile(r"(?<![\w*`])\*([^\s*](?:[^*]*[^\s*])?)\*(?![\w*])")
_URL = re.compile(r"https?://[^\s<>\"'`]*[^\s<>\"'`.,;:!?)\]]")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-!|~])")


@dataclass(frozen=True)
class Span:
    """A run of one kind within a paragraph."""

    kind: SpanKind
    text: str


def _inline(text: str) -> list[Span]:
    """Emphasis and links within text that holds no code span."""
    spans: list[Span] = []
    for piece_index, piece in enumerate(_EMPH.split(text)):
        if piece_index % 2:
            spans.append(Span("em", piece))
            continue
        position = 0
        for match in _URL.finditer(piece):
            if match.start() > position:
                spans.append(Span("text", piece[position : match.start()]))
            spans.append(Span("link", match.group(0)))
            position = match.end()
        if position < len(piece):
            spans.append(Span("text", piece[position:]))
    return spans


def _spans(paragraph: str) -> list[Span]:
    spans: list[Span] = []
    position = 0
    for match in _CODE.finditer(paragraph):
        spans += _inline(paragraph[position : match.start()])
        spans.append(Span("code", match.group(1).strip()))
        position = match.end()
    spans += _inline(paragraph[position:])
    return [s for s in spans if s.text]


def paragraphs(text: str) -> list[list[Span]]:
    """``text`` as paragraphs of spans; line breaks inside a paragraph become spaces (reflow)."""
    cleaned = clean_text(text or "")
    if len(cleaned) > MAX_DOC_CHARS:
        cleaned = cleaned[:MAX_DOC_CHARS] + " … (cut)"
    result = []
    for block in _PARAGRAPH_BREAK.split(cleaned.strip()):
        flowed = " ".join(block.split())
        if flowed:
            result.append(_spans(flowed))
    return result


def urls(text: str) -> list[str]:
    """The links of ``text``, in order (for SARIF's ``helpUri``)."""
    return [s.text for p in paragraphs(text) for s in p if s.kind == "link"]


def to_plain(text: str, width: int | None = None, indent: str = "") -> str:
    """Plain text: no markup, one line per paragraph (or wrapped to ``width``), paragraphs blank-line separated."""
    lines = []
    for paragraph in paragraphs(text):
        flowed = "".join(span.text for span in paragraph)
        if width:
            lines.append(
                textwrap.fill(
                    flowed,
                    width=width,
                    initial_indent=indent,
                    subsequent_indent=indent,
                    break_long_words=False,
                    break_on_hyphens=False,
                )
            )
        else:
            lines.append(indent + flowed)
    return "\n\n".join(lines)


def _html_span(span: Span) -> str:
    content = str(escape(span.text))
    if span.kind == "code":
        return f"<code>{content}</code>"
    if span.kind == "em":
        return f"<em>{content}</em>"
    if span.kind == "link":
        return f'<a href="{content}" rel="noreferrer noopener">{content}</a>'
    return content


def to_html(text: str) -> Markup:
    """``<p>`` per paragraph with ``<code>``, ``<em>`` and ``<a>``; all text escaped."""
    # Markup: every piece of text passed through escape() in _html_span; the tags are ours.
    return Markup("".join("<p>" + "".join(_html_span(s) for s in p) + "</p>" for p in paragraphs(text)))


def _markdown_escape(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def markdown_text(text: str) -> str:
    """``text`` (cleaned, one line) with Markdown's special characters escaped, so data never becomes markup."""
    return _markdown_escape(" ".join(clean_text(text).split()))


def _markdown_code(text: str) -> str:
    """A code span whose fence is longer than any backtick run inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _markdown_span(span: Span) -> str:
    if span.kind == "code":
        return _markdown_code(span.text)
    if span.kind == "em":
        return f"*{_markdown_escape(span.text)}*"
    if span.kind == "link":
        return f"<{span.text}>"
    return _markdown_escape(span.text)


def to_markdown(text: str) -> str:
    """Markdown: paragraphs blank-line separated, code spans, emphasis, autolinks; other text escaped."""
    return "\n\n".join("".join(_markdown_span(s) for s in p) for p in paragraphs(text))
