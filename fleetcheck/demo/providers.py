"""The managed and distribution shapes of the demo: an EKS cluster and a k3s edge cluster.

Shaped like ``../shared/corpus/managed`` (never copied from it): EKS nodes
carry ``eks.amazonaws.com/*`` labels and an ``aws:///<zone>/i-<id>``
providerID, the version says ``-eks-``, the add-ons are EKS's (``aws-node``,
``kube-proxy`` and CoreDNS from the regional ECR account 602401143452, CoreDNS
with the EKS default ``forward . /etc/resolv.conf``) and no control-plane pod
is visible. A k3s node says ``node.kubernetes.io/instance-type: k3s``, carries
the ``flannel.alpha.coreos.com/*`` annotations of the flannel built into the
k3s binary (no CNI or kube-proxy DaemonSet), and its versions end in
``+k3s1`` / ``-k3s1``; its packaged add-ons come through the region's
registry mirror (k3s ``--system-default-registry``), as a fleet that keeps
images local sets it up.

The templates call in here only where a provider differs from kubeadm;
everything the platform team installs itself (Velero, Prometheus,
fluent-bit, RBAC, the teams' workloads) is the same on every cluster.
"""

from __future__ import annotations

import hashlib

import orjson

from fleetcheck.demo.build import DAY, ClusterBuild, NodeSlot, Obj
from fleetcheck.demo.controllers import add_daemonset, add_deployment
from fleetcheck.demo.crds import add_crds
from fleetcheck.demo.pods import container

__all__ = [
    "AWS_VPC_CNI_VERSION",
    "EKS_COREDNS_VERSION",
    "PROVIDER_CNI",
    "add_aws_node",
    "add_cluster_autoscaler",
    "add_k3s_addons",
    "aws_region",
    "coredns_image",
    "ecr_registry",
    "kube_proxy_image",
    "node_name",
    "shape_node",
    "version_suffix",
]

#: the CNI each provider runs in the demo (kubeadm clusters follow the fleet standard)
PROVIDER_CNI: dict[str, str] = {"eks": "aws-vpc-cni", "k3s": "flannel"}
#: the Amazon VPC CNI and CoreDNS builds the EKS add-ons run (EKS builds: ``-eksbuild.N``)
AWS_VPC_CNI_VERSION = "1.20.4"
EKS_COREDNS_VERSION = "v1.13.1-eksbuild.1"
_EKS_KUBE_PROXY_BUILD = "minimal-eksbuild.2"
_K3S_COREDNS_VERSION = "1.13.1"
_K3S_METRICS_SERVER_VERSION = "v0.8.0"
_AWS_REGIONS = {"us-east": "us-east-1", "eu-west": "eu-west-1"}


def aws_region(region: str) -> str:
    """The AWS region of a demo region (``us-east`` -> ``us-east-1``)."""
    return _AWS_REGIONS.get(region, f"{region}-1")


def ecr_registry(region: str) -> str:
    """The ECR registry EKS add-ons come from in ``region`` (one account in every commercial region)."""
    return f"602401143452.dkr.ecr.{aws_region(region)}.amazonaws.com"


def version_suffix(provider: str, name: str) -> str:
    """``-eks-<7 hex>`` (stable per cluster), ``+k3s1``, or "" for kubeadm."""
    if provider == "eks":
        return "-eks-" + hashlib.sha256(name.encode()).hexdigest()[:7]
    if provider == "k3s":
        return "+k3s1"
    return ""


def node_name(build: ClusterBuild, index: int, ip: str, *, control_plane: bool) -> str | None:
    """The provider's node name (EKS: the EC2 private DNS name; k3s: the host name), or None for kubeadm's."""
    plan = build.plan
    if plan.provider == "eks":
        return f"ip-{ip.replace('.', '-')}.ec2.internal"
    if plan.provider == "k3s":
        return plan.name if index == 0 else f"{plan.name}-agent-{index}"
    return None


