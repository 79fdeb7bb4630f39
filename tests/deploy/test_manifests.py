"""The Kubernetes manifests of deploy/kubernetes: valid objects, read-only RBAC, hardened pods."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fleetcheck.core.kinds import KNOWN_KINDS
from tests.deploy.kit import (
    IMAGE_REPOSITORY,
    MANIFESTS,
    REPO,
    Manifest,
    by_kind,
    container,
    containers,
    literal_env,
    manifests,
    one,
    pod_templates,
    roundtrip,
)

ALL = manifests()
READ_VERBS = {"get", "list"}
#: volume types Pod Security "restricted" allows (the namespace enforces it)
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected"}
RESTRICTED_VOLUMES |= {"secret"}
WORKLOADS = [m for m in ALL if pod_templates(m.obj)]
NAMESPACE = "fleetcheck"


def test_every_manifest_file_holds_objects() -> None:
    files = {m.path for m in ALL}
    assert {p.relative_to(MANIFESTS).as_posix() for p in files} >= {
        "namespace.yaml",
        "serviceaccount.yaml",
        "clusterrole.yaml",
        "clusterrolebinding.yaml",
        "configmap.yaml",
        "pvc.yaml",
        "cronjob.yaml",
        "sharded/indexed-job.yaml",
        "sharded/merge-job.yaml",
        "optional/registry-secrets-role.yaml",
    }


@pytest.mark.parametrize("manifest", ALL, ids=str)
def test_object_is_a_valid_kubernetes_object(manifest: Manifest) -> None:
    """Deserialised into the official client's model and back, the object is unchanged."""
    assert manifest.obj.get("metadata", {}).get("name"), f"{manifest}: no metadata.name"
    assert roundtrip(manifest.obj) == manifest.obj, f"{manifest}: a field is unknown, misplaced or of the wrong type"


def test_namespaced_objects_are_in_the_fleetcheck_namespace() -> None:
    cluster_scoped = {"Namespace", "ClusterRole", "ClusterRoleBinding"}
    for m in ALL:
        namespace = m.obj["metadata"].get("namespace")
        if m.kind in cluster_scoped:
            assert namespace is None, f"{m}: cluster-scoped object with a namespace"
        elif m.path.parent.name == "optional":
            assert namespace == "argocd", f"{m}: the opt-in Secrets role belongs in the argocd namespace"
        elif m.path.parent.parent.name == "optional":  # optional/<source>/: Secrets where that manager keeps them
            assert namespace, f"{m}: an opt-in registry source's Secrets role is namespaced"
        else:
            assert namespace == NAMESPACE, f"{m}: namespace {namespace!r}"


def test_object_names_are_unique() -> None:
    keys = [(m.kind, m.obj["metadata"].get("namespace"), m.name) for m in ALL]
    assert len(keys) == len(set(keys))


# -- RBAC --------------------------------------------------------------------------------------
def _rules() -> list[tuple[Manifest, dict[str, object]]]:
    return [(m, rule) for m in ALL if m.kind in {"ClusterRole", "Role"} for rule in m.obj.get("rules", [])]


@pytest.mark.parametrize(("manifest", "rule"), _rules(), ids=lambda v: str(v) if isinstance(v, Manifest) else "")
def test_rbac_rule_is_read_only(manifest: Manifest, rule: dict[str, list[str]]) -> None:
    assert set(rule["verbs"]) <= READ_VERBS, f"{manifest}: verbs {rule['verbs']} (only get/list allowed)"
    for field in ("apiGroups", "resources", "nonResourceURLs", "resourceNames"):
        assert "*" not in rule.get(field, []), f"{manifest}: wildcard in {field}"
    if "nonResourceURLs" in rule:
        assert set(rule["verbs"]) == {"get"}


def _granted(role: Manifest) -> set[tuple[str, str]]:
    return {
        (group, resource)
        for rule in role.obj["rules"]
        for group in rule.get("apiGroups", [])
        for resource in rule.get("resources", [])
    }


def _catalog_reads() -> set[tuple[str, str]]:
    from fleetcheck.catalog import load_catalog
    from fleetcheck.core.kinds import parse_kind

    return {(ref.group, ref.plural) for spec in load_catalog().checks.values() for ref in map(parse_kind, spec.reads)}


