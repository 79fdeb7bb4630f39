"""Profiles: which checks apply, how severe they are, thresholds, standards, waivers.

Severity belongs to the profile, not the check (as in Polaris): the check
declares a default, the profile may override it. A profile may ``extend``
another (built-in or a file); mappings merge key by key, lists replace,
except ``waivers``, which accumulate.
"""

from __future__ import annotations

import fnmatch
import re
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from fleetcheck.core.providers import PROVIDER_NAMESPACES, PROVIDERS
from fleetcheck.errors import ConfigError
from fleetcheck.paths import builtin_profiles_dir
from fleetcheck.registry.yamlfile import config_error_from_validation, read_yaml_mapping

__all__ = [
    "DEFAULT_SYSTEM_NAMESPACES",
    "ProbeSettings",
    "Profile",
    "Standards",
    "Waiver",
    "builtin_profile_names",
    "load_profile",
]

Severity = Literal["critical", "high", "medium", "low", "info"]

#: Namespaces created by Kubernetes itself or by platform add-ons: not tenants.
DEFAULT_SYSTEM_NAMESPACES: tuple[str, ...] = (
    "default",
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "kube-flannel",
    "calico-system",
    "tigera-operator",
    "cilium",
    "velero",
    "cert-manager",
    "monitoring",
    "logging",
    "argocd",
    "flux-system",
    "ingress-nginx",
    "istio-system",
    "local-path-storage",
)

_FIX = "see 'Profiles' in the README for the allowed fields"
#: a Kubernetes label key: optional DNS prefix, then a name of at most 63 characters
_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Waiver(_Strict):
    """An accepted finding: skip a code on matching clusters until a date."""

    code: str = Field(min_length=1, description="check code or glob, e.g. FC-QUOTA-001 or FC-BACKUP-*")
    clusters: str = Field(default="*", description="cluster-name glob")
    objects: str | None = Field(default=None, description="object glob, e.g. 'team-a-*/Namespace/*'")
    reason: str = Field(min_length=3)
    expires: date
    ticket: str | None = None

    def matches(self, code: str, cluster: str) -> bool:
        """Whether this waiver names ``code`` on ``cluster`` (expiry is checked separately)."""
        return fnmatch.fnmatchcase(code, self.code) and fnmatch.fnmatchcase(cluster, self.clusters)

    def expired(self, today: date) -> bool:
        """A waiver applies through its expiry day and stops the day after."""
        return today > self.expires


class Standards(_Strict):
    """Fleet standards the profile declares; unset means "the majority of the fleet"."""

    cni: str | None = None
    cni_version: str | None = None
    kubernetes_minor: str | None = None
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_username_prefix: str | None = None
    dns_upstreams: list[str] | None = None
    cluster_domain: str | None = None
    ingress: str | None = None
    mesh: str | None = None
    metrics_endpoints: list[str] = Field(default_factory=list)
    replicated_storage_classes: list[str] = Field(default_factory=list)


class ProbeSettings(_Strict):
    """Live probes: off on snapshots; only hosts named here or in the fleet file are contacted."""

    enabled: bool = True
    timeout_seconds: float = Field(default=3.0, gt=0, le=60)
    ntp_servers: list[str] = Field(default_factory=list)
    ntp_samples: int = Field(default=3, ge=1, le=10)
    dns_names: list[str] = Field(default_factory=list)
    allow_http: bool = False


