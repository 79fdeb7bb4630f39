"""The planted gotchas: what each plant bends, and the exact object a check should name for it.

A cluster spec lists plant keys (``FC-DNS-001``, or ``FC-OBS-002/absent``
for a second way to plant the same code). Each key has a
:class:`Planting`: ``prepare`` turns knobs on the cluster's plan before the
templates run, ``apply`` then finds (or bends) the objects and returns the
:class:`Plant` rows. Rows are the contract with the rest of the project:
the README table and the end-to-end tests are generated from them, so the
object must be the one a check names, in the form ``namespace/Kind/name``,
``Kind/name`` for cluster-scoped objects, or ``""`` when the finding is about
the cluster as a whole (its version, its labels, a missing add-on).

A plant can make a second check fail as a plain consequence of its rule
(``forward . /etc/resolv.conf`` is also "upstreams differ from the fleet's").
Those rows say which code they follow, so a reader knows they are not
separate drift. Where a rule only compares values a cluster has (the OIDC
issuer of a cluster that trusts none, the version of a different CNI), no
row is added: the absence is the other check's finding.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

import orjson

from fleetcheck.core.refs import object_ref
from fleetcheck.demo.admission import (
    PSA_LABEL,
    WEBHOOK_NAMESPACE,
    WEBHOOK_SERVICE,
    add_pdb,
    ca_bundle,
    webhook_configuration,
)
from fleetcheck.demo.build import DAY, HOUR, BarePod, ClusterBuild, ClusterPlan, Obj
from fleetcheck.demo.certmanager import public_certificates
from fleetcheck.demo.cni import CNI_DAEMONSETS
from fleetcheck.demo.quotas import QUOTA_NAME, format_memory, parse_memory
from fleetcheck.demo.rbac import add_cluster_role_binding, subject
from fleetcheck.demo.storage import LOCAL_STORAGE_CLASS
from fleetcheck.reference_data import support_calendar

__all__ = [
    "CALICO_BY_MINOR",
    "KUBERNETES_BY_MINOR",
    "PLANTINGS",
    "Plant",
    "Planting",
    "object_ref",
    "read_planted",
    "write_planted",
]

#: Released patch versions the plants move a cluster to.
KUBERNETES_BY_MINOR: dict[int, str] = {
    27: "v1.27.16",
    28: "v1.28.15",
    29: "v1.29.12",
    30: "v1.30.8",
    31: "v1.31.4",
    32: "v1.32.0",
    33: "v1.33.7",
    34: "v1.34.3",
    35: "v1.35.1",
}
CALICO_BY_MINOR: dict[int, str] = {28: "3.28.2", 29: "3.29.4", 30: "3.30.5", 31: "3.31.6"}

# Team-namespace indexes the plants use, so plants on one cluster never share a namespace
# (0 holds the restore drill, 0-3 the critical-hourly backups of big clusters).
_NS_DEBUG_POD, _NS_REDIS_POD, _NS_FOREIGN_IMAGE, _NS_LATEST_IMAGE = 1, 2, 3, 4
_NS_NO_QUOTA, _NS_NO_LIMITS, _NS_FULL_QUOTA, _NS_NO_BACKUP = 5, 6, 7, 8


@dataclass(frozen=True)
class Plant:
    """One planted finding: on ``cluster``, check ``code`` should fail and name ``object``."""

    cluster: str
    code: str
    #: ``namespace/Kind/name``, ``Kind/name`` (cluster-scoped), or ``""`` for the cluster as a whole
    object: str
    description: str
    #: the code whose plant causes this finding too ("" for a plant of its own)
    follows: str = ""


@dataclass(frozen=True)
class Planting:
    """How one plant key is made: knobs first (``prepare``), then the rows (``apply``)."""

    key: str
    summary: str
    prepare: Callable[[ClusterPlan], None]
    apply: Callable[[ClusterBuild], list[Plant]]

    @property
    def code(self) -> str:
        """The check code (the key without its ``/variant``)."""
        return self.key.split("/", 1)[0]


PLANTINGS: dict[str, Planting] = {}


def _nothing(plan: ClusterPlan) -> None:
    """Plants whose condition is the cluster's shape (few pods, no canary) turn no knob."""


def _planting(
    key: str, prepare: Callable[[ClusterPlan], None] = _nothing
) -> Callable[[Callable[[ClusterBuild], list[Plant]]], Callable[[ClusterBuild], list[Plant]]]:
    def register(apply: Callable[[ClusterBuild], list[Plant]]) -> Callable[[ClusterBuild], list[Plant]]:
        summary = (apply.__doc__ or "").strip().splitlines()[0]
        PLANTINGS[key] = Planting(key, summary, prepare, apply)
        return apply

    return register


def _row(build: ClusterBuild, code: str, target: Obj | str, description: str, follows: str = "") -> Plant:
    ref = target if isinstance(target, str) else object_ref(target)
    return Plant(build.plan.name, code, ref, description, follows)


def _team_namespace(build: ClusterBuild, index: int, *, with_pods: bool = False) -> str:
    names = build.team_namespaces
    for step in range(len(names)):
        name = names[(index + step) % len(names)]
        if not with_pods or any(p["metadata"]["namespace"] == name for p in build.items("pods")):
            return name
    raise ValueError(f"{build.plan.name}: no team namespace with pods to plant in")


def _apiservers(build: ClusterBuild) -> list[Obj]:
    return [p for p in build.items("pods") if p["metadata"]["name"].startswith("kube-apiserver-")]


def _without(build: ClusterBuild, key: str, namespace: str) -> Obj:
    """Remove the one object of ``key`` in ``namespace`` (the quota plants)."""
    items = build.objects[key]
    found = [o for o in items if o["metadata"].get("namespace") == namespace]
    if len(found) != 1:
        raise ValueError(f"{build.plan.name}: expected one {key} in {namespace}, found {len(found)}")
    items.remove(found[0])
    return found[0]


