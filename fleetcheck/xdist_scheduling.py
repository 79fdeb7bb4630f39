"""The pytest-xdist scheduler of a fleetcheck run: each cluster's cases go to the one worker that owns it.

Grouping rides on public parts only: the ``pytest_xdist_make_scheduler``
hook and xdist's :class:`~xdist.scheduler.loadscope.LoadScopeScheduling`,
whose scope split is overridden to the cluster parameter id (the
``[name]`` a check's node id ends with). ``--dist loadgroup`` rewrote
``item._nodeid`` to carry the group, which pytest 9.2 no longer reads.

Which worker owns a cluster is not left to the load: it is
:func:`fleetcheck.runstate.owner_slot`, computed alike by the controller
(here) and by each worker (which lists and publishes the facts of exactly
the clusters it owns, from the start of the run). A worker waiting for a
peer's facts therefore waits for another worker's background listing,
never for a case that worker has not been given: no cycle, no deadlock. A
worker that owns nothing is shut down; a crashed worker's cases go to any
other worker, where its clusters are peers and their checks error saying
so (never a verdict from objects nobody listed).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from xdist.scheduler.loadscope import LoadScopeScheduling  # type: ignore[import-untyped]  # xdist ships no py.typed

from fleetcheck.runstate import Sharing, owner_slot

if TYPE_CHECKING:
    from fleetcheck.runstate import RunState

__all__ = ["ClusterScheduling", "cluster_param", "controller_sharing", "worker_index", "worker_sharing"]

_PARAM = re.compile(r"\[([^\[\]]+)\]$")


def cluster_param(nodeid: str) -> str | None:
    """The parameter id a node id ends with (a check's cluster), or None.

    ``--dist loadgroup`` on pytest < 9.2 appends ``@group`` to the node id; that suffix is ignored.
    """
    if nodeid.rfind("@") > nodeid.rfind("]"):
        nodeid = nodeid[: nodeid.rfind("@")]
    match = _PARAM.search(nodeid)
    return match.group(1) if match else None


def worker_index(gateway_id: str) -> int | None:
    """``gw3`` -> 3 (xdist's own naming); None for a custom ``--tx`` id."""
    digits = gateway_id.removeprefix("gw")
    return int(digits) if digits.isdigit() else None


def _owners(run: RunState, workers: int) -> dict[str, str]:
    """Cluster -> who owns it: ``worker gwN`` for this run's clusters, ``shard K/N`` for other shards'."""
    names = run.fleet.names()
    shard = run.options.shard
    owners: dict[str, str] = {}
    for i, name in enumerate(sorted(names)):
        slot = owner_slot(names, name, shard, workers)
        owners[name] = (
            f"worker gw{slot}" if slot is not None else f"shard {i % shard[1] + 1}/{shard[1]}" if shard else "?"
        )
    return owners


def controller_sharing(run: RunState, directory: Path, workers: int) -> tuple[Callable[[str], int | None], Sharing]:
    """The controller's view: which worker owns each cluster, and a sharing that owns nothing itself."""
    names = run.fleet.names()
    slots = {name: owner_slot(names, name, run.options.shard, workers) for name in names}
    sharing = Sharing(directory, frozenset(), _owners(run, workers), run.options.facts_wait)
    return slots.get, sharing


def worker_sharing(run: RunState, directory: Path, worker_id: str, workers: int) -> Sharing | None:
    """A worker's share: the clusters :func:`owner_slot` gives it (None under a custom ``--tx`` id)."""
    index = worker_index(worker_id)
    if index is None:
        return None
    names = run.fleet.names()
    owned = frozenset(name for name in names if owner_slot(names, name, run.options.shard, workers) == index)
    return Sharing(directory, owned, _owners(run, workers), run.options.facts_wait)


class ClusterScheduling(LoadScopeScheduling):  # type: ignore[misc]  # an untyped base (see the import)
    """Load-scope scheduling with a cluster as the scope, and each cluster sent to its owner."""

    def __init__(self, config: pytest.Config, log: Any, owner_of: Callable[[str], int | None]) -> None:
        super().__init__(config, log)
        self._owner_of = owner_of

    def _split_scope(self, nodeid: str) -> str:
        """A check's case: its cluster; anything else: xdist's own scope (module or class)."""
        cluster = cluster_param(nodeid)
        return (
            f"cluster:{cluster}"
            if cluster is not None and self._owner_of(cluster) is not None
            else (super()._split_scope(nodeid))
        )

    def _owner(self, scope: str) -> int | None:
        """The worker index a scope belongs to (None: any worker may run it)."""
        if not scope.startswith("cluster:"):
            return None
        return self._owner_of(scope.removeprefix("cluster:"))

    def _takes(self, node: Any, scope: str) -> bool:
        owner = self._owner(scope)
        if owner is None:
            return True
        alive = {worker_index(n.gateway.id) for n in self.nodes}
        return owner == worker_index(node.gateway.id) or owner not in alive  # a dead owner's work goes to anyone

    def _assign_work_unit(self, node: Any) -> None:
        """Send ``node`` the first pending scope it may take."""
        scope = next(s for s in self.workqueue if self._takes(node, s))
        work_unit = self.workqueue.pop(scope)
        self.assigned_work.setdefault(node, {})[scope] = work_unit
        collection = self.registered_collections[node]
        node.send_runtest_some([collection.index(nodeid) for nodeid, done in work_unit.items() if not done])

    def _reschedule(self, node: Any) -> None:
        """More work for ``node`` when it runs low; shut it down when nothing left is its own."""
        if node.shutting_down:
            return
        if not any(self._takes(node, scope) for scope in self.workqueue):
            node.shutdown()
            return
        if self._pending_of(self.assigned_work[node]) > 2:
            return
        self._assign_work_unit(node)

    def schedule(self) -> None:
        """Build the scopes and start every worker on its own (no worker is dropped: each owns clusters)."""
        assert self.collection_is_completed
        started: list[str] | None = getattr(self, "collection", None)
        if started is not None:
            for node in self.nodes:
                self._reschedule(node)
            return
        if not self._check_nodes_have_same_collection():
            self.log("**Different tests collected, aborting run**")
            return
        collection: list[str] = list(next(iter(self.registered_collections.values())))
        self.collection = collection
        if not collection:
            return
        for nodeid in collection:
            self.workqueue.setdefault(self._split_scope(nodeid), {})[nodeid] = False
        for node in self.nodes:
            self._reschedule(node)
        if not self.workqueue:
            for node in self.nodes:
                if not node.shutting_down:
                    node.shutdown()
