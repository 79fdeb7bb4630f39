"""A deterministic generator of realistic demo fleets with planted gotchas.

``fleetcheck demo``, the project's tests and the benchmarks scan what this
writes: one snapshot folder per cluster (plain ``kubectl get -A -o json``
Lists, plus ``cluster.yaml``) and ``planted.json``, the findings every
check should report on it. Same spec, same bytes.
"""

from fleetcheck.demo.generate import (
    SIZES,
    ClusterSpec,
    FleetSpec,
    GeneratedCluster,
    bench_fleet_spec,
    demo_fleet_spec,
    generate_cluster,
    generate_fleet,
    profile_registries,
    profile_standards,
)
from fleetcheck.demo.planted import PLANTINGS, Plant, read_planted

__all__ = [
    "PLANTINGS",
    "SIZES",
    "ClusterSpec",
    "FleetSpec",
    "GeneratedCluster",
    "Plant",
    "bench_fleet_spec",
    "demo_fleet_spec",
    "generate_cluster",
    "generate_fleet",
    "profile_registries",
    "profile_standards",
    "read_planted",
]
