"""Cluster DNS: the CoreDNS Deployment, its ``coredns`` ConfigMap (the Corefile) and the kube-dns Service.

The Corefile is kubeadm's default with the fleet's explicit upstreams in
place of ``/etc/resolv.conf``; the DNS plants change exactly the lines
FC-DNS-001/002/003 read (``forward .`` and the ``kubernetes`` zone).
"""

from __future__ import annotations

from fleetcheck.demo.build import DAY, ClusterBuild
from fleetcheck.demo.control_plane import COREDNS_VERSIONS, DNS_SERVICE_IP
from fleetcheck.demo.controllers import add_deployment
from fleetcheck.demo.pods import container
from fleetcheck.demo.providers import coredns_image

__all__ = ["add_coredns", "corefile"]


def corefile(cluster_domain: str, upstreams: tuple[str, ...]) -> str:
    """Kubeadm's Corefile for ``cluster_domain``, forwarding everything else to ``upstreams``."""
    return (
        ".:53 {\n"
        "    errors\n"
        "    health {\n"
        "       lameduck 5s\n"
        "    }\n"
        "    ready\n"
        f"    kubernetes {cluster_domain} in-addr.arpa ip6.arpa {{\n"
        "       pods insecure\n"
        "       fallthrough in-addr.arpa ip6.arpa\n"
        "       ttl 30\n"
        "    }\n"
        "    prometheus :9153\n"
        f"    forward . {' '.join(upstreams)} {{\n"
        "       max_concurrent 1000\n"
        "    }\n"
        "    cache 30\n"
        "    loop\n"
        "    reload\n"
        "    loadbalance\n"
        "}\n"
    )


def eks_corefile(cluster_domain: str, upstreams: tuple[str, ...]) -> str:
    """The EKS CoreDNS add-on's Corefile: kubeadm's, with no ``forward`` options (EKS default: resolv.conf)."""
    return (
        ".:53 {\n"
        "    errors\n"
        "    health {\n"
        "      lameduck 5s\n"
        "    }\n"
        "    ready\n"
        f"    kubernetes {cluster_domain} in-addr.arpa ip6.arpa {{\n"
        "      pods insecure\n"
        "      fallthrough in-addr.arpa ip6.arpa\n"
        "    }\n"
        "    prometheus :9153\n"
        f"    forward . {' '.join(upstreams)}\n"
        "    cache 30\n"
        "    loop\n"
        "    reload\n"
        "    loadbalance\n"
        "}\n"
    )


def k3s_corefile(cluster_domain: str, upstreams: tuple[str, ...]) -> str:
    """k3s's packaged Corefile (NodeHosts and ``coredns-custom`` imports), forwarding to ``upstreams``."""
    return (
        ".:53 {\n"
        "    errors\n"
        "    health\n"
        "    ready\n"
        f"    kubernetes {cluster_domain} in-addr.arpa ip6.arpa {{\n"
        "      pods insecure\n"
        "      fallthrough in-addr.arpa ip6.arpa\n"
        "    }\n"
        "    hosts /etc/coredns/NodeHosts {\n"
        "      ttl 60\n"
        "      reload 15s\n"
        "      fallthrough\n"
        "    }\n"
        "    prometheus :9153\n"
        f"    forward . {' '.join(upstreams)}\n"
        "    cache 30\n"
        "    loop\n"
        "    reload\n"
        "    loadbalance\n"
        "    import /etc/coredns/custom/*.override\n"
        "}\n"
        "import /etc/coredns/custom/*.server\n"
    )


_COREFILES = {"eks": eks_corefile, "k3s": k3s_corefile}


def add_coredns(build: ClusterBuild) -> None:
    """CoreDNS with two replicas (one on k3s), ``plan.coredns_ready`` of them ready (the rest OOM-looping)."""
    plan = build.plan
    age = build.rng.uniform(300, 500) * DAY
    render = _COREFILES.get(plan.provider, corefile)
    build.add(
        {
            "apiVersion": "v1",
            "data": {"Corefile": render(plan.cluster_domain, plan.dns_upstreams)},
            "kind": "ConfigMap",
            "metadata": build.metadata("coredns", "kube-system", age=age),
        }
    )
    build.add(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": build.metadata(
                "kube-dns",
                "kube-system",
                age=age,
                labels={
                    "k8s-app": "kube-dns",
                    "kubernetes.io/cluster-service": "true",
                    "kubernetes.io/name": "CoreDNS",
                },
                annotations={"prometheus.io/port": "9153", "prometheus.io/scrape": "true"},
            ),
            "spec": {
                "clusterIP": DNS_SERVICE_IP,
                "clusterIPs": [DNS_SERVICE_IP],
                "internalTrafficPolicy": "Cluster",
                "ipFamilies": ["IPv4"],
                "ipFamilyPolicy": "SingleStack",
                "ports": [
                    {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                    {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                    {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153},
                ],
                "selector": {"k8s-app": "kube-dns"},
                "sessionAffinity": "None",
                "type": "ClusterIP",
            },
            "status": {"loadBalancer": {}},
        }
    )
    coredns = container(
        "coredns",
        coredns_image(build, COREDNS_VERSIONS.get(plan.minor, "v1.11.3")),
        args=["-conf", "/etc/coredns/Corefile"],
        ports=[
            {"containerPort": 53, "name": "dns", "protocol": "UDP"},
            {"containerPort": 53, "name": "dns-tcp", "protocol": "TCP"},
            {"containerPort": 9153, "name": "metrics", "protocol": "TCP"},
            {"containerPort": 8080, "name": "liveness-probe", "protocol": "TCP"},
            {"containerPort": 8181, "name": "readiness-probe", "protocol": "TCP"},
        ],
        requests={"cpu": "100m", "memory": "70Mi"},
        limits={"memory": "170Mi"},
        mounts=[{"mountPath": "/etc/coredns", "name": "config-volume", "readOnly": True}],
        probe_port=8080,
        probe_path="/health",
    )
    coredns["readinessProbe"]["httpGet"] = {"path": "/ready", "port": 8181, "scheme": "HTTP"}
    add_deployment(
        build,
        name="coredns",
        namespace="kube-system",
        labels={"k8s-app": "kube-dns"},
        pod_spec={
            "affinity": {
                "podAntiAffinity": {
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {
                            "podAffinityTerm": {
                                "labelSelector": {
                                    "matchExpressions": [{"key": "k8s-app", "operator": "In", "values": ["kube-dns"]}]
                                },
                                "topologyKey": "kubernetes.io/hostname",
                            },
                            "weight": 100,
                        }
                    ]
                }
            },
            "containers": [coredns],
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "priorityClassName": "system-cluster-critical",
            "serviceAccountName": "coredns",
            "tolerations": [
                {"key": "CriticalAddonsOnly", "operator": "Exists"},
                {"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"},
            ],
            "volumes": [
                {
                    "configMap": {
                        "defaultMode": 420,
                        "items": [{"key": "Corefile", "path": "Corefile"}],
                        "name": "coredns",
                    },
                    "name": "config-volume",
                }
            ],
        },
        replicas=1 if plan.provider == "k3s" else 2,
        ready=min(plan.coredns_ready, 1) if plan.provider == "k3s" else plan.coredns_ready,
        crash="OOMKilled",
        # EKS and k3s install and reconcile their own CoreDNS (an EKS add-on, k3s's manifests folder)
        app="platform-coredns" if plan.provider == "kubeadm" else None,
    )
