"""Names of Kubernetes resources, and how a check spells the kinds it reads.

A check names a kind the way a person types it to kubectl: ``pods``,
``apps/v1 daemonsets``, ``daemonsets.apps`` or ``velero.io/v1 schedules``.
Everything below (the live client, the snapshot loader, the replay server)
identifies a resource by :attr:`ResourceRef.key`, which leaves the version
out, because the same objects are served under several versions over the
life of a fleet (``extensions/v1beta1`` DaemonSets on a v1.8 cluster are the
``apps/v1`` DaemonSets of a v1.31 one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "BUILTIN_GROUPS",
    "KNOWN_KINDS",
    "ResourceRef",
    "canonical_key",
    "guess_plural",
    "is_builtin",
    "kind_key",
    "parse_kind",
    "ref_for_object",
    "split_api_version",
]


@dataclass(frozen=True)
class ResourceRef:
    """One kind of API resource, version-agnostic in its identity.

    ``version`` is the version to ask for when nothing better is known
    (discovery on a live cluster picks the version the server prefers).
    ``legacy_groups`` are older groups that served the same objects, so old
    snapshots and old clusters still answer for the modern name.
    """

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True
    legacy_groups: tuple[str, ...] = ()
    short_names: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """Identity used for caches and indexes: ``plural`` or ``plural.group``."""
        return self.plural if not self.group else f"{self.plural}.{self.group}"

    @property
    def group_version(self) -> str:
        """``v1`` for core, ``group/version`` otherwise."""
        return self.version if not self.group else f"{self.group}/{self.version}"

    @property
    def spec(self) -> str:
        """The spelling a check would write, e.g. ``velero.io/v1 schedules``."""
        return self.plural if not self.group else f"{self.group_version} {self.plural}"

    def list_path(self, version: str | None = None, namespace: str | None = None) -> str:
        """The REST path that lists this kind (cluster-wide unless ``namespace``)."""
        ver = version or self.version
        base = f"/api/{ver}" if not self.group else f"/apis/{self.group}/{ver}"
        if namespace and self.namespaced:
            return f"{base}/namespaces/{namespace}/{self.plural}"
        return f"{base}/{self.plural}"


def _k(
    group: str,
    version: str,
    plural: str,
    kind: str,
    namespaced: bool = True,
    legacy: tuple[str, ...] = (),
    short: tuple[str, ...] = (),
) -> ResourceRef:
    return ResourceRef(group, version, plural, kind, namespaced, legacy, short)


#: Kinds fleetcheck knows by name. Anything else is resolved from its spelling
#: (``group/version plural``) and from discovery.
KNOWN_KINDS: tuple[ResourceRef, ...] = (
    _k("", "v1", "pods", "Pod", short=("po",)),
    _k("", "v1", "nodes", "Node", False, short=("no",)),
    _k("", "v1", "namespaces", "Namespace", False, short=("ns",)),
    _k("", "v1", "configmaps", "ConfigMap", short=("cm",)),
    _k("", "v1", "services", "Service", short=("svc",)),
    _k("", "v1", "endpoints", "Endpoints", short=("ep",)),
    _k("", "v1", "serviceaccounts", "ServiceAccount", short=("sa",)),
    _k("", "v1", "secrets", "Secret"),
    _k("", "v1", "resourcequotas", "ResourceQuota", short=("quota",)),
    _k("", "v1", "limitranges", "LimitRange", short=("limits",)),
    _k("", "v1", "persistentvolumes", "PersistentVolume", False, short=("pv",)),
    _k("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", short=("pvc",)),
    _k("", "v1", "events", "Event", short=("ev",)),
    _k("apps", "v1", "deployments", "Deployment", legacy=("extensions",), short=("deploy",)),
    _k("apps", "v1", "daemonsets", "DaemonSet", legacy=("extensions",), short=("ds",)),
    _k("apps", "v1", "replicasets", "ReplicaSet", legacy=("extensions",), short=("rs",)),
    _k("apps", "v1", "statefulsets", "StatefulSet", short=("sts",)),
    _k("batch", "v1", "jobs", "Job"),
    _k("batch", "v1", "cronjobs", "CronJob", short=("cj",)),
    _k("coordination.k8s.io", "v1", "leases", "Lease"),
    _k("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False),
    _k("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False),
    _k("rbac.authorization.k8s.io", "v1", "roles", "Role"),
    _k("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding"),
    _k("storage.k8s.io", "v1", "storageclasses", "StorageClass", False, short=("sc",)),
    _k("storage.k8s.io", "v1", "csidrivers", "CSIDriver", False),
    _k("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", False, short=("pc",)),
    _k(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        False,
        short=("crd", "crds"),
    ),
    _k("networking.k8s.io", "v1", "ingresses", "Ingress", legacy=("extensions",), short=("ing",)),
    _k("networking.k8s.io", "v1", "ingressclasses", "IngressClass", False),
    _k("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", short=("netpol",)),
    _k("snapshot.storage.k8s.io", "v1", "volumesnapshotclasses", "VolumeSnapshotClass", False),
    _k("velero.io", "v1", "backups", "Backup"),
    _k("velero.io", "v1", "schedules", "Schedule"),
    _k("velero.io", "v1", "restores", "Restore"),
    _k("velero.io", "v1", "backupstoragelocations", "BackupStorageLocation", short=("bsl",)),
    _k("velero.io", "v1", "volumesnapshotlocations", "VolumeSnapshotLocation", short=("vsl",)),
    _k("monitoring.coreos.com", "v1", "prometheuses", "Prometheus"),
    _k("monitoring.coreos.com", "v1alpha1", "prometheusagents", "PrometheusAgent"),
    _k("opentelemetry.io", "v1beta1", "opentelemetrycollectors", "OpenTelemetryCollector"),
    _k("operator.victoriametrics.com", "v1beta1", "vmagents", "VMAgent"),
    _k("monitoring.grafana.com", "v1alpha1", "metricsinstances", "MetricsInstance"),
    _k("argoproj.io", "v1alpha1", "applications", "Application"),
    _k("cluster.x-k8s.io", "v1beta1", "clusters", "Cluster"),
    # admission, discovery, drains, aggregation and certificates (issue 16: checks/test_webhooks.py ...)
    _k(
        "admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations", "ValidatingWebhookConfiguration", False
    ),
    _k("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", "MutatingWebhookConfiguration", False),
    _k("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice"),
    _k("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", short=("pdb",)),
    _k("apiregistration.k8s.io", "v1", "apiservices", "APIService", False),
    _k("cert-manager.io", "v1", "certificates", "Certificate", short=("cert",)),
)

_BY_KEY: dict[str, ResourceRef] = {ref.key: ref for ref in KNOWN_KINDS}
_BY_KIND: dict[tuple[str, str], ResourceRef] = {}
for _ref in KNOWN_KINDS:
    for _group in (_ref.group, *_ref.legacy_groups):
        _BY_KIND.setdefault((_group, _ref.kind), _ref)
_LEGACY_KEY: dict[str, str] = {f"{ref.plural}.{legacy}": ref.key for ref in KNOWN_KINDS for legacy in ref.legacy_groups}
_BY_ALIAS: dict[str, ResourceRef] = {}
for _ref in KNOWN_KINDS:
    for _alias in (_ref.plural, _ref.kind.lower(), *_ref.short_names):
        _BY_ALIAS.setdefault(_alias, _ref)

_SPEC_GV = re.compile(r"^(?:(?P<group>[a-z0-9.-]+)/)?(?P<version>v[0-9a-z]+)\s+(?P<plural>[a-z0-9-]+)$")
_SPEC_DOTTED = re.compile(r"^(?P<plural>[a-z0-9-]+)\.(?P<group>[a-z0-9.-]+\.[a-z0-9.-]+|apps|batch|extensions)$")


def guess_plural(kind: str) -> str:
    """Kubernetes' own guess of a resource name from a Kind (``UnsafeGuessKindToResource``)."""
    lower = kind.lower()
    if lower == "endpoints":
        return lower
    if lower.endswith("s"):
        return lower + "es"
    if lower.endswith("y"):
        return lower[:-1] + "ies"
    return lower + "s"


