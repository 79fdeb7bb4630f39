"""Shared test setup: pytester for tests that drive real pytest runs; builders live in ``tests/builders.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

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


#: real cluster captures and upstream manifests, beside the repo (never copied into it)
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


@pytest.fixture
def corpus() -> Path:
    """The shared corpus of real cluster captures (skips when absent)."""
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS} (integration data lives in ../shared/corpus)")
    return CORPUS
