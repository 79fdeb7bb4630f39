"""Fleet sources end to end: management clusters over HTTPS -> registry -> scan -> reports, no secret leaked."""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
import yaml

from fleetcheck.cli import main
from fleetcheck.errors import ConfigError
from fleetcheck.registry.fleet import Fleet, load_fleet
from fleetcheck.registry.kubeconfig import merge_kubeconfigs
from fleetcheck.state.live import LiveClusterState
from fleetcheck.state.management import open_management_reader
from tests.sources.conftest import QUOTA_CHECKS, WORKLOADS, Site

BROKEN = {
    "bad-b64": "capi Secret team-a/bad-b64-kubeconfig key 'value' is not valid base64",
    "bad-kubeconfig": "capi Secret team-a/bad-kubeconfig-kubeconfig: the kubeconfig is not valid YAML (line",
    "provisioning": "team-b/provisioning-kubeconfig not found (cluster phase Provisioning, Available=False)",
    "exec-cluster": "auth kind 'execProviderConfig' is not supported",
    "eks-cluster": "auth kind 'awsAuthConfig' is not supported",
    "unknown-auth": "unknown auth kind 'googleAuthConfig'",
    "bad-json": "argocd Secret argocd/cluster-badjson: 'config' is not valid JSON (line 1)",
    "pull-member": "Karmada Cluster pull-member (Pull mode) has no spec.secretRef",
    "edge-x": "ocm Secret edge-x/fleetcheck not found",
    "gke-prod": "ClusterProfile fleet/gke-prod has no usable access: provider 'google': an exec plugin fleetcheck",
    "no-access": "ClusterProfile fleet/no-access has no usable access: no status.accessProviders",
    "legacy-cred": "provider 'secretreader': clusterprofile Secret fleetcheck/legacy-cred not found",
    "edge-wi": "flux ConfigMap flux-system/edge-wi: Flux workload identity (spec.kubeConfig.configMapRef) is not",
    "gone-kubeconfig": "flux Secret flux-system/gone-kubeconfig not found",
    "spoke-2-kubeconfig": "flux Secret flux-system/spoke-2-kubeconfig has no 'config' key with a kubeconfig",
    "pull-edge": "SveltosCluster edge/pull-edge is in pull mode",
    "eks-wi": "SveltosCluster edge/eks-wi uses workload identity (AWS)",
    "ambiguous": "sveltos Secret edge/ambiguous-sveltos-kubeconfig has 2 keys (a, b) and the SveltosCluster names none",
}
SOURCES = {
    "wl-a": "capi+argocd",
    "wl-b": "capi-b",
    "wl-c": "argocd+clusterprofile",
    "wl-d": "karmada+sveltos",
    "wl-e": "ocm+clusterprofile",
    "wl-f": "clusterprofile",
    "wl-g": "flux",
    "wl-h": "sveltos",
    "gke-prod": "clusterprofile",
    "edge-wi": "flux",
    "ambiguous": "sveltos",
    "cert-only": "argocd",
    "bad-b64": "capi",
    "exec-cluster": "argocd",
    "pull-member": "karmada",
    "edge-x": "ocm",
}


def _load_fleet(path: Path) -> Fleet:
    """The fleet as the run loads it: management clusters read by the live reader, over HTTPS."""
    return load_fleet(path, management_reader=open_management_reader)


def _write_fleet(site: Site, name: str, sources: Sequence[Mapping[str, object]]) -> Path:
    path = site.root / name
    doc = {"defaults": {"kubeconfig": str(site.mgmt_kubeconfig)}, "sources": sources}
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def _assert_no_secret(text: str, site: Site, where: str) -> None:
    for value in site.secret_values:
        assert value not in text, f"a credential leaked into {where}"


@pytest.fixture(scope="module")
def fleet(site: Site) -> Fleet:
    return _load_fleet(site.fleet_file)


def test_every_source_contributes_its_clusters(fleet: Fleet, site: Site) -> None:
    names = set(fleet.names())
    assert set(WORKLOADS) | set(BROKEN) | {"cert-only"} == names
    for name, source in SOURCES.items():
        assert fleet.get(name).source == source, name
    for name in WORKLOADS:
        entry = fleet.get(name)
        assert entry.credentials is not None and entry.credentials_error is None, name
        assert entry.server == site.workloads.urls[name]
    wl_a = fleet.get("wl-a")
    assert wl_a.labels == {
        "managed-by": "platform",
        "environment": "production",  # unprefixed source labels are kept ...
        "region": "eu-west",
        "tier": "production",  # ... and label_map adds the fleetcheck label
    }
    assert "Cluster API team-a/wl-a: phase Provisioned, Available=True, topology v1.31.4" in wl_a.notes
    assert "also found by argocd as 'workload-a-in-argo'" in wl_a.notes
    wl_b = fleet.get("wl-b")  # v1beta1 shape: the backported v1beta2 Available condition is read
    assert "Cluster API fleet/wl-b: phase Provisioned, Available=True" in wl_b.notes
    assert wl_b.labels == {"managed-by": "platform", "env": "dev", "owner": "team-b"}
    assert fleet.get("wl-c").labels["env"] == "staging"
    assert fleet.get("wl-d").labels == {"managed-by": "platform", "provider": "kind", "region": "eu-west-1"}
    assert fleet.get("wl-e").labels["tier"] == "canary"


