"""FC-CERT-002 on real-shaped cert-manager Certificates (the resource only; no Secret is in the snapshot)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.checks.gotcha_kit import HELD, NOW, meta, scan, stamp, write_snapshot


def certificate(name: str, ready: str, not_after: str, reason: str = "Ready", message: str = "") -> dict[str, Any]:
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": meta(name, "shop", generation=2),
        "spec": {
            "dnsNames": ["shop.example.com"],
            "issuerRef": {"kind": "ClusterIssuer", "name": "letsencrypt"},
            "secretName": f"{name}-tls",
        },
        "status": {
            "conditions": [
                {
                    "lastTransitionTime": stamp(NOW - timedelta(days=30)),
                    "message": message or "Certificate is up to date and has not expired",
                    "observedGeneration": 2,
                    "reason": reason,
                    "status": ready,
                    "type": "Ready",
                }
            ],
            "notAfter": not_after,
            "notBefore": stamp(NOW - timedelta(days=60)),
            "renewalTime": stamp(NOW + timedelta(days=1)),
        },
    }


CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": meta("certificates.cert-manager.io"),
    "spec": {
        "group": "cert-manager.io",
        "names": {"kind": "Certificate", "plural": "certificates"},
        "scope": "Namespaced",
        "versions": [{"name": "v1", "served": True, "storage": True}],
    },
    "status": {"storedVersions": ["v1"]},
}


def test_certificates(pytester: pytest.Pytester, tmp_path: Path) -> None:
    held = (*HELD, "certificates.cert-manager.io")
    good = write_snapshot(
        tmp_path / "good", [CRD, certificate("web", "True", stamp(NOW + timedelta(days=60)))], held=held
    )
    bad = write_snapshot(
        tmp_path / "bad",
        [
            CRD,
            certificate(
                "web",
                "False",
                stamp(NOW + timedelta(days=3)),
                "Failed",
                "The certificate request has failed to complete and will be retried: 429 rateLimited",
            ),
        ],
        held=held,
    )
    none = write_snapshot(tmp_path / "none", [])
    verdicts = scan(pytester, "test_certificates.py", good, bad, none)
    assert verdicts.outcome("FC-CERT-002", "good") == "pass"
    assert verdicts.outcome("FC-CERT-002", "bad") == "fail"
    message = verdicts.message("FC-CERT-002", "bad")
    assert "shop/Certificate/web: not Ready (Failed: The certificate request has failed" in message
    assert "expires in 3 days" in message
    assert verdicts.outcome("FC-CERT-002", "none") == "skip"