def split_api_version(api_version: str) -> tuple[str, str]:
    """``apps/v1`` -> (``apps``, ``v1``); ``v1`` -> (``""``, ``v1``)."""
    if "/" in api_version:
        group, version = api_version.split("/", 1)
        return group, version
    return "", api_version


def canonical_key(group: str, plural: str) -> str:
    """The modern key for a group + plural, mapping legacy groups (``extensions``)."""
    key = plural if not group else f"{plural}.{group}"
    return _LEGACY_KEY.get(key, key) if key not in _BY_KEY else key


def ref_for_object(api_version: str, kind: str) -> ResourceRef:
    """The resource an object belongs to, from its ``apiVersion`` and ``kind``."""
    group, version = split_api_version(api_version)
    known = _BY_KIND.get((group, kind))
    if known is not None:
        return known
    return ResourceRef(group, version, guess_plural(kind), kind)


def parse_kind(spec: str | ResourceRef) -> ResourceRef:
    """Resolve what a check wrote (``pods``, ``apps/v1 daemonsets``, ``schedules.velero.io``).

    Raises ``ValueError`` with the accepted spellings when ``spec`` is none of them.
    """
    if isinstance(spec, ResourceRef):
        return spec
    text = spec.strip()
    lowered = text.lower()
    if lowered in _BY_ALIAS:
        return _BY_ALIAS[lowered]
    if lowered in _BY_KEY:
        return _BY_KEY[lowered]
    match = _SPEC_GV.match(text)
    if match:
        group = match["group"] or ""
        key = canonical_key(group, match["plural"])
        known = _BY_KEY.get(key)
        if known is not None:
            return ResourceRef(
                known.group,
                match["version"],
                known.plural,
                known.kind,
                known.namespaced,
                known.legacy_groups,
                known.short_names,
            )
        plural = match["plural"]
        kind = plural[:-1].capitalize() if plural.endswith("s") else plural.capitalize()
        return ResourceRef(group, match["version"], plural, kind)
    match = _SPEC_DOTTED.match(lowered)
    if match:
        key = canonical_key(match["group"], match["plural"])
        if key in _BY_KEY:
            return _BY_KEY[key]
    raise ValueError(
        f"unknown kind {spec!r}: write a known name (pods, daemonsets, leases, ...) "
        "or 'group/version plural' such as 'velero.io/v1 schedules'"
    )


