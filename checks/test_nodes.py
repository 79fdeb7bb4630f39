"""Nodes: kubelet version skew, OS/kernel/runtime drift from the cohort, end of life, cgroup v1 (FC-NODE-*).

What each node runs comes from ``status.nodeInfo`` through the
:data:`~fleetcheck.facts.nodes.NODE_INVENTORY` fact (parsed once per
cluster); end-of-life dates and the kubelet's cgroup v1 rule from the shipped
``node_lifecycle.yaml`` (``fleetcheck explain FC-NODE-003`` prints it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fleetcheck import ClusterView, Findings, FleetView, check, fail, skip
from fleetcheck.facts.nodes import DIMENSIONS, NODE_INVENTORY, Dimension, NodeInventory, NodeRuntime
from fleetcheck.outcomes import name_list
from fleetcheck.redact import redact
from fleetcheck.reference_data import minor_key, node_lifecycle

_SHOWN = 6


def _node_ref(node: NodeRuntime) -> str:
    return f"Node/{node.name}"


def _allowed_lag(api_minor: tuple[int, int]) -> int:
    """Minors a kubelet may be behind the API server: three from 1.28 on, two before (version skew policy)."""
    return 3 if api_minor >= (1, 28) else 2


@check(
    "FC-NODE-001",
    title="Kubelet newer than the API server, or older than the supported skew",
    factor="boring",
    severity="high",
    reads=["nodes"],
    success="every kubelet is within the supported version skew of the API server",
)
def test_kubelet_within_version_skew(cluster: ClusterView) -> None:
    """A node's kubelet is newer than the API server, or more minors older than the skew policy allows.

    What: each node's ``status.nodeInfo.kubeletVersion`` (``v1.31.4``,
    ``v1.31.2-eks-94953ac``) is compared with the API server's
    ``/version``. A kubelet on a newer minor than the API server fails
    (never supported); a kubelet more than three minors older fails (two
    when the API server is older than 1.28, as the policy said then). In an
    HA control plane only the answering API server's version is seen, so a
    kubelet that is fine against it may still be newer than an older
    instance mid-upgrade. A node whose version cannot be parsed is named,
    not judged. Counts toward *boring*: versions inside the tested window,
    the same way on every node.
    Why: a kubelet newer than the API server may use API fields the server
    does not know; one far behind misses fields the server now relies on,
    and the next control-plane upgrade pushes it out of the window, where
    it goes NotReady or mis-runs pods (a node pool forgotten in an upgrade
    is the usual cause, and managed providers refuse the next upgrade).
    Fix: upgrade the control plane before the nodes; upgrade or replace
    node pools left behind (drain, then new nodes at the control plane's
    minor) before the next control-plane upgrade.
    References: https://kubernetes.io/releases/version-skew-policy/#kubelet ;
    https://kubernetes.io/docs/tasks/administer-cluster/cluster-upgrade/
    """
    inventory = cluster.fact(NODE_INVENTORY)
    if not inventory.nodes:
        skip("the cluster has no Node objects (a control plane without registered nodes)")
    api = (cluster.version.major, cluster.version.minor)
    lag = _allowed_lag(api)
    findings = Findings()
    unparsed: list[str] = []
    for node in inventory.nodes:
        version = node.kubelet_version
        if version is None:
            unparsed.append(node.name)
            continue
        kubelet = (version[0], version[1])
        if kubelet > api:
            findings.add(_node_ref(node), redact(f"kubelet {node.kubelet} is newer than the API server"))
        elif kubelet[0] < api[0] or api[1] - kubelet[1] > lag:
            behind = f"{api[1] - kubelet[1]} minors" if kubelet[0] == api[0] else "a major version"
            findings.add(_node_ref(node), redact(f"kubelet {node.kubelet} is {behind} behind the API server"))
    if len(unparsed) == len(inventory.nodes):
        skip(f"no node reports a kubelet version that parses ({name_list(unparsed, _SHOWN)})")
    note = f"; {len(unparsed)} nodes report no parsable kubelet version ({name_list(unparsed, _SHOWN)})"
    findings.raise_if_any(
        f"{len(findings)} of {len(inventory.nodes)} kubelets are outside the supported skew of API server "
        f"{redact(cluster.version.git_version)}: expected {api[0]}.{max(api[1] - lag, 0)} to {api[0]}.{api[1]}"
        + (note if unparsed else "")
    )


def _primary(dimension: Dimension) -> Callable[[NodeInventory], str | None]:
    return lambda inventory: inventory.primary(dimension)


@check(
    "FC-NODE-002",
    title="Node OS image, kernel or container runtime differs from the cohort",
    factor="boring",
    severity="medium",
    scope="fleet",
    reads=["nodes"],
    success="every Linux node runs the cohort's OS image, kernel and container runtime families",
)
def test_node_runtime_matches_cohort(cluster: ClusterView, fleet: FleetView) -> None:
    """A node's OS image, kernel or container runtime family differs from its cohort's standard.

    What: three dimensions of ``status.nodeInfo``, each reduced to a family
    so patch releases do not count: the OS image (``Ubuntu 24.04.1 LTS`` ->
    ``Ubuntu 24.04``, ``Amazon Linux 2023.6...`` -> ``Amazon Linux 2023``),
    the kernel (``6.8.0-49-generic`` -> ``6.8``) and the runtime
    (``containerd://1.7.24`` -> ``containerd 1.7``). A cluster's value is
    the family most of its Linux nodes hold (a tie is unknown and does not
    vote). For each dimension the standard is the reference cluster's
    value, else the strict majority of the cohort's known values (the
    profile declares none); every Linux node whose family differs is named.
    Windows nodes are not compared with Linux ones. Counts toward *boring*:
    the same node image everywhere is what makes one cluster's tested
    upgrade true for the next.
    Why: node images drift quietly: a pool built from an older launch
    template, a hand-patched kernel, a runtime left behind by an in-place
    upgrade. Bugs then show on one cluster only (a cgroup or eBPF
    difference, a runtime's image-pull behaviour), and incident responders
    lose hours before anyone compares nodeInfo.
    Fix: rebuild the differing nodes from the fleet's current image (roll
    the node pool or machine deployment); if a pool is meant to differ,
    give its cluster its own profile or cohort label.
    References: https://kubernetes.io/docs/reference/node/node-status/#info ;
    https://kubernetes.io/docs/concepts/architecture/nodes/
    """
    inventory = cluster.fact(NODE_INVENTORY)
    fleet.standard(cluster, NODE_INVENTORY, lambda _: True)  # alone, the reference itself, an unreadable reference
    linux = inventory.linux
    if not linux:
        skip("no Linux node to compare (nodeInfo.operatingSystem)")
    findings: dict[str, list[str]] = {}
    undecided: list[str] = []
    sources: list[str] = []
    for dimension, label in DIMENSIONS.items():
        standard = fleet.compare(cluster, NODE_INVENTORY, _primary(dimension))
        if not standard.decided:
            undecided.append(f"{label}: {standard.source}")
            continue
        differing = [n for n in linux if n.family(dimension) not in (None, standard.expected)]
        if differing:
            sources.append(f"{label} {standard.expected} ({standard.says})")
        for node in differing:
            findings.setdefault(_node_ref(node), []).append(f"{label} {node.raw(dimension)}")
    not_judged = f"; not judged: {'; '.join(undecided)}" if undecided else ""
    if not findings:
        if len(undecided) == len(DIMENSIONS):
            skip(redact(f"no standard for any node dimension{not_judged}"))
        return
    out = Findings()
    for ref, parts in findings.items():
        out.add(ref, redact(", ".join(parts)))
    out.raise_if_any(
        redact(
            f"{len(findings)} of {len(linux)} Linux nodes differ from the cohort's node image; expected "
            f"{'; '.join(sources)}{not_judged}"
        )
    )


class NodeEndOfLifeSettings(BaseModel):
    """Calendar overrides of FC-NODE-003."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    os_end_of_life: dict[str, date] = Field(
        default_factory=dict, description='OS end-of-life dates by osImage prefix, e.g. {"Ubuntu 22.04": 2027-05-31}'
    )
    runtime_end_of_life: dict[str, date] = Field(
        default_factory=dict, description='runtime end-of-life dates, e.g. {"containerd 1.7": 2026-09-30}'
    )


