"""Time-synced: node and control-plane clocks agree (FC-CLOCK-*).

Skewed clocks break what a cluster signs and checks by time: service account
tokens and OIDC ID tokens rejected as "not yet valid" or "expired",
certificates refused, leases and leader elections misjudged, logs that cannot
be lined up across nodes in an incident.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from fleetcheck import ClusterView, Findings, check, fail, skip
from fleetcheck.errors import FleetcheckError
from fleetcheck.probes.ntp import read_ntp_offset

NODE_LEASE_NAMESPACE = "kube-node-lease"
#: the kubelet renews its lease every quarter of ``leaseDurationSeconds`` (40 s by default, so every 10 s)
RENEW_FRACTION = 0.25
DEFAULT_LEASE_DURATION = 40
#: the ``Date`` header has whole seconds: the server's time was up to 1 s later, 0.5 s on average
DATE_HEADER_RESOLUTION = 1.0


def _parse_time(value: Any) -> datetime | None:
    """A Kubernetes Time or MicroTime (``2021-08-18T16:01:46.508799Z``) as an aware datetime."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _is_ready(node: dict[str, Any]) -> bool:
    for condition in (node.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


def _renew_interval(lease: dict[str, Any]) -> float:
    duration = (lease.get("spec") or {}).get("leaseDurationSeconds") or DEFAULT_LEASE_DURATION
    try:
        return float(duration) * RENEW_FRACTION
    except (TypeError, ValueError):
        return DEFAULT_LEASE_DURATION * RENEW_FRACTION


class NodeClockSettings(BaseModel):
    """Thresholds of FC-CLOCK-001."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold_seconds: float = Field(default=60.0, gt=0, description="a node clock off by more than this fails")


@check(
    "FC-CLOCK-001",
    title="Node clock skewed from the API server",
    factor="time-synced",
    severity="high",
    reads=["nodes", "leases"],
    settings=NodeClockSettings,
    success="every Ready node renewed its lease within the threshold of the API server's time",
)
def test_node_clocks_agree_with_api_server(cluster: ClusterView, settings: NodeClockSettings) -> None:
    """A Ready node's clock is off from the API server's by more than the threshold (default 60 s).

    What: each Ready node's kubelet renews its Lease in ``kube-node-lease``
    every 10 s (a quarter of ``leaseDurationSeconds``), writing its own clock
    into ``spec.renewTime``. That time is compared with the API server's
    clock when the Leases were listed (the list's HTTP ``Date`` header; on a
    snapshot, its capture time). A renewTime in the future means the node's
    clock is ahead. A renewTime far in the past on a node that is still Ready
    means its clock is behind: the node lifecycle controller marks a node
    whose lease stops changing NotReady after the grace period (40-50 s), so
    a Ready node is renewing, and only its clock can put the renewals in the
    past. Resolution: the lease is up to one renew interval old when read,
    so a node is reported behind only when its lease is older than the
    threshold plus that interval; the ``Date`` header adds up to 1 s.
    NotReady nodes are left out (a dead kubelet leaves a stale lease too).
    Why: kubelets, the API server and token issuers judge tokens,
    certificates and leases by their own clocks. A node minutes off rejects
    fresh service account tokens as not yet valid, fails TLS handshakes on
    new certificates, and writes logs that cannot be lined up in an incident.
    Fix: run an NTP client (chrony, systemd-timesyncd) on every node against
    the fleet's NTP servers and check it (``chronyc tracking``,
    ``timedatectl``); on a VM, also check the hypervisor's clock source. Tune
    the threshold with ``settings: {FC-CLOCK-001: {threshold_seconds: 60}}``.
    References: https://kubernetes.io/docs/concepts/architecture/leases/#node-heart-beats ,
    https://kubernetes.io/docs/concepts/architecture/nodes/#node-controller
    """
    nodes = cluster.list("nodes")
    if not nodes:
        skip("no nodes in this cluster")
    if cluster.time_source not in ("api", "cluster.yaml"):
        skip(
            "the snapshot declares no capture time ('captured' in its cluster.yaml): its newest timestamp may be "
            "a fast node's lease, so node clocks cannot be judged against it"
        )
    ready = [n for n in nodes if _is_ready(n)]
    if not ready:
        skip(f"none of the {len(nodes)} nodes is Ready (a NotReady node's lease is stale whatever its clock)")
    leases = {
        str(lease["metadata"].get("name")): lease
        for lease in cluster.list("leases")
        if lease.get("metadata", {}).get("namespace") == NODE_LEASE_NAMESPACE
    }
    reference = cluster.read_time("leases")
    threshold = settings.threshold_seconds
    findings = Findings()
    measured = 0
    for node in ready:
        name = str(node["metadata"].get("name"))
        lease = leases.get(name)
        renewed = _parse_time((lease or {}).get("spec", {}).get("renewTime"))
        if lease is None or renewed is None:
            continue
        measured += 1
        ahead = (renewed - reference).total_seconds()
        interval = _renew_interval(lease)
        where = f"{NODE_LEASE_NAMESPACE}/Lease/{name} renewTime {lease['spec']['renewTime']}"
        if ahead > threshold:
            findings.add(f"Node/{name}", f"clock about {ahead:.0f} s ahead ({where} is in the API server's future)")
        elif -ahead - interval > threshold:
            behind = -ahead
            findings.add(
                f"Node/{name}",
                f"clock about {behind - interval:.0f}-{behind:.0f} s behind ({where}, yet the node is Ready)",
            )
    if measured == 0:
        skip(
            f"no {NODE_LEASE_NAMESPACE} Lease for any of the {len(ready)} Ready nodes "
            "(node leases exist from Kubernetes 1.14; without them node clocks cannot be estimated)"
        )
    findings.raise_if_any(
        f"{len(findings)} of {measured} Ready nodes have a clock more than {threshold:g} s off the API server's "
        f"({_stamp(reference)} when the Leases were read)"
    )


class ServerClockSettings(BaseModel):
    """Thresholds of FC-CLOCK-002."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold_seconds: float = Field(default=5.0, gt=0, description="an API server clock off by more than this fails")


