"""Serve snapshot folders as read-only Kubernetes API endpoints (demo, tests, benchmarks).

The public surface is re-exported here; the modules behind it are private.
"""

from __future__ import annotations

from .cli import main
from .faults import Fault
from .process import ReplayProcess
from .server import ReplayServer, RequestRecord

__all__ = ["Fault", "ReplayProcess", "ReplayServer", "RequestRecord", "main"]
