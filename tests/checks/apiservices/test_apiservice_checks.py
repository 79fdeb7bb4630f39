"""FC-APISVC-001 on real-shaped APIServices (conditions as kube-aggregator writes them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.checks.gotcha_kit import apiservice, scan, write_snapshot


def test_apiservices(pytester: pytest.Pytester, tmp_path: Path) -> None:
    good = write_snapshot(
        tmp_path / "good",
        [
            apiservice("v1.apps", service=None),
            apiservice("v1beta1.metrics.k8s.io", service=("kube-system", "metrics-server")),
        ],
    )
    bad = write_snapshot(
        tmp_path / "bad",
        [
            apiservice("v1.apps", service=None),
            apiservice(
                "v1beta1.metrics.k8s.io",
                service=("kube-system", "metrics-server"),
                available="False",
                reason="MissingEndpoints",
                message='endpoints for service/metrics-server in "kube-system" have no addresses',
            ),
        ],
    )
    verdicts = scan(pytester, "test_apiservices.py", good, bad)
    assert verdicts.outcome("FC-APISVC-001", "good") == "pass"
    assert verdicts.outcome("FC-APISVC-001", "bad") == "fail"
    assert verdicts.objects("FC-APISVC-001", "bad") == ["APIService/v1beta1.metrics.k8s.io"]
    message = verdicts.message("FC-APISVC-001", "bad")
    assert "Service kube-system/metrics-server: Available=False (MissingEndpoints: endpoints for" in message


def test_missing_kind_is_an_error(pytester: pytest.Pytester, tmp_path: Path) -> None:
    folder = write_snapshot(tmp_path / "none", [], held=("namespaces",))
    verdicts = scan(pytester, "test_apiservices.py", folder)
    assert verdicts.outcome("FC-APISVC-001", "none") == "error"
