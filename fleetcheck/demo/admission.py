"""Admission, aggregation, drains and Pod Security of a demo cluster (the issue-16 kinds).

A clean cluster gets what a kube-prometheus-stack install leaves behind: a
validating and a mutating webhook served by ``monitoring/prometheus-operator``
(fail-closed, system namespaces excluded, a CA bundle valid for years), the
EndpointSlices of that Service and of ``kube-dns``, the API server's Local
APIServices, a PodDisruptionBudget for CoreDNS, and ``enforce=baseline`` on
every team namespace. Plants bend these objects (``planted.py``).

The CA certificates are real X.509 (Ed25519, so signing is deterministic and
the same spec still gives the same bytes), dated from the capture time.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID

from fleetcheck.demo.build import DAY, ClusterBuild, Obj

__all__ = [
    "PSA_LABEL",
    "WEBHOOK_NAMESPACE",
    "WEBHOOK_SERVICE",
    "add_admission",
    "add_pdb",
    "ca_bundle",
    "webhook_configuration",
]

WEBHOOK_NAMESPACE = "monitoring"
WEBHOOK_SERVICE = "prometheus-operator"
VALIDATING = "prometheus-operator-admission"
PSA_LABEL = "pod-security.kubernetes.io/enforce"
_LOCAL_GROUPS = (
    "",
    "apps",
    "batch",
    "policy",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "discovery.k8s.io",
    "coordination.k8s.io",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "networking.k8s.io",
)


def ca_bundle(build: ClusterBuild, name: str, *, valid_days_left: float) -> str:
    """A base64 PEM self-signed CA named ``name``, expiring ``valid_days_left`` days after capture."""
    seed = hashlib.sha256(f"{build.plan.name}/{name}".encode()).digest()
    key = Ed25519PrivateKey.from_private_bytes(seed)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    not_after = build.captured + timedelta(days=valid_days_left)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(int.from_bytes(seed[:8], "big") | 1)
        .not_valid_before(not_after - timedelta(days=3650))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, None)
    )
    return base64.b64encode(cert.public_bytes(serialization.Encoding.PEM)).decode()


def _system_exclusion() -> Obj:
    return {
        "matchExpressions": [
            {
                "key": "kubernetes.io/metadata.name",
                "operator": "NotIn",
                "values": ["kube-system", WEBHOOK_NAMESPACE],
            }
        ]
    }


def _webhook(name: str, path: str, bundle: str, rules: list[Obj], policy: str) -> Obj:
    return {
        "admissionReviewVersions": ["v1"],
        "clientConfig": {
            "caBundle": bundle,
            "service": {"name": WEBHOOK_SERVICE, "namespace": WEBHOOK_NAMESPACE, "path": path, "port": 443},
        },
        "failurePolicy": policy,
        "matchPolicy": "Equivalent",
        "name": name,
        "namespaceSelector": _system_exclusion(),
        "objectSelector": {},
        "rules": rules,
        "sideEffects": "None",
        "timeoutSeconds": 10,
    }


def webhook_configuration(build: ClusterBuild, kind: str) -> Obj:
    """The one configuration of ``kind`` this template adds (plants bend it)."""
    key = f"{kind.lower()}s.admissionregistration.k8s.io"
    return build.find(key, VALIDATING)


def add_admission(build: ClusterBuild) -> None:
    """Webhooks, their EndpointSlices, Local APIServices, the CoreDNS PDB and Pod Security labels."""
    age = build.rng.uniform(100, 300) * DAY
    bundle = ca_bundle(build, "prometheus-operator-admission-ca", valid_days_left=3 * 365)
    rules = [
        {
            "apiGroups": ["monitoring.coreos.com"],
            "apiVersions": ["*"],
            "operations": ["CREATE", "UPDATE"],
            "resources": ["prometheusrules"],
            "scope": "Namespaced",
        },
        # the sidecar-injection part: pods, so the namespaceSelector must keep it out of its own namespace
        {
            "apiGroups": [""],
            "apiVersions": ["v1"],
            "operations": ["CREATE"],
            "resources": ["pods"],
            "scope": "Namespaced",
        },
    ]
    for kind, hook, path in (
        (
            "ValidatingWebhookConfiguration",
            "prometheusrulevalidate.monitoring.coreos.com",
            "/admission-prometheusrules/validate",
        ),
        (
            "MutatingWebhookConfiguration",
            "prometheusrulemutate.monitoring.coreos.com",
            "/admission-prometheusrules/mutate",
        ),
    ):
        build.add(
            {
                "apiVersion": "admissionregistration.k8s.io/v1",
                "kind": kind,
                "metadata": build.metadata(
                    VALIDATING, age=age, labels={"app.kubernetes.io/name": "prometheus-operator"}
                ),
                # the fleet's choice: validation fails closed, the defaulting mutation fails open
                "webhooks": [_webhook(hook, path, bundle, rules, "Ignore" if kind.startswith("Mutating") else "Fail")],
            }
        )
    _add_slice(build, WEBHOOK_SERVICE, WEBHOOK_NAMESPACE, port=("https", 10250), ready=[True], age=age)
    coredns_ready = build.plan.coredns_ready
    _add_slice(build, "kube-dns", "kube-system", port=("dns", 53), ready=[i < coredns_ready for i in range(2)], age=age)
    for group in _LOCAL_GROUPS:
        build.add(_local_apiservice(build, group, age))
    build.add(_pdb(build, "coredns", "kube-system", expected=2, healthy=coredns_ready, age=age))
    for namespace in build.team_namespaces:
        ns = build.find("namespaces", namespace)
        ns["metadata"]["labels"] = {**ns["metadata"].get("labels", {}), PSA_LABEL: "baseline"}


def _add_slice(
    build: ClusterBuild, service: str, namespace: str, *, port: tuple[str, int], ready: list[bool], age: float
) -> Obj:
    endpoints = []
    for index, is_ready in enumerate(ready):
        node = build.nodes[index % len(build.nodes)]
        endpoints.append(
            {
                "addresses": [node.next_pod_ip()],
                "conditions": {"ready": is_ready, "serving": is_ready, "terminating": False},
                "nodeName": node.name,
                "zone": node.zone,
            }
        )
    return build.add(
        {
            "addressType": "IPv4",
            "apiVersion": "discovery.k8s.io/v1",
            "endpoints": endpoints,
            "kind": "EndpointSlice",
            "metadata": build.metadata(
                f"{service}-{build.suffix()}",
                namespace,
                age=age,
                labels={
                    "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                    "kubernetes.io/service-name": service,
                },
                generate_name=f"{service}-",
            ),
            "ports": [{"name": port[0], "port": port[1], "protocol": "TCP"}],
        }
    )


def _local_apiservice(build: ClusterBuild, group: str, age: float) -> Obj:
    name = f"v1.{group}" if group else "v1."
    return {
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": build.metadata(name, age=age, labels={"kube-aggregator.kubernetes.io/automanaged": "onstart"}),
        "spec": {"group": group, "groupPriorityMinimum": 17000, "version": "v1", "versionPriority": 15},
        "status": {
            "conditions": [
                {
                    "lastTransitionTime": build.ts(age - 30),
                    "message": "Local APIServices are always available",
                    "reason": "Local",
                    "status": "True",
                    "type": "Available",
                }
            ]
        },
    }


def _pdb(
    build: ClusterBuild, name: str, namespace: str, *, expected: int, healthy: int, age: float, **spec: object
) -> Obj:
    budget: Obj = dict(spec) or {"maxUnavailable": 1}
    budget["selector"] = {"matchLabels": {"k8s-app": "kube-dns"} if name == "coredns" else {"app": name}}
    desired = expected - 1 if "maxUnavailable" in budget else int(str(budget.get("minAvailable", expected)))
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": build.metadata(name, namespace, age=age, generation=1),
        "spec": budget,
        "status": {
            "currentHealthy": healthy,
            "desiredHealthy": desired,
            "disruptionsAllowed": max(0, healthy - desired),
            "expectedPods": expected,
            "observedGeneration": 1,
        },
    }


def add_pdb(build: ClusterBuild, name: str, namespace: str, *, expected: int, **spec: object) -> Obj:
    """A PodDisruptionBudget with all ``expected`` pods healthy (for plants)."""
    return build.add(_pdb(build, name, namespace, expected=expected, healthy=expected, age=30 * DAY, **spec))
