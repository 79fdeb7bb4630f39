"""FC-OIDC-001/002/004/005 on snapshots of kubeadm, kops and managed clusters, named in a fleet file with facts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.checks.backup.harness import REPO, Verdicts, run_checks
from tests.checks.oidc import builders as k
from tests.checks.oidc.builders import CLIENT_ID, ISSUER

OIDC_CHECKS = REPO / "checks" / "test_oidc.py"
OIDC_FLAGS = (f"--oidc-issuer-url={ISSUER}", f"--oidc-client-id={CLIENT_ID}", "--oidc-groups-claim=groups")
AUTH_CONFIG = "--authentication-config=/etc/kubernetes/auth/authentication-config.yaml"


def _scenarios() -> dict[str, tuple[list[k.Obj], dict[str, Any]]]:
    """cluster name -> (objects, fleet-file facts)."""
    kops_nodes = ("ip-10-0-1-10.eu-west-1.compute.internal", "ip-10-0-2-10.eu-west-1.compute.internal")
    return {
        "kubeadm-a": (
            [
                k.kubeadm_apiserver("cp-a", *OIDC_FLAGS, "--oidc-username-prefix=oidc:"),
                k.coredns_pod(),
                *k.default_rbac(),
                k.binding("alice-admin", "cluster-admin", ("User", "oidc:alice@example.com")),
            ],
            {},
        ),
        "kops-b": (
            [
                # `--flag value` form, behind /go-runner; the third control plane also reads a static token file
                k.kops_apiserver(kops_nodes[0], "--oidc-issuer-url", ISSUER, "--oidc-client-id", CLIENT_ID),
                k.kops_apiserver(kops_nodes[1], "--oidc-issuer-url", ISSUER, "--oidc-client-id", CLIENT_ID),
                k.kops_apiserver(
                    "ip-10-0-3-10.eu-west-1.compute.internal",
                    "--oidc-issuer-url",
                    ISSUER,
                    "--oidc-client-id",
                    CLIENT_ID,
                    "--token-auth-file=/srv/kubernetes/known_tokens.csv",
                ),
                *k.default_rbac(),
                k.cluster_role("super-user", [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]),
                k.binding("ci-deployer", "super-user", ("User", "ci-bot")),
                k.binding("break-glass", "cluster-admin", ("User", "kubernetes-admin"), ("Group", "ops")),
                k.binding("oidc-user", "cluster-admin", ("User", f"{ISSUER}#3f2a9c")),
            ],
            {},
        ),
        "drift-c": (
            [
                k.kubeadm_apiserver(
                    "cp-c", "--oidc-issuer-url=https://dex.team-c.example.com", "--oidc-client-id=team-c"
                ),
                *k.default_rbac(),
            ],
            {},
        ),
        "client-d": (
            [k.kubeadm_apiserver("cp-d", f"--oidc-issuer-url={ISSUER}", "--oidc-client-id=k8s-legacy")],
            {},
        ),
        "conflict-e": ([k.kubeadm_apiserver("cp-e", AUTH_CONFIG, *OIDC_FLAGS)], {}),
        "structured-f": (
            [k.kubeadm_apiserver("cp-f", AUTH_CONFIG), *k.default_rbac()],
            {"authentication_config": k.authentication_config(ISSUER, CLIENT_ID)},
        ),
        "structured-g": ([k.kubeadm_apiserver("cp-g", AUTH_CONFIG)], {}),
        "managed-h": (
            [k.coredns_pod(), *k.default_rbac(), k.binding("vendor", "cluster-admin", ("User", "admin@corp.example"))],
            {"oidc_issuer": ISSUER, "oidc_client_id": CLIENT_ID, "oidc_username_prefix": "oidc:"},
        ),
        "managed-i": ([k.coredns_pod(), k.binding("bob", "cluster-admin", ("User", "bob"))], {}),
        "noprefix-j": (
            [
                k.kubeadm_apiserver("cp-j", *OIDC_FLAGS, "--oidc-username-prefix=-"),
                k.binding("carol", "cluster-admin", ("User", "carol")),
            ],
            {},
        ),
        "none-k": ([k.kubeadm_apiserver("cp-k"), *k.default_rbac()], {}),
    }


@pytest.fixture(scope="module")
def fleet_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("oidc-fleet")
    clusters = []
    for name, (objects, facts) in _scenarios().items():
        folder = k.write_cluster(root / "snapshots", name, objects)
        entry: dict[str, Any] = {"name": name, "snapshot": str(folder)}
        if facts:
            entry["facts"] = facts
        clusters.append(entry)
    path = root / "fleet.yaml"
    path.write_text(yaml.safe_dump({"clusters": clusters}, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def _runs() -> dict[str, Verdicts]:
    return {}


@pytest.fixture
def verdicts(pytester: pytest.Pytester, fleet_file: Path, _runs: dict[str, Verdicts]) -> Verdicts:
    """Every OIDC check over the scenario fleet, default profile (run once per module)."""
    if "default" not in _runs:
        _runs["default"] = run_checks(pytester, OIDC_CHECKS, "--fleet", str(fleet_file))
    return _runs["default"]


def test_trusts_an_issuer(verdicts: Verdicts) -> None:
    for name in ("kubeadm-a", "kops-b", "drift-c", "client-d", "structured-f", "managed-h", "noprefix-j"):
        assert verdicts.outcome("FC-OIDC-001", name) == "pass", name
    assert verdicts.outcome("FC-OIDC-001", "none-k") == "fail"
    assert verdicts.message("FC-OIDC-001", "none-k") == (
        "1 of 1 kube-apiservers trust no OIDC issuer (expected --oidc-issuer-url or a jwt issuer in "
        "--authentication-config): kube-system/Pod/kube-apiserver-cp-k: neither --oidc-issuer-url nor "
        "--authentication-config is set"
    )
    assert "FC-OIDC-001 [none-k] fail: 1 of 1 kube-apiservers trust no OIDC issuer" in verdicts.stdout


def test_oidc_flags_with_authentication_config_is_fatal(verdicts: Verdicts) -> None:
    assert verdicts.outcome("FC-OIDC-001", "conflict-e") == "fail"
    message = verdicts.message("FC-OIDC-001", "conflict-e")
    assert (
        "kube-system/Pod/kube-apiserver-cp-e: --authentication-config=/etc/kubernetes/auth/authentication-config.yaml"
        " together with --oidc-issuer-url, --oidc-client-id, --oidc-groups-claim: kube-apiserver refuses to start "
        "with both (fatal misconfiguration)" in message
    )
    assert verdicts.objects("FC-OIDC-001", "conflict-e") == ["kube-system/Pod/kube-apiserver-cp-e"]


def test_unknown_configs_skip_telling_what_to_declare(verdicts: Verdicts) -> None:
    assert verdicts.outcome("FC-OIDC-001", "structured-g") == "skip"
    assert verdicts.message("FC-OIDC-001", "structured-g") == (
        "kube-system/Pod/kube-apiserver-cp-g reads --authentication-config=/etc/kubernetes/auth/"
        "authentication-config.yaml, a file on the control-plane node that the Kubernetes API does not show; "
        "declare its issuer in the fleet file (clusters[].facts.oidc_issuer and facts.oidc_client_id, or the file's "
        "YAML as facts.authentication_config)"
    )
    assert verdicts.outcome("FC-OIDC-001", "managed-i") == "skip"
    assert verdicts.message("FC-OIDC-001", "managed-i").startswith(
        "no kube-apiserver static pod in kube-system (a managed control plane such as EKS, GKE or AKS does not "
        "show one) and the fleet file declares no issuer for this cluster: add clusters[].facts.oidc_issuer"
    )


def test_issuer_and_client_id_match_the_fleet_majority(verdicts: Verdicts) -> None:
    for name in ("kubeadm-a", "kops-b", "structured-f", "managed-h", "noprefix-j"):
        assert verdicts.outcome("FC-OIDC-002", name) == "pass", (name, verdicts.message("FC-OIDC-002", name))
    majority = (
        "majority: 6 of 7 clusters of cohort profile default: kubeadm-a, kops-b, client-d, structured-f, managed-h, "
        "noprefix-j; not counted: conflict-e (value unknown), structured-g (value unknown), managed-i (value unknown), "
        "none-k (value unknown)"
    )
    assert verdicts.outcome("FC-OIDC-002", "drift-c") == "fail"
    assert verdicts.message("FC-OIDC-002", "drift-c") == (
        "OIDC settings differ from the fleet's on 1 of 1 API servers: kube-system/Pod/kube-apiserver-cp-c: issuer "
        f"https://dex.team-c.example.com differs from the fleet's {ISSUER} ({majority})"
    )
    assert verdicts.outcome("FC-OIDC-002", "client-d") == "fail"
    assert "client id k8s-legacy differs from the fleet's 'kubernetes' (majority: 5 of 6 clusters of cohort" in (
        verdicts.message("FC-OIDC-002", "client-d")
    )
    for name in ("none-k", "conflict-e"):
        assert verdicts.outcome("FC-OIDC-002", name) == "skip"
        assert "see FC-OIDC-001" in verdicts.message("FC-OIDC-002", name)


def test_profile_standard_wins_over_the_majority(pytester: pytest.Pytester, fleet_file: Path, tmp_path: Path) -> None:
    profile = tmp_path / "idp.yaml"
    standards = {"oidc_issuer": "https://dex.team-c.example.com", "oidc_client_id": "team-c"}
    profile.write_text(yaml.safe_dump({"name": "idp", "extends": "default", "standards": standards}), encoding="utf-8")
    verdicts = run_checks(
        pytester, OIDC_CHECKS, "--fleet", str(fleet_file), "--profile", str(profile), "-k", "test_oidc_matches_fleet"
    )
    assert verdicts.outcome("FC-OIDC-002", "drift-c") == "pass"
    assert verdicts.message("FC-OIDC-002", "kubeadm-a") == (
        "OIDC settings differ from the fleet's on 1 of 1 API servers: kube-system/Pod/kube-apiserver-cp-a: issuer "
        f"{ISSUER} differs from the fleet's https://dex.team-c.example.com (declared by profile idp "
        "(standards.oidc_issuer))"
    )


def test_no_standard_without_a_majority(pytester: pytest.Pytester, fleet_file: Path, tmp_path: Path) -> None:
    document = yaml.safe_load(fleet_file.read_text(encoding="utf-8"))
    document["clusters"] = [c for c in document["clusters"] if c["name"] in ("kubeadm-a", "drift-c")]
    small = tmp_path / "two.yaml"
    small.write_text(yaml.safe_dump(document), encoding="utf-8")
    verdicts = run_checks(pytester, OIDC_CHECKS, "--fleet", str(small), "-k", "test_oidc_matches_fleet")
    assert verdicts.outcome("FC-OIDC-002", "drift-c") == "skip"
    assert verdicts.message("FC-OIDC-002", "drift-c").startswith(
        "no fleet standard: no value holds more than half of the 2 clusters of cohort profile default with a known "
        "value"
    )


def test_static_credentials(verdicts: Verdicts) -> None:
    assert verdicts.outcome("FC-OIDC-004", "kubeadm-a") == "pass"
    assert verdicts.outcome("FC-OIDC-004", "kops-b") == "fail"
    assert verdicts.message("FC-OIDC-004", "kops-b") == (
        "1 of 3 kube-apiservers accept static credentials (expected neither --token-auth-file nor "
        "--basic-auth-file): kube-system/Pod/kube-apiserver-ip-10-0-3-10.eu-west-1.compute.internal: "
        "--token-auth-file=/srv/kubernetes/known_tokens.csv"
    )
    assert verdicts.outcome("FC-OIDC-004", "managed-h") == "skip"
    assert "credential files cannot be seen through the API" in verdicts.message("FC-OIDC-004", "managed-h")


def test_cluster_admin_users(verdicts: Verdicts) -> None:
    assert verdicts.outcome("FC-OIDC-005", "kubeadm-a") == "pass"
    assert verdicts.outcome("FC-OIDC-005", "none-k") == "pass", "no User subjects: nothing to judge"
    message = verdicts.message("FC-OIDC-005", "kops-b")
    assert verdicts.outcome("FC-OIDC-005", "kops-b") == "fail"
    assert message.startswith(
        f"2 cluster-admin grants go to Users that are not OIDC identities (expected user names starting with "
        f"'{ISSUER}#', from the kube-apiserver's OIDC settings"
    ), message
    assert "ClusterRoleBinding/break-glass: grants cluster-admin to User 'kubernetes-admin'" in message
    assert (
        "ClusterRoleBinding/ci-deployer: grants super-user to User 'ci-bot' (ClusterRole super-user grants * on *, "
        "as cluster-admin does)" in message
    )
    assert "system:kube-controller-manager" not in message and "3f2a9c" not in message
    assert verdicts.outcome("FC-OIDC-005", "managed-h") == "fail"
    assert "from fleet file facts.oidc_username_prefix" in verdicts.message("FC-OIDC-005", "managed-h")
    assert verdicts.outcome("FC-OIDC-005", "managed-i") == "skip"
    assert verdicts.message("FC-OIDC-005", "managed-i").endswith("Users holding cluster-admin: 'bob'")
    assert verdicts.outcome("FC-OIDC-005", "noprefix-j") == "skip"
    assert "OIDC user names carry no prefix" in verdicts.message("FC-OIDC-005", "noprefix-j")


def test_discovery_skips_on_snapshots(verdicts: Verdicts) -> None:
    assert verdicts.outcome("FC-OIDC-003", "kubeadm-a") == "skip"
    assert "live check" in verdicts.message("FC-OIDC-003", "kubeadm-a")
