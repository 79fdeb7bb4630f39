"""Shared facts: values and errors round-trip through JSON; hostile files are refused; released kinds error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from fleetcheck.core.kinds import parse_kind
from fleetcheck.demo.generate import demo_fleet_spec, generate_fleet
from fleetcheck.errors import FleetcheckError
from fleetcheck.facts.exchange import (
    SCHEMA,
    ExchangeError,
    FactExchange,
    PeerFactsMissing,
    decode,
    encode,
    export_facts,
    shared_facts,
)
from fleetcheck.registry.fleet import ClusterEntry
from fleetcheck.registry.profile import load_profile
from fleetcheck.state.base import KindReleased, KindUnavailable
from fleetcheck.state.snapshot import load_snapshot
from fleetcheck.state.snapshot_state import SnapshotClusterState
from fleetcheck.view import ClusterView, PeerView


@pytest.fixture(scope="module")
def demo_views(tmp_path_factory: pytest.TempPathFactory) -> list[ClusterView]:
    folders = generate_fleet(tmp_path_factory.mktemp("exchange") / "snaps", demo_fleet_spec(small=True))
    views = []
    for folder in folders:
        snapshot = load_snapshot(folder)
        entry = ClusterEntry(name=snapshot.name, snapshot=str(folder))
        views.append(ClusterView(entry, load_profile("prod"), SnapshotClusterState(snapshot)))
    return views


def test_every_shared_fact_of_the_demo_fleet_round_trips_to_an_equal_value(demo_views: list[ClusterView]) -> None:
    facts = shared_facts(load_profile("prod"))
    assert len(facts) >= 20
    values = 0
    for view in demo_views:
        document = orjson.loads(orjson.dumps(export_facts(view, facts)))  # through real JSON bytes
        for fact in facts:
            entry = document["facts"][fact.name]
            try:
                original: Any = view.fact(fact)
            except FleetcheckError as exc:
                error = decode(entry["error"])
                assert type(error) is type(exc) and str(error) == str(exc)
                continue
            assert "value" in entry, (fact.name, entry)
            assert decode(entry["value"]) == original, fact.name
            values += 1
    assert values > len(facts) * len(demo_views) // 2


def test_an_unreadable_kind_round_trips_as_the_same_error() -> None:
    error = KindUnavailable("prod-a", parse_kind("pods"), "forbidden: pods is forbidden", 403)
    back = decode(orjson.loads(orjson.dumps(encode(error))))
    assert isinstance(back, KindUnavailable)
    assert str(back) == str(error) and back.status == 403 and back.ref == error.ref


@pytest.mark.parametrize(
    "data",
    [
        {"$dc": "os:system", "f": {}},  # not fleetcheck's
        {"$dc": "fleetcheck.errors:ConfigError", "f": {}},  # not a dataclass
        {"$dc": "fleetcheck.core.kinds:ResourceRef", "f": {"group": ""}},  # fields do not match
        {"$model": "fleetcheck.core.kinds:ResourceRef", "f": {}},  # not a model
        {"$err": "builtins:SystemExit", "msg": "x", "a": {}},
        {"$nope": 1},
        {"$t": "not a list"},
        {"$map": [[1, 2, 3]]},
    ],
)
def test_a_hostile_value_is_refused(data: Any) -> None:
    with pytest.raises(ExchangeError):
        decode(data)


def test_a_value_nested_too_deep_is_refused() -> None:
    deep: Any = "x"
    for _ in range(100):
        deep = [deep]
    with pytest.raises(ExchangeError, match="deeper"):
        decode(deep)
    with pytest.raises(ExchangeError, match="deeper"):
        encode(deep)


def test_publish_read_and_the_first_writer_wins(tmp_path: Path, demo_views: list[ClusterView]) -> None:
    view = demo_views[0]
    facts = shared_facts(view.profile)
    exchange = FactExchange(tmp_path, wait=0.0, origin="worker gw0")
    path = exchange.publish(export_facts(view, facts))
    assert path.name == f"{view.name}.facts.json" and not list(tmp_path.glob(".tmp-*"))
    exchange.publish({"schema": SCHEMA, "cluster": view.name, "live": False, "facts": {}})  # a second owner
    shared = exchange.read(view.name)
    fact = facts[0]
    try:
        expected: Any = view.fact(fact)
    except FleetcheckError:
        return
    assert shared.get(fact) == expected


def test_a_missing_late_or_malformed_file_is_an_error_naming_it(tmp_path: Path) -> None:
    exchange = FactExchange(tmp_path, wait=0.05, origin="shard 2/2")
    with pytest.raises(PeerFactsMissing, match=r"not published by shard 2/2 within 0\.05 s"):
        exchange.read("prod-b")
    exchange.path("prod-b").write_text("{not json")
    with pytest.raises(ExchangeError, match="cannot read the shared facts of prod-b"):
        exchange.read("prod-b")
    exchange.path("prod-c").write_bytes(orjson.dumps({"schema": SCHEMA, "cluster": "prod-a", "facts": {}}))
    with pytest.raises(ExchangeError, match="holds the facts of 'prod-a'"):
        exchange.read("prod-c")
    exchange.publish_error("prod-d", "KindUnavailable: the cluster could not be opened")
    with pytest.raises(ExchangeError, match="could not share its facts: KindUnavailable"):
        exchange.read("prod-d")


def test_a_peer_is_never_listed_only_its_facts_are_read(tmp_path: Path, demo_views: list[ClusterView]) -> None:
    view = demo_views[0]
    facts = shared_facts(view.profile)
    exchange = FactExchange(tmp_path, wait=0.0)
    exchange.publish(export_facts(view, facts))
    peer = PeerView(view.entry, view.profile, "worker gw1", lambda: exchange.read(view.name))
    with pytest.raises(FleetcheckError, match="judged by worker gw1: only its shared facts are read here"):
        peer.list("pods")
    with pytest.raises(FleetcheckError, match="judged by worker gw1"):
        _ = peer.version
    from fleetcheck.facts.builtin import CNI

    assert peer.fact(CNI) == view.fact(CNI)


def test_a_released_kind_errors_and_never_reads_as_empty(demo_views: list[ClusterView]) -> None:
    view = demo_views[-1]
    assert view.list("namespaces")
    from fleetcheck.facts.builtin import CNI

    before = view.fact(CNI)
    view.state.release()
    with pytest.raises(KindReleased, match=r"namespaces of .* was released"):
        view.list("namespaces")
    assert view.fact(CNI) == before  # a fact computed before the release stays
