"""The registry's modules import each other in one direction, and the moved models keep their old import paths.

The layers contract (``lint-imports``) lets siblings of one layer import each
other, so it cannot see a cycle inside the registry; a cycle there used to be
hidden by function-local imports (``fleet`` -> ``cluster_file`` -> ``fleet``,
``fleet`` -> ``sources`` -> ``fleet``). This walks the real import graph
(grimp, which import-linter uses; function-local imports included, ``if
TYPE_CHECKING:`` ones not) and names a cycle if one comes back.
"""

from __future__ import annotations

import grimp
import pytest

import fleetcheck.registry
import fleetcheck.registry.declared
import fleetcheck.registry.fleet
import fleetcheck.registry.fleet_model

PACKAGES = ("fleetcheck.registry", "fleetcheck.state")


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle among ``edges`` (importer -> imported), as a path that ends where it starts."""
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return None
        for imported in sorted(edges.get(module, ())):
            found = visit(imported, [*path, module])
            if found:
                return found
        done.add(module)
        return None

    for start in sorted(edges):
        found = visit(start, [])
        if found:
            return found
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("fleetcheck", exclude_type_checking_imports=True, cache_dir=None)


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_of_the_package_imports_one_that_imports_it(graph: grimp.ImportGraph, package: str) -> None:
    modules = {package, *graph.find_descendants(package)}
    edges = {
        module: {m for m in graph.find_modules_directly_imported_by(module) if m in modules and m != module}
        for module in modules
    }
    assert _cycle(edges) is None, " -> ".join(_cycle(edges) or [])


def test_the_moved_models_are_one_class_under_every_old_name() -> None:
    assert fleetcheck.registry.fleet.DeclaredFacts is fleetcheck.registry.declared.DeclaredFacts
    assert fleetcheck.registry.DeclaredFacts is fleetcheck.registry.declared.DeclaredFacts
    assert fleetcheck.registry.fleet.labels_to_str is fleetcheck.registry.declared.labels_to_str
    for name in ("ClusterEntry", "ClusterSpec", "ExplicitCluster", "Fleet", "FleetFile"):
        assert getattr(fleetcheck.registry.fleet, name) is getattr(fleetcheck.registry.fleet_model, name), name
