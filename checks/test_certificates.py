"""Certificates about to expire, seen without reading a single Secret (FC-CERT-*)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from fleetcheck import ClusterView, Findings, check, fail, object_ref, skip
from fleetcheck.errors import FleetcheckError
from fleetcheck.facts.certs import DEFAULT_MAX_BYTES, DEFAULT_MAX_CERTS, parse_ca_bundle
from fleetcheck.facts.webhooks import WEBHOOK_KINDS, webhooks_of
from fleetcheck.redact import redact

APISERVICES = "apiregistration.k8s.io/v1 apiservices"
CERTIFICATES = "cert-manager.io/v1 certificates"


class BundleExpirySettings(BaseModel):
    """Threshold and parse bounds of FC-CERT-001."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold_days: int = Field(default=30, ge=0, le=3650, description="fail when a certificate expires within this")
    max_certs: int = Field(default=DEFAULT_MAX_CERTS, ge=1, le=256, description="certificates read per caBundle")
    max_bytes: int = Field(default=DEFAULT_MAX_BYTES, ge=1024, le=4 * 1024 * 1024, description="bytes read per bundle")


def _when(not_after: datetime, now: datetime) -> str:
    days = (not_after - now).total_seconds() / 86400
    stamp = not_after.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"expired {-days:.0f} days ago ({stamp})" if days < 0 else f"expires in {days:.0f} days ({stamp})"


@check(
    "FC-CERT-001",
    title="Certificate in a webhook or APIService caBundle expires soon",
    factor="owned",
    severity="high",
    reads=[*WEBHOOK_KINDS, APISERVICES],
    settings=BundleExpirySettings,
    success="every certificate in webhook and APIService caBundles is valid beyond the threshold",
)
def test_ca_bundles_not_expiring(cluster: ClusterView, settings: BundleExpirySettings) -> None:
    """A certificate in a webhook's ``clientConfig.caBundle`` or an APIService's ``spec.caBundle`` expires soon.

    What: the base64 PEM ``caBundle`` of every admission webhook and every
    ``apiregistration.k8s.io/v1`` APIService is parsed (``cryptography``;
    at most ``max_certs`` certificates and ``max_bytes`` per bundle) and each
    certificate's ``notAfter`` is compared with the cluster's time (the API
    server's clock, or a snapshot's capture time). Expired, or expiring
    within ``threshold_days`` (default 30), fails; a bundle that cannot be
    read is named too. No Secret is read: these bundles are in the objects
    themselves. (The API server's own serving certificate, from the TLS
    handshake, is FC-CERT-003's.) Counts toward *owned*: a
    certificate nobody rotates is the forgotten-owner problem in miniature.
    Why: when the CA a bundle pins expires, the API server stops trusting
    the webhook or aggregated API: every request the webhook matches fails
    with "x509: certificate has expired", and an aggregated API's group
    disappears from discovery (namespace deletion and garbage collection
    stall). Self-signed webhook CAs made by install scripts with a one-year
    lifetime are the classic case (cert-manager's cainjector, kube-prometheus'
    admission job, metrics-server).
    Fix: rotate the CA and the serving certificate (re-run the chart's
    certificate job, or let cert-manager's cainjector manage the bundle via
    the ``cert-manager.io/inject-ca-from`` annotation), then check that the
    bundle is updated. Tune with ``settings: {FC-CERT-001: {threshold_days: 30}}``.
    References: https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/ ;
    https://cert-manager.io/docs/concepts/ca-injector/
    """
    now = cluster.server_time.astimezone(UTC)
    horizon = now + timedelta(days=settings.threshold_days)
    bundles: list[tuple[str, str, str]] = []
    for hook in webhooks_of({kind: cluster.list(kind) for kind in WEBHOOK_KINDS}):
        if hook.ca_bundle:
            bundles.append((hook.ref, f"webhook {hook.name}", hook.ca_bundle))
    for service in cluster.list(APISERVICES):
        bundle = str((service.get("spec") or {}).get("caBundle") or "")
        if bundle:
            bundles.append((object_ref(service, "APIService"), "spec.caBundle", bundle))
    if not bundles:
        skip("no webhook or APIService carries a caBundle")
    findings = Findings()
    read = 0
    for ref, where, encoded in bundles:
        parsed = parse_ca_bundle(encoded, max_certs=settings.max_certs, max_bytes=settings.max_bytes)
        read += len(parsed.certs)
        details = [f"{where}: {c.subject} {_when(c.not_after, now)}" for c in parsed.certs if c.not_after <= horizon]
        details += [f"{where}: {problem}" for problem in parsed.problems]
        if details:
            findings.add(ref, redact("; ".join(details)))
    findings.raise_if_any(
        f"{len(findings)} objects carry a caBundle certificate that has expired, expires within "
        f"{settings.threshold_days} days, or cannot be read ({read} certificates read in {len(bundles)} bundles); "
        "expected every certificate valid beyond the threshold"
    )


