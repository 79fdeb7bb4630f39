"""FC-CERT-003: the API server's serving certificate, read from the scan's own TLS handshake with the replay server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from fleetcheck.replay import ReplayServer
from fleetcheck.state.snapshot import load_snapshot
from tests.checks.gotcha_kit import CHECKS, namespace, scan, write_snapshot
from tests.harness import Verdicts, run_checks

MODULE = CHECKS / "test_certificates.py"


def _live_scan(pytester: pytest.Pytester, tmp_path: Path, servers: dict[str, ReplayServer]) -> Verdicts:
    """One fleet file naming each server's cluster through that server's own kubeconfig."""
    clusters = []
    for name, server in servers.items():
        kubeconfig = server.write_kubeconfig(tmp_path / f"kubeconfig-{name}")
        clusters.append({"name": name, "context": name, "kubeconfig": str(kubeconfig)})
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(yaml.safe_dump({"clusters": clusters}), encoding="utf-8")
    return run_checks(pytester, MODULE, "--fleet", str(fleet))


def test_expiring_serving_certificate_fails_and_a_healthy_one_passes(pytester: pytest.Pytester, tmp_path: Path) -> None:
    healthy = load_snapshot(write_snapshot(tmp_path / "healthy", [namespace("shop")]))
    expiring = load_snapshot(write_snapshot(tmp_path / "expiring", [namespace("shop")]))
    plain = load_snapshot(write_snapshot(tmp_path / "plain", [namespace("shop")]))
    with (
        ReplayServer([healthy]) as good,
        ReplayServer([expiring], tls_validity=timedelta(days=5)) as soon,
        ReplayServer([plain], plain_http=True) as cleartext,
    ):
        verdicts = _live_scan(pytester, tmp_path, {"healthy": good, "expiring": soon, "plain": cleartext})
        expiring_url = soon.urls["expiring"]

    assert verdicts.outcome("FC-CERT-003", "healthy") == "pass", verdicts.message("FC-CERT-003", "healthy")
    assert verdicts.outcome("FC-CERT-003", "expiring") == "fail"
    message = verdicts.message("FC-CERT-003", "expiring")
    assert "the API server's serving certificate (CN=127.0.0.1,O=fleetcheck replay" in message
    assert "issued by CN=fleetcheck replay CA" in message
    assert "expires in 5 days" in message or "expires in 4 days" in message
    expected_day = (datetime.now(UTC) + timedelta(days=5)).strftime("%Y-%m-%d")
    assert expected_day in message
    assert "expected valid for more than 30 days" in message
    assert verdicts.objects("FC-CERT-003", "expiring") == [expiring_url]
    assert verdicts.outcome("FC-CERT-003", "plain") == "skip"
    assert "plain http://: no certificate is presented" in verdicts.message("FC-CERT-003", "plain")


def test_threshold_is_a_setting_and_snapshots_skip(pytester: pytest.Pytester, tmp_path: Path) -> None:
    expiring = load_snapshot(write_snapshot(tmp_path / "expiring", [namespace("shop")]))
    profile = tmp_path / "profile.yaml"
    profile.write_text(
        yaml.safe_dump({"name": "short", "extends": "default", "settings": {"FC-CERT-003": {"threshold_days": 2}}}),
        encoding="utf-8",
    )
    with ReplayServer([expiring], tls_validity=timedelta(days=5)) as soon:
        kubeconfig = soon.write_kubeconfig(tmp_path / "kubeconfig")
        fleet = tmp_path / "fleet.yaml"
        fleet.write_text(
            yaml.safe_dump({"clusters": [{"name": "expiring", "context": "expiring", "kubeconfig": str(kubeconfig)}]}),
            encoding="utf-8",
        )
        verdicts = run_checks(pytester, MODULE, "--fleet", str(fleet), "--profile", str(profile))
    assert verdicts.outcome("FC-CERT-003", "expiring") == "pass", verdicts.message("FC-CERT-003", "expiring")

    snapshots = scan(pytester, "test_certificates.py", write_snapshot(tmp_path / "snap", [namespace("shop")]))
    assert snapshots.outcome("FC-CERT-003", "snap") == "skip"
    assert "only in a live TLS handshake" in snapshots.message("FC-CERT-003", "snap")


def test_unreachable_server_is_an_error_never_a_pass(pytester: pytest.Pytester, tmp_path: Path) -> None:
    gone = load_snapshot(write_snapshot(tmp_path / "gone", [namespace("shop")]))
    server = ReplayServer([gone]).start()
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    server.stop()  # the port now refuses: no handshake, so no certificate to judge
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(
        yaml.safe_dump({"clusters": [{"name": "gone", "context": "gone", "kubeconfig": str(kubeconfig)}]}),
        encoding="utf-8",
    )
    verdicts = run_checks(pytester, MODULE, "--fleet", str(fleet))
    assert verdicts.outcome("FC-CERT-003", "gone") == "error"
    assert "cannot connect" in verdicts.message("FC-CERT-003", "gone")
