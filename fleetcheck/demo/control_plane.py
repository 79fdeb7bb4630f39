"""A kubeadm control plane: Nodes, node Leases, static pods, kubeadm ConfigMaps and kube-proxy.

Shaped like a kubeadm cluster in the corpus (sonobuoy kind captures, the
kops OIDC golden pod): the API server's flags sit in ``command`` sorted as
kubeadm writes them, static pods are mirror pods owned by their Node, and
each kubelet renews one Lease in ``kube-node-lease`` every ~10 s.
"""

from __future__ import annotations

import yaml

from fleetcheck.demo.build import DAY, ClusterBuild, NodeSlot, Obj
from fleetcheck.demo.controllers import add_daemonset
from fleetcheck.demo.pods import container, make_pod
from fleetcheck.demo.providers import kube_proxy_image, node_name, shape_node

__all__ = [
    "COREDNS_VERSIONS",
    "add_control_plane",
    "add_kube_proxy",
    "add_nodes",
    "apiserver_command",
]

#: etcd and CoreDNS images kubeadm pins per Kubernetes minor.
ETCD_VERSIONS: dict[int, str] = {
    28: "3.5.12-0",
    29: "3.5.16-0",
    30: "3.5.15-0",
    31: "3.5.15-0",
    32: "3.5.16-0",
    33: "3.5.21-0",
    34: "3.6.4-0",
    35: "3.6.6-0",
}
COREDNS_VERSIONS: dict[int, str] = {
    28: "v1.10.1",
    29: "v1.11.1",
    30: "v1.11.3",
    31: "v1.11.3",
    32: "v1.11.3",
    33: "v1.12.0",
    34: "v1.12.1",
    35: "v1.13.1",
}
SERVICE_CIDR = "10.96.0.0/12"
CLUSTER_CIDR = "10.64.0.0/12"
DNS_SERVICE_IP = "10.96.0.10"
CONTAINERD = "containerd://2.3.0"  # a containerd LTS supported at capture (FC-NODE-003)
OS_IMAGE = "Ubuntu 24.04.1 LTS"
KERNEL = "6.8.0-49-generic"


def _node_ip(index: int) -> str:
    return f"10.20.{index // 250}.{10 + index % 250}"


def add_nodes(build: ClusterBuild) -> None:
    """Nodes and their kube-node-lease Leases; control-plane nodes first.

    The last ``not_ready_nodes`` workers were drained and then stopped
    reporting: cordoned, tainted unreachable, their Lease minutes old. A
    clock check must not mistake them for skewed clocks (they are not Ready).
    """
    plan = build.plan
    single = plan.nodes == 1
    workers = plan.nodes - plan.control_planes
    zones = [f"{plan.region}-{z}" for z in "abc"]
    for index in range(plan.nodes):
        control_plane = index < plan.control_planes
        name = f"{plan.name}-cp-{index}" if control_plane else f"{plan.name}-worker-{index - plan.control_planes:03d}"
        name = node_name(build, index, _node_ip(index), control_plane=control_plane) or name
        slot = NodeSlot(name, index, _node_ip(index), zones[index % 3], control_plane)
        slot.schedulable = single or not control_plane
        if not control_plane and index - plan.control_planes >= workers - plan.not_ready_nodes:
            slot.ready = slot.schedulable = False
        build.nodes.append(slot)
        _add_node(build, slot, single=single)


def _boot_age(build: ClusterBuild) -> float:
    quiet = build.plan.quiet_days
    return build.rng.uniform(quiet + 1, quiet + 60) * DAY if quiet else build.rng.uniform(1, 60) * DAY


