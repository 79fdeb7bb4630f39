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
  cluster whose direct endpoint is ``wl-b``.

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
WORKLOADS = ["wl-a", "wl-b", "wl-c", "wl-d", "wl-e"]


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


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("fleet-managers")
    workload_token = "wl-" + secrets.token_urlsafe(24)
    mgmt_token = "mgmt-" + secrets.token_urlsafe(24)
    bad_yaml_token = "yamltok-" + secrets.token_urlsafe(24)
    bad_json_token = "jsontok-" + secrets.token_urlsafe(24)
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
                    m.b64(workload_token),
                    m.b64(client.key_pem),
                    *key_lines,
                ],
            )
        finally:
            management.stop()
    finally:
        workloads.stop()
