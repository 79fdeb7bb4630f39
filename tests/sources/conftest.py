"""A fleet run by fleet managers, served over HTTPS: workload clusters and two management clusters.

Workload clusters ``wl-a`` .. ``wl-e`` are started first (their URLs, token
and CA go into the Secrets); then two management clusters, with Secrets
served (``serve_secrets=True``):

* ``mgmt-a``: Cluster API v1beta2-shaped Clusters (``wl-a`` good, three
  broken: bad base64, bad kubeconfig, no Secret yet) and Argo CD cluster
  Secrets (``wl-c``, ``wl-a`` again, and exec / aws / unknown auth, a
  client certificate the server rejects, malformed JSON);
* ``mgmt-b``: a v1beta1 Cluster ``wl-b`` (kubeconfig with token and client
  certificate), a Karmada member ``wl-d``, OCM managed clusters ``wl-e``
  (ManagedServiceAccount token) and ``edge-x`` (no Secret), and a Rancher
  cluster whose direct endpoint is ``wl-b``;
* ``hub-c``: a hub of the ecosystem's newer inventories: ClusterProfiles
  (``wl-f`` through a kubeconfig-secretreader provider, ``wl-e`` through a
  secretreader token, ``wl-c`` through a Secret the fleet file names, and
  broken ones: an exec-only provider, none at all, a deprecated
  credentialProvider whose Secret is missing), Flux Kustomizations and
  HelmReleases with ``spec.kubeConfig`` (``wl-g`` named by a Secret label and
  reached through two Secrets, a workload-identity ConfigMap, a missing
  Secret, a wrong key) and SveltosClusters (``wl-h``, ``wl-d`` through a
  renewed key, pull mode, workload identity, an ambiguous Secret).

Every credential is random per session, so a test can grep outputs for them.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from fleetcheck.replay import ReplayServer
from fleetcheck.replay.certs import generate_tls
from fleetcheck.state.snapshot import load_snapshot
from tests.integration.clusters import write_cluster
from tests.sources import managers as m

REPO = Path(__file__).resolve().parents[2]
QUOTA_CHECKS = REPO / "checks" / "test_quota.py"
WORKLOADS = ["wl-a", "wl-b", "wl-c", "wl-d", "wl-e", "wl-f", "wl-g", "wl-h"]


@dataclass
class Site:
    """Everything a test needs: the fleet file, the servers, and every secret value used."""

    root: Path
    fleet_file: Path
    mgmt_kubeconfig: Path
    workloads: ReplayServer
    management: ReplayServer
    #: every token and key material planted anywhere: none may appear in an output
    secret_values: list[str] = field(default_factory=list)


def _crds() -> list[m.Obj]:
    return [
        m.crd("cluster.x-k8s.io", "clusters", "Cluster", ["v1beta1", "v1beta2"], storage="v1beta2"),
        m.crd("cluster.karmada.io", "clusters", "Cluster", ["v1alpha1"], storage="v1alpha1", scope="Cluster"),
        m.crd(
            "cluster.open-cluster-management.io",
            "managedclusters",
            "ManagedCluster",
            ["v1"],
            storage="v1",
            scope="Cluster",
        ),
        m.crd("management.cattle.io", "clusters", "Cluster", ["v3"], storage="v3", scope="Cluster"),
    ]


def _hub_crds() -> list[m.Obj]:
    return [
        m.crd("multicluster.x-k8s.io", "clusterprofiles", "ClusterProfile", ["v1alpha1"], storage="v1alpha1"),
        m.crd("kustomize.toolkit.fluxcd.io", "kustomizations", "Kustomization", ["v1", "v1beta2"], storage="v1"),
        m.crd("helm.toolkit.fluxcd.io", "helmreleases", "HelmRelease", ["v2", "v2beta2"], storage="v2"),
        m.crd("lib.projectsveltos.io", "sveltosclusters", "SveltosCluster", ["v1beta1", "v1alpha1"], storage="v1beta1"),
    ]


def _hub(url: dict[str, str], token: str, ca: bytes, decoy: str) -> dict[str, list[m.Obj]]:
    """``hub-c``: ClusterProfiles, Flux objects with kubeConfig, SveltosClusters and their Secrets."""

    def kubeconfig(name: str) -> str:
        return m.kubeconfig_text(url[name], token, ca)

    secretreader = {"clusterName": "wl-e"}
    kubeconfig_reader = {
        "name": "wl-f-access",
        "key": "value",
        "namespace": "fleet",
        "context": "workload-admin@workload",
    }
    wi = {
        "provider": "AWS",
        "endpoint": "https://ABCDEF0123.gr7.eu-west-1.eks.amazonaws.com",
        "aws": {"clusterName": "prod"},
    }
    return {
        "crds.json": _hub_crds(),
        "clusterprofiles.json": [
            m.cluster_profile(
                "wl-f",
                "fleet",
                manager="demo",
                # the endpoint is the provider's; the Secret's kubeconfig names a dead server on purpose
                providers=[m.access_provider("kubeconfig-secretreader", url["wl-f"], ca, kubeconfig_reader)],
                properties={"cluster.clusterset.k8s.io": "wl-f-4f1c", "location": "eu-central-1"},
                labels={"env": "prod"},
            ),
            m.cluster_profile(
                "wl-e", "fleet", providers=[m.access_provider("secretreader", url["wl-e"], ca, secretreader)]
            ),
            m.cluster_profile("wl-c", "fleet", providers=[]),
            m.cluster_profile(
                "gke-prod",
                "fleet",
                providers=[m.access_provider("google", "https://34.118.0.10", ca, {"audience": "gke"})],
                healthy="False",
            ),
            m.cluster_profile("no-access", "fleet"),
            m.cluster_profile(
                "legacy-cred",
                "fleet",
                deprecated_providers=[
                    m.access_provider("secretreader", "https://10.0.0.12:6443", ca, {"clusterName": "legacy-cred"})
                ],
            ),
            m.cluster_profile("foreign", "fleet", manager="karmada", providers=[]),  # not selected: its manager
            m.cluster_profile("elsewhere", "other-set", providers=[]),  # not selected: its namespace
        ],
        "kustomizations.json": [
            m.flux_kustomization("apps-spoke-1", secret="spoke-1-kubeconfig"),
            m.flux_kustomization("edge-wi", config_map="edge-wi"),
            m.flux_kustomization("gone", secret="gone-kubeconfig"),
            m.flux_kustomization("infrastructure"),  # no kubeConfig: applies to the hub itself
        ],
        "helmreleases.json": [
            m.flux_helmrelease("podinfo-spoke-1", secret="spoke-1-kubeconfig"),
            m.flux_helmrelease("podinfo", "tenant-a", secret="wl-g-copy"),
            m.flux_helmrelease("wrong-key", secret="spoke-2-kubeconfig", key="config"),
        ],
        "sveltosclusters.json": [
            m.sveltos_cluster("wl-h", "edge", labels={"env": "prod", "region": "us-east-1"}),
            m.sveltos_cluster("wl-d", "edge", kubeconfig_name="wl-d-renewed", kubeconfig_key="re-kubeconfig"),
            m.sveltos_cluster("pull-edge", "edge", pull_mode=True),
            m.sveltos_cluster("eks-wi", "edge", workload_identity=wi),
            m.sveltos_cluster("ambiguous", "edge"),
        ],
        "configmaps.json": [
            m.configmap("flux-system", "edge-wi", {"provider": "generic", "address": "https://10.0.0.11:6443"}),
        ],
        "secrets.json": [
            m.secret("fleet", "wl-f-access", {"value": m.kubeconfig_text("https://127.0.0.1:9", token, ca)}),
            m.secret("fleetcheck", "wl-e", {"token": token}),
            m.secret("fleet", "wl-c-admin", {"value": kubeconfig("wl-c")}),
            m.secret(
                "flux-system",
                "spoke-1-kubeconfig",
                {"value": kubeconfig("wl-g")},
                labels={"cluster-name": "wl-g", "env": "staging"},
            ),
            m.secret("tenant-a", "wl-g-copy", {"value.yaml": kubeconfig("wl-g")}),
            m.secret("flux-system", "spoke-2-kubeconfig", {"value": kubeconfig("wl-g")}),
            m.secret("edge", "wl-h-sveltos-kubeconfig", {"kubeconfig": kubeconfig("wl-h")}),
            m.secret(
                "edge",
                "wl-d-renewed",
                {"kubeconfig": f"expired: {{token: {decoy}}}", "re-kubeconfig": kubeconfig("wl-d")},
            ),
            m.secret("edge", "ambiguous-sveltos-kubeconfig", {"a": kubeconfig("wl-h"), "b": kubeconfig("wl-h")}),
        ],
    }


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("fleet-managers")
    workload_token = "wl-" + secrets.token_urlsafe(24)
    mgmt_token = "mgmt-" + secrets.token_urlsafe(24)
    bad_yaml_token = "yamltok-" + secrets.token_urlsafe(24)
    bad_json_token = "jsontok-" + secrets.token_urlsafe(24)
    decoy_token = "decoy-" + secrets.token_urlsafe(24)
    client = generate_tls()  # a certificate + key pair to use as client credentials
    folders = [
        write_cluster(root / "workloads", name, bad_namespaces=1 if name == "wl-c" else 0, labels={"owner": "team-a"})
        for name in WORKLOADS
    ]
    workloads = ReplayServer([load_snapshot(f) for f in folders], token=workload_token)
    workloads.start()
    try:
        url, ca = workloads.urls, workloads.ca_pem

        def kubeconfig(name: str, **extra: bytes) -> str:
            return m.kubeconfig_text(url[name], workload_token, ca, **extra)

        argo_tls = {"insecure": False, "caData": m.b64(ca)}
        mgmt_a = {
            "crds.json": _crds()[:1],
            "clusters.json": [
                m.capi_cluster_v1beta2("wl-a", "team-a", labels={"environment": "production", "region": "eu-west"}),
                m.capi_cluster_v1beta2("bad-b64", "team-a"),
                m.capi_cluster_v1beta2("bad-kubeconfig", "team-a"),
                m.capi_cluster_v1beta2("provisioning", "team-b", phase="Provisioning", available="False"),
            ],
            "secrets.json": [
                m.capi_kubeconfig_secret("team-a", "wl-a", kubeconfig("wl-a")),
                m.capi_kubeconfig_secret("team-a", "bad-b64", raw_value="%%%not base64, token=" + workload_token),
                m.capi_kubeconfig_secret(
                    "team-a", "bad-kubeconfig", f"users:\n- user: {{token: {bad_yaml_token}\n  bad: [unclosed"
                ),
                m.argocd_secret(
                    "cluster-wl-c",
                    url["wl-c"],
                    {"bearerToken": workload_token, "tlsClientConfig": argo_tls},
                    display="wl-c",
                    labels={"env": "staging"},
                ),
                m.argocd_secret(
                    "cluster-wl-a",
                    url["wl-a"].upper() + "/",  # the same server, spelled differently
                    {"bearerToken": workload_token, "tlsClientConfig": argo_tls},
                    display="workload-a-in-argo",
                ),
                m.argocd_secret(
                    "cluster-exec",
                    "https://exec.example.com",
                    {
                        "execProviderConfig": {
                            "command": "argocd-k8s-auth",
                            "args": ["gcp"],
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                        },
                        "tlsClientConfig": argo_tls,
                    },
                    display="exec-cluster",
                ),
                m.argocd_secret(
                    "cluster-aws",
                    "https://xxxyyyzzz.xyz.eu-west-1.eks.amazonaws.com",
                    {
                        "awsAuthConfig": {"clusterName": "prod", "roleARN": "arn:aws:iam::123456789012:role/argocd"},
                        "tlsClientConfig": argo_tls,
                    },
                    display="eks-cluster",
                ),
                m.argocd_secret(
                    "cluster-unknown",
                    "https://unknown.example.com",
                    {"googleAuthConfig": {"audience": "x"}, "tlsClientConfig": argo_tls},
                    display="unknown-auth",
                ),
                m.argocd_secret(
                    "cluster-badjson",
                    "https://badjson.example.com",
                    '{"bearerToken": "' + bad_json_token + '", ',
                    display="bad-json",
                ),
                m.argocd_secret(
                    "cluster-cert",
                    url["wl-e"] + "/cert-only",
                    {
                        "tlsClientConfig": {
                            "caData": m.b64(ca),
                            "certData": m.b64(client.cert_pem),
                            "keyData": m.b64(client.key_pem),
                        }
                    },
                    display="cert-only",
                ),
            ],
        }
        mgmt_b = {
            "crds.json": _crds(),
            "clusters.json": [m.capi_cluster_v1beta1("wl-b", "fleet", labels={"env": "dev", "owner": "team-b"})],
            "karmada-clusters.json": [
                m.karmada_cluster("wl-d", url["wl-d"], secret_ref=("karmada-cluster", "wl-d")),
                m.karmada_cluster("pull-member", "https://10.0.0.9:6443", secret_ref=None),
            ],
            "managedclusters.json": [
                m.managed_cluster("wl-e", url["wl-e"], ca, labels={"tier": "canary"}),
                m.managed_cluster("edge-x", "https://10.0.0.10:6443", ca),
            ],
            "rancher-clusters.json": [m.rancher_cluster("c-m-abc123", "wl-b-in-rancher", url["wl-b"])],
            "secrets.json": [
                m.capi_kubeconfig_secret("fleet", "wl-b", kubeconfig("wl-b", cert=client.cert_pem, key=client.key_pem)),
                m.secret("karmada-cluster", "wl-d", {"token": workload_token, "caBundle": ca}),
                m.secret("wl-e", "fleetcheck", {"token": workload_token, "ca.crt": ca}),
            ],
        }
        mgmt_folders = [
            m.write_management(root / "management", "mgmt-a", mgmt_a),
            m.write_management(root / "management", "mgmt-b", mgmt_b),
            m.write_management(root / "management", "hub-c", _hub(url, workload_token, ca, decoy_token)),
        ]
        management = ReplayServer([load_snapshot(f) for f in mgmt_folders], token=mgmt_token, serve_secrets=True)
        management.start()
        try:
            mgmt_kubeconfig = management.write_kubeconfig(root / "mgmt.kubeconfig")
            fleet = {
                "version": 1,
                "defaults": {"kubeconfig": str(mgmt_kubeconfig), "labels": {"managed-by": "platform"}},
                "sources": [
                    {"type": "capi", "context": "mgmt-a", "label_map": {"environment": "tier"}},
                    {"type": "capi", "name": "capi-b", "context": "mgmt-b"},
                    {"type": "argocd", "context": "mgmt-a", "namespace": "argocd"},
                    {"type": "karmada", "context": "mgmt-b"},
                    {"type": "ocm", "context": "mgmt-b", "managed_service_account": "fleetcheck"},
                    {
                        "type": "clusterprofile",
                        "context": "hub-c",
                        "namespace": "fleet",
                        "label_selector": "x-k8s.io/cluster-manager in (ocm,demo)",
                        "consumer_namespace": "fleetcheck",
                        "secrets": {"wl-c": "wl-c-admin"},
                    },
                    {"type": "flux", "context": "hub-c", "name_label": "cluster-name"},
                    {"type": "sveltos", "context": "hub-c"},
                ],
            }
            fleet_file = root / "fleet.yaml"
            fleet_file.write_text(yaml.safe_dump(fleet, sort_keys=False), encoding="utf-8")
            key_lines = [line for line in client.key_pem.decode().splitlines() if "-----" not in line]
            yield Site(
                root=root,
                fleet_file=fleet_file,
                mgmt_kubeconfig=mgmt_kubeconfig,
                workloads=workloads,
                management=management,
                secret_values=[
                    workload_token,
                    mgmt_token,
                    bad_yaml_token,
                    bad_json_token,
                    decoy_token,
                    m.b64(workload_token),
                    m.b64(client.key_pem),
                    *key_lines,
                ],
            )
        finally:
            management.stop()
    finally:
        workloads.stop()
