"""Local images: pulled from the region's registry, pinned, and that registry answers (FC-IMG-*).

Every image is read through :func:`fleetcheck.core.imageref.parse_image_ref`
(one grammar for all checks) from every container, init container and
ephemeral container of Pods and from the pod templates of workloads, each
image attributed once to the highest object that declares it
(:mod:`fleetcheck.facts.workloads`).

Allowed registries come from the profile's ``registries`` mapping: the
entry for the cluster's ``region`` label together with the ``*`` entry,
which applies to every region. Patterns are globs on the registry
(``*.dkr.ecr.eu-west-1.amazonaws.com``) or, with a ``/``, on
``registry/path`` (``docker.io/library/*``).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from fleetcheck import ClusterView, Findings, check, skip
from fleetcheck.core.imageref import (
    ImageRef,
    ImageRefError,
    matching_pattern,
    parse_image_ref,
    pattern_is_concrete,
    pattern_registry,
)
from fleetcheck.errors import ConfigError
from fleetcheck.facts.workloads import WORKLOAD_KINDS, ContainerImage, container_images
from fleetcheck.probes import ProbeError
from fleetcheck.probes.oci import ANSWERING_STATUSES, probe_registry, tls_context

_MEMO_KEY = "fleetcheck.images.parsed"


def _parsed_images(cluster: ClusterView) -> list[tuple[ContainerImage, ImageRef | ImageRefError]]:
    """Every container image of the cluster with its parsed reference (or why it does not parse)."""

    def compute() -> list[tuple[ContainerImage, ImageRef | ImageRefError]]:
        parsed: list[tuple[ContainerImage, ImageRef | ImageRefError]] = []
        for item in container_images(cluster.list):
            try:
                parsed.append((item, parse_image_ref(item.image)))
            except ImageRefError as exc:
                parsed.append((item, exc))
        return parsed

    images = cluster.memo(_MEMO_KEY, compute)
    if not images:
        skip("no Pods and no workload pod templates to judge")
    return images


def _allowed_patterns(cluster: ClusterView) -> list[str]:
    """The region's registry patterns plus the ``*`` (every region) ones, in profile order."""
    registries = cluster.profile.registries
    region = cluster.region
    patterns = [*(registries.get(region, []) if region else []), *registries.get("*", [])]
    return list(dict.fromkeys(patterns))


def _region_text(cluster: ClusterView) -> str:
    return f"region {cluster.region}" if cluster.region else "clusters without a region label"


def _skip_without_patterns(cluster: ClusterView) -> list[str]:
    patterns = _allowed_patterns(cluster)
    if patterns:
        return patterns
    profile = cluster.profile.name
    if cluster.region is None:
        skip(
            f"the cluster has no 'region' label and profile {profile} lists no registries under '*' "
            "(label the cluster, or set registries: {'*': [...]})"
        )
    skip(
        f"profile {profile} lists no allowed registries for region {cluster.region} "
        f"(set registries: {{{cluster.region}: [...]}} or a '*' entry)"
    )


def _objects(count: int, verb: str, verb_singular: str) -> str:
    """``1 object pulls`` / ``3 objects pull``."""
    return f"1 object {verb_singular}" if count == 1 else f"{count} objects {verb}"


def _add_grouped(findings: Findings, items: list[tuple[ContainerImage, str]]) -> None:
    """One finding per object, listing its offending containers."""
    by_owner: dict[str, list[str]] = {}
    for item, detail in items:
        by_owner.setdefault(item.owner, []).append(f"{detail} ({item.describe()})")
    for owner, details in by_owner.items():
        findings.add(owner, ", ".join(details))


