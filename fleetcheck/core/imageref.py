"""The one parser of container image references, following the Docker reference grammar.

Every image check reads images through :func:`parse_image_ref`, so
``nginx:1.25``, ``docker.io/library/nginx:1.25`` and
``index.docker.io/library/nginx:1.25`` are the same image everywhere, and a
reference the kubelet would refuse is refused here too.

The grammar and the normalisation are those of ``distribution/reference``
(``ParseNormalizedNamed``), which the container runtimes use:

- the first path component is a registry only when it contains ``.`` or
  ``:``, is ``localhost``, or has an upper-case letter; otherwise the image
  lives on Docker Hub (``rancher/k3s`` is ``docker.io/rancher/k3s``);
- a one-component Docker Hub name is an official image
  (``nginx`` is ``docker.io/library/nginx``);
- the repository path must be lower case (``Nginx:1.25`` is invalid);
- a reference may carry a tag, a digest, or both (``name:tag@sha256:...``).

One deliberate extension: ``index.docker.io`` (which upstream folds into
``docker.io``) and ``registry-1.docker.io`` (Docker Hub's API host) are both
read as Docker Hub, so a rewritten prefix cannot hide a Hub pull.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "DOCKER_HUB",
    "DOCKER_HUB_ALIASES",
    "ImageRef",
    "ImageRefError",
    "canonical_registry",
    "matching_pattern",
    "normalize_pattern",
    "parse_image_ref",
    "pattern_is_concrete",
    "pattern_registry",
    "registry_key",
]

#: How Docker Hub is named once normalised.
DOCKER_HUB = "docker.io"
#: Every host name that means Docker Hub.
DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_OFFICIAL_NAMESPACE = "library"
#: distribution/reference's NameTotalLengthMax
_NAME_MAX = 255

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|-+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_IPV6 = r"\[[a-fA-F0-9:]+\]"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|{_IPV6})(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(
    rf"^(?P<domain>{_DOMAIN})/(?P<path>{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    rf"(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?$",
    re.ASCII,
)
_DOMAIN_ONLY = re.compile(rf"^{_DOMAIN}$", re.ASCII)
_HEX64 = re.compile(r"^[a-f0-9]{64}$")
_GLOB_CHARS = frozenset("*?[")


class ImageRefError(ValueError):
    """Not a valid image reference; the message says why, as the kubelet's InvalidImageName would."""

    def __init__(self, image: str, reason: str) -> None:
        self.image = image
        self.reason = reason
        super().__init__(f"invalid image reference {image!r}: {reason}")


def canonical_registry(host: str) -> str:
    """A registry host with every Docker Hub alias (any case) named ``docker.io``; others as written.

    Case is kept: ``Foo/bar`` names registry ``Foo`` while ``foo/bar`` is a
    Docker Hub image, so lower-casing would change what a reference means.
    Comparisons use :func:`registry_key`.
    """
    return DOCKER_HUB if host.lower() in DOCKER_HUB_ALIASES else host


def registry_key(host: str) -> str:
    """A registry host as compared: canonical and lower case (DNS names are case-insensitive)."""
    return canonical_registry(host).lower()


@dataclass(frozen=True)
class ImageRef:
    """A parsed, normalised image reference.

    ``registry`` is canonical (:func:`canonical_registry`, case kept); ``path`` is the
    repository inside it (``library/nginx``). ``registry_explicit`` tells
    whether the reference named its registry or Docker Hub was implied.
    """

    raw: str
    registry: str
    path: str
    tag: str | None
    digest: str | None
    registry_explicit: bool

    @property
    def name(self) -> str:
        """``registry/path``, e.g. ``docker.io/library/nginx``."""
        return f"{self.registry}/{self.path}"

    @property
    def is_docker_hub(self) -> bool:
        """Pulled from Docker Hub, whether it says so or not."""
        return self.registry == DOCKER_HUB

    @property
    def is_pinned(self) -> bool:
        """Has a digest, or a tag other than ``latest``."""
        return self.digest is not None or (self.tag is not None and self.tag != "latest")

    @property
    def pin_problem(self) -> str | None:
        """Why the reference is not pinned (``None`` when it is)."""
        if self.is_pinned:
            return None
        if self.tag is None:
            return "no tag (the runtime pulls :latest) and no digest"
        return "tag :latest and no digest"

    @property
    def host(self) -> str:
        """The registry without its port (``[::1]`` stays bracketed)."""
        if self.registry.startswith("["):
            return self.registry[: self.registry.index("]") + 1]
        return self.registry.split(":", 1)[0]

    @property
    def port(self) -> int | None:
        """The registry's port, when the reference names one."""
        rest = self.registry[len(self.host) :]
        return int(rest[1:]) if rest.startswith(":") else None

    def __str__(self) -> str:
        """The fully qualified reference: ``docker.io/library/nginx:1.25@sha256:...``."""
        text = self.name
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text