class CertificateSettings(BaseModel):
    """Threshold of FC-CERT-002."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold_days: int = Field(default=14, ge=0, le=3650, description="fail when notAfter is within this")


def _parse_time(text: object) -> datetime | None:
    if not isinstance(text, str) or len(text) > 40:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


@check(
    "FC-CERT-002",
    title="cert-manager Certificate not Ready or about to expire",
    factor="owned",
    severity="high",
    reads=[CERTIFICATES],
    settings=CertificateSettings,
    success="every cert-manager Certificate is Ready and valid beyond the threshold",
)
def test_cert_manager_certificates_ready(cluster: ClusterView, settings: CertificateSettings) -> None:
    """A cert-manager ``Certificate`` is not Ready, or its ``status.notAfter`` is near.

    What: every ``cert-manager.io/v1`` Certificate's ``Ready`` condition
    must be ``True`` and its ``status.notAfter`` later than the cluster's
    time plus ``threshold_days`` (default 14; cert-manager renews at two
    thirds of the lifetime, so a healthy 90-day certificate is never this
    close). Only the Certificate resource is read, never the Secret it
    writes. Skipped where cert-manager is not installed. Counts toward
    *owned*: renewal is automated, so a stuck one means nobody is watching.
    Why: a Certificate whose renewal fails (ACME rate limits, a deleted
    Issuer, a DNS01 credential rotated away) keeps serving the old
    certificate until the day it expires; then ingress TLS, webhooks and
    mTLS break at once. cert-manager reports it in the Certificate's status
    weeks before, where nobody looks.
    Fix: read the Certificate's events and its CertificateRequest/Order
    (``kubectl describe certificate NAME``), fix the Issuer, then
    ``cmctl renew NAME``. Tune with ``settings: {FC-CERT-002: {threshold_days: 14}}``.
    References: https://cert-manager.io/docs/usage/certificate/ ;
    https://cert-manager.io/docs/troubleshooting/
    """
    if not cluster.serves(CERTIFICATES):
        skip("cert-manager is not installed (no certificates.cert-manager.io CRD)")
    certificates = cluster.list(CERTIFICATES)
    if not certificates:
        skip("cert-manager is installed but holds no Certificate")
    now = cluster.server_time.astimezone(UTC)
    horizon = now + timedelta(days=settings.threshold_days)
    findings = Findings()
    for cert in certificates:
        status = cert.get("status") or {}
        ready = next(
            (c for c in (status.get("conditions") or [])[:32] if isinstance(c, dict) and c.get("type") == "Ready"), None
        )
        problems: list[str] = []
        if ready is None or ready.get("status") != "True":
            reason = f"{ready.get('reason', '')}: {ready.get('message', '')}".strip(": ") if ready else "no condition"
            problems.append(f"not Ready ({reason[:300]})")
        not_after = _parse_time(status.get("notAfter"))
        if not_after is not None and not_after <= horizon:
            problems.append(_when(not_after, now))
        elif not_after is None and status.get("notAfter"):
            problems.append("status.notAfter is not a time")
        if problems:
            findings.add(object_ref(cert, "Certificate"), redact("; ".join(problems)))
    findings.raise_if_any(
        f"{len(findings)} of {len(certificates)} Certificates are not Ready or expire within "
        f"{settings.threshold_days} days; expected Ready and renewed well before notAfter"
    )


class ServingCertificateSettings(BaseModel):
    """Threshold of FC-CERT-003."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold_days: int = Field(default=30, ge=0, le=3650, description="fail when the certificate expires within this")


