"""A remembered error keeps its message, never the frames that raised it (see ``fleetcheck.errors.fresh``).

Raising a stored exception object again adds the raising frames to its
traceback; cached for the whole run, such an error kept every raiser's
locals alive (on fleet-100: 4,266 frames, two KindUnavailable per cluster
holding a released cluster's teardown, release and fact frames). These tests
hold a large local alive only through the frames that raised and caught a
cached error, and check that it dies with its handler.
"""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest

from fleetcheck.errors import FleetcheckError, KindUnavailable, fresh
from fleetcheck.facts.key import Fact, FactCache, FactInput
from fleetcheck.state.base import KindReleased
from tests.state.test_cluster_state import CountingState

FORBIDDEN = "daemonsets.apps"


class Payload:
    """Stands in for a cluster's listed objects: only a weak reference outside the frame that holds it."""


def _raise_from_a_frame_holding(payload: Payload, action: Any) -> None:
    held = payload  # a local of the raising frame, as a check's or a fact's lists are
    assert held is payload
    action()


def _caught(payload: Payload, action: Any) -> BaseException:
    try:
        _raise_from_a_frame_holding(payload, action)
    except FleetcheckError as exc:
        return exc
    raise AssertionError("the action did not raise")


def _survives(action: Any) -> bool:
    """Whether a payload local to the raising frames outlives the handler (the cached error keeping it)."""
    payload = Payload()
    ref = weakref.ref(payload)
    error = _caught(payload, action)
    assert error.__traceback__ is not None  # the caught error has its traceback while it is handled
    del error, payload
    gc.collect()
    return ref() is not None


def test_fresh_copies_class_message_and_attributes_without_the_traceback() -> None:
    state = CountingState(forbidden=frozenset({FORBIDDEN}), delay=0)
    with pytest.raises(KindUnavailable) as raised:
        state.fetch(FORBIDDEN)
    original = raised.value
    copy = fresh(original)
    assert type(copy) is KindUnavailable and copy is not original
    assert str(copy) == str(original) and copy.args == original.args
    assert (copy.cluster, copy.ref, copy.reason, copy.status) == ("counting", original.ref, original.reason, 403)
    assert copy.__traceback__ is None and copy.__context__ is None and copy.__cause__ is None


def test_a_kind_that_could_not_be_listed_keeps_no_raiser_alive() -> None:
    state = CountingState(forbidden=frozenset({FORBIDDEN}), delay=0)
    assert not _survives(lambda: state.fetch(FORBIDDEN))  # first read: the error is cached
    assert not _survives(lambda: state.fetch(FORBIDDEN))  # every later read raises it again
    state.release()
    assert not _survives(lambda: state.fetch(FORBIDDEN))  # and after the release, where it outlives the lists
    assert state.calls[FORBIDDEN] == 1
    with pytest.raises(KindUnavailable, match="forbidden: list denied by RBAC"):
        state.fetch(FORBIDDEN)
    with pytest.raises(KindReleased):
        state.fetch("pods")


def test_a_fact_that_could_not_be_computed_keeps_no_raiser_alive() -> None:
    state = CountingState(forbidden=frozenset({FORBIDDEN}), delay=0)
    key: Fact[int] = Fact(
        "daemonset_count", "how many DaemonSets", (FORBIDDEN,), lambda given: len(given.list(FORBIDDEN))
    )
    cache = FactCache()

    def source(fact: Fact[Any]) -> FactInput:
        return FactInput("counting", state, None, None, fact.read_keys)  # type: ignore[arg-type]  # unread

    assert not _survives(lambda: cache.get(key, source))
    assert not _survives(lambda: cache.get(key, source))
    assert cache.computed == {"daemonset_count": 1}
    with pytest.raises(KindUnavailable, match="cannot list apps/v1 daemonsets on counting"):
        cache.get(key, source)


def test_the_old_way_kept_the_raiser_alive() -> None:
    """The guard can fail: a stored error raised again as the same object keeps the frames' locals."""
    kept = FleetcheckError("remembered")

    def raise_the_stored_object() -> None:
        raise kept

    assert _survives(raise_the_stored_object)
