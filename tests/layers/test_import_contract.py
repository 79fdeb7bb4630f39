"""The import contract ([tool.importlinter] in pyproject.toml): kept by the package, and able to fail.

Each failure case copies the package into a temporary folder, adds one import
that breaks one rule, and runs ``lint-imports`` on the copy: the contract
must name the broken rule. An unmodified copy passing first shows that the
copy, not the installed package, is what gets linted.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    if not LINT_IMPORTS.is_file():
        pytest.fail(f"{LINT_IMPORTS} is missing: install the test extras (pip install -e '.[test]')")
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "fleetcheck", tmp_path / "fleetcheck", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_package_keeps_the_contract() -> None:
    run = _lint(REPO)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 kept, 0 broken" in run.stdout


def test_an_unmodified_copy_keeps_it(package_copy: Path) -> None:
    run = _lint(package_copy)
    assert run.returncode == 0, run.stdout + run.stderr
    assert str(package_copy) not in run.stderr


def _append(root: Path, module: str, text: str) -> None:
    path = root / "fleetcheck" / module
    path.write_text(path.read_text(encoding="utf-8") + "\n" + text + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("module", "added", "says"),
    [
        pytest.param(
            "registry/yamlfile.py",
            "def _peek():\n    from fleetcheck.state.snapshot import load_snapshot\n\n    return load_snapshot\n",
            "fleetcheck.registry is not allowed to import fleetcheck.state",
            id="registry-imports-state-inside-a-function",
        ),
        pytest.param(
            "state/snapshot_coverage.py",
            "from fleetcheck.catalog import load_catalog  # noqa: E402",
            "fleetcheck.state is not allowed to import fleetcheck.catalog",
            id="state-imports-the-catalog",
        ),
        pytest.param(
            "facts/cni.py",
            "from fleetcheck.view import ClusterView  # noqa: E402",
            "fleetcheck.facts is not allowed to import fleetcheck.view",
            id="a-fact-imports-the-check-api",
        ),
        pytest.param(
            "core/refs.py",
            "from fleetcheck.errors import ConfigError  # noqa: E402\nfrom fleetcheck.registry import load_fleet",
            "fleetcheck.core is not allowed to import fleetcheck.registry",
            id="core-imports-the-registry",
        ),
        pytest.param(
            "facts/corefile.py",
            "import kubernetes  # noqa: E402",
            "only the live state module imports the kubernetes client BROKEN",
            id="kubernetes-outside-the-live-state",
        ),
        pytest.param(
            "reports/markdown.py",
            "from fleetcheck.demo import planted  # noqa: E402",
            "only the CLI imports the demo fleet and the replay server BROKEN",
            id="a-report-imports-the-demo",
        ),
        pytest.param(
            "session/records.py",
            "def _peek():\n    from fleetcheck.plugin import scored_document\n\n    return scored_document\n",
            "fleetcheck.session is not allowed to import fleetcheck.plugin",
            id="session-imports-the-plugin",
        ),
        pytest.param(
            "xdist_scheduling.py",
            "from fleetcheck.session.cases import cluster_of  # noqa: E402",
            "fleetcheck.xdist_scheduling is not allowed to import fleetcheck.session",
            id="the-scheduler-imports-the-session",
        ),
        pytest.param(
            "session/finish.py",
            "from fleetcheck.demo import planted  # noqa: E402",
            "only the CLI imports the demo fleet and the replay server BROKEN",
            id="the-session-imports-the-demo",
        ),
    ],
)
def test_a_broken_rule_is_named(package_copy: Path, module: str, added: str, says: str) -> None:
    _append(package_copy, module, added)
    run = _lint(package_copy)
    assert run.returncode == 1, run.stdout + run.stderr
    assert says in run.stdout, run.stdout


def test_a_module_without_a_layer_is_refused(package_copy: Path) -> None:
    (package_copy / "fleetcheck" / "helpers.py").write_text('"""A module nobody placed."""\n', encoding="utf-8")
    run = _lint(package_copy)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "fleetcheck.helpers" in run.stdout