def _add_node(build: ClusterBuild, slot: NodeSlot, *, single: bool) -> None:
    plan = build.plan
    created = build.rng.uniform(300, 500) * DAY if slot.control_plane else build.rng.uniform(70, 400) * DAY
    booted = min(_boot_age(build), created - DAY)
    heartbeat = build.rng.uniform(0, 290)
    silent = 12 * 60 + build.rng.uniform(0, 40)
    labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": slot.name,
        "kubernetes.io/os": "linux",
        "node.kubernetes.io/instance-type": "vm-8c-32g" if slot.control_plane else "vm-16c-64g",
        "topology.kubernetes.io/region": plan.region,
        "topology.kubernetes.io/zone": slot.zone,
    }
    if slot.control_plane:
        labels["node-role.kubernetes.io/control-plane"] = ""
        labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
    annotations = {
        "kubeadm.alpha.kubernetes.io/cri-socket": "unix:///var/run/containerd/containerd.sock",
        "node.alpha.kubernetes.io/ttl": "0",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
    }
    if plan.cni == "calico":
        annotations["projectcalico.org/IPv4Address"] = f"{slot.ip}/16"
        annotations["projectcalico.org/IPv4IPIPTunnelAddr"] = slot.pod_cidr.rsplit(".", 1)[0] + ".1"
    shaped = shape_node(build, slot, labels, annotations)
    spec: Obj = {"podCIDR": slot.pod_cidr, "podCIDRs": [slot.pod_cidr]}
    if "providerID" in shaped:
        spec["providerID"] = shaped.pop("providerID")
    taints: list[Obj] = []
    if slot.control_plane and not single:
        taints.append({"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"})
    if not slot.ready:
        spec["unschedulable"] = True
        taints += [
            {"effect": "NoSchedule", "key": "node.kubernetes.io/unreachable", "timeAdded": build.ts(silent - 40)},
            {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "timeAdded": build.ts(silent - 45)},
            {"effect": "NoSchedule", "key": "node.kubernetes.io/unschedulable", "timeAdded": build.ts(DAY)},
        ]
    if taints:
        spec["taints"] = taints
    cpu, memory = ("8", "32866148Ki") if slot.control_plane else ("16", "65842344Ki")
    alloc_memory = ("32763748Ki", "65739944Ki")[not slot.control_plane]
    beat = build.ts(silent if not slot.ready else heartbeat)

    def pressure(kind: str, reason: str, message: str) -> Obj:
        status = "Unknown" if not slot.ready else "False"
        return {
            "lastHeartbeatTime": beat,
            "lastTransitionTime": build.ts(silent - 40) if not slot.ready else build.ts(booted),
            "message": "Kubelet stopped posting node status." if not slot.ready else message,
            "reason": "NodeStatusUnknown" if not slot.ready else reason,
            "status": status,
            "type": kind,
        }

    conditions = []
    if plan.cni == "calico":
        conditions.append(
            {
                "lastHeartbeatTime": build.ts(booted - 30),
                "lastTransitionTime": build.ts(booted - 30),
                "message": "Calico is running on this node",
                "reason": "CalicoIsUp",
                "status": "False",
                "type": "NetworkUnavailable",
            }
        )
    conditions += [
        pressure("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        pressure("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        pressure("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ]
    ready = pressure("Ready", "KubeletReady", "kubelet is posting ready status")
    if slot.ready:
        ready["status"] = "True"
    conditions.append(ready)
    node = build.add(
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": build.metadata(slot.name, age=created, labels=labels, annotations=annotations),
            "spec": spec,
            "status": {
                "addresses": [{"address": slot.ip, "type": "InternalIP"}, {"address": slot.name, "type": "Hostname"}],
                "allocatable": {
                    "cpu": cpu,
                    "ephemeral-storage": "189217404095",
                    "hugepages-1Gi": "0",
                    "hugepages-2Mi": "0",
                    "memory": alloc_memory,
                    "pods": "110",
                },
                "capacity": {
                    "cpu": cpu,
                    "ephemeral-storage": "205314024Ki",
                    "hugepages-1Gi": "0",
                    "hugepages-2Mi": "0",
                    "memory": memory,
                    "pods": "110",
                },
                "conditions": conditions,
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {
                    "architecture": "amd64",
                    "bootID": build.uid(),
                    "containerRuntimeVersion": CONTAINERD,
                    "kernelVersion": KERNEL,
                    "kubeProxyVersion": plan.git_version if plan.kube_proxy else "",
                    "kubeletVersion": plan.git_version,
                    "machineID": build.hex_id(128),
                    "operatingSystem": "linux",
                    "osImage": OS_IMAGE,
                    "systemUUID": build.uid(),
                    **shaped,
                },
            },
        }
    )
    renewed = silent if not slot.ready else build.rng.uniform(0.05, 9.9)
    build.add(
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": build.metadata(slot.name, "kube-node-lease", age=created - 5, owner=node),
            "spec": {"holderIdentity": slot.name, "leaseDurationSeconds": 40, "renewTime": build.micro_ts(renewed)},
        }
    )


def apiserver_command(build: ClusterBuild, slot: NodeSlot, *, token_file: bool) -> list[str]:
    """The kube-apiserver command line kubeadm writes (flags sorted), with the fleet's OIDC flags."""
    plan = build.plan
    flags = {
        "advertise-address": slot.ip,
        "allow-privileged": "true",
        "audit-log-maxage": "30",
        "audit-log-path": "/var/log/kubernetes/audit/audit.log",
        "audit-policy-file": "/etc/kubernetes/audit-policy.yaml",
        "authorization-mode": "Node,RBAC",
        "client-ca-file": "/etc/kubernetes/pki/ca.crt",
        "enable-admission-plugins": "NodeRestriction",
        "enable-bootstrap-token-auth": "true",
        "etcd-cafile": "/etc/kubernetes/pki/etcd/ca.crt",
        "etcd-certfile": "/etc/kubernetes/pki/apiserver-etcd-client.crt",
        "etcd-keyfile": "/etc/kubernetes/pki/apiserver-etcd-client.key",
        "etcd-servers": "https://127.0.0.1:2379",
        "kubelet-client-certificate": "/etc/kubernetes/pki/apiserver-kubelet-client.crt",
        "kubelet-client-key": "/etc/kubernetes/pki/apiserver-kubelet-client.key",
        "kubelet-preferred-address-types": "InternalIP,ExternalIP,Hostname",
        "proxy-client-cert-file": "/etc/kubernetes/pki/front-proxy-client.crt",
        "proxy-client-key-file": "/etc/kubernetes/pki/front-proxy-client.key",
        "requestheader-allowed-names": "front-proxy-client",
        "requestheader-client-ca-file": "/etc/kubernetes/pki/front-proxy-ca.crt",
        "requestheader-extra-headers-prefix": "X-Remote-Extra-",
        "requestheader-group-headers": "X-Remote-Group",
        "requestheader-username-headers": "X-Remote-User",
        "secure-port": "6443",
        "service-account-issuer": f"https://kubernetes.default.svc.{plan.cluster_domain}",
        "service-account-key-file": "/etc/kubernetes/pki/sa.pub",
        "service-account-signing-key-file": "/etc/kubernetes/pki/sa.key",
        "service-cluster-ip-range": SERVICE_CIDR,
        "tls-cert-file": "/etc/kubernetes/pki/apiserver.crt",
        "tls-private-key-file": "/etc/kubernetes/pki/apiserver.key",
    }
    flags.update(_oidc_flags(build))
    if token_file:
        flags["token-auth-file"] = "/etc/kubernetes/pki/static-tokens.csv"
    return ["kube-apiserver", *(f"--{key}={value}" for key, value in sorted(flags.items()))]


def _oidc_flags(build: ClusterBuild) -> dict[str, str]:
    plan = build.plan
    if plan.oidc_issuer is None:
        return {}
    return {
        "oidc-client-id": plan.oidc_client_id,
        "oidc-groups-claim": "groups",
        "oidc-groups-prefix": plan.oidc_username_prefix,
        "oidc-issuer-url": plan.oidc_issuer,
        "oidc-username-claim": "email",
        "oidc-username-prefix": plan.oidc_username_prefix,
    }


_PKI_VOLUMES = [
    ("ca-certs", "/etc/ssl/certs"),
    ("etc-ca-certificates", "/etc/ca-certificates"),
    ("k8s-certs", "/etc/kubernetes/pki"),
    ("usr-local-share-ca-certificates", "/usr/local/share/ca-certificates"),
    ("usr-share-ca-certificates", "/usr/share/ca-certificates"),
]


def _static_pod(
    build: ClusterBuild,
    slot: NodeSlot,
    node: Obj,
    component: str,
    command: list[str],
    *,
    cpu: str,
    port: int,
    volumes: list[tuple[str, str]],
    age: float,
) -> None:
    plan = build.plan
    image = f"{plan.registry}/k8s/{component}:{plan.server_version}"
    if component == "etcd":
        image = f"{plan.registry}/k8s/etcd:{ETCD_VERSIONS.get(plan.minor, '3.5.15-0')}"
    host = "127.0.0.1" if component != "kube-apiserver" else slot.ip
    scheme = "HTTP" if component == "etcd" else "HTTPS"
    path = "/healthz" if component in ("kube-controller-manager", "kube-scheduler") else "/livez"
    probe: Obj = {
        "failureThreshold": 8,
        "httpGet": {"host": host, "path": path, "port": port, "scheme": scheme},
        "initialDelaySeconds": 10,
        "periodSeconds": 10,
        "successThreshold": 1,
        "timeoutSeconds": 15,
    }
    spec = container(
        component,
        image,
        command=command,
        requests={"cpu": cpu, **({"memory": "100Mi"} if component == "etcd" else {})},
        mounts=[{"mountPath": path_, "name": name, "readOnly": name != "etcd-data"} for name, path_ in volumes],
    )
    spec["livenessProbe"] = probe
    spec["startupProbe"] = {**probe, "failureThreshold": 24}
    if component == "kube-apiserver":
        spec["readinessProbe"] = {
            **probe,
            "failureThreshold": 3,
            "httpGet": {**probe["httpGet"], "path": "/readyz"},
            "periodSeconds": 1,
        }
    config_hash = build.hex_id(128)
    annotations = {
        "kubernetes.io/config.hash": config_hash,
        "kubernetes.io/config.mirror": config_hash,
        "kubernetes.io/config.seen": build.micro_ts(age + 2),
        "kubernetes.io/config.source": "file",
    }
    if component == "kube-apiserver":
        annotations["kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint"] = f"{slot.ip}:6443"
    if component == "etcd":
        annotations["kubeadm.kubernetes.io/etcd.advertise-client-urls"] = f"https://{slot.ip}:2379"
    make_pod(
        build,
        name=f"{component}-{slot.name}",
        namespace="kube-system",
        node=slot,
        containers=[spec],
        labels={"component": component, "tier": "control-plane"},
        annotations=annotations,
        age=age,
        owner=node,
        host_network=True,
        service_account=None,
        priority_class="system-node-critical",
        tolerations=[{"effect": "NoExecute", "operator": "Exists"}],
        volumes=[{"hostPath": {"path": path_, "type": "DirectoryOrCreate"}, "name": name} for name, path_ in volumes],
        ready=slot.ready,
        extra_spec={"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}},
    )


def add_control_plane(build: ClusterBuild) -> None:
    """Static pods per control-plane node, kubeadm's ConfigMaps, leader-election and identity Leases."""
    plan = build.plan
    if plan.hidden_control_plane:
        _leader_leases(build, [n.name for n in build.nodes if n.control_plane] or [_hidden_master(build)])
        _kubernetes_service(build)
        return
    masters = [n for n in build.nodes if n.control_plane]
    peers = ",".join(f"{n.name}=https://{n.ip}:2380" for n in masters)
    for position, slot in enumerate(masters):
        node = build.find("nodes", slot.name)
        age = _boot_age(build)
        api = apiserver_command(build, slot, token_file=plan.token_auth_file_on == position)
        _static_pod(
            build,
            slot,
            node,
            "kube-apiserver",
            api,
            cpu="250m",
            port=6443,
            age=age,
            volumes=[*_PKI_VOLUMES, ("audit", "/var/log/kubernetes/audit")],
        )
        etcd = [
            "etcd",
            f"--advertise-client-urls=https://{slot.ip}:2379",
            "--cert-file=/etc/kubernetes/pki/etcd/server.crt",
            "--client-cert-auth=true",
            "--data-dir=/var/lib/etcd",
            "--experimental-initial-corrupt-check=true",
            "--experimental-watch-progress-notify-interval=5s",
            f"--initial-advertise-peer-urls=https://{slot.ip}:2380",
            f"--initial-cluster={peers}",
            "--key-file=/etc/kubernetes/pki/etcd/server.key",
            f"--listen-client-urls=https://127.0.0.1:2379,https://{slot.ip}:2379",
            "--listen-metrics-urls=http://127.0.0.1:2381",
            f"--listen-peer-urls=https://{slot.ip}:2380",
            f"--name={slot.name}",
            "--peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt",
            "--peer-client-cert-auth=true",
            "--peer-key-file=/etc/kubernetes/pki/etcd/peer.key",
            "--peer-trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt",
            "--snapshot-count=10000",
            "--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt",
        ]
        _static_pod(
            build,
            slot,
            node,
            "etcd",
            etcd,
            cpu="100m",
            port=2381,
            age=age,
            volumes=[("etcd-certs", "/etc/kubernetes/pki/etcd"), ("etcd-data", "/var/lib/etcd")],
        )
        kcm = [
            "kube-controller-manager",
            "--allocate-node-cidrs=true",
            "--authentication-kubeconfig=/etc/kubernetes/controller-manager.conf",
            "--authorization-kubeconfig=/etc/kubernetes/controller-manager.conf",
            "--bind-address=127.0.0.1",
            "--client-ca-file=/etc/kubernetes/pki/ca.crt",
            f"--cluster-cidr={CLUSTER_CIDR}",
            f"--cluster-name={plan.name}",
            "--cluster-signing-cert-file=/etc/kubernetes/pki/ca.crt",
            "--cluster-signing-key-file=/etc/kubernetes/pki/ca.key",
            "--controllers=*,bootstrapsigner,tokencleaner",
            "--kubeconfig=/etc/kubernetes/controller-manager.conf",
            "--leader-elect=true",
            "--requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt",
            "--root-ca-file=/etc/kubernetes/pki/ca.crt",
            "--service-account-private-key-file=/etc/kubernetes/pki/sa.key",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--use-service-account-credentials=true",
        ]
        _static_pod(
            build,
            slot,
            node,
            "kube-controller-manager",
            kcm,
            cpu="200m",
            port=10257,
            age=age,
            volumes=[*_PKI_VOLUMES, ("kubeconfig", "/etc/kubernetes/controller-manager.conf")],
        )
        scheduler = [
            "kube-scheduler",
            "--authentication-kubeconfig=/etc/kubernetes/scheduler.conf",
            "--authorization-kubeconfig=/etc/kubernetes/scheduler.conf",
            "--bind-address=127.0.0.1",
            "--kubeconfig=/etc/kubernetes/scheduler.conf",
            "--leader-elect=true",
        ]
        _static_pod(
            build,
            slot,
            node,
            "kube-scheduler",
            scheduler,
            cpu="100m",
            port=10259,
            age=age,
            volumes=[("kubeconfig", "/etc/kubernetes/scheduler.conf")],
        )
        _identity_lease(build, slot)
    _leader_leases(build, [n.name for n in masters])
    _kubeadm_config_maps(build)
    _kubernetes_service(build)


def _hidden_master(build: ClusterBuild) -> str:
    """The host name of a control-plane instance the provider runs out of sight (it still holds the leases)."""
    return f"ip-172-16-{build.rng.randint(0, 255)}-{build.rng.randint(1, 254)}.ec2.internal"


def _leader_leases(build: ClusterBuild, holders: list[str]) -> None:
    """kube-controller-manager's and kube-scheduler's leader-election Leases in kube-system."""
    for component in ("kube-controller-manager", "kube-scheduler"):
        holder = build.rng.choice(holders)
        build.add(
            {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": build.metadata(component, "kube-system", age=build.rng.uniform(300, 500) * DAY),
                "spec": {
                    "acquireTime": build.micro_ts(build.rng.uniform(2, 40) * DAY),
                    "holderIdentity": f"{holder}_{build.uid()}",
                    "leaseDurationSeconds": 15,
                    "leaseTransitions": build.rng.randint(3, 40),
                    "renewTime": build.micro_ts(build.rng.uniform(0.05, 1.9)),
                },
            }
        )


def _kubernetes_service(build: ClusterBuild) -> None:
    """``default/kubernetes``: the API server's Service, on every cluster."""
    build.add(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": build.metadata(
                "kubernetes",
                "default",
                age=build.rng.uniform(300, 500) * DAY,
                labels={"component": "apiserver", "provider": "kubernetes"},
            ),
            "spec": {
                "clusterIP": "10.96.0.1",
                "clusterIPs": ["10.96.0.1"],
                "internalTrafficPolicy": "Cluster",
                "ipFamilies": ["IPv4"],
                "ipFamilyPolicy": "SingleStack",
                "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
                "sessionAffinity": "None",
                "type": "ClusterIP",
            },
            "status": {"loadBalancer": {}},
        }
    )


