"""A pytest session that collects no check pays nothing for the plugin: no catalog, state, reports or fleet code.

The plugin is registered for every pytest run in the environment (the ``pytest11`` entry point), so what it
imports at start-up is a cost to every other test suite. A fresh interpreter (a subprocess) shows what an
empty session really loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

#: modules only a scan needs (each imports pydantic models, the kubernetes client, or the reports)
SCAN_ONLY = (
    "fleetcheck.catalog",
    "fleetcheck.runstate",
    "fleetcheck.view",
    "fleetcheck.state.base",
    "fleetcheck.results",
    "fleetcheck.verdicts",
    "fleetcheck.reports",
    "fleetcheck.registry",
    "fleetcheck.facts",
    "kubernetes",
)

RECORDER = """
import json, sys

def pytest_unconfigure(config):
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("fleetcheck", "kubernetes", "pydantic"))
    with open("loaded.json", "w") as handle:
        json.dump(loaded, handle)
"""


def _loaded(pytester: pytest.Pytester, *args: str) -> list[str]:
    result = pytester.runpytest_subprocess("--collect-only", "-q", "-p", "no:cacheprovider", *args)
    assert result.ret in (0, 5), result.stdout.str()  # 5: no tests collected
    return list(json.loads((pytester.path / "loaded.json").read_text()))


def test_a_session_of_other_tests_imports_none_of_the_scan(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(RECORDER)
    pytester.makepyfile(test_other="def test_other():\n    assert 1 + 1 == 2\n")
    loaded = _loaded(pytester)
    assert "fleetcheck.plugin" in loaded, "the plugin is not active: this test proves nothing"
    heavy = [m for m in loaded if m.startswith(SCAN_ONLY) or m.startswith("pydantic")]
    assert heavy == [], f"an empty pytest session imported {heavy}"


def test_a_session_that_collects_a_check_still_gets_the_catalog(pytester: pytest.Pytester) -> None:
    """The failure side: the lazy imports must not keep a real check from being collected and parametrized."""
    pytester.makeconftest(RECORDER)
    folder = pytester.path / "snap"
    folder.mkdir()
    (folder / "cluster.yaml").write_text("name: snap\n")
    (folder / "namespaces.json").write_text('{"apiVersion": "v1", "kind": "List", "items": []}')
    source = Path(__file__).resolve().parents[2] / "checks" / "test_stale.py"
    (pytester.path / "test_stale.py").write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    loaded = _loaded(pytester, "test_stale.py", "--fleetcheck-snapshot", str(folder))
    assert "fleetcheck.catalog" in loaded and "fleetcheck.runstate" in loaded


def test_importing_the_package_defers_its_re_exports() -> None:
    code = (
        "import sys, fleetcheck; before = 'fleetcheck.catalog' in sys.modules; "
        "from fleetcheck import check, ClusterView; "
        "print(before, 'fleetcheck.catalog' in sys.modules, check.__module__, ClusterView.__module__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == ["False", "True", "fleetcheck.catalog", "fleetcheck.view"]
    missing = subprocess.run(
        [sys.executable, "-c", "import fleetcheck; fleetcheck.no_such_name"], capture_output=True, text=True, timeout=60
    )
    assert missing.returncode != 0 and "has no attribute 'no_such_name'" in missing.stderr
