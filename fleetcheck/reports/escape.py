"""Make untrusted strings safe to put in a terminal, an XML file or a single line.

Everything a report shows comes from clusters: label values, object names,
messages quoting annotations. A label value carrying ``ESC[2J`` clears the
reader's terminal, a NUL makes the JUnit file unparseable, a bidi override
makes ``prod`` read as something else. These helpers remove such characters;
HTML escaping itself is Jinja2's autoescape, never done by hand.
"""

from __future__ import annotations

import re

__all__ = ["clean_text", "one_line", "strip_ansi", "truncate", "xml_text"]

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), other two-byte escapes, and 8-bit CSI.
_ANSI = re.compile(
    r"""
    \x1b\[[0-?]*[ -/]*[@-~]
  | \x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?
  | \x1b[@-Z\\-_]
  | \x9b[0-?]*[ -/]*[@-~]
    """,
    re.VERBOSE,
)
# C0 controls except TAB and LF, DEL, C1 controls; bidi embeddings/overrides/isolates;
# lone surrogates and the XML 1.0 non-characters U+FFFE/U+FFFF.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")


def strip_ansi(text: str) -> str:
    """``text`` without ANSI escape sequences (colours, cursor moves, OSC titles and links)."""
    return _ANSI.sub("", text)


def clean_text(text: object) -> str:
    """``text`` as a string without escape sequences and control characters; tabs and newlines stay.

    CRLF becomes LF first, so Windows line ends survive while a lone
    carriage return (which overwrites a terminal line) does not.
    """
    value = text if isinstance(text, str) else str(text)
    return _CONTROL.sub("", strip_ansi(value.replace("\r\n", "\n")))


def one_line(text: object) -> str:
    """:func:`clean_text`, with every run of whitespace collapsed to one space."""
    return " ".join(clean_text(text).split())


def xml_text(text: object) -> str:
    """Text legal in XML 1.0 (and free of terminal escapes), for JUnit attributes and bodies."""
    return clean_text(text)


def truncate(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, ending in ``…`` when it was cut."""
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: width - 1] + "…"
