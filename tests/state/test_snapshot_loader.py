"""The snapshot loader reads what people actually have: kubectl output, cluster-info dumps, sonobuoy results."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from fleetcheck.errors import ConfigError
from fleetcheck.registry.cluster_file import read_cluster_file
from fleetcheck.state.snapshot import load_snapshot, parse_timestamp
from tests.builders import (
    alias_bomb,
    crd,
    daemonset,
    k8s_list,
    namespace,
    node,
    pod,
    resource_quota,
    write_json,
    write_yaml,
)


def _names(snap_objects: list[dict[str, object]]) -> list[str]:
    return sorted(str(o["metadata"]["name"]) for o in snap_objects)  # type: ignore[index]


def test_kubectl_list_json_and_yaml(tmp_path: Path) -> None:
    write_json(tmp_path / "pods.json", k8s_list([pod("team-a", "web-1"), pod("team-a", "web-2")]))
    write_yaml(tmp_path / "namespaces.yaml", k8s_list([namespace("team-a"), namespace("kube-system")]))
    snap = load_snapshot(tmp_path)
    assert _names(snap.objects["pods"]) == ["web-1", "web-2"]
    assert _names(snap.objects["namespaces"]) == ["kube-system", "team-a"]
    assert snap.refs["namespaces"].namespaced is False
    assert snap.name == tmp_path.name
    assert sorted(snap.files_read) == ["namespaces.yaml", "pods.json"]


def test_typed_list_and_multi_document_yaml_and_single_object(tmp_path: Path) -> None:
    typed = {"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": [pod("a", "p1")]}
    write_json(tmp_path / "list.json", typed)
    (tmp_path / "multi.yaml").write_text(
        yaml.safe_dump_all([resource_quota("a", "q1", {"cpu": "2"}), None, namespace("a")]), encoding="utf-8"
    )
    write_yaml(tmp_path / "one.yml", daemonset("kube-system", "cilium"))
    snap = load_snapshot(tmp_path)
    assert _names(snap.objects["pods"]) == ["p1"]
    assert _names(snap.objects["resourcequotas"]) == ["q1"]
    assert _names(snap.objects["namespaces"]) == ["a"]
    assert _names(snap.objects["daemonsets.apps"]) == ["cilium"]


def test_bare_json_array(tmp_path: Path) -> None:
    write_json(tmp_path / "stuff.json", [node("n1"), node("n2"), pod("a", "p")])
    snap = load_snapshot(tmp_path)
    assert _names(snap.objects["nodes"]) == ["n1", "n2"]
    assert _names(snap.objects["pods"]) == ["p"]


def test_sonobuoy_layout(tmp_path: Path) -> None:
    res = tmp_path / "resources"
    write_json(res / "cluster" / "core_v1_nodes.json", k8s_list([node("kind-control-plane")]))
    write_json(res / "ns" / "kube-system" / "core_v1_pods.json", [pod("kube-system", "etcd")])
    # DaemonSets of a v1.14 cluster are served as extensions/v1beta1; checks ask for daemonsets.apps
    old_ds = daemonset("kube-system", "kindnet", api_version="extensions/v1beta1")
    write_json(res / "ns" / "kube-system" / "extensions_v1beta1_daemonsets.json", k8s_list([old_ds]))
    # sonobuoy 0.14 wrote every namespace's objects into each namespace folder: no duplicates must result
    write_json(res / "ns" / "default" / "extensions_v1beta1_daemonsets.json", k8s_list([old_ds]))
    write_json(tmp_path / "serverversion.json", {"major": "1", "minor": "14", "gitVersion": "v1.14.2"})
    write_json(tmp_path / "meta" / "query-time.json", [{"queryobj": "Nodes", "time": "1ms"}])
    write_json(tmp_path / "plugins" / "e2e" / "results.json", [pod("x", "not-a-cluster-object")])
    snap = load_snapshot(tmp_path)
    assert _names(snap.objects["nodes"]) == ["kind-control-plane"]
    assert _names(snap.objects["pods"]) == ["etcd"]
    assert _names(snap.objects["daemonsets.apps"]) == ["kindnet"]
    assert snap.objects["daemonsets.apps"][0]["apiVersion"] == "extensions/v1beta1"
    assert snap.server_version is not None and snap.server_version["gitVersion"] == "v1.14.2"
    assert not any(f.startswith(("meta", "plugins")) for f in snap.files_read)


def test_old_sonobuoy_files_take_the_kind_from_the_file_name(tmp_path: Path) -> None:
    def untyped(obj: dict[str, object]) -> dict[str, object]:
        return {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}

    ns = tmp_path / "resources" / "ns" / "kube-system"
    write_json(ns / "Pods.json", [untyped(pod("kube-system", "kube-dns-1"))])
    write_json(ns / "DaemonSets.json", [untyped(daemonset("kube-system", "calico-node"))])
    write_json(tmp_path / "resources" / "cluster" / "Nodes.json", [untyped(node("ip-10-0-26-239"))])
    write_json(ns / "ControllerRevisions.json", [untyped(pod("kube-system", "rev"))])
    snap = load_snapshot(tmp_path)
    pods = snap.objects["pods"]
    assert (pods[0]["apiVersion"], pods[0]["kind"]) == ("v1", "Pod")
    assert snap.objects["daemonsets.apps"][0]["kind"] == "DaemonSet"
    assert snap.objects["daemonsets.apps"][0]["apiVersion"] == "apps/v1"
    assert _names(snap.objects["nodes"]) == ["ip-10-0-26-239"]
    assert any("1 objects without apiVersion/kind" in note for note in snap.notes)


def test_cluster_info_dump_tree(tmp_path: Path) -> None:
    def typed_list(kind: str, items: list[dict[str, object]]) -> dict[str, object]:
        bare = [{k: v for k, v in i.items() if k not in ("apiVersion", "kind")} for i in items]
        return {"kind": kind, "apiVersion": "v1", "metadata": {"resourceVersion": "99"}, "items": bare}

    write_json(tmp_path / "nodes.json", typed_list("NodeList", [node("worker-1"), node("worker-2")]))
    write_json(tmp_path / "kube-system" / "pods.json", typed_list("PodList", [pod("kube-system", "coredns-1")]))
    write_json(tmp_path / "team-a" / "pods.json", typed_list("PodList", [pod("team-a", "api-1")]))
    write_json(
        tmp_path / "kube-system" / "daemonsets.json",
        {"kind": "DaemonSetList", "apiVersion": "apps/v1", "metadata": {}, "items": []},
    )
    (tmp_path / "kube-system" / "coredns-1").mkdir()
    (tmp_path / "kube-system" / "coredns-1" / "logs.txt").write_text("[INFO] plugin/reload\n", encoding="utf-8")
    snap = load_snapshot(tmp_path)
    assert _names(snap.objects["nodes"]) == ["worker-1", "worker-2"]
    assert _names(snap.objects["pods"]) == ["api-1", "coredns-1"]
    assert snap.objects["pods"][0]["kind"] == "Pod"
    assert snap.objects["daemonsets.apps"] == []
    assert not any(f.endswith("logs.txt") for f in snap.files_read)


def test_empty_list_file_marks_a_custom_kind_served(tmp_path: Path) -> None:
    write_json(tmp_path / "velero.io_v1_schedules.json", k8s_list([]))
    write_json(tmp_path / "velero.io_v1_backups.json", {"apiVersion": "v1", "kind": "List", "items": None})
    write_yaml(tmp_path / "other.yaml", {"apiVersion": "v1", "kind": "List", "items": []})
    snap = load_snapshot(tmp_path)
    assert snap.objects["schedules.velero.io"] == []
    assert snap.objects["backups.velero.io"] == []
    assert set(snap.objects) == {"schedules.velero.io", "backups.velero.io"}  # no "lists" kind from the Lists


def test_custom_resources_say_whether_they_are_namespaced(tmp_path: Path) -> None:
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "a"}}
    gadget = {"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g"}}
    write_json(tmp_path / "crs.json", k8s_list([widget, gadget, crd("example.com", "widgets", "Widget")]))
    snap = load_snapshot(tmp_path)
    assert snap.refs["widgets.example.com"].namespaced is True
    assert snap.refs["gadgets.example.com"].namespaced is False


def test_later_copy_of_an_object_replaces_the_earlier(tmp_path: Path) -> None:
    old, new = pod("a", "web"), pod("a", "web", image="registry.example.com/app:2.0")
    write_json(tmp_path / "1.json", [old])
    write_json(tmp_path / "2.json", [new])
    snap = load_snapshot(tmp_path)
    assert len(snap.objects["pods"]) == 1
    assert snap.objects["pods"][0]["spec"]["containers"][0]["image"].endswith(":2.0")


def test_cluster_yaml(tmp_path: Path) -> None:
    write_json(tmp_path / "serverversion.json", {"major": "1", "minor": "8", "gitVersion": "v1.8.4"})
    (tmp_path / "cluster.yaml").write_text(
        "name: prod-eu-west\ncaptured: 2026-11-24T10:00:00Z\nserverVersion: v1.31.4\n"
        "labels: {env: prod, tier: 1, expires: 2027-01-01}\n",
        encoding="utf-8",
    )
    write_json(tmp_path / "pods.json", k8s_list([pod("a", "p")]))
    snap = load_snapshot(tmp_path)
    assert snap.name == "prod-eu-west"
    assert snap.captured == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert snap.captured_source == "cluster.yaml"
    assert snap.server_version == {"major": "1", "minor": "31", "gitVersion": "v1.31.4"}  # declared wins
    assert snap.labels == {"env": "prod", "tier": "1", "expires": "2027-01-01"}
    assert "cluster.yaml" not in snap.files_read
    assert not snap.notes


def test_cluster_yaml_with_a_naive_capture_time_is_utc(tmp_path: Path) -> None:
    (tmp_path / "cluster.yaml").write_text("captured: 2026-11-24 10:00:00\n", encoding="utf-8")
    assert load_snapshot(tmp_path).captured == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("name: x\ncolour: red\n", "colour"),
        ("labels: [a, b]\n", "labels"),
        ("captured: yesterday\n", "captured"),
        ("- a list\n", ""),
    ],
)
def test_bad_cluster_yaml_is_a_config_error(tmp_path: Path, text: str, field: str) -> None:
    (tmp_path / "cluster.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        read_cluster_file(tmp_path)
    assert info.value.source == str(tmp_path / "cluster.yaml")
    assert info.value.field == field
    assert info.value.fix


def test_capture_time_defaults_to_the_newest_timestamp_with_a_note(tmp_path: Path) -> None:
    newest = node("n1", heartbeat="2026-11-24T09:59:40Z")
    write_json(tmp_path / "nodes.json", k8s_list([node("n0", heartbeat="2026-11-20T00:00:00Z"), newest]))
    write_json(
        tmp_path / "events.json",
        k8s_list(
            [
                {
                    "apiVersion": "v1",
                    "kind": "Event",
                    "metadata": {"name": "e", "namespace": "a", "creationTimestamp": "2026-11-24T09:00:00Z"},
                    "eventTime": "2026-11-24T09:59:41.123456Z",
                    "message": "not a time: 2026-11-25T00:00:00Zulu",
                }
            ]
        ),
    )
    snap = load_snapshot(tmp_path)
    assert snap.captured == datetime(2026, 11, 24, 9, 59, 41, 123456, tzinfo=UTC)
    assert snap.captured_source == "newest timestamp in the snapshot"
    assert any("capture time not declared" in note and "2026-11-24T09:59:41" in note for note in snap.notes)


def test_capture_time_unknown_without_timestamps(tmp_path: Path) -> None:
    write_json(tmp_path / "x.json", [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}])
    snap = load_snapshot(tmp_path)
    assert snap.captured is None
    assert snap.captured_source == "unknown"


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("pods.json", b'{"apiVersion": "v1", "kind": "List", "items": [{"metadata": {"na', "invalid JSON"),
        ("pods.json", b'{"items": [{"metadata": {"name": "caf\xe9"}}]}', "not UTF-8"),
        ("pods.yaml", b"items:\n- metadata: {name: \xff}\n", "not UTF-8"),
        ("pods.json", b"[" * 5000 + b"]" * 5000, "invalid JSON"),
        ("pods.yaml", b"items: [\n  - {metadata: {name: a}\n", "invalid YAML"),
        ("pods.yaml", alias_bomb(levels=10).encode(), "alias bomb"),
        ("pods.yaml", b"items: &x [{metadata: {name: a}}, *x]\n", "recursive"),
    ],
)
def test_broken_files_name_the_file(tmp_path: Path, name: str, content: bytes, words: str) -> None:
    (tmp_path / name).write_bytes(content)
    started = time.perf_counter()
    with pytest.raises(ConfigError) as info:
        load_snapshot(tmp_path)
    assert time.perf_counter() - started < 5
    assert info.value.source == str(tmp_path / name)
    assert words in info.value.problem
    assert info.value.fix
    assert "\n" not in info.value.one_line()


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="snapshot folder not found"):
        load_snapshot(tmp_path / "nope")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-24T10:00:00Z", datetime(2026, 11, 24, 10, 0, tzinfo=UTC)),
        ("2026-11-24T10:00:00.5Z", datetime(2026, 11, 24, 10, 0, 0, 500000, tzinfo=UTC)),
        ("2026-11-24T10:00:00+01:00", None),
        ("2026-13-24T10:00:00Z", None),
        ("yesterday", None),
    ],
)
def test_parse_timestamp(text: str, expected: datetime | None) -> None:
    assert parse_timestamp(text) == expected


def test_json_round_trip_keeps_objects_verbatim(tmp_path: Path) -> None:
    quota = resource_quota("team-a", "compute", {"requests.cpu": "20"}, {"requests.cpu": "19500m"})
    write_json(tmp_path / "q.json", k8s_list([quota]))
    assert load_snapshot(tmp_path).objects["resourcequotas"] == [json.loads(json.dumps(quota))]


def test_future_dated_fields_do_not_become_the_capture_time(tmp_path: Path) -> None:
    backup = {
        "apiVersion": "velero.io/v1",
        "kind": "Backup",
        "metadata": {"name": "daily-20261124", "namespace": "velero", "creationTimestamp": "2026-11-24T02:00:00Z"},
        "spec": {"ttl": "720h0m0s"},
        "status": {
            "phase": "Completed",
            "startTimestamp": "2026-11-24T02:00:00Z",
            "completionTimestamp": "2026-11-24T02:04:31Z",
            "expiration": "2026-12-24T02:00:00Z",
        },
    }
    certificate = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "web", "namespace": "team-a", "creationTimestamp": "2026-10-01T00:00:00Z"},
        "status": {"notAfter": "2027-01-01T00:00:00Z", "renewalTime": "2026-12-02T00:00:00Z"},
    }
    write_json(tmp_path / "objects.json", k8s_list([backup, certificate]))
    assert load_snapshot(tmp_path).captured == datetime(2026, 11, 24, 2, 4, 31, tzinfo=UTC)


def test_a_namespace_named_like_a_sonobuoy_folder_is_still_read(tmp_path: Path) -> None:
    write_json(
        tmp_path / "plugins" / "pods.json",
        {
            "kind": "PodList",
            "apiVersion": "v1",
            "items": [{k: v for k, v in pod("plugins", "loader").items() if k not in ("apiVersion", "kind")}],
        },
    )
    write_json(tmp_path / "plugins.json", [pod("x", "top-level-file")])
    assert _names(load_snapshot(tmp_path).objects["pods"]) == ["loader", "top-level-file"]
