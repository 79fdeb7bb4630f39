"""``fleetcheck.session`` sits between the plugin and the run state in the import contract, and the lint says so.

Like ``tests/layers/test_import_contract.py``: a copy of the package with
one import added that breaks the order must be refused, naming the import.
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


def _lint_with(tmp_path: Path, module: str, added: str) -> subprocess.CompletedProcess[str]:
    if not LINT_IMPORTS.is_file():
        pytest.fail(f"{LINT_IMPORTS} is missing: install the test extras (pip install -e '.[test]')")
    shutil.copytree(REPO / "fleetcheck", tmp_path / "fleetcheck", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    if module:
        path = tmp_path / "fleetcheck" / module
        path.write_text(path.read_text(encoding="utf-8") + "\n" + added + "\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_session_package_keeps_its_place(tmp_path: Path) -> None:
    run = _lint_with(tmp_path, "", "")
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize(
    ("module", "added", "says"),
    [
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
def test_an_import_against_the_session_layer_is_named(tmp_path: Path, module: str, added: str, says: str) -> None:
    run = _lint_with(tmp_path, module, added)
    assert run.returncode == 1, run.stdout + run.stderr
    assert says in run.stdout, run.stdout
