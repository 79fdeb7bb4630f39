"""Fixtures for report tests: a realistic synthetic scan (no cluster, no checks imported).

Builders are fixtures (not an importable helper module) because the suite runs
with ``--import-mode=importlib``, where test folders are not on ``sys.path``.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from fleetcheck.results import CheckInfo, ClusterSummary, ResultRecord, ResultsDocument
from fleetcheck.scoring import score_document

XSS = "<script>alert(1)</script>"

# code, factor, severity, scope, title
CATALOG_ROWS = [
    ("FC-CNI-001", "boring", "medium", "cluster", "A known CNI is installed"),
    ("FC-CNI-002", "boring", "high", "fleet", "CNI matches the fleet standard"),
    ("FC-VER-001", "boring", "medium", "fleet", "Kubernetes minor within one of the newest"),
    ("FC-RBAC-001", "managed", "medium", "fleet", "Cluster RBAC matches the fleet"),
    ("FC-GITOPS-001", "managed", "medium", "cluster", "Workloads are owned by GitOps"),
    ("FC-OBS-001", "observable", "high", "cluster", "Metrics are shipped to the central store"),
    ("FC-OBS-002", "observable", "medium", "cluster", "Logs are shipped from every node"),
    ("FC-OIDC-001", "single-idp", "high", "cluster", "API server trusts an OIDC issuer"),
    ("FC-OIDC-002", "single-idp", "high", "fleet", "OIDC issuer matches the fleet"),
    ("FC-OIDC-003", "single-idp", "high", "live", "OIDC discovery works"),
    ("FC-OIDC-004", "single-idp", "critical", "cluster", "No static token or basic-auth file"),
    ("FC-BACKUP-001", "recoverable", "high", "cluster", "A backup system is available"),
    ("FC-BACKUP-003", "recoverable", "high", "cluster", "Backups are recent"),
    ("FC-BACKUP-004", "recoverable", "medium", "cluster", "A restore drill happened"),
    ("FC-TIER-001", "tested", "medium", "cluster", "The cluster declares a tier"),
    ("FC-TIER-002", "tested", "high", "fleet", "Prod has a canary"),
    ("FC-CLOCK-001", "time-synced", "high", "cluster", "Node clocks agree with the API server"),
    ("FC-CLOCK-002", "time-synced", "high", "live", "API server clock agrees with NTP"),
    ("FC-DNS-001", "explicit-dns", "high", "cluster", "CoreDNS forwards to explicit upstreams"),
    ("FC-DNS-002", "explicit-dns", "high", "fleet", "DNS upstreams match the fleet"),
    ("FC-DNS-005", "explicit-dns", "medium", "cluster", "At least two CoreDNS replicas"),
    ("FC-IMG-001", "local-images", "high", "cluster", "No images from docker.io"),
    ("FC-IMG-003", "local-images", "medium", "cluster", "Images are pinned"),
    ("FC-QUOTA-001", "bounded", "high", "cluster", "Namespaces have a ResourceQuota"),
    ("FC-QUOTA-002", "bounded", "medium", "cluster", "Namespaces have a LimitRange"),
    ("FC-STALE-001", "owned", "medium", "cluster", "The cluster has an owner and expiry"),
    ("FC-STALE-002", "owned", "high", "cluster", "The expiry has not passed"),
    ("FC-COST-001", "owned", "info", "cluster", "Enough workloads to justify a cluster"),
    ("FC-PV-001", "portable-data", "high", "cluster", "Prod volumes are replicated or backed up"),
]


def catalog() -> dict[str, CheckInfo]:
    return {
        code: CheckInfo(
            code=code,
            title=title,
            factor=factor,
            severity=severity,  # type: ignore[arg-type]
            scope=scope,
            what=f"Checks that {title.lower()}.",
            why=f"Without it, an incident in one cluster ({factor}) spreads or goes unnoticed.",
            fix=f"Make sure {title.lower()}; see the runbook for {code}.",
            references="https://example.invalid/runbooks/" + code.lower(),
        )
        for code, factor, severity, scope, title in CATALOG_ROWS
    }


FIVE = [
    ("prod-us-east", {"env": "prod", "region": "us-east", "tier": "prod", "owner": "team-a"}),
    ("prod-eu-west", {"env": "prod", "region": "eu-west", "tier": "prod", "owner": XSS}),
    ("dev", {"env": "dev", "region": "eu-west", "tier": "dev"}),
    ("edge-001", {"env": "edge", "region": "ap-south", "owner": "team-edge"}),
    ("canary-eu-west", {"env": "prod", "region": "eu-west", "tier": "canary", "owner": "team-a"}),
]


def _outcome(rng: random.Random, code: str, cluster: str, scope: str, unreachable: bool) -> str:
    if scope == "live":
        return "skip"
    if unreachable and scope != "fleet":
        return "error"
    roll = rng.random()
    if roll < 0.62:
        return "pass"
    if roll < 0.9:
        return "fail"
    if roll < 0.95:
        return "error"
    return "waived"


def make_document(clusters: list[tuple[str, dict[str, str]]] | None = None, seed: int = 7) -> ResultsDocument:
    """A scan of ``clusters`` (default: the five named ones) against the catalog above."""
    clusters = FIVE if clusters is None else clusters
    rng = random.Random(seed)
    checks = catalog()
    summaries = []
    results = []
    for name, labels in clusters:
        unreachable = name.startswith("edge-")
        summaries.append(
            ClusterSummary(
                name=name,
                labels=labels,
                profile="edge" if name.startswith("edge") else "default",
                source=f"snapshot:/snapshots/{name}",
                server_version="v1.31.4" if not name.startswith("dev") else "v1.29.10",
                reachable=not unreachable,
            )
        )
        for code, info in checks.items():
            outcome = _outcome(rng, code, name, info.scope, unreachable)
            if name == "prod-eu-west" and code == "FC-OIDC-004":
                outcome = "fail"
            if name == "dev" and code == "FC-IMG-001":
                outcome = "fail"
            if name == "dev" and code == "FC-QUOTA-001":
                outcome = "waived"
            message = {
                "pass": "",
                "skip": "live probes are not enabled for snapshots",
                "error": "list configmaps in kube-system: 403 Forbidden"
                if not unreachable
                else "cluster unreachable: dial tcp 10.0.0.1:6443: i/o timeout",
                "waived": "namespace team-x has no ResourceQuota",
                "fail": f"{code} failed on {name}: found \x1b[31mred\x1b[0m value, expected the fleet's",
            }[outcome]
            objects: list[str] = []
            if outcome == "fail":
                objects = [f"ns-{i}/Deployment/app-{i}" for i in range(rng.choice([1, 2, 3, 8]))]
                if name == "prod-eu-west":
                    objects.append(XSS)
            waiver = None
            if outcome == "waived":
                waiver = {"reason": "migration to quotas tracked", "expires": "2027-01-31", "ticket": "OPS-1234"}
            results.append(
                ResultRecord(
                    cluster=name,
                    code=code,
                    factor=info.factor,
                    severity=info.severity,
                    outcome=outcome,  # type: ignore[arg-type]
                    message=message,
                    objects=objects,
                    title=info.title,
                    scope=info.scope,
                    duration_s=round(rng.random() / 10, 4),
                    waiver=waiver,
                )
            )
    return ResultsDocument(
        started="2026-11-24T10:00:00Z",
        finished="2026-11-24T10:03:12Z",
        profile="default",
        clusters=summaries,
        results=results,
        checks=checks,
    )


def many_clusters(n: int) -> list[tuple[str, dict[str, str]]]:
    regions = ["us-east", "us-west", "eu-west", "eu-central", "ap-south"]
    envs = ["prod", "staging", "dev"]
    return [
        (f"cluster-{i:04d}", {"env": envs[i % 3], "region": regions[i % 5], "owner": f"team-{i % 17}"})
        for i in range(n)
    ]


MakeDocument = Callable[..., ResultsDocument]


@pytest.fixture
def make_doc() -> MakeDocument:
    """``make_doc(clusters=None, seed=7)``: build a scan of the given (name, labels) pairs."""
    return make_document


@pytest.fixture
def fleet_of() -> Callable[[int], list[tuple[str, dict[str, str]]]]:
    """``fleet_of(n)``: n generated cluster names with env/region/owner labels."""
    return many_clusters


@pytest.fixture
def xss() -> str:
    return XSS


@pytest.fixture
def document() -> ResultsDocument:
    """The five-cluster synthetic scan, unscored."""
    return make_document()


@pytest.fixture
def scored(document: ResultsDocument) -> ResultsDocument:
    return score_document(document)
