"""etcd near its space quota, seen from the API server's own ``/metrics`` (FC-ETCD-*)."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field

from fleetcheck import ClusterView, check, fail, name_list, skip
from fleetcheck.errors import FleetcheckError
from fleetcheck.facts.provider import PROVIDER, PROVIDER_READS
from fleetcheck.redact import redact
from fleetcheck.state.base import MetricsUnavailable

#: the API server's gauge of its etcd database file, newest name first: ``apiserver_storage_size_bytes``
#: (Kubernetes 1.28+, label ``storage_cluster_id``; kubernetes/kubernetes#118812),
#: ``apiserver_storage_db_total_size_in_bytes`` (1.26-1.27) and ``etcd_db_total_size_in_bytes`` (1.19-1.25,
#: label ``endpoint``; kubernetes/kubernetes#89151); all three are the file's physically allocated bytes
SIZE_METRICS = (
    "apiserver_storage_size_bytes",
    "apiserver_storage_db_total_size_in_bytes",
    "etcd_db_total_size_in_bytes",
)
GIB = 1024**3


class EtcdQuotaSettings(BaseModel):
    """The quota the clusters' etcd runs with, and how close to it fails FC-ETCD-001."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    quota_bytes: int = Field(
        default=2 * GIB,
        ge=1024**2,
        le=1024**4,
        description="etcd's --quota-backend-bytes (etcd's default 2 GiB; 8 GiB is its suggested maximum)",
    )
    threshold_percent: float = Field(default=80, gt=0, le=100, description="fail at this share of the quota")


def _gib(value: float) -> str:
    return f"{value / GIB:.2f} GiB"


@check(
    "FC-ETCD-001",
    title="etcd database near its space quota",
    factor="bounded",
    severity="high",
    reads=[*PROVIDER_READS],
    settings=EtcdQuotaSettings,
    success="the etcd database is below the threshold of its quota",
)
def test_etcd_below_quota(cluster: ClusterView, settings: EtcdQuotaSettings) -> None:
    """The etcd database behind the API server has grown to near its space quota.

    What: the API server's ``/metrics`` (one GET of the nonResourceURL, read
    with a size bound; the optional RBAC in
    ``deploy/kubernetes/optional/metrics/metrics-reader.yaml``) reports the size of
    each etcd database file it uses (``apiserver_storage_size_bytes``; on
    1.26-1.27 ``apiserver_storage_db_total_size_in_bytes``, before that
    ``etcd_db_total_size_in_bytes``). A size at ``threshold_percent``
    (default 80) of ``quota_bytes`` or more fails. The quota is a setting
    because the API cannot show it: etcd's default is 2 GiB, and 8 GiB is
    the largest etcd suggests (``--quota-backend-bytes``). Skipped on
    snapshots (no ``/metrics``), on managed control planes (EKS, GKE, AKS
    run etcd and its quota out of sight), and where the API server reports
    no etcd size (another storage backend, such as k3s' kine) or serves no
    ``/metrics`` at all (404, e.g. behind a proxy that does not forward it).
    A 403 on ``/metrics`` is an error naming the optional RBAC. Counts toward
    *bounded*: a namespace without quotas (runaway Events, CRs, Secrets)
    fills the one database every namespace shares.
    Why: at its quota etcd raises the NOSPACE alarm and refuses every write:
    no pod is created, no lease renewed, no deployment rolled out, until
    someone compacts, defragments and disarms the alarm by hand. The file
    size reported is what etcd allocated, which shrinks only on defrag, so
    it is the number the quota compares with.
    Fix: find what grew (``kubectl get --raw /metrics | grep
    apiserver_storage_objects`` lists objects per resource), delete or bound
    it (quotas on object counts, shorter Event TTL), then compact and
    defragment etcd (``etcdctl compact``, ``etcdctl defrag``) and, if the
    alarm fired, ``etcdctl alarm disarm``; raise ``--quota-backend-bytes``
    only with the memory to match. Tune with
    ``settings: {FC-ETCD-001: {quota_bytes: 8589934592, threshold_percent: 80}}``.
    References: https://etcd.io/docs/v3.5/op-guide/maintenance/#space-quota ;
    https://etcd.io/docs/v3.5/dev-guide/limit/ ;
    https://kubernetes.io/docs/reference/instrumentation/metrics/
    """
    if cluster.entry.is_snapshot:
        skip("snapshot: the API server's /metrics is read from a live cluster only")
    state = cluster.state
    if not state.is_live:
        reason = getattr(state, "reason", "the cluster's connection could not be set up")
        raise FleetcheckError(f"cannot read /metrics of {cluster.name}: {reason}")
    platform = cluster.fact(PROVIDER)
    if platform.managed_control_plane:
        skip(f"managed control plane ({redact(platform.describe())}): the provider runs etcd and sets its quota")
    try:
        families = state.metric_samples(SIZE_METRICS)
    except MetricsUnavailable as exc:
        if exc.status != 404:
            raise  # 403 names the optional RBAC; a timeout or a 5xx is "could not decide"
        skip(f"{redact(exc.reason)}; so etcd's size is not reported")
    name = next((metric for metric in SIZE_METRICS if families.get(metric)), None)
    if name is None:
        skip(
            f"the API server's /metrics reports no etcd database size ({', '.join(SIZE_METRICS)}): "
            "its storage is not etcd3 (k3s' kine, for one) or the metric is disabled"
        )
    quota = settings.quota_bytes
    limit = quota * settings.threshold_percent / 100
    sizes = [sample for sample in families[name] if math.isfinite(sample.value) and sample.value >= 0]
    if not sizes:
        raise FleetcheckError(f"{name} on {cluster.name} has no usable value (not a finite size)")
    over = sorted((s for s in sizes if s.value >= limit), key=lambda s: s.value, reverse=True)
    if over:
        server = redact(str(getattr(state, "server", None) or cluster.entry.server or "the API server"))
        described = [
            redact(
                f"{name}{{{','.join(f'{k}={v!r}' for k, v in sorted(s.labels.items()))}}} = {_gib(s.value)} "
                f"({s.value / quota:.0%} of the quota)"
            )
            for s in over
        ]
        fail(
            f"{server}: the etcd database is near its space quota: {name_list(described, 5, sort=False)}; expected "
            f"below {settings.threshold_percent:g}% of quota_bytes {_gib(quota)} (profile setting of FC-ETCD-001; "
            "at the quota etcd refuses every write)",
            [server],
        )
