"""Bounded work on cluster data: parse budgets, check time budgets, bounded messages and object lists.

A tenant who can write one ConfigMap, or one OpenTelemetryCollector, must not
be able to stall the scan: the text is refused within its parse budget and
the check that needed it errors naming the budget, while the other checks
and clusters are judged as usual. A check body that never ends errors with
its time budget named and the run goes on. A failing check's message and
object list stay bounded whatever the cluster holds.

The time bounds asserted here are hang guards (the unbounded code took
minutes to hours on the same input), not speed claims.
"""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from fleetcheck.budget import BudgetExceeded, TimeLedger, check_budget, time_limit
from fleetcheck.facts.telemetry import metrics_destinations
from fleetcheck.outcomes import MESSAGE_MAX_CHARS, OBJECTS_MAX, CheckFailed, Findings
from fleetcheck.registry.yamlfile import ClusterTextOverBudget, load_cluster_text
from tests.builders import write_snapshot
from tests.security.kit import check_module, records, scan

#: far above what the bounded code needs, far below what the unbounded code took (hang guard)
HANG_GUARD_S = 60.0
CENTRAL = "https://mimir.example.com/api/v1/push"


def alias_chain(levels: int = 9, width: int = 12) -> str:
    """The issue's ConfigMap value: ``a: &a [x,x,...]``, ``b: &b [*a,*a,...]``, ... ``levels`` deep, with a marker.

    Under 1 KB that expands to ``width ** levels`` nodes; the ``remote_write``
    key makes FC-OBS-001 parse it. The unbounded walk took 18 s on the
    9-wide chain (487 bytes) and minutes on this one.
    """
    lines = ["remote_write:", f"  - url: {CENTRAL}", "l0: &l0 [" + ", ".join(["x"] * width) + "]"]
    for level in range(1, levels + 1):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def _meta(name: str, namespace: str) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "uid": f"uid-{namespace}-{name}"}


def _configmap(name: str, namespace: str, data: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(name, namespace), "data": data}


def _prometheus(url: str) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "Prometheus",
        "metadata": _meta("k8s", "monitoring"),
        "spec": {"remoteWrite": [{"url": url}]},
    }


def _otel_collector(config: str) -> dict[str, Any]:
    return {
        "apiVersion": "opentelemetry.io/v1alpha1",
        "kind": "OpenTelemetryCollector",
        "metadata": _meta("metrics", "observability"),
        "spec": {"config": config, "mode": "deployment"},
    }


def _scan_list(objects: list[dict[str, Any]]) -> Any:
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"], []).append(obj)
    names = {
        "configmaps": "ConfigMap",
        "opentelemetry.io/v1beta1 opentelemetrycollectors": "OpenTelemetryCollector",
        "monitoring.coreos.com/v1 prometheuses": "Prometheus",
    }
    return metrics_destinations(lambda kind: by_kind.get(names.get(kind, ""), []))


# -- the parse budget ---------------------------------------------------------------------------------


def test_alias_chain_text_is_refused_within_its_budget() -> None:
    text = alias_chain()
    assert len(text.encode()) < 1024  # the "under 1 KB"

    started = time.monotonic()
    with pytest.raises(ClusterTextOverBudget) as refused:
        load_cluster_text(text, what="monitoring/ConfigMap/prom-config (prometheus.yml)")

    assert time.monotonic() - started < HANG_GUARD_S
    assert str(refused.value) == (
        "monitoring/ConfigMap/prom-config (prometheus.yml): YAML expands to more than 100,000 nodes "
        "(the parse budget per text); not parsed"
    )


def test_text_over_the_size_budget_is_refused_before_parsing() -> None:
    with pytest.raises(ClusterTextOverBudget, match=r"text is 2,001 bytes, more than the parse budget of 2,000 bytes"):
        load_cluster_text("a: " + "x" * 1998, what="ConfigMap x", max_bytes=2000)


def test_json_text_over_the_node_budget_is_refused() -> None:
    with pytest.raises(ClusterTextOverBudget, match=r"JSON has more than 10 nodes"):
        load_cluster_text("[" + ",".join(["1"] * 20) + "]", what="kube-dns", syntax="json", max_nodes=10)


