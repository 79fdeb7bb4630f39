"""Write (or ``--check``) fleetcheck/schemas/results-v1.schema.json from the result models.

Run after changing :mod:`fleetcheck.results`: ``.venv/bin/python scripts/results_schema.py``.
``--check`` exits 1 when the shipped file differs from what the models give.
"""

from __future__ import annotations

import sys

from fleetcheck.verdicts.schema import SCHEMA_FILE, schema_text


def main(argv: list[str]) -> int:
    """Write the schema, or with ``--check`` say whether the shipped one is current."""
    text = schema_text()
    if "--check" in argv:
        current = SCHEMA_FILE.read_text(encoding="utf-8") if SCHEMA_FILE.exists() else ""
        if current != text:
            print(f"{SCHEMA_FILE} is out of date: run scripts/results_schema.py", file=sys.stderr)
            return 1
        return 0
    SCHEMA_FILE.parent.mkdir(parents=True, exist_ok=True)
    SCHEMA_FILE.write_text(text, encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
