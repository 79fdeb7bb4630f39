"""What one demo cluster is made of while it is being generated.

Generation runs in three steps. A :class:`ClusterPlan` holds every knob
(sizes, versions, add-ons, and the settings a plant bends); the template
modules turn the plan into objects collected in a :class:`ClusterBuild`; the
plants (``planted.py``) then point at, or bend, the objects they need. Keeping
the knobs in one plain object lets a plant say *what* it changes without
knowing *how* a template draws it, and keeps the templates free of plant
logic.

Everything random comes from the build's own seeded :class:`random.Random`,
and every timestamp is an offset from the capture time, so a cluster's bytes
depend only on its spec, the fleet standard and the fleet seed.
"""

from __future__ import annotations

import hashlib
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fleetcheck.core.kinds import ref_for_object

__all__ = [
    "DAY",
    "HOUR",
    "BarePod",
    "ClusterBuild",
    "ClusterPlan",
    "NodeSlot",
    "Obj",
    "digest_of",
    "owner_reference",
]

Obj = dict[str, Any]

HOUR = 3600.0
DAY = 86400.0

#: Characters Kubernetes uses in generated name suffixes and pod-template hashes.
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def digest_of(text: str) -> str:
    """A stable fake ``sha256:`` digest for an image or config (same input, same digest)."""
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@dataclass
class BarePod:
    """A pod someone started by hand (``kubectl run``): no owner, no GitOps tracking.

    Plants use these for image findings because an ownerless pod is named the
    same way whether a check reports pods or their owning workloads.
    """

    name: str
    image: str
    #: index into the cluster's team namespaces (the workloads template resolves it)
    namespace_index: int = 0
    namespace: str = ""
    #: a node directory the pod writes its data to (a ``hostPath`` volume), if any
    host_path: str | None = None


@dataclass
class ClusterPlan:
    """Every knob of one cluster, resolved from its spec and the fleet standard.

    Templates only read it; plants may change it before the templates run.
    """

    name: str
    captured: datetime
    region: str
    registry: str
    labels: dict[str, str]
    tier: str | None
    nodes: int
    control_planes: int
    pods: int
    namespaces: int
    not_ready_nodes: int
    server_version: str
    cni: str
    cni_version: str
    cluster_domain: str
    dns_upstreams: tuple[str, ...]
    oidc_issuer: str | None
    oidc_client_id: str
    oidc_username_prefix: str
    metrics_url: str
    logs_host: str
    #: control-plane node index whose kube-apiserver also reads a static token file
    token_auth_file_on: int | None = None
    coredns_ready: int = 2
    prometheus: bool = True
    log_shipper: bool = True
    #: pods of the log shipper that crash on a new version (a stuck rollout)
    log_shipper_crashing: int = 0
    bsl_available: bool = True
    hourly_schedule: bool = False
    newest_backup_failed: bool = False
    #: team-namespace indexes no unpaused Schedule covers (a paused one still lists them)
    backup_excluded: tuple[int, ...] = ()
    #: days between the newest Completed restore and capture
    last_restore_days: float = 24.0
    #: share of team Deployments applied by hand rather than by Argo CD
    gitops_untracked_share: float = 0.0
    #: no workload created or rolled out in the last N days (0 = an active cluster)
    quiet_days: float = 0.0
    #: whether team StatefulSets keep their data on PVCs (prod and canary)
    persistent_volumes: bool = False
    #: one StatefulSet whose volume sits on the node-local (unreplicated) class
    local_volume: bool = False
    bare_pods: list[BarePod] = field(default_factory=list)
    #: who runs the cluster: ``kubeadm`` (the fleet's own build), ``eks`` (managed) or ``k3s`` (a distribution)
    provider: str = "kubeadm"
    #: the provider's build suffix of the version (``-eks-3f1e2d7``, ``+k3s1``); "" for kubeadm
    version_suffix: str = ""
    #: a cluster-autoscaler Deployment at this Kubernetes minor (None: no cluster-autoscaler)
    autoscaler_minor: int | None = None
    #: cert-manager in ``cert-manager`` with the teams' Certificates (the clusters that serve traffic)
    cert_manager: bool = False
    #: the etcd database file as a share of etcd's default 2 GiB quota (None: sized by the objects)
    etcd_quota_share: float | None = None

    @property
    def minor(self) -> int:
        """The Kubernetes minor (``31`` for ``v1.31.4``)."""
        return int(self.server_version.lstrip("v").split(".")[1])

    @property
    def git_version(self) -> str:
        """What ``/version`` and the kubelets report: ``v1.35.1``, ``v1.35.1-eks-3f1e2d7``, ``v1.35.1+k3s1``."""
        return self.server_version + self.version_suffix

    @property
    def hidden_control_plane(self) -> bool:
        """EKS runs the control plane out of sight; k3s runs it inside its own binary: no static pods either way."""
        return self.provider != "kubeadm"

    @property
    def kube_proxy(self) -> bool:
        """Cilium runs with kube-proxy replacement, k3s embeds kube-proxy; every other cluster has the DaemonSet."""
        return self.cni != "cilium" and self.provider != "k3s"


