from __future__ import annotations

import pytest

from fleetcheck.reports.escape import clean_text, one_line, strip_ansi, truncate, xml_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\x1b[31mred\x1b[0m", "red"),
        ("\x1b[2J\x1b[Hcleared", "cleared"),
        ("\x1b]0;title\x07text", "text"),
        ("\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", "link"),
        ("\x9b31mc1", "c1"),
        ("plain", "plain"),
    ],
)
def test_strip_ansi(raw: str, expected: str) -> None:
    assert strip_ansi(raw) == expected


def test_clean_text_keeps_tabs_and_newlines_only() -> None:
    assert clean_text("a\tb\nc\r\nd\x00e\x07f\x7fg\x85h\rI") == "a\tb\nc\ndefghI"


def test_clean_text_removes_bidi_overrides() -> None:
    assert clean_text("prod\u202eved\u2066x\u2069") == "prodvedx"


def test_xml_text_removes_xml_illegal_characters() -> None:
    assert xml_text("ok\x00\x01\x0b\x0c\ud800\ufffe\uffff!") == "ok!"


def test_one_line_collapses_whitespace() -> None:
    assert one_line("  a\n\tb   \x1b[1mc\x1b[0m ") == "a b c"


def test_non_strings_are_stringified() -> None:
    assert clean_text(42) == "42"


@pytest.mark.parametrize(("text", "width", "expected"), [("abcdef", 4, "abc…"), ("abc", 3, "abc"), ("abc", 0, "")])
def test_truncate(text: str, width: int, expected: str) -> None:
    assert truncate(text, width) == expected