def shape_node(build: ClusterBuild, slot: NodeSlot, labels: dict[str, str], annotations: dict[str, str]) -> Obj:
    """Turn kubeadm's node labels and annotations into the provider's.

    Returns the ``providerID`` and the ``nodeInfo`` fields the provider sets differently.
    """
    plan = build.plan
    if plan.provider == "eks":
        zone = f"{aws_region(plan.region)}{slot.zone[-1]}"
        instance = "m6i.4xlarge"
        labels.update(
            {
                "eks.amazonaws.com/capacityType": "ON_DEMAND",
                "eks.amazonaws.com/nodegroup": "platform-v7",
                "eks.amazonaws.com/nodegroup-image": "ami-0" + hashlib.sha256(plan.name.encode()).hexdigest()[:16],
                "eks.amazonaws.com/sourceLaunchTemplateId": "lt-0"
                + hashlib.sha256(b"lt" + plan.name.encode()).hexdigest()[:16],
                "eks.amazonaws.com/sourceLaunchTemplateVersion": "7",
                "failure-domain.beta.kubernetes.io/region": aws_region(plan.region),
                "failure-domain.beta.kubernetes.io/zone": zone,
                "k8s.io/cloud-provider-aws": hashlib.sha256(b"cp" + plan.name.encode()).hexdigest()[:32],
                "node.kubernetes.io/instance-type": instance,
                "beta.kubernetes.io/instance-type": instance,
                "topology.k8s.aws/zone-id": f"use1-az{1 + 'abc'.index(slot.zone[-1])}",
                "topology.kubernetes.io/region": aws_region(plan.region),
                "topology.kubernetes.io/zone": zone,
            }
        )
        annotations.pop("kubeadm.alpha.kubernetes.io/cri-socket", None)
        annotations["alpha.kubernetes.io/provided-node-ip"] = slot.ip
        return {
            "providerID": f"aws:///{zone}/i-0{build.hex_id(64)[:16]}",
            "osImage": "Amazon Linux 2023.9.20261103",
            "kernelVersion": "6.12.51-71.163.amzn2023.x86_64",
            "containerRuntimeVersion": "containerd://2.3.1",
        }
    if plan.provider == "k3s":
        for key in ("topology.kubernetes.io/region", "topology.kubernetes.io/zone"):
            labels.pop(key, None)
        labels.update(
            {
                "beta.kubernetes.io/instance-type": "k3s",
                "k3s.io/hostname": slot.name,
                "k3s.io/internal-ip": slot.ip,
                "node.kubernetes.io/instance-type": "k3s",
            }
        )
        if slot.control_plane:
            labels["node-role.kubernetes.io/control-plane"] = "true"
            labels["node-role.kubernetes.io/master"] = "true"
        labels.pop("node.kubernetes.io/exclude-from-external-load-balancers", None)
        annotations.pop("kubeadm.alpha.kubernetes.io/cri-socket", None)
        mac = ":".join(f"{build.rng.randrange(256):02x}" for _ in range(6))
        args = ["server", "--disable", "traefik", "--system-default-registry", plan.registry, "--secrets-encryption"]
        annotations.update(
            {
                "flannel.alpha.coreos.com/backend-data": orjson.dumps({"VNI": 1, "VtepMAC": mac}).decode(),
                "flannel.alpha.coreos.com/backend-type": "vxlan",
                "flannel.alpha.coreos.com/kube-subnet-manager": "true",
                "flannel.alpha.coreos.com/public-ip": slot.ip,
                "k3s.io/hostname": slot.name,
                "k3s.io/internal-ip": slot.ip,
                "k3s.io/node-args": orjson.dumps(args).decode(),
                "k3s.io/node-config-hash": build.hex_id(160)[:52].upper(),
                "k3s.io/node-env": "{}",
            }
        )
        return {
            "providerID": f"k3s://{slot.name}",
            "containerRuntimeVersion": "containerd://2.3.1-k3s1",
        }
    return {}


