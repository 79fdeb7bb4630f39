"""Errors a user can act on, each printed as one line.

Every failure caused by input (a fleet file, a profile, a snapshot folder,
a kubeconfig) is a :class:`ConfigError` that names the file, the field and
the fix, so the CLI can print it on one line and exit 2 instead of showing a
traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from fleetcheck.core.exit_codes import EXIT_CONFIG
from fleetcheck.core.kinds import ResourceRef

# EXIT_CONFIG is defined with the other exit codes (fleetcheck.core.exit_codes); re-exported for its importers
__all__ = ["EXIT_CONFIG", "BudgetExceeded", "ConfigError", "FleetcheckError", "KindUnavailable", "fresh"]

E = TypeVar("E", bound=BaseException)


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


class KindUnavailable(FleetcheckError):
    """A kind could not be read: forbidden, unauthorized, timeout, server error.

    Checks that need the kind become ``error`` with this message; it names
    the verb and resource so the reader can fix the scan's RBAC. Declared
    here, with the other errors, because readers in every layer raise or
    catch it: the cluster states, the registry's discovering sources, the
    fact cache. :mod:`fleetcheck.state.base` and ``fleetcheck`` re-export it.
    """

    def __init__(self, cluster: str, ref: ResourceRef, reason: str, status: int | None = None) -> None:
        self.cluster = cluster
        self.ref = ref
        self.reason = reason
        self.status = status
        super().__init__(f"cannot list {ref.spec} on {cluster}: {reason}")


def fresh(error: E) -> E:
    """A copy of a remembered error to store or raise: same class, message and attributes; no traceback.

    Why: raising a stored exception object again adds the raising frames to its ``__traceback__``, and
    those frames keep their locals alive (a cluster's state and partial lists, pytest items) for as long
    as the error is cached, which is the whole run: memory that grew with the fleet. An error kept for
    later (a kind that could not be listed, a fact that could not be computed) is stored as ``fresh(exc)``
    and raised as ``raise fresh(kept)``, so each traceback lives only as long as the handler that caught
    it. The copy is made without calling ``__init__`` (subclasses take other arguments than ``args``).
    """
    copy = type(error).__new__(type(error), *error.args)
    copy.__dict__.update(error.__dict__)
    return copy
