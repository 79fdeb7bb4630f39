"""The reference tables shipped with fleetcheck: API removals, support calendars, retired components, add-on floors.

Each table is a YAML file in ``fleetcheck/data/`` that names its source, the
date it was taken and the checks that read it (``used_by``), so a finding can
cite the row it used and ``fleetcheck explain CODE`` can print the table. The
files are validated by the models below when first read; a broken shipped file
is a bug, reported as a :class:`~fleetcheck.errors.ConfigError` naming the file
and field. Profiles extend or override rows through each check's settings (the
checks merge them), never by editing these files.
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fleetcheck.errors import ConfigError
from fleetcheck.registry.yamlfile import config_error_from_validation, read_yaml_mapping

__all__ = [
    "DATA_DIR",
    "AddonVersions",
    "ApiRemoval",
    "ApiRemovals",
    "Calendar",
    "CalendarEntry",
    "CgroupV1Refusal",
    "NodeLifecycle",
    "OsEndOfLife",
    "RetiredComponent",
    "RetiredComponents",
    "RuntimeEndOfLife",
    "SupportCalendar",
    "Table",
    "addon_versions",
    "api_removals",
    "minor_key",
    "node_lifecycle",
    "parse_semver",
    "retired_components",
    "support_calendar",
    "tables_used_by",
]

DATA_DIR = Path(__file__).resolve().parent / "data"
_MINOR = re.compile(r"^\d+\.\d+$")
_SEMVER = re.compile(r"^v?(\d{1,6})\.(\d{1,6})(?:\.(\d{1,6}))?")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Table(_Strict):
    """What every table carries: where it comes from, when it was taken, who reads it."""

    name: str
    source: str
    taken: date
    used_by: list[str]
    notes: str = ""

    def citation(self) -> str:
        """``<name>.yaml (source URL, taken YYYY-MM-DD)``, for messages and explain."""
        return f"{self.name}.yaml ({self.source}, taken {self.taken.isoformat()})"

    def summary_lines(self) -> list[str]:
        """The rows, one short line each (``fleetcheck explain`` prints them)."""
        return []


class ApiRemoval(_Strict):
    """One group/version the upstream guide lists as removed in ``removed_in``."""

    group: str
    version: str
    kinds: list[str]
    removed_in: str = Field(pattern=_MINOR.pattern)
    replacement: str

    @property
    def api_version(self) -> str:
        """``group/version`` (``v1`` style for the core group)."""
        return f"{self.group}/{self.version}" if self.group else self.version


class ApiRemovals(Table):
    """``api_removals.yaml``."""

    entries: list[ApiRemoval]

    def summary_lines(self) -> list[str]:
        """One line per removed group/version."""
        return [
            f"{e.api_version} {', '.join(e.kinds)}: removed in {e.removed_in} -> {e.replacement}" for e in self.entries
        ]


class CalendarEntry(_Strict):
    """Support dates of one minor in one calendar."""

    standard_end: date
    extended_end: date | None = None


class Calendar(_Strict):
    """One calendar (upstream, eks, gke, aks) with its own source."""

    source: str
    notes: str = ""
    entries: dict[str, CalendarEntry] = Field(default_factory=dict)


class SupportCalendar(Table):
    """``support_calendar.yaml``."""

    calendars: dict[str, Calendar]

    def summary_lines(self) -> list[str]:
        """One line per calendar and minor."""
        lines: list[str] = []
        for name, calendar in self.calendars.items():
            lines.append(f"{name}: {calendar.source}")
            for minor, entry in sorted(calendar.entries.items(), key=lambda item: minor_key(item[0])):
                extended = f", extended until {entry.extended_end}" if entry.extended_end else ""
                lines.append(f"  {minor}: standard support until {entry.standard_end}{extended}")
            if not calendar.entries:
                lines.append("  (no dated rows: " + (calendar.notes or "declare them in the profile") + ")")
        return lines


class RetiredComponent(_Strict):
    """A component retired upstream, matched by image repository suffix."""

    name: str = Field(min_length=1)
    images: list[str] = Field(min_length=1)
    retired: date
    by: str
    source: str
    replacement: str


class RetiredComponents(Table):
    """``retired_components.yaml``."""

    entries: list[RetiredComponent]

    def summary_lines(self) -> list[str]:
        """One line per retired component."""
        return [
            f"{e.name} (images {', '.join(e.images)}): retired {e.retired} by {e.by}; {e.source}" for e in self.entries
        ]


class VersionFloors(_Strict):
    """Minimum versions per Kubernetes minor, with their source."""

    source: str
    minimum: dict[str, str]


class AutoscalerPolicy(_Strict):
    """cluster-autoscaler's version policy (a rule, not a table)."""

    source: str
    policy: str


