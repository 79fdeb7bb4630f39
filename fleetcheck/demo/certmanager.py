"""cert-manager on the clusters that serve traffic (prod and canary): its CRDs, controllers, issuers, Certificates.

FC-CERT-002 reads ``cert-manager.io/v1`` Certificates (never the Secrets they
write). The teams' public endpoints get 90-day Let's Encrypt certificates
from the ``letsencrypt-prod`` ClusterIssuer (DNS-01), renewed by cert-manager
at two thirds of their lifetime, so a healthy one always has 30 to 90 days
left; the internal mTLS certificates come from the platform CA issuer with a
one-year lifetime. Every timestamp is an offset from capture, so "expires in
N days" still holds after the replay server shifts the clock.
"""

from __future__ import annotations

from fleetcheck.demo.build import DAY, HOUR, ClusterBuild, Obj
from fleetcheck.demo.controllers import add_deployment, gitops_marks
from fleetcheck.demo.crds import add_crds
from fleetcheck.demo.pods import container

__all__ = [
    "ACME_ISSUER",
    "CERT_MANAGER_NAMESPACE",
    "CERT_MANAGER_VERSION",
    "add_cert_manager",
    "public_certificates",
]

CERT_MANAGER_VERSION = "v1.19.1"
CERT_MANAGER_NAMESPACE = "cert-manager"
ACME_ISSUER = "letsencrypt-prod"
CA_ISSUER = "platform-ca"
_APP = "platform-cert-manager"
_CHART_LABELS = {"app.kubernetes.io/instance": "cert-manager", "app.kubernetes.io/version": CERT_MANAGER_VERSION}
_CERT_KINDS = [
    ("Certificate", "certificates"),
    ("CertificateRequest", "certificaterequests"),
    ("ClusterIssuer", "clusterissuers"),
    ("Issuer", "issuers"),
]
_ACME_KINDS = [("Challenge", "challenges"), ("Order", "orders")]
#: how many team namespaces get a public certificate (the rest of the namespaces are internal)
_PUBLIC_SHARE = 0.3
_MAX_PUBLIC = 8
_ACME_DAYS = 90.0
_CA_DAYS = 365.0
_READY_MESSAGE = "Certificate is up to date and has not expired"


