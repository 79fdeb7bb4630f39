"""Read-only, proved: a full scan sends only GETs, and the shipped RBAC grants no write verb.

The scan is every check module of ``checks/`` against replayed copies of
the demo fleet (small), reached through a kubeconfig exactly as real
clusters are; the replay server's request log is the record of what was
sent. The RBAC half reads every manifest under ``deploy/``.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetcheck.catalog import load_catalog
from fleetcheck.core.kinds import parse_kind
from fleetcheck.demo.generate import demo_fleet_spec, generate_fleet
from fleetcheck.demorun import write_demo_fleet_file
from fleetcheck.replay import ReplayServer
from fleetcheck.state.snapshot import load_snapshot
from tests.security.kit import CHECKS, REPO, scan

DEPLOY = REPO / "deploy"
SECURITY_DOC = REPO / "docs" / "security.md"
#: Verbs that only read. Everything else (create, update, patch, delete, deletecollection, escalate,
#: bind, impersonate, approve, sign, use, "*") changes something or widens someone's rights.
READ_VERBS = {"get", "list", "watch"}
HAS_DEPLOY = DEPLOY.is_dir() and any(DEPLOY.rglob("*.y*ml"))


def test_every_check_module_sends_only_gets(tmp_path: Path, pytester: pytest.Pytester) -> None:
    dirs = generate_fleet(tmp_path / "snapshots", demo_fleet_spec(small=True))
    with ReplayServer([load_snapshot(d) for d in dirs]) as server:
        fleet = write_demo_fleet_file(tmp_path / "work", dirs, server.write_kubeconfig(tmp_path / "kubeconfig"))
        result = scan(pytester, [CHECKS], tmp_path / "r", "--fleet", str(fleet))
        log = server.request_log
    doc = json.loads((tmp_path / "r" / "results.json").read_text())
    modules = sorted(p.stem for p in CHECKS.glob("test_*.py"))
    ran = {r["code"] for r in doc["results"]}
    assert ran == set(load_catalog([CHECKS]).checks), f"not every check ran: {result.outlines[-5:]}"
    assert len(modules) >= 16 and log, "the scan reached the replay server"
    methods = Counter(r.method for r in log)
    assert set(methods) == {"GET"}, f"writes observed: {dict(methods)}"
    assert not [r for r in log if "/secrets" in r.path], "the scan listed Secrets"
    assert {r.cluster for r in log} == {d.name for d in dirs}
    # what was listed is what the checks declare: the RBAC in docs/security.md and --check-access cover it all
    # (plus the kinds the results' facts read, fleetcheck.facts.dimensions.dimension_reads; see issue 13 item 5)
    from fleetcheck.facts.dimensions import dimension_reads

    declared = set(load_catalog([CHECKS]).kinds_read()) | {parse_kind(k).key for k in dimension_reads()}
    listed = {_kind_key(r.path) for r in log if r.query}
    assert listed <= declared, listed - declared


def _kind_key(path: str) -> str:
    """``/apis/apps/v1/daemonsets`` -> ``daemonsets.apps``; ``/api/v1/pods`` -> ``pods``."""
    parts = path.strip("/").split("/")
    return parts[-1] if parts[0] == "api" else f"{parts[-1]}.{parts[1]}"


def _manifests() -> list[tuple[Path, dict[str, Any]]]:
    found: list[tuple[Path, dict[str, Any]]] = []
    for path in sorted(DEPLOY.rglob("*.y*ml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if isinstance(doc, dict):
                found.append((path, doc))
    return found


def _roles() -> list[tuple[Path, dict[str, Any]]]:
    return [(path, doc) for path, doc in _manifests() if doc.get("kind") in ("ClusterRole", "Role")]


@pytest.mark.skipif(not HAS_DEPLOY, reason="no deploy/ manifests yet (a colleague is writing deploy/kubernetes)")
def test_shipped_roles_grant_no_write_verb() -> None:
    roles = _roles()
    assert any(doc["kind"] == "ClusterRole" for _, doc in roles), "deploy/ ships no ClusterRole"
    writes = [
        f"{path.relative_to(REPO)}: {doc['kind']}/{doc['metadata']['name']}: {sorted(set(rule.get('verbs', [])))}"
        for path, doc in roles
        for rule in doc.get("rules") or []
        if not set(rule.get("verbs") or []) <= READ_VERBS
    ]
    assert not writes, writes


@pytest.mark.skipif(not HAS_DEPLOY, reason="no deploy/ manifests yet (a colleague is writing deploy/kubernetes)")
def test_shipped_cluster_role_grants_no_secrets_and_no_wildcards() -> None:
    for path, doc in _roles():
        if doc["kind"] != "ClusterRole":
            continue
        for rule in doc.get("rules") or []:
            where = f"{path.relative_to(REPO)}: {doc['metadata']['name']}: {rule}"
            assert "secrets" not in (rule.get("resources") or []), where
            assert "*" not in (rule.get("resources") or []) and "*" not in (rule.get("apiGroups") or []), where


def test_security_doc_names_the_rbac_of_every_kind_the_checks_read() -> None:
    text = SECURITY_DOC.read_text(encoding="utf-8")
    missing = []
    for key in load_catalog([CHECKS]).kinds_read():
        plural, _, group = key.partition(".")
        if f"`{plural}`" not in text or (group and f"`{group}`" not in text):
            missing.append(key)
    assert not missing, f"docs/security.md does not name: {missing}"
    assert parse_kind("secrets").key not in load_catalog([CHECKS]).kinds_read(), "a check reads Secrets"
