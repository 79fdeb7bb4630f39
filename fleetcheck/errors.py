"""Errors a user can act on, each printed as one line.

Every failure caused by input (a fleet file, a profile, a snapshot folder,
a kubeconfig) is a :class:`ConfigError` that names the file, the field and
the fix, so the CLI can print it on one line and exit 2 instead of showing a
traceback.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["EXIT_CONFIG", "BudgetExceeded", "ConfigError", "FleetcheckError"]

#: Exit code for usage and configuration errors (kubectl and pytest use 1-4 differently; we document 2).
EXIT_CONFIG = 2


class FleetcheckError(Exception):
    """Base class of fleetcheck's own errors."""


class BudgetExceeded(FleetcheckError):
    """A check body ran past its time budget, or its cluster's budget was already spent (``error``).

    Raised by :mod:`fleetcheck.budget`; declared here so that lower layers (the fact cache) can
    tell an interrupted computation from a failed one without importing the pytest-bound budget module.
    """


class ConfigError(FleetcheckError):
    """Bad input: which file, which field, what is wrong and how to fix it."""

    def __init__(self, source: str | Path, field: str, problem: str, fix: str = "") -> None:
        self.source = str(source)
        self.field = field
        self.problem = problem
        self.fix = fix
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """``file: field: problem (fix: ...)`` on a single line, control characters removed."""
        where = f"{self.source}: {self.field}: " if self.field else f"{self.source}: "
        text = where + self.problem + (f" (fix: {self.fix})" if self.fix else "")
        return " ".join(text.split())
