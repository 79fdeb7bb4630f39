"""Fixtures: the real-shaped builders and check runner of ``tests/checks/rbac/fleet_objects.py``.

Loaded by path (``--import-mode=importlib`` leaves test folders unimportable);
the RBAC, GitOps, observability and ingress/mesh tests share the one module.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

_NAME = "_fleetcheck_tests_fleet_objects"
_PATH = Path(__file__).resolve().parents[1] / "rbac" / "fleet_objects.py"

if _NAME not in sys.modules:
    _spec = importlib.util.spec_from_file_location(_NAME, _PATH)
    assert _spec is not None and _spec.loader is not None
    sys.modules[_NAME] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules[_NAME])


@pytest.fixture
def k8s() -> ModuleType:
    """Real-shaped object builders, ``write_snapshot``, ``write_profile`` and ``run_checks``."""
    return sys.modules[_NAME]
