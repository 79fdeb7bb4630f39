"""Fixtures for the FC-IMG tests: object builders, snapshot folders, an inner check run, registry servers.

Builders and servers live in modules loaded by path and are handed out as
fixtures, because the suite runs with ``--import-mode=importlib``, where
test folders are not importable. ``pytester`` comes from ``tests/conftest.py``.
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


def load_helper(name: str, path: Path) -> ModuleType:
    """Import a helper module from a file, once per process."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


kube = load_helper("_fleetcheck_tests_k8s_builders", Path(__file__).with_name("k8s_builders.py"))
servers = load_helper("_fleetcheck_tests_registry_servers", REPO / "tests" / "servers" / "registry.py")


@pytest.fixture
def k8s() -> ModuleType:
    """Real-shaped object builders and ``write_snapshot``."""
    return kube


@pytest.fixture
def registry_servers() -> ModuleType:
    """``RegistryServer``, ``StubServer``, ``make_tls`` from tests/servers/registry.py."""
    return servers


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
