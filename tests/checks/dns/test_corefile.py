"""fleetcheck.facts.corefile: the Corefile grammar, and where clusters keep their DNS configuration."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetcheck.facts.corefile import (
    CorefileError,
    DnsConfigError,
    ServerKey,
    find_dns_setup,
    normalize_upstream,
    parse_corefile,
)
from fleetcheck.state.snapshot import load_snapshot


def _cm(name: str, data: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "kube-system"},
        "data": data,
    }


def test_kubeadm_default(kubeadm_corefile: Any) -> None:
    corefile = parse_corefile(kubeadm_corefile("/etc/resolv.conf"))
    (server,) = corefile.servers
    assert server.label == ".:53"
    forward = server.forward_for(".")
    assert forward is not None
    assert forward.targets == ("/etc/resolv.conf",)
    assert forward.files == ("/etc/resolv.conf",)
    assert forward.directive.line == 13
    assert [(d.name, d.args) for d in forward.directive.block] == [("max_concurrent", ("1000",))]
    assert [d.name for d in server.directives] == [
        "errors", "health", "ready", "kubernetes", "prometheus", "forward", "cache", "loop", "reload", "loadbalance",
    ]  # fmt: skip
    assert server.directive("health")[0].options("lameduck")[0].args == ("5s",)
    domain = corefile.cluster_domain()
    assert domain is not None
    assert domain[0] == "cluster.local"
    assert domain[1].text() == "kubernetes cluster.local in-addr.arpa ip6.arpa"


def test_several_blocks_and_zones() -> None:
    corefile = parse_corefile(
        """\
cluster.local:53 in-addr.arpa:53 {
    errors
    kubernetes
}
consul.local:53 {
    errors
    cache 30
    forward . 10.150.0.1
}
.:5353 {
    forward . /etc/resolv.conf
}
.:53 {
    forward . tls://9.9.9.9 dns://1.1.1.1:53 [2001:db8::53]:53 10.0.0.9:5353 {
        tls_servername dns.quad9.net
        health_check 5s
    }
}
"""
    )
    assert [s.label for s in corefile.servers] == [
        "cluster.local:53 in-addr.arpa:53", "consul.local:53", ".:5353", ".:53",
    ]  # fmt: skip
    assert corefile.servers[0].zones == ("cluster.local", "in-addr.arpa")
    # the kubernetes plugin names no zones: it serves the block's, and the reverse zone is not the domain
    assert corefile.cluster_domain() == ("cluster.local", corefile.servers[0].directive("kubernetes")[0])
    roots = corefile.root_servers()
    assert [s.label for s in roots] == [".:53", ".:5353"]
    forward = roots[0].forward_for(".")
    assert forward is not None
    assert forward.upstreams == ("tls://9.9.9.9", "1.1.1.1", "2001:db8::53", "10.0.0.9:5353")
    assert forward.files == ()
    assert [o.name for o in forward.directive.block] == ["tls_servername", "health_check"]
    stub = corefile.servers[1].forward_for(".")
    assert stub is not None
    assert stub.upstreams == ("10.150.0.1",)


def test_comments_quotes_and_one_line_blocks() -> None:
    corefile = parse_corefile(
        """\
# the fleet's resolver # not a directive
.:53 {   # comments may follow anything
    hosts "/etc/coredns/node hosts" { fallthrough }
    forward . "10.0.0.2" 10.0.0.3 # trailing comment
    template IN A "example.org" {
        answer "{{ .Name }} 60 IN A 10.9.9.9"
    }
}
"""
    )
    (server,) = corefile.servers
    hosts = server.directive("hosts")[0]
    assert hosts.args == ("/etc/coredns/node hosts",)
    assert [d.name for d in hosts.block] == ["fallthrough"]
    forward = server.forward_for(".")
    assert forward is not None
    assert forward.upstreams == ("10.0.0.2", "10.0.0.3")
    assert server.directive("template")[0].block[0].args == ("{{ .Name }} 60 IN A 10.9.9.9",)


def test_snippets_are_spliced_in_where_imported() -> None:
    corefile = parse_corefile(
        """\
(common) {
    errors
    cache 30
}
(log) {
    log
}
.:53 {
    import common
    import log
    import log
    forward . 8.8.8.8
}
"""
    )
    (server,) = corefile.servers
    assert [d.name for d in server.directives] == ["errors", "cache", "log", "log", "forward"]
    assert corefile.snippets == ("common", "log")


def test_imported_files_and_the_ones_we_cannot_see() -> None:
    files = {
        "/etc/coredns/custom/upstream.override": "log\n",
        "/etc/coredns/custom/corp.server": "corp.example:53 {\n    forward . 10.20.0.1\n}\n",
    }
    corefile = parse_corefile(
        """\
