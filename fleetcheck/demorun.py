"""``fleetcheck demo``: generate the demo fleet, serve it over HTTPS, scan it like a real fleet.

Nothing is mocked: the generated snapshots are served by the replay server
in its own process (real TLS, bearer tokens, pagination), the scan reaches
them through a generated kubeconfig with the official client, and the
reports land where a real run puts them. At the end the planted gotchas are
compared with what the scan caught.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson
import yaml

from fleetcheck.catalog import CheckSpec
from fleetcheck.results import ResultsDocument

__all__ = ["catalog_table_markdown", "caught_plants", "planted_table_markdown", "run_demo", "write_demo_fleet_file"]


def demo_profile_extras(provider: str = "kubeadm") -> dict[str, Any]:
    """What the demo profiles add to the built-in ones: the generator's fleet standards, registries, settings.

    A provider's profile (``demo-prod-eks``) declares the provider's CNI and
    registries and the fleet's everything else. Live probes are off: the
    demo's hosts (``*.example.com``) are fictional, and the demo must not
    send a packet beyond loopback.
    """
    from fleetcheck.demo.generate import demo_fleet_spec, profile_registries, profile_settings, profile_standards

    spec = demo_fleet_spec()
    return {
        "registries": profile_registries(spec, provider),
        "standards": profile_standards(spec, provider),
        "settings": profile_settings(spec),
        "probes": {"enabled": False},
    }


#: the clean kubeadm prod cluster: what the platform team installs everywhere is compared with it
_PLATFORM_REFERENCE = "prod-us-east"


def _provider_comparisons(base: str, provider: str) -> dict[str, Any]:
    """How a provider's profile compares its (single) cluster with the fleet.

    The platform's own stack (webhooks, Pod Security labels, RBAC, ingress,
    mesh) is the same on every cluster, so it is compared with the clean
    kubeadm prod cluster; the node image is the provider's by design (EKS's
    AMIs, k3s's store boxes), so FC-NODE-002 is not compared there.
    """
    from fleetcheck.registry.profile import load_profile

    return {
        "description": f"{provider} clusters: the fleet's standards with {provider}'s CNI and registries; the "
        f"platform's own stack compared with {_PLATFORM_REFERENCE}; node images are {provider}'s (FC-NODE-002 off)",
        "reference_cluster": _PLATFORM_REFERENCE,
        "ignore": [*load_profile(base).ignore, "FC-NODE-002"],
    }


def write_demo_fleet_file(workdir: Path, cluster_dirs: list[Path], kubeconfig: Path) -> Path:
    """A fleet file for the replayed demo clusters, and one demo profile per built-in profile and provider used."""
    from fleetcheck.demo.generate import declared_facts, demo_fleet_spec, demo_profile

    profiles_dir = workdir / "profiles"
    profiles_dir.mkdir(parents=True, exist_ok=True)
    clusters: list[dict[str, Any]] = []
    used: dict[str, tuple[str, str]] = {}
    facts = declared_facts(demo_fleet_spec())
    for folder in cluster_dirs:
        meta = yaml.safe_load((folder / "cluster.yaml").read_text(encoding="utf-8")) or {}
        labels = {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}
        name = meta.get("name", folder.name)
        profile_name = demo_profile(labels)
        base = profile_name.removeprefix("demo-").split("-", 1)[0]
        used[profile_name] = (base, labels.get("provider", "kubeadm"))
        entry: dict[str, Any] = {
            "name": name,
            "context": name,
            "profile": f"profiles/{profile_name}.yaml",
            "labels": labels,
        }
        if name in facts:
            entry["facts"] = facts[name]
        clusters.append(entry)
    for profile_name, (base, provider) in sorted(used.items()):
        extras = demo_profile_extras(provider)
        profile = {"name": profile_name, "extends": base, **extras}
        if provider != "kubeadm":
            profile.update(_provider_comparisons(base, provider))
        if profile_name == "demo-dev":
            # the only dev cluster: its RBAC must match the clean prod cluster's
            profile["settings"] = {**extras["settings"], "FC-RBAC-001": {"reference_cluster": "prod-us-east"}}
        if not profile["settings"]:
            del profile["settings"]
        (profiles_dir / f"{profile_name}.yaml").write_text(yaml.safe_dump(profile, sort_keys=False), encoding="utf-8")
    fleet = {"defaults": {"kubeconfig": str(kubeconfig.resolve())}, "clusters": clusters}
    path = workdir / "fleet.yaml"
    path.write_text(yaml.safe_dump(fleet, sort_keys=False), encoding="utf-8")
    return path


def catalog_table_markdown(specs: list[CheckSpec]) -> str:
    """The README's check catalog (code, factor, severity, scope, title), in scorecard order."""
    lines = ["| code | factor | severity | scope | fails when |", "|---|---|---|---|---|"]
    for spec in specs:
        lines.append(f"| {spec.code} | {spec.factor} | {spec.severity} | {spec.scope} | {spec.title} |")
    return "\n".join(lines) + "\n"


