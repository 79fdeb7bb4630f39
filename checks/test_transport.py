"""How the scan reaches each API server: TLS verified, never silently skipped (FC-TLS-*)."""

from __future__ import annotations

from fleetcheck import ClusterView, check, fail, skip
from fleetcheck.errors import FleetcheckError


@check(
    "FC-TLS-001",
    title="API server reached without verifying its TLS certificate",
    factor="single-idp",
    severity="high",
    success="the API server's certificate is verified against the kubeconfig's CA",
)
def test_api_server_certificate_is_verified(cluster: ClusterView) -> None:
    """The kubeconfig entry for the cluster sets ``insecure-skip-tls-verify: true``, or a plain ``http://`` server.

    What: fleetcheck verifies every API server's certificate by default
    (against the kubeconfig's ``certificate-authority``/``-data``, else the
    system trust store); a failed verification makes the cluster's checks
    ``error`` with "TLS verification failed", never a silent pass. When the
    kubeconfig says ``insecure-skip-tls-verify: true`` the scan honours it,
    as kubectl does, and this check fails naming the server. A plain
    ``http://`` server fails it too: there is no certificate to verify, and
    the scan's bearer token (or basic-auth password) travels in cleartext.
    It lists no
    kind; it passes only once a request (``/version``, which every scan
    reads anyway) went through a verified connection, so a certificate that
    does not verify makes it ``error`` too. Snapshots are skipped: how they
    were captured is not recorded.
    Why: without verification anyone on the network path (a compromised
    proxy, a DNS hijack, a rogue pod on the runner's node) can answer as the
    API server: it receives the scan's bearer token, which reads every
    object of the cluster, and it can feed the scan whatever state it likes,
    so a gate turns green on a cluster nobody has seen. The same kubeconfig
    is usually what people use with kubectl, with admin rights. Over
    ``http://`` no attacker is even needed: anyone who can read the traffic
    (a shared network, a packet capture on a proxy) copies the token.
    Fix: put the API server's CA into the kubeconfig
    (``kubectl config set-cluster NAME --certificate-authority=ca.crt
    --embed-certs`` and ``kubectl config unset clusters.NAME.insecure-skip-tls-verify``);
    for managed clusters the provider's CLI writes it (``aws eks
    update-kubeconfig``, ``gcloud container clusters get-credentials``,
    ``az aks get-credentials``). If the server certificate lacks the name
    the kubeconfig uses, set ``tls-server-name`` instead of skipping
    verification. For an ``http://`` server, point the kubeconfig at the
    API server's HTTPS endpoint (``https://HOST:6443``) with its CA.
    References: https://kubernetes.io/docs/concepts/configuration/organize-cluster-access-kubeconfig/ ;
    https://kubernetes.io/docs/reference/config-api/kubeconfig.v1/#Cluster
    """
    if cluster.entry.is_snapshot:
        skip("snapshot: how the scan would reach the API server is not recorded")
    state = cluster.state
    if not state.is_live:
        # the kubeconfig entry could not be loaded at all; its reason is the verdict
        reason = getattr(state, "reason", "the cluster's connection could not be set up")
        raise FleetcheckError(f"cannot tell how {cluster.name} is reached: {reason}")
    server = getattr(state, "server", None) or cluster.entry.server or "the API server"
    if getattr(state, "plaintext", False):
        sent = (
            "the context sends no credentials, but nothing verifies who answers"
            if getattr(state, "anonymous", False)
            else "the bearer token (or other credentials) travels in cleartext to whoever is on the path"
        )
        fail(
            f"the scan reaches {server} over plain http://, without TLS: {sent}, and whoever answers decides what "
            "the scan sees; expected an https:// server with certificate-authority-data in the kubeconfig",
            [server],
        )
    if state.insecure:
        fail(
            f"the scan reaches {server} with insecure-skip-tls-verify: true: the API server's certificate is not "
            "verified, so whoever answers at that address gets the scan's credentials and decides what it sees; "
            "expected certificate-authority-data for the cluster in the kubeconfig",
            [server],
        )
    # verification is on: pass only once it has held (a failure here is "TLS verification failed", an error)
    _ = cluster.version
