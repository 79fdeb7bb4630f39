"""Which CNI a cluster runs, and which version, judged from its DaemonSets.

Every CNI runs a node agent as a DaemonSet. A DaemonSet counts as a CNI's
agent only when both its name and one of its containers' images say so
(``calico-node`` running ``calico/node``): a name alone is too easily
reused, and an image alone shows up in unrelated DaemonSets (a debugging
tool built on ``cilium/cilium``). Images are matched on their repository
path, ignoring the registry and any mirror prefix
(``mcr.microsoft.com/oss/calico/node`` is Calico). DaemonSets are looked for
in every namespace: flannel lives in ``kube-flannel``, operator-managed
Calico in ``calico-system``.

The version is the tag of the agent's image. A missing tag, ``:latest``, a
digest-only reference or a tag that is not a version (kind's
``v20210326-1e038dc5``) leaves the version unknown, and the reason is kept
so a check can say it rather than guess.

Some clusters run two: the AWS VPC CNI (``aws-node``) or flannel for pod
networking with Calico, Cilium, Antrea or kube-router beside it for network
policy (Canal is flannel + Calico in one DaemonSet). The networking CNI is
then the primary one and the other is reported as the policy engine.

Managed and distribution variants are named in :attr:`CniMatch.variant`
(shapes from ``../shared/corpus/managed``):

- GKE Dataplane V2 is Cilium in the DaemonSet ``anetd`` with GKE's images;
  the legacy dataplane's ``netd`` writes the node's CNI config;
- Calico with ``CALICO_NETWORKING_BACKEND=none`` (GKE's network-policy
  add-on) enforces policy only and is never the pod network;
- AKS: ``azure-cns`` is Azure CNI's node service, and a ``cilium`` DaemonSet
  labelled ``kubernetes.azure.com/ebpf-dataplane`` or pulled from
  ``mcr.microsoft.com/containernetworking`` is Azure CNI powered by Cilium;
- RKE2 ships its CNI as charts (``rke2-canal``, ``rke2-calico``,
  ``rke2-cilium``) with ``rancher/hardened-*`` and ``rancher/mirrored-*``
  images; Calico installed by the Tigera operator runs in ``calico-system``;
- OpenShift runs OVN-Kubernetes (``ovnkube-node`` in
  ``openshift-ovn-kubernetes``) or, up to 4.16, OpenShiftSDN (``sdn`` in
  ``openshift-sdn``), both digest-only images;
- k3s runs flannel inside its own binary: no DaemonSet, only the
  ``flannel.alpha.coreos.com/*`` node annotations. Those stay when k3s was
  started with ``--flannel-backend=none`` and another CNI installed, so they
  count only on k3s/RKE2 nodes and only when no CNI DaemonSet was found.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fleetcheck.core.imageref import ImageRefError, parse_image_ref
from fleetcheck.core.providers import PROVIDERS
from fleetcheck.facts import provider_detection as provider

__all__ = [
    "SIGNATURES",
    "CniDetection",
    "CniMatch",
    "CniSignature",
    "SemVer",
    "detect_cni",
    "normalize_cni_name",
]

Obj = dict[str, Any]


@dataclass(frozen=True, order=True)
class SemVer:
    """The numeric part of a version tag (``v3.31.6``, ``1.18``, ``v1.23.0-eksbuild.1``)."""

    major: int
    minor: int
    patch: int = 0

    _PATTERN = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+_.][0-9A-Za-z][0-9A-Za-z.+_-]*)?$")

    @classmethod
    def parse(cls, text: str) -> SemVer | None:
        """The version in ``text``, or ``None`` when it is not ``[v]MAJOR.MINOR[.PATCH][-suffix]``."""
        match = cls._PATTERN.match(text.strip())
        if match is None:
            return None
        return cls(int(match[1]), int(match[2]), int(match[3] or 0))

    @property
    def minor_version(self) -> str:
        """``v3.31``."""
        return f"v{self.major}.{self.minor}"

    def minors_from(self, other: SemVer) -> int | None:
        """How many minors ``self`` is ahead of ``other`` (negative: behind); ``None`` across majors."""
        return self.minor - other.minor if self.major == other.major else None

    def __str__(self) -> str:
        return f"v{self.major}.{self.minor}.{self.patch}"


@dataclass(frozen=True)
class CniSignature:
    """How one CNI's node agent looks.

    ``daemonsets`` are DaemonSet name globs; ``images`` are repository path
    globs, matched against the whole path or its tail after any prefix;
    ``containers`` are container names accepted instead of an image, for
    builds published only by digest under a generic repository (OpenShift's
    OVN-Kubernetes). ``hosts_policy``: runs pod networking with another CNI
    as the network-policy engine; ``policy_engine``: can be that engine.
    """

    cni: str
    daemonsets: tuple[str, ...]
    images: tuple[str, ...]
    containers: tuple[str, ...] = ()
    hosts_policy: bool = False
    policy_engine: bool = False
    #: namespaces the agent must run in (empty: any), for agents with generic names (OpenShiftSDN's ``sdn``)
    namespaces: tuple[str, ...] = ()

    def names_daemonset(self, name: str, namespace: str = "") -> bool:
        """Whether a DaemonSet called ``name`` (in ``namespace``) could be this CNI's agent."""
        if self.namespaces and namespace not in self.namespaces:
            return False
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.daemonsets)

    def names_image(self, path: str) -> bool:
        """Whether a repository path (``calico/node``, ``oss/calico/node``) is this CNI's agent image."""
        return any(
            fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(path, f"*/{pattern}") for pattern in self.images
        )


