"""CustomResourceDefinitions of the add-ons (Velero, Prometheus Operator, the CNI).

Checks decide whether an add-on is installed by its CRDs (FC-BACKUP-001 looks
for ``*.velero.io``), so each add-on template registers its CRDs here. The
schemas are left open (``x-kubernetes-preserve-unknown-fields``): real ones
are hundreds of kilobytes that no check reads.
"""

from __future__ import annotations

from fleetcheck.demo.build import DAY, ClusterBuild

__all__ = ["add_crds"]


def add_crds(
    build: ClusterBuild,
    group: str,
    kinds: list[tuple[str, str]],
    *,
    version: str = "v1",
    labels: dict[str, str] | None = None,
    cluster_scoped: frozenset[str] = frozenset(),
) -> None:
    """One Established CRD per ``(Kind, plural)`` of ``group``, served at ``version``."""
    age = build.rng.uniform(200, 500) * DAY
    for kind, plural in kinds:
        scope = "Cluster" if kind in cluster_scoped else "Namespaced"
        names = {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower()}
        build.add(
            {
                "apiVersion": "apiextensions.k8s.io/v1",
                "kind": "CustomResourceDefinition",
                "metadata": build.metadata(
                    f"{plural}.{group}", age=age, labels=labels, generation=build.rng.randint(1, 4)
                ),
                "spec": {
                    "conversion": {"strategy": "None"},
                    "group": group,
                    "names": names,
                    "scope": scope,
                    "versions": [
                        {
                            "name": version,
                            "schema": {
                                "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                            },
                            "served": True,
                            "storage": True,
                            "subresources": {"status": {}},
                        }
                    ],
                },
                "status": {
                    "acceptedNames": names,
                    "conditions": [
                        {
                            "lastTransitionTime": build.ts(age - 5),
                            "message": "no conflicts found",
                            "reason": "NoConflicts",
                            "status": "True",
                            "type": "NamesAccepted",
                        },
                        {
                            "lastTransitionTime": build.ts(age - 5),
                            "message": "the initial names have been accepted",
                            "reason": "InitialNamesAccepted",
                            "status": "True",
                            "type": "Established",
                        },
                    ],
                    "storedVersions": [version],
                },
            }
        )
