"""The README's generated parts stay true: the check catalog table and the two commands."""

from __future__ import annotations

from pathlib import Path

from fleetcheck.catalog import load_catalog
from fleetcheck.demorun import catalog_table_markdown

REPO = Path(__file__).resolve().parents[1]


def _section(name: str) -> str:
    text = (REPO / "README.md").read_text()
    return text.split(f"<!-- {name}:start -->\n", 1)[1].split(f"<!-- {name}:end -->", 1)[0]


def test_readme_lists_every_check() -> None:
    assert _section("checks") == catalog_table_markdown(load_catalog().sorted()), (
        "README check table is stale: run python scripts/update_readme.py"
    )


def test_readme_commands_exist_in_the_makefile_and_ci() -> None:
    readme = (REPO / "README.md").read_text()
    makefile = (REPO / "Makefile").read_text()
    assert "make demo" in readme and "make test" in readme
    assert "\ndemo:" in makefile and "\ntest:" in makefile
    assert "make test" in (REPO / ".ci" / "run").read_text()
