"""Fixtures for the FC-CNI and FC-VER tests: the same builders and inner check run as the image tests."""

from tests.checks.images.k8s_builders import k8s, run_checks, write_profile

__all__ = ["k8s", "run_checks", "write_profile"]
