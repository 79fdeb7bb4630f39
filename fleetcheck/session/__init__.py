"""The state of one fleetcheck pytest session, kept on plugin objects that :mod:`fleetcheck.plugin` registers.

The plugin module holds the hooks that shape a session (options,
parametrization, fixtures, verdict records on reports); what a session
accumulates lives here, one object per concern, registered by
:func:`register` from ``pytest_configure`` (as pytest-xdist registers its
``DSession``), so nested sessions (pytester) never share state:

- :mod:`.cases`: what a collected item is to fleetcheck (its check, its cluster, a comparison?);
- :mod:`.run`: the session's :class:`~fleetcheck.runstate.RunState`, made on first use;
- :mod:`.sharing`: :class:`~.sharing.FactSharing`, scale-out (xdist scheduling, shards, facts
  exchanged between workers) and releasing a cluster's objects after its last case;
- :mod:`.records`: :class:`~.records.RecordCollector`, the verdict records, per-cluster progress, interrupts;
- :mod:`.finish`: :class:`~.finish.SessionFinish`, the results document, reports, push and terminal summary.

Nothing here imports the scan's code at import time: a session that collects
no check registers these objects and pays for nothing else.
"""

from __future__ import annotations

from typing import TypeVar

import pytest

from fleetcheck.session.finish import SessionFinish
from fleetcheck.session.records import RecordCollector
from fleetcheck.session.sharing import FactSharing

__all__ = ["FactSharing", "RecordCollector", "SessionFinish", "part_of", "register"]

_Part = TypeVar("_Part", FactSharing, RecordCollector, SessionFinish)


def register(config: pytest.Config) -> None:
    """Register the session's objects with ``config``'s plugin manager, each under its class's ``NAME``."""
    records = RecordCollector(config)
    for part in (records, SessionFinish(config, records), FactSharing(config)):
        config.pluginmanager.register(part, part.NAME)


def part_of(config: pytest.Config, kind: type[_Part]) -> _Part:
    """``config``'s object of class ``kind``; LookupError when :func:`register` did not run for this config."""
    found = config.pluginmanager.get_plugin(kind.NAME)
    if not isinstance(found, kind):
        raise LookupError(f"no {kind.__name__} registered as {kind.NAME!r}: fleetcheck.plugin was not configured")
    return found