def _identity_lease(build: ClusterBuild, slot: NodeSlot) -> None:
    """The kube-apiserver identity Lease (``apiserver-<id>``): an hour long, renewed every 10 s."""
    ident = "apiserver-" + build.suffix(26).replace("2", "a")
    build.add(
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": build.metadata(
                ident,
                "kube-system",
                age=build.rng.uniform(1, 30) * DAY,
                labels={
                    "apiserver.kubernetes.io/identity": "kube-apiserver",
                    "kubernetes.io/hostname": slot.name,
                },
            ),
            "spec": {
                "holderIdentity": f"{ident}_{build.uid()}",
                "leaseDurationSeconds": 3600,
                "renewTime": build.micro_ts(build.rng.uniform(0.05, 9.9)),
            },
        }
    )


def _kubeadm_config_maps(build: ClusterBuild) -> None:
    """``kubeadm-config`` and ``kubelet-config``: what ``kubeadm init`` stored, OIDC flags included.

    kubeadm v1beta4 (Kubernetes 1.31+) writes ``extraArgs`` as a name/value
    list; v1beta3 as a map. A manual edit of one node's static manifest (the
    static-token plant) is, as in real life, not reflected here.
    """
    plan = build.plan
    oidc = _oidc_flags(build)
    v1beta4 = plan.minor >= 31
    extra: object = [{"name": k, "value": v} for k, v in sorted(oidc.items())] if v1beta4 else dict(oidc)
    api_server: Obj = {"certSANs": [f"api.{plan.name}.example.com"]}
    if oidc:
        api_server["extraArgs"] = extra
    cluster_config = {
        "apiServer": api_server,
        "apiVersion": "kubeadm.k8s.io/v1beta4" if v1beta4 else "kubeadm.k8s.io/v1beta3",
        "certificatesDir": "/etc/kubernetes/pki",
        "clusterName": plan.name,
        "controlPlaneEndpoint": f"api.{plan.name}.example.com:6443",
        "controllerManager": {},
        "dns": {"imageRepository": f"{plan.registry}/k8s/coredns"},
        "etcd": {"local": {"dataDir": "/var/lib/etcd"}},
        "imageRepository": f"{plan.registry}/k8s",
        "kind": "ClusterConfiguration",
        "kubernetesVersion": plan.server_version,
        "networking": {"dnsDomain": plan.cluster_domain, "podSubnet": CLUSTER_CIDR, "serviceSubnet": SERVICE_CIDR},
        "proxy": {},
        "scheduler": {},
    }
    kubelet_config = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"cacheTTL": "0s", "enabled": True},
            "x509": {"clientCAFile": "/etc/kubernetes/pki/ca.crt"},
        },
        "authorization": {"mode": "Webhook"},
        "cgroupDriver": "systemd",
        "clusterDNS": [DNS_SERVICE_IP],
        "clusterDomain": plan.cluster_domain,
        "containerRuntimeEndpoint": "unix:///var/run/containerd/containerd.sock",
        "kind": "KubeletConfiguration",
        "nodeStatusReportFrequency": "5m0s",
        "nodeStatusUpdateFrequency": "10s",
        "rotateCertificates": True,
        "staticPodPath": "/etc/kubernetes/manifests",
    }
    age = build.rng.uniform(300, 500) * DAY
    for name, key, payload in (
        ("kubeadm-config", "ClusterConfiguration", cluster_config),
        ("kubelet-config", "kubelet", kubelet_config),
    ):
        build.add(
            {
                "apiVersion": "v1",
                "data": {key: yaml.safe_dump(payload, sort_keys=True)},
                "kind": "ConfigMap",
                "metadata": build.metadata(name, "kube-system", age=age),
            }
        )