def _os_end(node: NodeRuntime, settings: NodeEndOfLifeSettings) -> tuple[date, str, str] | None:
    """(end, what, source) of the node's OS, the longest matching prefix; a profile row wins."""
    table = node_lifecycle()
    declared = [p for p in settings.os_end_of_life if node.os_image.startswith(p)]
    if declared:
        prefix = max(declared, key=len)
        return settings.os_end_of_life[prefix], f"{prefix} end of life", "profile setting os_end_of_life"
    rows = [row for row in table.operating_systems if row.matches(node.os_image)]
    if not rows:
        return None
    row = max(rows, key=lambda r: len(r.prefix))
    return row.end, f"{row.prefix}: {row.what}", row.source


def _runtime_end(node: NodeRuntime, settings: NodeEndOfLifeSettings) -> tuple[date, str, str] | None:
    family = node.family("runtime")
    if family is None:
        return None
    if family in settings.runtime_end_of_life:
        return settings.runtime_end_of_life[family], f"{family} end of life", "profile setting runtime_end_of_life"
    for row in node_lifecycle().runtimes:
        if row.family == family:
            return row.end, f"{family} end of life", row.source
    return None


@check(
    "FC-NODE-003",
    title="Node OS or container runtime past its end of life",
    factor="boring",
    severity="high",
    reads=["nodes"],
    settings=NodeEndOfLifeSettings,
    success="no node runs an OS or container runtime past its end of life",
)
def test_node_os_and_runtime_supported(cluster: ClusterView, settings: NodeEndOfLifeSettings) -> None:
    """A node's OS image or container runtime is past its end-of-life date in the shipped calendar.

    What: each node's ``osImage`` is matched against the OS rows of
    ``node_lifecycle.yaml`` (Ubuntu LTS standard support, the EKS Amazon
    Linux 2 AMIs ...; the longest matching prefix, ``Amazon Linux 2`` not
    matching ``Amazon Linux 2023``) and its ``containerRuntimeVersion``
    against the runtime rows (containerd minors), each row with its source
    and the date the table was taken; a profile adds or replaces rows with
    ``os_end_of_life`` and ``runtime_end_of_life``. The cluster's time (API
    server clock, or a snapshot's capture time) after a row's date fails,
    naming the row. An OS or runtime without a row has no known date: it is
    not judged, and when no node has one the check is skipped saying so.
    Counts toward *boring*: a supported, current node image, as FC-SUP-001
    is for the Kubernetes minor.
    Why: after end of life the OS gets no security fixes (or only paid
    ones), and the provider stops building images for new Kubernetes
    minors: EKS published no AL2 AMIs after November 2025, so a fleet still
    on AL2 discovers at its next upgrade that there is no node image to
    upgrade to. An end-of-life containerd gets no fixes for the container
    escapes found in it.
    Fix: move node pools to a supported image (AL2023 or Bottlerocket on
    EKS, the next Ubuntu LTS, a containerd LTS); roll the nodes.
    References: https://ubuntu.com/about/release-cycle ;
    https://containerd.io/releases/ ;
    https://docs.aws.amazon.com/eks/latest/userguide/eks-ami-deprecation-faqs.html
    """
    inventory = cluster.fact(NODE_INVENTORY)
    if not inventory.nodes:
        skip("the cluster has no Node objects")
    today = cluster.server_time.astimezone(UTC).date()
    findings = Findings()
    dated = 0
    undated: set[str] = set()
    for node in inventory.nodes:
        past: list[str] = []
        for part, end in (("OS", _os_end(node, settings)), ("runtime", _runtime_end(node, settings))):
            raw = node.os_image if part == "OS" else node.runtime
            if end is None:
                undated.add(f"{part} {raw or '(not reported)'}")
                continue
            dated += 1
            if today > end[0]:
                past.append(f"{part} {raw} past end of life since {end[0].isoformat()} ({end[1]}; {end[2]})")
        if past:
            findings.add(_node_ref(node), redact("; ".join(past)))
    table = node_lifecycle()
    if not dated:
        skip(
            redact(
                f"no end-of-life date known for {name_list(sorted(undated), _SHOWN)} in {table.citation()}; "
                "declare them with settings.FC-NODE-003.os_end_of_life / runtime_end_of_life"
            )
        )
    note = f"; no date known for {name_list(sorted(undated), _SHOWN)}" if undated else ""
    findings.raise_if_any(
        redact(
            f"{len(findings)} of {len(inventory.nodes)} nodes run an OS or container runtime past its end of life "
            f"on {today.isoformat()} ({table.citation()}); expected a supported node image{note}"
        )
    )