def test_clusterrole_grants_exactly_what_fleetcheck_reads_but_secrets() -> None:
    """KNOWN_KINDS (with legacy groups) plus every check's reads=: no more, no less, never Secrets."""
    role = one(ALL, "ClusterRole", "fleetcheck-reader")
    known = {(group, ref.plural) for ref in KNOWN_KINDS for group in (ref.group, *ref.legacy_groups)}
    expected = {kind for kind in known | _catalog_reads() if kind[1] != "secrets"}
    granted = _granted(role)
    assert not expected - granted, f"kinds fleetcheck reads but the role does not grant: {sorted(expected - granted)}"
    assert not granted - expected, f"granted but never read by fleetcheck: {sorted(granted - expected)}"


def test_clusterrole_never_grants_secrets() -> None:
    for role in by_kind(ALL, "ClusterRole"):
        assert not any(resource == "secrets" for _, resource in _granted(role)), f"{role} grants secrets"
    assert not any(resource == "secrets" for _, resource in _catalog_reads()), "a check reads Secrets"


def test_secrets_role_is_namespaced_opt_in_and_read_only() -> None:
    role = one(ALL, "Role", "fleetcheck-registry-secrets")
    assert role.path.parent.name == "optional"
    assert role.obj["metadata"]["namespace"] == "argocd"
    assert _granted(role) == {("", "secrets")}
    text = role.path.read_text(encoding="utf-8")
    assert "OPT-IN" in text and "resourceNames" in text, "the role must explain why it is namespace-wide and opt-in"


def test_bindings_point_at_shipped_roles_and_the_scanner_account() -> None:
    accounts = {(m.obj["metadata"]["namespace"], m.name) for m in by_kind(ALL, "ServiceAccount")}
    for binding in [*by_kind(ALL, "ClusterRoleBinding"), *by_kind(ALL, "RoleBinding")]:
        ref = binding.obj["roleRef"]
        one(ALL, ref["kind"], ref["name"])
        for subject in binding.obj["subjects"]:
            assert subject["kind"] == "ServiceAccount"
            assert (subject["namespace"], subject["name"]) in accounts, f"{binding}: unknown subject {subject}"


# -- pods --------------------------------------------------------------------------------------
def _dockerfile_uid() -> int:
    users = re.findall(r"^USER\s+(\d+)", (REPO / "deploy" / "Dockerfile").read_text(encoding="utf-8"), re.MULTILINE)
    return int(users[-1])


