"""Boring edges: the same ingress controller and service mesh, at nearly the same version, everywhere.

FC-INGRESS-001 and FC-MESH-001 share one shape: the products a cluster runs
(the ``EDGE`` fact, detected by :mod:`fleetcheck.facts.edge` from Deployment
and DaemonSet images, IngressClasses and Cilium's ``cilium-config``) are
compared, as a set ("none" being a value), with the fleet standard by the
one rule of :mod:`fleetcheck.facts.compare`: the profile's
``standards.ingress`` / ``standards.mesh`` (``name`` or ``name@minor``),
else the reference cluster, else the set more than half of the cohort runs.
Each standard product's minor is then compared the same way, among the
clusters running it with a known version.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from fleetcheck import ClusterView, FleetView, check, fail, skip
from fleetcheck.errors import FleetcheckError
from fleetcheck.facts.builtin import EDGE, EDGE_READS
from fleetcheck.facts.edge import (
    Area,
    Detection,
    Version,
    area_noun,
    detect,
    parse_declared,
    standard_field,
)
from fleetcheck.outcomes import name_list

__all__ = ["detect", "test_ingress_matches_fleet", "test_mesh_matches_fleet"]

_READS = list(EDGE_READS)


def _detection(cluster: ClusterView) -> Detection:
    return cluster.fact(EDGE)


# -- the verdict -------------------------------------------------------------------------------------


def _runs(area: Area, product: str) -> Callable[[Detection], bool]:
    def runs(detection: Detection) -> bool:
        return product in detection.of(area)

    return runs


def _show_runs(runs: bool) -> str:
    return "runs it" if runs else "does not"


def _required(area: Area, cluster: ClusterView, fleet: FleetView) -> tuple[list[str], str]:
    """(products the cluster must run, who says so), product by product by the one rule; skips when undecided."""
    profile = cluster.profile
    declared_text = getattr(profile.standards, area)
    if declared_text:
        product, _ = parse_declared(area, declared_text, profile.source or profile.name)
        return [product], f"declared by profile {profile.name} ({standard_field(area)})"
    seen: set[str] = set()
    named = fleet.reference(cluster)
    reference = [fleet.get(named[0])] if named and named[0] in {c.name for c in fleet} else []
    for peer in [*fleet.cohort(cluster), *reference]:
        with contextlib.suppress(FleetcheckError):
            seen.update(_detection(peer).of(area))
    required: list[str] = []
    sources: list[str] = []
    splits: list[str] = []
    probe = fleet.standard(cluster, EDGE, lambda d: True)  # alone, reference itself or unreadable: said here
    for product in sorted(seen):
        standard = fleet.compare(cluster, EDGE, _runs(area, product), show=_show_runs)
        if standard.decided and standard.expected:
            required.append(product)
            sources.append(standard.says)
        elif not standard.decided:
            runs = standard.groups.get(_show_runs(True), ())
            splits.append(f"{product} on {len(runs)} ({n_list(runs)})")
    if required:
        return required, sources[0] if len(set(sources)) == 1 else "; ".join(dict.fromkeys(sources))
    if splits:
        skip(
            f"no fleet standard {area_noun(area)}: no product is run by more than half of the "
            f"{len(probe.holders)} clusters of cohort {probe.cohort} ({'; '.join(splits)}){probe.not_counted_text}; "
            f"declare {standard_field(area)} in profile {profile.name} or name a reference cluster "
            "(--reference-cluster NAME, or reference_cluster in the profile)"
        )
    skip(
        f"most clusters of cohort {probe.cohort} run no {area_noun(area)} (no product on more than half of its "
        f"{len(probe.holders)} readable clusters{probe.not_counted_text}): there is no standard"
    )


def n_list(names: tuple[str, ...]) -> str:
    """Cluster names for a message, ``and N more`` past six."""
    return name_list(names, 6)


def _minor_of(area: Area, product: str) -> Callable[[Detection], Version | None]:
    """A cluster's minor of ``product`` (None when it does not run it, or runs it without a known version)."""

    def minor(detection: Detection) -> Version | None:
        minors = {
            (c.version.major, c.version.minor) for c in detection.of(area).get(product, []) if c.version is not None
        }
        if len(minors) != 1:  # none known, or several revisions at once (each judged, none votes)
            return None
        major, minor_ = minors.pop()
        return Version(major, minor_)

    return minor


