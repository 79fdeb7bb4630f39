"""What the API server's ``/metrics`` shows: a Prometheus text exposition written beside the snapshot's lists.

The replay server answers ``GET /metrics`` with a snapshot folder's
``metrics.txt`` (:data:`fleetcheck.replay.pages.METRICS_FILE`; not part of the
snapshot contract, so ``fleetcheck run --snapshot`` never reads it). The
exposition holds what FC-ETCD-001 reads, the size of the etcd database file
(``apiserver_storage_size_bytes{storage_cluster_id="etcd-0"}``), beside a few
families every kube-apiserver exports, with their real HELP and TYPE lines:
object counts per resource (taken from the generated objects), in-flight
requests, request counters and the build info.

The database size follows the objects: their stored bytes, times the history
etcd keeps between compactions and the free pages a file keeps until it is
defragmented. A plant (``plan.etcd_quota_share``) instead sets the size as a
share of etcd's default 2 GiB quota, with the Events that filled it counted
in ``apiserver_storage_objects``. k3s' embedded kine (SQLite) reports no size
here, and a k3s cluster's exposition has no storage-size family.
"""

from __future__ import annotations

import math

from fleetcheck.demo.build import ClusterBuild

__all__ = ["ETCD_DEFAULT_QUOTA", "METRICS_FILE", "add_apiserver_metrics", "etcd_size_bytes", "go_number"]

#: the file the replay server serves at ``/metrics`` (kept equal to fleetcheck.replay.pages.METRICS_FILE by a test)
METRICS_FILE = "metrics.txt"
#: etcd's default ``--quota-backend-bytes`` (kubeadm keeps it)
ETCD_DEFAULT_QUOTA = 2 * 1024**3
_PAGE = 4096
_BASE_BYTES = 24 * 1024**2
#: stored (protobuf) bytes per object, by kind; others get the default
_STORED_BYTES = {"pods": 3_200, "replicasets.apps": 2_100, "deployments.apps": 2_400, "nodes": 5_600}
_DEFAULT_STORED = 1_400
_EVENT_BYTES = 900
_GO_VERSION = "go1.25.5"

_STORAGE_OBJECTS = (
    ("configmaps", "configmaps"),
    ("deployments.apps", "deployments.apps"),
    ("leases.coordination.k8s.io", "leases.coordination.k8s.io"),
    ("namespaces", "namespaces"),
    ("nodes", "nodes"),
    ("persistentvolumeclaims", "persistentvolumeclaims"),
    ("pods", "pods"),
    ("replicasets.apps", "replicasets.apps"),
    ("services", "services"),
    ("statefulsets.apps", "statefulsets.apps"),
)


def _events(build: ClusterBuild) -> int:
    """Events etcd holds (kept one hour by default): a few per pod on a healthy cluster."""
    return round(build.count("pods") * build.rng.uniform(0.6, 1.4))


def etcd_size_bytes(build: ClusterBuild, events: int) -> int:
    """The etcd database file's allocated bytes: stored objects, times history and free pages, page-aligned."""
    share = build.plan.etcd_quota_share
    if share is not None:
        return math.ceil(ETCD_DEFAULT_QUOTA * share / _PAGE) * _PAGE
    stored = sum(len(items) * _STORED_BYTES.get(key, _DEFAULT_STORED) for key, items in build.objects.items())
    stored += events * _EVENT_BYTES
    return math.ceil((_BASE_BYTES + stored * build.rng.uniform(2.5, 3.5)) / _PAGE) * _PAGE


def _events_filling(build: ClusterBuild, size: int) -> int:
    """How many Events account for the planted size beyond the objects' own share."""
    objects = sum(len(items) * _STORED_BYTES.get(key, _DEFAULT_STORED) for key, items in build.objects.items())
    return max(0, round((size / 1.6 - _BASE_BYTES - objects) / _EVENT_BYTES))


