"""The cluster's CNI: Calico (the fleet standard) or Cilium, with their CRDs, config and pods.

Shaped like the kops-rendered manifests in the corpus (Calico v3.31.6,
Cilium v1.18.12), with images from the region's registry mirror so that a
clean cluster pulls nothing from Docker Hub or quay.io. FC-CNI-002/003 read
the DaemonSet names and image tags drawn here.
"""

from __future__ import annotations

import orjson

from fleetcheck.demo.build import ClusterBuild, Obj
from fleetcheck.demo.controllers import add_daemonset, add_deployment
from fleetcheck.demo.crds import add_crds
from fleetcheck.demo.pods import container
from fleetcheck.demo.providers import add_aws_node

__all__ = ["CNI_DAEMONSETS", "add_cni"]

#: The DaemonSet each CNI runs (namespace, name): where a check finds it.
CNI_DAEMONSETS: dict[str, tuple[str, str]] = {
    "calico": ("kube-system", "calico-node"),
    "cilium": ("kube-system", "cilium"),
}

_CALICO_KINDS = [
    ("BGPConfiguration", "bgpconfigurations"),
    ("BGPPeer", "bgppeers"),
    ("BlockAffinity", "blockaffinities"),
    ("ClusterInformation", "clusterinformations"),
    ("FelixConfiguration", "felixconfigurations"),
    ("GlobalNetworkPolicy", "globalnetworkpolicies"),
    ("GlobalNetworkSet", "globalnetworksets"),
    ("HostEndpoint", "hostendpoints"),
    ("IPAMBlock", "ipamblocks"),
    ("IPAMConfig", "ipamconfigs"),
    ("IPAMHandle", "ipamhandles"),
    ("IPPool", "ippools"),
    ("KubeControllersConfiguration", "kubecontrollersconfigurations"),
    ("NetworkPolicy", "networkpolicies"),
    ("NetworkSet", "networksets"),
    ("Tier", "tiers"),
]
_CILIUM_KINDS = [
    ("CiliumClusterwideNetworkPolicy", "ciliumclusterwidenetworkpolicies"),
    ("CiliumEndpoint", "ciliumendpoints"),
    ("CiliumIdentity", "ciliumidentities"),
    ("CiliumL2AnnouncementPolicy", "ciliuml2announcementpolicies"),
    ("CiliumLoadBalancerIPPool", "ciliumloadbalancerippools"),
    ("CiliumNetworkPolicy", "ciliumnetworkpolicies"),
    ("CiliumNode", "ciliumnodes"),
    ("CiliumNodeConfig", "ciliumnodeconfigs"),
]
_NODE_NAME_ENV: Obj = {
    "name": "NODENAME",
    "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}},
}


def add_cni(build: ClusterBuild) -> None:
    """The plan's CNI at ``plan.cni_version``: ``calico``, ``cilium``, EKS's ``aws-vpc-cni``.

    k3s's ``flannel`` runs inside the k3s binary: no objects, only the node
    annotations :func:`fleetcheck.demo.providers.shape_node` writes.
    """
    cni = build.plan.cni
    if cni == "cilium":
        _add_cilium(build)
    elif cni == "aws-vpc-cni":
        add_aws_node(build)
    elif cni == "calico":
        _add_calico(build)


def _config_map(build: ClusterBuild, name: str, data: dict[str, str]) -> None:
    build.add(
        {
            "apiVersion": "v1",
            "data": data,
            "kind": "ConfigMap",
            "metadata": build.metadata(name, "kube-system", age=build.rng.uniform(100, 400) * 86400.0),
        }
    )