# -- bounded -------------------------------------------------------------------------------------
@_planting("FC-QUOTA-001")
def _no_quota(build: ClusterBuild) -> list[Plant]:
    """A team namespace with a LimitRange but no ResourceQuota."""
    namespace = _team_namespace(build, _NS_NO_QUOTA)
    _without(build, "resourcequotas", namespace)
    ns = build.find("namespaces", namespace)
    return [_row(build, "FC-QUOTA-001", ns, f"namespace {namespace} has no ResourceQuota (it has a LimitRange)")]


@_planting("FC-QUOTA-002")
def _no_limit_range(build: ClusterBuild) -> list[Plant]:
    """A team namespace with a ResourceQuota but no LimitRange."""
    namespace = _team_namespace(build, _NS_NO_LIMITS)
    _without(build, "limitranges", namespace)
    ns = build.find("namespaces", namespace)
    return [_row(build, "FC-QUOTA-002", ns, f"namespace {namespace} has no LimitRange (it has a ResourceQuota)")]


@_planting("FC-QUOTA-003")
def _full_quota(build: ClusterBuild) -> list[Plant]:
    """A ResourceQuota whose requests.memory is 95% used."""
    namespace = _team_namespace(build, _NS_FULL_QUOTA, with_pods=True)
    quota = build.find("resourcequotas", QUOTA_NAME, namespace)
    used = parse_memory(quota["status"]["used"]["requests.memory"])
    hard = math.ceil(used / 0.95)
    if used / hard < 0.9:
        raise ValueError(f"{build.plan.name}: quota plant in {namespace} would be under 90%")
    quota["spec"]["hard"]["requests.memory"] = quota["status"]["hard"]["requests.memory"] = format_memory(hard)
    return [
        _row(
            build,
            "FC-QUOTA-003",
            quota,
            f"requests.memory {quota['status']['used']['requests.memory']} of {format_memory(hard)} used "
            f"({used / hard:.0%})",
        )
    ]