#: API groups every Kubernetes API server serves itself (not CRDs). A snapshot
#: that has no file for a built-in kind means "zero objects"; for a CRD group
#: it means "not installed".
BUILTIN_GROUPS: frozenset[str] = frozenset(
    {
        "",
        "apps",
        "batch",
        "extensions",
        "coordination.k8s.io",
        "rbac.authorization.k8s.io",
        "storage.k8s.io",
        "apiextensions.k8s.io",
        "networking.k8s.io",
        "policy",
        "autoscaling",
        "discovery.k8s.io",
        "events.k8s.io",
        "scheduling.k8s.io",
        "node.k8s.io",
        "certificates.k8s.io",
        "admissionregistration.k8s.io",
        "apiregistration.k8s.io",
        "authentication.k8s.io",
        "authorization.k8s.io",
        "flowcontrol.apiserver.k8s.io",
    }
)


def is_builtin(ref: ResourceRef) -> bool:
    """Whether the API server serves ``ref`` itself, so it is always present."""
    return ref.group in BUILTIN_GROUPS


#: a resource name as kubectl takes it: ``pods``, ``daemonsets.apps``, ``schedules.velero.io``
_RESOURCE_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}(?:\.[a-z0-9][a-z0-9.-]{0,252})?$")


def kind_key(spec: str) -> str:
    """The snapshot key (``ResourceRef.key``) of a kind as ``cluster.yaml`` or sonobuoy spell it.

    Raises ``ValueError`` when ``spec`` names no resource.
    """
    try:
        ref = parse_kind(spec.strip().lower())
    except ValueError:
        text = spec.strip().lower()
        if not _RESOURCE_KEY.match(text):
            raise
        plural, _, group = text.partition(".")
        return canonical_key(group, plural)
    return canonical_key(ref.group, ref.plural)
