"""Fixtures for these check tests: the shared builders and inner check run of ``tests/checks/tiers/fleet_kit.py``."""

from tests.checks.tiers.fleet_kit import kit, run, scans

__all__ = ["kit", "run", "scans"]