@check(
    "FC-CERT-003",
    title="API server's serving certificate expires soon",
    factor="owned",
    severity="high",
    settings=ServingCertificateSettings,
    success="the API server's serving certificate is valid beyond the threshold",
)
def test_api_server_certificate_not_expiring(cluster: ClusterView, settings: ServingCertificateSettings) -> None:
    """The certificate the API server presents in its TLS handshake expires within the threshold.

    What: the scan's own connection to the API server (the one every other
    read goes through; no extra request, no Secret) carries the server's
    certificate; its ``notAfter`` is compared with the API server's clock.
    Expired, or expiring within ``threshold_days`` (default 30), fails,
    naming the server, the subject and the date. Live scans only: a
    snapshot holds no handshake, so it is skipped, as is a plain
    ``http://`` server (no certificate; FC-TLS-001 fails it). Counts toward
    *owned*: a control-plane certificate nobody renews is a cluster nobody
    looks after.
    Why: kubeadm issues the API server's certificate for one year and renews
    it only on ``kubeadm upgrade``; a cluster not upgraded for a year stops
    answering on the day it expires ("x509: certificate has expired or is
    not yet valid" from kubectl, every kubelet and every controller), a
    classic outage of self-managed clusters (kubernetes/kubeadm#581,
    kubernetes/kubernetes#68924).
    Fix: renew it before it expires (``kubeadm certs check-expiration``, then
    ``kubeadm certs renew apiserver`` and restart the kube-apiserver static
    pod), or upgrade the cluster, which renews every control-plane
    certificate; distributions have their own command (``rke2 certificate
    rotate``, k3s rotates on restart within 90 days). Tune with
    ``settings: {FC-CERT-003: {threshold_days: 30}}``.
    References: https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-certs/ ;
    https://github.com/kubernetes/kubeadm/issues/581
    """
    if cluster.entry.is_snapshot:
        skip("snapshot: the API server's certificate is seen only in a live TLS handshake (scan the cluster live)")
    state = cluster.state
    if not state.is_live:
        reason = getattr(state, "reason", "the cluster's connection could not be set up")
        raise FleetcheckError(f"cannot read the API server's certificate of {cluster.name}: {reason}")
    server = redact(str(getattr(state, "server", None) or cluster.entry.server or "the API server"))
    if getattr(state, "plaintext", False):
        skip(f"{server} is reached over plain http://: no certificate is presented (FC-TLS-001 fails it)")
    _ = cluster.version  # read by every scan anyway: the handshake of its connection carries the certificate
    served = state.serving_certificate
    if served is None:
        raise FleetcheckError(
            f"the TLS handshake with {server} gave no certificate fleetcheck could read; expected an X.509 "
            "serving certificate"
        )
    now = cluster.server_time.astimezone(UTC)
    if served.not_after <= now + timedelta(days=settings.threshold_days):
        fail(
            f"{server}: the API server's serving certificate ({served.subject}, issued by {served.issuer}) "
            f"{_when(served.not_after, now)}; expected valid for more than {settings.threshold_days} days "
            "(renew it: kubeadm certs renew apiserver, or upgrade the control plane)",
            [server],
        )
