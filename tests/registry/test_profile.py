"""Profiles: built-ins, ``extends`` merging, selection, severities, waivers and their errors."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from fleetcheck.catalog import CODE_PATTERN
from fleetcheck.errors import ConfigError
from fleetcheck.registry.profile import DEFAULT_SYSTEM_NAMESPACES, Profile, Waiver, builtin_profile_names, load_profile
from fleetcheck.results import SEVERITIES
from tests.builders import REPO, write_yaml


def test_builtin_profiles_load() -> None:
    assert builtin_profile_names() == ["default", "dev", "edge", "prod"]
    default = load_profile("default")
    assert default.name == "default"
    assert default.select == ["FC-*"] and default.ignore == [] and default.waivers == []
    assert tuple(default.system_namespaces) == DEFAULT_SYSTEM_NAMESPACES
    assert default.source.endswith("default.yaml")
    dev = load_profile("dev")
    assert dev.name == "dev"
    assert dev.extends == "default"
    assert dev.probes.timeout_seconds == 3  # inherited from default
    assert not dev.selects("FC-DNS-005") and dev.selects("FC-DNS-001")
    assert dev.severity_of("FC-QUOTA-001", "high") == "medium"
    prod = load_profile("prod")
    assert prod.settings["FC-QUOTA-003"] == {"threshold_percent": 85}
    assert prod.severity_of("FC-QUOTA-002", "medium") == "high"
    assert load_profile("edge").selects("FC-COST-001")  # info only: a one-pod edge cluster is worth a look


def test_builtin_profiles_name_only_catalog_codes() -> None:
    """Every code a built-in profile names is a code of CHECKS.md's catalog (typos would silently never apply)."""
    checks_md = REPO.parent / "shared" / "CHECKS.md"
    if not checks_md.is_file():
        pytest.skip(f"{checks_md} (the catalog's required minimum) is not next to this checkout")
    documented = set(re.findall(r"^\| (FC-[A-Z]+-\d{3}) \|", checks_md.read_text(encoding="utf-8"), re.M))
    assert len(documented) >= 39
    for name in builtin_profile_names():
        profile = load_profile(name)
        named = {*profile.severity, *profile.settings, *profile.ignore} - {"FC-*"}
        for code in named:
            assert CODE_PATTERN.match(code), (name, code)
            assert code in documented, f"profile {name} names {code}, which CHECKS.md does not list"


@pytest.fixture
def chain(tmp_path: Path) -> Path:
    """grandparent <- parent <- child, each adding a waiver and overriding a little."""
    write_yaml(
        tmp_path / "base.yaml",
        {
            "name": "base",
            "description": "the base",
            "extends": "default",
            "select": ["FC-QUOTA-*", "FC-DNS-*"],
            "settings": {"FC-QUOTA-003": {"threshold_percent": 80}, "FC-CLOCK-001": {"max_skew_seconds": 30}},
            "standards": {"cni": "cilium", "dns_upstreams": ["10.0.0.2", "10.0.0.3"]},
            "probes": {"timeout_seconds": 5, "ntp_servers": ["ntp1.example.com"]},
            "waivers": [{"code": "FC-QUOTA-001", "reason": "legacy tenants", "expires": "2030-01-01"}],
        },
    )
    write_yaml(
        tmp_path / "teams" / "parent.yaml",
        {
            "extends": "../base.yaml",
            "settings": {"FC-QUOTA-003": {"threshold_percent": 70}},
            "standards": {"dns_upstreams": ["10.9.9.9"]},
            "waivers": [{"code": "FC-DNS-*", "clusters": "edge-*", "reason": "no CoreDNS", "expires": "2030-01-01"}],
        },
    )
    return write_yaml(
        tmp_path / "teams" / "child.yaml",
        {
            "extends": "parent.yaml",
            "select": ["FC-QUOTA-*"],
            "probes": {"ntp_servers": ["ntp2.example.com"]},
            "waivers": [{"code": "FC-QUOTA-002", "reason": "migrating", "expires": "2030-01-01", "ticket": "OPS-1"}],
        },
    )


def test_extends_deep_merges_dicts_replaces_lists_accumulates_waivers(chain: Path) -> None:
    profile = load_profile(chain)
    assert profile.name == "child"  # a child's name is its own, never the parent's
    assert profile.description == ""
    assert profile.select == ["FC-QUOTA-*"]  # lists replace
    assert profile.settings == {"FC-QUOTA-003": {"threshold_percent": 70}, "FC-CLOCK-001": {"max_skew_seconds": 30}}
    assert profile.standards.cni == "cilium"  # dict merge keeps what the child does not set
    assert profile.standards.dns_upstreams == ["10.9.9.9"]
    assert profile.probes.timeout_seconds == 5
    assert profile.probes.ntp_servers == ["ntp2.example.com"]
    assert [w.code for w in profile.waivers] == ["FC-QUOTA-001", "FC-DNS-*", "FC-QUOTA-002"]
    assert profile.waivers[2].ticket == "OPS-1"
    assert profile.source == str(chain)


