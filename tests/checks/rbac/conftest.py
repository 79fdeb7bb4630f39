"""Fixtures: the real-shaped builders and check runner of ``tests/checks/rbac/fleet_objects.py``."""

from tests.checks.rbac.fleet_objects import k8s

__all__ = ["k8s"]
