"""The Kustomize base, components and overlays: references resolve, builds are valid and consistent."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetcheck import __version__ as fleetcheck_version
from fleetcheck.core.quantity import parse_quantity
from fleetcheck.registry.fleet import FleetFile
from fleetcheck.registry.profile import load_profile
from tests.deploy.kit import (
    DEPLOY,
    IMAGE_REPOSITORY,
    KUSTOMIZE,
    MANIFESTS,
    REPO,
    container,
    containers,
    is_kustomization,
    kubectl,
    kustomization_dirs,
    kustomize_build,
    literal_env,
    manifest_files,
    pod_templates,
    roundtrip,
)

BUILDS = [KUSTOMIZE / "base", KUSTOMIZE / "overlays" / "example", KUSTOMIZE / "overlays" / "sharded"]
needs_kubectl = pytest.mark.skipif(kubectl() is None, reason="no kubectl with kustomize 4.5+ on PATH or in .ci/bin")


def _kustomization(folder: Path) -> dict[str, Any]:
    data = yaml.safe_load((folder / "kustomization.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _referenced(folder: Path) -> list[Path]:
    """Every path a kustomization names: resources, components, patches, generator files."""
    data = _kustomization(folder)
    names = [*data.get("resources", []), *data.get("components", [])]
    names += [p["path"] for p in data.get("patches", []) if "path" in p]
    for generator in (*data.get("configMapGenerator", []), *data.get("secretGenerator", [])):
        names += [f.split("=", 1)[-1] for f in generator.get("files", [])]
    return [(folder / name).resolve() for name in names]


@pytest.mark.parametrize("folder", kustomization_dirs(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_kustomization_references_exist(folder: Path) -> None:
    data = _kustomization(folder)
    assert data["apiVersion"].startswith("kustomize.config.k8s.io/")
    assert data["kind"] in {"Kustomization", "Component"}
    for path in _referenced(folder):
        assert path.exists(), f"{folder.relative_to(REPO)} names {path} which does not exist"
        if path.is_dir():
            assert (path / "kustomization.yaml").is_file(), f"{path} is a folder without a kustomization.yaml"
        else:
            # kustomize's default load restrictor: files must be inside the kustomization's folder
            assert folder.resolve() in path.parents, f"{path} is outside {folder} (kustomize would refuse it)"


def test_every_manifest_is_listed_by_a_kustomization() -> None:
    listed = {path for folder in kustomization_dirs() for path in _referenced(folder) if path.is_file()}
    orphans = [p.relative_to(REPO) for p in manifest_files() if p.resolve() not in listed]
    assert not orphans, f"manifests no kustomization includes: {orphans}"


def test_no_stray_kustomization_names() -> None:
    for path in DEPLOY.rglob("*"):
        if path.name.lower().startswith("kustomization"):
            assert is_kustomization(path) and path.suffix == ".yaml", path


def test_base_pins_the_image_to_the_package_version() -> None:
    images = _kustomization(KUSTOMIZE / "base")["images"]
    assert images == [{"name": IMAGE_REPOSITORY, "newTag": fleetcheck_version}]
    assert _referenced(KUSTOMIZE / "base") == [MANIFESTS.resolve()]


# -- the configuration the scans read -------------------------------------------------------
def _config_files(objects: list[dict[str, Any]]) -> dict[str, str]:
    (config,) = [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "fleetcheck-config"]
    return dict(config["data"])


def _check_config(data: dict[str, str], tmp_path: Path) -> None:
    """fleet.yaml and profile.yaml pass fleetcheck's own (strict) loaders."""
    fleet = FleetFile.model_validate(yaml.safe_load(data["fleet.yaml"]))
    assert fleet.defaults.profile == "profile.yaml", "the profile is the ConfigMap's sibling file"
    (tmp_path / "profile.yaml").write_text(data["profile.yaml"], encoding="utf-8")
    profile = load_profile(tmp_path / "profile.yaml")
    assert profile.name
    kubeconfig = yaml.safe_load(data["in-cluster.kubeconfig"])
    assert [c["name"] for c in kubeconfig["contexts"]] == ["in-cluster"]
    assert any(c.context == "in-cluster" for c in fleet.clusters), "the home cluster is scanned"


def test_shipped_config_is_valid_for_fleetcheck(tmp_path: Path) -> None:
    objects = [doc for doc in yaml.safe_load_all((MANIFESTS / "configmap.yaml").read_text(encoding="utf-8"))]
    _check_config(_config_files(objects), tmp_path)


def test_overlay_config_files_are_valid_for_fleetcheck(tmp_path: Path) -> None:
    folder = KUSTOMIZE / "overlays" / "example"
    data = {name: (folder / name).read_text(encoding="utf-8") for name in ("fleet.yaml", "profile.yaml")}
    data["in-cluster.kubeconfig"] = _config_files(yaml.safe_load_all((MANIFESTS / "configmap.yaml").read_text()))[
        "in-cluster.kubeconfig"
    ]
    _check_config(data, tmp_path)


