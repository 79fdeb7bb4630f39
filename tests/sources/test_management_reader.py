"""The management-cluster reader the caller passes to ``load_fleet``: used when given, a clear error when not.

The registry sits below the state layer, so a discovering source reads its
management cluster only through the reader factory its caller hands in. The
fake reader here tests that wiring alone (which calls, which paths, which
timeout, closed after); the live reader is exercised end to end over HTTPS by
``test_fleet_managers.py`` and ``test_inventory_sources.py``.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetcheck.core.kinds import ResourceRef, parse_kind
from fleetcheck.errors import ConfigError, KindUnavailable
from fleetcheck.registry.fleet import load_fleet
from fleetcheck.registry.kubeconfig import MergedKubeconfig, merge_kubeconfigs
from fleetcheck.registry.sources.base import ManagementCluster, SourceUnavailable
from fleetcheck.state.management import LiveManagementReader, open_management_reader
from tests.builders import kubeconfig, write_yaml

Obj = dict[str, Any]
WORKLOAD_SERVER = "https://127.0.0.1:39011"


def _workload_secret() -> Obj:
    text = yaml.safe_dump(
        kubeconfig({"wl-1": "wl-1"}, {"wl-1": {"server": WORKLOAD_SERVER}}, current="wl-1"), sort_keys=False
    )
    return {
        "kind": "Secret",
        "type": "cluster.x-k8s.io/secret",
        "metadata": {"name": "wl-1-kubeconfig", "namespace": "team-a"},
        "data": {"value": base64.b64encode(text.encode()).decode()},
    }


@dataclass
class FakeReader:
    """A reader that answers from memory and records what it was asked."""

    clusters: list[Obj] | None
    objects: dict[str, Obj] = field(default_factory=dict)
    pages: dict[str, list[Obj]] = field(default_factory=dict)
    served: tuple[str, str] | None = ("", "v1")
    calls: list[tuple[str, str, tuple[tuple[str, Any], ...]]] = field(default_factory=list)
    closed: bool = False

    @property
    def server(self) -> str:
        return "https://127.0.0.1:39010"

    def list_cluster_wide(self, ref: ResourceRef) -> list[Obj] | None:
        self.calls.append(("list", ref.key, ()))
        return self.clusters

    def served_version(self, ref: ResourceRef) -> tuple[str, str] | None:
        self.calls.append(("resolve", ref.key, ()))
        return self.served

    def get_json(self, ref: ResourceRef, path: str, query: Sequence[tuple[str, Any]]) -> Obj | None:
        self.calls.append(("get", path, tuple(query)))
        if path in self.pages:
            token = dict(query).get("continue", "")
            page = int(token or 0)
            rest = self.pages[path][page:]
            more = {"continue": str(page + 1)} if len(rest) > 1 else {}
            return {"items": rest[:1], "metadata": more}
        return self.objects.get(path)

    def close(self) -> None:
        self.closed = True


@dataclass
class FakeFactory:
    """The factory ``load_fleet`` takes, handing out one :class:`FakeReader` and recording how it was opened."""

    reader: FakeReader
    opened: list[tuple[str, str, float]] = field(default_factory=list)

    def __call__(self, name: str, kubeconfig: MergedKubeconfig, context: str, timeout: float) -> FakeReader:
        assert context in kubeconfig.contexts
        self.opened.append((name, context, timeout))
        return self.reader


@pytest.fixture
def fleet_file(tmp_path: Path) -> Path:
    write_yaml(
        tmp_path / "kube" / "config",
        kubeconfig({"mgmt": "mgmt"}, {"mgmt": {"server": "https://127.0.0.1:39010"}}, current="mgmt"),
    )
    source = {"type": "capi", "context": "mgmt", "timeout_seconds": 7}
    return write_yaml(tmp_path / "fleet.yaml", {"defaults": {"kubeconfig": "kube/config"}, "sources": [source]})


def test_a_source_reads_its_management_cluster_through_the_reader_it_is_given(fleet_file: Path) -> None:
    cluster = {"metadata": {"name": "wl-1", "namespace": "team-a", "labels": {"env": "prod"}}, "status": {}}
    reader = FakeReader([cluster], objects={"/api/v1/namespaces/team-a/secrets/wl-1-kubeconfig": _workload_secret()})
    factory = FakeFactory(reader)

    fleet = load_fleet(fleet_file, management_reader=factory)

    assert factory.opened == [("sources[0] context mgmt", "mgmt", 7.0)]
    entry = fleet.get("wl-1")
    assert entry.source == "capi" and entry.labels == {"env": "prod"}
    assert entry.credentials is not None and entry.credentials_error is None
    assert entry.server == WORKLOAD_SERVER
    # one list of the Clusters, then one GET of the one named Secret: never a list of Secrets
    assert reader.calls == [
        ("list", parse_kind("cluster.x-k8s.io/v1beta2 clusters").key, ()),
        ("get", "/api/v1/namespaces/team-a/secrets/wl-1-kubeconfig", ()),
    ]
    assert reader.closed


def test_a_kind_the_reader_does_not_serve_is_the_sources_one_line_error_and_the_reader_is_closed(
    fleet_file: Path,
) -> None:
    reader = FakeReader(None)
    with pytest.raises(SourceUnavailable) as info:
        load_fleet(fleet_file, management_reader=FakeFactory(reader))
    assert info.value.field == "sources[0]"
    assert "context 'mgmt' does not serve Cluster API Clusters" in info.value.problem
    assert reader.closed


def test_a_readers_failure_on_a_secret_stays_that_clusters_reason(fleet_file: Path) -> None:
    class Forbidden(FakeReader):
        def get_json(self, ref: ResourceRef, path: str, query: Sequence[tuple[str, Any]]) -> Obj | None:
            raise KindUnavailable("sources[0] context mgmt", ref, "403 Forbidden: no 'get' on 'secrets'", 403)

    reader = Forbidden([{"metadata": {"name": "wl-1", "namespace": "team-a"}}])
    fleet = load_fleet(fleet_file, management_reader=FakeFactory(reader))
    error = fleet.get("wl-1").credentials_error
    assert error == "cannot read capi Secret team-a/wl-1-kubeconfig: 403 Forbidden: no 'get' on 'secrets'"
    assert reader.closed


def test_a_discovering_source_without_a_reader_is_a_type_error_naming_it_before_any_request(
    fleet_file: Path,
) -> None:
    with pytest.raises(TypeError) as info:
        load_fleet(fleet_file)
    message = str(info.value)
    assert "sources[0] reads a management cluster" in message
    assert "management_reader" in message and "open_management_reader" in message


def test_without_a_reader_a_typo_in_the_source_is_still_the_input_error(tmp_path: Path, fleet_file: Path) -> None:
    doc = yaml.safe_load(fleet_file.read_text(encoding="utf-8"))
    doc["sources"][0]["context"] = "nope"
    with pytest.raises(ConfigError) as info:
        load_fleet(write_yaml(fleet_file, doc))
    assert info.value.field == "sources[0].context"


def test_a_selected_list_asks_the_reader_for_the_served_version_and_follows_every_page(fleet_file: Path) -> None:
    path = "/apis/cluster.x-k8s.io/v1beta1/namespaces/fleet/clusters"
    reader = FakeReader(None, pages={path: [{"metadata": {"name": "a"}}, {"metadata": {"name": "b"}}]})
    reader.served = ("cluster.x-k8s.io", "v1beta1")
    merged = merge_kubeconfigs([fleet_file.parent / "kube" / "config"])
    mgmt = ManagementCluster(fleet_file, "sources[0]", merged, "mgmt", reader)

    items = mgmt.list_all("cluster.x-k8s.io/v1beta2 clusters", "Clusters", namespace="fleet", label_selector="a=b")

    assert [i["metadata"]["name"] for i in items] == ["a", "b"]
    assert reader.calls[0][0] == "resolve"
    assert reader.calls[1:] == [
        ("get", path, (("limit", 500), ("labelSelector", "a=b"))),
        ("get", path, (("limit", 500), ("labelSelector", "a=b"), ("continue", "1"))),
    ]
    reader.served = None
    assert mgmt.list_if_served("cluster.x-k8s.io/v1beta2 clusters", "Clusters", namespace="fleet") is None


@pytest.mark.parametrize(("timeout", "connect"), [(12.0, 5.0), (2.0, 2.0)])
def test_the_live_reader_keeps_the_management_timeouts(fleet_file: Path, timeout: float, connect: float) -> None:
    merged = merge_kubeconfigs([fleet_file.parent / "kube" / "config"])
    reader = open_management_reader("sources[0] context mgmt", merged, "mgmt", timeout)
    try:
        assert isinstance(reader, LiveManagementReader)
        options = reader._state.options
        assert (options.connect_timeout, options.read_timeout) == (connect, timeout)
        assert options.attempts == 2 and options.cluster_budget is None
        assert reader.server == "https://127.0.0.1:39010"
        assert reader._state.request_count == 0  # opening sends nothing
    finally:
        reader.close()
