"""The replay server's parts on their own: selectors, time rebasing, what is served, certificates, kubeconfig."""

from __future__ import annotations

import ipaddress
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
import yaml
from cryptography import x509

from fleetcheck.replay.certs import generate_tls
from fleetcheck.replay.kubeconfig import build_kubeconfig, write_kubeconfig
from fleetcheck.replay.pages import PageCache, TimeRebaser, build_cluster_pages, version_priority
from fleetcheck.replay.selectors import SelectorError, parse_field_selector, parse_label_selector

from .conftest import CAPTURED, make_crd, make_pod, small_snapshot, snapshot_of


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("app=web", {"app": "web"}, True),
        ("app==web", {"app": "db"}, False),
        ("app!=web", {}, True),
        ("app in (web,db)", {"app": "db"}, True),
        ("app notin (web, db)", {}, True),
        ("app notin (web, db)", {"app": "web"}, False),
        ("tier", {"tier": ""}, True),
        ("!tier", {"tier": "x"}, False),
        ("app=web,!legacy,env in (prod)", {"app": "web", "env": "prod"}, True),
        ("example.com/team=a", {"example.com/team": "a"}, True),
        ("", {"anything": "x"}, True),
    ],
)
def test_label_selectors(selector: str, labels: dict[str, str], expected: bool) -> None:
    assert all(req.matches(labels) for req in parse_label_selector(selector)) is expected


@pytest.mark.parametrize("selector", ["app in (web", "app=web,", "app=(x)", "=web", "app in ()", "a b"])
def test_bad_label_selectors(selector: str) -> None:
    with pytest.raises(SelectorError):
        parse_label_selector(selector)


def test_field_selectors_follow_the_kind() -> None:
    [req] = parse_field_selector("spec.nodeName!=node-1", "pods")
    assert (req.field, req.value, req.negate) == ("spec.nodeName", "node-1", True)
    with pytest.raises(SelectorError, match="field label not supported"):
        parse_field_selector("spec.nodeName=x", "configmaps")
    with pytest.raises(SelectorError):
        parse_field_selector("metadata.name", "pods")


def test_time_rebaser_shifts_whole_strings_only() -> None:
    rebase = TimeRebaser(3600)
    body = orjson.dumps(
        {
            "a": "2024-05-01T12:00:00Z",
            "b": ["2024-05-01T12:00:00.123456Z"],
            "c": '{"x":"2024-05-01T12:00:00Z"}',
            "d": "at 2024-05-01T12:00:00Z",
            "e": "2024-05-01T12:00:00+02:00",
        }
    )
    moved = orjson.loads(rebase(body))
    assert moved["a"] == "2024-05-01T13:00:00Z"
    assert moved["b"] == ["2024-05-01T13:00:00.123456Z"]
    assert moved["c"] == '{"x":"2024-05-01T12:00:00Z"}'
    assert moved["d"] == "at 2024-05-01T12:00:00Z"
    assert moved["e"] == "2024-05-01T12:00:00+02:00"
    assert TimeRebaser(0)(body) is body


def test_datetimes_from_yaml_render_like_the_api_server() -> None:
    pod = make_pod("p", "ns", node="n", app="web", created=CAPTURED)
    pod["metadata"]["creationTimestamp"] = CAPTURED  # what yaml.safe_load makes of an unquoted timestamp
    snap = snapshot_of("yaml", [pod])
    pages = build_cluster_pages(snap, now=CAPTURED + timedelta(days=1))
    body = orjson.loads(pages.kinds[("", "v1", "pods")].bodies[0])
    assert body["metadata"]["creationTimestamp"] == "2024-05-02T12:00:00Z"


def test_served_resources() -> None:
    snap = small_snapshot()
    snap.objects["widgets.example.com"] = [
        {
            "apiVersion": "example.com/v1beta1",
            "kind": "Widget",
            "metadata": {"name": "w", "namespace": "a"},
        }
    ]
    pages = build_cluster_pages(snap, now=CAPTURED)
    served = set(pages.kinds)
    assert ("apps", "v1", "daemonsets") in served
    assert ("extensions", "v1beta1", "daemonsets") not in served
    assert ("batch", "v1", "cronjobs") in served, "built-in kinds are always served"
    assert ("velero.io", "v1", "schedules") in served, "a CRD without objects is served, empty"
    assert ("example.com", "v1beta1", "widgets") in served, "objects without a CRD are served"
    assert not any(group == "argoproj.io" for group, _, _ in served)
    assert ("", "v1", "secrets") in pages.forbidden and ("", "v1", "secrets") not in served
    legacy = orjson.loads(pages.kinds[("apps", "v1", "daemonsets")].bodies[0])
    assert legacy["apiVersion"] == "apps/v1"
    assert pages.group_versions()["apps"] == ["v1"]


def test_crd_decides_scope_and_plural() -> None:
    crd = make_crd("example.com", "gizmoes", "Gizmo", "v2", scope="Cluster")
    gizmo = {"apiVersion": "example.com/v2", "kind": "Gizmo", "metadata": {"name": "g1"}}
    pages = build_cluster_pages(snapshot_of("c", [crd, gizmo]), now=CAPTURED)
    kind = pages.kinds[("example.com", "v2", "gizmoes")]
    assert kind.ref.namespaced is False and len(kind) == 1
    assert ("example.com", "v2", "gizmos") not in pages.kinds


def test_version_priority() -> None:
    assert sorted(["v1beta1", "v1alpha1", "v2", "v1", "v1beta2"], key=version_priority) == [
        "v2",
        "v1",
        "v1beta2",
        "v1beta1",
        "v1alpha1",
    ]


def test_page_cache_is_bounded() -> None:
    cache = PageCache(max_bytes=100)
    for i in range(10):
        cache.put(i, b"x" * 20)
    assert cache.get(0) is None and cache.get(9) == b"x" * 20
    cache.put("huge", b"x" * 60)
    assert cache.get("huge") is None


def test_certificates() -> None:
    material = generate_tls(timedelta(hours=1))
    cert = x509.load_pem_x509_certificate(material.cert_pem)
    ca = x509.load_pem_x509_certificate(material.ca_pem)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.IPv4Address("127.0.0.1")]
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert cert.issuer == ca.subject
    assert cert.not_valid_after_utc - datetime.now(UTC) <= timedelta(hours=1)
    cert.verify_directly_issued_by(ca)
    assert "key_pem" not in repr(material)


def test_kubeconfig_file(tmp_path: Path) -> None:
    urls = {"prod": "https://127.0.0.1:1111", "dev": "https://127.0.0.1:2222"}
    path = write_kubeconfig(tmp_path / "sub" / "config", urls, token="t0k", ca_pem=b"PEM")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    doc = yaml.safe_load(path.read_text())
    assert doc["current-context"] == "prod"
    assert [c["name"] for c in doc["contexts"]] == ["prod", "dev"]
    assert doc["clusters"][1]["cluster"] == {"server": urls["dev"], "certificate-authority-data": "UEVN"}
    assert doc["users"][0]["user"] == {"token": "t0k"}
    insecure = build_kubeconfig(urls, token="t", ca_pem=b"", insecure=True)
    assert insecure["clusters"][0]["cluster"]["insecure-skip-tls-verify"] is True
    assert list(tmp_path.joinpath("sub").iterdir()) == [path], "no temp file left behind"