#: Known CNIs, in the order a cluster's CNI is chosen when several match and none hosts the others.
SIGNATURES: tuple[CniSignature, ...] = (
    CniSignature("aws-vpc-cni", ("aws-node",), ("amazon-k8s-cni",), hosts_policy=True),
    CniSignature("azure-cni", ("azure-cns",), ("containernetworking/azure-cns", "azure-cns"), hosts_policy=True),
    CniSignature("gke-netd", ("netd",), ("google-containers/netd", "netd"), hosts_policy=True),
    CniSignature(
        "flannel",
        ("kube-flannel-ds", "kube-flannel*", "flannel", "canal", "*-canal", "rke2-flannel"),
        (
            "flannel-io/flannel",
            "flannel/flannel",
            "coreos/flannel",
            "*-flannelcni-flannel",
            "flannelcni/flannel",
            "rancher/hardened-flannel",
            "rancher/mirrored-flannel*",
        ),
        hosts_policy=True,
    ),
    CniSignature(
        "calico",
        ("calico-node", "canal", "*-canal"),
        (
            "calico/node",
            "tigera/cnx-node",
            "projectcalico-org/node",
            "rancher/hardened-calico",
            "rancher/mirrored-calico-node",
        ),
        policy_engine=True,
    ),
    CniSignature(
        "cilium",
        ("cilium", "anetd"),
        ("cilium/cilium", "cilium/cilium-distroless", "rancher/mirrored-cilium-cilium", "cilium/anetd", "anetd"),
        policy_engine=True,
    ),
    CniSignature("antrea", ("antrea-agent",), ("antrea/antrea-*",), policy_engine=True),
    CniSignature("kube-router", ("kube-router",), ("kube-router",), policy_engine=True),
    CniSignature("weave", ("weave-net",), ("weave-kube",)),
    CniSignature(
        "ovn-kubernetes",
        ("ovnkube-node",),
        ("ovn-kube-*", "ovn-kubernetes/*"),
        containers=("ovnkube-controller", "ovnkube-node", "ovn-controller"),
    ),
    CniSignature(
        "openshift-sdn",
        ("sdn",),
        ("openshift/origin-node", "openshift/ose-node"),
        containers=("sdn",),
        namespaces=("openshift-sdn",),
    ),
    CniSignature("kindnet", ("kindnet",), ("kindnetd",)),
)

_ALIASES = {
    "aws-node": "aws-vpc-cni",
    "vpc-cni": "aws-vpc-cni",
    "amazon-vpc-cni": "aws-vpc-cni",
    "amazon-vpc-cni-k8s": "aws-vpc-cni",
    "calico-node": "calico",
    "kube-flannel": "flannel",
    "weave-net": "weave",
    "antrea-agent": "antrea",
    "ovn": "ovn-kubernetes",
    "ovnkube": "ovn-kubernetes",
    "kindnetd": "kindnet",
    "azure": "azure-cni",
    "azure-cns": "azure-cni",
    "ovnkubernetes": "ovn-kubernetes",
    "openshiftsdn": "openshift-sdn",
    "canal": "flannel",
    "netd": "gke-netd",
    "dataplane-v2": "cilium",
    "anetd": "cilium",
}