def test_text_within_budget_parses_as_before() -> None:
    assert load_cluster_text("base: &b {x: 1}\nuse: *b\n", what="ConfigMap x") == {
        "base": {"x": 1},
        "use": {"x": 1},
    }


def test_remote_write_walk_visits_a_shared_graph_once() -> None:
    """A parsed graph that shares one list 2**40 ways (no YAML involved) is walked in linear time."""
    shared: Any = [{"remote_write": [{"url": CENTRAL}]}]
    for _ in range(40):
        shared = [shared, shared]
    configmap = _configmap("prom", "monitoring", {"prometheus.yml": "remote_write: []\n"})
    from fleetcheck.facts import telemetry

    started = time.monotonic()
    urls = list(telemetry._walk_remote_write({"root": shared}, max_depth=100))
    assert time.monotonic() - started < HANG_GUARD_S
    assert urls == [CENTRAL]
    assert _scan_list([configmap]).destinations == []  # an empty remote_write is no destination


def test_otel_collector_spec_config_alias_chain_is_refused_not_walked() -> None:
    config = "exporters:\n  otlphttp: {endpoint: https://otlp.example.com}\n" + alias_chain().split("\n", 2)[2]
    started = time.monotonic()
    scan_result = _scan_list([_otel_collector(config)])
    assert time.monotonic() - started < HANG_GUARD_S
    assert scan_result.refused == [
        "observability/OpenTelemetryCollector/metrics spec.config: YAML expands to more than 100,000 nodes "
        "(the parse budget per text); not parsed"
    ]


def test_alloy_text_with_unclosed_components_is_read_in_linear_time() -> None:
    """50,000 unclosed ``prometheus.remote_write`` blocks: each used to be scanned to the end of the text."""
    text = 'prometheus.remote_write "x" { endpoint { url = "https://a.example.com" \n' * 50_000
    started = time.monotonic()
    scan_result = _scan_list([_configmap("alloy", "monitoring", {"config.alloy": text})])
    assert time.monotonic() - started < HANG_GUARD_S
    assert scan_result.destinations[0].url == "https://a.example.com"


def test_alloy_text_with_too_many_components_is_refused() -> None:
    text = "".join(
        f'prometheus.remote_write "c{i}" {{ endpoint {{ url = "https://a.example.com" }} }}\n' for i in range(1001)
    )
    scan_result = _scan_list([_configmap("alloy", "monitoring", {"config.alloy": text})])
    assert scan_result.refused == [
        "monitoring/ConfigMap/alloy (config.alloy): more than 1,000 remote-write or exporter components "
        "(the parse budget); not parsed"
    ]


def _fleet(tmp_path: Path, clusters: dict[str, list[dict[str, Any]]]) -> list[Path]:
    return [write_snapshot(tmp_path / "fleet" / name, objects, name=name) for name, objects in clusters.items()]


def test_alias_chain_configmap_errors_its_check_and_spares_the_rest(pytester: pytest.Pytester, tmp_path: Path) -> None:
    snapshots = _fleet(
        tmp_path,
        {
            "tenant-bomb": [_configmap("prom-config", "monitoring", {"prometheus.yml": alias_chain()})],
            "tenant-bomb-passing": [
                _configmap("prom-config", "monitoring", {"prometheus.yml": alias_chain()}),
                _prometheus(CENTRAL),
            ],
            "healthy": [_prometheus(CENTRAL)],
        },
    )
    reports = tmp_path / "reports"
    args = [arg for folder in snapshots for arg in ("--snapshot", str(folder))]

    started = time.monotonic()
    scan(pytester, [check_module("observability")], reports, *args)
    assert time.monotonic() - started < HANG_GUARD_S

    found = records(reports)
    bomb = found[("tenant-bomb", "FC-OBS-001")]
    assert bomb["outcome"] == "error"
    assert bomb["message"] == (
        "could not read every metrics configuration: monitoring/ConfigMap/prom-config (prometheus.yml): YAML "
        "expands to more than 100,000 nodes (the parse budget per text); not parsed"
    )
    # a destination that passes cannot be overturned by a text the scan did not read
    assert found[("tenant-bomb-passing", "FC-OBS-001")]["outcome"] == "pass"
    assert found[("healthy", "FC-OBS-001")]["outcome"] == "pass"
    assert found[("tenant-bomb", "FC-OBS-002")]["outcome"] == "fail"  # judged as usual: no log shipper