def planted_table_markdown(plants: list[dict[str, str]]) -> str:
    """The README's table of planted gotchas (a test keeps the README equal to the generator's list)."""
    lines = ["| cluster | gotcha | code that catches it | object |", "|---|---|---|---|"]
    for plant in plants:
        obj = f"`{plant['object']}`" if plant.get("object") else "(the cluster)"
        note = f" (follows {plant['follows']})" if plant.get("follows") else ""
        description = plant.get("description", "").replace("|", "\\|")
        lines.append(f"| {plant['cluster']} | {description}{note} | {plant['code']} | {obj} |")
    return "\n".join(lines) + "\n"


def caught_plants(
    doc: ResultsDocument, plants: list[dict[str, str]]
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(caught, missed) planted gotchas among the codes this run checked."""
    ran = {(r.cluster, r.code) for r in doc.results}
    failing = {(r.cluster, r.code): r for r in doc.results if r.outcome in ("fail", "waived")}
    caught: list[dict[str, str]] = []
    missed: list[dict[str, str]] = []
    for plant in plants:
        key = (plant["cluster"], plant["code"])
        if key not in ran:
            continue
        record = failing.get(key)
        hit = record is not None and (
            not plant.get("object")
            or any(plant["object"] in o for o in record.objects)
            or plant["object"] in record.message
        )
        (caught if hit else missed).append(plant)
    return caught, missed


def run_demo(workdir: Path, report_dir: Path, *, small: bool = False, extra_checks: tuple[str, ...] = ()) -> int:
    """Generate, serve, scan, and report what was caught; 0 when the scan ran and caught every plant.

    ``extra_checks``: folders of the user's own checks, run against the demo
    fleet beside the built-in ones (a check author's first try-out).
    """
    from fleetcheck.demo.generate import demo_fleet_spec, generate_fleet
    from fleetcheck.replay import ReplayProcess
    from fleetcheck.runner import DocumentCatcher, incomplete_note, pytest_args_for

    workdir.mkdir(parents=True, exist_ok=True)
    fleet_root = workdir / "snapshots"
    print(f"fleetcheck demo: generating the demo fleet in {fleet_root} ...", flush=True)
    dirs = generate_fleet(fleet_root, demo_fleet_spec(small=small))
    kubeconfig = workdir / "kubeconfig"
    request_log = workdir / "requests.jsonl"
    request_log.unlink(missing_ok=True)
    print(f"fleetcheck demo: serving {len(dirs)} clusters over HTTPS on 127.0.0.1 (replay server) ...", flush=True)
    import pytest

    with ReplayProcess(dirs, kubeconfig, request_log=request_log):
        fleet_file = write_demo_fleet_file(workdir, dirs, kubeconfig)
        args = pytest_args_for(
            fleet=str(fleet_file),
            snapshots=(),
            profile=None,
            clusters=(),
            report_dir=report_dir,
            extra_checks=extra_checks,
            passthrough=["-p", "no:randomly"],
        )
        catcher = DocumentCatcher()
        ret = pytest.main(args, plugins=[catcher])
    doc = catcher.document
    if catcher.interrupt_exit is not None:  # a partial scan proves nothing about the plants: no "N of N caught"
        print(f"fleetcheck demo: {incomplete_note(doc)}", file=sys.stderr)
        return catcher.interrupt_exit
    if doc is None:
        print(f"fleetcheck demo: the scan produced no results (pytest exit {int(ret)})", file=sys.stderr)
        return 3
    methods: dict[str, int] = {}
    for line in request_log.read_bytes().splitlines() if request_log.exists() else []:
        method = str(orjson.loads(line).get("method", "?"))
        methods[method] = methods.get(method, 0) + 1
    print(f"API requests served: {sum(methods.values())} ({', '.join(f'{k} {v}' for k, v in sorted(methods.items()))})")
    plants_file = fleet_root / "planted.json"
    plants = orjson.loads(plants_file.read_bytes()) if plants_file.exists() else []
    caught, missed = caught_plants(doc, plants)
    print(f"planted gotchas caught: {len(caught)} of {len(caught) + len(missed)} (among the checks that ran)")
    for plant in missed:
        print(f"  MISSED {plant['cluster']} {plant['code']} {plant.get('object', '')}", file=sys.stderr)
    return 0 if not missed else 1