@pytest.mark.parametrize("workload", WORKLOADS, ids=str)
def test_pod_is_hardened(workload: Manifest) -> None:
    """Non-root as the image's uid, seccomp, read-only root, no capabilities: Pod Security 'restricted'."""
    (pod,) = pod_templates(workload.obj)
    security = pod["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["runAsUser"] == _dockerfile_uid() and security["runAsUser"] != 0
    assert security["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod["restartPolicy"] == "Never"
    assert pod["automountServiceAccountToken"] is True, "the scan reads the API with the pod's token"
    assert not pod.get("hostNetwork") and not pod.get("hostPID") and not pod.get("hostIPC")
    for c in containers(pod):
        ctx = c["securityContext"]
        assert ctx["readOnlyRootFilesystem"] is True, f"{workload} {c['name']}"
        assert ctx["allowPrivilegeEscalation"] is False, f"{workload} {c['name']}"
        assert ctx["capabilities"]["drop"] == ["ALL"] and not ctx["capabilities"].get("add"), f"{workload} {c['name']}"
        assert not ctx.get("privileged")
        for what in ("requests", "limits"):
            assert set(c["resources"][what]) >= {"cpu", "memory"}, f"{workload} {c['name']}: {what}"
    for volume in pod["volumes"]:
        types = set(volume) - {"name"}
        assert types <= RESTRICTED_VOLUMES, f"{workload}: volume {volume['name']} of type {types}"


@pytest.mark.parametrize("workload", WORKLOADS, ids=str)
def test_pod_references_exist(workload: Manifest) -> None:
    (pod,) = pod_templates(workload.obj)
    one(ALL, "ServiceAccount", pod["serviceAccountName"])
    volumes = {v["name"]: v for v in pod["volumes"]}
    for c in containers(pod):
        for mount in c.get("volumeMounts", []):
            assert mount["name"] in volumes, f"{workload} {c['name']}: mount of unknown volume {mount['name']}"
        writable = {m["mountPath"] for m in c.get("volumeMounts", []) if not m.get("readOnly")}
        assert "/tmp" in writable, f"{workload} {c['name']}: a read-only root needs a writable /tmp"
        assert "emptyDir" in volumes[next(m["name"] for m in c["volumeMounts"] if m["mountPath"] == "/tmp")]
    for volume in volumes.values():
        if "persistentVolumeClaim" in volume:
            one(ALL, "PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"])
        if "configMap" in volume:
            one(ALL, "ConfigMap", volume["configMap"]["name"])
        if "secret" in volume:
            assert volume["secret"]["optional"] is True, "no Secret is shipped: any Secret volume must be optional"


@pytest.mark.parametrize("workload", WORKLOADS, ids=str)
def test_images_are_the_pinned_fleetcheck_image(workload: Manifest) -> None:
    (pod,) = pod_templates(workload.obj)
    for c in containers(pod):
        repository, _, tag = c["image"].rpartition(":")
        assert repository == IMAGE_REPOSITORY, c["image"]
        assert tag and tag != "latest", f"{c['image']}: pin a version"
        assert c["imagePullPolicy"] == "IfNotPresent"


@pytest.mark.parametrize("workload", WORKLOADS, ids=str)
def test_config_errors_fail_the_job_without_retries(workload: Manifest) -> None:
    spec = workload.obj["spec"]["jobTemplate"]["spec"] if workload.kind == "CronJob" else workload.obj["spec"]
    (pod,) = pod_templates(workload.obj)
    assert spec["activeDeadlineSeconds"] > 0 and spec["backoffLimit"] <= 2
    rules = spec["podFailurePolicy"]["rules"]
    fail = [r for r in rules if r["action"] == "FailJob"]
    assert fail and fail[0]["onExitCodes"]["values"] == [2], "exit 2 (configuration error) must not be retried"
    assert fail[0]["onExitCodes"]["containerName"] in {c["name"] for c in pod["containers"]}


def test_cronjob_schedule_and_history() -> None:
    spec = one(ALL, "CronJob", "fleetcheck").obj["spec"]
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["successfulJobsHistoryLimit"] >= 1 and spec["failedJobsHistoryLimit"] >= 1
    assert len(spec["schedule"].split()) == 5 and spec["timeZone"]
    (pod,) = pod_templates(one(ALL, "CronJob", "fleetcheck").obj)
    mounts = {m["mountPath"]: m for m in container(pod, "fleetcheck")["volumeMounts"]}
    reports = next(v for v in pod["volumes"] if v["name"] == mounts["/reports"]["name"])
    claim = one(ALL, "PersistentVolumeClaim", reports["persistentVolumeClaim"]["claimName"])
    assert claim.obj["spec"]["accessModes"] == ["ReadWriteOnce"]


def test_shards_and_merge_agree_on_n_and_share_a_readwritemany_volume() -> None:
    shards = one(ALL, "Job", "fleetcheck-shards").obj
    merge = one(ALL, "Job", "fleetcheck-merge").obj
    assert shards["spec"]["completionMode"] == "Indexed"
    n = shards["spec"]["completions"]
    assert shards["spec"]["parallelism"] == n
    assert literal_env(container(pod_templates(shards)[0], "fleetcheck"))["FLEETCHECK_SHARDS"] == str(n)
    assert literal_env(container(pod_templates(merge)[0], "merge"))["FLEETCHECK_SHARDS"] == str(n)
    claims = {
        v["persistentVolumeClaim"]["claimName"]
        for job in (shards, merge)
        for v in pod_templates(job)[0]["volumes"]
        if "persistentVolumeClaim" in v
    }
    assert len(claims) == 1
    assert one(ALL, "PersistentVolumeClaim", claims.pop()).obj["spec"]["accessModes"] == ["ReadWriteMany"]
    wait = container(pod_templates(merge)[0], "wait-for-shards")
    assert literal_env(wait)["SHARDS_JOB"] == shards["metadata"]["name"]
    assert merge["spec"]["activeDeadlineSeconds"] > shards["spec"]["activeDeadlineSeconds"]


def test_namespace_enforces_restricted_and_is_bounded() -> None:
    labels = one(ALL, "Namespace", NAMESPACE).obj["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    quota = one(ALL, "ResourceQuota", NAMESPACE).obj["spec"]["hard"]
    assert {"requests.cpu", "requests.memory"} <= set(quota)
    limits = one(ALL, "LimitRange", NAMESPACE).obj["spec"]["limits"]
    assert any(item["type"] == "Container" and item.get("defaultRequest") for item in limits)


def test_no_secret_material_in_manifests() -> None:
    pattern = re.compile(r"(BEGIN [A-Z ]*PRIVATE KEY|client-key-data|\btoken:\s*\S|password:\s*\S)", re.IGNORECASE)
    for path in sorted(set(m.path for m in ALL)):
        text = Path(path).read_text(encoding="utf-8")
        assert not pattern.search(text), f"{path.relative_to(REPO)}: looks like a credential"
    assert not by_kind(ALL, "Secret"), "the kit ships no Secret objects"
