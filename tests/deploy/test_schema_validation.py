"""Every manifest of the deploy kit validates against the API schema of every supported Kubernetes minor.

kubernetes-validate ships the OpenAPI schemas of each release (strict: unknown fields are errors).
The kit must apply on the oldest minor fleetcheck supports as on the newest: a field that a newer
server defaults may still be required by an older schema (``podFailurePolicy.onPodConditions[].status``
up to 1.34, kubernetes/kubernetes#131512).
"""

from __future__ import annotations

import re

import kubernetes_validate
import pytest

from tests.deploy.kit import manifests

#: the oldest Kubernetes minor the kit supports
OLDEST_MINOR = 29


def _supported_versions() -> list[str]:
    newest = kubernetes_validate.latest_version()
    match = re.match(r"(\d+)\.(\d+)", newest)
    assert match, f"unexpected latest version {newest!r}"
    major, minor = int(match[1]), int(match[2])
    assert major == 1 and minor >= OLDEST_MINOR
    return [f"1.{m}.0" for m in range(OLDEST_MINOR, minor + 1)]


VERSIONS = _supported_versions()
ALL = manifests()


def test_the_kit_has_manifests_and_the_range_reaches_the_newest_release() -> None:
    assert len(ALL) >= 10
    assert VERSIONS[0] == f"1.{OLDEST_MINOR}.0"
    assert VERSIONS[-1].startswith(".".join(kubernetes_validate.latest_version().split(".")[:2]))


@pytest.mark.parametrize("version", VERSIONS)
def test_every_manifest_is_valid_for_the_minor(version: str) -> None:
    problems: list[str] = []
    for manifest in ALL:
        try:
            kubernetes_validate.validate(manifest.obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = "/".join(str(p) for p in exc.path) or "(the object)"
            problems.append(f"{manifest}: {path}: {exc.message}")
    assert not problems, "\n".join(problems)


def test_a_pod_failure_policy_without_status_is_caught_on_1_34() -> None:
    """The rule this kit once broke: the test above would see it."""
    job = next(m.obj for m in ALL if m.kind == "CronJob")
    rules = job["spec"]["jobTemplate"]["spec"]["podFailurePolicy"]["rules"]
    broken_rules = [
        {**rule, "onPodConditions": [{"type": c["type"]} for c in rule["onPodConditions"]]}
        if "onPodConditions" in rule
        else rule
        for rule in rules
    ]
    broken = {
        **job,
        "spec": {
            **job["spec"],
            "jobTemplate": {
                **job["spec"]["jobTemplate"],
                "spec": {**job["spec"]["jobTemplate"]["spec"], "podFailurePolicy": {"rules": broken_rules}},
            },
        },
    }
    with pytest.raises(kubernetes_validate.ValidationError, match="status"):
        kubernetes_validate.validate(broken, "1.34.0", strict=True)
