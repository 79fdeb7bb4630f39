"""Rewrite the README's generated tables: the check catalog and the demo's planted gotchas.

Run after adding a check or changing a plant: ``python scripts/update_readme.py``.
Tests compare the README with the same functions, so the docs cannot drift.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from fleetcheck.catalog import load_catalog
from fleetcheck.demo.generate import demo_fleet_spec, generate_fleet
from fleetcheck.demorun import catalog_table_markdown, planted_table_markdown

README = Path(__file__).resolve().parents[1] / "README.md"


def splice(text: str, name: str, body: str) -> str:
    """Replace what stands between ``<!-- name:start -->`` and ``<!-- name:end -->``."""
    start, end = f"<!-- {name}:start -->\n", f"<!-- {name}:end -->"
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return head + start + body + end + tail


def main() -> int:
    """Regenerate both tables in place."""
    with tempfile.TemporaryDirectory() as tmp:
        generate_fleet(Path(tmp), demo_fleet_spec())
        plants = json.loads((Path(tmp) / "planted.json").read_text())
    catalog = load_catalog()
    text = README.read_text()
    text = splice(text, "planted", planted_table_markdown(plants))
    text = splice(text, "checks", catalog_table_markdown(catalog.sorted()))
    README.write_text(text)
    print(f"README: {len(catalog.checks)} checks, {len(plants)} planted gotchas")
    return 0


if __name__ == "__main__":
    sys.exit(main())