class CgroupSettings(BaseModel):
    """The declared cgroup version of FC-NODE-004 (the API does not show it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cgroup_version: dict[str, Literal[1, 2]] = Field(
        default_factory=dict,
        description='the nodes\' cgroup version by cluster name, "*" for every cluster of the profile, e.g. '
        '{"*": 2, "edge-001": 1}; the API does not show it (stat -fc %T /sys/fs/cgroup on a node: cgroup2fs is v2)',
    )


@check(
    "FC-NODE-004",
    title="Nodes on cgroup v1 where the next Kubernetes minor refuses it",
    factor="boring",
    severity="high",
    settings=CgroupSettings,
    success="the nodes are declared on cgroup v2, or the next minor still starts on cgroup v1",
)
def test_cgroup_v1_not_refused_next(cluster: ClusterView, settings: CgroupSettings) -> None:
    """The profile declares this cluster's nodes on cgroup v1, and the next Kubernetes minor's kubelet refuses it.

    What: the API does not show a node's cgroup version (``nodeInfo`` has
    no such field), so the check reads what the profile declares:
    ``cgroup_version`` by cluster name, ``"*"`` for every cluster of the
    profile (the cluster's own name wins). Nothing declared: skipped,
    saying how to find out and declare it; never guessed from the OS image.
    Declared ``1`` fails when the next minor after the API server's is at
    or past the minor from which the kubelet refuses cgroup v1 by default
    (``failCgroupV1: true``; 1.35, from ``node_lifecycle.yaml`` with its
    source), and when the cluster is already there (its kubelets only run
    with ``failCgroupV1: false``, on support that is being removed).
    Counts toward *boring*: the node image must move with the fleet's
    Kubernetes minor.
    Why: the upgrade to the refusing minor succeeds on the control plane,
    then every upgraded kubelet exits at start ("kubelet is configured to
    not run on a host using cgroup v1") and its node goes NotReady; on a
    rolling node upgrade that is the whole cluster, one node at a time.
    Fix: boot the nodes on cgroup v2 (``systemd.unified_cgroup_hierarchy=1``
    or an OS image that defaults to it, e.g. Ubuntu 22.04+, AL2023) before
    upgrading; only as a stopgap set ``failCgroupV1: false`` in the kubelet
    configuration. Then declare ``cgroup_version: 2``.
    References: https://kubernetes.io/docs/concepts/architecture/cgroups/ ;
    https://git.k8s.io/enhancements/keps/sig-node/5573-cgroup-v1-unsupported
    """
    declared = settings.cgroup_version.get(cluster.name, settings.cgroup_version.get("*"))
    key = cluster.name if cluster.name in settings.cgroup_version else "*"
    if declared is None:
        skip(
            "the cgroup version is unknown: the API does not show it; check a node (stat -fc %T /sys/fs/cgroup: "
            "cgroup2fs is v2, tmpfs is v1) and declare it with settings.FC-NODE-004.cgroup_version "
            f'{{"{cluster.name}": 2}}'
        )
    if declared == 2:
        return
    rule = node_lifecycle().cgroup_v1
    refused = minor_key(rule.refused_from)
    current = (cluster.version.major, cluster.version.minor)
    who = f"declared by profile {cluster.profile.name} (settings.FC-NODE-004.cgroup_version[{key}])"
    if current >= refused:
        fail(
            f"nodes on cgroup v1 ({who}) on Kubernetes {current[0]}.{current[1]}: the kubelet refuses cgroup v1 "
            f"by default from {rule.refused_from} ({rule.source}), so these kubelets run only with failCgroupV1: "
            "false, on support being removed; expected cgroup v2",
            [],
        )
    following = (current[0], current[1] + 1)
    if following >= refused:
        fail(
            f"nodes on cgroup v1 ({who}): the next minor, {following[0]}.{following[1]}, refuses cgroup v1 by "
            f"default ({rule.source}); upgrading leaves every upgraded node NotReady; expected cgroup v2 first",
            [],
        )
