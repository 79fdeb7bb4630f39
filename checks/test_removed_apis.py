"""Removed APIs still in use that block the cluster's next minor (FC-API-*)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from fleetcheck import ClusterView, Findings, check, object_ref, skip
from fleetcheck.errors import ConfigError
from fleetcheck.facts.webhooks import WEBHOOK_KINDS
from fleetcheck.redact import redact
from fleetcheck.reference_data import ApiRemoval, api_removals, minor_key

CRDS = "apiextensions.k8s.io/v1 customresourcedefinitions"
#: the kinds FC-API-002 lists to read managedFields from, with the Kind the removal table names
MANAGED_KINDS: dict[str, str] = {
    "batch/v1 cronjobs": "CronJob",
    "policy/v1 poddisruptionbudgets": "PodDisruptionBudget",
    "networking.k8s.io/v1 ingresses": "Ingress",
    CRDS: "CustomResourceDefinition",
    WEBHOOK_KINDS[0]: "ValidatingWebhookConfiguration",
    WEBHOOK_KINDS[1]: "MutatingWebhookConfiguration",
    "apiregistration.k8s.io/v1 apiservices": "APIService",
}
_MAX_MANAGED = 64


@check(
    "FC-API-001",
    title="CRD stores objects in a version it no longer serves or has deprecated",
    factor="boring",
    severity="high",
    reads=[CRDS],
    success="every CRD's stored versions are served and not deprecated",
)
def test_crd_stored_versions_are_served(cluster: ClusterView) -> None:
    """A CustomResourceDefinition's ``status.storedVersions`` names a version that is not served, or is deprecated.

    What: for every CRD, each version in ``status.storedVersions`` (the
    versions objects may still be stored as in etcd) must be in
    ``spec.versions`` with ``served: true`` and without ``deprecated:
    true``. A stored version that is gone, unserved or deprecated fails,
    naming it. Counts toward *boring*: it is what stops an add-on (and with
    it the cluster) from moving to the version the rest of the fleet runs.
    Why: the next release of the add-on drops that version from the CRD,
    and the API server refuses the CRD update ("must have exactly one
    version marked as storage version" / "status.storedVersions[0]: Invalid
    value: must appear in spec.versions"), so the upgrade fails half-way;
    where it goes through, objects still stored in the old version can no
    longer be read. cert-manager's v1alpha2 removal and Istio, Argo and
    Velero upgrades hit this again and again.
    Fix: rewrite every object in the current storage version (the
    kube-storage-version-migrator, or ``kubectl get KIND -A -o json |
    kubectl replace -f -``), then drop the old version from
    ``status.storedVersions`` (``kubectl patch crd NAME --subresource=status
    --type=merge -p '{"status":{"storedVersions":["v1"]}}'``).
    References: https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/ ;
    https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definition-versioning/ ;
    https://cert-manager.io/docs/releases/upgrading/remove-deprecated-apis/
    """
    crds = cluster.list(CRDS)
    if not crds:
        skip("no CustomResourceDefinitions")
    findings = Findings()
    for crd in crds:
        versions = {
            str(v.get("name")): v for v in ((crd.get("spec") or {}).get("versions") or [])[:64] if isinstance(v, dict)
        }
        stored = [str(s) for s in ((crd.get("status") or {}).get("storedVersions") or [])[:64]]
        problems = []
        for name in stored:
            version = versions.get(name)
            if version is None:
                problems.append(f"stored version {name} is no longer in spec.versions")
            elif not version.get("served", False):
                problems.append(f"stored version {name} is not served")
            elif version.get("deprecated"):
                problems.append(f"stored version {name} is deprecated")
        if problems:
            findings.add(object_ref(crd, "CustomResourceDefinition"), redact("; ".join(problems)))
    findings.raise_if_any(
        f"{len(findings)} of {len(crds)} CRDs still store objects in a version that is going away; expected every "
        "stored version served and current (migrate the objects, then trim status.storedVersions)"
    )


class RemovedApiSettings(BaseModel):
    """Target minor and extra table rows of FC-API-002."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target_minor: str | None = Field(
        default=None, pattern=r"^\d+\.\d+$", description="the minor to upgrade to (default: the cluster's next)"
    )
    extra_removals: list[ApiRemoval] = Field(
        default_factory=list, description="rows added to the shipped api_removals.yaml table"
    )