# -- kubectl kustomize ----------------------------------------------------------------------
@needs_kubectl
@pytest.mark.parametrize("folder", BUILDS, ids=lambda p: p.relative_to(KUSTOMIZE).as_posix())
def test_build_is_valid(folder: Path) -> None:
    objects = kustomize_build(folder)
    assert objects
    for obj in objects:
        assert roundtrip(obj) == obj, f"{obj['kind']}/{obj['metadata']['name']} after kustomize"
    kinds = {o["kind"] for o in objects}
    assert {"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "CronJob"} <= kinds
    assert "Role" not in kinds and "Secret" not in kinds, "Secrets access is opt-in only"


@needs_kubectl
def test_example_overlay_customises_schedule_image_and_config() -> None:
    objects = kustomize_build(KUSTOMIZE / "overlays" / "example")
    (cron,) = [o for o in objects if o["kind"] == "CronJob"]
    assert cron["spec"]["schedule"] == "30 5 * * 1-5"
    (pod,) = pod_templates(cron)
    scanner = container(pod, "fleetcheck")
    assert scanner["image"] == f"registry.eu-west.example.com/platform/fleetcheck:{fleetcheck_version}"
    assert literal_env(scanner)["PUSHGATEWAY_URL"].startswith("http://")
    assert literal_env(scanner)["FLEETCHECK_FLEET"], "the patch keeps the base's env entries"
    files = _config_files(objects)
    assert files["fleet.yaml"] == (KUSTOMIZE / "overlays" / "example" / "fleet.yaml").read_text(encoding="utf-8")
    assert "in-cluster.kubeconfig" in files, "merging keeps the base's kubeconfig key"
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["config"]["configMap"]["name"] == "fleetcheck-config"


@needs_kubectl
def test_sharded_overlay_sets_n_once_and_everything_follows() -> None:
    objects = kustomize_build(KUSTOMIZE / "overlays" / "sharded")
    jobs = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Job"}
    shards, merge = jobs["fleetcheck-shards"], jobs["fleetcheck-merge"]
    assert shards["spec"]["completions"] == shards["spec"]["parallelism"] == 4
    assert literal_env(container(pod_templates(shards)[0], "fleetcheck"))["FLEETCHECK_SHARDS"] == "4"
    assert literal_env(container(pod_templates(merge)[0], "merge"))["FLEETCHECK_SHARDS"] == "4"
    for job in jobs.values():
        for c in containers(pod_templates(job)[0]):
            assert c["image"] == f"{IMAGE_REPOSITORY}:{fleetcheck_version}"


@needs_kubectl
def test_argocd_component_adds_only_the_namespaced_secrets_role(tmp_path: Path) -> None:
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    base = os.path.relpath(KUSTOMIZE / "base", overlay)  # kustomize refuses absolute paths
    component = os.path.relpath(KUSTOMIZE / "components" / "argocd-registry-secrets", overlay)
    (overlay / "kustomization.yaml").write_text(
        yaml.safe_dump({"resources": [base], "components": [component]}), encoding="utf-8"
    )
    plain = {(o["kind"], o["metadata"]["name"]) for o in kustomize_build(KUSTOMIZE / "base")}
    added = [o for o in kustomize_build(overlay) if (o["kind"], o["metadata"]["name"]) not in plain]
    assert sorted((o["kind"], o["metadata"]["namespace"]) for o in added) == [
        ("Role", "argocd"),
        ("RoleBinding", "argocd"),
    ]


def _pod_needs(pod: dict[str, Any], what: str, resource: str) -> Decimal:
    """The pod's effective request/limit: the larger of its biggest init container and its containers' sum."""

    def value(c: dict[str, Any]) -> Decimal:
        return parse_quantity(c["resources"][what][resource])

    init = max((value(c) for c in pod.get("initContainers", [])), default=Decimal(0))
    return max(init, sum((value(c) for c in pod["containers"]), Decimal(0)))


@needs_kubectl
@pytest.mark.parametrize("folder", BUILDS, ids=lambda p: p.relative_to(KUSTOMIZE).as_posix())
def test_quota_fits_every_pod_at_full_width(folder: Path) -> None:
    """Scheduled scan, all shards and the merge at once: a pod over quota would leave its Job stuck."""
    objects = kustomize_build(folder)
    (quota,) = [o["spec"]["hard"] for o in objects if o["kind"] == "ResourceQuota"]
    pods: list[dict[str, Any]] = []
    for obj in objects:
        width = obj["spec"].get("parallelism", 1) if obj["kind"] == "Job" else 1
        pods += pod_templates(obj) * width
    for key, value in quota.items():
        what, _, resource = key.partition(".")
        if what in {"requests", "limits"} and resource in {"cpu", "memory"}:
            needed = sum((_pod_needs(pod, what, resource) for pod in pods), Decimal(0))
            assert needed <= parse_quantity(value), f"{key}: {needed} needed, quota {value}"
    assert len(pods) <= int(quota["pods"])
    claims = [o for o in objects if o["kind"] == "PersistentVolumeClaim"]
    assert len(claims) <= int(quota["persistentvolumeclaims"])
    storage = sum((parse_quantity(c["spec"]["resources"]["requests"]["storage"]) for c in claims), Decimal(0))
    assert storage <= parse_quantity(quota["requests.storage"])
