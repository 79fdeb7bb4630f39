"""fleetcheck: fleet conformance and gotcha-linting for Kubernetes.

The public API for check authors is re-exported here; everything else is
internal and may change.
"""

from fleetcheck.catalog import CheckSpec, check
from fleetcheck.outcomes import CheckFailed, Findings, breakdown, fail, name_list, skip
from fleetcheck.state.base import KindUnavailable, ServerVersion
from fleetcheck.view import ClusterView, FleetView, object_ref

__version__ = "0.1.0"

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