def kube_proxy_image(build: ClusterBuild) -> str:
    """kube-proxy's image: the EKS add-on build from ECR, else the fleet's mirror of upstream."""
    plan = build.plan
    if plan.provider == "eks":
        return f"{ecr_registry(plan.region)}/eks/kube-proxy:{plan.server_version}-{_EKS_KUBE_PROXY_BUILD}"
    return f"{plan.registry}/k8s/kube-proxy:{plan.server_version}"


def coredns_image(build: ClusterBuild, kubeadm_version: str) -> str:
    """CoreDNS's image: the EKS add-on build, k3s's packaged (mirrored) build, else kubeadm's for the minor."""
    plan = build.plan
    if plan.provider == "eks":
        return f"{ecr_registry(plan.region)}/eks/coredns:{EKS_COREDNS_VERSION}"
    if plan.provider == "k3s":
        return f"{plan.registry}/rancher/mirrored-coredns-coredns:{_K3S_COREDNS_VERSION}"
    return f"{plan.registry}/k8s/coredns/coredns:{kubeadm_version}"


def add_aws_node(build: ClusterBuild) -> None:
    """The Amazon VPC CNI add-on: the ``aws-node`` DaemonSet (CNI + network policy agent), its ConfigMap and CRD."""
    plan = build.plan
    registry = ecr_registry(plan.region)
    tag = f"v{plan.cni_version}-eksbuild.1"
    labels = {
        "app.kubernetes.io/instance": "aws-vpc-cni",
        "app.kubernetes.io/name": "aws-node",
        "app.kubernetes.io/version": f"v{plan.cni_version}",
        "k8s-app": "aws-node",
    }
    build.add(
        {
            "apiVersion": "v1",
            "data": {"branch-eni-cooldown": "60", "enable-network-policy-controller": "true"},
            "kind": "ConfigMap",
            "metadata": build.metadata("amazon-vpc-cni", "kube-system", age=build.rng.uniform(100, 300) * DAY),
        }
    )
    add_crds(build, "crd.k8s.amazonaws.com", [("ENIConfig", "eniconfigs")], version="v1alpha1",
             cluster_scoped=frozenset({"ENIConfig"}))  # fmt: skip
    node_env = {"name": "MY_NODE_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}}
    cni = container(
        "aws-node",
        f"{registry}/amazon-k8s-cni:{tag}",
        env=[
            {"name": "ADDITIONAL_ENI_TAGS", "value": "{}"},
            {"name": "AWS_VPC_CNI_NODE_PORT_SUPPORT", "value": "true"},
            {"name": "AWS_VPC_K8S_CNI_EXTERNALSNAT", "value": "false"},
            {"name": "ENABLE_PREFIX_DELEGATION", "value": "true"},
            {"name": "WARM_PREFIX_TARGET", "value": "1"},
            node_env,
        ],
        ports=[{"containerPort": 61678, "name": "metrics", "protocol": "TCP"}],
        requests={"cpu": "25m"},
        mounts=[
            {"mountPath": "/host/opt/cni/bin", "name": "cni-bin-dir"},
            {"mountPath": "/host/etc/cni/net.d", "name": "cni-net-dir"},
            {"mountPath": "/host/var/log/aws-routed-eni", "name": "log-dir"},
            {"mountPath": "/var/run/aws-node", "name": "run-dir"},
            {"mountPath": "/run/xtables.lock", "name": "xtables-lock"},
        ],
    )
    agent = container(
        "aws-eks-nodeagent",
        f"{registry}/amazon/aws-network-policy-agent:v1.2.7-eksbuild.1",
        args=["--enable-ipv6=false", "--enable-network-policy=true", "--metrics-bind-addr=:8162"],
        requests={"cpu": "25m"},
        mounts=[{"mountPath": "/sys/fs/bpf", "name": "bpf-pin-path"}],
        privileged=True,
    )
    init = [
        container(
            "aws-vpc-cni-init",
            f"{registry}/amazon-k8s-cni-init:{tag}",
            env=[{"name": "DISABLE_TCP_EARLY_DEMUX", "value": "false"}],
            mounts=[{"mountPath": "/host/opt/cni/bin", "name": "cni-bin-dir"}],
            privileged=True,
        )
    ]
    host_paths = {
        "bpf-pin-path": "/sys/fs/bpf",
        "cni-bin-dir": "/opt/cni/bin",
        "cni-net-dir": "/etc/cni/net.d",
        "log-dir": "/var/log/aws-routed-eni",
        "run-dir": "/var/run/aws-node",
        "xtables-lock": "/run/xtables.lock",
    }
    add_daemonset(
        build,
        name="aws-node",
        namespace="kube-system",
        labels=labels,
        pod_spec={
            "containers": [cni, agent],
            "initContainers": init,
            "priorityClassName": "system-node-critical",
            "serviceAccountName": "aws-node",
            "tolerations": [{"operator": "Exists"}],
            "volumes": [{"hostPath": {"path": p, "type": ""}, "name": n} for n, p in sorted(host_paths.items())],
        },
        app=None,
        host_network=True,
    )


def add_cluster_autoscaler(build: ClusterBuild) -> None:
    """cluster-autoscaler for the EKS node groups, at ``plan.autoscaler_minor`` (installed from its Helm chart)."""
    plan = build.plan
    if plan.autoscaler_minor is None:
        return
    version = f"v1.{plan.autoscaler_minor}.2"
    spec = {
        "containers": [
            container(
                "aws-cluster-autoscaler",
                f"{plan.registry}/autoscaling/cluster-autoscaler:{version}",
                command=[
                    "./cluster-autoscaler",
                    "--cloud-provider=aws",
                    "--namespace=kube-system",
                    f"--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,"
                    f"k8s.io/cluster-autoscaler/{plan.name}",
                    "--logtostderr=true",
                    "--stderrthreshold=info",
                    "--v=4",
                ],
                ports=[{"containerPort": 8085, "protocol": "TCP"}],
                requests={"cpu": "100m", "memory": "300Mi"},
                limits={"memory": "300Mi"},
                probe_port=8085,
                probe_path="/health-check",
            )
        ],
        "priorityClassName": "system-cluster-critical",
        "serviceAccountName": "cluster-autoscaler",
    }
    add_deployment(
        build,
        name="cluster-autoscaler",
        namespace="kube-system",
        labels={"app.kubernetes.io/instance": "cluster-autoscaler", "app.kubernetes.io/name": "aws-cluster-autoscaler"},
        pod_spec=spec,
        replicas=1,
        app="platform-cluster-autoscaler",
    )


def add_k3s_addons(build: ClusterBuild) -> None:
    """k3s's packaged metrics-server (its manifests folder), pulled through the region's mirror."""
    plan = build.plan
    if plan.provider != "k3s":
        return
    spec = {
        "containers": [
            container(
                "metrics-server",
                f"{plan.registry}/rancher/mirrored-metrics-server:{_K3S_METRICS_SERVER_VERSION}",
                args=[
                    "--cert-dir=/tmp",
                    "--secure-port=10250",
                    "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
                    "--kubelet-use-node-status-port",
                    "--metric-resolution=15s",
                    "--tls-cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                ],
                ports=[{"containerPort": 10250, "name": "https", "protocol": "TCP"}],
                requests={"cpu": "100m", "memory": "70Mi"},
            )
        ],
        "priorityClassName": "system-node-critical",
        "serviceAccountName": "metrics-server",
        "tolerations": [
            {"key": "CriticalAddonsOnly", "operator": "Exists"},
            {"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane", "operator": "Exists"},
        ],
    }
    add_deployment(
        build,
        name="metrics-server",
        namespace="kube-system",
        labels={"k8s-app": "metrics-server"},
        pod_spec=spec,
        replicas=1,
        app=None,
        workers_only=False,
    )