def _add_calico(build: ClusterBuild) -> None:
    plan = build.plan
    tag = f"v{plan.cni_version}"
    cni_conf = {
        "name": "k8s-pod-network",
        "cniVersion": "0.3.1",
        "plugins": [
            {
                "type": "calico",
                "log_level": "info",
                "datastore_type": "kubernetes",
                "nodename": "__KUBERNETES_NODE_NAME__",
                "mtu": "__CNI_MTU__",
                "ipam": {"type": "calico-ipam"},
                "policy": {"type": "k8s"},
                "kubernetes": {"kubeconfig": "__KUBECONFIG_FILEPATH__"},
            },
            {"type": "portmap", "snat": True, "capabilities": {"portMappings": True}},
            {"type": "bandwidth", "capabilities": {"bandwidth": True}},
        ],
    }
    _config_map(
        build,
        "calico-config",
        {
            "calico_backend": "bird",
            "cni_network_config": orjson.dumps(cni_conf, option=orjson.OPT_INDENT_2).decode(),
            "typha_service_name": "none",
            "veth_mtu": "0",
        },
    )
    add_crds(
        build,
        "crd.projectcalico.org",
        _CALICO_KINDS,
        cluster_scoped=frozenset(k for k, _ in _CALICO_KINDS if k not in ("NetworkPolicy", "NetworkSet")),
    )
    mounts: list[Obj] = [
        {"mountPath": "/host/etc/cni/net.d", "name": "cni-net-dir"},
        {"mountPath": "/lib/modules", "name": "lib-modules", "readOnly": True},
        {"mountPath": "/run/xtables.lock", "name": "xtables-lock"},
        {"mountPath": "/var/run/calico", "name": "var-run-calico"},
        {"mountPath": "/var/lib/calico", "name": "var-lib-calico"},
        {"mountPath": "/sys/fs/bpf", "name": "bpffs"},
    ]
    node = container(
        "calico-node",
        f"{plan.registry}/calico/node:{tag}",
        env=[
            {"name": "DATASTORE_TYPE", "value": "kubernetes"},
            {"name": "WAIT_FOR_DATASTORE", "value": "true"},
            _NODE_NAME_ENV,
            {
                "name": "CALICO_NETWORKING_BACKEND",
                "valueFrom": {"configMapKeyRef": {"key": "calico_backend", "name": "calico-config"}},
            },
            {"name": "CLUSTER_TYPE", "value": "k8s,bgp"},
            {"name": "IP", "value": "autodetect"},
            {"name": "CALICO_IPV4POOL_IPIP", "value": "CrossSubnet"},
            {"name": "CALICO_IPV4POOL_CIDR", "value": "10.64.0.0/12"},
            {"name": "CALICO_DISABLE_FILE_LOGGING", "value": "true"},
            {"name": "FELIX_DEFAULTENDPOINTTOHOSTACTION", "value": "ACCEPT"},
            {"name": "FELIX_IPV6SUPPORT", "value": "false"},
            {"name": "FELIX_HEALTHENABLED", "value": "true"},
        ],
        requests={"cpu": "250m"},
        mounts=mounts,
        privileged=True,
    )
    node["livenessProbe"] = {
        "exec": {"command": ["/bin/calico-node", "-felix-live", "-bird-live"]},
        "failureThreshold": 6,
        "initialDelaySeconds": 10,
        "periodSeconds": 10,
        "successThreshold": 1,
        "timeoutSeconds": 10,
    }
    node["readinessProbe"] = {
        "exec": {"command": ["/bin/calico-node", "-felix-ready", "-bird-ready"]},
        "failureThreshold": 3,
        "periodSeconds": 10,
        "successThreshold": 1,
        "timeoutSeconds": 10,
    }
    cni_image = f"{plan.registry}/calico/cni:{tag}"
    init = [
        container(
            "upgrade-ipam",
            cni_image,
            command=["/opt/cni/bin/calico-ipam", "-upgrade"],
            mounts=[
                {"mountPath": "/var/lib/cni/networks", "name": "host-local-net-dir"},
                {"mountPath": "/host/opt/cni/bin", "name": "cni-bin-dir"},
            ],
            privileged=True,
        ),
        container(
            "install-cni",
            cni_image,
            command=["/opt/cni/bin/install"],
            env=[{"name": "CNI_CONF_NAME", "value": "10-calico.conflist"}],
            mounts=[
                {"mountPath": "/host/opt/cni/bin", "name": "cni-bin-dir"},
                {"mountPath": "/host/etc/cni/net.d", "name": "cni-net-dir"},
            ],
            privileged=True,
        ),
        container(
            "mount-bpffs",
            f"{plan.registry}/calico/node:{tag}",
            command=["calico-node", "-init", "-best-effort"],
            mounts=[{"mountPath": "/sys/fs", "name": "sys-fs"}],
            privileged=True,
        ),
    ]
    host_paths = {
        "bpffs": "/sys/fs/bpf",
        "cni-bin-dir": "/opt/cni/bin",
        "cni-net-dir": "/etc/cni/net.d",
        "host-local-net-dir": "/var/lib/cni/networks",
        "lib-modules": "/lib/modules",
        "sys-fs": "/sys/fs/",
        "var-lib-calico": "/var/lib/calico",
        "var-run-calico": "/var/run/calico",
        "xtables-lock": "/run/xtables.lock",
    }
    add_daemonset(
        build,
        name="calico-node",
        namespace="kube-system",
        labels={"k8s-app": "calico-node"},
        pod_spec={
            "containers": [node],
            "initContainers": init,
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "priorityClassName": "system-node-critical",
            "serviceAccountName": "calico-node",
            "tolerations": [
                {"effect": "NoSchedule", "operator": "Exists"},
                {"key": "CriticalAddonsOnly", "operator": "Exists"},
                {"effect": "NoExecute", "operator": "Exists"},
            ],
            "volumes": [{"hostPath": {"path": p, "type": ""}, "name": n} for n, p in sorted(host_paths.items())],
        },
        app="platform-cni",
        host_network=True,
    )
    add_deployment(
        build,
        name="calico-kube-controllers",
        namespace="kube-system",
        labels={"k8s-app": "calico-kube-controllers"},
        pod_spec={
            "containers": [
                container(
                    "calico-kube-controllers",
                    f"{plan.registry}/calico/kube-controllers:{tag}",
                    env=[
                        {"name": "ENABLED_CONTROLLERS", "value": "node,loadbalancer"},
                        {"name": "DATASTORE_TYPE", "value": "kubernetes"},
                    ],
                )
            ],
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "priorityClassName": "system-cluster-critical",
            "serviceAccountName": "calico-kube-controllers",
            "tolerations": [
                {"key": "CriticalAddonsOnly", "operator": "Exists"},
                {"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"},
            ],
        },
        replicas=1,
        app="platform-cni",
        workers_only=False,
    )


