"""Fixtures for the demo generator's tests: generated fleets, read back the way a scanner reads them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from fleetcheck.demo import FleetSpec, Plant, demo_fleet_spec, generate_fleet, read_planted


@dataclass
class Snap:
    """One generated cluster folder, loaded."""

    name: str
    path: Path
    meta: dict[str, Any]
    kinds: dict[str, list[dict[str, Any]]]

    def items(self, key: str) -> list[dict[str, Any]]:
        return self.kinds.get(key, [])

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.meta.get("labels") or {})

    @property
    def captured(self) -> datetime:
        return parse_time(self.meta["captured"])


@dataclass
class Fleet:
    root: Path
    clusters: dict[str, Snap]
    plants: list[Plant]
    seconds: float


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def load_snapshot(folder: Path) -> Snap:
    kinds = {}
    for file in sorted(folder.glob("*.json")):
        kinds[file.name.removesuffix(".json")] = orjson.loads(file.read_bytes())["items"]
    meta = yaml.safe_load((folder / "cluster.yaml").read_text())
    return Snap(meta["name"], folder, meta, kinds)


def make_fleet(root: Path, spec: FleetSpec) -> Fleet:
    started = time.perf_counter()
    folders = generate_fleet(root, spec)
    seconds = time.perf_counter() - started
    clusters = {folder.name: load_snapshot(folder) for folder in folders}
    return Fleet(root, clusters, read_planted(root / "planted.json"), seconds)


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    """The demo fleet with its prod clusters shrunk: every plant, a fraction of the bytes."""
    return make_fleet(tmp_path_factory.mktemp("small-demo"), demo_fleet_spec(small=True))


@pytest.fixture(scope="session")
def full_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    """The real ``fleetcheck demo`` fleet (2 x 5,000 pods): generated once per session."""
    fleet = make_fleet(tmp_path_factory.mktemp("full-demo"), demo_fleet_spec())
    print(f"\ndemo fleet generated in {fleet.seconds:.2f} s")
    yield fleet