@check(
    "FC-CLOCK-002",
    title="API server clock off from NTP",
    factor="time-synced",
    severity="high",
    scope="live",
    settings=ServerClockSettings,
    success="the API server's clock agrees with the profile's NTP servers",
)
def test_api_server_clock_agrees_with_ntp(cluster: ClusterView, settings: ServerClockSettings) -> None:
    """The API server's clock (its ``Date`` header) is off from NTP by more than the threshold (default 5 s).

    What: the runner asks the profile's NTP servers (``probes.ntp_servers``,
    ``host`` or ``host:port``) for the time, ``probes.ntp_samples`` samples
    each with ``probes.timeout_seconds``, keeps each server's fastest sample
    and takes the median across servers. That gives the runner's own offset
    from NTP, so the runner's clock may be wrong without spoiling the
    verdict. The API server's clock is the ``Date`` header of its responses
    to the scan; the difference, corrected by the runner's offset, is the API
    server's skew. Resolution: the header has whole seconds (counted as
    +0.5 s), and an NTP sample is good to half its round trip; the check
    fails only when the skew exceeds the threshold by more than that bound.
    An NTP server that does not answer makes the verdict ``error``: without
    a reference there is nothing to judge.
    Why: the API server signs and checks service account tokens, and OIDC ID
    tokens are checked against its clock: a few seconds off, fresh tokens
    are "not yet valid" or expired ones still accepted; certificates issued
    by the cluster CA start in the future; CronJobs fire at the wrong time.
    Fix: run an NTP client on the control-plane nodes against the fleet's NTP
    servers (chrony: ``server ntp.example.net iburst`` and ``makestep 1 3``),
    and check the hypervisor or cloud time source; on a managed control
    plane, open a case with the provider. Tune with ``settings:
    {FC-CLOCK-002: {threshold_seconds: 5}}``.
    References: https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/ ,
    https://datatracker.ietf.org/doc/html/rfc5905 , https://www.rfc-editor.org/rfc/rfc9110#name-date
    """
    probes = cluster.profile.probes
    if not probes.ntp_servers:
        skip(f"profile {cluster.profile.name} names no NTP servers (probes.ntp_servers)")
    try:
        reading = read_ntp_offset(probes.ntp_servers, samples=probes.ntp_samples, timeout=probes.timeout_seconds)
    except ValueError as exc:
        raise FleetcheckError(f"profile {cluster.profile.name}: probes.ntp_servers: {exc}") from None
    # the runner's offset holds for seconds; read the server's clock and the runner's together, after the probe
    ntp_now = time.time() + reading.offset
    server_time = cluster.server_time
    skew = server_time.timestamp() + DATE_HEADER_RESOLUTION / 2 - ntp_now
    uncertainty = DATE_HEADER_RESOLUTION / 2 + reading.error_bound
    if abs(skew) - uncertainty <= settings.threshold_seconds:
        return
    direction = "ahead of" if skew > 0 else "behind"
    fail(
        f"the API server's clock is {abs(skew):.1f} s {direction} NTP (Date header {_stamp(server_time)}, "
        f"NTP time {_stamp(datetime.fromtimestamp(ntp_now, UTC))} from {reading.describe()}; "
        f"the runner's own offset {reading.offset:+.3f} s corrected); expected within "
        f"{settings.threshold_seconds:g} s (±{uncertainty:.1f} s)",
        [f"APIServer/{cluster.name}"],
    )
