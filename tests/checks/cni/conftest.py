"""Fixtures for the FC-CNI and FC-VER tests: the same builders and inner check run as the image tests.

The helper module is loaded by path from ``tests/checks/images`` (one set of
real-shaped builders for both folders; ``--import-mode=importlib`` leaves
test folders unimportable).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
CHECKS = REPO / "checks"
CORPUS = REPO.parent / "shared" / "corpus"
_NAME = "_fleetcheck_tests_k8s_builders"

if _NAME not in sys.modules:
    _spec = importlib.util.spec_from_file_location(_NAME, REPO / "tests" / "checks" / "images" / "k8s_builders.py")
    assert _spec is not None and _spec.loader is not None
    sys.modules[_NAME] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules[_NAME])
kube = sys.modules[_NAME]


@pytest.fixture
def k8s() -> ModuleType:
    """Real-shaped object builders and ``write_snapshot``."""
    return kube


@pytest.fixture
def corpus() -> Path:
    """The shared corpus; tests using it skip when it is absent."""
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    return CORPUS


@pytest.fixture
def write_profile(tmp_path: Path) -> Callable[..., Path]:
    """Write a profile extending ``default`` with the given top-level fields."""

    def write(name: str = "test", **fields: Any) -> Path:
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump({"name": name, "extends": "default", **fields}, sort_keys=False))
        return path

    return write


@pytest.fixture
def run_checks(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """Run check modules in an inner pytest session over snapshots (or a fleet file); return a ``CheckRun``."""
    pytester = request.getfixturevalue("pytester")

    def run(
        modules: str | tuple[str, ...],
        *snapshots: Path,
        profile: Path | None = None,
        fleet: Path | None = None,
        args: tuple[str, ...] = (),
    ) -> Any:
        names = (modules,) if isinstance(modules, str) else modules
        # hypothesis' plugin re-imports hypothesis in every inner session (pytester restores sys.modules): 0.7 s
        # each; --tb=native: pytest's own traceback rendering parses the kubernetes client's huge modules (4 s)
        argv = [*(str(CHECKS / m) for m in names), "--no-reports", "-q", "--tb=native", "-p", "no:hypothesispytest"]
        for folder in snapshots:
            argv += ["--snapshot", str(folder)]
        if profile is not None:
            argv += ["--profile", str(profile)]
        if fleet is not None:
            argv += ["--fleet", str(fleet)]
        return kube.CheckRun(pytester.runpytest_inprocess(*argv, *args))

    return run
