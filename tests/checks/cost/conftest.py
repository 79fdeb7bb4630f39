"""Fixtures for these check tests: real-shaped builders and an inner check run (``tests/checks/tiers/fleet_kit.py``).

The kit is loaded by path because the suite runs with ``--import-mode=importlib``,
where test folders are not importable; ``pytester`` comes from the top conftest.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

_NAME = "_fleetcheck_tests_fleet_kit"
_PATH = Path(__file__).resolve().parents[1] / "tiers" / "fleet_kit.py"


def _load() -> ModuleType:
    if _NAME not in sys.modules:
        spec = importlib.util.spec_from_file_location(_NAME, _PATH)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[_NAME] = module
        spec.loader.exec_module(module)
    return sys.modules[_NAME]


kit_module = _load()


@pytest.fixture
def kit() -> ModuleType:
    """Builders (namespace, deployment, claim_and_volume, schedule ...) and ``write_snapshot``."""
    return kit_module


@pytest.fixture(scope="session")
def scans() -> dict[str, Any]:
    """Results of inner runs kept for the session: a fleet scanned once serves every test that reads it."""
    return {}


@pytest.fixture
def run(pytester: pytest.Pytester, tmp_path: Path) -> Callable[..., Any]:
    """``run(module, snapshots, profile=None)`` -> ``Results`` read from the inner run's results.json."""
    counter = iter(range(1000))

    def go(module: str, snapshots: list[Path], profile: Path | None = None) -> Any:
        report_dir = tmp_path / f"reports-{next(counter)}"
        return kit_module.run_checks(pytester, module, snapshots, profile=profile, report_dir=report_dir)

    return go
