"""Real-shaped objects and snapshot folders for the issue-16 checks (webhooks, certificates, APIs, drains ...).

Objects copy ``kubectl get KIND -A -o json`` output: metadata with uid,
resourceVersion and creationTimestamp, the fields the API server defaults
(``matchPolicy``, ``sideEffects``, ``timeoutSeconds`` on webhooks), statuses
as the controllers write them. Each snapshot has one kubectl List file per
kind it holds, named like ``kubectl get KIND.GROUP`` output, so a kind with
no objects is still "held, zero objects" rather than "not captured".
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.harness import Verdicts, run_checks

Obj = dict[str, Any]
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]
CHECKS = REPO / "checks"

#: what each snapshot declares (empty List files), so checks never see "not captured"
HELD = (
    "namespaces",
    "nodes",
    "validatingwebhookconfigurations.admissionregistration.k8s.io",
    "mutatingwebhookconfigurations.admissionregistration.k8s.io",
    "endpointslices.discovery.k8s.io",
    "apiservices.apiregistration.k8s.io",
    "poddisruptionbudgets.policy",
    "customresourcedefinitions.apiextensions.k8s.io",
    "cronjobs.batch",
    "ingresses.networking.k8s.io",
)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def meta(name: str, namespace: str | None = None, **extra: Any) -> Obj:
    out: Obj = {
        "creationTimestamp": stamp(NOW - timedelta(days=120)),
        "name": name,
        "resourceVersion": "48213",
        "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{namespace}/{name}")),
    }
    if namespace is not None:
        out["namespace"] = namespace
    out.update(extra)
    return out


def namespace(name: str, labels: dict[str, str] | None = None) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": meta(name, labels={"kubernetes.io/metadata.name": name, **(labels or {})}),
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def ca_bundle(common_name: str, not_after: datetime) -> str:
    """A base64 PEM self-signed CA, as install scripts and cainjector write into caBundle."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_after - timedelta(days=365))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return base64.b64encode(cert.public_bytes(serialization.Encoding.PEM)).decode()


def webhook(
    name: str,
    *,
    service: tuple[str, str] | None = ("gatekeeper-system", "gatekeeper-webhook-service"),
    url: str | None = None,
    failure_policy: str | None = "Fail",
    namespace_selector: Obj | None = None,
    resources: tuple[str, ...] = ("*",),
    ca: str = "",
) -> Obj:
    client: Obj = {}
    if service is not None:
        client["service"] = {"name": service[1], "namespace": service[0], "path": "/v1/admit", "port": 443}
    if url is not None:
        client["url"] = url
    if ca:
        client["caBundle"] = ca
    hook: Obj = {
        "admissionReviewVersions": ["v1", "v1beta1"],
        "clientConfig": client,
        "matchPolicy": "Exact",
        "name": name,
        "namespaceSelector": namespace_selector if namespace_selector is not None else {},
        "objectSelector": {},
        "rules": [
            {
                "apiGroups": ["*"],
                "apiVersions": ["*"],
                "operations": ["CREATE", "UPDATE"],
                "resources": list(resources),
                "scope": "*",
            }
        ],
        "sideEffects": "None",
        "timeoutSeconds": 3,
    }
    if failure_policy is not None:
        hook["failurePolicy"] = failure_policy
    return hook


def webhook_config(kind: str, name: str, hooks: list[Obj]) -> Obj:
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": kind,
        "metadata": meta(name, generation=1, labels={"gatekeeper.sh/system": "yes"}),
        "webhooks": hooks,
    }


def endpoint_slice(service: str, ns: str, ready: list[bool | None]) -> Obj:
    endpoints = []
    for index, is_ready in enumerate(ready):
        conditions = {} if is_ready is None else {"ready": is_ready, "serving": is_ready, "terminating": False}
        endpoints.append(
            {
                "addresses": [f"10.64.1.{10 + index}"],
                "conditions": conditions,
                "nodeName": f"node-{index}",
                "targetRef": {"kind": "Pod", "name": f"{service}-{index}", "namespace": ns, "uid": str(uuid.uuid4())},
            }
        )
    return {
        "addressType": "IPv4",
        "apiVersion": "discovery.k8s.io/v1",
        "endpoints": endpoints or None,
        "kind": "EndpointSlice",
        "metadata": meta(
            f"{service}-x7k2p",
            ns,
            generateName=f"{service}-",
            labels={
                "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                "kubernetes.io/service-name": service,
            },
        ),
        "ports": [{"name": "https-webhook-server", "port": 8443, "protocol": "TCP"}],
    }


def apiservice(
    name: str, *, service: tuple[str, str] | None, available: str = "True", ca: str = "", **cond: str
) -> Obj:
    group, version = name.split(".", 1)[1], name.split(".", 1)[0]
    spec: Obj = {"group": group, "groupPriorityMinimum": 100, "version": version, "versionPriority": 100}
    if service is not None:
        spec["service"] = {"name": service[1], "namespace": service[0], "port": 443}
    if ca:
        spec["caBundle"] = ca
    condition = {
        "lastTransitionTime": stamp(NOW - timedelta(days=3)),
        "message": cond.get("message", "all checks passed"),
        "reason": cond.get("reason", "Passed" if service else "Local"),
        "status": available,
        "type": "Available",
    }
    return {
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": meta(name),
        "spec": spec,
        "status": {"conditions": [condition]},
    }


def _key(obj: Obj) -> str:
    from fleetcheck.core.kinds import ref_for_object

    return ref_for_object(obj["apiVersion"], obj["kind"]).key


def write_snapshot(
    folder: Path,
    objects: list[Obj],
    *,
    server_version: str = "v1.35.1",
    labels: dict[str, str] | None = None,
    held: tuple[str, ...] = HELD,
) -> Path:
    """A snapshot folder holding ``objects`` plus empty Lists for every kind in ``held``."""
    folder.mkdir(parents=True, exist_ok=True)
    by_key: dict[str, list[Obj]] = {key: [] for key in held}
    for obj in objects:
        by_key.setdefault(_key(obj), []).append(obj)
    for key, items in by_key.items():
        document = {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}
        (folder / f"{key}.json").write_text(json.dumps(document, indent=1), encoding="utf-8")
    cluster = {"name": folder.name, "captured": stamp(NOW), "serverVersion": server_version, "labels": labels or {}}
    (folder / "cluster.yaml").write_text(yaml.safe_dump(cluster), encoding="utf-8")
    return folder


def scan(pytester: pytest.Pytester, module: str, *snapshots: Path, profile: Path | None = None) -> Verdicts:
    args: list[str] = []
    for folder in snapshots:
        args += ["--snapshot", str(folder)]
    if profile is not None:
        args += ["--profile", str(profile)]
    return run_checks(pytester, CHECKS / module, *args)


def profile(path: Path, settings: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump({"name": "gotchas", "extends": "default", "settings": settings}), encoding="utf-8")
    return path
