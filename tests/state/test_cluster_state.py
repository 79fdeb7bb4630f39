"""ClusterState's promise: each kind listed once, even under concurrency; failures remembered."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from fleetcheck.core.kinds import ResourceRef
from fleetcheck.state.base import ClusterState, KindList, KindUnavailable, ServerVersion


class CountingState(ClusterState):
    """Counts ``_fetch`` calls per kind; ``forbidden`` kinds raise like a 403 would."""

    def __init__(self, forbidden: frozenset[str] = frozenset(), delay: float = 0.05) -> None:
        super().__init__("counting")
        self.calls: Counter[str] = Counter()
        self.forbidden = forbidden
        self.delay = delay
        self._count_lock = threading.Lock()

    def _fetch(self, ref: ResourceRef) -> KindList:
        with self._count_lock:
            self.calls[ref.key] += 1
        time.sleep(self.delay)  # a slow list: every other thread arrives while it is in flight
        if ref.key in self.forbidden:
            raise KindUnavailable(self.name, ref, "forbidden: list denied by RBAC", 403)
        return KindList(ref, [{"metadata": {"name": f"{ref.plural}-{self.calls[ref.key]}"}}])

    @property
    def version(self) -> ServerVersion:
        return ServerVersion(1, 31, "v1.31.4")

    @property
    def server_time(self) -> datetime:
        return datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def test_a_kind_is_fetched_once_under_eight_threads() -> None:
    state = CountingState()
    barrier = threading.Barrier(8)

    def read(i: int) -> list[dict[str, object]]:
        barrier.wait()
        # different spellings of the same kind share one cache entry
        return state.list(("pods", "po", "Pod", "v1 pods")[i % 4])

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(read, range(8)))
    assert state.calls == Counter({"pods": 1})
    assert all(r is results[0] for r in results)
    assert results[0] == [{"metadata": {"name": "pods-1"}}]


def test_different_kinds_are_fetched_in_parallel() -> None:
    state = CountingState(delay=0.2)
    kinds = ["pods", "nodes", "namespaces", "configmaps", "services", "leases", "daemonsets", "resourcequotas"]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(state.fetch, kinds))
    assert time.perf_counter() - started < 0.2 * 4  # not one after the other (1.6 s)
    assert set(state.calls.values()) == {1}


def test_errors_are_cached_and_reraised() -> None:
    state = CountingState(forbidden=frozenset({"secrets"}), delay=0)
    with ThreadPoolExecutor(max_workers=8) as pool:
        errors = list(pool.map(lambda _: _error_of(state, "secrets"), range(8)))
    assert state.calls["secrets"] == 1
    # the cached error raised again: each raise a copy (class, message, attributes), never the cached object,
    # whose traceback would keep every raiser's frames alive (tests/state/test_cached_errors.py)
    assert all(type(e) is KindUnavailable and e.args == errors[0].args for e in errors)
    assert len({id(e) for e in errors}) == len(errors)
    assert errors[0].status == 403
    assert str(errors[0]) == "cannot list secrets on counting: forbidden: list denied by RBAC"
    assert isinstance(state.fetched_kinds()["secrets"], KindUnavailable)
    assert state.list("pods")  # one forbidden kind does not spoil the others


def _error_of(state: ClusterState, kind: str) -> KindUnavailable:
    with pytest.raises(KindUnavailable) as info:
        state.fetch(kind)
    return info.value


def test_serves_and_read_time_use_the_cache() -> None:
    state = CountingState(delay=0)
    assert state.serves("nodes")
    assert state.read_time("nodes") == state.server_time  # no per-list time: falls back to "now"
    state.list("nodes")
    assert state.calls["nodes"] == 1
    assert list(state.fetched_kinds()) == ["nodes"]


def test_unknown_kind_is_a_value_error_not_cached() -> None:
    state = CountingState(delay=0)
    with pytest.raises(ValueError, match="unknown kind"):
        state.list("widgets")
    assert state.fetched_kinds() == {}