def _add_cilium(build: ClusterBuild) -> None:
    plan = build.plan
    tag = f"v{plan.cni_version}"
    _config_map(
        build,
        "cilium-config",
        {
            "cluster-name": plan.name,
            "cluster-pool-ipv4-cidr": "10.64.0.0/12",
            "enable-ipv4": "true",
            "enable-ipv6": "false",
            "identity-allocation-mode": "crd",
            "ipam": "kubernetes",
            "kube-proxy-replacement": "true",
            "routing-mode": "tunnel",
            "tunnel-protocol": "vxlan",
        },
    )
    add_crds(
        build,
        "cilium.io",
        _CILIUM_KINDS,
        version="v2",
        cluster_scoped=frozenset(
            {
                "CiliumClusterwideNetworkPolicy",
                "CiliumIdentity",
                "CiliumNode",
                "CiliumLoadBalancerIPPool",
                "CiliumL2AnnouncementPolicy",
            }
        ),
    )
    image = f"{plan.registry}/cilium/cilium:{tag}"
    agent = container(
        "cilium-agent",
        image,
        command=["cilium-agent"],
        args=["--config-dir=/tmp/cilium/config-map"],
        env=[
            {"name": "K8S_NODE_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}},
            {
                "name": "CILIUM_K8S_NAMESPACE",
                "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}},
            },
            {"name": "KUBERNETES_SERVICE_HOST", "value": f"api.{plan.name}.example.com"},
            {"name": "KUBERNETES_SERVICE_PORT", "value": "6443"},
        ],
        probe_port=9879,
        probe_path="/healthz",
        mounts=[
            {"mountPath": "/host/proc/sys/net", "name": "host-proc-sys-net"},
            {"mountPath": "/sys/fs/bpf", "name": "bpf-maps"},
            {"mountPath": "/var/run/cilium", "name": "cilium-run"},
            {"mountPath": "/tmp/cilium/config-map", "name": "cilium-config-path", "readOnly": True},
        ],
        privileged=True,
    )
    init = [
        container(step, image, command=["cilium-dbg", "build-config"] if step == "config" else ["sh", "-ec", step])
        for step in (
            "config",
            "mount-cgroup",
            "apply-sysctl-overwrites",
            "mount-bpf-fs",
            "clean-cilium-state",
            "install-cni-binaries",
        )
    ]
    add_daemonset(
        build,
        name="cilium",
        namespace="kube-system",
        labels={"app.kubernetes.io/name": "cilium-agent", "app.kubernetes.io/part-of": "cilium", "k8s-app": "cilium"},
        pod_spec={
            "containers": [agent],
            "initContainers": init,
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "priorityClassName": "system-node-critical",
            "serviceAccountName": "cilium",
            "tolerations": [{"operator": "Exists"}],
            "volumes": [
                {"hostPath": {"path": "/proc/sys/net", "type": "Directory"}, "name": "host-proc-sys-net"},
                {"hostPath": {"path": "/sys/fs/bpf", "type": "DirectoryOrCreate"}, "name": "bpf-maps"},
                {"hostPath": {"path": "/var/run/cilium", "type": "DirectoryOrCreate"}, "name": "cilium-run"},
                {"configMap": {"defaultMode": 420, "name": "cilium-config"}, "name": "cilium-config-path"},
            ],
        },
        app="platform-cni",
        host_network=True,
    )
    add_deployment(
        build,
        name="cilium-operator",
        namespace="kube-system",
        labels={
            "app.kubernetes.io/name": "cilium-operator",
            "app.kubernetes.io/part-of": "cilium",
            "io.cilium/app": "operator",
            "name": "cilium-operator",
        },
        pod_spec={
            "containers": [
                container(
                    "cilium-operator",
                    f"{plan.registry}/cilium/operator-generic:{tag}",
                    command=["cilium-operator-generic"],
                    args=["--config-dir=/tmp/cilium/config-map", "--debug=$(CILIUM_DEBUG)"],
                    probe_port=9234,
                )
            ],
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "priorityClassName": "system-cluster-critical",
            "serviceAccountName": "cilium-operator",
            "tolerations": [{"operator": "Exists"}],
        },
        replicas=1 if plan.nodes < 10 else 2,
        app="platform-cni",
        workers_only=False,
    )
