"""The session's :class:`~fleetcheck.runstate.RunState`: one per pytest config, made when a check first needs it.

Kept in pytest's stash (the one piece of session state every part reads:
fixtures, sharing, records and the finish), and made lazily, so a session
that collects no check never loads the fleet code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

import pytest

from fleetcheck.errors import EXIT_CONFIG, ConfigError

if TYPE_CHECKING:
    from fleetcheck.runstate import RunState

__all__ = ["existing_run", "exit_on_config_error", "run_of"]

_RUN_KEY = pytest.StashKey["RunState"]()


def run_of(config: pytest.Config) -> RunState:
    """The session's run state, made on first use; a bad fleet or profile ends the session (exit 2, one line)."""
    run = config.stash.get(_RUN_KEY, None)
    if run is None:
        from fleetcheck.options import run_options
        from fleetcheck.runstate import RunState

        try:
            run = RunState(run_options(config))
        except ConfigError as exc:
            exit_on_config_error(exc)
        config.stash[_RUN_KEY] = run
    return run


def existing_run(config: pytest.Config) -> RunState | None:
    """The run state if a check made one (None in a session that ran no check); never makes it."""
    return config.stash.get(_RUN_KEY, None)


def exit_on_config_error(exc: ConfigError) -> NoReturn:
    """End the session with the error's one line and the configuration exit code, never a traceback."""
    pytest.exit(f"fleetcheck: {exc.one_line()}", returncode=EXIT_CONFIG)