def _split_domain(name: str) -> tuple[str, str, bool]:
    """distribution/reference's ``splitDockerDomain``: (domain, remainder, explicit)."""
    slash = name.find("/")
    first = name[:slash] if slash >= 0 else ""
    is_domain = slash >= 0 and (any(ch in first for ch in ".:") or first == "localhost" or first.lower() != first)
    if not is_domain:
        domain, remainder, explicit = DOCKER_HUB, name, False
    else:
        domain, remainder, explicit = first, name[slash + 1 :], True
    if canonical_registry(domain) == DOCKER_HUB and "/" not in remainder.split("@", 1)[0]:
        remainder = f"{_OFFICIAL_NAMESPACE}/{remainder}"
    return domain, remainder, explicit


def parse_image_ref(image: str) -> ImageRef:
    """Parse and normalise ``image``; raise :class:`ImageRefError` when the runtime would refuse it.

    >>> str(parse_image_ref("nginx:1.25"))
    'docker.io/library/nginx:1.25'
    >>> parse_image_ref("localhost:5000/team/app@sha256:" + "a" * 64).registry
    'localhost:5000'
    """
    if not isinstance(image, str) or not image:
        raise ImageRefError(str(image), "empty")
    if image != image.strip():
        raise ImageRefError(image, "leading or trailing whitespace")
    if _HEX64.match(image):
        raise ImageRefError(image, "a 64-character hex string is an image ID, not a repository name")
    domain, remainder, explicit = _split_domain(image)
    remote = remainder.split(":", 1)[0].split("@", 1)[0]
    if remote.lower() != remote:
        raise ImageRefError(image, f"repository name {remote!r} must be lower case")
    match = _REFERENCE.match(f"{domain}/{remainder}")
    if match is None:
        raise ImageRefError(image, "does not follow the reference grammar [registry[:port]/]path[:tag][@digest]")
    if len(match["domain"]) + 1 + len(match["path"]) > _NAME_MAX:
        raise ImageRefError(image, f"repository name longer than {_NAME_MAX} characters")
    return ImageRef(
        raw=image,
        registry=canonical_registry(match["domain"]),
        path=match["path"],
        tag=match["tag"],
        digest=match["digest"],
        registry_explicit=explicit,
    )


def normalize_pattern(pattern: str) -> str:
    """A registry pattern as compared: no scheme or trailing slash, registry part canonical.

    Patterns are globs on the registry (``*.dkr.ecr.eu-west-1.amazonaws.com``,
    ``registry.eu-west.example.com``, ``localhost:5000``) or, with a ``/``, on
    ``registry/path`` (``docker.io/library/*``, ``ghcr.io/acme/*``).
    """
    text = pattern.strip()
    for scheme in ("https://", "http://"):
        if text.lower().startswith(scheme):
            text = text[len(scheme) :]
    text = text.rstrip("/")
    registry, sep, path = text.partition("/")
    return registry_key(registry) + sep + path


def pattern_registry(pattern: str) -> str:
    """The registry part of a pattern, as compared (``https://Index.Docker.io/library/*`` -> ``docker.io``)."""
    return normalize_pattern(pattern).partition("/")[0]


def pattern_is_concrete(pattern: str) -> bool:
    """Whether the pattern names one registry (no glob in its registry part), so it can be probed."""
    registry = pattern_registry(pattern)
    return bool(registry) and not (_GLOB_CHARS & set(registry)) and bool(_DOMAIN_ONLY.match(registry))


def matching_pattern(ref: ImageRef, patterns: Iterable[str]) -> str | None:
    """The first pattern that allows ``ref`` (as written in the profile), or ``None``."""
    registry = registry_key(ref.registry)
    name = f"{registry}/{ref.path}"
    full = name + str(ref)[len(ref.name) :]
    for pattern in patterns:
        normal = normalize_pattern(pattern)
        if "/" in normal:
            if fnmatch.fnmatchcase(name, normal) or fnmatch.fnmatchcase(full, normal):
                return pattern
        elif fnmatch.fnmatchcase(registry, normal):
            return pattern
    return None