class Profile(_Strict):
    """One profile, after ``extends`` has been resolved."""

    name: str
    description: str = ""
    extends: str | None = None
    select: list[str] = Field(default_factory=lambda: ["FC-*"])
    ignore: list[str] = Field(default_factory=list)
    severity: dict[str, Severity] = Field(default_factory=dict)
    settings: dict[str, dict[str, Any]] = Field(default_factory=dict)
    system_namespaces: list[str] = Field(default_factory=lambda: list(DEFAULT_SYSTEM_NAMESPACES))
    #: more namespaces (globs) per provider, added to :data:`fleetcheck.core.providers.PROVIDER_NAMESPACES`
    provider_namespaces: dict[str, list[str]] = Field(default_factory=dict)
    registries: dict[str, list[str]] = Field(default_factory=dict)
    standards: Standards = Field(default_factory=Standards)
    #: label keys that split the profile's clusters into cohorts for fleet comparisons (same profile AND labels)
    cohort_by: list[str] = Field(default_factory=list, max_length=8)
    #: the cluster whose values are the standard for this profile's fleet checks (unless a standard is declared)
    reference_cluster: str | None = Field(default=None, min_length=1, max_length=253)
    probes: ProbeSettings = Field(default_factory=ProbeSettings)
    waivers: list[Waiver] = Field(default_factory=list)
    #: where it was read from, for error messages (not a user field)
    source: str = Field(default="", exclude=True)

    @field_validator("severity", "settings")
    @classmethod
    def _codes_look_like_codes(cls, value: dict[str, Any]) -> dict[str, Any]:
        for code in value:
            if not code.startswith("FC-"):
                raise ValueError(f"{code!r} is not a check code (FC-XXX-000)")
        return value

    @field_validator("provider_namespaces")
    @classmethod
    def _providers_are_known(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for provider in value:
            if provider not in PROVIDERS:
                raise ValueError(f"{provider!r} is not a provider (one of {', '.join(PROVIDERS)})")
        return value

    @field_validator("cohort_by")
    @classmethod
    def _cohort_keys_are_label_keys(cls, value: list[str]) -> list[str]:
        for key in value:
            if not _LABEL_KEY.match(key):
                raise ValueError(f"{key!r} is not a label key (write e.g. cohort_by: [env, region])")
        if len(set(value)) != len(value):
            raise ValueError("lists a label key twice")
        return value

    def selects(self, code: str) -> bool:
        """Whether the check ``code`` runs under this profile."""
        chosen = any(fnmatch.fnmatchcase(code, pattern) for pattern in self.select)
        return chosen and not any(fnmatch.fnmatchcase(code, pattern) for pattern in self.ignore)

    def severity_of(self, code: str, default: str) -> str:
        """The profile's severity for ``code`` (exact code first, then globs), else the check's."""
        if code in self.severity:
            return self.severity[code]
        for pattern, value in self.severity.items():
            if fnmatch.fnmatchcase(code, pattern):
                return value
        return default

    def is_system_namespace(self, namespace: str, provider: str | None = None) -> bool:
        """System namespaces are exempt from tenant rules (quotas, backups ...).

        With ``provider`` (the cluster's provider fact), that provider's own
        namespaces count too: the built-in list plus ``provider_namespaces``.
        """
        patterns = self.system_namespaces
        if provider is not None:
            patterns = [*patterns, *self.provider_system_namespaces(provider)]
        return any(fnmatch.fnmatchcase(namespace, pattern) for pattern in patterns)

    def provider_system_namespaces(self, provider: str) -> list[str]:
        """The namespaces (globs) a provider owns on its clusters: the documented list plus the profile's."""
        return [*PROVIDER_NAMESPACES.get(provider, ()), *self.provider_namespaces.get(provider, [])]

    def allowed_registries(self, region: str | None) -> list[str]:
        """Registry patterns allowed for ``region``: its own entry plus the ``*`` entry (every region)."""
        own = self.registries.get(region, []) if region else []
        return list(dict.fromkeys([*own, *self.registries.get("*", [])]))


def builtin_profile_names() -> list[str]:
    """Names of the profiles shipped with fleetcheck."""
    return sorted(p.stem for p in builtin_profiles_dir().glob("*.yaml"))


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if key == "waivers" and isinstance(value, list | None) and isinstance(base.get(key), list | None):
            # ``waivers:`` left empty is YAML null: nothing to add, not an error
            merged[key] = [*(base.get(key) or []), *(value or [])]
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _locate(ref: str, relative_to: Path | None) -> Path:
    try:
        candidate = Path(ref).expanduser()
    except RuntimeError:  # ~user of an unknown user
        raise ConfigError(
            relative_to or "--profile",
            "extends" if relative_to else "profile",
            f"cannot expand {ref.split('/', 1)[0]!r}: no such user",
            "write the path out",
        ) from None
    if candidate.suffix in {".yaml", ".yml"} or "/" in ref:
        if not candidate.is_absolute() and relative_to is not None:
            candidate = relative_to.parent / candidate
        if relative_to is not None and not candidate.is_file():
            raise ConfigError(
                relative_to,
                "extends",
                f"profile file {candidate} not found",
                "fix the path (relative to this profile) or extend a built-in profile",
            )
        return candidate
    builtin = builtin_profiles_dir() / f"{ref}.yaml"
    if builtin.is_file():
        return builtin
    names = ", ".join(builtin_profile_names())
    raise ConfigError(
        relative_to or "--profile",
        "extends" if relative_to else "profile",
        f"unknown profile {ref!r}",
        f"use a built-in profile ({names}) or a path to a YAML file",
    )


def _load_raw(path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    if path.resolve() in chain:
        cycle = " -> ".join(p.name for p in (*chain, path.resolve()))
        raise ConfigError(path, "extends", f"profiles extend each other in a cycle ({cycle})", "break the cycle")
    data = read_yaml_mapping(path, "profile")
    parent = data.get("extends")
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ConfigError(path, "extends", "must be a profile name or path", "write e.g. 'extends: prod'")
    base = _load_raw(_locate(parent, path), (*chain, path.resolve()))
    base.pop("name", None)
    base.pop("description", None)
    return _deep_merge(base, data)


def load_profile(ref: str | Path = "default") -> Profile:
    """A built-in profile by name, or a profile file, with ``extends`` resolved."""
    path = _locate(str(ref), None) if not isinstance(ref, Path) else ref
    raw = _load_raw(path, ())
    raw.setdefault("name", path.stem)
    try:
        profile = Profile.model_validate(raw)
    except ValidationError as exc:
        raise config_error_from_validation(path, exc, _FIX) from None
    return profile.model_copy(update={"source": str(path)})