def _target(cluster: ClusterView, settings: RemovedApiSettings) -> tuple[tuple[int, int], str]:
    version = cluster.version
    current = (version.major, version.minor)
    if settings.target_minor:
        target = minor_key(settings.target_minor)
        if target <= current:
            profile = cluster.profile
            raise ConfigError(
                profile.source or profile.name,
                "settings.FC-API-002.target_minor",
                f"{settings.target_minor} is not newer than the cluster's {current[0]}.{current[1]}",
                "name the minor you are upgrading to",
            )
        return target, f"{settings.target_minor} (profile setting target_minor)"
    target = (current[0], current[1] + 1)
    return target, f"{target[0]}.{target[1]} (the cluster's next minor)"


@check(
    "FC-API-002",
    title="Objects written through an API the next minor removes",
    factor="boring",
    severity="high",
    reads=list(MANAGED_KINDS),
    settings=RemovedApiSettings,
    success="no object was written through an API the target minor removes",
)
def test_no_writes_through_apis_the_target_removes(cluster: ClusterView, settings: RemovedApiSettings) -> None:
    """An object's ``metadata.managedFields`` shows a client writing it through an API the target minor removes.

    What: the target is the profile's ``target_minor`` or the cluster's next
    minor. The upstream removal table (``api_removals.yaml``, shipped with
    its source and date; ``fleetcheck explain FC-API-002`` prints it; a
    profile adds rows with ``extra_removals``) gives the group/versions
    removed after the cluster's minor and up to the target. For the kinds
    listed here (CronJobs, PodDisruptionBudgets, Ingresses, CRDs, webhook
    configurations, APIServices), every ``managedFields`` entry's
    ``apiVersion`` is compared with them: an entry written through one of
    those APIs means a client (named by ``manager``) still uses it and will
    break on the upgrade. Entries for APIs removed at or before the
    cluster's own minor are old history (the API server keeps them), not
    clients, and are not counted. The scan's slim projection keeps
    ``managedFields``' ``manager`` and ``apiVersion``
    (``fleetcheck/state/projection.py``), which is all this reads. Rows for
    kinds not listed here (HorizontalPodAutoscaler, FlowSchema ...) are not
    judged. Counts toward *boring*: a blocked upgrade leaves the cluster
    behind the fleet's minor.
    Why: after the upgrade the API server answers 404 for the removed
    version: the CI pipeline, Helm release or operator still sending
    ``policy/v1beta1`` or ``batch/v1beta1`` fails, often only at the next
    deploy, days after the upgrade was declared done. Pluto and kubent
    exist for this; the managedFields record shows the live writers.
    Fix: update the client named by ``manager`` (chart, operator, CI
    manifests) to the replacement API the finding names, before upgrading.
    References: https://kubernetes.io/docs/reference/using-api/deprecation-guide/ ;
    https://kubernetes.io/docs/reference/using-api/server-side-apply/#field-management
    """
    table = api_removals()
    current = (cluster.version.major, cluster.version.minor)
    target, target_source = _target(cluster, settings)
    rows = [r for r in [*table.entries, *settings.extra_removals] if current < minor_key(r.removed_in) <= target]
    if not rows:
        return  # the table lists no API removed after this minor up to the target: nothing can block it
    removed = {(r.api_version, kind): r for r in rows for kind in r.kinds}
    findings = Findings()
    scanned = 0
    for spelling, kind in MANAGED_KINDS.items():
        for obj in cluster.list(spelling):
            scanned += 1
            managers: dict[str, ApiRemoval] = {}
            for entry in ((obj.get("metadata") or {}).get("managedFields") or [])[:_MAX_MANAGED]:
                if not isinstance(entry, dict):
                    continue
                row = removed.get((str(entry.get("apiVersion", "")), kind))
                if row is not None:
                    managers[str(entry.get("manager", "?"))[:100]] = row
            if managers:
                detail = "; ".join(
                    f"{manager} writes it as {row.api_version} (removed in {row.removed_in}; use {row.replacement})"
                    for manager, row in sorted(managers.items())
                )
                findings.add(object_ref(obj, kind), redact(detail))
    findings.raise_if_any(
        f"{len(findings)} of {scanned} objects are still written through APIs that {target_source} removes "
        f"({table.citation()}); expected every client on the replacement API before the upgrade"
    )
