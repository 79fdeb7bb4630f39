"""Rewrite the README's planted-gotchas table from the demo generator (run after changing a plant).

Usage: python scripts/update_readme_plants.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from fleetcheck.demo.generate import demo_fleet_spec, generate_fleet
from fleetcheck.demorun import planted_table_markdown

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- planted:start -->\n", "<!-- planted:end -->"


def main() -> int:
    """Generate the demo fleet in a temp folder and splice its table into the README."""
    with tempfile.TemporaryDirectory() as tmp:
        generate_fleet(Path(tmp), demo_fleet_spec())
        plants = json.loads((Path(tmp) / "planted.json").read_text())
    text = README.read_text()
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    README.write_text(head + START + planted_table_markdown(plants) + END + tail)
    print(f"README: {len(plants)} planted gotchas")
    return 0


if __name__ == "__main__":
    sys.exit(main())