class AddonVersions(Table):
    """``addon_versions.yaml``."""

    coredns: VersionFloors
    metrics_server: VersionFloors
    cluster_autoscaler: AutoscalerPolicy

    def summary_lines(self) -> list[str]:
        """One line per add-on and minor."""
        lines: list[str] = []
        for label, floors in (("CoreDNS", self.coredns), ("metrics-server", self.metrics_server)):
            shown = ", ".join(f"{m} >= {v}" for m, v in sorted(floors.minimum.items(), key=lambda i: minor_key(i[0])))
            lines.append(f"{label} ({floors.source}): {shown}")
        lines.append(f"cluster-autoscaler ({self.cluster_autoscaler.source}): {self.cluster_autoscaler.policy}")
        lines.append("kube-proxy: its minor must equal the cluster's (it is released with Kubernetes)")
        return lines


class OsEndOfLife(_Strict):
    """When one node operating system (matched by ``osImage`` prefix) stops getting fixes."""

    prefix: str = Field(min_length=3)
    end: date
    what: str
    source: str

    def matches(self, os_image: str) -> bool:
        """Whether ``os_image`` is this OS: the prefix, then no further letter or digit (AL2 is not AL2023)."""
        if not os_image.startswith(self.prefix):
            return False
        rest = os_image[len(self.prefix) :]
        return not rest or not rest[0].isalnum()


class RuntimeEndOfLife(_Strict):
    """When one container runtime minor (``containerd`` ``1.7``) stops getting fixes."""

    name: str = Field(min_length=1)
    minor: str = Field(pattern=_MINOR.pattern)
    end: date
    source: str

    @property
    def family(self) -> str:
        """``containerd 1.7``: how settings and messages name it."""
        return f"{self.name} {self.minor}"


class CgroupV1Refusal(_Strict):
    """From which kubelet minor the kubelet refuses cgroup v1 hosts by default (a declared rule, with its source)."""

    refused_from: str = Field(pattern=_MINOR.pattern)
    source: str
    notes: str = ""


class NodeLifecycle(Table):
    """``node_lifecycle.yaml``."""

    operating_systems: list[OsEndOfLife]
    runtimes: list[RuntimeEndOfLife]
    cgroup_v1: CgroupV1Refusal

    def summary_lines(self) -> list[str]:
        """One line per OS and runtime row, and the cgroup v1 rule."""
        lines = [f"OS {e.prefix}: {e.what} on {e.end} ({e.source})" for e in self.operating_systems]
        lines += [f"runtime {e.family}: end of life {e.end} ({e.source})" for e in self.runtimes]
        lines.append(
            f"cgroup v1: the kubelet refuses it by default from {self.cgroup_v1.refused_from} ({self.cgroup_v1.source})"
        )
        return lines


T = TypeVar("T", bound=Table)


def _load(name: str, model: type[T]) -> T:
    path = DATA_DIR / f"{name}.yaml"
    try:
        raw: dict[str, Any] = read_yaml_mapping(path, "reference table")
        return model.model_validate(raw)
    except ValidationError as exc:
        error = config_error_from_validation(str(path), exc, "the shipped table is broken: reinstall fleetcheck")
        raise error from None
    except OSError as exc:
        raise ConfigError(path, "", f"cannot read the shipped table: {exc}", "reinstall fleetcheck") from None


@cache
def api_removals() -> ApiRemovals:
    """The upstream API removal table."""
    return _load("api_removals", ApiRemovals)


@cache
def support_calendar() -> SupportCalendar:
    """Support dates per minor: upstream, EKS, GKE, AKS."""
    return _load("support_calendar", SupportCalendar)


@cache
def retired_components() -> RetiredComponents:
    """Components retired upstream."""
    return _load("retired_components", RetiredComponents)


@cache
def addon_versions() -> AddonVersions:
    """Add-on version floors per minor."""
    return _load("addon_versions", AddonVersions)


@cache
def node_lifecycle() -> NodeLifecycle:
    """Node OS and container runtime end-of-life dates, and the kubelet's cgroup v1 refusal."""
    return _load("node_lifecycle", NodeLifecycle)


_ALL = (api_removals, support_calendar, retired_components, addon_versions, node_lifecycle)


def tables_used_by(code: str) -> list[Table]:
    """The shipped tables a check reads (their ``used_by`` names it)."""
    return [table for table in (load() for load in _ALL) if code.upper() in table.used_by]


def minor_key(minor: str) -> tuple[int, int]:
    """``"1.35"`` -> ``(1, 35)`` for sorting and comparing; ``(0, 0)`` when it is not a minor."""
    match = _SEMVER.match(minor.strip())
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def parse_semver(text: str) -> tuple[int, int, int] | None:
    """``v1.11.3`` / ``1.11`` / ``v0.7.2-eksbuild.1`` -> ``(1, 11, 3)``; None when it is no version."""
    match = _SEMVER.match(text.strip()[:64])
    if not match:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
