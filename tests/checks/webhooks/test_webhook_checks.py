"""FC-HOOK-001/002 and FC-CERT-001 on real-shaped webhook configurations, EndpointSlices and APIServices."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.checks.gotcha_kit import (
    NOW,
    apiservice,
    ca_bundle,
    endpoint_slice,
    namespace,
    profile,
    scan,
    webhook,
    webhook_config,
    write_snapshot,
)

GK = ("gatekeeper-system", "gatekeeper-webhook-service")
EXCLUDE = {
    "matchExpressions": [
        {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["kube-system", "gatekeeper-system"]}
    ]
}
NAMESPACES = [namespace("kube-system"), namespace("gatekeeper-system"), namespace("team-a")]


@pytest.fixture
def fleet(tmp_path: Path) -> list[Path]:
    good_ca = ca_bundle("gatekeeper-ca", NOW + timedelta(days=400))
    good = [
        *NAMESPACES,
        webhook_config(
            "ValidatingWebhookConfiguration",
            "gatekeeper-validating-webhook-configuration",
            [webhook("validation.gatekeeper.sh", namespace_selector=EXCLUDE, ca=good_ca)],
        ),
        # fail-open and url webhooks are not judged by the endpoint rule
        webhook_config(
            "MutatingWebhookConfiguration",
            "istio-sidecar-injector",
            [webhook("sidecar.istio.io", service=("istio-system", "istiod"), failure_policy="Ignore")],
        ),
        endpoint_slice(*reversed(GK), ready=[True, None]),
        apiservice("v1.apps", service=None),
        apiservice("v1beta1.metrics.k8s.io", service=("kube-system", "metrics-server"), ca=good_ca),
    ]
    expired = ca_bundle("old-ca", NOW - timedelta(days=3))
    bad = [
        *NAMESPACES,
        webhook_config(
            "ValidatingWebhookConfiguration",
            "gatekeeper-validating-webhook-configuration",
            # failurePolicy unset: v1 defaults to Fail; no namespaceSelector
            [
                webhook(
                    "validation.gatekeeper.sh", failure_policy=None, ca=ca_bundle("soon-ca", NOW + timedelta(days=5))
                )
            ],
        ),
        webhook_config(
            "MutatingWebhookConfiguration",
            "kyverno-resource-mutating-webhook-cfg",
            [
                webhook(
                    "mutate.kyverno.svc-fail",
                    service=("kyverno", "kyverno-svc"),
                    resources=("configmaps",),
                    namespace_selector={"matchLabels": {"policy": "on"}},
                    ca="bm90IGEgY2VydA==",
                )
            ],
        ),
        endpoint_slice(*reversed(GK), ready=[False, False]),
        apiservice("v1beta1.custom.metrics.k8s.io", service=("monitoring", "prometheus-adapter"), ca=expired),
    ]
    return [write_snapshot(tmp_path / "good", good), write_snapshot(tmp_path / "bad", bad)]


def test_webhook_checks(pytester: pytest.Pytester, fleet: list[Path]) -> None:
    verdicts = scan(pytester, "test_webhooks.py", *fleet)
    assert verdicts.outcome("FC-HOOK-001", "good") == "pass"
    assert verdicts.outcome("FC-HOOK-002", "good") == "pass"
    assert verdicts.outcome("FC-HOOK-001", "bad") == "fail"
    message = verdicts.message("FC-HOOK-001", "bad")
    assert (
        "webhook validation.gatekeeper.sh (failurePolicy Fail) calls Service gatekeeper-system/gatekeeper-" in message
    )
    assert "no ready endpoint in its EndpointSlices" in message
    # kyverno's Service has no EndpointSlice at all
    assert "kyverno/kyverno-svc, which has no EndpointSlice" in message
    assert verdicts.objects("FC-HOOK-001", "bad") == [
        "ValidatingWebhookConfiguration/gatekeeper-validating-webhook-configuration",
        "MutatingWebhookConfiguration/kyverno-resource-mutating-webhook-cfg",
    ]
    assert verdicts.outcome("FC-HOOK-002", "bad") == "fail"
    deadlock = verdicts.message("FC-HOOK-002", "bad")
    assert "validation.gatekeeper.sh intercepts * in kube-system and gatekeeper-system" in deadlock
    assert "with no namespaceSelector" in deadlock
    # kyverno's selector needs a label kube-system does not carry: excluded
    assert "kyverno" not in deadlock


def test_url_webhooks_are_not_judged_and_say_so(pytester: pytest.Pytester, tmp_path: Path) -> None:
    objects = [
        *NAMESPACES,
        webhook_config(
            "ValidatingWebhookConfiguration",
            "external-policy",
            [webhook("policy.example.com", service=None, url="https://policy.example.com/admit")],
        ),
    ]
    verdicts = scan(pytester, "test_webhooks.py", write_snapshot(tmp_path / "url", objects))
    assert verdicts.outcome("FC-HOOK-001", "url") == "skip"
    assert "call a url: outside the cluster" in verdicts.message("FC-HOOK-001", "url")
    # kube-system is still judged for a url webhook: no selector, so it intercepts it
    assert verdicts.outcome("FC-HOOK-002", "url") == "fail"


def test_missing_endpointslices_is_an_error_not_a_pass(pytester: pytest.Pytester, tmp_path: Path) -> None:
    held = tuple(k for k in __import__("tests.checks.gotcha_kit").checks.gotcha_kit.HELD if "endpointslices" not in k)
    objects = [*NAMESPACES, webhook_config("ValidatingWebhookConfiguration", "gk", [webhook("v.gk.sh")])]
    verdicts = scan(pytester, "test_webhooks.py", write_snapshot(tmp_path / "noslices", objects, held=held))
    assert verdicts.outcome("FC-HOOK-001", "noslices") == "error"
    assert "endpointslices" in verdicts.message("FC-HOOK-001", "noslices")


def test_ca_bundle_expiry(pytester: pytest.Pytester, fleet: list[Path]) -> None:
    verdicts = scan(pytester, "test_certificates.py", *fleet)
    assert verdicts.outcome("FC-CERT-001", "good") == "pass"
    assert verdicts.outcome("FC-CERT-001", "bad") == "fail"
    message = verdicts.message("FC-CERT-001", "bad")
    assert "webhook validation.gatekeeper.sh: soon-ca expires in 5 days" in message
    assert "spec.caBundle: old-ca expired 3 days ago" in message
    assert "caBundle holds no PEM certificate" in message
    assert "APIService/v1beta1.custom.metrics.k8s.io" in verdicts.objects("FC-CERT-001", "bad")


def test_ca_bundle_threshold_is_a_setting(pytester: pytest.Pytester, fleet: list[Path], tmp_path: Path) -> None:
    strict = profile(tmp_path / "strict.yaml", {"FC-CERT-001": {"threshold_days": 500}})
    verdicts = scan(pytester, "test_certificates.py", fleet[0], profile=strict)
    assert verdicts.outcome("FC-CERT-001", "good") == "fail"
    assert "within 500 days" in verdicts.message("FC-CERT-001", "good")


def test_ca_bundle_parse_is_bounded() -> None:
    from fleetcheck.facts.certs import parse_ca_bundle

    one = ca_bundle("a", NOW + timedelta(days=10))
    import base64

    pem = base64.b64decode(one) * 40
    parsed = parse_ca_bundle(base64.b64encode(pem).decode(), max_certs=3)
    assert len(parsed.certs) == 3
    assert parsed.problems == ["more than 3 certificates; the rest not read"]
    huge = parse_ca_bundle("A" * 2_000_000, max_bytes=1024)
    assert huge.certs == [] and "larger than 1,024 bytes" in huge.problems[0]


def _policy_cluster(tmp_path: Path, name: str, policy: str, *, extra: str | None = None) -> Path:
    hooks = [webhook("validation.gatekeeper.sh", namespace_selector=EXCLUDE, failure_policy=policy)]
    if extra is not None:
        hooks.append(webhook("check-ignore.gatekeeper.sh", namespace_selector=EXCLUDE, failure_policy=extra))
    objects = [
        *NAMESPACES,
        webhook_config("ValidatingWebhookConfiguration", "gatekeeper-validating-webhook-configuration", hooks),
        endpoint_slice(*reversed(GK), ready=[True]),
    ]
    return write_snapshot(tmp_path / name, objects)


def test_failure_policy_against_the_cohort(pytester: pytest.Pytester, tmp_path: Path) -> None:
    fleet = [
        _policy_cluster(tmp_path, "a", "Ignore"),
        _policy_cluster(tmp_path, "b", "Ignore", extra="Fail"),
        _policy_cluster(tmp_path, "closed", "Fail", extra="Ignore"),
    ]
    verdicts = scan(pytester, "test_webhooks.py", *fleet)
    assert verdicts.outcome("FC-HOOK-003", "closed") == "fail"
    message = verdicts.message("FC-HOOK-003", "closed")
    assert "webhook validation.gatekeeper.sh is failurePolicy Fail here, Ignore by the standard" in message
    assert "majority: 2 of 3 clusters of cohort profile default" in message
    assert verdicts.objects("FC-HOOK-003", "closed") == [
        "ValidatingWebhookConfiguration/gatekeeper-validating-webhook-configuration"
    ]
    assert verdicts.outcome("FC-HOOK-003", "a") == "skip"  # nothing fails closed on a
    # check-ignore: Fail on b, Ignore on closed, absent on a -> an even split, not judged, said
    assert verdicts.outcome("FC-HOOK-003", "b") == "skip"
    assert "no value holds more than half" in verdicts.message("FC-HOOK-003", "b")
    # the reverse: a and b fail open on validation.gatekeeper.sh, which is the standard: pass
    assert verdicts.outcome("FC-HOOK-004", "a") == "pass"


def test_fail_open_against_a_fail_closed_cohort(pytester: pytest.Pytester, tmp_path: Path) -> None:
    fleet = [
        _policy_cluster(tmp_path, "a", "Fail"),
        _policy_cluster(tmp_path, "b", "Fail"),
        _policy_cluster(tmp_path, "open", "Ignore"),
    ]
    verdicts = scan(pytester, "test_webhooks.py", *fleet)
    assert verdicts.outcome("FC-HOOK-004", "open") == "fail"
    assert "is failurePolicy Ignore here, Fail by the standard" in verdicts.message("FC-HOOK-004", "open")
    assert verdicts.outcome("FC-HOOK-003", "a") == "pass"
    assert verdicts.outcome("FC-HOOK-004", "a") == "skip"


def test_failure_policy_with_a_reference_cluster(pytester: pytest.Pytester, tmp_path: Path) -> None:
    fleet = [
        _policy_cluster(tmp_path, "ref", "Ignore"),
        _policy_cluster(tmp_path, "b", "Fail"),
        _policy_cluster(tmp_path, "c", "Fail"),
    ]
    prof = profile(tmp_path / "p.yaml", {})
    prof.write_text(prof.read_text() + "reference_cluster: ref\n")
    verdicts = scan(pytester, "test_webhooks.py", *fleet, profile=prof)
    assert verdicts.outcome("FC-HOOK-003", "b") == "fail"
    assert "reference cluster ref" in verdicts.message("FC-HOOK-003", "b")
    assert verdicts.outcome("FC-HOOK-003", "ref") == "skip"
