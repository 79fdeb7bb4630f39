"""Operations dimensions: APIs and storage, backups, telemetry, GitOps, certificates and images.

Each reuses the parser the matching cluster check uses (:mod:`fleetcheck.facts.velero`,
:mod:`fleetcheck.facts.telemetry`, :mod:`fleetcheck.facts.ownership`,
:mod:`fleetcheck.facts.workloads`, :mod:`fleetcheck.core.imageref`) behind a fact that
reads only its kinds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fleetcheck.core import imageref
from fleetcheck.facts import ownership, telemetry, velero, workloads
from fleetcheck.facts.dimensions.base import MAX_SCANNED, Digest, Dimension, DimValue, clip, item_set
from fleetcheck.facts.dimensions.network import ADDONS, AddonImages
from fleetcheck.facts.key import Fact, FactInput

__all__ = ["DIMENSIONS"]

Obj = dict[str, Any]
Items = tuple[str, ...] | Digest
CRDS = "apiextensions.k8s.io/v1 customresourcedefinitions"
CSI_DRIVERS = "storage.k8s.io/v1 csidrivers"
PRIORITY_CLASSES = "scheduling.k8s.io/v1 priorityclasses"
_DEFAULT_CLASS = ("storageclass.kubernetes.io/is-default-class", "storageclass.beta.kubernetes.io/is-default-class")


def _meta(obj: Obj) -> Obj:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _spec(obj: Obj) -> Obj:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def _bounded(objects: list[Obj]) -> list[Obj]:
    return objects[:MAX_SCANNED]


def _listing_fact(name: str, doc: str, kind: str, items: Callable[[list[Obj]], Iterator[str]]) -> Fact[Items]:
    """A fact that is one set of items from one kind."""

    def extract(source: FactInput) -> Items:
        return item_set(items(_bounded(source.list(kind))), what=kind)

    return Fact(name, doc, (kind,), extract)


def _crd_names(crds: list[Obj]) -> Iterator[str]:
    for crd in crds:
        yield str(_meta(crd).get("name", "?"))


def _crd_versions(crds: list[Obj]) -> Iterator[str]:
    for crd in crds:
        versions = _spec(crd).get("versions")
        served = [str(v.get("name")) for v in (versions or [])[:32] if isinstance(v, dict) and v.get("served")]
        stored = (crd.get("status") or {}).get("storedVersions") or []
        stored_names = [str(s) for s in stored[:32]] if isinstance(stored, list) else []
        yield f"{_meta(crd).get('name', '?')} served {','.join(served) or '-'} stored {','.join(stored_names) or '-'}"


def _storage_classes(classes: list[Obj]) -> Iterator[str]:
    for sc in classes:
        yield f"{_meta(sc).get('name', '?')} ({sc.get('provisioner', '?')})"


def _default_class(classes: list[Obj]) -> Iterator[str]:
    for sc in classes:
        annotations = _meta(sc).get("annotations")
        if isinstance(annotations, dict) and any(str(annotations.get(a)).lower() == "true" for a in _DEFAULT_CLASS):
            yield f"{sc.get('provisioner', '?')}"


def _names(objects: list[Obj]) -> Iterator[str]:
    for obj in objects:
        yield str(_meta(obj).get("name", "?"))


def _priority_classes(classes: list[Obj]) -> Iterator[str]:
    for pc in classes:
        name = str(_meta(pc).get("name", "?"))
        if not name.startswith("system-"):
            yield f"{name}={pc.get('value', '?')}"


def _schedules(schedules: list[Obj]) -> Iterator[str]:
    for schedule in schedules:
        scope = velero.ScheduleScope.from_object(schedule)
        paused = " (paused)" if scope.paused else ""
        yield f"{scope.name} {_spec(schedule).get('schedule', '?')}{paused}"


def _bsl_providers(locations: list[Obj]) -> Iterator[str]:
    for location in locations:
        yield str(_spec(location).get("provider", "?"))


CRD_SET = _listing_fact("crds.names", "The names of every CustomResourceDefinition.", CRDS, _crd_names)
CRD_VERSIONS = _listing_fact(
    "crds.versions", "Each CRD's served versions and status.storedVersions.", CRDS, _crd_versions
)
STORAGE_CLASSES = _listing_fact(
    "storage.classes", "Each StorageClass with its provisioner.", "storageclasses", _storage_classes
)
DEFAULT_STORAGE = _listing_fact(
    "storage.default", "The provisioner of the default StorageClass(es).", "storageclasses", _default_class
)
CSI = _listing_fact("csi.drivers", "The CSIDriver objects' names.", CSI_DRIVERS, _names)
PRIORITY = _listing_fact(
    "priority_classes", "Non-system PriorityClasses with their values.", PRIORITY_CLASSES, _priority_classes
)
VELERO_SCHEDULES = _listing_fact(
    "velero.schedules", "Velero Schedules: name, cron, paused.", velero.SCHEDULES, _schedules
)
VELERO_PROVIDERS = _listing_fact(
    "velero.storage_providers", "The providers of Velero's BackupStorageLocations.", velero.BSLS, _bsl_providers
)


def _metrics(source: FactInput) -> Items | None:
    scan = telemetry.metrics_destinations(source.list)
    hosts = [f"{d.via} {telemetry_host(d.url)}" for d in scan.destinations[:MAX_SCANNED]]
    if not hosts and (scan.unresolved or scan.refused):
        return None  # something names a destination we could not resolve: unknown, not "none"
    return item_set(hosts, what="destinations")


def telemetry_host(url: str) -> str:
    """The host (and port) of a destination URL, with no path, query or credentials."""
    rest = url.split("://", 1)[-1]
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
    return clip(host or url)


METRICS: Fact[Items | None] = Fact(
    "metrics.destinations",
    "Where metrics leave the cluster for: Prometheus/agent remoteWrite, OpenTelemetry Collector exporters, "
    "Alloy and Prometheus configs in ConfigMaps (via and host only).",
    telemetry.METRICS_KINDS,
    _metrics,
)


def _log_shippers(source: FactInput) -> Items:
    found = telemetry.find_log_shippers(_bounded(source.list("daemonsets")))
    return item_set((product for product, _ in found), what="log shippers")


LOG_SHIPPERS: Fact[Items] = Fact(
    "logs.shippers", "The log-shipping DaemonSets' products.", ("daemonsets",), _log_shippers
)


def _census(source: FactInput) -> ownership.WorkloadCensus:
    tenant = {
        str(_meta(ns).get("name", ""))
        for ns in _bounded(source.list("namespaces"))
        if not source.profile.is_system_namespace(str(_meta(ns).get("name", "")))
    }
    return ownership.workload_census(source.list, tenant)


GITOPS: Fact[ownership.WorkloadCensus] = Fact(
    "gitops.census",
    "Top-level tenant workloads and the tool managing each (Argo CD, Flux, Helm ...), with the default "
    "ownership rules.",
    (*ownership.WORKLOAD_READS, "namespaces"),
    _census,
)


def _gitops_tools(census: ownership.WorkloadCensus) -> DimValue | None:
    if not census.workloads:
        return None
    return item_set({w.manager.tool for w in census.managed if w.manager is not None}, what="tools")


def _gitops_coverage(census: ownership.WorkloadCensus) -> DimValue | None:
    total = len(census.workloads)
    if total == 0:
        return None
    share = 100 * len(census.managed) // total
    if share == 100:
        return "100%"
    low = share // 10 * 10
    return f"{low}-{low + 9}%"


def _registries(source: FactInput) -> Items:
    found: set[str] = set()
    for image in workloads.container_images(source.list)[:MAX_SCANNED]:
        if not image.image:
            continue
        try:
            found.add(imageref.parse_image_ref(image.image).registry)
        except imageref.ImageRefError:
            found.add("(unparseable reference)")
    return item_set(found, what="registries")


REGISTRIES: Fact[Items] = Fact(
    "images.registries",
    "The registries the images of every workload come from (docker.io for implicit references).",
    workloads.WORKLOAD_KINDS,
    _registries,
)


def _cert_manager(addons: AddonImages) -> DimValue | None:
    return item_set(addons.cert_manager, what="versions")


def _itself(value: Any) -> Any:
    return value


_NEVER = "never (nothing found is the value none); an unreadable kind makes it an error"

DIMENSIONS: tuple[Dimension[Any], ...] = (
    Dimension(
        "crds.names",
        "apis",
        "CRDs",
        "The set of CustomResourceDefinitions (a digest past 12).",
        _NEVER,
        CRD_SET,
        _itself,
    ),
    Dimension(
        "crds.versions",
        "apis",
        "CRD served and stored versions",
        "Each CRD's served versions and storedVersions.",
        _NEVER,
        CRD_VERSIONS,
        _itself,
    ),
    Dimension(
        "storage.classes",
        "storage",
        "Storage classes",
        "Each StorageClass and its provisioner.",
        _NEVER,
        STORAGE_CLASSES,
        _itself,
    ),
    Dimension(
        "storage.default_class",
        "storage",
        "Default storage class provisioner",
        "The provisioner of the default StorageClass (none: PVCs without a class stay Pending).",
        _NEVER,
        DEFAULT_STORAGE,
        _itself,
    ),
    Dimension("csi.drivers", "storage", "CSI drivers", "The CSIDriver objects installed.", _NEVER, CSI, _itself),
    Dimension(
        "priority_classes",
        "apis",
        "PriorityClasses",
        "Non-system PriorityClasses with their values.",
        _NEVER,
        PRIORITY,
        _itself,
    ),
    Dimension(
        "velero.schedules",
        "backup",
        "Velero schedules",
        "Velero Schedules: name, cron, paused.",
        _NEVER + " (no Velero CRDs is none)",
        VELERO_SCHEDULES,
        _itself,
    ),
    Dimension(
        "velero.storage_providers",
        "backup",
        "Velero storage location providers",
        "The providers of the BackupStorageLocations (aws, gcp, azure ...).",
        _NEVER,
        VELERO_PROVIDERS,
        _itself,
    ),
    Dimension(
        "metrics.destinations",
        "telemetry",
        "Metrics destinations",
        "Where metrics are shipped (remoteWrite, OTel exporters, Alloy; via and host).",
        "a configuration names a destination that cannot be resolved (a template, an env reference) and "
        "none other is found",
        METRICS,
        _itself,
        check="FC-OBS-001",
    ),
    Dimension(
        "logs.shippers",
        "telemetry",
        "Log shippers",
        "The log-shipping DaemonSets (Fluent Bit, Vector ...).",
        _NEVER,
        LOG_SHIPPERS,
        _itself,
        check="FC-OBS-002",
    ),
    Dimension(
        "gitops.tools",
        "gitops",
        "GitOps tools",
        "The tools managing tenant workloads (argocd, flux, helm).",
        "no top-level workload in a tenant namespace",
        GITOPS,
        _gitops_tools,
        check="FC-GITOPS-001",
    ),
    Dimension(
        "gitops.coverage",
        "gitops",
        "GitOps coverage",
        "The share of tenant workloads a tool manages, in 10% bands.",
        "no top-level workload in a tenant namespace",
        GITOPS,
        _gitops_coverage,
        check="FC-GITOPS-001",
    ),
    Dimension(
        "cert_manager.version",
        "certificates",
        "cert-manager version",
        "The cert-manager controller's image tag (none: not installed).",
        _NEVER,
        ADDONS,
        _cert_manager,
    ),
    Dimension(
        "images.registries",
        "images",
        "Image registries in use",
        "The registries workload images come from.",
        _NEVER,
        REGISTRIES,
        _itself,
        check="FC-IMG-002",
    ),
)
