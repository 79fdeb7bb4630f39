"""``results.json``: write a run, read it back to re-render every report.

The file is the one contract between a scan and its reports
(``CHECKS.md``), so reading it is strict: a file that is not a fleetcheck
results document fails with one line naming the file, the field and the fix,
instead of a traceback or a half-empty scorecard.
"""

from __future__ import annotations

from pathlib import Path

import orjson
from pydantic import ValidationError

from fleetcheck.core.refs import more
from fleetcheck.errors import ConfigError
from fleetcheck.reports.writing import atomic_write_bytes
from fleetcheck.results import SCHEMA, ResultsDocument

__all__ = ["read_results_json", "write_results_json"]

_FIX = "pass the results.json a `fleetcheck run` wrote, or re-run the scan"


def write_results_json(doc: ResultsDocument, path: Path) -> Path:
    """Write ``doc.to_json_bytes()`` to ``path`` atomically and return ``path``.

    Atomic (temporary file + rename) because dashboards and ``fleetcheck
    report`` may read the file while a scheduled scan rewrites it.
    """
    return atomic_write_bytes(Path(path), doc.to_json_bytes())


def _field(loc: tuple[int | str, ...]) -> str:
    """Pydantic's error location as ``results[3].outcome``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def read_results_json(path: Path) -> ResultsDocument:
    """Load a ``results.json``; bad input raises :class:`~fleetcheck.errors.ConfigError`."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(path, "", f"cannot read: {exc.strerror or exc}", _FIX) from exc
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ConfigError(path, "", f"not valid JSON: {exc}", _FIX) from exc
    if not isinstance(data, dict):
        raise ConfigError(path, "", f"expected a JSON object, found {type(data).__name__}", _FIX)
    schema = data.get("schema")
    if schema != SCHEMA:
        raise ConfigError(
            path,
            "schema",
            f"expected {SCHEMA!r}, found {schema!r}",
            "use the fleetcheck version that wrote the file, or re-run the scan",
        )
    try:
        return ResultsDocument.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        count = exc.error_count()
        others = f" ({more(count - 1)} problems)" if count > 1 else ""
        raise ConfigError(path, _field(first["loc"]), f"{first['msg']}{others}", _FIX) from exc