# -- time-synced ---------------------------------------------------------------------------------
@_planting("FC-CLOCK-001")
def _skewed_clocks(build: ClusterBuild) -> list[Plant]:
    """Two Ready workers whose kubelet clocks are off: one 5 min behind, one 2 min ahead."""
    workers = [n for n in build.nodes if not n.control_plane and n.ready] or [n for n in build.nodes if n.ready]
    picks = [(workers[len(workers) * 3 // 10], 300.0), (workers[len(workers) * 2 // 3], -120.0)]
    if picks[0][0] is picks[1][0]:
        picks = picks[:1]
    rows = []
    for slot, skew in picks:
        lease = build.find("leases.coordination.k8s.io", slot.name, "kube-node-lease")
        lease["spec"]["renewTime"] = build.micro_ts(skew + build.rng.uniform(0.05, 9.9))
        node = build.find("nodes", slot.name)
        beat = build.ts(skew + build.rng.uniform(0, 60))
        for condition in node["status"]["conditions"]:
            if condition["type"] != "NetworkUnavailable":
                condition["lastHeartbeatTime"] = beat
        way = f"{abs(skew) / 60:g} min {'behind' if skew > 0 else 'ahead of'}"
        rows.append(_row(build, "FC-CLOCK-001", node, f"Ready node {slot.name}: Lease renewTime {way} capture time"))
    return rows


# -- explicit-dns --------------------------------------------------------------------------------
def _coredns_config(build: ClusterBuild) -> Obj:
    return build.find("configmaps", "coredns", "kube-system")


def _resolv_conf(plan: ClusterPlan) -> None:
    plan.dns_upstreams = ("/etc/resolv.conf",)


@_planting("FC-DNS-001", _resolv_conf)
def _dns_host_resolvers(build: ClusterBuild) -> list[Plant]:
    """The Corefile forwards ``.`` to ``/etc/resolv.conf`` (kubeadm's and EKS's default), so host resolvers leak in."""
    config = _coredns_config(build)
    where = "the EKS CoreDNS add-on's default Corefile" if build.plan.provider == "eks" else "Corefile"
    return [
        _row(
            build,
            "FC-DNS-001",
            config,
            f"{where}: forward . /etc/resolv.conf (the VPC resolver)"
            if build.plan.provider == "eks"
            else f"{where}: forward . /etc/resolv.conf",
        ),
        _row(
            build,
            "FC-DNS-002",
            config,
            "upstream /etc/resolv.conf is not the fleet's explicit resolvers",
            follows="FC-DNS-001",
        ),
    ]


def _public_resolvers(plan: ClusterPlan) -> None:
    plan.dns_upstreams = ("8.8.8.8", "8.8.4.4")


@_planting("FC-DNS-002", _public_resolvers)
def _dns_other_upstreams(build: ClusterBuild) -> list[Plant]:
    """The Corefile forwards to public resolvers instead of the fleet's."""
    return [_row(build, "FC-DNS-002", _coredns_config(build), "Corefile: forward . 8.8.8.8 8.8.4.4")]


def _edge_domain(plan: ClusterPlan) -> None:
    plan.cluster_domain = "cluster.edge"


@_planting("FC-DNS-003", _edge_domain)
def _dns_domain(build: ClusterBuild) -> list[Plant]:
    """The cluster domain is ``cluster.edge`` instead of the fleet's ``cluster.local``."""
    return [_row(build, "FC-DNS-003", _coredns_config(build), "Corefile: kubernetes cluster.edge ...")]


def _one_coredns(plan: ClusterPlan) -> None:
    plan.coredns_ready = 1


@_planting("FC-DNS-005", _one_coredns)
def _dns_one_replica(build: ClusterBuild) -> list[Plant]:
    """One of the two CoreDNS replicas is OOM-looping: one ready replica."""
    deployment = build.find("deployments.apps", "coredns", "kube-system")
    return [_row(build, "FC-DNS-005", deployment, "coredns: 1 of 2 replicas ready (the other OOMKilled)")]


# -- local-images --------------------------------------------------------------------------------
def _docker_hub_pods(plan: ClusterPlan) -> None:
    plan.bare_pods += [
        BarePod("debug-nginx", "nginx:1.25", _NS_DEBUG_POD),
        BarePod("redis-scratch", "docker.io/library/redis:7", _NS_REDIS_POD),
    ]


def _bare_pod(build: ClusterBuild, name: str) -> Obj:
    bare = next(b for b in build.plan.bare_pods if b.name == name)
    return build.find("pods", name, bare.namespace)


@_planting("FC-IMG-001", _docker_hub_pods)
def _docker_hub(build: ClusterBuild) -> list[Plant]:
    """Hand-run pods pulling from Docker Hub, implicitly (``nginx:1.25``) and explicitly."""
    rows = []
    for name, image in (("debug-nginx", "nginx:1.25"), ("redis-scratch", "docker.io/library/redis:7")):
        pod = _bare_pod(build, name)
        rows.append(_row(build, "FC-IMG-001", pod, f"image {image} comes from docker.io"))
        rows.append(
            _row(build, "FC-IMG-002", pod, f"registry docker.io is not {build.plan.registry}", follows="FC-IMG-001")
        )
    return rows


def _foreign_image(plan: ClusterPlan) -> None:
    other = "us-east" if plan.region != "us-east" else "eu-west"
    image = f"{plan.registry.replace(plan.region, other)}/team-search/indexer:2.3.1"
    plan.bare_pods.append(BarePod("reindex-once", image, _NS_FOREIGN_IMAGE))


@_planting("FC-IMG-002", _foreign_image)
def _other_region(build: ClusterBuild) -> list[Plant]:
    """A hand-run pod pulling from another region's registry."""
    pod = _bare_pod(build, "reindex-once")
    image = pod["spec"]["containers"][0]["image"]
    return [_row(build, "FC-IMG-002", pod, f"image {image} is not from {build.plan.registry}")]


def _latest_image(plan: ClusterPlan) -> None:
    plan.bare_pods.append(BarePod("toolbox", f"{plan.registry}/platform/toolbox:latest", _NS_LATEST_IMAGE))


@_planting("FC-IMG-003", _latest_image)
def _unpinned(build: ClusterBuild) -> list[Plant]:
    """A hand-run pod on ``:latest`` (from the right registry)."""
    pod = _bare_pod(build, "toolbox")
    return [_row(build, "FC-IMG-003", pod, f"image {pod['spec']['containers'][0]['image']} is unpinned")]


# -- boring --------------------------------------------------------------------------------------
def _cilium(plan: ClusterPlan) -> None:
    plan.cni, plan.cni_version = "cilium", "1.18.12"


@_planting("FC-CNI-002", _cilium)
def _other_cni(build: ClusterBuild) -> list[Plant]:
    """Cilium (with kube-proxy replacement) where the fleet runs Calico."""
    namespace, name = CNI_DAEMONSETS["cilium"]
    daemonset = build.find("daemonsets.apps", name, namespace)
    return [_row(build, "FC-CNI-002", daemonset, f"CNI cilium {build.plan.cni_version}; the fleet runs calico")]


def _old_calico(plan: ClusterPlan) -> None:
    minor = int(plan.cni_version.split(".")[1])
    plan.cni_version = CALICO_BY_MINOR[minor - 2]


@_planting("FC-CNI-003", _old_calico)
def _cni_behind(build: ClusterBuild) -> list[Plant]:
    """Calico two minors behind the fleet's."""
    namespace, name = CNI_DAEMONSETS["calico"]
    daemonset = build.find("daemonsets.apps", name, namespace)
    return [_row(build, "FC-CNI-003", daemonset, f"calico v{build.plan.cni_version}, two minors behind")]


def _minors_behind(count: int) -> Callable[[ClusterPlan], None]:
    def prepare(plan: ClusterPlan) -> None:
        plan.server_version = KUBERNETES_BY_MINOR[plan.minor - count]

    return prepare


@_planting("FC-VER-001", _minors_behind(2))
def _old_kubernetes(build: ClusterBuild) -> list[Plant]:
    """Kubernetes two minors behind the newest in the fleet."""
    rows = [_row(build, "FC-VER-001", "", f"Kubernetes {build.plan.server_version}, two minors behind")]
    return rows + support_rows(build, "FC-VER-001")


# -- tested --------------------------------------------------------------------------------------
def _no_tier(plan: ClusterPlan) -> None:
    plan.labels.pop("tier", None)
    plan.tier = None


@_planting("FC-TIER-001", _no_tier)
def _tierless(build: ClusterBuild) -> list[Plant]:
    """The cluster declares no tier label."""
    return [_row(build, "FC-TIER-001", "", "cluster.yaml labels have no tier")]


@_planting("FC-TIER-002")
def _unguarded(build: ClusterBuild) -> list[Plant]:
    """A prod cluster with no canary or staging cluster of its profile (the fleet spec decides)."""
    if build.plan.provider != "kubeadm":
        title = {"eks": "EKS"}.get(build.plan.provider, build.plan.provider)
        text = f"the only {title} cluster: no {title} canary takes the provider's upgrades before it"
    else:
        text = "no canary or staging cluster in the fleet guards this prod cluster"
    return [_row(build, "FC-TIER-002", "", text)]


@_planting("FC-TIER-003", _minors_behind(1))
def _old_canary(build: ClusterBuild) -> list[Plant]:
    """A canary one minor behind the prod clusters it guards."""
    if build.plan.tier != "canary":
        raise ValueError(f"{build.plan.name}: FC-TIER-003 is planted on canary clusters only")
    rows = [_row(build, "FC-TIER-003", "", f"canary on {build.plan.server_version}, older than prod")]
    return rows + support_rows(build, "FC-TIER-003")


# -- owned ---------------------------------------------------------------------------------------
def _no_owner(plan: ClusterPlan) -> None:
    plan.labels.pop("owner", None)


@_planting("FC-STALE-001", _no_owner)
def _ownerless(build: ClusterBuild) -> list[Plant]:
    """The cluster has no owner label."""
    return [_row(build, "FC-STALE-001", "", "cluster.yaml labels have no owner")]


def _expired(plan: ClusterPlan) -> None:
    plan.labels["expires"] = (plan.captured - timedelta(days=55)).strftime("%Y-%m-%d")


@_planting("FC-STALE-002", _expired)
def _past_expiry(build: ClusterBuild) -> list[Plant]:
    """The cluster's expiry date passed 55 days before capture."""
    return [_row(build, "FC-STALE-002", "", f"expires {build.plan.labels['expires']}, before capture")]


def _quiet(plan: ClusterPlan) -> None:
    plan.quiet_days = 45.0


@_planting("FC-STALE-003", _quiet)
def _untouched(build: ClusterBuild) -> list[Plant]:
    """No workload created or rolled out in the last 45 days."""
    return [_row(build, "FC-STALE-003", "", "newest workload change is more than 45 days old")]


@_planting("FC-COST-001")
def _tiny(build: ClusterBuild) -> list[Plant]:
    """Fewer than 20 non-system pods (the cluster's size decides)."""
    team = [p for p in build.items("pods") if p["metadata"]["namespace"] in build.team_namespaces]
    if len(team) >= 20:
        raise ValueError(f"{build.plan.name}: FC-COST-001 needs fewer than 20 team pods, has {len(team)}")
    return [_row(build, "FC-COST-001", "", f"{len(team)} non-system pods")]


# -- observable ----------------------------------------------------------------------------------
def _no_prometheus(plan: ClusterPlan) -> None:
    plan.prometheus = False


@_planting("FC-OBS-001", _no_prometheus)
def _metrics_stay(build: ClusterBuild) -> list[Plant]:
    """No Prometheus (nor agent, nor collector): metrics never leave the cluster."""
    return [_row(build, "FC-OBS-001", "", "no Prometheus remoteWrite, agent or collector")]


def _stuck_rollout(plan: ClusterPlan) -> None:
    plan.log_shipper_crashing = max(1, plan.nodes // 10)


@_planting("FC-OBS-002", _stuck_rollout)
def _logs_partial(build: ClusterBuild) -> list[Plant]:
    """fluent-bit's rollout is stuck: a tenth of its pods crash on the new version."""
    daemonset = build.find("daemonsets.apps", "fluent-bit", "logging")
    status = daemonset["status"]
    return [
        _row(
            build,
            "FC-OBS-002",
            daemonset,
            f"fluent-bit ready on {status['numberReady']} of {status['desiredNumberScheduled']} nodes",
        )
    ]


def _no_log_shipper(plan: ClusterPlan) -> None:
    plan.log_shipper = False


@_planting("FC-OBS-002/absent", _no_log_shipper)
def _logs_stay(build: ClusterBuild) -> list[Plant]:
    """No log-shipping DaemonSet at all."""
    return [_row(build, "FC-OBS-002", "", "no log-shipping DaemonSet")]


# -- recoverable ---------------------------------------------------------------------------------
def _bsl_down(plan: ClusterPlan) -> None:
    plan.bsl_available = False


@_planting("FC-BACKUP-001", _bsl_down)
def _no_backup_target(build: ClusterBuild) -> list[Plant]:
    """Velero is installed but its only BackupStorageLocation is Unavailable (rotated key)."""
    bsl = build.find("backupstoragelocations.velero.io", "default", "velero")
    return [_row(build, "FC-BACKUP-001", bsl, "BackupStorageLocation default is Unavailable")]


def _exclude_namespace(plan: ClusterPlan) -> None:
    plan.backup_excluded = (*plan.backup_excluded, _NS_NO_BACKUP)


@_planting("FC-BACKUP-002", _exclude_namespace)
def _uncovered(build: ClusterBuild) -> list[Plant]:
    """A team namespace excluded from the every-namespace schedule; only a paused schedule lists it."""
    namespace = build.team_namespaces[_NS_NO_BACKUP % len(build.team_namespaces)]
    ns = build.find("namespaces", namespace)
    return [
        _row(
            build,
            "FC-BACKUP-002",
            ns,
            f"{namespace} is excluded from platform-6h; only the paused legacy-weekly includes it",
        )
    ]


def _failing_backups(plan: ClusterPlan) -> None:
    plan.newest_backup_failed = True
    plan.hourly_schedule = False


@_planting("FC-BACKUP-003", _failing_backups)
def _failed_backup(build: ClusterBuild) -> list[Plant]:
    """The newest backup Failed (the storage key was revoked); the one before is 10 h old."""
    backups = [b for b in build.items("backups.velero.io") if b["status"]["phase"] == "Failed"]
    if len(backups) != 1:
        raise ValueError(f"{build.plan.name}: expected one failed backup, found {len(backups)}")
    failed = backups[0]
    schedule_name = failed["metadata"]["labels"]["velero.io/schedule-name"]
    schedule = build.find("schedules.velero.io", schedule_name, "velero")
    # the check names the Schedule whose RPO is broken; the failed Backup is in the description
    description = f"newest backup {failed['metadata']['name']} of {schedule_name} Failed"
    return [_row(build, "FC-BACKUP-003", schedule, description)]


def _old_drill(plan: ClusterPlan) -> None:
    plan.last_restore_days = 127.0


@_planting("FC-BACKUP-004", _old_drill)
def _no_recent_restore(build: ClusterBuild) -> list[Plant]:
    """The newest Completed restore drill is 127 days old."""
    return [_row(build, "FC-BACKUP-004", "", "newest Completed Restore is 127 days old")]


# -- single-idp ----------------------------------------------------------------------------------
def _no_oidc(plan: ClusterPlan) -> None:
    plan.oidc_issuer = None


@_planting("FC-OIDC-001", _no_oidc)
def _local_auth_only(build: ClusterBuild) -> list[Plant]:
    """The API servers trust no OIDC issuer (client certificates only)."""
    return [_row(build, "FC-OIDC-001", pod, "kube-apiserver has no --oidc-issuer-url") for pod in _apiservers(build)]


def _other_issuer(plan: ClusterPlan) -> None:
    plan.oidc_issuer = f"https://sso-{plan.tier or 'local'}.example.com/realms/platform"


@_planting("FC-OIDC-002", _other_issuer)
def _own_idp(build: ClusterBuild) -> list[Plant]:
    """The API servers trust a cluster-local IdP instead of the fleet's."""
    return [
        _row(build, "FC-OIDC-002", pod, f"--oidc-issuer-url={build.plan.oidc_issuer}") for pod in _apiservers(build)
    ]


def _token_file(plan: ClusterPlan) -> None:
    plan.token_auth_file_on = 1 if plan.control_planes > 1 else 0


@_planting("FC-OIDC-004", _token_file)
def _static_tokens(build: ClusterBuild) -> list[Plant]:
    """One control-plane node's kube-apiserver was hand-edited to read a static token file."""
    pod = _apiservers(build)[build.plan.token_auth_file_on or 0]
    return [_row(build, "FC-OIDC-004", pod, "--token-auth-file=/etc/kubernetes/pki/static-tokens.csv")]


@_planting("FC-OIDC-005")
def _local_admin(build: ClusterBuild) -> list[Plant]:
    """A hand-made ClusterRoleBinding gives cluster-admin to User ``admin@local`` (not an OIDC identity)."""
    binding = add_cluster_role_binding(
        build,
        "local-admin",
        "cluster-admin",
        [subject("User", "admin@local")],
        annotations={"kubectl.kubernetes.io/last-applied-configuration": "{}\n"},
        age=60 * 86400.0,
    )
    return [
        _row(build, "FC-OIDC-005", binding, "cluster-admin bound to User admin@local"),
        _row(
            build,
            "FC-RBAC-001",
            binding,
            "ClusterRoleBinding local-admin exists on no other cluster",
            follows="FC-OIDC-005",
        ),
    ]


# -- managed -------------------------------------------------------------------------------------
@_planting("FC-RBAC-001")
def _rbac_drift(build: ClusterBuild) -> list[Plant]:
    """Someone added Secrets read to ``platform-readonly`` on this cluster only."""
    role = build.find("clusterroles.rbac.authorization.k8s.io", "platform-readonly")
    role["rules"] = [*role["rules"], {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}]
    return [_row(build, "FC-RBAC-001", role, "platform-readonly also grants get/list on secrets")]


def _hand_applied(plan: ClusterPlan) -> None:
    plan.gitops_untracked_share = 0.3


@_planting("FC-GITOPS-001", _hand_applied)
def _untracked(build: ClusterBuild) -> list[Plant]:
    """About 30% of team Deployments were applied by hand (no Argo CD tracking)."""
    return [_row(build, "FC-GITOPS-001", "", "about 30% of team Deployments carry no Argo CD tracking")]


# -- portable-data -------------------------------------------------------------------------------
def _local_volume(plan: ClusterPlan) -> None:
    plan.local_volume = True


@_planting("FC-PV-001", _local_volume)
def _node_local_data(build: ClusterBuild) -> list[Plant]:
    """A prod StatefulSet keeps its data on the node-local ``local-nvme`` class."""
    claims = [c for c in build.items("persistentvolumeclaims") if c["spec"]["storageClassName"] == LOCAL_STORAGE_CLASS]
    if not claims:
        raise ValueError(f"{build.plan.name}: FC-PV-001 found no {LOCAL_STORAGE_CLASS} claim")
    return [
        _row(build, "FC-PV-001", c, f"PVC on {LOCAL_STORAGE_CLASS}, neither replicated nor backed up") for c in claims
    ]


_NS_HOSTPATH = 5


def _node_disk_pod(plan: ClusterPlan) -> None:
    image = f"{plan.registry}/team-search/indexer:2.3.1"
    plan.bare_pods.append(BarePod("indexer-scratch", image, _NS_HOSTPATH, host_path="/mnt/indexer"))


@_planting("FC-PV-002", _node_disk_pod)
def _host_path_data(build: ClusterBuild) -> list[Plant]:
    """A hand-run prod pod keeps its index in a hostPath directory on its node."""
    bare = next(b for b in build.plan.bare_pods if b.name == "indexer-scratch")
    pod = build.find("pods", bare.name, bare.namespace)
    return [_row(build, "FC-PV-002", pod, "writes /data to hostPath /mnt/indexer on its node")]


# -- issue 16: webhooks, certificates, removed APIs, drains, API services, support, Pod Security -----
_NS_STRICT_PDB, _NS_NO_PSA = 9, 10


def _webhook(build: ClusterBuild) -> Obj:
    return webhook_configuration(build, "ValidatingWebhookConfiguration")


@_planting("FC-HOOK-001")
def _webhook_backend_down(build: ClusterBuild) -> list[Plant]:
    """The fail-closed prometheus-operator webhook's only endpoint is not ready (its pod crash-loops)."""
    slices = [
        s
        for s in build.items("endpointslices.discovery.k8s.io")
        if s["metadata"]["labels"]["kubernetes.io/service-name"] == WEBHOOK_SERVICE
    ]
    for slice_ in slices:
        for endpoint in slice_["endpoints"]:
            endpoint["conditions"] = {"ready": False, "serving": False, "terminating": False}
    return [
        _row(
            build,
            "FC-HOOK-001",
            config,
            f"fail-closed webhook: Service {WEBHOOK_NAMESPACE}/{WEBHOOK_SERVICE} has no ready endpoint",
        )
        for config in (_webhook(build), webhook_configuration(build, "MutatingWebhookConfiguration"))
        if any(hook["failurePolicy"] == "Fail" for hook in config["webhooks"])  # a fail-open one is not judged
    ]


@_planting("FC-HOOK-002")
def _webhook_self_deadlock(build: ClusterBuild) -> list[Plant]:
    """The validating webhook lost its namespaceSelector: it intercepts pods in kube-system and its own namespace."""
    config = _webhook(build)
    for hook in config["webhooks"]:
        hook["namespaceSelector"] = {}
    return [_row(build, "FC-HOOK-002", config, "fail-closed webhook intercepts pods in kube-system and monitoring")]


@_planting("FC-CERT-001")
def _expiring_webhook_ca(build: ClusterBuild) -> list[Plant]:
    """The validating webhook's CA bundle expires 9 days after capture (a one-year self-signed CA)."""
    config = _webhook(build)
    bundle = ca_bundle(build, "prometheus-operator-admission-ca", valid_days_left=9.0)
    for hook in config["webhooks"]:
        hook["clientConfig"]["caBundle"] = bundle
    return [_row(build, "FC-CERT-001", config, "caBundle CA prometheus-operator-admission-ca expires in 9 days")]


@_planting("FC-CERT-002")
def _renewal_failing(build: ClusterBuild) -> list[Plant]:
    """A Let's Encrypt Certificate whose renewal has failed for 25 days (DNS-01 access revoked): 5 days left."""
    certs = public_certificates(build)
    if not certs:
        raise ValueError(f"{build.plan.name}: FC-CERT-002 needs cert-manager (a prod or canary cluster)")
    cert = certs[0]
    status, name = cert["status"], cert["metadata"]["name"]
    left, lifetime = 5.0 * DAY, 90.0 * DAY
    issued = lifetime - left
    status["notBefore"], status["notAfter"] = build.ts(issued), build.ts(-left)
    status["renewalTime"] = build.ts(issued - lifetime * 2 / 3)
    status["failedIssuanceAttempts"] = 7
    status["lastFailureTime"] = build.ts(9.5 * HOUR)
    order = f"{name}-{status['revision'] + 1}-{build.rng.randint(10**9, 4 * 10**9)}"
    status["conditions"] = [
        *status["conditions"],
        {
            "lastTransitionTime": build.ts(9.5 * HOUR),
            "message": "The certificate request has failed to complete and will be retried: Failed to wait for "
            f'order resource "{order}" to become ready: order is in "errored" state: Failed to create Order: '
            "error presenting DNS-01 challenge: failed to change Route 53 record set: AccessDenied: User: "
            "arn:aws:sts::111122223333:assumed-role/cert-manager/cert-manager is not authorized to perform: "
            "route53:ChangeResourceRecordSets",
            "observedGeneration": 1,
            "reason": "Failed",
            "status": "False",
            "type": "Issuing",
        },
    ]
    return [
        _row(
            build,
            "FC-CERT-002",
            cert,
            "Let's Encrypt renewal failing for 25 days (DNS-01: Route 53 AccessDenied); notAfter in 5 days",
        )
    ]


def _etcd_nearly_full(plan: ClusterPlan) -> None:
    plan.etcd_quota_share = 0.87


@_planting("FC-ETCD-001", _etcd_nearly_full)
def _events_flood(build: ClusterBuild) -> list[Plant]:
    """A crash-looping CronJob's Events filled etcd: its database is at 87% of the default 2 GiB quota."""
    if build.plan.hidden_control_plane:
        raise ValueError(f"{build.plan.name}: FC-ETCD-001 is judged on kubeadm clusters only (etcd in sight)")
    size = build.plan.etcd_quota_share or 0.0
    return [
        _row(
            build,
            "FC-ETCD-001",
            "",
            f"/metrics: apiserver_storage_size_bytes {size * 2:.2f} GiB, {size:.0%} of etcd's 2 GiB default quota "
            "(over a million Events)",
        )
    ]


@_planting("FC-API-001")
def _stale_stored_version(build: ClusterBuild) -> list[Plant]:
    """A CRD still lists v1alpha1 in status.storedVersions after the operator dropped that version."""
    crd = build.find("customresourcedefinitions.apiextensions.k8s.io", "downloadrequests.velero.io")
    crd["status"]["storedVersions"] = ["v1alpha1", *crd["status"]["storedVersions"]]
    return [_row(build, "FC-API-001", crd, "status.storedVersions still names v1alpha1, no longer in spec.versions")]


@_planting("FC-PDB-001")
def _strict_pdb(build: ClusterBuild) -> list[Plant]:
    """A team's single-replica worker has a PodDisruptionBudget with minAvailable 1: no node it runs on can drain."""
    namespace = _team_namespace(build, _NS_STRICT_PDB)
    pdb = add_pdb(build, "worker-pdb", namespace, expected=1, minAvailable=1)
    return [_row(build, "FC-PDB-001", pdb, "minAvailable 1 of 1 expected pod: disruptionsAllowed 0")]


@_planting("FC-APISVC-001")
def _metrics_api_down(build: ClusterBuild) -> list[Plant]:
    """metrics-server was uninstalled but its APIService v1beta1.metrics.k8s.io was left behind."""
    service = build.add(
        {
            "apiVersion": "apiregistration.k8s.io/v1",
            "kind": "APIService",
            "metadata": build.metadata("v1beta1.metrics.k8s.io", age=90 * DAY, labels={"k8s-app": "metrics-server"}),
            "spec": {
                "group": "metrics.k8s.io",
                "groupPriorityMinimum": 100,
                "insecureSkipTLSVerify": True,
                "service": {"name": "metrics-server", "namespace": "kube-system", "port": 443},
                "version": "v1beta1",
                "versionPriority": 100,
            },
            "status": {
                "conditions": [
                    {
                        "lastTransitionTime": build.ts(12 * DAY),
                        "message": 'service/metrics-server in "kube-system" is not present',
                        "reason": "ServiceNotFound",
                        "status": "False",
                        "type": "Available",
                    }
                ]
            },
        }
    )
    return [_row(build, "FC-APISVC-001", service, "Available=False: ServiceNotFound (metrics-server was removed)")]


def _one_minor_behind(plan: ClusterPlan) -> None:
    plan.server_version = KUBERNETES_BY_MINOR[plan.minor - 1]


@_planting("FC-SUP-001", _one_minor_behind)
def _past_end_of_life(build: ClusterBuild) -> list[Plant]:
    """Kubernetes one minor behind the fleet, and that minor is past upstream end of life."""
    rows = support_rows(build, "")
    if not rows:
        raise ValueError(f"{build.plan.name}: FC-SUP-001 needs a minor past upstream end of life at capture")
    return rows


@_planting("FC-SUP-002", _minors_behind(2))
def _extended_support(build: ClusterBuild) -> list[Plant]:
    """An EKS cluster left on 1.33: past EKS standard support, billed for extended support since July 2026."""
    if build.plan.provider != "eks":
        raise ValueError(f"{build.plan.name}: FC-SUP-002 is planted on EKS clusters only")
    minor = ".".join(build.plan.server_version.lstrip("v").split(".")[:2])
    entry = support_calendar().calendars["eks"].entries[minor]
    if not entry.standard_end < build.captured.date() <= (entry.extended_end or entry.standard_end):
        raise ValueError(f"{build.plan.name}: FC-SUP-002 needs EKS {minor} in extended support at capture")
    rows = [
        _row(
            build,
            "FC-SUP-002",
            "",
            f"EKS {minor}: standard support ended {entry.standard_end}; paid extended support until "
            f"{entry.extended_end}",
        ),
        _row(build, "FC-VER-001", "", f"Kubernetes {build.plan.server_version}, two minors behind", "FC-SUP-002"),
    ]
    return rows + support_rows(build, "FC-SUP-002")


def support_rows(build: ClusterBuild, follows: str) -> list[Plant]:
    """The FC-SUP-001 row of a plant that moved the cluster to a minor past upstream end of life (if it did)."""
    minor = ".".join(build.plan.server_version.lstrip("v").split(".")[:2])
    entry = support_calendar().calendars["upstream"].entries.get(minor)
    if entry is None or build.captured.date() <= entry.standard_end:
        return []
    text = f"Kubernetes {build.plan.server_version} is past upstream end of life ({entry.standard_end})"
    return [_row(build, "FC-SUP-001", "", text, follows=follows)]


@_planting("FC-PSA-001")
def _no_pod_security(build: ClusterBuild) -> list[Plant]:
    """A prod team namespace lost its pod-security.kubernetes.io/enforce label."""
    namespace = _team_namespace(build, _NS_NO_PSA)
    ns = build.find("namespaces", namespace)
    del ns["metadata"]["labels"][PSA_LABEL]
    return [_row(build, "FC-PSA-001", ns, f"namespace {namespace} enforces no Pod Security level")]


# -- issue 16: failure policies, Pod Security levels, nodes, add-ons (fleet and cluster checks) ----
_NS_RETIRED_INGRESS = 11


@_planting("FC-HOOK-003")
def _mutation_fails_closed(build: ClusterBuild) -> list[Plant]:
    """The defaulting webhook was switched to failurePolicy Fail here; the rest of the prod cohort fails open."""
    config = webhook_configuration(build, "MutatingWebhookConfiguration")
    for hook in config["webhooks"]:
        hook["failurePolicy"] = "Fail"
    return [_row(build, "FC-HOOK-003", config, "prometheusrulemutate webhook is Fail here, Ignore on the cohort")]


@_planting("FC-HOOK-004")
def _validation_fails_open(build: ClusterBuild) -> list[Plant]:
    """The validating webhook was set to failurePolicy Ignore during an incident and left so."""
    config = _webhook(build)
    for hook in config["webhooks"]:
        hook["failurePolicy"] = "Ignore"
    return [_row(build, "FC-HOOK-004", config, "prometheusrulevalidate webhook is Ignore here, Fail on the cohort")]


@_planting("FC-PSA-002")
def _monitoring_privileged(build: ClusterBuild) -> list[Plant]:
    """``monitoring`` was labelled enforce=privileged here (for node-exporter's hostPath); unlabelled elsewhere."""
    ns = build.find("namespaces", "monitoring")
    ns["metadata"]["labels"][PSA_LABEL] = "privileged"
    return [_row(build, "FC-PSA-002", ns, "monitoring enforces privileged here, no level on the rest of the cohort")]


def _worker(build: ClusterBuild, offset: int) -> Obj:
    """A worker node (not a control-plane one), counted from the end so plants never share one."""
    workers = [
        n for n in build.items("nodes") if "node-role.kubernetes.io/control-plane" not in n["metadata"]["labels"]
    ]
    return workers[-1 - offset]


@_planting("FC-NODE-001")
def _forgotten_kubelet(build: ClusterBuild) -> list[Plant]:
    """A worker from a node pool left out of three upgrades still runs kubelet v1.31 (four minors behind)."""
    node = _worker(build, 0)
    node["status"]["nodeInfo"]["kubeletVersion"] = KUBERNETES_BY_MINOR[31]
    node["status"]["nodeInfo"]["kubeProxyVersion"] = ""
    return [_row(build, "FC-NODE-001", node, f"kubelet {KUBERNETES_BY_MINOR[31]}: 4 minors behind the API server")]


@_planting("FC-NODE-002")
def _older_node_image(build: ClusterBuild) -> list[Plant]:
    """A worker was built from last year's image: Ubuntu 22.04 with kernel 5.15, unlike the rest of the cohort."""
    node = _worker(build, 1)
    node["status"]["nodeInfo"] |= {"osImage": "Ubuntu 22.04.5 LTS", "kernelVersion": "5.15.0-126-generic"}
    return [_row(build, "FC-NODE-002", node, "Ubuntu 22.04.5 LTS, kernel 5.15: the cohort runs Ubuntu 24.04, 6.8")]


@_planting("FC-NODE-003")
def _end_of_life_node(build: ClusterBuild) -> list[Plant]:
    """A worker still runs Ubuntu 20.04 (standard support ended May 2025) with containerd 1.7 (ended Sept 2026)."""
    node = _worker(build, 0)
    node["status"]["nodeInfo"] |= {
        "osImage": "Ubuntu 20.04.6 LTS",
        "kernelVersion": "5.4.0-200-generic",
        "containerRuntimeVersion": "containerd://1.7.24",
    }
    return [_row(build, "FC-NODE-003", node, "Ubuntu 20.04.6 LTS and containerd 1.7.24, both past end of life")]


def _swap_image(build: ClusterBuild, deployment: Obj, image: str) -> str:
    """Give a Deployment's first container ``image``, in its template, its ReplicaSets' and its pods' (same counts)."""
    old = str(deployment["spec"]["template"]["spec"]["containers"][0]["image"])
    namespace = deployment["metadata"]["namespace"]
    templates = [deployment["spec"]["template"]["spec"]]
    templates += [
        rs["spec"]["template"]["spec"]
        for rs in build.items("replicasets.apps")
        if rs["metadata"].get("namespace") == namespace
    ]
    specs = [*templates, *(p["spec"] for p in build.items("pods") if p["metadata"].get("namespace") == namespace)]
    for spec in specs:
        for container in spec["containers"]:
            if container["image"] == old:
                container["image"] = image
    for pod in build.items("pods"):
        if pod["metadata"].get("namespace") == namespace:
            for status in (pod.get("status") or {}).get("containerStatuses") or []:
                if status.get("image") == old:
                    status["image"] = image
    return old


@_planting("FC-ADDON-001")
def _retired_ingress(build: ClusterBuild) -> list[Plant]:
    """A team's edge Deployment runs the ingress-nginx controller (retired upstream in March 2026)."""
    namespace = _team_namespace(build, _NS_RETIRED_INGRESS)
    deployment = next(d for d in build.items("deployments.apps") if d["metadata"]["namespace"] == namespace)
    image = f"{build.plan.registry}/ingress-nginx/controller:v1.11.3"
    _swap_image(build, deployment, image)
    return [_row(build, "FC-ADDON-001", deployment, f"runs {image}: ingress-nginx, retired 2026-03-31")]


@_planting("FC-ADDON-002")
def _old_coredns(build: ClusterBuild) -> list[Plant]:
    """CoreDNS was never upgraded with the control plane: v1.10.1 (kubeadm's for 1.28) on a newer minor."""
    deployment = build.find("deployments.apps", "coredns", "kube-system")
    old = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    _swap_image(build, deployment, old.rsplit(":", 1)[0] + ":v1.10.1")
    return [_row(build, "FC-ADDON-002", deployment, "CoreDNS v1.10.1, older than the version shipped for the minor")]


def _old_autoscaler(plan: ClusterPlan) -> None:
    plan.autoscaler_minor = plan.minor - 2


@_planting("FC-ADDON-003", _old_autoscaler)
def _autoscaler_behind(build: ClusterBuild) -> list[Plant]:
    """cluster-autoscaler was left at its chart's old image through two control-plane upgrades."""
    deployment = build.find("deployments.apps", "cluster-autoscaler", "kube-system")
    image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    tag = image.rsplit(":", 1)[1]
    return [_row(build, "FC-ADDON-003", deployment, f"cluster-autoscaler {tag} on Kubernetes 1.{build.plan.minor}")]


@_planting("FC-NODE-004")
def _cgroup_v1(build: ClusterBuild) -> list[Plant]:
    """The nodes boot on cgroup v1 (kept for an old in-store agent), declared in the profile, on Kubernetes 1.35."""
    return [
        _row(
            build,
            "FC-NODE-004",
            "",
            f"nodes declared on cgroup v1 (systemd.unified_cgroup_hierarchy=0) on Kubernetes 1.{build.plan.minor}, "
            "whose kubelet refuses cgroup v1 by default",
        )
    ]


# -- files ---------------------------------------------------------------------------------------
def write_planted(path: Path, plants: Iterable[Plant]) -> None:
    """``planted.json``: a list of ``{cluster, code, object, description, follows}``."""
    path.write_bytes(orjson.dumps([asdict(p) for p in plants], option=orjson.OPT_INDENT_2) + b"\n")


def read_planted(path: Path) -> list[Plant]:
    """The rows a generated fleet's ``planted.json`` holds."""
    return [Plant(**row) for row in orjson.loads(path.read_bytes())]