def add_kube_proxy(build: ClusterBuild) -> None:
    """The kube-proxy DaemonSet (iptables mode) and its ConfigMap, unless the CNI replaces it."""
    plan = build.plan
    if not plan.kube_proxy:
        return
    proxy_config = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "bindAddress": "0.0.0.0",
        "clientConnection": {"kubeconfig": "/var/lib/kube-proxy/kubeconfig.conf"},
        "clusterCIDR": CLUSTER_CIDR,
        "kind": "KubeProxyConfiguration",
        "metricsBindAddress": "0.0.0.0:10249",
        "mode": "iptables",
    }
    build.add(
        {
            "apiVersion": "v1",
            "data": {
                "config.conf": yaml.safe_dump(proxy_config, sort_keys=True),
                "kubeconfig.conf": (
                    "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n"
                    "    certificate-authority: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt\n"
                    f"    server: https://api.{plan.name}.example.com:6443\n  name: default\n"
                ),
            },
            "kind": "ConfigMap",
            "metadata": build.metadata(
                "kube-proxy", "kube-system", age=build.rng.uniform(300, 500) * DAY, labels={"app": "kube-proxy"}
            ),
        }
    )
    spec = {
        "containers": [
            container(
                "kube-proxy",
                kube_proxy_image(build),
                command=[
                    "/usr/local/bin/kube-proxy",
                    "--config=/var/lib/kube-proxy/config.conf",
                    "--hostname-override=$(NODE_NAME)",
                ],
                env=[
                    {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}}
                ],
                mounts=[
                    {"mountPath": "/var/lib/kube-proxy", "name": "kube-proxy"},
                    {"mountPath": "/run/xtables.lock", "name": "xtables-lock"},
                    {"mountPath": "/lib/modules", "name": "lib-modules", "readOnly": True},
                ],
                privileged=True,
            )
        ],
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "priorityClassName": "system-node-critical",
        "serviceAccountName": "kube-proxy",
        "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"}, {"operator": "Exists"}],
        "volumes": [
            {"configMap": {"defaultMode": 420, "name": "kube-proxy"}, "name": "kube-proxy"},
            {"hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"}, "name": "xtables-lock"},
            {"hostPath": {"path": "/lib/modules", "type": ""}, "name": "lib-modules"},
        ],
    }
    add_daemonset(
        build,
        name="kube-proxy",
        namespace="kube-system",
        labels={"k8s-app": "kube-proxy"},
        pod_spec=spec,
        # on EKS kube-proxy is an EKS add-on, managed by EKS rather than by the platform's Argo CD
        app=None if plan.provider == "eks" else "platform-kube-proxy",
        host_network=True,
    )
