"""The results document from plain inputs, and the merge of shard documents: no pytest session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fleetcheck.errors import ConfigError
from fleetcheck.registry.fleet import ClusterEntry
from fleetcheck.results import ResultRecord, ResultsDocument, WaiverStatus
from fleetcheck.scoring import score_document
from fleetcheck.verdicts import (
    RunFacts,
    build_document,
    catalog_entries,
    completeness,
    merge_documents,
)
from tests.verdicts.kit import SPEC, failed

ENTRIES = (
    ClusterEntry(name="a", snapshot="x", labels={"env": "prod", "owner": "https://u:pw@h.example"}, source="s"),
    ClusterEntry(name="b", snapshot="x", profile="dev"),
    ClusterEntry(name="c", snapshot="x"),
)


def rec(cluster: str, code: str, outcome: str = "pass", **fields: Any) -> ResultRecord:
    return ResultRecord(cluster=cluster, code=code, factor="bounded", severity="high", outcome=outcome, **fields)  # type: ignore[arg-type]


def document(records: list[ResultRecord], **overrides: Any) -> ResultsDocument:
    inputs: dict[str, Any] = {
        "records": records,
        "entries": ENTRIES,
        "profile_names": {"a": "prod", "b": "dev", "c": "prod"},
        "run_profile": "prod",
        "checks": catalog_entries([SPEC], {r.code for r in records}),
        "started": "2026-11-24T10:00:00Z",
        "finished": "2026-11-24T10:01:00Z",
        "done": completeness(len(records), len(records), None),
        **overrides,
    }
    return build_document(**inputs)


def test_records_in_fleet_order_and_a_row_per_cluster_with_a_verdict() -> None:
    records = [rec("b", "FC-QUOTA-001"), rec("a", "FC-ZZZ-001"), rec("a", "FC-QUOTA-001", server_version="v1.31.4")]
    doc = document(records, run_id="r1", shard=(2, 4))
    assert [(r.cluster, r.code) for r in doc.results] == [
        ("a", "FC-QUOTA-001"),
        ("a", "FC-ZZZ-001"),
        ("b", "FC-QUOTA-001"),
    ]
    assert [c.name for c in doc.clusters] == ["a", "b"], "c gave no verdict"
    a, b = doc.clusters
    assert (a.profile, a.profile_name, a.server_version, a.reachable) == ("default", "prod", "v1.31.4", True)
    assert (b.profile, b.profile_name, b.server_version) == ("dev", "dev", None)
    assert "pw@" not in a.labels["owner"], "label values are redacted"
    assert (doc.fleet_order, doc.run_id, doc.shard, doc.profile) == (["a", "b", "c"], "r1", "2/4", "prod")
    assert list(doc.checks) == ["FC-QUOTA-001"] and doc.checks["FC-QUOTA-001"].file == "checks/test_quota.py"
    assert doc.fleet is None and doc.drift is None and doc.waivers == []


def test_a_cluster_is_unreachable_only_when_every_decided_record_says_so() -> None:
    down = rec("a", "FC-QUOTA-001", "error", unreachable=True)
    skipped = rec("a", "FC-BACKUP-001", "skip")
    assert document([down, skipped]).clusters[0].reachable is False
    assert document([down, rec("a", "FC-DNS-001")]).clusters[0].reachable is True
    assert document([skipped]).clusters[0].reachable is True


def test_completeness_names_why_a_run_is_incomplete() -> None:
    assert completeness(5, 5, None).complete
    short = completeness(3, 5, None)
    assert (short.complete, short.reason) == (False, "2 of 5 cases gave no verdict")
    assert completeness(5, 5, "interrupted by SIGTERM").reason == "interrupted by SIGTERM"
    assert completeness(5, None, None).complete, "an xdist controller does not know the plan"
    doc = document([rec("a", "FC-QUOTA-001")], done=short)
    assert (doc.complete, doc.decided, doc.planned, doc.incomplete_reason) == (False, 3, 5, short.reason)


def test_facts_and_drift_go_where_the_contract_says() -> None:
    facts = RunFacts({"a": {"cni": "calico", "dns.upstreams": ["1.1.1.1"], "oidc.issuer": None}}, {"schema": "x"})
    doc = document([rec("a", "FC-QUOTA-001"), rec("b", "FC-QUOTA-001")], facts=facts)
    assert doc.clusters[0].facts == {"cni": "calico", "dns.upstreams": ["1.1.1.1"], "oidc.issuer": None}
    assert doc.clusters[1].facts == {}, "no facts read: none made up"
    assert doc.drift == {"schema": "x"}


def test_a_scored_document_round_trips_with_every_field_declared() -> None:
    waivers = [
        WaiverStatus(
            profile="prod", code="FC-QUOTA-001", clusters="*", reason="r", expires="2026-12-31", status="stale"
        )
    ]
    doc = score_document(document([failed(cluster="a", objects_total=1_500)], waivers=waivers, run_id="r1"))
    again = ResultsDocument.model_validate_json(doc.to_json_bytes())
    assert again.to_json_bytes() == doc.to_json_bytes()
    assert again.fleet is not None and again.fleet.outcomes["fail"] == 1
    assert again.results[0].objects_total == 1_500 and again.waivers == waivers
    assert again.clusters[0].counts["fail"] == 1 and again.clusters[0].failures["high"] == 1


def test_an_older_document_with_fewer_fields_still_reads() -> None:
    old = ResultsDocument.model_validate(
        {"schema": "fleetcheck/v1", "started": "2026-01-01T00:00:00Z", "results": [rec("a", "X").model_dump()]}
    )
    assert old.decided == 1 and old.fleet_order == [] and old.waivers == [] and old.fleet is None


def shard(records: list[ResultRecord], waivers: list[WaiverStatus] | None = None, **overrides: Any) -> ResultsDocument:
    return score_document(document(records, waivers=waivers or [], **overrides))


def stale(**fields: Any) -> WaiverStatus:
    return WaiverStatus(
        **{
            "profile": "prod",
            "code": "FC-QUOTA-001",
            "clusters": "*",
            "reason": "r",
            "expires": "2026-12-31",
            "status": "stale",
            **fields,
        }
    )


def test_merge_joins_shards_in_fleet_order_and_rescores() -> None:
    facts = RunFacts({"b": {"cni": "cilium"}}, {"schema": "fleetcheck/drift/v1"})
    one = shard([rec("b", "FC-QUOTA-001", "fail")], [stale()], facts=facts, shard=(1, 2))
    two = shard(
        [rec("a", "FC-QUOTA-001")], [stale(status="active", matched=2)], shard=(2, 2), started="2026-11-24T09:00:00Z"
    )
    merged = merge_documents([one, two], [Path("s1.json"), Path("s2.json")])
    assert [c.name for c in merged.clusters] == ["a", "b"] and [r.cluster for r in merged.results] == ["a", "b"]
    assert merged.clusters[1].facts == {"cni": "cilium"} and merged.drift == {"schema": "fleetcheck/drift/v1"}
    assert merged.started == "2026-11-24T09:00:00Z" and merged.shard is None
    assert merged.clusters[0].score is None, "scores are recomputed by scoring, not copied"
    assert [(w.status, w.matched) for w in merged.waivers] == [("active", 2)]
    assert score_document(merged).fleet is not None


def test_merge_waiver_status_expired_wins_then_active_then_stale() -> None:
    merged = merge_documents(
        [shard([rec("a", "X")], [stale(status="active", matched=1)]), shard([rec("b", "X")], [stale(status="expired")])]
    )
    assert [(w.status, w.matched) for w in merged.waivers] == [("expired", 1)]


def test_merge_incomplete_shard_makes_the_run_incomplete() -> None:
    broken = shard([rec("a", "X")], done=completeness(1, 3, None))
    merged = merge_documents([broken, shard([rec("b", "X")])], [Path("s1"), Path("s2")])
    assert not merged.complete and merged.incomplete_reason == "s1: 2 of 3 cases gave no verdict"
    assert (merged.decided, merged.planned) == (2, 4)


@pytest.mark.parametrize(
    ("second", "field"),
    [
        ({"records": [rec("a", "X")]}, "clusters"),
        ({"records": [rec("b", "X")], "entries": ENTRIES[:2]}, "fleet_order"),
    ],
)
def test_merge_refuses_shards_that_do_not_belong_together(second: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        merge_documents([shard([rec("a", "X")]), shard(**second)], [Path("s1"), Path("s2")])
    assert field in caught.value.one_line() and "s2" in caught.value.one_line()


def test_merge_refuses_nothing_and_other_schemas() -> None:
    with pytest.raises(ConfigError, match=r"no results\.json given"):
        merge_documents([])
    other = shard([rec("b", "X")]).model_copy(update={"schema_": "fleetcheck/v2"})
    with pytest.raises(ConfigError, match="differs from fleetcheck/v1"):
        merge_documents([shard([rec("a", "X")]), other])
