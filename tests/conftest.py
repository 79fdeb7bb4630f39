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
