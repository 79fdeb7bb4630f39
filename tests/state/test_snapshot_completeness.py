"""A snapshot knows which kinds it holds: what it was not given is an error naming the kind, never "none".

Covers the snapshot contract's completeness rules (a file, an empty List
included; a cluster-info dump's fixed set; sonobuoy's query log;
``cluster.yaml`` ``kinds:`` and ``unreadable:``; CRD absence only from
captured CRDs), hostile ``cluster.yaml`` values and malformed objects (one
line naming the file and the field or item), the per-file alias budget, and
``fleetcheck snapshot`` against a replayed cluster that answers 403 on pods
or 401 on everything.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetcheck.cli import main
from fleetcheck.errors import ConfigError
from fleetcheck.registry.cluster_file import read_cluster_file
from fleetcheck.replay import ReplayServer
from fleetcheck.state.base import KindUnavailable
from fleetcheck.state.snapshot import load_snapshot
from fleetcheck.state.snapshot_state import SnapshotClusterState
from tests.builders import (
    REPO,
    crd,
    daemonset,
    k8s_list,
    namespace,
    node,
    pod,
    write_json,
    write_snapshot,
)
from tests.harness import run_checks

CHECKS = REPO / "checks"
SONOBUOY = REPO.parent / "shared" / "corpus" / "sonobuoy"


def _state(folder: Path) -> SnapshotClusterState:
    return SnapshotClusterState(load_snapshot(folder))


def _unavailable(state: SnapshotClusterState, kind: str) -> str:
    with pytest.raises(KindUnavailable) as info:
        state.fetch(kind)
    return info.value.reason


def _cli(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


# -- what a folder of kubectl output holds ------------------------------------------------------------------


def test_a_kind_without_a_file_is_not_held_and_says_how_to_capture_it(tmp_path: Path) -> None:
    state = _state(write_snapshot(tmp_path / "s", [namespace("team-a")], complete=False))
    assert state.list("namespaces")[0]["metadata"]["name"] == "team-a"
    reason = _unavailable(state, "limitranges")
    assert reason == (
        "the snapshot holds no limitranges (capture it with: kubectl get limitranges -A -o yaml > limitranges.yaml)"
    )
    assert "daemonsets.apps" in _unavailable(state, "apps/v1 daemonsets")
    with pytest.raises(KindUnavailable, match="cannot list limitranges on s"):
        state.serves("limitranges")  # asking "is it there?" is an error too, never "no"


def test_an_empty_list_file_is_held_with_zero_objects(tmp_path: Path) -> None:
    write_json(tmp_path / "limitranges.json", k8s_list([]))
    write_json(tmp_path / "velero.io_v1_schedules.json", {"apiVersion": "v1", "kind": "List", "items": None})
    state = _state(tmp_path)
    assert state.fetch("limitranges").served and state.list("limitranges") == []
    assert state.serves("velero.io/v1 schedules") and state.list("velero.io/v1 schedules") == []


def test_crd_absence_is_known_only_when_the_crds_were_captured(tmp_path: Path) -> None:
    without_crds = _state(write_snapshot(tmp_path / "a", [namespace("team-a")], complete=False))
    assert "the snapshot holds no backupstoragelocations.velero.io" in _unavailable(
        without_crds, "velero.io/v1 backupstoragelocations"
    )
    with_crds = tmp_path / "b"
    write_json(with_crds / "crds.json", k8s_list([crd("velero.io", "schedules", "Schedule")]))
    state = _state(with_crds)
    assert state.serves("velero.io/v1 backupstoragelocations") is False  # CRDs held, none defines it
    assert state.list("velero.io/v1 backupstoragelocations") == []
    # the CRD is there but its objects were not captured: not "installed, zero objects"
    assert "the snapshot holds no schedules.velero.io" in _unavailable(state, "velero.io/v1 schedules")


def test_cluster_yaml_kinds_and_unreadable(tmp_path: Path) -> None:
    folder = write_snapshot(tmp_path / "s", [namespace("team-a"), pod("team-a", "web")], complete=False)
    meta = yaml.safe_load((folder / "cluster.yaml").read_text())
    meta["kinds"] = ["namespaces", "limitranges", "velero.io/v1 schedules", "customresourcedefinitions"]
    meta["unreadable"] = {"pods": "403 Forbidden: the scan's RBAC lacks 'list' on 'pods'", "resourcequotas": "timeout"}
    meta["partial"] = True
    (folder / "cluster.yaml").write_text(yaml.safe_dump(meta), encoding="utf-8")
    snap = load_snapshot(folder)
    state = SnapshotClusterState(snap)
    assert snap.partial is True
    assert state.list("limitranges") == [] and state.serves("limitranges")
    assert state.serves("velero.io/v1 schedules") is False  # listed, no file, no CRD: the capture found none
    # unreadable wins over the stale pods file left in the folder
    assert _unavailable(state, "pods") == "not captured: 403 Forbidden: the scan's RBAC lacks 'list' on 'pods'"
    assert _unavailable(state, "resourcequotas") == "not captured: timeout"
    assert any("pods has a file but cluster.yaml says it could not be read" in note for note in snap.notes)
    assert any("an incomplete capture: not read: pods, resourcequotas" in note for note in snap.notes)


def test_a_cluster_info_dump_holds_its_fixed_set_only(tmp_path: Path) -> None:
    """``kubectl cluster-info dump --output-directory``: nodes, then seven kinds per dumped namespace."""

    def typed(kind: str, items: list[dict[str, Any]]) -> dict[str, Any]:
        return {"kind": kind, "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": items}

    write_json(tmp_path / "nodes.json", typed("NodeList", [node("worker-1")]))
    for ns in ("kube-system", "default"):
        for stem in ("events", "replicationcontrollers", "services", "daemonsets", "deployments", "replicasets"):
            write_json(tmp_path / ns / f"{stem}.json", typed("List", []))
        write_json(tmp_path / ns / "pods.json", typed("PodList", [pod(ns, f"p-{ns}")]))
    (tmp_path / "kube-system" / "p-kube-system").mkdir()
    (tmp_path / "kube-system" / "p-kube-system" / "logs.txt").write_text("==== START logs ====\n", encoding="utf-8")
    snap = load_snapshot(tmp_path)
    state = SnapshotClusterState(snap)
    assert snap.layout == "cluster-info dump"
    assert len(state.list("pods")) == 2
    assert state.list("apps/v1 daemonsets") == [] and state.serves("v1 replicationcontrollers")
    for kind in ("configmaps", "namespaces", "clusterroles", "leases", "customresourcedefinitions"):
        assert "the snapshot holds no" in _unavailable(state, kind), kind
    # no CRDs in a dump: a CRD-backed kind is "not held", never "not installed"
    assert "the snapshot holds no backupstoragelocations.velero.io" in _unavailable(
        state, "velero.io/v1 backupstoragelocations"
    )
    assert any("for the namespaces it dumped (default, kube-system) only" in note for note in snap.notes)


def test_sonobuoy_query_log_holds_empty_lists_and_records_failures(tmp_path: Path) -> None:
    write_json(tmp_path / "resources" / "cluster" / "core_v1_nodes.json", k8s_list([node("kind-control-plane")]))
    write_json(tmp_path / "resources" / "ns" / "kube-system" / "core_v1_pods.json", k8s_list([pod("kube-system", "p")]))
    forbidden = {"ErrStatus": {"status": "Failure", "message": "configmaps is forbidden", "code": 403}}
    absent = {"ErrStatus": {"status": "Failure", "message": "the server could not find it", "code": 404}}
    write_json(
        tmp_path / "meta" / "query-time.json",
        [
            {"queryobj": "Nodes", "time": "1ms"},
            {"queryobj": "limitranges", "namespace": "kube-system", "time": "1ms"},
            {"queryobj": "configmaps", "namespace": "kube-system", "time": "1ms", "error": forbidden},
            {"queryobj": "CustomResourceDefinitions", "time": "1ms", "error": absent},
            {"queryobj": "PodLogs", "time": "1ms"},
        ],
    )
    state = _state(tmp_path)
    assert state.snapshot.layout == "sonobuoy"
    assert state.list("limitranges") == []  # listed, nothing there: sonobuoy writes no file for that
    assert _unavailable(state, "configmaps") == (
        "not captured: sonobuoy could not list it in namespace kube-system: configmaps is forbidden"
    )
    assert state.serves("customresourcedefinitions") is False
    assert state.serves("velero.io/v1 schedules") is False  # the server serves no CRDs at all
    assert "the snapshot holds no statefulsets.apps" in _unavailable(state, "statefulsets")  # never listed


@pytest.mark.skipif(not SONOBUOY.is_dir(), reason=f"the sonobuoy corpus is not at {SONOBUOY}")
def test_real_sonobuoy_captures_hold_what_sonobuoy_listed() -> None:
    e2e = _state(SONOBUOY / "kind-v1.21-e2e")
    assert e2e.list("limitranges") == []  # queried in every namespace, none found
    assert e2e.serves("velero.io/v1 schedules") is False  # CRDs captured, no Velero among them
    old = _state(SONOBUOY / "aws-kubeadm-v1.8")
    # sonobuoy 0.10 never listed Leases (v1.8 predates them): not held, so not "no Leases"
    assert "the snapshot holds no leases.coordination.k8s.io" in _unavailable(old, "leases")


# -- cluster.yaml: hostile values are one line naming the field ------------------------------------------------

HOSTILE_CLUSTER_YAML = {
    "impossible date": ("captured: 2026-02-31\n", "captured", "day value is outside expected range"),
    "impossible time": ("captured: 2026-02-31T10:00:00Z\n", "captured", "day value is outside expected range"),
    "a number for a time": ("captured: 1732442400\n", "captured", "not a number"),
    "5,000-digit number": ("captured: " + "9" * 5000 + "\n", "captured", "valid datetime"),
    "5,000-digit version": ("serverVersion: " + "9" * 5000 + "\n", "serverVersion", "Kubernetes version"),
    "5,000-digit label": ("labels: {tier: " + "9" * 5000 + "}\n", "labels", "over 1000 characters"),
    "banana": ("serverVersion: banana\n", "serverVersion", "must look like a Kubernetes version"),
    "banana object": ("serverVersion: {gitVersion: banana}\n", "serverVersion", "/version object"),
    "version as a list": ("serverVersion: [1, 31]\n", "serverVersion", ""),
    "name as a number": ("name: 5\n", "name", "string"),
    "labels as a list": ("labels: [a, b]\n", "labels", ""),
    "kinds as a mapping": ("kinds: {pods: 1}\n", "kinds", ""),
    "kind that is no resource": ("kinds: [pods, 'Not A Kind!']\n", "kinds", "entry[1] names no resource"),
    "unreadable reason as a list": ("unreadable: {pods: [x]}\n", "unreadable.pods", ""),
    "partial as text": ("partial: maybe\n", "partial", ""),
}


@pytest.mark.parametrize("case", list(HOSTILE_CLUSTER_YAML))
def test_hostile_cluster_yaml_names_the_field(tmp_path: Path, case: str) -> None:
    text, field, words = HOSTILE_CLUSTER_YAML[case]
    (tmp_path / "cluster.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        read_cluster_file(tmp_path)
    assert info.value.source == str(tmp_path / "cluster.yaml")
    assert info.value.field == field, info.value.one_line()[:300]
    assert words in info.value.problem
    assert info.value.fix
    assert len(info.value.one_line()) < 1000


@pytest.mark.parametrize("case", ["impossible date", "5,000-digit number", "banana", "5,000-digit label"])
def test_hostile_cluster_yaml_exits_2_in_a_scan(tmp_path: Path, case: str) -> None:
    folder = write_snapshot(tmp_path / "snap", [namespace("team-a")])
    (folder / "cluster.yaml").write_text(HOSTILE_CLUSTER_YAML[case][0], encoding="utf-8")
    code, out, err = _cli(["run", "--snapshot", str(folder), "--report-dir", str(tmp_path / "r")])
    assert code == 2, err
    assert "Traceback" not in err and out == ""
    assert err.count("\n") == 1 and err.startswith("fleetcheck: error: ") and "cluster.yaml" in err
    assert HOSTILE_CLUSTER_YAML[case][1] in err


@pytest.mark.parametrize(
    "version", ["v1.31.4", "v1.31", "1.29.0", "v1.21.14-eks-18ef993", "v1.27.3+k3s1", "v1.30.2-gke.1587003"]
)
def test_real_server_versions_are_accepted(tmp_path: Path, version: str) -> None:
    (tmp_path / "cluster.yaml").write_text(f"serverVersion: {version}\n", encoding="utf-8")
    assert read_cluster_file(tmp_path).server_version == version


# -- malformed objects: the file and the item, never "internal error: AttributeError" -------------------------

MALFORMED = {
    "an item that is text": (["just text"], "items[1]", "not an object but str"),
    "metadata a list": ([{"apiVersion": "v1", "kind": "Pod", "metadata": ["x"]}], "items[1].metadata", "mapping"),
    "no metadata": ([{"apiVersion": "v1", "kind": "Pod"}], "items[1].metadata", "has no metadata"),
    "name a number": ([{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": 7}}], "items[1].metadata.name", "text"),
    "labels with a number": (
        [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"app": 3}}}],
        "items[1].metadata.labels",
        "names to text",
    ),
    "spec as text": (
        [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": "big"}],
        "items[1].spec",
        "mapping",
    ),
    "kind a number": ([{"apiVersion": "v1", "kind": 5, "metadata": {"name": "p"}}], "items[1].kind", "text"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_objects_name_the_file_and_the_item(tmp_path: Path, case: str) -> None:
    extra, where, words = MALFORMED[case]
    write_json(tmp_path / "pods.json", k8s_list([pod("a", "fine"), *extra]))
    with pytest.raises(ConfigError) as info:
        load_snapshot(tmp_path)
    assert info.value.source == str(tmp_path / "pods.json")
    assert info.value.field == where
    assert words in info.value.problem


def test_a_document_that_is_no_object_is_skipped_with_a_note(tmp_path: Path) -> None:
    write_json(tmp_path / "settings.json", {"colour": "blue"})
    write_json(tmp_path / "pods.json", k8s_list([pod("a", "p")]))
    snap = load_snapshot(tmp_path)
    assert [p["metadata"]["name"] for p in snap.objects["pods"]] == ["p"]
    assert any("not Kubernetes objects" in note and "settings.json" in note for note in snap.notes)


def test_a_malformed_object_errors_the_scan_naming_the_file(tmp_path: Path, pytester: pytest.Pytester) -> None:
    folder = write_snapshot(tmp_path / "bad", [namespace("team-a"), pod("team-a", "web")], name="bad")
    write_json(folder / "pod.json", k8s_list([pod("team-a", "web"), {"metadata": {"name": 42}}]))
    verdicts = run_checks(pytester, CHECKS / "test_images.py", "--snapshot", str(folder))
    assert verdicts.outcome("FC-IMG-001", "bad") == "error"
    message = verdicts.message("FC-IMG-001", "bad")
    assert "pod.json" in message and "items[1].metadata.name" in message
    assert "AttributeError" not in message


# -- alias cost is budgeted per file --------------------------------------------------------------------------


def _alias_chain_documents(documents: int, levels: int = 16) -> str:
    """Many small ConfigMaps, each holding a doubling alias chain that expands to about 2**(levels + 3) nodes."""
    chain = ["  a0: &a0 [x, x]"] + [f"  a{i}: &a{i} [*a{i - 1}, *a{i - 1}]" for i in range(1, levels + 1)]
    docs = [
        "\n".join(["apiVersion: v1", "kind: ConfigMap", f"metadata: {{name: cm-{n}, namespace: a}}", "data:", *chain])
        for n in range(documents)
    ]
    return "\n---\n".join(docs) + "\n"


def test_alias_chains_across_documents_share_one_budget(tmp_path: Path) -> None:
    text = _alias_chain_documents(60)  # each document about 0.5 M nodes expanded: under any per-document cap
    assert 10_000 < len(text) < 40_000
    (tmp_path / "configmaps.yaml").write_text(text, encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(ConfigError) as info:
        load_snapshot(tmp_path)
    elapsed = time.perf_counter() - started
    assert info.value.source == str(tmp_path / "configmaps.yaml")
    assert "over the file's budget" in info.value.problem
    assert elapsed < 20, f"hang guard: {elapsed:.1f} s"


def test_one_small_alias_chain_is_within_the_budget(tmp_path: Path) -> None:
    (tmp_path / "configmaps.yaml").write_text(_alias_chain_documents(1, levels=4), encoding="utf-8")
    assert load_snapshot(tmp_path).files_read == ["configmaps.yaml"]


# -- fleetcheck snapshot: forbidden is never empty --------------------------------------------------------------


@pytest.fixture
def hub_cluster(tmp_path: Path) -> Path:
    """A cluster whose only workload pulls from Docker Hub, unpinned, and carries no GitOps labels."""
    objects = [
        namespace("team-a"),
        namespace("kube-system"),
        node("node-1"),
        pod("team-a", "web", image="nginx"),
        daemonset("kube-system", "calico-node"),
    ]
    return write_snapshot(tmp_path / "origin" / "hub", objects, name="hub", labels={"tier": "prod"})


def test_forbidden_pods_make_an_incomplete_snapshot_whose_scan_errors(
    hub_cluster: Path, tmp_path: Path, pytester: pytest.Pytester
) -> None:
    with ReplayServer([load_snapshot(hub_cluster)]) as server:
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
        server.add_fault("hub", r"/pods$", status=403)
        out = tmp_path / "captured"
        code, stdout, stderr = _cli(["snapshot", "--context", "hub", "--kubeconfig", str(kubeconfig), "-o", str(out)])
        assert code == 3, stderr
        assert "snapshot written" not in stdout
        lines = [line for line in stderr.splitlines() if "not captured: " in line]
        assert len(lines) == 1 and lines[0].startswith("fleetcheck: not captured: pods: 403 Forbidden"), stderr
        assert "--allow-partial" in stderr
        meta = yaml.safe_load((out / "cluster.yaml").read_text())
        assert set(meta["unreadable"]) == {"pods"} and "403 Forbidden" in meta["unreadable"]["pods"]
        assert meta["partial"] is False
        assert "namespaces" in meta["kinds"] and "pods" not in meta["kinds"]
        assert "customresourcedefinitions.apiextensions.k8s.io" in meta["kinds"]

        accepted = tmp_path / "accepted"
        args = ["snapshot", "--context", "hub", "--kubeconfig", str(kubeconfig), "-o", str(accepted)]
        code, stdout, stderr = _cli([*args, "--allow-partial"])
        assert code == 0, stderr
        assert "partial snapshot written" in stdout and "1 not captured" in stdout
        assert yaml.safe_load((accepted / "cluster.yaml").read_text())["partial"] is True

    origin = run_checks(pytester, CHECKS / "test_images.py", "--snapshot", str(hub_cluster))
    assert origin.outcome("FC-IMG-001", "hub") == "fail"  # the planted Docker Hub image is found with pods read
    for check_file, codes in (("test_images.py", ("FC-IMG-001", "FC-IMG-003")), ("test_gitops.py", ("FC-GITOPS-001",))):
        verdicts = run_checks(pytester, CHECKS / check_file, "--snapshot", str(accepted))
        for code_ in codes:
            assert verdicts.outcome(code_, "hub") == "error", (code_, verdicts.message(code_, "hub"))
            assert "pods" in verdicts.message(code_, "hub") and "403 Forbidden" in verdicts.message(code_, "hub")


def test_every_request_unauthorized_captures_nothing_and_says_so(hub_cluster: Path, tmp_path: Path) -> None:
    with ReplayServer([load_snapshot(hub_cluster)]) as server:
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
        server.add_fault("hub", r".*", status=401)
        out = tmp_path / "captured"
        for extra in ([], ["--allow-partial"]):
            args = ["snapshot", "--context", "hub", "--kubeconfig", str(kubeconfig), "-o", str(out), *extra]
            code, stdout, stderr = _cli(args)
            assert code == 3, (extra, stderr)
            assert "snapshot written" not in stdout
            assert "nothing captured from context 'hub'" in stderr
            assert "not captured: pods: 401 Unauthorized" in stderr
    meta = yaml.safe_load((out / "cluster.yaml").read_text())
    assert meta["kinds"] == [] and "pods" in meta["unreadable"]
    assert not [p for p in out.iterdir() if p.name != "cluster.yaml"]


def test_a_complete_capture_records_its_kinds(hub_cluster: Path, tmp_path: Path) -> None:
    with ReplayServer([load_snapshot(hub_cluster)]) as server:
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
        out = tmp_path / "captured"
        code, stdout, stderr = _cli(["snapshot", "--context", "hub", "--kubeconfig", str(kubeconfig), "-o", str(out)])
    assert code == 0, stderr
    assert stdout.startswith(f"snapshot written: {out}")
    meta = yaml.safe_load((out / "cluster.yaml").read_text())
    assert "unreadable" not in meta and "partial" not in meta
    state = _state(out)
    assert [p["metadata"]["name"] for p in state.list("pods")] == ["web"]
    assert state.serves("velero.io/v1 schedules") is False  # not served by the replay: no file, CRDs captured
    assert json.loads((out / "core_v1_limitranges.json").read_text())["items"] == []
