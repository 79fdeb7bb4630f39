"""The plugin's options ``fleetcheck run`` accepts by their short names and hands on to pytest.

One list for the two places that need it: the runner spells each as
``--fleetcheck-NAME`` for pytest, and ``fleetcheck run --help`` names them.
It lives in the bottom layer because the CLI builds its parser without
importing the runner (which imports pytest and the check catalog).
"""

from __future__ import annotations

from collections.abc import Collection

#: short name -> metavar ("" for a flag), in the order ``fleetcheck run --help`` lists them
PLUGIN_OPTION_METAVARS: dict[str, str] = {
    "--reference-cluster": "NAME",
    "--report-formats": "LIST",
    "--no-reports": "",
    "--check-timeout": "S",
    "--cluster-timeout": "S",
    "--exec-timeout": "S",
    "--connect-timeout": "S",
    "--read-timeout": "S",
    "--page-size": "N",
    "--fetch-workers": "N",
    "--prefetch-mb": "MB",
    "--full-objects": "",
    "--pushgateway": "URL",
    "--shard": "K/N",
    "--facts": "DIR",
    "--facts-wait": "S",
}

#: the names alone: what the runner rewrites to ``--fleetcheck-NAME``
PLUGIN_OPTIONS: frozenset[str] = frozenset(PLUGIN_OPTION_METAVARS)


def plugin_options_help(declared: Collection[str]) -> str:
    """The options a ``fleetcheck run`` user may pass on, but those its own parser ``declared`` (shown already)."""
    return ", ".join(
        f"{name} {metavar}".rstrip() for name, metavar in PLUGIN_OPTION_METAVARS.items() if name not in declared
    )