def test_empty_waivers_in_a_child_keeps_the_parents(tmp_path: Path) -> None:
    write_yaml(
        tmp_path / "parent.yaml",
        {"waivers": [{"code": "FC-QUOTA-001", "reason": "legacy", "expires": "2030-01-01"}]},
    )
    child = tmp_path / "child.yaml"
    child.write_text("extends: parent.yaml\nwaivers:\n", encoding="utf-8")
    assert [w.code for w in load_profile(child).waivers] == ["FC-QUOTA-001"]


def test_select_globs_and_ignore() -> None:
    profile = Profile(name="p", select=["FC-QUOTA-*", "FC-DNS-00[12]"], ignore=["FC-QUOTA-003"])
    assert profile.selects("FC-QUOTA-001")
    assert not profile.selects("FC-QUOTA-003")
    assert profile.selects("FC-DNS-002")
    assert not profile.selects("FC-DNS-003")
    assert not profile.selects("FC-CLOCK-001")
    assert Profile(name="all").selects("FC-ANYTHING-999")


def test_severity_exact_code_beats_glob_whatever_the_order() -> None:
    profile = Profile(name="p", severity={"FC-QUOTA-*": "low", "FC-QUOTA-001": "critical"})
    assert profile.severity_of("FC-QUOTA-001", "high") == "critical"
    assert profile.severity_of("FC-QUOTA-002", "medium") == "low"
    assert profile.severity_of("FC-DNS-001", "high") == "high"


def test_system_namespaces_and_registries() -> None:
    profile = Profile(
        name="p", system_namespaces=["kube-*", "platform"], registries={"eu-west": ["eu.gcr.io/*"], "*": ["ghcr.io/*"]}
    )
    assert profile.is_system_namespace("kube-system") and profile.is_system_namespace("platform")
    assert not profile.is_system_namespace("team-a")
    assert profile.allowed_registries("eu-west") == ["eu.gcr.io/*", "ghcr.io/*"]
    assert profile.allowed_registries("us-east") == ["ghcr.io/*"]
    assert profile.allowed_registries(None) == ["ghcr.io/*"]


def test_waiver_applies_through_its_expiry_day() -> None:
    waiver = Waiver(code="FC-BACKUP-*", clusters="prod-*", reason="restore drill booked", expires=date(2026, 11, 30))
    assert not waiver.expired(date(2026, 11, 29))
    assert not waiver.expired(date(2026, 11, 30))
    assert waiver.expired(date(2026, 12, 1))
    assert waiver.matches("FC-BACKUP-004", "prod-eu-west")
    assert not waiver.matches("FC-BACKUP-004", "dev-1")
    assert not waiver.matches("FC-QUOTA-001", "prod-eu-west")


def _write(tmp_path: Path, text: str, name: str = "p.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        ("extends: nosuch\n", "extends", "unknown profile 'nosuch'"),
        ("extends: ./missing.yaml\n", "extends", "not found"),
        ("extends: [default]\n", "extends", "profile name or path"),
        ("waivers:\n- code: FC-QUOTA-001\n  expires: 2030-01-01\n", "waivers[0].reason", "required"),
        ("waivers:\n- code: FC-QUOTA-001\n  reason: x y z\n  expires: someday\n", "waivers[0].expires", "date"),
        ("severity: {FC-QUOTA-001: urgent}\n", "severity.FC-QUOTA-001", "urgent"),
        ("severity: {QUOTA-001: low}\n", "severity", "not a check code"),
        ("settings: {FC-QUOTA-003: 90}\n", "settings.FC-QUOTA-003", "dictionary"),
        ("colour: red\n", "colour", "unknown field"),
        ("probes: {timeout_seconds: 0}\n", "probes.timeout_seconds", "greater than 0"),
    ],
)
def test_profile_errors_name_file_and_field(tmp_path: Path, text: str, field: str, words: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_profile(path)
    assert info.value.source == str(path)
    assert info.value.field == field
    assert words in info.value.one_line()
    assert info.value.fix


def test_extends_cycle_is_named(tmp_path: Path) -> None:
    _write(tmp_path, "extends: b.yaml\n", "a.yaml")
    _write(tmp_path, "extends: a.yaml\n", "b.yaml")
    with pytest.raises(ConfigError) as info:
        load_profile(tmp_path / "a.yaml")
    assert info.value.field == "extends"
    assert "a.yaml -> b.yaml -> a.yaml" in info.value.problem


def test_unknown_builtin_profile_by_name() -> None:
    with pytest.raises(ConfigError) as info:
        load_profile("nosuch")
    assert "default, dev, edge, prod" in info.value.fix


@pytest.mark.parametrize("severity", SEVERITIES)
def test_every_result_severity_is_a_profile_severity(severity: str) -> None:
    assert Profile(name="p", severity={"FC-QUOTA-001": severity}).severity_of("FC-QUOTA-001", "info") == severity
