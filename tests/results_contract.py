"""Every ``results.json`` the tests write follows the shipped schema (imported as ``tests.results_contract``).

The tests' conftest validates, after each test, the ``results.json`` files
under the test's own ``tmp_path`` / ``pytester`` folder, and at the end of
the session every other one under pytest's base temp folder (module-scoped
runs such as the demo's). A file counts as written by fleetcheck when it is
a ``fleetcheck/v1`` document with ``fleet_order`` (every current document
has it); hand-made older documents and deliberately broken ones are left
alone. Validating is cheap (one compiled validator, files read once).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jsonschema

from fleetcheck.verdicts.schema import SCHEMA_FILE

__all__ = ["check_results_files", "problems", "validator"]

#: a results.json larger than this is not read (the tests write nothing near it)
MAX_BYTES = 64 * 1024 * 1024


@functools.cache
def validator() -> jsonschema.protocols.Validator:
    """The shipped schema, compiled once."""
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)  # type: ignore[no-any-return]


def _is_fleetcheck_document(data: Any) -> bool:
    return isinstance(data, dict) and data.get("schema") == "fleetcheck/v1" and "fleet_order" in data


def problems(data: Any, limit: int = 5) -> list[str]:
    """The first ``limit`` schema violations of a parsed document, each as ``path: message``."""
    found = []
    for error in validator().iter_errors(data):
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        found.append(f"{where}: {error.message[:300]}")
        if len(found) >= limit:
            break
    return found


def results_files(root: Path) -> Iterable[Path]:
    """Every ``results.json`` under ``root`` (symlinks not followed)."""
    for folder, _dirs, files in os.walk(root):
        if "results.json" in files:
            yield Path(folder) / "results.json"


def check_results_files(roots: Iterable[Path], seen: dict[Path, tuple[int, int]]) -> list[str]:
    """Violations in the fleetcheck documents under ``roots`` not validated before (``seen``: path -> mtime, size)."""
    failures: list[str] = []
    for root in roots:
        if not root.is_dir():
            continue
        for path in results_files(root):
            try:
                stat = path.stat()
            except OSError:
                continue
            stamp = (stat.st_mtime_ns, stat.st_size)
            if seen.get(path) == stamp or stat.st_size > MAX_BYTES:
                continue
            seen[path] = stamp
            try:
                data = json.loads(path.read_bytes())
            except (OSError, ValueError):
                continue  # not JSON: a test of a broken file
            if _is_fleetcheck_document(data):
                failures.extend(f"{path}: {p}" for p in problems(data))
    return failures