.:53 {
    import /etc/coredns/custom/*.override
    import extra/*.conf
    forward . 10.0.0.2
}
import custom/*.server
""",
        files=files,
        known_dirs=["/etc/coredns/custom"],
    )
    assert [s.label for s in corefile.servers] == [".:53", "corp.example:53"]
    assert [d.name for d in corefile.servers[0].directives] == ["log", "forward"]
    assert corefile.servers[0].directives[0].source == "/etc/coredns/custom/upstream.override"
    assert corefile.servers[1].source == "/etc/coredns/custom/corp.server"
    assert corefile.unresolved_imports == ("extra/*.conf (Corefile line 3)",)


def test_braceless_single_block_and_old_proxy() -> None:
    corefile = parse_corefile(".:53\nerrors\nproxy . /etc/resolv.conf\ncache 30\n")
    (server,) = corefile.servers
    forward = server.forward_for(".")
    assert forward is not None
    assert (forward.plugin, forward.files) == ("proxy", ("/etc/resolv.conf",))


def test_keys_with_transports_and_commas() -> None:
    corefile = parse_corefile("example.org, example.net {\n whoami\n}\ntls://.:853 dns://.:53 {\n whoami\n}\n")
    assert corefile.servers[0].zones == ("example.org", "example.net")
    assert [str(k) for k in corefile.servers[1].keys] == ["tls://.:853", ".:53"]
    assert ServerKey.parse("tls://example.org") == ServerKey("tls", "example.org", 853)
    assert ServerKey.parse(":53") == ServerKey("dns", ".", 53)
    assert ServerKey.parse("Cluster.Local.") == ServerKey("dns", "cluster.local", 53)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (".:53 {\n    errors\n", r"Corefile line 1: block opened by '\.:53' has no '}'"),
        (".:53 {\n    errors\n}\n}\n", r"Corefile line 4: unexpected '}' outside a server block"),
        (".:53 {\n    forward . /etc/resolv.conf {\n}\n", r"Corefile line 1: block opened by '\.:53' has no '}'"),
        ('.:53 {\n    hosts "/etc/hosts\n}\n', r"Corefile line 2: unterminated quoted string"),
        ("(loop) {\n    import loop\n}\n.:53 {\n    import loop\n}\n", r"imports nest too deeply"),
        (".:53 {\n    import\n}\n", r"Corefile line 2: import needs a snippet name or a file pattern"),
        (".:53 {\n}\nexample.org\n", r"Corefile line 3: expected '\{' after server block keys example\.org"),
    ],
)
def test_syntax_errors_name_the_line(text: str, problem: str) -> None:
    with pytest.raises(CorefileError, match=problem):
        parse_corefile(text)


@pytest.mark.parametrize(
    ("target", "normalized"),
    [
        ("8.8.8.8", "8.8.8.8"),
        ("8.8.8.8:53", "8.8.8.8"),
        ("dns://8.8.8.8:53", "8.8.8.8"),
        ("10.0.0.2:5353", "10.0.0.2:5353"),
        ("tls://9.9.9.9:853", "tls://9.9.9.9"),
        ("tls://9.9.9.9:8853", "tls://9.9.9.9:8853"),
        ("2001:DB8::53", "2001:db8::53"),
        ("[2001:db8::53]:53", "2001:db8::53"),
        ("[2001:db8::53]:5353", "[2001:db8::53]:5353"),
        ("Resolver.Example.NET.", "resolver.example.net"),
    ],
)
def test_one_spelling_per_resolver(target: str, normalized: str) -> None:
    assert normalize_upstream(target) == normalized


# -- where clusters keep DNS config -----------------------------------------------------------------


def test_kube_dns_with_upstreams_and_stub_domains(kube_dns_config: Any) -> None:
    data = kube_dns_config(["8.8.8.8", "8.8.4.4:53"], {"acme.local": ["10.150.0.1"]})
    setup = find_dns_setup([_cm("kube-dns", data)], [])
    assert setup is not None
    assert setup.provider == "kube-dns"
    assert setup.upstreams == ("8.8.4.4", "8.8.8.8")
    assert setup.forwarding[0].files == ()
    assert setup.stub_domains == {"acme.local": ("10.150.0.1",)}
    assert setup.cluster_domain is None  # no kube-dns Deployment to read --domain from


def test_kube_dns_without_upstreams_uses_the_node_resolv_conf(kube_dns_config: Any) -> None:
    setup = find_dns_setup([_cm("kube-dns", kube_dns_config(stubs={"acme.local": ["10.150.0.1"]}))], [])
    assert setup is not None
    assert setup.forwarding[0].files == ("/etc/resolv.conf",)
    assert setup.forwarding[0].ref == "kube-system/ConfigMap/kube-dns"


def test_kube_dns_json_that_kube_dns_would_ignore_is_an_error() -> None:
    with pytest.raises(DnsConfigError, match=r"kube-system/ConfigMap/kube-dns data\.upstreamNameservers is not valid"):
        find_dns_setup([_cm("kube-dns", {"upstreamNameservers": "[8.8.8.8]"})], [])
    with pytest.raises(DnsConfigError, match=r"data\.stubDomains must be a JSON dict"):
        find_dns_setup([_cm("kube-dns", {"stubDomains": '["10.0.0.1"]'})], [])


def test_corefile_in_a_helm_named_configmap(kubeadm_corefile: Any) -> None:
    """RKE2 and the CoreDNS Helm chart name the ConfigMap after the release."""
    other = _cm("rke2-coredns-rke2-coredns", {"Corefile": kubeadm_corefile("10.0.0.2", "rke2.local")})
    setup = find_dns_setup([_cm("cluster-info", {"kubeconfig": "..."}), other], [])
    assert setup is not None
    assert (setup.config_ref, setup.upstreams, setup.cluster_domain) == (
        "kube-system/ConfigMap/rke2-coredns-rke2-coredns", ("10.0.0.2",), "rke2.local",
    )  # fmt: skip


def test_no_dns_configuration() -> None:
    assert find_dns_setup([_cm("kube-proxy", {"config.conf": ""})], []) is None


# -- real configurations from the corpus ------------------------------------------------------------

K3S_VALUES = {
    "CLUSTER_DOMAIN": "cluster.local",
    "CLUSTER_DNS": "10.43.0.10",
    "CLUSTER_DNS_LIST": "[10.43.0.10]",
    "CLUSTER_DNS_IPFAMILYPOLICY": "SingleStack",
    "SYSTEM_DEFAULT_REGISTRY": "",
}


def _k3s_objects(corpus: Path) -> list[dict[str, Any]]:
    """k3s's packaged manifest with its ``%{...}%`` placeholders filled as k3s fills them."""
    text = (corpus / "manifests" / "10_k3s-manifests-coredns.yaml").read_text(encoding="utf-8")
    filled = re.sub(r"%\{([A-Z_]+)\}%", lambda m: K3S_VALUES[m[1]], text)
    return [doc for doc in yaml.safe_load_all(filled) if doc]


def test_k3s_corefile_with_coredns_custom(corpus: Path) -> None:
    objects = _k3s_objects(corpus)
    configmaps = [o for o in objects if o["kind"] == "ConfigMap"]
    deployments = [o for o in objects if o["kind"] == "Deployment"]
    setup = find_dns_setup(configmaps, deployments)
    assert setup is not None
    assert (setup.upstreams, setup.cluster_domain, setup.unresolved_imports) == (
        ("/etc/resolv.conf",), "cluster.local", (),
    )  # fmt: skip
    # k3s's documented way to set upstreams: a coredns-custom key spliced into the root block
    custom = _cm(
        "coredns-custom",
        {"log.override": "log\n", "corp.server": "corp.example:53 {\n    forward . 10.20.0.1 10.20.0.2:5353\n}\n"},
    )
    setup = find_dns_setup([*configmaps, custom], deployments)
    assert setup is not None
    assert setup.stub_domains == {"corp.example": ("10.20.0.1", "10.20.0.2:5353")}
    assert setup.forwarding[0].origin == "Corefile line 15: forward . /etc/resolv.conf"


def test_eks_default_corefile(corpus: Path) -> None:
    doc = json.loads((corpus / "manifests" / "08_eksctl-eks-default-coredns-1.33.json").read_text(encoding="utf-8"))
    items = doc["items"]
    setup = find_dns_setup(
        [i for i in items if i["kind"] == "ConfigMap"], [i for i in items if i["kind"] == "Deployment"]
    )
    assert setup is not None
    assert (setup.provider, setup.upstreams, setup.cluster_domain) == (
        "CoreDNS",
        ("/etc/resolv.conf",),
        "cluster.local",
    )


def test_kubeadm_1_8_kube_dns_without_a_configmap(corpus: Path) -> None:
    snap = load_snapshot(corpus / "sonobuoy" / "aws-kubeadm-v1.8")
    setup = find_dns_setup(snap.objects.get("configmaps", []), snap.objects.get("deployments.apps", []))
    assert setup is not None
    assert setup.provider == "kube-dns"
    assert setup.forwarding[0].ref == "kube-system/Deployment/kube-dns"
    assert setup.forwarding[0].files == ("/etc/resolv.conf",)
    assert (setup.cluster_domain, setup.domain_origin) == (
        "cluster.local",
        "container kubedns: --domain=cluster.local.",
    )


def test_kind_1_21_corefile(corpus: Path) -> None:
    snap = load_snapshot(corpus / "sonobuoy" / "kind-v1.21-quick")
    setup = find_dns_setup(snap.objects.get("configmaps", []), snap.objects.get("deployments.apps", []))
    assert setup is not None
    assert setup.upstreams == ("/etc/resolv.conf",)
    assert setup.domain_origin == "Corefile line 7: kubernetes cluster.local in-addr.arpa ip6.arpa"
