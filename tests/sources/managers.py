"""Real-shaped objects of the fleet managers, written as management-cluster snapshot folders.

Shapes follow what the API returns (``kubectl get -o json``): Secrets carry
``data`` in base64, CRDs declare group/versions/scope so the replay server
serves the kind, Cluster API Clusters come in the v1beta2 shape of the
CAPD quick-start and the v1beta1 shape (``status.v1beta2.conditions``), Argo
CD cluster Secrets as its docs show them, Karmada and OCM objects as their
controllers write them.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import orjson
import yaml

Obj = dict[str, Any]
CREATED = "2026-06-01T08:00:00Z"


def b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def _meta(name: str, namespace: str | None = None, **extra: Any) -> Obj:
    meta: Obj = {
        "name": name,
        "uid": f"uid-{namespace or ''}-{name}",
        "resourceVersion": "2001",
        "creationTimestamp": CREATED,
    }
    if namespace:
        meta["namespace"] = namespace
    meta.update({k: v for k, v in extra.items() if v is not None})
    return meta


def crd(group: str, plural: str, kind: str, versions: list[str], *, storage: str, scope: str = "Namespaced") -> Obj:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": _meta(f"{plural}.{group}"),
        "spec": {
            "group": group,
            "names": {"plural": plural, "singular": kind.lower(), "kind": kind, "listKind": f"{kind}List"},
            "scope": scope,
            "versions": [{"name": v, "served": True, "storage": v == storage} for v in versions],
        },
    }


def kubeconfig_text(
    server: str, token: str, ca_pem: bytes, *, cert: bytes | None = None, key: bytes | None = None
) -> str:
    """The kubeconfig Cluster API writes (one cluster, one user, one context, current-context set)."""
    user: Obj = {"token": token}
    if cert is not None and key is not None:
        user["client-certificate-data"] = b64(cert)
        user["client-key-data"] = b64(key)
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "workload", "cluster": {"server": server, "certificate-authority-data": b64(ca_pem)}}],
        "users": [{"name": "workload-admin", "user": user}],
        "contexts": [{"name": "workload-admin@workload", "context": {"cluster": "workload", "user": "workload-admin"}}],
        "current-context": "workload-admin@workload",
    }
    return yaml.safe_dump(doc, sort_keys=False)


def secret(
    namespace: str,
    name: str,
    data: dict[str, str | bytes],
    *,
    type_: str = "Opaque",
    labels: dict[str, str] | None = None,
    raw: dict[str, str] | None = None,
) -> Obj:
    encoded = {k: b64(v) for k, v in data.items()}
    encoded.update(raw or {})
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _meta(name, namespace, labels=labels),
        "type": type_,
        "data": encoded,
    }


def capi_kubeconfig_secret(
    namespace: str, cluster: str, value: str | None = None, *, raw_value: str | None = None
) -> Obj:
    labels = {"cluster.x-k8s.io/cluster-name": cluster}
    if raw_value is not None:
        return secret(
            namespace,
            f"{cluster}-kubeconfig",
            {},
            type_="cluster.x-k8s.io/secret",
            labels=labels,
            raw={"value": raw_value},
        )
    return secret(
        namespace, f"{cluster}-kubeconfig", {"value": value or ""}, type_="cluster.x-k8s.io/secret", labels=labels
    )


def capi_cluster_v1beta2(
    name: str,
    namespace: str,
    *,
    labels: dict[str, str] | None = None,
    version: str = "v1.31.4",
    phase: str = "Provisioned",
    available: str = "True",
) -> Obj:
    """The CAPD quick-start Cluster (corpus 16), with a ClusterClass topology and v1beta2 status."""
    return {
        "apiVersion": "cluster.x-k8s.io/v1beta2",
        "kind": "Cluster",
        "metadata": _meta(name, namespace, labels=labels),
        "spec": {
            "clusterNetwork": {
                "services": {"cidrBlocks": ["10.96.0.0/12"]},
                "pods": {"cidrBlocks": ["192.168.0.0/16"]},
                "serviceDomain": "cluster.local",
            },
            "controlPlaneEndpoint": {"host": f"{name}.clusters.example.com", "port": 6443},
            "controlPlaneRef": {
                "apiGroup": "controlplane.cluster.x-k8s.io",
                "kind": "KubeadmControlPlane",
                "name": f"{name}-cp",
            },
            "infrastructureRef": {"apiGroup": "infrastructure.cluster.x-k8s.io", "kind": "DockerCluster", "name": name},
            "topology": {"classRef": {"name": "quick-start"}, "version": version},
        },
        "status": {
            "phase": phase,
            "initialization": {"infrastructureProvisioned": True, "controlPlaneInitialized": True},
            "conditions": [
                {"type": "Available", "status": available, "reason": "Available", "lastTransitionTime": CREATED},
                {
                    "type": "ControlPlaneAvailable",
                    "status": available,
                    "reason": "Available",
                    "lastTransitionTime": CREATED,
                },
            ],
        },
    }


def capi_cluster_v1beta1(
    name: str, namespace: str, *, labels: dict[str, str] | None = None, host: str = "172.18.0.4"
) -> Obj:
    """A v1beta1 Cluster as CAPI 1.9/1.10 return it: v1beta1 conditions plus the v1beta2 ones backported."""
    return {
        "apiVersion": "cluster.x-k8s.io/v1beta1",
        "kind": "Cluster",
        "metadata": _meta(name, namespace, labels=labels),
        "spec": {
            "clusterNetwork": {"pods": {"cidrBlocks": ["192.168.0.0/16"]}},
            "controlPlaneEndpoint": {"host": host, "port": 6443},
            "controlPlaneRef": {
                "apiVersion": "controlplane.cluster.x-k8s.io/v1beta1",
                "kind": "KubeadmControlPlane",
                "name": f"{name}-cp",
            },
            "infrastructureRef": {
                "apiVersion": "infrastructure.cluster.x-k8s.io/v1beta1",
                "kind": "DockerCluster",
                "name": name,
            },
        },
        "status": {
            "phase": "Provisioned",
            "controlPlaneReady": True,
            "infrastructureReady": True,
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": CREATED}],
            "v1beta2": {
                "conditions": [
                    {"type": "Available", "status": "True", "reason": "Available", "lastTransitionTime": CREATED}
                ]
            },
        },
    }


def argocd_secret(
    name: str, server: str, config: Obj | str, *, display: str | None = None, labels: dict[str, str] | None = None
) -> Obj:
    """An Argo CD cluster Secret (corpus 18), as the API returns it: ``data`` in base64."""
    text = config if isinstance(config, str) else json.dumps(config)
    return secret(
        "argocd",
        name,
        {"name": display or name, "server": server, "config": text},
        labels={"argocd.argoproj.io/secret-type": "cluster", **(labels or {})},
    )


def karmada_cluster(
    name: str, endpoint: str, *, secret_ref: tuple[str, str] | None, labels: dict[str, str] | None = None
) -> Obj:
    spec: Obj = {
        "apiEndpoint": endpoint,
        "syncMode": "Push" if secret_ref else "Pull",
        "provider": "kind",
        "region": "eu-west-1",
    }
    if secret_ref:
        spec["secretRef"] = {"namespace": secret_ref[0], "name": secret_ref[1]}
        spec["impersonatorSecretRef"] = {"namespace": secret_ref[0], "name": f"{secret_ref[1]}-impersonator"}
    return {
        "apiVersion": "cluster.karmada.io/v1alpha1",
        "kind": "Cluster",
        "metadata": _meta(name, labels=labels),
        "spec": spec,
        "status": {
            "kubernetesVersion": "v1.31.4",
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": CREATED}],
        },
    }


def managed_cluster(name: str, url: str, ca_pem: bytes, *, labels: dict[str, str] | None = None) -> Obj:
    return {
        "apiVersion": "cluster.open-cluster-management.io/v1",
        "kind": "ManagedCluster",
        "metadata": _meta(name, labels={"cloud": "Other", "vendor": "Other", "name": name, **(labels or {})}),
        "spec": {
            "hubAcceptsClient": True,
            "leaseDurationSeconds": 60,
            "managedClusterClientConfigs": [{"url": url, "caBundle": b64(ca_pem)}],
        },
        "status": {
            "version": {"kubernetes": "v1.31.4"},
            "conditions": [
                {"type": "ManagedClusterConditionAvailable", "status": "True", "lastTransitionTime": CREATED}
            ],
        },
    }


def rancher_cluster(cluster_id: str, display: str, endpoint: str | None) -> Obj:
    status: Obj = {"version": {"gitVersion": "v1.31.4+rke2r1"}, "conditions": [{"type": "Ready", "status": "True"}]}
    if endpoint:
        status["apiEndpoint"] = endpoint
    return {
        "apiVersion": "management.cattle.io/v3",
        "kind": "Cluster",
        "metadata": _meta(cluster_id, labels={"provider.cattle.io": "rke2", "env": "staging"}),
        "spec": {"displayName": display},
        "status": status,
    }


def write_management(root: Path, name: str, files: dict[str, list[Obj]]) -> Path:
    """A snapshot folder of ``kubectl get KIND -A -o json`` Lists plus ``cluster.yaml``."""
    folder = root / name
    folder.mkdir(parents=True)
    for filename, items in files.items():
        body = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items}
        (folder / filename).write_bytes(orjson.dumps(body))
    (folder / "cluster.yaml").write_text(yaml.safe_dump({"name": name, "serverVersion": "v1.31.4"}), encoding="utf-8")
    return folder


def configmap(namespace: str, name: str, data: dict[str, str]) -> Obj:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(name, namespace), "data": data}


def exec_extension(config: Obj) -> list[Obj]:
    """A provider cluster's ``extensions``: the exec plugin's config, as cluster-inventory-api's plugins read it."""
    return [{"name": "client.authentication.k8s.io/exec", "extension": config}]


