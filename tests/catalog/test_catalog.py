"""``@check`` declarations, docstring sections, and ``load_catalog``.

``test_every_check_is_documented`` is the test that enforces the docs rule
(STYLE.md 5) for every check in ``checks/`` and every installed check pack,
present and future.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from fleetcheck.catalog import (
    CODE_PATTERN,
    DOC_SECTIONS,
    CheckDefinitionError,
    check,
    load_catalog,
    parse_docs,
    spec_of,
)
from fleetcheck.errors import ConfigError
from fleetcheck.results import FACTORS, SEVERITIES

CATALOG = load_catalog()
CODES = sorted(CATALOG.checks)

DOC = """One line summary.

    What: the rule.
    Why: the incident.
    Fix: the remedy.
    References: https://kubernetes.io/docs/
    """


def _declare(code: str = "FC-TEST-001", **overrides: object) -> object:
    kwargs: dict[str, object] = {"title": "t", "factor": "bounded", "severity": "high", "reads": ["pods"]}
    kwargs.update(overrides)

    def fn(cluster: object) -> None:
        pass

    fn.__doc__ = DOC
    return check(code, **kwargs)(fn)  # type: ignore[arg-type]


def test_a_good_declaration_carries_its_spec() -> None:
    fn = _declare(reads=["pods", "apps/v1 daemonsets", "velero.io/v1 schedules"])
    spec = spec_of(fn)
    assert spec is not None
    assert (spec.code, spec.factor, spec.severity, spec.scope) == ("FC-TEST-001", "bounded", "high", "cluster")
    assert spec.reads == ("pods", "apps/v1 daemonsets", "velero.io/v1 schedules")
    assert spec.docs.summary == "One line summary."
    assert spec.docs.missing() == []
    assert [m.args for m in fn.pytestmark] == [("FC-TEST-001",)]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("code", "overrides", "words"),
    [
        ("FC-quota-001", {}, "check codes look like"),
        ("FC-Q-001", {}, "check codes look like"),
        ("FC-QUOTA-01", {}, "check codes look like"),
        ("FCQUOTA-001", {}, "check codes look like"),
        ("FC-TEST-001", {"factor": "speedy"}, "unknown factor 'speedy'"),
        ("FC-TEST-001", {"severity": "urgent"}, "unknown severity 'urgent'"),
        ("FC-TEST-001", {"scope": "global"}, "scope must be"),
        ("FC-TEST-001", {"reads": ["pods", "widgets"]}, "unknown kind 'widgets'"),
    ],
)
def test_bad_declarations_are_rejected_at_declaration(code: str, overrides: dict[str, object], words: str) -> None:
    with pytest.raises(CheckDefinitionError, match=words):
        _declare(code, **overrides)


def test_docstring_sections_are_parsed_across_lines() -> None:
    docs = parse_docs(
        """Summary that
        wraps.

        What: first line
        second line
        Why: because
        Fix: do this
        References: https://a.example, https://b.example
        """
    )
    assert docs.summary == "Summary that wraps."
    assert docs.what == "first line\nsecond line"
    assert docs.references == "https://a.example, https://b.example"
    assert parse_docs("Only a summary.").missing() == list(DOC_SECTIONS)


def test_the_catalog_finds_the_reference_checks() -> None:
    assert {"FC-QUOTA-001", "FC-QUOTA-002", "FC-QUOTA-003"} <= set(CODES)
    quota3 = CATALOG.get("fc-quota-003")
    assert quota3.settings_model is not None
    assert quota3.default_settings().threshold_percent == 90  # type: ignore[union-attr]
    assert "resourcequotas" in CATALOG.kinds_read(["FC-QUOTA-003"])
    assert CATALOG.kinds_read(["FC-QUOTA-003"]) == ["resourcequotas"]


@pytest.mark.parametrize("code", CODES)
def test_every_check_is_documented(code: str) -> None:
    spec = CATALOG.get(code)
    assert not spec.docs.missing(), f"{code} ({spec.path}) lacks docstring sections {spec.docs.missing()}"
    assert spec.docs.summary, f"{code} has no one-line summary"
    assert spec.title.strip(), f"{code} needs a title"
    assert spec.success, f"{code} needs a success message (what a pass means)"


@pytest.mark.parametrize("code", CODES)
def test_every_check_is_well_formed(code: str) -> None:
    spec = CATALOG.get(code)
    assert CODE_PATTERN.match(spec.code)
    assert spec.factor in FACTORS
    assert spec.severity in SEVERITIES
    assert spec.function.startswith("test_"), f"{code}: pytest only collects test_* functions"
    assert Path(spec.path).name.startswith("test_")


def test_codes_are_unique_across_files(tmp_path: Path) -> None:
    body = textwrap.dedent(
        '''
        from fleetcheck import check

        @check("FC-QUOTA-001", title="Dup", factor="bounded", severity="low", reads=["pods"])
        def test_dup(cluster):
            """Dup."""
        '''
    )
    (tmp_path / "test_dup.py").write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError, match="FC-QUOTA-001 is also declared"):
        load_catalog([*CATALOG.paths, tmp_path])


def test_codes_are_unique_within_a_file(tmp_path: Path) -> None:
    body = textwrap.dedent(
        '''
        from fleetcheck import check

        @check("FC-DUP-001", title="One", factor="bounded", severity="low", reads=["pods"])
        def test_one(cluster):
            """One."""

        @check("FC-DUP-001", title="Two", factor="bounded", severity="low", reads=["pods"])
        def test_two(cluster):
            """Two."""

        test_alias = test_one  # the same function under a second name is not a second check
        '''
    )
    (tmp_path / "test_twice.py").write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_catalog([tmp_path])
    assert "FC-DUP-001" in info.value.problem
    assert info.value.fix == "codes are unique; pick a new one"


def test_a_bad_declaration_in_a_pack_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "test_bad.py").write_text(
        "from fleetcheck import check\n\n"
        "@check('FC-BAD-1', title='x', factor='bounded', severity='low')\n"
        "def test_bad(cluster):\n    pass\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_catalog([tmp_path])
    assert info.value.source == str(tmp_path / "test_bad.py")
    assert "FC-BAD-1" in info.value.problem