class DockerHubSettings(BaseModel):
    """Settings of FC-IMG-001."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allowed_images: list[str] = Field(
        default_factory=list,
        description="globs on the normalised image that may come from Docker Hub, e.g. 'docker.io/library/busybox:*'",
    )


@check(
    "FC-IMG-001",
    title="Image pulled from Docker Hub",
    factor="local-images",
    severity="high",
    reads=WORKLOAD_KINDS,
    settings=DockerHubSettings,
    success="no image is pulled from Docker Hub (docker.io), explicitly or implicitly",
)
def test_no_docker_hub_images(cluster: ClusterView, settings: DockerHubSettings) -> None:
    """A container image comes from Docker Hub, named or implied (``nginx:1.25`` is docker.io/library/nginx).

    What: every image of Pods (containers, init and ephemeral containers) and
    of workload pod templates is normalised with the Docker reference rules;
    one whose registry is Docker Hub (``docker.io``, ``index.docker.io``,
    ``registry-1.docker.io``, or no registry at all) is a finding, unless
    the profile allows it for the cluster's region (``registries`` entry
    matching it, e.g. ``docker.io/library/*``) or the check's
    ``allowed_images`` globs match it.
    Why: Docker Hub rate-limits anonymous and free pulls per source IP; a
    whole cluster pulls through a few NAT addresses, so a node replacement
    wave or a scale-up hits ``429 Too Many Requests`` and pods sit in
    ImagePullBackOff exactly when capacity is needed. Pulling across regions
    also costs egress and ties every cluster's recovery to a registry outside
    the fleet's control.
    Fix: mirror the image into the region's registry (or a pull-through
    cache) and reference it there, e.g. ``registry.eu-west.example.com/library/nginx:1.25``;
    for images you accept from Docker Hub, list them in the profile:
    ``settings: {FC-IMG-001: {allowed_images: ["docker.io/library/busybox:*"]}}``.
    References: https://docs.docker.com/docker-hub/download-rate-limit/ ;
    https://github.com/distribution/reference/blob/main/normalize.go
    """
    images = _parsed_images(cluster)
    region_patterns = _allowed_patterns(cluster)
    hub: list[tuple[ContainerImage, str]] = []
    for item, ref in images:
        if isinstance(ref, ImageRefError) or not ref.is_docker_hub:
            continue
        if matching_pattern(ref, region_patterns) or matching_pattern(ref, settings.allowed_images):
            continue
        if not ref.registry_explicit:
            hub.append((item, f"{item.image} (implicitly {ref})"))
        else:
            hub.append((item, item.image if item.image == str(ref) else f"{item.image} (= {ref})"))
    findings = Findings()
    _add_grouped(findings, hub)
    expected = (
        f"expected a registry allowed for {_region_text(cluster)} ({', '.join(region_patterns)})"
        if region_patterns
        else f"expected a regional registry or mirror (the profile lists none for {_region_text(cluster)})"
    )
    findings.raise_if_any(f"{_objects(len(findings), 'pull', 'pulls')} images from Docker Hub; {expected}")


@check(
    "FC-IMG-002",
    title="Image registry not allowed for the cluster's region",
    factor="local-images",
    severity="medium",
    reads=WORKLOAD_KINDS,
    success="every image comes from a registry the profile allows for the cluster's region",
)
def test_images_from_region_registries(cluster: ClusterView) -> None:
    """An image's registry is not one the profile allows for the cluster's region.

    What: the profile's ``registries`` maps a region (the cluster's
    ``region`` label) to registry patterns; ``*`` lists patterns allowed in
    every region and adds to the region's own. Every image's registry (after
    normalisation: no registry means ``docker.io``) must match one of them.
    An image reference that does not parse (a template placeholder, an
    upper-case repository) is a finding too: its registry cannot be known and
    the kubelet will refuse it. Skipped, with the reason, when the profile
    lists no registry for the region.
    Why: a cluster pulling from another region's registry pays cross-region
    egress on every node start and goes down with that region; one pulling
    from a public registry depends on a third party's uptime and rate limits
    during an incident, when nodes are being replaced in bulk.
    Fix: replicate the image into the region's registry (ECR replication,
    Harbor replication, a pull-through cache) and change the reference, or,
    when the registry is legitimately used everywhere, add it to the
    profile: ``registries: {eu-west: ["registry.eu-west.example.com"], "*": ["ghcr.io/acme/*"]}``.
    References: https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication.html ;
    https://kubernetes.io/docs/concepts/containers/images/
    """
    patterns = _skip_without_patterns(cluster)
    images = _parsed_images(cluster)
    outside: list[tuple[ContainerImage, str]] = []
    for item, ref in images:
        if isinstance(ref, ImageRefError):
            outside.append((item, f"{item.image!r} is not a valid image reference ({ref.reason})"))
        elif matching_pattern(ref, patterns) is None:
            outside.append((item, f"{item.image} comes from {ref.registry}"))
    findings = Findings()
    _add_grouped(findings, outside)
    findings.raise_if_any(
        f"{_objects(len(findings), 'use', 'uses')} images from registries not allowed for {_region_text(cluster)}; "
        f"expected one of: {', '.join(patterns)} (profile {cluster.profile.name})"
    )


@check(
    "FC-IMG-003",
    title="Image not pinned to a version or digest",
    factor="local-images",
    severity="medium",
    reads=WORKLOAD_KINDS,
    success="every image is pinned by a version tag or a digest",
)
def test_images_pinned(cluster: ClusterView) -> None:
    """An image is unpinned: tag ``:latest`` or no tag at all, and no digest.

    What: every image of Pods and workload templates must carry a digest
    (``@sha256:...``) or a tag other than ``latest``. A reference without a
    tag means ``:latest`` to the runtime. References that do not parse are
    left to FC-IMG-002.
    Why: ``:latest`` is whatever was pushed last: two nodes of one Deployment
    run different code, a rollback "to the previous version" pulls the new
    one, and the same manifest gives each cluster of the fleet a different
    build, so an incident cannot be reproduced or bisected. With
    ``imagePullPolicy: Always`` (the default for ``:latest``) every pod start
    also depends on the registry being up.
    Fix: reference a version tag (``nginx:1.25.4``) or, better, a digest
    (``nginx:1.25.4@sha256:...``) and let a tool (Renovate, Flux image
    automation) bump it through review.
    References: https://kubernetes.io/docs/concepts/containers/images/#image-names ;
    https://kubernetes.io/docs/concepts/configuration/overview/#container-images
    """
    images = _parsed_images(cluster)
    unpinned = [
        (item, f"{item.image}: {ref.pin_problem}")
        for item, ref in images
        if isinstance(ref, ImageRef) and ref.pin_problem is not None
    ]
    findings = Findings()
    _add_grouped(findings, unpinned)
    findings.raise_if_any(
        f"{_objects(len(findings), 'run', 'runs')} unpinned images; expected a version tag or a digest (@sha256:...)"
    )


class RegistryProbeSettings(BaseModel):
    """Settings of FC-IMG-004."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ca_bundle: str | None = Field(
        default=None,
        description="PEM file of CA certificates to trust besides the system store (relative to the profile file)",
    )
    timeout_seconds: float | None = Field(
        default=None, gt=0, le=60, description="per registry; default: the profile's probes.timeout_seconds"
    )


def _ca_bundle_path(cluster: ClusterView, value: str) -> Path:
    path = Path(value).expanduser()
    if not path.is_absolute() and cluster.profile.source:
        path = Path(cluster.profile.source).parent / path
    return path


@check(
    "FC-IMG-004",
    title="Region's registry does not answer",
    factor="local-images",
    severity="medium",
    scope="live",
    settings=RegistryProbeSettings,
    success="every registry allowed for the region answers GET /v2/ (200 or 401)",
)
def test_region_registry_answers(cluster: ClusterView, settings: RegistryProbeSettings) -> None:
    """A registry the profile allows for the cluster's region does not answer the OCI ``/v2/`` endpoint.

    What: for each concrete registry (no glob in its host part) allowed for
    the cluster's region (the region's ``registries`` entry plus ``*``),
    ``GET https://REGISTRY/v2/`` must answer ``200`` or ``401`` within the
    timeout, over TLS verified against the system trust store plus the
    optional ``ca_bundle``. Plain HTTP is tried only when the profile sets
    ``probes.allow_http`` and the server does not speak TLS. This check's
    rule is reachability, so a refused connection, a timeout, an untrusted
    certificate or another status is a ``fail`` naming the reason; it is
    skipped when the profile lists no registry for the region, or only glob
    patterns (nothing concrete to probe), and it is an ``error`` when its own
    settings are wrong (an unreadable CA bundle). Runs on live clusters only,
    from the runner's network.
    Why: the allowed list is only useful if the registry on it serves: a
    regional registry whose certificate expired, whose DNS name was
    repointed, or whose load balancer was torn down leaves every pod start
    in ImagePullBackOff, and nobody notices until nodes are replaced.
    Fix: restore the registry (certificate, DNS, listener) or correct the
    profile's ``registries`` entry; for a private CA set
    ``settings: {FC-IMG-004: {ca_bundle: certs/registry-ca.pem}}``.
    References: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#determining-support ;
    https://distribution.github.io/distribution/spec/api/#api-version-check
    """
    patterns = _skip_without_patterns(cluster)
    concrete = [p for p in patterns if pattern_is_concrete(p)]
    if not concrete:
        skip(
            f"the registries allowed for {_region_text(cluster)} are all patterns ({', '.join(patterns)}); "
            "nothing concrete to probe"
        )
    registries = list(dict.fromkeys(pattern_registry(p) for p in concrete))
    try:
        context = tls_context(_ca_bundle_path(cluster, settings.ca_bundle) if settings.ca_bundle else None)
    except ValueError as exc:
        raise ConfigError(
            cluster.profile.source or cluster.profile.name,
            "settings.FC-IMG-004.ca_bundle",
            str(exc),
            "point ca_bundle at a PEM file of CA certificates",
        ) from None
    timeout = settings.timeout_seconds or cluster.profile.probes.timeout_seconds
    findings = Findings()
    for registry in registries:
        try:
            answer = probe_registry(
                registry, timeout=timeout, ssl_context=context, allow_http=cluster.profile.probes.allow_http
            )
        except ProbeError as exc:
            findings.add(f"Registry/{registry}", str(exc))
            continue
        if not answer.answering:
            expected = " or ".join(str(s) for s in sorted(ANSWERING_STATUSES))
            findings.add(f"Registry/{registry}", f"GET {answer.url} answered HTTP {answer.status}, expected {expected}")
    findings.raise_if_any(
        f"{len(findings)} of {len(registries)} registries allowed for {_region_text(cluster)} "
        f"do not answer the OCI /v2/ endpoint within {timeout:g}s"
    )