# -- the time budget ----------------------------------------------------------------------------------

LOOPING_CHECKS = '''
    """Checks written by the test: one loops forever, one swallows the budget and loops on, one is quick."""

    from fleetcheck import ClusterView, check


    @check("FC-LOOP-001", title="loops forever", factor="bounded", severity="high", reads=["namespaces"])
    def test_a_loops_forever(cluster: ClusterView) -> None:
        """Loops forever.

        What: lists namespaces forever. Why: a walk of hostile data that never ends.
        Fix: none. References: none.
        """
        while True:
            cluster.list("namespaces")


    @check("FC-LOOP-002", title="swallows the alarm", factor="bounded", severity="high", reads=["namespaces"])
    def test_b_swallows_the_budget(cluster: ClusterView) -> None:
        """Swallows every Exception and loops on.

        What: a helper with a broad except. Why: the budget must still end it.
        Fix: none. References: none.
        """
        while True:
            try:
                while True:
                    cluster.list("namespaces")
            except Exception:
                continue


    @check("FC-LOOP-003", title="is quick", factor="bounded", severity="low", reads=["namespaces"])
    def test_c_is_quick(cluster: ClusterView) -> None:
        """Is quick.

        What: lists namespaces once. Why: the checks after a runaway one still run.
        Fix: none. References: none.
        """
        assert cluster.list("namespaces") == []
'''


def _looping_checks(tmp_path: Path) -> Path:
    folder = tmp_path / "loopchecks"
    folder.mkdir()
    path = folder / "test_loops.py"
    path.write_text(textwrap.dedent(LOOPING_CHECKS), encoding="utf-8")
    return path


