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
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fleetcheck.imageref import ImageRefError, parse_image_ref

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

    def names_daemonset(self, name: str) -> bool:
        """Whether a DaemonSet called ``name`` could be this CNI's agent."""
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.daemonsets)

    def names_image(self, path: str) -> bool:
        """Whether a repository path (``calico/node``, ``oss/calico/node``) is this CNI's agent image."""
        return any(
            fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(path, f"*/{pattern}") for pattern in self.images
        )


#: Known CNIs, in the order a cluster's CNI is chosen when several match and none hosts the others.
SIGNATURES: tuple[CniSignature, ...] = (
    CniSignature("aws-vpc-cni", ("aws-node",), ("amazon-k8s-cni",), hosts_policy=True),
    CniSignature(
        "flannel",
        ("kube-flannel-ds", "kube-flannel*", "flannel", "canal", "*-canal"),
        ("flannel-io/flannel", "flannel/flannel", "coreos/flannel", "*-flannelcni-flannel", "flannelcni/flannel"),
        hosts_policy=True,
    ),
    CniSignature("calico", ("calico-node", "canal", "*-canal"), ("calico/node", "tigera/cnx-node"), policy_engine=True),
    CniSignature("cilium", ("cilium",), ("cilium/cilium",), policy_engine=True),
    CniSignature("antrea", ("antrea-agent",), ("antrea/antrea-*",), policy_engine=True),
    CniSignature("kube-router", ("kube-router",), ("kube-router",), policy_engine=True),
    CniSignature("weave", ("weave-net",), ("weave-kube",)),
    CniSignature(
        "ovn-kubernetes",
        ("ovnkube-node",),
        ("ovn-kube-*", "ovn-kubernetes/*"),
        containers=("ovnkube-controller", "ovnkube-node", "ovn-controller"),
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

    @property
    def version_text(self) -> str:
        """``v3.31.6``, or ``version unknown (...)``."""
        return self.version_note if self.version is not None else f"version unknown ({self.version_note})"

    def describe(self) -> str:
        """``calico v3.31.6 (kube-system/DaemonSet/calico-node, image docker.io/calico/node:v3.31.6)``."""
        return f"{self.cni} {self.version_text} ({self.daemonset}, image {self.image})"


@dataclass(frozen=True)
class CniDetection:
    """What a cluster's DaemonSets say about its CNI."""

    matches: tuple[CniMatch, ...]
    #: DaemonSets named like a CNI's agent whose images are not that CNI's (``ref: images``)
    near_misses: tuple[str, ...] = ()
    daemonsets: tuple[str, ...] = field(default=())

    @property
    def primary(self) -> CniMatch | None:
        """The CNI that runs pod networking (``None`` when no known CNI was found)."""
        if not self.matches:
            return None
        hosts = [m for m in self.matches if _SIGNATURE[m.cni].hosts_policy]
        engines = [m for m in self.matches if _SIGNATURE[m.cni].policy_engine]
        if hosts and engines:
            return hosts[0]
        return self.matches[0]

    @property
    def policy_engines(self) -> tuple[CniMatch, ...]:
        """CNIs running beside a hosting primary as its network-policy engine (Calico on aws-node)."""
        primary = self.primary
        if primary is None or not _SIGNATURE[primary.cni].hosts_policy:
            return ()
        return _first_per_cni(m for m in self.matches if m.cni != primary.cni and _SIGNATURE[m.cni].policy_engine)

    @property
    def others(self) -> tuple[CniMatch, ...]:
        """Further CNIs found that are neither primary nor policy engine (a migration half done?)."""
        primary = self.primary
        seen = {primary.cni} if primary is not None else set()
        seen.update(m.cni for m in self.policy_engines)
        return _first_per_cni(m for m in self.matches if m.cni not in seen)

    @property
    def cni(self) -> str | None:
        """The primary CNI's name."""
        return self.primary.cni if self.primary is not None else None

    def describe(self) -> str:
        """One line for messages: the primary, its policy engine and anything else found."""
        primary = self.primary
        if primary is None:
            return "no known CNI"
        text = primary.describe()
        for engine in self.policy_engines:
            text += f" with policy engine {engine.describe()}"
        others = self.others
        if others:
            text += "; also found " + ", ".join(m.describe() for m in others)
        return text


_SIGNATURE = {s.cni: s for s in SIGNATURES}


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


def _match(signature: CniSignature, ref: str, containers: list[tuple[str, str]]) -> CniMatch | None:
    chosen = next(
        ((name, image) for name, image in containers if (path := _image_path(image)) and signature.names_image(path)),
        None,
    ) or next(((name, image) for name, image in containers if name in signature.containers), None)
    if chosen is None:
        return None
    version, note = _version_of(chosen[1])
    return CniMatch(signature.cni, ref, chosen[0], chosen[1], version, note)


def detect_cni(daemonsets: Iterable[Obj]) -> CniDetection:
    """Find every known CNI agent among ``daemonsets`` (all namespaces)."""
    matches: list[CniMatch] = []
    near: list[str] = []
    seen: list[str] = []
    for daemonset in daemonsets:
        meta = daemonset.get("metadata") or {}
        name, namespace = str(meta.get("name", "")), str(meta.get("namespace", ""))
        ref = f"{namespace}/DaemonSet/{name}" if namespace else f"DaemonSet/{name}"
        seen.append(ref)
        containers = _containers(daemonset)
        named_like = [s for s in SIGNATURES if s.names_daemonset(name)]
        found = [m for s in named_like if (m := _match(s, ref, containers)) is not None]
        matches.extend(found)
        if named_like and not found:
            images = ", ".join(image or "(no image)" for _, image in containers) or "no containers"
            near.append(f"{ref} is named like {named_like[0].cni}'s agent but runs {images}")
    order = {s.cni: i for i, s in enumerate(SIGNATURES)}
    matches.sort(key=lambda m: (order[m.cni], m.daemonset))
    return CniDetection(tuple(matches), tuple(near), tuple(seen))
