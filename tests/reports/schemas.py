"""The schemas the report tests validate against: where each comes from, how it loads, what a missing one means.

* SARIF 2.1.0: the official schema as the npm package ``@microsoft/jest-sarif``
  ships it, installed by ``scripts/setup.sh --test`` into ``.ci/js`` (never
  committed). Missing, it FAILS the test: CI runs the set-up first, so a
  missing schema there is a broken set-up, not an optional extra. The one
  skip is a developer machine without npm where the set-up, not being root,
  could not apt-install it (and never under ``CI``).
* ClusterPolicyReport and ClusterReport: our own JSON Schemas in
  ``data/schemas`` (no registry package ships the CRDs), written from the
  projects' Go API types; ``data/schemas/README.md`` names the commits.

A test helper module (imported as ``tests.reports.schemas``), shared with the
end-to-end demo test so both read the same files the same way.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data" / "schemas"

#: what ``scripts/setup.sh --test`` installs (keep the two in step)
SARIF_PACKAGE = "@microsoft/jest-sarif@1.0.0-beta.0"
SARIF_SCHEMA = Path(
    os.environ.get(
        "FLEETCHECK_SARIF_SCHEMA",
        REPO / ".ci/js/node_modules/@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json",
    )
)
#: report folder (as :data:`fleetcheck.reports.policyreport.FORMATS` names it) -> our schema for it
REPORT_SCHEMAS = {
    "policyreports": DATA / "clusterpolicyreport.v1alpha2.schema.json",
    "openreports": DATA / "clusterreport.v1alpha1.schema.json",
}


def in_ci(environ: Mapping[str, str] = os.environ) -> bool:
    """True where ``CI`` is set to anything but an empty or false value (CI runs ``.ci/run`` with CI=true)."""
    return environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_installed(path: Path, package: str, *, npm: str | None, euid: int, ci: bool) -> None:
    """Return if ``path`` exists; else fail, or skip only where the set-up could not have installed it.

    The set-up installs npm itself when run as root (CI is root), so only a
    non-root machine without npm, outside CI, is excused.
    """
    if path.is_file():
        return
    hint = f"no {path}: `bash scripts/setup.sh --test` installs {package} with npm into .ci/js"
    if npm is None and euid != 0 and not ci:
        pytest.skip(f"{hint} (npm is not installed, and the set-up installs it only as root)")
    pytest.fail(hint, pytrace=False)


@functools.cache
def _load(path: Path) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def sarif_schema() -> dict[str, Any]:
    """The installed SARIF 2.1.0 schema (fails, or skips as :func:`require_installed` says, when missing)."""
    require_installed(SARIF_SCHEMA, SARIF_PACKAGE, npm=shutil.which("npm"), euid=os.geteuid(), ci=in_ci())
    return _load(SARIF_SCHEMA)


def sarif_validator() -> jsonschema.Draft4Validator:
    """A draft-04 validator (the schema's own ``$schema``) with format checks, e.g. ``uri``."""
    return jsonschema.Draft4Validator(sarif_schema(), format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def report_schema(folder: str) -> dict[str, Any]:
    """Our schema for a policy-report folder (``policyreports`` or ``openreports``)."""
    return _load(REPORT_SCHEMAS[folder])


def report_validator(folder: str) -> jsonschema.Draft202012Validator:
    """A draft 2020-12 validator for one report folder's files."""
    return jsonschema.Draft202012Validator(
        report_schema(folder), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def schema_errors(validator: Any, instance: Any, limit: int = 5) -> list[str]:
    """The first ``limit`` errors as ``[path]: message`` lines, sorted so a failure reads the same every run."""
    errors = sorted(validator.iter_errors(instance), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    return [f"{list(e.absolute_path)}: {e.message}" for e in errors[:limit]]
