"""Shared test setup: pytester for tests that drive real pytest runs; builders live in ``tests/builders.py``."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# The plugin imports the scan's code only once a check is collected, and pytester restores sys.modules after
# each nested run: without these, every nested run of this suite would import it all again.
import fleetcheck.catalog
import fleetcheck.reports
import fleetcheck.runstate
import fleetcheck.scoring
import fleetcheck.state.live
import fleetcheck.verdicts  # noqa: F401

# Declared here, the top conftest of the test tree, because pytest refuses ``pytest_plugins`` in deeper conftests.
pytest_plugins = ["pytester"]


@pytest.fixture
def isolated_kubeconfig(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No real ``~/.kube/config`` or ``$KUBECONFIG`` leaks into a test; returns the fake home."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    return home


@pytest.fixture
def slow_ca_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    """The client's own temp-file steps for certificate data (name the file, remember it, then write), slowed.

    The ``kubernetes`` client shares one temp file per content and records its name before writing it, so a
    second load of the same CA in another thread can be handed the file while it is still empty. The sleep
    widens that window from microseconds to 50 ms: code that loads contexts from threads without
    :data:`fleetcheck.state.live.CONFIG_LOAD_LOCK` then fails every time instead of once in a few hundred runs.
    """
    from kubernetes.config import kube_config

    def slow_writer(content: str | bytes, temp_file_path: str | None = None, force_recreate: bool = False) -> str:
        key = str(content)
        if not force_recreate and key in kube_config._temp_files:
            return str(kube_config._temp_files[key])
        fd, name = tempfile.mkstemp(dir=temp_file_path)
        os.close(fd)
        kube_config._temp_files[key] = name
        time.sleep(0.05)
        Path(name).write_bytes(content.encode() if isinstance(content, str) else content)
        return name

    monkeypatch.setattr(kube_config, "_create_temp_file_with_content", slow_writer)


#: real cluster captures and upstream manifests, beside the repo (never copied into it)
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


@pytest.fixture
def corpus() -> Path:
    """The shared corpus of real cluster captures (skips when absent)."""
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS} (integration data lives in ../shared/corpus)")
    return CORPUS


_VALIDATED: dict[Path, tuple[int, int]] = {}


@pytest.fixture(autouse=True)
def _results_json_follow_the_schema(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test, every ``results.json`` it wrote under its ``tmp_path`` / ``pytester`` validates.

    The shipped schema (fleetcheck/schemas/results-v1.schema.json) forbids
    undeclared fields, so this also proves every field written is declared.
    """
    yield
    roots = [value for name in ("tmp_path",) if isinstance(value := request.node.funcargs.get(name), Path)]
    tester = request.node.funcargs.get("pytester")
    if tester is not None:
        roots.append(Path(tester.path))
    if roots:
        from tests.results_contract import check_results_files

        failures = check_results_files(roots, _VALIDATED)
        assert not failures, "results.json does not follow the shipped schema:\n" + "\n".join(failures)


@pytest.fixture(scope="session", autouse=True)
def _session_results_json_follow_the_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """At the end, the ``results.json`` files of module- and session-scoped runs (the demo's) validate too."""
    yield
    from tests.results_contract import check_results_files

    failures = check_results_files([tmp_path_factory.getbasetemp()], _VALIDATED)
    assert not failures, "results.json does not follow the shipped schema:\n" + "\n".join(failures)