def add_cert_manager(build: ClusterBuild) -> None:
    """The cert-manager chart (CRDs, controller, cainjector, webhook), two ClusterIssuers and the Certificates."""
    plan = build.plan
    if not plan.cert_manager:
        return
    labels = {**_CHART_LABELS, "app.kubernetes.io/name": "cert-manager"}
    add_crds(build, "cert-manager.io", _CERT_KINDS, labels=labels, cluster_scoped=frozenset({"ClusterIssuer"}))
    add_crds(build, "acme.cert-manager.io", _ACME_KINDS, labels=labels)
    for component, image, args in (
        ("controller", "cert-manager-controller", ["--v=2", "--cluster-resource-namespace=$(POD_NAMESPACE)"]),
        ("cainjector", "cert-manager-cainjector", ["--v=2", "--leader-election-namespace=kube-system"]),
        ("webhook", "cert-manager-webhook", ["--v=2", "--secure-port=10250"]),
    ):
        name = "cert-manager" if component == "controller" else f"cert-manager-{component}"
        app_name = "cert-manager" if component == "controller" else component
        add_deployment(
            build,
            name=name,
            namespace=CERT_MANAGER_NAMESPACE,
            labels={
                "app.kubernetes.io/component": component,
                "app.kubernetes.io/instance": "cert-manager",
                "app.kubernetes.io/name": app_name,
            },
            pod_spec={
                "containers": [
                    container(
                        f"cert-manager-{component}",
                        f"{plan.registry}/jetstack/{image}:{CERT_MANAGER_VERSION}",
                        args=args,
                        env=[{"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}],
                        requests={"cpu": "10m", "memory": "64Mi"},
                        limits={"memory": "256Mi"},
                    )
                ],
                "serviceAccountName": name,
            },
            replicas=1,
            app=_APP,
        )
    age = build.rng.uniform(150, 400) * DAY
    _add_issuer(
        build,
        ACME_ISSUER,
        age,
        {
            "acme": {
                "email": "platform-certs@example.com",
                "privateKeySecretRef": {"name": f"{ACME_ISSUER}-account-key"},
                "server": "https://acme-v02.api.letsencrypt.org/directory",
                "solvers": [{"dns01": {"route53": {"region": plan.region}}}],
            }
        },
        reason="ACMEAccountRegistered",
        message="The ACME account was registered with the ACME server",
        acme_status={
            "lastPrivateKeyHash": "h1X8xgqlDVeq0JD6Q2zsH0ufvVQHh2g1+Yx8xuUuWsk=",
            "lastRegisteredEmail": "platform-certs@example.com",
            "uri": f"https://acme-v02.api.letsencrypt.org/acme/acct/{build.rng.randint(10**9, 3 * 10**9)}",
        },
    )
    _add_issuer(
        build,
        CA_ISSUER,
        age,
        {"ca": {"secretName": "platform-ca-key-pair"}},
        reason="KeyPairVerified",
        message="Signing CA verified",
    )
    teams = build.team_namespaces
    public = max(1, min(_MAX_PUBLIC, round(len(teams) * _PUBLIC_SHARE)))
    for namespace in teams[:public]:
        service = namespace.split("-")[2]
        team = namespace.split("-")[1]
        public_name = f"{service}.{team}.{plan.region}.example.com"
        issued = build.rng.uniform(0, _ACME_DAYS * 2 / 3 - 0.5) * DAY  # renewed at 60 days: 30 to 90 days left
        build.add(_certificate(build, f"{service}-tls", namespace, ACME_ISSUER, [public_name], issued, _ACME_DAYS))
    internal = teams[public : public + 2] if len(teams) > public else teams[:1]
    for namespace in internal:
        service = namespace.split("-")[2]
        dns = [f"{service}.{namespace}.svc", f"{service}.{namespace}.svc.{plan.cluster_domain}"]
        issued = build.rng.uniform(20, 200) * DAY  # one-year certificates, renewed at eight months
        build.add(_certificate(build, f"{service}-mtls", namespace, CA_ISSUER, dns, issued, _CA_DAYS))


def public_certificates(build: ClusterBuild) -> list[Obj]:
    """The Let's Encrypt Certificates of the teams' public endpoints (the FC-CERT-002 plant bends one)."""
    return [c for c in build.items("certificates.cert-manager.io") if c["spec"]["issuerRef"]["name"] == ACME_ISSUER]


def _add_issuer(
    build: ClusterBuild,
    name: str,
    age: float,
    spec: Obj,
    *,
    reason: str,
    message: str,
    acme_status: Obj | None = None,
) -> None:
    track_labels, annotations = gitops_marks(_APP, "cert-manager.io", "ClusterIssuer", "", name)
    status: Obj = {}
    if acme_status:
        status["acme"] = acme_status
    status["conditions"] = [
        {
            "lastTransitionTime": build.ts(age - 60),
            "message": message,
            "observedGeneration": 1,
            "reason": reason,
            "status": "True",
            "type": "Ready",
        }
    ]
    build.add(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "ClusterIssuer",
            "metadata": build.metadata(name, age=age, labels=track_labels, annotations=annotations, generation=1),
            "spec": spec,
            "status": status,
        }
    )


def _certificate(
    build: ClusterBuild, name: str, namespace: str, issuer: str, dns_names: list[str], issued: float, days: float
) -> Obj:
    """A Ready Certificate issued ``issued`` seconds before capture, valid ``days``, renewed at two thirds."""
    issued, lifetime = float(round(issued)), days * DAY  # whole seconds: notBefore + 2/3 lifetime == renewalTime
    revision = build.rng.randint(2, 9)
    track_labels, annotations = gitops_marks(namespace, "cert-manager.io", "Certificate", namespace, name)
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": build.metadata(
            name,
            namespace,
            age=issued + (revision - 1) * lifetime * 2 / 3 + build.rng.uniform(1, 5) * HOUR,
            labels=track_labels,
            annotations=annotations,
            generation=1,
        ),
        "spec": {
            "dnsNames": dns_names,
            "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": issuer},
            "privateKey": {"algorithm": "ECDSA", "rotationPolicy": "Always", "size": 256},
            "secretName": name,
            "usages": ["digital signature", "key encipherment", *(["client auth"] if issuer == CA_ISSUER else [])],
        },
        "status": {
            "conditions": [
                {
                    "lastTransitionTime": build.ts(issued - 30),
                    "message": _READY_MESSAGE,
                    "observedGeneration": 1,
                    "reason": "Ready",
                    "status": "True",
                    "type": "Ready",
                }
            ],
            "notAfter": build.ts(issued - lifetime),
            "notBefore": build.ts(issued),
            "renewalTime": build.ts(issued - lifetime * 2 / 3),
            "revision": revision,
        },
    }