def test_a_cluster_without_usable_credentials_is_kept_with_one_clear_reason(fleet: Fleet) -> None:
    for name, reason in BROKEN.items():
        entry = fleet.get(name)
        assert entry.credentials is None
        assert entry.credentials_error is not None and reason in entry.credentials_error, (
            name,
            entry.credentials_error,
        )
        assert "\n" not in entry.credentials_error


def test_credentials_stay_out_of_reprs_and_dumps(fleet: Fleet, site: Site) -> None:
    for entry in fleet.clusters:
        dumped = entry.model_dump_json() + repr(entry) + str(entry) + repr(entry.credentials)
        assert "credentials" not in entry.model_dump()
        _assert_no_secret(dumped, site, f"{entry.name}'s repr or dump")


def test_scan_reaches_every_discovered_cluster_and_errors_the_broken_ones(
    site: Site, pytester: pytest.Pytester
) -> None:
    reports = site.root / "reports-scan"
    result = pytester.runpytest_inprocess(
        str(QUOTA_CHECKS), "--fleet", str(site.fleet_file), "--report-dir", str(reports), "-p", "no:benchmark"
    )
    doc = json.loads((reports / "results.json").read_text())
    records = {(r["cluster"], r["code"]): r for r in doc["results"]}
    codes = {code for _, code in records}
    assert codes == {"FC-QUOTA-001", "FC-QUOTA-002", "FC-QUOTA-003"}
    for name in WORKLOADS:
        outcomes = {records[(name, code)]["outcome"] for code in codes}
        assert outcomes <= {"pass", "fail"}, (name, outcomes)
    assert records[("wl-c", "FC-QUOTA-001")]["outcome"] == "fail"
    assert records[("wl-c", "FC-QUOTA-001")]["objects"] == ["Namespace/legacy-0"]
    for name, reason in BROKEN.items():
        for code in codes:
            record = records[(name, code)]
            assert record["outcome"] == "error", (name, code)
            assert reason in record["message"], (name, record["message"])
    assert "401 Unauthorized" in records[("cert-only", "FC-QUOTA-001")]["message"]
    summary = {c["name"]: c for c in doc["clusters"]}
    assert summary["wl-a"]["source"] == "capi+argocd"
    assert summary["bad-b64"]["reachable"] is False
    result.assert_outcomes(passed=len(WORKLOADS) * 3 - 2, failed=2, errors=(len(BROKEN) + 1) * 3)


def test_no_token_or_key_reaches_a_report_or_the_output(site: Site, pytester: pytest.Pytester) -> None:
    reports = site.root / "reports-leak"
    temp_before = set(Path(tempfile.gettempdir()).iterdir())
    result = pytester.runpytest_inprocess(
        str(QUOTA_CHECKS),
        "--fleet",
        str(site.fleet_file),
        "--report-dir",
        str(reports),
        "-p",
        "no:benchmark",
        "-rA",
        "--tb=long",
        "-l",
    )
    written = sorted(p.name for p in reports.iterdir())
    for expected in ("results.json", "junit.xml", "scorecard.html", "metrics.prom"):
        assert expected in written
    for path in reports.rglob("*"):
        if path.is_file():
            _assert_no_secret(path.read_text(encoding="utf-8", errors="replace"), site, path.name)
    for path in set(Path(tempfile.gettempdir()).iterdir()) - temp_before:  # the client's temp files: CAs only
        if path.is_file():
            _assert_no_secret(path.read_text(encoding="utf-8", errors="replace"), site, f"temp file {path}")
    _assert_no_secret("\n".join(result.outlines), site, "stdout")
    _assert_no_secret("\n".join(result.errlines), site, "stderr")
    # the grep had something to miss: the reports and the output do describe the broken credentials
    assert "auth kind 'execProviderConfig'" in (reports / "results.json").read_text()
    assert "capi Secret team-a/bad-kubeconfig-kubeconfig" in (reports / "junit.xml").read_text()
    assert "bad-json" in "\n".join(result.outlines)
    results = (reports / "results.json").read_text()
    for described in (
        "flux Secret flux-system/gone-kubeconfig",
        "sveltos Secret edge/ambiguous",
        "ClusterProfile fleet/",
    ):
        assert described in results, described


