"""The JSON Schema of ``results.json``, generated from the result models and shipped in the package.

``scripts/results_schema.py`` writes :data:`SCHEMA_FILE` from
:func:`results_json_schema`; a test regenerates it and compares, so the
shipped file always says what the models write. The schema is strict
(``additionalProperties: false`` on every object the project defines), so
a field written without being declared fails validation; the models
themselves still read documents with fields they do not know.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fleetcheck.facts.drift import DriftReport
from fleetcheck.results import SCHEMA, ResultsDocument

__all__ = ["SCHEMA_FILE", "results_json_schema", "schema_text"]

#: the shipped schema (inside the package, so an installed fleetcheck has it)
SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schemas" / "results-v1.schema.json"
_ID = "https://fleetcheck.dev/schemas/results-v1.schema.json"


def _strict(node: Any) -> None:
    """``additionalProperties: false`` on every object schema with declared properties (the fact maps stay open)."""
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            node.setdefault("additionalProperties", False)
        for value in node.values():
            _strict(value)
    elif isinstance(node, list):
        for value in node:
            _strict(value)


def results_json_schema() -> dict[str, Any]:
    """The schema of what :meth:`ResultsDocument.to_json_bytes` writes; ``drift`` as the drift report's own schema."""
    schema = ResultsDocument.model_json_schema(by_alias=True, mode="serialization")
    drift = DriftReport.model_json_schema(by_alias=True, mode="serialization", ref_template="#/$defs/{model}")
    defs = schema.setdefault("$defs", {})
    for name, definition in drift.pop("$defs", {}).items():
        if defs.setdefault(name, definition) != definition:  # two models of one name: the schema would lie
            raise ValueError(f"results and drift models both define {name!r}: rename one")
    defs["DriftReport"] = drift
    schema["properties"]["drift"] = {
        "anyOf": [{"$ref": "#/$defs/DriftReport"}, {"type": "null"}],
        "default": None,
        "description": "the fleet's drift (fleetcheck/drift/v1), null when the run computed none",
    }
    schema["properties"]["schema"]["const"] = SCHEMA
    _strict(schema)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": _ID, **schema}


def schema_text() -> str:
    """The schema as the shipped file holds it (sorted keys, two-space indent, final newline)."""
    return json.dumps(results_json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
