"""One object reference format, one "and N more", one set of exit codes, one list of grades (STYLE.md item 2).

Each lives in ``fleetcheck/core/``; a second definition anywhere in the
package or the built-in checks fails here, naming the file and line.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fleetcheck.core import exit_codes, grades, refs

REPO = Path(__file__).resolve().parents[2]
SOURCES = sorted([*(REPO / "fleetcheck").rglob("*.py"), *(REPO / "checks").rglob("*.py")])
CORE = REPO / "fleetcheck" / "core"

RULES = {
    "exit code": (re.compile(r"^\s*EXIT_[A-Z_]+\s*(?::[^=]+)?=\s*\d"), CORE / "exit_codes.py"),
    "grade list": (re.compile(r"""^\s*\w*GRADES\w*\s*(?::[^=]+)?=\s*\(\s*["']A["']"""), CORE / "grades.py"),
    "object reference": (re.compile(r"^\s*def object_ref\("), CORE / "refs.py"),
    "and N more": (re.compile(r"""f["'][^"']*\band \{[^}]+\} more\b"""), CORE / "refs.py"),
}


def offenders(pattern: re.Pattern[str], home: Path, files: list[Path], root: Path = REPO) -> list[str]:
    found = []
    for path in files:
        if path == home:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                found.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    return found


@pytest.mark.parametrize("rule", sorted(RULES))
def test_defined_once(rule: str) -> None:
    pattern, home = RULES[rule]
    assert not offenders(pattern, home, SOURCES), f"a second {rule} outside {home.relative_to(REPO)}"


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        ("exit code", "EXIT_WEIRD = 7"),
        ("grade list", 'MY_GRADES = ("A", "B")'),
        ("object reference", "def object_ref(obj):"),
        ("and N more", 'shown = f"{head} and {rest} more"'),
    ],
)
def test_a_second_one_is_found(tmp_path: Path, rule: str, text: str) -> None:
    pattern, home = RULES[rule]
    module = tmp_path / "second.py"
    module.write_text(f"{text}\n", encoding="utf-8")
    assert offenders(pattern, home, [module], tmp_path) == [f"second.py:1: {text}"]


def test_the_core_pieces_say_what_they_promise() -> None:
    assert refs.object_ref({"kind": "Pod", "metadata": {"name": "web", "namespace": "a"}}) == "a/Pod/web"
    assert refs.object_ref({"kind": "Node", "metadata": {"name": "n1"}}) == "Node/n1"
    assert refs.name_list(["c", "a", "b"], 2) == "a, b and 1 more"
    assert refs.more(1204) == "and 1,204 more"
    assert grades.GRADES == ("A", "B", "C", "D", "F") and grades.GATE_GRADES == ("A", "B", "C", "D")
    assert (exit_codes.EXIT_OK, exit_codes.EXIT_GATE_FAILED, exit_codes.EXIT_CONFIG, exit_codes.EXIT_UNDECIDED) == (
        0,
        1,
        2,
        3,
    )
    assert (exit_codes.EXIT_SIGINT, exit_codes.EXIT_SIGTERM, exit_codes.EXIT_BROKEN_PIPE) == (130, 143, 141)
