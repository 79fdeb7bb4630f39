"""fleetcheck: fleet conformance and gotcha-linting for Kubernetes.

The public API for check authors is re-exported here; everything else is
internal and may change.

The re-exports are loaded on first use (PEP 562 ``__getattr__``): pytest
imports this package for the plugin in every session of the environment,
and one that collects no check must not pay for the catalog, the views and
the state layer. ``from fleetcheck import check`` works as before.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from fleetcheck.core.version import __version__

if TYPE_CHECKING:
    from fleetcheck.catalog import CheckSpec, check
    from fleetcheck.core.refs import object_ref
    from fleetcheck.outcomes import CheckFailed, Findings, breakdown, fail, name_list, skip
    from fleetcheck.state.base import KindUnavailable, ServerVersion
    from fleetcheck.view import ClusterView, FleetView

#: public name -> the module that defines it
_EXPORTS = {
    "CheckFailed": "fleetcheck.outcomes",
    "CheckSpec": "fleetcheck.catalog",
    "ClusterView": "fleetcheck.view",
    "Findings": "fleetcheck.outcomes",
    "FleetView": "fleetcheck.view",
    "KindUnavailable": "fleetcheck.state.base",
    "ServerVersion": "fleetcheck.state.base",
    "breakdown": "fleetcheck.outcomes",
    "check": "fleetcheck.catalog",
    "fail": "fleetcheck.outcomes",
    "name_list": "fleetcheck.outcomes",
    "object_ref": "fleetcheck.core.refs",
    "skip": "fleetcheck.outcomes",
}

__all__ = [
    "CheckFailed",
    "CheckSpec",
    "ClusterView",
    "Findings",
    "FleetView",
    "KindUnavailable",
    "ServerVersion",
    "__version__",
    "breakdown",
    "check",
    "fail",
    "name_list",
    "object_ref",
    "skip",
]


def __getattr__(name: str) -> Any:
    """A re-exported name, from its module as ``sys.modules`` holds it now.

    Not cached here: a test harness that restores ``sys.modules`` between nested pytest runs
    (pytester) re-imports the catalog, and a cached ``check`` would then mark functions with
    another module's ``CheckSpec`` than the plugin reads.
    """
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'fleetcheck' has no attribute {name!r}")
    return getattr(import_module(module), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