def normalize_cni_name(name: str) -> str:
    """A CNI name as a profile may write it (``Calico``, ``aws-node``), as detection names it."""
    lowered = name.strip().lower()
    return _ALIASES.get(lowered, lowered)


@dataclass(frozen=True)
class CniMatch:
    """One CNI agent found: which DaemonSet, which container and image, which version."""

    cni: str
    daemonset: str
    container: str
    image: str
    version: SemVer | None
    #: the version tag as written, or why the version is unknown
    version_note: str
    #: the managed or packaged form, e.g. ``GKE Dataplane V2`` or ``RKE2 chart rke2-canal`` ("" when plain)
    variant: str = ""
    #: enforces network policy only and is not the pod network (Calico with CALICO_NETWORKING_BACKEND=none)
    policy_only: bool = False

    @property
    def version_text(self) -> str:
        """``v3.31.6``, or ``version unknown (...)``."""
        return self.version_note if self.version is not None else f"version unknown ({self.version_note})"

    def describe(self) -> str:
        """``calico v3.31.6 (kube-system/DaemonSet/calico-node, image docker.io/calico/node:v3.31.6)``."""
        variant = f", {self.variant}" if self.variant else ""
        where = f"{self.daemonset}, image {self.image}" if self.image else self.daemonset
        return f"{self.cni} {self.version_text} ({where}{variant})"


@dataclass(frozen=True)
class CniDetection:
    """What a cluster's DaemonSets say about its CNI."""

    matches: tuple[CniMatch, ...]
    #: DaemonSets named like a CNI's agent whose images are not that CNI's (``ref: images``)
    near_misses: tuple[str, ...] = ()
    daemonsets: tuple[str, ...] = field(default=())
    #: what else was seen and why it does not count (stale k3s flannel annotations, nodes not readable)
    notes: tuple[str, ...] = ()

    @property
    def primary(self) -> CniMatch | None:
        """The CNI that runs pod networking (``None`` when no known CNI was found)."""
        network = [m for m in self.matches if not m.policy_only]
        if not network:
            return None
        hosts = [m for m in network if _SIGNATURE[m.cni].hosts_policy]
        engines = [m for m in network if _SIGNATURE[m.cni].policy_engine]
        if hosts and engines:
            powered = next((m for m in engines if m.variant == _AZURE_CILIUM), None)
            return powered if powered is not None else hosts[0]
        return network[0]

    @property
    def policy_engines(self) -> tuple[CniMatch, ...]:
        """CNIs beside the primary for network policy only (Calico on aws-node, GKE's Calico policy add-on)."""
        primary = self.primary
        policy_only = [m for m in self.matches if m.policy_only]
        if primary is None or not _SIGNATURE[primary.cni].hosts_policy:
            return _first_per_cni(policy_only)
        return _first_per_cni(
            [*(m for m in self.matches if m.cni != primary.cni and _SIGNATURE[m.cni].policy_engine), *policy_only]
        )

    @property
    def companions(self) -> tuple[CniMatch, ...]:
        """Agents the primary runs on (Azure CNI's ``azure-cns`` under Azure CNI powered by Cilium)."""
        primary = self.primary
        if primary is None or primary.variant != _AZURE_CILIUM:
            return ()
        return _first_per_cni(m for m in self.matches if m.cni == "azure-cni")

    @property
    def others(self) -> tuple[CniMatch, ...]:
        """Further CNIs found that are neither primary nor policy engine (a migration half done?)."""
        primary = self.primary
        seen = {primary.cni} if primary is not None else set()
        seen.update(m.cni for m in (*self.policy_engines, *self.companions))
        return _first_per_cni(m for m in self.matches if m.cni not in seen)

    @property
    def cni(self) -> str | None:
        """The primary CNI's name."""
        return self.primary.cni if self.primary is not None else None

    def describe(self) -> str:
        """One line for messages: the primary, its policy engine and anything else found."""
        primary = self.primary
        if primary is None:
            engines = self.policy_engines
            if engines:
                return "no pod-network CNI agent; network policy only: " + ", ".join(m.describe() for m in engines)
            return "no known CNI"
        text = primary.describe()
        for companion in self.companions:
            text += f" on {companion.describe()}"
        for engine in self.policy_engines:
            text += f" with policy engine {engine.describe()}"
        others = self.others
        if others:
            text += "; also found " + ", ".join(m.describe() for m in others)
        return text


