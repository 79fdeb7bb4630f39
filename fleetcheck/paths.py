"""Where the built-in checks and profiles live, installed or in a source checkout.

A wheel carries them inside the package (``fleetcheck/_builtin``); a source
checkout (editable install, tests, the demo) has them at the repo root, as
the design map lays out.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["builtin_checks_dir", "builtin_profiles_dir", "repo_root"]

_PACKAGE = Path(__file__).resolve().parent


def repo_root() -> Path:
    """The source checkout's root (parent of the package)."""
    return _PACKAGE.parent


def _builtin(name: str) -> Path:
    bundled = _PACKAGE / "_builtin" / name
    return bundled if bundled.is_dir() else repo_root() / name


def builtin_checks_dir() -> Path:
    """The folder of built-in ``test_*.py`` check modules."""
    return _builtin("checks")


def builtin_profiles_dir() -> Path:
    """The folder of built-in ``*.yaml`` profiles."""
    return _builtin("profiles")
