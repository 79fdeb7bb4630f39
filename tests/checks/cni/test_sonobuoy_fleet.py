"""The four sonobuoy captures as one fleet: the CNI and version verdicts their data justifies."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

CAPTURES = ("aws-kubeadm-v1.8", "kind-v1.14", "kind-v1.21-e2e", "kind-v1.21-quick")


def test_sonobuoy_fleet(corpus: Path, run_checks: Callable[..., Any]) -> None:
    run = run_checks(("test_cni.py", "test_version.py"), *(corpus / "sonobuoy" / c for c in CAPTURES))

    # every capture runs a CNI we know: Calico v2.6.2 on the 2017 kubeadm cluster, kindnet on the kind ones
    assert run.outcomes("FC-CNI-001") == dict.fromkeys(CAPTURES, "pass")

    # three kindnet clusters make kindnet the fleet's CNI; the Calico cluster is the outlier
    assert run.outcomes("FC-CNI-002") == {
        "aws-kubeadm-v1.8": "fail",
        "kind-v1.14": "pass",
        "kind-v1.21-e2e": "pass",
        "kind-v1.21-quick": "pass",
    }
    outlier = run["FC-CNI-002", "aws-kubeadm-v1.8"]
    assert outlier.objects == ["kube-system/DaemonSet/calico-node"]
    assert outlier.message == (
        "CNI is calico v2.6.2 (kube-system/DaemonSet/calico-node, image quay.io/calico/node:v2.6.2); expected the "
        "fleet standard kindnet (majority: 3 of 4 clusters of cohort profile default: kind-v1.14, kind-v1.21-e2e, "
        "kind-v1.21-quick)"
    )

    # no CNI version can be judged from this data, and each skip says why
    assert run.outcomes("FC-CNI-003") == dict.fromkeys(CAPTURES, "skip")
    assert run["FC-CNI-003", "aws-kubeadm-v1.8"].message.startswith("the cluster runs calico, not the standard kindnet")
    assert run["FC-CNI-003", "kind-v1.14"].message.startswith(
        "no standard: no other cluster of cohort profile default has a known value to compare with; declare "
        "standards.cni_version"
    )
    for name in ("kind-v1.21-e2e", "kind-v1.21-quick"):
        assert run["FC-CNI-003", name].message == (
            "kindnet version unknown: image tag v20210326-1e038dc5 is not a MAJOR.MINOR version "
            "(kube-system/DaemonSet/kindnet, image docker.io/kindest/kindnetd:v20210326-1e038dc5)"
        )

    # v1.21 is the newest; v1.8 and v1.14 are far more than one minor behind it
    assert run.outcomes("FC-VER-001") == {
        "aws-kubeadm-v1.8": "fail",
        "kind-v1.14": "fail",
        "kind-v1.21-e2e": "pass",
        "kind-v1.21-quick": "pass",
    }
    assert run["FC-VER-001", "aws-kubeadm-v1.8"].message == (
        "Kubernetes v1.8.4 (minor 1.8) is 13 minors behind 1.21, the newest of 4 clusters of cohort profile default: "
        "1.21 on kind-v1.21-e2e, kind-v1.21-quick; expected 1.20 or newer"
    )
    assert run["FC-VER-001", "kind-v1.14"].message.startswith("Kubernetes v1.14.2 (minor 1.14) is 7 minors behind 1.21")
    assert "FC-VER-001 [aws-kubeadm-v1.8] fail: Kubernetes v1.8.4 (minor 1.8) is 13 minors behind 1.21" in run.stdout