_SIGNATURE = {s.cni: s for s in SIGNATURES}
_AZURE_CILIUM = "Azure CNI powered by Cilium"
#: nodes read at most for flannel annotations (k3s labels every node alike)
MAX_NODES = 500
_FLANNEL_ANNOTATION = "flannel.alpha.coreos.com/"


def _first_per_cni(matches: Iterable[CniMatch]) -> tuple[CniMatch, ...]:
    """One match per CNI (old flannel runs one DaemonSet per architecture)."""
    chosen: dict[str, CniMatch] = {}
    for match in matches:
        chosen.setdefault(match.cni, match)
    return tuple(chosen.values())


def _version_of(image: str) -> tuple[SemVer | None, str]:
    try:
        ref = parse_image_ref(image)
    except ImageRefError as exc:
        return None, exc.reason
    if ref.tag is None:
        return None, "image has a digest and no tag" if ref.digest else "image has no tag"
    if ref.tag == "latest":
        return None, "image tag is :latest"
    version = SemVer.parse(ref.tag)
    if version is None:
        return None, f"image tag {ref.tag} is not a MAJOR.MINOR version"
    return version, ref.tag


def _env(daemonset: Obj, container: str, name: str) -> str | None:
    """The literal value of env ``name`` in ``container`` (``None``: unset or taken from elsewhere)."""
    spec = ((daemonset.get("spec") or {}).get("template") or {}).get("spec") or {}
    for entry in spec.get("containers") or []:
        if isinstance(entry, dict) and entry.get("name") == container:
            for env in entry.get("env") or []:
                if isinstance(env, dict) and env.get("name") == name and "value" in env:
                    return str(env.get("value"))[:64]
    return None


def _registry(image: str) -> str:
    try:
        return parse_image_ref(image).registry
    except ImageRefError:
        return ""


def _variant(cni: str, name: str, namespace: str, daemonset: Obj, container: str, image: str) -> tuple[str, bool]:
    """(the managed or packaged form, policy only) of one agent found."""
    template_labels = ((((daemonset.get("spec") or {}).get("template") or {}).get("metadata")) or {}).get("labels")
    labels = template_labels if isinstance(template_labels, dict) else {}
    path = _image_path(image) or ""
    registry = _registry(image)
    if cni == "calico" and (_env(daemonset, container, "CALICO_NETWORKING_BACKEND") or "").lower() == "none":
        return "network policy only (CALICO_NETWORKING_BACKEND=none)", True
    if cni == "cilium" and name == "anetd":
        return "GKE Dataplane V2", False
    if cni == "cilium" and ("kubernetes.azure.com/ebpf-dataplane" in labels or path.startswith("containernetworking/")):
        return _AZURE_CILIUM, False
    if name.startswith("rke2-") or (cni == "cilium" and path.startswith("rancher/")):
        return f"RKE2 chart {'rke2-cilium' if cni == 'cilium' else name}", False
    if path.startswith("rancher/hardened-") or path.startswith("rancher/mirrored-"):
        return f"Rancher image {path}", False
    if cni == "calico" and namespace == "calico-system":
        return "installed by the Tigera operator (calico-system)", False
    if cni == "gke-netd":
        return "GKE legacy dataplane", False
    if cni == "azure-cni":
        return "Azure CNI node service (azure-cns)", False
    if registry.endswith("gke.gcr.io") or path.startswith("projectcalico-org/"):
        return "GKE add-on image", False
    return "", False


def _containers(daemonset: Obj) -> list[tuple[str, str]]:
    """(name, image) of main containers first, then init containers: the agent is a main container."""
    spec = ((daemonset.get("spec") or {}).get("template") or {}).get("spec") or {}
    pairs: list[tuple[str, str]] = []
    for section in ("containers", "initContainers"):
        for container in spec.get(section) or []:
            if isinstance(container, dict):
                pairs.append((str(container.get("name", "")), str(container.get("image") or "")))
    return pairs


def _image_path(image: str) -> str | None:
    try:
        return parse_image_ref(image).path
    except ImageRefError:
        return None


