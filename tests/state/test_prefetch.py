"""RunState prefetching at fleet scale: each cluster once, kubeconfigs parsed once, the collector out of the way."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

import fleetcheck.registry.kubeconfig as kubeconfig
import fleetcheck.runstate as runstate
from fleetcheck.registry.kubeconfig import MergedKubeconfig
from fleetcheck.runstate import RunOptions, RunState
from tests.integration.clusters import write_cluster


@pytest.fixture
def collector_restored() -> Iterator[None]:
    """Whatever a test does to the cyclic collector, the next test finds it as it was."""
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if enabled:
        gc.enable()
    else:
        gc.disable()


def _kubeconfig(path: Path, contexts: list[str]) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": c, "cluster": {"server": f"https://{c}.example.com"}} for c in contexts],
                "users": [{"name": "u", "user": {"token": "not-a-real-token"}}],
                "contexts": [{"name": c, "context": {"cluster": c, "user": "u"}} for c in contexts],
            }
        )
    )
    return path


def test_a_kubeconfig_is_parsed_once_while_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[Path]] = []
    original = kubeconfig._merge_files

    def counting(paths: list[Path], referenced_by: str) -> MergedKubeconfig:
        calls.append(paths)
        return original(paths, referenced_by)

    monkeypatch.setattr(kubeconfig, "_merge_files", counting)
    path = _kubeconfig(tmp_path / "kubeconfig", ["a", "b"])
    first = kubeconfig.merge_kubeconfigs([path])
    assert kubeconfig.merge_kubeconfigs([path]) is first
    assert len(calls) == 1
    _kubeconfig(path, ["a", "b", "c"])  # rewritten: a new size (and mtime), parsed again
    assert kubeconfig.merge_kubeconfigs([path]).contexts == ["a", "b", "c"]
    assert len(calls) == 2


def test_a_missing_kubeconfig_is_left_to_the_loader_to_report(tmp_path: Path) -> None:
    from fleetcheck.errors import ConfigError

    with pytest.raises(ConfigError):
        kubeconfig.merge_kubeconfigs([tmp_path / "absent"])


@pytest.mark.usefixtures("collector_restored")
def test_the_collector_pauses_while_any_prefetch_runs_and_then_freezes_what_was_listed() -> None:
    gc.enable()
    gc.unfreeze()
    pause = runstate._CollectorPause()
    inside = threading.Event()
    release = threading.Event()

    def prefetch() -> None:
        with pause:
            inside.set()
            release.wait(5)

    worker = threading.Thread(target=prefetch)
    worker.start()
    assert inside.wait(5)
    with pause:  # a second, overlapping prefetch
        assert not gc.isenabled()
    assert not gc.isenabled(), "still paused: the first prefetch runs"
    release.set()
    worker.join(5)
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0


@pytest.mark.usefixtures("collector_restored")
def test_a_disabled_collector_stays_disabled() -> None:
    gc.disable()
    with runstate._CollectorPause():
        pass
    assert not gc.isenabled()


@pytest.fixture
def three_snapshots(tmp_path: Path) -> list[str]:
    root = tmp_path / "snaps"
    return [str(write_cluster(root, name)) for name in ("prod-a", "prod-b", "dev-1")]


@pytest.mark.usefixtures("collector_restored")
def test_prefetch_all_lists_every_cluster_once_and_close_lets_go(three_snapshots: list[str]) -> None:
    run = RunState(RunOptions(snapshots=tuple(three_snapshots), prefetch_workers=2))
    kinds = ["namespaces", "resourcequotas"]
    run.prefetch_all({name: kinds for name in ("prod-a", "prod-b", "dev-1")})
    run.prefetch_all({"prod-a": ["pods"]})  # once per run: a second plan queues nothing
    futures = [run.prefetch(name, ["pods"]) for name in ("prod-a", "prod-b", "dev-1")]
    for future in futures:
        future.result(timeout=30)
    for name in ("prod-a", "prod-b", "dev-1"):
        state = run.state(name)
        assert set(state.fetched_kinds()) == {"namespaces", "resourcequotas"}
        assert state.projection, "a scan keeps slim objects unless --full-objects"
    assert run.prefetch_peers(["prod-a", "dev-1"], ["pods"]) == [futures[0], futures[2]]
    run.close()
    assert gc.get_freeze_count() == 0
    assert run._states == {}


def test_full_objects_turns_projection_off(three_snapshots: list[str]) -> None:
    run = RunState(RunOptions(snapshots=tuple(three_snapshots), slim_objects=False))
    assert not run.state("prod-a").projection
    run.close()


def test_peers_not_queued_are_listed_for_the_comparison(three_snapshots: list[str]) -> None:
    run = RunState(RunOptions(snapshots=tuple(three_snapshots), prefetch_workers=2))
    mine = run.prefetch("prod-a", ["namespaces"])
    futures = run.prefetch_peers(["prod-a", "prod-b", "dev-1"], ["resourcequotas"])
    assert futures[0] is mine
    for future in futures:
        future.result(timeout=30)
    assert set(run.state("prod-b").fetched_kinds()) == {"resourcequotas"}
    run.close()


def test_clusters_opened_at_once_each_get_their_whole_ca_file(tmp_path: Path, slow_ca_writer: None) -> None:
    """The client names a shared CA temp file before writing it; clusters opened from a pool never see it empty."""
    import base64
    import secrets
    from concurrent.futures import ThreadPoolExecutor

    from fleetcheck.registry.kubeconfig import merge_kubeconfigs
    from fleetcheck.state.live import LiveClusterState

    ca = base64.b64encode(f"-----BEGIN CERTIFICATE-----\n{secrets.token_hex(256)}\n".encode()).decode()
    names = [f"c{i}" for i in range(8)]
    path = tmp_path / "kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {"name": n, "cluster": {"server": "https://127.0.0.1:1", "certificate-authority-data": ca}}
                    for n in names
                ],
                "users": [{"name": "u", "user": {"token": "not-a-real-token"}}],
                "contexts": [{"name": n, "context": {"cluster": n, "user": "u"}} for n in names],
            }
        )
    )
    merged = merge_kubeconfigs([path])
    barrier = threading.Barrier(len(names))

    def ca_size_when_opened(name: str) -> int:
        barrier.wait(10)
        state = LiveClusterState(name, merged, name)
        size = Path(str(state._api.configuration.ssl_ca_cert)).stat().st_size
        state.close()
        return size

    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        sizes = list(pool.map(ca_size_when_opened, names))
    assert all(size > 0 for size in sizes), sizes