def test_a_check_that_never_ends_errors_with_its_budget_and_the_run_goes_on(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    snapshots = _fleet(tmp_path, {"one": [], "two": []})
    reports = tmp_path / "reports"
    args = [arg for folder in snapshots for arg in ("--snapshot", str(folder))]

    started = time.monotonic()
    result = scan(pytester, [_looping_checks(tmp_path)], reports, *args, "--check-timeout", "0.5")
    assert time.monotonic() - started < HANG_GUARD_S

    found = records(reports)
    for cluster in ("one", "two"):
        assert found[(cluster, "FC-LOOP-001")]["outcome"] == "error"
        assert (
            found[(cluster, "FC-LOOP-001")]["message"] == "FC-LOOP-001 ran past its budget of 0.5 s (--check-timeout)"
        )
        assert found[(cluster, "FC-LOOP-002")]["outcome"] == "error"
        assert (
            found[(cluster, "FC-LOOP-002")]["message"] == "FC-LOOP-002 ran past its budget of 0.5 s (--check-timeout)"
        )
        assert found[(cluster, "FC-LOOP-003")]["outcome"] == "pass"
    assert "INTERNALERROR" not in result.stdout.str()


def test_once_the_cluster_budget_is_spent_its_remaining_checks_error(pytester: pytest.Pytester, tmp_path: Path) -> None:
    snapshots = _fleet(tmp_path, {"slow": []})
    reports = tmp_path / "reports"
    args = ["--snapshot", str(snapshots[0]), "--check-timeout", "5", "--cluster-timeout", "0.5"]

    scan(pytester, [_looping_checks(tmp_path)], reports, *args)

    found = records(reports)
    assert found[("slow", "FC-LOOP-001")]["message"] == (
        "FC-LOOP-001 ran past what was left (0.5 s) of the cluster's time budget of 0.5 s (--cluster-timeout)"
    )
    for code in ("FC-LOOP-002", "FC-LOOP-003"):
        assert found[("slow", code)]["outcome"] == "error"
        assert found[("slow", code)]["message"] == "the cluster's time budget of 0.5 s (--cluster-timeout) is spent"


def test_time_limit_restores_the_previous_handler_and_timer() -> None:
    import signal

    def previous(signum: int, frame: object) -> None:
        raise AssertionError("the previous timer fired")

    old = signal.signal(signal.SIGALRM, previous)
    try:
        signal.setitimer(signal.ITIMER_REAL, 30.0)
        with pytest.raises(BudgetExceeded, match="too slow"), time_limit(0.05, "too slow"):
            while True:
                pass
        assert signal.getsignal(signal.SIGALRM) is previous
        assert 25.0 < signal.getitimer(signal.ITIMER_REAL)[0] <= 30.0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_off_the_main_thread_the_body_runs_untimed_and_is_still_charged() -> None:
    import threading

    ledger = TimeLedger()
    outcome: list[str] = []

    def body() -> None:
        with check_budget(ledger, "c", "FC-X-001", 0.01, 100.0):
            time.sleep(0.05)  # past the budget: no timer off the main thread
        outcome.append("finished")

    thread = threading.Thread(target=body)
    thread.start()
    thread.join(HANG_GUARD_S)
    assert outcome == ["finished"]
    assert ledger.spent("c") >= 0.05
    spent = r"the cluster's time budget of 0\.01 s \(--cluster-timeout\) is spent"
    with pytest.raises(BudgetExceeded, match=spent), check_budget(ledger, "c", "FC-X-002", None, 0.01):
        pass


# -- bounded messages and object lists --------------------------------------------------------------


def test_a_million_objects_are_capped_with_the_count_said() -> None:
    findings = Findings()
    for index in range(1_000_000):
        findings.add(f"ns-{index}/Pod/p", "no limits")
    with pytest.raises(CheckFailed) as failed:
        findings.raise_if_any("1,000,000 pods have no limits")

    assert len(failed.value.objects) == OBJECTS_MAX
    assert failed.value.objects_total == 1_000_000
    assert failed.value.message.endswith("(objects: the first 1,000 listed, and 999,000 more)")
    assert len(failed.value.message) < MESSAGE_MAX_CHARS + 200


def test_a_long_message_is_cut_at_a_word_with_what_was_cut_said_and_secrets_redacted() -> None:
    secret = "https://fleet:hunter2hunter2@mimir.example.com/push"
    failed = CheckFailed(f"{secret} " + "word " * 10_000)

    assert len(failed.message) < MESSAGE_MAX_CHARS + 100
    assert "hunter2" not in failed.message
    assert failed.message.endswith("more characters not shown)")
    assert " wor " not in failed.message  # no word cut in half


def test_corefile_with_200k_upstreams_gives_a_bounded_message(pytester: pytest.Pytester, tmp_path: Path) -> None:
    upstreams = [f"10.{i // 65536}.{i // 256 % 256}.{i % 256}" for i in range(200_000)]
    corefile = ".:53 {\n    errors\n    kubernetes cluster.local in-addr.arpa ip6.arpa\n"
    corefile += f"    forward . {' '.join(upstreams)}\n    cache 30\n}}\n"
    few = corefile.replace(" ".join(upstreams), "8.8.8.8")
    snapshots = _fleet(
        tmp_path,
        {  # the other two set the fleet standard, so "many" fails, quoting its own upstreams
            "many": [_configmap("coredns", "kube-system", {"Corefile": corefile})],
            "few-a": [_configmap("coredns", "kube-system", {"Corefile": few})],
            "few-b": [_configmap("coredns", "kube-system", {"Corefile": few})],
        },
    )
    reports = tmp_path / "reports"
    args = [arg for folder in snapshots for arg in ("--snapshot", str(folder))]

    scan(pytester, [check_module("dns")], reports, *args)

    found = records(reports)
    message = found[("many", "FC-DNS-002")]["message"]
    assert found[("many", "FC-DNS-002")]["outcome"] == "fail"
    assert "200,000 upstreams: 10.0.0.0, 10.0.0.1" in message
    assert len(message) <= MESSAGE_MAX_CHARS + 200
    assert (reports / "results.json").stat().st_size < 200_000


def test_kube_dns_json_over_the_node_budget_errors_naming_it() -> None:
    from fleetcheck.facts.corefile import find_dns_setup

    servers = json.dumps([f"10.0.{i // 256 % 256}.{i % 256}" for i in range(150_000)])
    configmap = _configmap("kube-dns", "kube-system", {"upstreamNameservers": servers})

    with pytest.raises(ClusterTextOverBudget, match=r"kube-system/ConfigMap/kube-dns data\.upstreamNameservers: JSON"):
        find_dns_setup([configmap], [])


def test_corefile_imports_past_the_token_budget_are_refused() -> None:
    from fleetcheck.facts.corefile import CorefileError, parse_corefile

    snippet = "(big) {\n" + "".join(f"    hosts h{i}.example 10.0.0.1\n" for i in range(100_000)) + "}\n"
    text = snippet + ".:53 {\n" + "    import big\n" * 5 + "}\n"

    started = time.monotonic()
    with pytest.raises(CorefileError, match=r"imports expand it past 1,000,000 tokens \(the parse budget\)"):
        parse_corefile(text)
    assert time.monotonic() - started < HANG_GUARD_S


def test_corefile_nested_past_the_depth_budget_is_refused_not_a_recursion_error() -> None:
    from fleetcheck.facts.corefile import CorefileError, parse_corefile

    text = ".:53 {\n" + "a {\n" * 5_000 + "}\n" * 5_001

    with pytest.raises(CorefileError, match=r"blocks nest more than 50 deep \(the parse budget\)"):
        parse_corefile(text)


def test_request_time_is_metered_and_counts_toward_the_cluster_budget(tmp_path: Path) -> None:
    """The live state reports the seconds its requests took; the check budget charges them to the cluster."""
    from fleetcheck.registry.kubeconfig import merge_kubeconfigs
    from fleetcheck.replay import ReplayServer
    from fleetcheck.state.live import LiveClusterState
    from fleetcheck.state.snapshot import load_snapshot

    folder = write_snapshot(tmp_path / "slow", [_configmap("coredns", "kube-system", {"Corefile": ""})], name="slow")
    with ReplayServer([load_snapshot(folder)]) as server:
        server.add_fault("slow", r"/api/v1/configmaps$", delay=0.4)
        state = LiveClusterState("slow", merge_kubeconfigs([server.write_kubeconfig(tmp_path / "kc")]), "slow")
        try:
            assert state.request_seconds == 0.0
            state.fetch("configmaps")
            metered = state.request_seconds
        finally:
            state.close()
    assert metered >= 0.4
    spent = pytest.raises(BudgetExceeded, match=r"time budget of 0.3 s \(--cluster-timeout\) is spent")
    with spent, check_budget(TimeLedger(), "slow", "FC-X-001", 5.0, 0.3, api_seconds=metered):
        pass


MANY_OBJECTS_CHECK = '''
    """A check written by the test: it finds more objects than a record lists."""

    from fleetcheck import ClusterView, check, fail


    @check("FC-MANY-001", title="finds many", factor="bounded", severity="high", reads=["namespaces"])
    def test_finds_many(cluster: ClusterView) -> None:
        """Finds 1,500 objects.

        What: fails with 1,500 objects. Why: a record lists at most 1,000.
        Fix: none. References: none.
        """
        fail("1,500 objects", [f"team-{i:04d}/ConfigMap/x" for i in range(1500)])
'''


def test_a_waiver_with_an_object_glob_never_covers_objects_past_the_cap(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    """The first 1,000 objects match the glob, but the 500 never listed could be anything: still a failure."""
    checks = tmp_path / "manychecks"
    checks.mkdir()
    (checks / "test_many.py").write_text(textwrap.dedent(MANY_OBJECTS_CHECK), encoding="utf-8")
    profile = tmp_path / "waiving.yaml"
    waiver = {"code": "FC-MANY-001", "objects": "team-*", "reason": "known", "expires": "2099-01-01"}
    profile.write_text(json.dumps({"extends": "default", "waivers": [waiver]}), encoding="utf-8")
    snapshots = _fleet(tmp_path, {"big": []})
    reports = tmp_path / "reports"

    scan(pytester, [checks], reports, "--snapshot", str(snapshots[0]), "--profile", str(profile))

    record = records(reports)[("big", "FC-MANY-001")]
    assert record["outcome"] == "fail"
    assert record["objects_total"] == 1500
    assert len(record["objects"]) == OBJECTS_MAX
    assert "500 objects past the list cap not matched against the waiver team-*" in record["message"]