def go_number(value: int) -> str:
    """``value`` as client_golang prints a sample (Go's shortest ``%g``): ``1.868562432e+09`` from 1e6 on."""
    text = str(value)
    if abs(value) < 10**6:
        return text
    sign, digits = ("-", text[1:]) if value < 0 else ("", text)
    mantissa = digits.rstrip("0")
    fraction = f".{mantissa[1:]}" if len(mantissa) > 1 else ""
    return f"{sign}{mantissa[0]}{fraction}e+{len(digits) - 1:02d}"


def _family(name: str, kind: str, help_text: str, samples: list[tuple[str, int]]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    for labels, value in samples:
        lines.append(f"{name}{{{labels}}} {go_number(value)}" if labels else f"{name} {go_number(value)}")
    return lines


def _request_total(build: ClusterBuild) -> list[tuple[str, int]]:
    """A handful of request counters (the real family has thousands of series)."""
    scale = max(1, build.count("pods"))
    rows = (
        ("200", "", "pods", "namespace", "GET", "v1", 40),
        ("200", "", "pods", "cluster", "LIST", "v1", 3),
        ("200", "", "pods", "cluster", "WATCH", "v1", 1),
        ("201", "", "pods", "namespace", "POST", "v1", 2),
        ("200", "coordination.k8s.io", "leases", "namespace", "PUT", "v1", 900),
        ("200", "apps", "deployments", "namespace", "GET", "v1", 12),
        ("404", "", "configmaps", "namespace", "GET", "v1", 1),
        ("409", "coordination.k8s.io", "leases", "namespace", "PUT", "v1", 2),
    )
    samples = []
    for code, group, resource, scope, verb, version, per_pod in rows:
        labels = (
            f'code="{code}",component="apiserver",dry_run="",group="{group}",resource="{resource}",'
            f'scope="{scope}",subresource="",verb="{verb}",version="{version}"'
        )
        samples.append((labels, round(per_pod * scale * build.rng.uniform(20, 60))))
    return samples


def add_apiserver_metrics(build: ClusterBuild) -> None:
    """``metrics.txt`` of a cluster whose API server shows it (every demo cluster), from its final objects."""
    plan = build.plan
    events = _events(build)
    lines: list[str] = []
    if plan.provider != "k3s":
        size = etcd_size_bytes(build, events)
        if plan.etcd_quota_share is not None:
            events = _events_filling(build, size)
        lines += _family(
            "apiserver_storage_size_bytes",
            "gauge",
            "[STABLE] Size of the storage database file physically allocated in bytes.",
            [('storage_cluster_id="etcd-0"', size)],
        )
    counts = [(f'resource="{resource}"', build.count(key)) for key, resource in _STORAGE_OBJECTS]
    counts.append(('resource="events"', events))
    lines += _family(
        "apiserver_storage_objects",
        "gauge",
        "[STABLE] Number of stored objects at the time of last check split by kind. In case of a fetching error, "
        "the value will be -1.",
        sorted(counts),
    )
    lines += _family(
        "apiserver_current_inflight_requests",
        "gauge",
        "[STABLE] Maximal number of currently used inflight request limit of this apiserver per request kind in "
        "last second.",
        [('request_kind="mutating"', build.rng.randint(0, 6)), ('request_kind="readOnly"', build.rng.randint(2, 30))],
    )
    lines += _family(
        "apiserver_request_total",
        "counter",
        "[STABLE] Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, "
        "scope, component, and HTTP response code.",
        _request_total(build),
    )
    major, minor = plan.server_version.lstrip("v").split(".")[:2]
    build_labels = (
        f'build_date="2026-01-13T18:40:12Z",compiler="gc",git_commit="{build.hex_id(160)}",git_tree_state="clean",'
        f'git_version="{plan.git_version}",go_version="{_GO_VERSION}",major="{major}",minor="{minor}",'
        'platform="linux/amd64"'
    )
    lines += _family(
        "kubernetes_build_info",
        "gauge",
        "[ALPHA] A metric with a constant '1' value labeled by major, minor, git version, git commit, git tree "
        "state, build date, Go version, and compiler from which Kubernetes was built, and platform on which it is "
        "running.",
        [(build_labels, 1)],
    )
    build.files[METRICS_FILE] = ("\n".join(lines) + "\n").encode()
