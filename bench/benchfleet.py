"""The benchmark fleet: generated once into a work folder, served by one replay process, scanned in subsets.

A cluster's bytes depend only on its name and the fleet seed, so the
fleet-25 and fleet-50 of a run are subsets of its fleet-100 (the first
clusters of each size class): the fleet is generated and served once and
each size gets its own fleet file naming a subset of the contexts.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import yaml

from fleetcheck.core.kinds import parse_kind
from fleetcheck.demo.generate import FleetSpec, bench_fleet_spec, generate_fleet, profile_registries, profile_standards

__all__ = ["FleetMix", "ensure_fleet", "kinds_for_profiles", "write_fleet_file"]

#: Bump when the way the bench fleet is generated changes, so a cached fleet is regenerated.
_CACHE_VERSION = "1"


@dataclass(frozen=True)
class FleetMix:
    """How many clusters of each size class; the generator adds ``canary`` canaries (1: prod is guarded)."""

    prod: int
    dev: int
    edge: int
    canary: int = 1

    @property
    def total(self) -> int:
        """Clusters scanned (the canary included)."""
        return self.prod + self.dev + self.edge + self.canary

    @property
    def label(self) -> str:
        """``fleet-100``: the size the mix is named after (the canary not counted)."""
        return f"fleet-{self.prod + self.dev + self.edge}"

    def describe(self) -> str:
        """``10 prod + 30 dev + 60 edge + 1 canary = 101 clusters``."""
        canary = f" + {self.canary} canary" if self.canary else ""
        return f"{self.prod} prod + {self.dev} dev + {self.edge} edge{canary} = {self.total} clusters"

    @classmethod
    def for_size(cls, clusters: int) -> FleetMix:
        """The default mix (10% prod, 30% dev, the rest edge) for ``clusters`` clusters, at least one prod."""
        prod = max(1, round(clusters * 0.1))
        dev = min(clusters - prod, round(clusters * 0.3))
        return cls(prod, dev, max(0, clusters - prod - dev))

    def scaled(self, size: int) -> FleetMix:
        """A subset of this mix with about ``size`` clusters, in the same proportions (at least one prod)."""
        whole = self.prod + self.dev + self.edge
        if size >= whole:
            return self
        prod = max(1, round(self.prod * size / whole))
        dev = min(self.dev, round(self.dev * size / whole))
        edge = min(self.edge, max(0, size - prod - dev))
        return FleetMix(prod, dev, edge, self.canary)

    def spec(self) -> FleetSpec:
        """The generator's spec for this mix."""
        return bench_fleet_spec(prod=self.prod, dev=self.dev, edge=self.edge, canary=self.canary)

    def names(self) -> list[str]:
        """Cluster names in the generator's order."""
        return [c.name for c in self.spec().clusters]


def _fingerprint(spec: FleetSpec) -> str:
    payload = orjson.dumps({"v": _CACHE_VERSION, "spec": spec.model_dump(mode="json")}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(payload).hexdigest()[:16]


def ensure_fleet(workdir: Path, mix: FleetMix) -> tuple[Path, bool]:
    """The generated fleet folder for ``mix`` under ``workdir`` (generated unless cached); (folder, generated)."""
    spec = mix.spec()
    folder = workdir / f"fleet-{mix.prod}-{mix.dev}-{mix.edge}-{mix.canary}"
    stamp = folder / ".fingerprint"
    fingerprint = _fingerprint(spec)
    if stamp.exists() and stamp.read_text().strip() == fingerprint:
        return folder, False
    if folder.exists():
        shutil.rmtree(folder)
    generate_fleet(folder, spec)
    stamp.write_text(fingerprint + "\n")
    return folder, True


def _profile_base(labels: dict[str, str]) -> str:
    """The built-in profile a bench cluster uses (as ``fleetcheck demo`` picks it): by tier, else env."""
    tier = labels.get("tier") or labels.get("env") or "default"
    if tier in ("prod", "canary", "staging"):
        return "prod"
    return tier if tier in ("dev", "edge") else "default"


def write_fleet_file(out_dir: Path, fleet_dir: Path, names: list[str], kubeconfig: Path, spec: FleetSpec) -> Path:
    """A fleet file naming ``names`` (replayed contexts) and the bench profiles, as the demo writes them.

    The profiles extend the built-in ones with the generator's fleet standards
    and registries, and disable live probes (the fleet's hosts are fictional).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    profiles_dir = out_dir / "profiles"
    profiles_dir.mkdir(exist_ok=True)
    extras: dict[str, Any] = {
        "registries": profile_registries(spec),
        "standards": profile_standards(spec),
        "probes": {"enabled": False},
    }
    clusters: list[dict[str, Any]] = []
    used: set[str] = set()
    for name in names:
        meta = yaml.safe_load((fleet_dir / name / "cluster.yaml").read_text(encoding="utf-8")) or {}
        labels = {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}
        base = _profile_base(labels)
        used.add(base)
        clusters.append({"name": name, "context": name, "profile": f"profiles/bench-{base}.yaml", "labels": labels})
    for base in sorted(used):
        profile = {"name": f"bench-{base}", "extends": base, **extras}
        (profiles_dir / f"bench-{base}.yaml").write_text(yaml.safe_dump(profile, sort_keys=False), encoding="utf-8")
    fleet = {"defaults": {"kubeconfig": str(kubeconfig.resolve())}, "clusters": clusters}
    path = out_dir / "fleet.yaml"
    path.write_text(yaml.safe_dump(fleet, sort_keys=False), encoding="utf-8")
    return path


def kinds_for_profiles(fleet_file: Path) -> dict[str, list[str]]:
    """Per cluster of ``fleet_file``: the distinct kinds its profile's checks read (as ``ResourceRef.spec``)."""
    from fleetcheck.catalog import load_catalog
    from fleetcheck.registry.fleet import load_fleet
    from fleetcheck.registry.profile import load_profile

    catalog = load_catalog()
    fleet = load_fleet(str(fleet_file))
    by_profile: dict[str, list[str]] = {}
    out: dict[str, list[str]] = {}
    for entry in fleet.clusters:
        if entry.profile not in by_profile:
            profile = load_profile(entry.profile)
            refs = {
                ref.key: ref.spec
                for spec in catalog.checks.values()
                if profile.selects(spec.code)
                for ref in map(parse_kind, spec.reads)
            }
            by_profile[entry.profile] = [refs[key] for key in sorted(refs)]
        out[entry.name] = by_profile[entry.profile]
    return out