def cluster_profile(
    name: str,
    namespace: str,
    *,
    manager: str = "ocm",
    providers: list[Obj] | None = None,
    deprecated_providers: list[Obj] | None = None,
    healthy: str = "True",
    properties: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
) -> Obj:
    """A ClusterProfile (cluster-inventory-api apis/v1alpha1) as a cluster manager publishes it."""
    status: Obj = {
        "conditions": [
            {
                "type": "ControlPlaneHealthy",
                "status": healthy,
                "reason": "ManagedClusterAvailable" if healthy == "True" else "ManagedClusterUnavailable",
                "message": "Managed cluster is available" if healthy == "True" else "Lease not renewed",
                "lastTransitionTime": CREATED,
            }
        ],
        "version": {"kubernetes": "v1.31.4"},
        "properties": [
            {"name": key, "value": value, "lastObservedTime": CREATED} for key, value in (properties or {}).items()
        ],
    }
    if providers is not None:
        status["accessProviders"] = providers
    if deprecated_providers is not None:
        status["credentialProviders"] = deprecated_providers
    return {
        "apiVersion": "multicluster.x-k8s.io/v1alpha1",
        "kind": "ClusterProfile",
        "metadata": _meta(name, namespace, labels={"x-k8s.io/cluster-manager": manager, **(labels or {})}),
        "spec": {"displayName": name, "clusterManager": {"name": manager}},
        "status": status,
    }


