"""Reading kube-apiserver flags and authentication settings: command-line shapes, corpus pods, structured config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from fleetcheck.errors import ConfigError
from fleetcheck.facts.apiserver import (
    apiserver_flags,
    find_apiserver_pods,
    parse_apiserver_argv,
    parse_authentication_config,
    read_authentication,
)
from fleetcheck.registry.fleet import DeclaredFacts
from tests.checks.oidc import builders as k
from tests.checks.oidc.builders import ISSUER

MANIFESTS = Path(__file__).resolve().parents[4] / "shared" / "corpus" / "manifests"


def _corpus(name: str) -> Path:
    path = MANIFESTS / name
    if not path.is_file():
        pytest.skip(f"corpus file not present: {path}")
    return path


def test_argv_shapes() -> None:
    assert parse_apiserver_argv(["kube-apiserver", "--a=1", "--b", "2", "--allow-privileged", "--c=x=y"]) == [
        ("a", "1"),
        ("b", "2"),
        ("allow-privileged", "true"),
        ("c", "x=y"),
    ]
    # wrapper flags before the binary are not the API server's
    assert parse_apiserver_argv(["/go-runner", "--log-file=/x", "--also-stdout", "/usr/local/bin/kube-apiserver"]) == []
    # a flag followed by another flag has no value; "--runtime-config=" is an empty value
    assert parse_apiserver_argv(["kube-apiserver", "--profiling", "--runtime-config=", "--v", "2"]) == [
        ("profiling", "true"),
        ("runtime-config", ""),
        ("v", "2"),
    ]
    shell = ["/bin/sh", "-c", "exec /usr/local/bin/kube-apiserver --oidc-issuer-url='https://idp' --v=2"]
    assert parse_apiserver_argv(shell) == [("oidc-issuer-url", "https://idp"), ("v", "2")]


def test_pods_found_by_label_or_name_only_in_kube_system() -> None:
    other = k.kubeadm_apiserver("cp-x")
    other["metadata"]["namespace"] = "team-a"
    pods = [k.coredns_pod(), k.kops_apiserver("n1"), k.kubeadm_apiserver("cp-1"), other]
    names = [p["metadata"]["name"] for p in find_apiserver_pods(pods)]
    assert names == ["kube-apiserver-cp-1", "kube-apiserver-n1"]


def test_username_prefix_defaults_follow_kube_apiserver() -> None:
    def prefix(*flags: str) -> str | None:
        auth = read_authentication([k.kubeadm_apiserver("cp", f"--oidc-issuer-url={ISSUER}", *flags)], DeclaredFacts())
        return auth.authenticators[0].username_prefix

    assert prefix() == f"{ISSUER}#", "unset prefix and claim sub: issuer URL + '#'"
    assert prefix("--oidc-username-claim=email") == "", "email claims get no prefix"
    assert prefix("--oidc-username-prefix=-") == "", "'-' disables the prefix"
    assert prefix("--oidc-username-prefix=oidc:") == "oidc:"


def test_structured_config_from_facts() -> None:
    text = k.authentication_config(ISSUER, "kubernetes", prefix="sso:")
    facts = DeclaredFacts(authentication_config=text)
    auth = read_authentication([k.kubeadm_apiserver("cp", "--authentication-config=/etc/auth.yaml")], facts)
    assert auth.unknown is None
    [server] = auth.servers
    assert server.unknown is None and server.authentication_config == "/etc/auth.yaml"
    [jwt] = server.authenticators
    assert (jwt.issuer, jwt.client_ids, jwt.username_prefix) == (ISSUER, ("kubernetes",), "sso:")
    assert jwt.source == "fleet file facts.authentication_config jwt[0]"
    with pytest.raises(ConfigError, match=r"facts.authentication_config: not an AuthenticationConfiguration"):
        read_authentication(
            [k.kubeadm_apiserver("cp", "--authentication-config=/x")], DeclaredFacts(authentication_config="a: 1")
        )


def test_corpus_kops_pod_with_oidc_flags() -> None:
    pod = yaml.safe_load(_corpus("15_kops-golden-oidc-kube-apiserver-static-pod.yaml").read_text(encoding="utf-8"))
    assert find_apiserver_pods([pod]) == [pod], "label k8s-app=kube-apiserver, name kube-apiserver"
    flags = apiserver_flags(pod)
    assert not flags.has("log-file") and not flags.has("also-stdout"), "go-runner's flags are not the API server's"
    assert flags.value("oidc-issuer-url") == "https://oidc-issuer.nonexistent"
    assert flags.values("oidc-required-claim") == ["claim1=value1", "claim2=value2"]
    assert len(flags.values("service-account-issuer")) == 5
    auth = read_authentication([pod], DeclaredFacts())
    [jwt] = auth.authenticators
    assert jwt.client_ids == ("oidc-client",) and jwt.username_prefix == "oidc:"
    assert jwt.source == "kube-system/Pod/kube-apiserver --oidc-issuer-url=https://oidc-issuer.nonexistent"


@pytest.mark.parametrize(
    ("name", "pod_name"),
    [
        ("02_sonobuoy-kind-v1.20_kube-system_core_v1_pods.json", "kube-apiserver-kind-control-plane"),
        (
            "04_sonobuoy-results-0.10-aws-kubeadm-v1.8.4_kube-system_Pods.json",
            "kube-apiserver-ip-10-0-9-206.us-west-2.compute.internal",
        ),
    ],
)
def test_corpus_kubeadm_pods_without_oidc(name: str, pod_name: str) -> None:
    data = json.loads(_corpus(name).read_text(encoding="utf-8"))
    pods = data["items"] if isinstance(data, dict) else data  # 04 is a bare JSON array, not a List
    [server] = read_authentication(pods, DeclaredFacts()).servers
    assert server.ref == f"kube-system/Pod/{pod_name}"
    assert server.authenticators == () and server.conflict is None and server.unknown is None
    assert server.flags is not None and server.flags.value("authorization-mode") == "Node,RBAC"


def test_corpus_authentication_configuration() -> None:
    text = _corpus("17_k8s-docs-authenticationconfiguration-v1-valid-token-example.yaml").read_text(encoding="utf-8")
    [jwt] = parse_authentication_config(text, "corpus")
    assert (jwt.issuer, jwt.client_ids) == ("https://example.com", ("my-app",))
    assert jwt.username_prefix is None, "a CEL expression maps the name: no knowable prefix"