@dataclass
class NodeSlot:
    """Where pods can go: a node's name, addresses and a pod-IP counter."""

    name: str
    index: int
    ip: str
    zone: str
    control_plane: bool
    ready: bool = True
    #: False for cordoned or tainted nodes no team pod lands on
    schedulable: bool = True
    pod_count: int = 0
    _next_ip: int = 2

    @property
    def pod_cidr(self) -> str:
        """The node's /24 of the cluster CIDR 10.64.0.0/12."""
        return f"10.{64 + self.index // 256}.{self.index % 256}.0/24"

    def next_pod_ip(self) -> str:
        """A fresh pod IP from this node's /24."""
        host = self._next_ip
        self._next_ip = host + 1 if host < 254 else 2
        return f"10.{64 + self.index // 256}.{self.index % 256}.{host}"


class ClusterBuild:
    """The objects of one cluster under construction, plus the helpers every template needs."""

    def __init__(self, plan: ClusterPlan, captured: datetime, seed: int) -> None:
        self.plan = plan
        self.captured = captured
        self.rng = random.Random(seed)
        self.now = int(captured.timestamp())
        self.objects: dict[str, list[Obj]] = {}
        #: files written beside the kubectl lists (``metrics.txt``, which the replay serves at ``/metrics``)
        self.files: dict[str, bytes] = {}
        self.nodes: list[NodeSlot] = []
        self.team_namespaces: list[str] = []
        self._rv = 4100
        self._key_cache: dict[tuple[str, str], str] = {}
        self._pools: dict[bool, list[NodeSlot]] = {}

    # -- collecting objects ------------------------------------------------------
    def add(self, obj: Obj) -> Obj:
        """File ``obj`` under its kind's key (``pods``, ``daemonsets.apps`` ...) and return it."""
        api_version, kind = obj["apiVersion"], obj["kind"]
        key = self._key_cache.get((api_version, kind))
        if key is None:
            key = ref_for_object(api_version, kind).key
            self._key_cache[(api_version, kind)] = key
        self.objects.setdefault(key, []).append(obj)
        return obj

    def declare(self, key: str) -> None:
        """Make sure ``key`` is written even with no objects (installed, zero objects)."""
        self.objects.setdefault(key, [])

    def items(self, key: str) -> list[Obj]:
        """The objects filed under ``key`` so far."""
        return self.objects.get(key, [])

    def find(self, key: str, name: str, namespace: str | None = None) -> Obj:
        """The one object of ``key`` called ``name`` (in ``namespace``); KeyError when absent."""
        for obj in self.items(key):
            meta = obj["metadata"]
            if meta["name"] == name and meta.get("namespace") == namespace:
                return obj
        raise KeyError(f"{self.plan.name}: no {key} {namespace or ''}/{name}")

    def count(self, key: str) -> int:
        """How many objects of ``key`` there are so far."""
        return len(self.items(key))

    def placement_pool(self, *, workers_only: bool) -> list[NodeSlot]:
        """Nodes new pods may land on (workers first); computed once, as nodes never change after creation."""
        pool = self._pools.get(workers_only)
        if pool is None:
            pool = [n for n in self.nodes if n.schedulable and (not workers_only or not n.control_plane)]
            pool = pool or [n for n in self.nodes if n.schedulable] or self.nodes
            self._pools[workers_only] = pool
        return pool

    # -- identities --------------------------------------------------------------
    def uid(self) -> str:
        """A random, seeded UUIDv4 string."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def resource_version(self) -> str:
        """A growing resourceVersion, as etcd hands them out."""
        self._rv += self.rng.randint(1, 40)
        return str(self._rv)

    def suffix(self, length: int = 5) -> str:
        """A generated-name suffix (``-x7k2p``) or pod-template hash (length 10)."""
        number = self.rng.randrange(len(_NAME_ALPHABET) ** length)
        chars = []
        for _ in range(length):
            number, digit = divmod(number, len(_NAME_ALPHABET))
            chars.append(_NAME_ALPHABET[digit])
        return "".join(chars)

    def hex_id(self, bits: int = 256) -> str:
        """A random hex string (container IDs, boot IDs)."""
        return f"{self.rng.getrandbits(bits):0{bits // 4}x}"

    # -- time --------------------------------------------------------------------
    def ts(self, seconds_before: float) -> str:
        """RFC3339 ``Z`` timestamp ``seconds_before`` capture (negative = after)."""
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.now - int(seconds_before)))

    def micro_ts(self, seconds_before: float) -> str:
        """A MicroTime (``2026-11-24T09:59:55.123456Z``), as Leases carry."""
        exact = self.now - seconds_before
        whole = int(exact // 1)
        micros = round((exact - whole) * 1_000_000)
        if micros == 1_000_000:
            whole, micros = whole + 1, 0
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{micros:06d}Z"

    def rollout_age(self) -> float:
        """Seconds since a workload was last rolled out: recent, unless the cluster is quiet."""
        quiet = self.plan.quiet_days
        if quiet:
            return self.rng.uniform(quiet + 1, quiet + 90) * DAY
        return self.rng.uniform(0.05, 25) * DAY

    def creation_age(self, rolled_out: float) -> float:
        """Seconds since a workload was first created, some time before its last rollout."""
        return rolled_out + self.rng.uniform(10, 400) * DAY

    # -- common shapes -----------------------------------------------------------
    def metadata(
        self,
        name: str,
        namespace: str | None = None,
        *,
        age: float,
        labels: dict[str, str] | None = None,
        annotations: dict[str, str] | None = None,
        owner: Obj | None = None,
        generate_name: str | None = None,
        generation: int | None = None,
    ) -> Obj:
        """``metadata`` as the API server returns it (uid, resourceVersion, creationTimestamp ...)."""
        meta: Obj = {}
        if annotations:
            meta["annotations"] = annotations
        meta["creationTimestamp"] = self.ts(age)
        if generate_name:
            meta["generateName"] = generate_name
        if generation is not None:
            meta["generation"] = generation
        if labels:
            meta["labels"] = labels
        meta["name"] = name
        if namespace is not None:
            meta["namespace"] = namespace
        if owner is not None:
            meta["ownerReferences"] = [owner_reference(owner)]
        meta["resourceVersion"] = self.resource_version()
        meta["uid"] = self.uid()
        return meta


def owner_reference(owner: Obj) -> Obj:
    """The controller ownerReference pointing at ``owner``."""
    meta = owner["metadata"]
    ref: Obj = {"apiVersion": owner["apiVersion"]}
    if owner["kind"] != "Node":
        ref["blockOwnerDeletion"] = True
    ref.update({"controller": True, "kind": owner["kind"], "name": meta["name"], "uid": meta["uid"]})
    return ref