def judge(area: Area, cluster: ClusterView, fleet: FleetView) -> None:
    """The shared verdict of FC-INGRESS-001 and FC-MESH-001 (raises fail/skip, returns on pass)."""
    what = area_noun(area)
    mine = _detection(cluster).of(area)
    profile = cluster.profile
    declared_text = getattr(profile.standards, area)
    declared_minor: Version | None = None
    if declared_text:
        _, declared_minor = parse_declared(area, declared_text, profile.source or profile.name)
    products, says = _required(area, cluster, fleet)
    expected = " + ".join(products) + (f"@{declared_minor.minor_version}" if declared_minor is not None else "")
    missing = [p for p in products if p not in mine]
    if missing:
        components = [c for found in mine.values() for c in found]
        if not components:
            fail(f"no {what} found; expected {expected} ({says})")
        fail(
            f"{what} is {', '.join(c.describe() for c in components)}, not {' + '.join(missing)}; expected the fleet "
            f"standard {expected} ({says})",
            list(dict.fromkeys(c.source.split(" ", 1)[0] for c in components)),
        )
    problems: list[tuple[str, str]] = []
    undecided: list[str] = []
    for product in products:
        version_standard = fleet.compare(
            cluster,
            EDGE,
            _minor_of(area, product),
            declared=declared_minor,
            declared_as=standard_field(area) if declared_minor else f"{standard_field(area)}: {product}@MINOR",
            show=lambda v: v.minor_version,
        )
        if not version_standard.decided:
            if version_standard.kind == "reference-unreadable":
                raise FleetcheckError(version_standard.source)
            if version_standard.kind != "alone":  # nobody else runs it with a known version: nothing to compare
                undecided.append(f"{product} version: {version_standard.says}")
            continue
        target, source = version_standard.expected, version_standard.says
        for component in mine[product]:
            if component.version is None:
                undecided.append(
                    f"{component.describe()}: version unknown ({component.version_note}); the standard is "
                    f"{target.minor_version} ({source})"
                )
                continue
            distance = component.version.minor - target.minor
            if component.version.major != target.major or abs(distance) > 1:
                how = (
                    "another major version than"
                    if component.version.major != target.major
                    else f"{abs(distance)} minors {'behind' if distance < 0 else 'ahead of'}"
                )
                problems.append(
                    (
                        component.source.split(" ", 1)[0],
                        f"{component.describe()} is {how} the standard {target.minor_version} ({source}); "
                        f"expected {target.minor_version} +/- 1 minor",
                    )
                )
    if problems:
        fail("; ".join(text for _, text in problems), list(dict.fromkeys(obj for obj, _ in problems)))
    if undecided:
        skip(f"{what} {' + '.join(products)} matches the fleet; version not judged: {'; '.join(undecided)}")


# -- the checks --------------------------------------------------------------------------------------


@check(
    "FC-INGRESS-001",
    title="Ingress controller differs from the fleet standard",
    factor="boring",
    severity="medium",
    scope="fleet",
    reads=_READS,
    success="the ingress controller is the fleet standard, within one minor of its version",
)
def test_ingress_matches_fleet(cluster: ClusterView, fleet: FleetView) -> None:
    """The ingress controller, or its version, differs from the fleet standard.

    What: ingress controllers are detected from Deployment and DaemonSet
    images (ingress-nginx, F5 NGINX, Traefik, HAProxy, HAProxy Ingress,
    Contour, the AWS Load Balancer Controller, Kong, an Istio ingress
    gateway) and from IngressClasses (``spec.controller``; managed ones such
    as Cilium's or Azure's too, without a version). The standard is the
    profile's ``standards.ingress`` (``ingress-nginx`` or
    ``ingress-nginx@1.11``), else what most clusters of the same profile run;
    no controller counts as an option, and an even split is said, not
    guessed (skip). A cluster without the standard controller fails (also
    when it has none at all); one running it more than one minor from the
    standard version (declared, else the peers' most common minor) fails.
    A second controller beside the standard one is not flagged (the AWS
    Load Balancer Controller often runs beside an in-cluster proxy).
    Why: an outlier ingress controller interprets the same Ingress
    differently: annotations (``nginx.ingress.kubernetes.io/*``) are ignored
    elsewhere, path matching, TLS defaults and timeouts differ, so an
    application that works on one cluster breaks after a failover to
    another. Several minors behind means missed CVE fixes (ingress-nginx
    has had critical ones) and an upgrade that can no longer be done in one
    step.
    Fix: install the fleet's ingress controller from the platform's GitOps
    repository and move the cluster's Ingresses to its IngressClass;
    upgrade one minor at a time to the standard; declare the standard in the
    profile (``standards: {ingress: ingress-nginx@1.11}``) when the fleet
    moves, so laggards are flagged rather than leaders.
    References: https://kubernetes.io/docs/concepts/services-networking/ingress-controllers/ ;
    https://kubernetes.io/docs/concepts/services-networking/ingress/#ingress-class ;
    https://github.com/kubernetes/ingress-nginx#supported-versions-table
    """
    judge("ingress", cluster, fleet)


@check(
    "FC-MESH-001",
    title="Service mesh differs from the fleet standard",
    factor="boring",
    severity="medium",
    scope="fleet",
    reads=_READS,
    success="the service mesh is the fleet standard, within one minor of its version",
)
def test_mesh_matches_fleet(cluster: ClusterView, fleet: FleetView) -> None:
    """The service mesh, or its version, differs from the fleet standard.

    What: service meshes are detected from their control planes: Istio
    (``istiod``, image ``istio/pilot``), Linkerd (``linkerd/controller``,
    ``stable-X.Y.Z`` tags), Consul (``consul-k8s-control-plane``), Kuma
    (``kuma-cp``), and Cilium's service mesh (``cilium-config`` with
    ``enable-envoy-config``, ``enable-gateway-api`` or ``mesh-auth-enabled``;
    version from the cilium agent image). The standard is the profile's
    ``standards.mesh`` (``istio`` or ``istio@1.22``), else what most clusters
    of the same profile run, no mesh being an option; an even split is
    said, not guessed (skip). A cluster without the standard mesh fails,
    and so does a control plane more than one minor from the standard
    version (each revision of a canary-upgraded Istio is judged).
    Why: the mesh carries mTLS, retries, timeouts and authorisation
    policies; a cluster without it (or with another one) silently drops
    the encryption and policies the fleet relies on, and a failover to it
    changes how every request behaves. Meshes support a narrow version
    skew between control plane and sidecars, so a control plane far from
    the fleet's cannot share its upgrade path.
    Fix: install the fleet's mesh from the platform's GitOps repository (or
    remove a stray one), upgrade one minor at a time (Istio: revisioned
    canary upgrades), and declare the standard in the profile
    (``standards: {mesh: istio@1.22}``).
    References: https://istio.io/latest/docs/releases/supported-releases/ ;
    https://linkerd.io/releases/ ;
    https://docs.cilium.io/en/stable/network/servicemesh/
    """
    judge("mesh", cluster, fleet)