def test_fleetcheck_clusters_lists_each_cluster_with_its_source_and_exports_0600(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    export = site.root / "export" / "fleet.kubeconfig"
    assert main(["clusters", "--fleet", str(site.fleet_file), "--export-kubeconfig", str(export)]) == 0
    out, err = capsys.readouterr()
    _assert_no_secret(out + err, site, "fleetcheck clusters")
    rows = {line.split()[0]: line for line in out.splitlines() if line and not line.startswith((" ", "NAME"))}
    for name, source in SOURCES.items():
        assert rows[name].split()[1] == source, rows[name]
    for name in WORKLOADS:
        assert "reachable" in rows[name] and "v1.31.4" in rows[name], rows[name]
    for name in BROKEN:
        assert "error:" in rows[name], rows[name]
    assert "wl-a: also found by argocd as 'workload-a-in-argo'" in out
    assert f"kubeconfig with {len(WORKLOADS) + 1} contexts written to {export} (mode 0600)" in out
    assert "not exported (no usable credentials, or a snapshot; see STATUS): bad-b64, bad-kubeconfig," in out
    assert stat.S_IMODE(os.stat(export).st_mode) == 0o600
    exported = merge_kubeconfigs([export])
    assert sorted(exported.contexts) == sorted([*WORKLOADS, "cert-only"])
    state = LiveClusterState("wl-d", exported, "wl-d")  # the export works as a kubeconfig
    try:
        assert state.version.git_version == "v1.31.4"
    finally:
        state.close()


def test_rancher_clusters_go_through_the_proxy_and_merge_by_their_direct_endpoint(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    rancher = {"type": "rancher", "context": "mgmt-b", "url": "https://rancher.example.com/"}
    monkeypatch.delenv("RANCHER_TOKEN", raising=False)
    alone = _load_fleet(_write_fleet(site, "rancher.yaml", [rancher]))
    entry = alone.get("wl-b-in-rancher")
    assert entry.server == "https://rancher.example.com/k8s/clusters/c-m-abc123"
    assert entry.credentials_error == "no Rancher API token: set $RANCHER_TOKEN"
    assert entry.labels == {"env": "staging", "provider.cattle.io": "rke2"}  # keys without a prefix/ are kept
    monkeypatch.setenv("RANCHER_TOKEN", "token-abcde:" + "x" * 40)
    with_token = _load_fleet(_write_fleet(site, "rancher.yaml", [rancher]))
    assert with_token.get("wl-b-in-rancher").credentials is not None
    both = _load_fleet(_write_fleet(site, "both.yaml", [{"type": "capi", "context": "mgmt-b"}, rancher]))
    assert both.names() == ["wl-b"]
    assert both.get("wl-b").source == "capi+rancher"


def test_a_source_whose_management_cluster_cannot_answer_stops_the_run_unless_optional(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = {"type": "ocm", "context": "mgmt-a"}  # mgmt-a has no OCM hub
    path = _write_fleet(site, "wrong.yaml", [{"type": "capi", "context": "mgmt-a"}, wrong])
    with pytest.raises(ConfigError) as info:
        _load_fleet(path)
    assert info.value.field == "sources[1]"
    assert "context 'mgmt-a' does not serve OCM ManagedClusters" in info.value.problem
    path = _write_fleet(site, "optional.yaml", [{"type": "capi", "context": "mgmt-a"}, {**wrong, "optional": True}])
    assert "wl-a" in _load_fleet(path).names()
    assert "optional source skipped" in caplog.text


def test_clusters_without_readable_credentials_take_a_kubeconfig_context(site: Site) -> None:
    workload_kubeconfig = site.workloads.write_kubeconfig(site.root / "workloads.kubeconfig")
    ocm = {"type": "ocm", "context": "mgmt-b", "credentials_kubeconfig": str(workload_kubeconfig)}
    fleet = _load_fleet(_write_fleet(site, "ocm-mapped.yaml", [ocm]))
    wl_e = fleet.get("wl-e")  # a context named like the cluster fills the gap
    assert wl_e.credentials is None and wl_e.credentials_error is None
    assert wl_e.context == "wl-e" and wl_e.kubeconfig == (str(workload_kubeconfig),)
    assert any(n.startswith("credentials from context 'wl-e'") for n in wl_e.notes)
    edge = fleet.get("edge-x")
    assert edge.credentials_error is not None and "has no context 'edge-x'" in edge.credentials_error
    mapped = _load_fleet(_write_fleet(site, "ocm-mapped.yaml", [{**ocm, "contexts": {"edge-x": "wl-a"}}]))
    assert mapped.get("edge-x").context == "wl-a" and mapped.get("edge-x").credentials_error is None