def access_provider(name: str, server: str, ca_pem: bytes | None, extension: Obj | None) -> Obj:
    cluster: Obj = {"server": server}
    if ca_pem is not None:
        cluster["certificate-authority-data"] = b64(ca_pem)
    if extension is not None:
        cluster["extensions"] = exec_extension(extension)
    return {"name": name, "cluster": cluster}


def _kubeconfig_ref(secret: str | None, key: str | None, config_map: str | None) -> Obj:
    if config_map is not None:
        return {"configMapRef": {"name": config_map}}
    ref: Obj = {"name": secret}
    if key is not None:
        ref["key"] = key
    return {"secretRef": ref}


def flux_kustomization(
    name: str,
    namespace: str = "flux-system",
    *,
    secret: str | None = None,
    key: str | None = None,
    config_map: str | None = None,
    labels: dict[str, str] | None = None,
) -> Obj:
    """A Flux Kustomization (kustomize.toolkit.fluxcd.io/v1) applying a path to a remote cluster."""
    spec: Obj = {
        "interval": "10m0s",
        "path": f"./clusters/{name}",
        "prune": True,
        "sourceRef": {"kind": "GitRepository", "name": "fleet-infra"},
        "timeout": "5m0s",
    }
    if secret is not None or config_map is not None:
        spec["kubeConfig"] = _kubeconfig_ref(secret, key, config_map)
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": _meta(name, namespace, labels=labels, generation=1),
        "spec": spec,
        "status": {
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "ReconciliationSucceeded",
                    "message": "Applied revision: main@sha1:4b3c2d1e",
                    "lastTransitionTime": CREATED,
                    "observedGeneration": 1,
                }
            ],
            "lastAppliedRevision": "main@sha1:4b3c2d1e",
            "observedGeneration": 1,
        },
    }


def flux_helmrelease(
    name: str,
    namespace: str = "flux-system",
    *,
    secret: str | None = None,
    key: str | None = None,
    labels: dict[str, str] | None = None,
) -> Obj:
    """A Flux HelmRelease (helm.toolkit.fluxcd.io/v2) installing a chart into a remote cluster."""
    spec: Obj = {
        "interval": "10m0s",
        "chart": {
            "spec": {
                "chart": "podinfo",
                "version": "6.x",
                "sourceRef": {"kind": "HelmRepository", "name": "podinfo"},
            }
        },
        "releaseName": name,
        "targetNamespace": "apps",
    }
    if secret is not None:
        spec["kubeConfig"] = _kubeconfig_ref(secret, key, None)
    return {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": _meta(name, namespace, labels=labels, generation=1),
        "spec": spec,
        "status": {
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "InstallSucceeded",
                    "message": "Helm install succeeded for release apps/podinfo.v1 with chart podinfo@6.7.1",
                    "lastTransitionTime": CREATED,
                }
            ],
            "observedGeneration": 1,
        },
    }


def sveltos_cluster(
    name: str,
    namespace: str,
    *,
    labels: dict[str, str] | None = None,
    kubeconfig_name: str | None = None,
    kubeconfig_key: str | None = None,
    pull_mode: bool = False,
    workload_identity: Obj | None = None,
) -> Obj:
    """A SveltosCluster (libsveltos api/v1beta1) as `sveltosctl register cluster` leaves it, with status."""
    spec: Obj = {"consecutiveFailureThreshold": 3}
    if kubeconfig_name:
        spec["kubeconfigName"] = kubeconfig_name
    if kubeconfig_key:
        spec["kubeconfigKeyName"] = kubeconfig_key
    if pull_mode:
        spec["pullMode"] = True
    if workload_identity is not None:
        spec["workloadIdentity"] = workload_identity
    return {
        "apiVersion": "lib.projectsveltos.io/v1beta1",
        "kind": "SveltosCluster",
        "metadata": _meta(name, namespace, labels=labels, generation=1),
        "spec": spec,
        "status": {"ready": not pull_mode, "connectionStatus": "Healthy", "version": "v1.31.4"},
    }