def _match(signature: CniSignature, ref: str, daemonset: Obj, containers: list[tuple[str, str]]) -> CniMatch | None:
    chosen = next(
        ((name, image) for name, image in containers if (path := _image_path(image)) and signature.names_image(path)),
        None,
    ) or next(((name, image) for name, image in containers if name in signature.containers), None)
    if chosen is None:
        return None
    version, note = _version_of(chosen[1])
    meta = daemonset.get("metadata") or {}
    name, namespace = str(meta.get("name", "")), str(meta.get("namespace", ""))
    variant, policy_only = _variant(signature.cni, name, namespace, daemonset, chosen[0], chosen[1])
    return CniMatch(signature.cni, ref, chosen[0], chosen[1], version, note, variant, policy_only)


def _flannel_annotations(nodes: Sequence[Obj]) -> tuple[int, int, str]:
    """(nodes with ``flannel.alpha.coreos.com/*`` annotations, nodes read, the backend-type seen)."""
    annotated, read, backend = 0, 0, ""
    for node in nodes[:MAX_NODES]:
        if not isinstance(node, dict):
            continue
        read += 1
        annotations = (node.get("metadata") or {}).get("annotations")
        if isinstance(annotations, dict) and any(str(k).startswith(_FLANNEL_ANNOTATION) for k in annotations):
            annotated += 1
            backend = backend or str(annotations.get(f"{_FLANNEL_ANNOTATION}backend-type", ""))[:32]
    return annotated, read, backend


def _embedded_flannel(nodes: Sequence[Obj], found_network: bool) -> tuple[CniMatch | None, str]:
    """k3s/RKE2's built-in flannel from node annotations, or a note why the annotations do not count."""
    annotated, read, backend = _flannel_annotations(nodes)
    if not annotated:
        return None, ""
    distro = provider.detect_provider(nodes, None).provider
    seen = f"node annotations {_FLANNEL_ANNOTATION}* on {annotated} of {read} nodes"
    if distro not in ("k3s", "rke2"):
        return None, f"{seen} but no flannel DaemonSet, on nodes that are not k3s/RKE2: not counted"
    if found_network:
        return None, (
            f"{seen} are left from {PROVIDERS[distro]}'s embedded flannel "
            "(they stay after --flannel-backend=none): not counted beside the CNI DaemonSet"
        )
    backend_text = f", backend {backend}" if backend else ""
    return (
        CniMatch(
            "flannel",
            f"embedded in {PROVIDERS[distro]} (no DaemonSet)",
            "",
            "",
            None,
            f"flannel runs inside the {PROVIDERS[distro]} binary, so no image tag says its version",
            f"{seen}{backend_text}",
        ),
        "",
    )


def detect_cni(daemonsets: Iterable[Obj], nodes: Sequence[Obj] | None = None) -> CniDetection:
    """Find every known CNI agent among ``daemonsets`` (all namespaces), and k3s's embedded flannel on ``nodes``.

    ``nodes`` is optional: ``None`` means they were not read, and embedded
    flannel then cannot be seen (a note says so when no DaemonSet matched).
    """
    matches: list[CniMatch] = []
    near: list[str] = []
    seen: list[str] = []
    notes: list[str] = []
    for daemonset in daemonsets:
        meta = daemonset.get("metadata") or {}
        name, namespace = str(meta.get("name", "")), str(meta.get("namespace", ""))
        ref = f"{namespace}/DaemonSet/{name}" if namespace else f"DaemonSet/{name}"
        seen.append(ref)
        containers = _containers(daemonset)
        named_like = [s for s in SIGNATURES if s.names_daemonset(name, namespace)]
        found = [m for s in named_like if (m := _match(s, ref, daemonset, containers)) is not None]
        matches.extend(found)
        if named_like and not found:
            images = ", ".join(image or "(no image)" for _, image in containers) or "no containers"
            near.append(f"{ref} is named like {named_like[0].cni}'s agent but runs {images}")
    order = {s.cni: i for i, s in enumerate(SIGNATURES)}
    matches.sort(key=lambda m: (order[m.cni], m.daemonset))
    found_network = any(not m.policy_only for m in matches)
    if nodes is not None:
        embedded, note = _embedded_flannel(nodes, found_network)
        if embedded is not None:
            matches.insert(0, embedded)
        if note:
            notes.append(note)
    elif not found_network:
        notes.append("nodes were not read, so flannel built into k3s/RKE2 (node annotations only) was not looked for")
    return CniDetection(tuple(matches), tuple(near), tuple(seen), tuple(notes))
