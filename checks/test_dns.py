"""Explicit DNS: cluster DNS forwards to explicit, fleet-identical upstreams (FC-DNS-*).

The setup is read from the objects that configure it (CoreDNS's Corefile in
ConfigMap ``kube-system/coredns``, plus ``coredns-custom`` on k3s and AKS;
kube-dns's ``kube-system/kube-dns`` ConfigMap and Deployment on older
clusters), parsed by :mod:`fleetcheck.facts.corefile`, once per cluster per run.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fleetcheck import ClusterView, Findings, FleetView, check, fail, name_list, skip
from fleetcheck.errors import FleetcheckError
from fleetcheck.facts import builtin
from fleetcheck.facts.corefile import DnsSetup, is_file_target, normalize_domain, normalize_upstream
from fleetcheck.facts.key import Fact, FactInput
from fleetcheck.facts.provider import PROVIDER
from fleetcheck.probes import ProbeError
from fleetcheck.probes.dns import DnsAnswer, resolve_name

DNS_READS = list(builtin.DNS_READS)
#: how many names a message lists before "and N more"
NAMES_SHOWN = 5
#: upstreams a message lists before "and N more" (CoreDNS accepts at most 15, so a real list is never cut)
UPSTREAMS_SHOWN = 16
#: how many upstream resolvers a message lists before "and N more"
UPSTREAMS_SHOWN = 16


def dns_setup(cluster: ClusterView) -> DnsSetup | None:
    """The cluster's parsed DNS setup (None when neither CoreDNS nor kube-dns is configured in kube-system)."""
    return cluster.fact(builtin.DNS_SETUP)


# -- FC-DNS-001 ----------------------------------------------------------------------------------------


class ExplicitUpstreamSettings(BaseModel):
    """Settings of FC-DNS-001."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    require_explicit_upstreams: bool = Field(
        default=True, description="fail when the root zone is forwarded to a resolv.conf file"
    )


def _show_upstreams(upstreams: tuple[str, ...]) -> str:
    if not upstreams:
        return "nowhere (no forward for the root zone: outside names are refused)"
    shown = ", ".join(upstreams)
    if len(upstreams) > UPSTREAMS_SHOWN:  # CoreDNS itself refuses more than 15; the message stays short anyway
        shown = f"{len(upstreams):,} upstreams: {name_list(upstreams, UPSTREAMS_SHOWN, sort=False)}"
    return shown + (" (the node's resolvers)" if any(is_file_target(u) for u in upstreams) else "")


@check(
    "FC-DNS-001",
    title="Cluster DNS forwards to the node's resolv.conf",
    factor="explicit-dns",
    severity="high",
    reads=DNS_READS,
    settings=ExplicitUpstreamSettings,
    success="cluster DNS forwards the root zone to explicit upstream resolvers",
)
def test_dns_forwards_to_explicit_upstreams(cluster: ClusterView, settings: ExplicitUpstreamSettings) -> None:
    """The cluster DNS forwards ``.`` to ``/etc/resolv.conf`` where the profile requires explicit upstreams.

    What: every Corefile server block that serves the root zone is read for
    its ``forward .`` (``proxy .`` before CoreDNS 1.6), including lines that
    come from snippets and from files imported out of ``coredns-custom``; a
    target that is a file (``/etc/resolv.conf``) fails. On kube-dns, a
    ``kube-dns`` ConfigMap without ``upstreamNameservers`` (or no ConfigMap)
    fails, because its dnsmasq then uses the node's resolv.conf. The
    provider's own places are read too: AKS's ``coredns-custom`` overrides,
    RKE2's ``rke2-coredns-rke2-coredns``, OpenShift's
    ``openshift-dns/dns-default`` (rendered by the DNS operator). A server
    block with a second ``forward`` (an AKS ``*.override`` adding ``forward
    .`` to ``.:53``) fails naming the override: CoreDNS refuses that
    Corefile and crash-loops on restart. The setting
    ``require_explicit_upstreams: false`` turns the check off for a profile.
    Why: ``forward . /etc/resolv.conf`` is the kubeadm, kind, k3s and EKS
    default: pods then resolve external names through whatever resolvers the
    node image or the cloud's DHCP put there. Clusters built from the same
    manifests resolve differently per region or node pool, internal names
    leak to the provider's resolver, and a change to the node image silently
    changes DNS for every pod.
    Fix: name the resolvers in the Corefile, e.g. ``forward . 10.0.0.2
    10.0.0.3 { policy sequential }`` (k3s/AKS: in a ``coredns-custom`` key),
    or set ``upstreamNameservers: '["10.0.0.2", "10.0.0.3"]'`` in the
    ``kube-dns`` ConfigMap; use the same list on every cluster of the profile
    (``standards.dns_upstreams``).
    References: https://coredns.io/plugins/forward/ ,
    https://kubernetes.io/docs/tasks/administer-cluster/dns-custom-nameservers/
    """
    setup = dns_setup(cluster)
    if setup is not None and setup.refused:
        fail(
            f"{setup.title} refuses its configuration: {'; '.join(setup.refused)}; expected one forward per server "
            "block (put the upstreams in the base forward, or serve other zones from a *.server key)",
            list(setup.refused_refs),
        )
    if not settings.require_explicit_upstreams:
        skip(f"profile {cluster.profile.name} does not require explicit upstreams (require_explicit_upstreams: false)")
    if setup is None:
        skip(
            "no CoreDNS Corefile or kube-dns ConfigMap/Deployment in kube-system, and no openshift-dns/dns-default "
            "(managed DNS such as GKE's Cloud DNS, or custom DNS)"
        )
    standard = cluster.profile.standards.dns_upstreams
    expected = (
        f"explicit resolvers: {', '.join(standard)} (standards.dns_upstreams)"
        if standard
        else "explicit resolver addresses, e.g. forward . 10.0.0.2 10.0.0.3"
    )
    findings = Findings()
    for forwarding in setup.forwarding:
        if forwarding.files:
            findings.add(
                forwarding.ref,
                f"{forwarding.server} forwards . to {', '.join(forwarding.files)} ({forwarding.origin})",
            )
    owner = f" ({setup.managed_by})" if setup.managed_by else ""
    findings.raise_if_any(
        f"{setup.title} sends names outside the cluster to the node's resolvers; expected {expected}{owner}"
    )


# -- FC-DNS-002 ----------------------------------------------------------------------------------------


def _upstreams_of(setup: DnsSetup | None) -> tuple[str, ...] | None:
    return setup.upstreams if setup is not None else None


@check(
    "FC-DNS-002",
    title="Upstream resolvers differ from the fleet's",
    factor="explicit-dns",
    severity="high",
    scope="fleet",
    reads=DNS_READS,
    success="the root zone goes to the same upstream resolvers as the rest of the fleet",
)
def test_dns_upstreams_match_fleet(cluster: ClusterView, fleet: FleetView) -> None:
    """The resolvers the cluster DNS forwards ``.`` to differ from the fleet standard.

    What: the root zone's upstreams (the port-53 server block's ``forward .``
    targets, or kube-dns's ``upstreamNameservers``) are compared, as a set,
    with ``standards.dns_upstreams`` of the profile, else with the set most
    clusters of the same profile use. Spellings are normalized
    (``dns://10.0.0.2:53`` is ``10.0.0.2``); ``/etc/resolv.conf`` compares as
    itself. Stub domains (other zones' forwards) are not compared. When no
    set is used by more than half of the cohort and nothing is declared, the
    clusters are skipped with the split named (see below).
    Why: the same name must resolve the same way on every cluster, or a
    failover moves a workload to a cluster where its dependencies resolve to
    other addresses (or not at all). Differing upstreams are also how
    split-horizon zones, DNS filtering and query logging quietly stop
    applying to part of the fleet.
    Fix: forward ``.`` to the fleet's resolvers on this cluster (Corefile
    ``forward . <standard>``, or kube-dns ``upstreamNameservers``) from the
    GitOps source all clusters share; declare the list once in the profile
    as ``standards.dns_upstreams``.
    References: https://coredns.io/plugins/forward/ ,
    https://kubernetes.io/docs/tasks/administer-cluster/dns-custom-nameservers/
    """
    setup = dns_setup(cluster)
    if setup is None:
        skip("no CoreDNS Corefile or kube-dns ConfigMap/Deployment in kube-system: upstreams unknown")
    declared_list = cluster.profile.standards.dns_upstreams
    declared = (
        tuple(sorted({u if is_file_target(u) else normalize_upstream(u) for u in declared_list}))
        if declared_list is not None
        else None
    )
    standard = fleet.standard(
        cluster,
        builtin.DNS_SETUP,
        _upstreams_of,
        declared=declared,
        declared_as="standards.dns_upstreams",
        show=_show_upstreams,
    )
    mine = setup.upstreams
    if mine != standard.value:
        fail(
            f"{setup.upstreams_ref} forwards . to {_show_upstreams(mine)} ({setup.upstreams_origin}); "
            f"expected the fleet standard {_show_upstreams(standard.expected)}, {standard.says}",
            [setup.upstreams_ref],
        )


# -- FC-DNS-003 ----------------------------------------------------------------------------------------


def _domain_of(setup: DnsSetup | None) -> str | None:
    return setup.cluster_domain if setup is not None else None


@check(
    "FC-DNS-003",
    title="Cluster domain differs from the fleet's",
    factor="explicit-dns",
    severity="low",
    scope="fleet",
    reads=DNS_READS,
    success="the cluster domain is the fleet's",
)
def test_cluster_domain_matches_fleet(cluster: ClusterView, fleet: FleetView) -> None:
    """The cluster domain (``cluster.local``) differs from the fleet standard.

    What: the cluster domain is the first forward zone of the Corefile's
    ``kubernetes`` plugin (``kubernetes cluster.local in-addr.arpa ip6.arpa``;
    the block's zones when the plugin names none), or kube-dns's
    ``--domain`` flag. It is compared with ``standards.cluster_domain`` of the
    profile, else with the fleet standard (reference cluster, else the
    domain more than half of the cohort serves; a split is skipped).
    Why: manifests, service meshes, certificates and cross-cluster service
    discovery spell fully qualified names (``api.team-a.svc.cluster.local``);
    on a cluster with another domain those names do not resolve, which shows
    up only when a workload is moved there.
    Fix: the cluster domain is set at creation (kubeadm ``networking.dnsDomain``,
    kubelet ``clusterDomain``, k3s ``--cluster-domain``) and cannot be changed
    safely in place: rebuild the cluster with the fleet's domain, or declare
    the exception with a waiver until it is rebuilt.
    References: https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/ ,
    https://coredns.io/plugins/kubernetes/
    """
    setup = dns_setup(cluster)
    if setup is None:
        skip("no CoreDNS Corefile or kube-dns ConfigMap/Deployment in kube-system: cluster domain unknown")
    if setup.cluster_domain is None:
        skip(f"{setup.config_ref} serves no cluster domain ({setup.domain_origin})")
    declared_text = cluster.profile.standards.cluster_domain
    declared = normalize_domain(declared_text) if declared_text else None
    standard = fleet.standard(
        cluster, builtin.DNS_SETUP, _domain_of, declared=declared, declared_as="standards.cluster_domain"
    )
    if setup.cluster_domain != standard.value:
        fail(
            f"{setup.domain_ref} serves cluster domain {setup.cluster_domain} ({setup.domain_origin}); "
            f"expected the fleet standard {standard.value}, {standard.says}",
            [setup.domain_ref],
        )


# -- FC-DNS-004 ----------------------------------------------------------------------------------------

_RCODE_WORDS = {"NXDOMAIN", "SERVFAIL", "REFUSED", "NODATA", "NOTIMP", "FORMERR"}


class DnsAnswerSettings(BaseModel):
    """Settings of FC-DNS-004."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reference: dict[str, list[str]] = Field(
        default_factory=dict,
        description="expected answer per probe name: addresses, or one of NXDOMAIN/SERVFAIL/REFUSED/NODATA; "
        "names not listed are compared with the fleet's most common answer",
    )
    record_type: Literal["A", "AAAA"] = "A"

    @field_validator("reference")
    @classmethod
    def _answers_are_addresses_or_rcodes(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        normalized: dict[str, list[str]] = {}
        for name, answers in value.items():
            words = [a.strip() for a in answers]
            if len(words) == 1 and words[0].upper() in _RCODE_WORDS:
                normalized[name.rstrip(".").lower()] = [words[0].upper()]
                continue
            try:
                normalized[name.rstrip(".").lower()] = sorted(str(ipaddress.ip_address(w)) for w in words)
            except ValueError:
                raise ValueError(
                    f"{name}: answers must be IP addresses or one of {', '.join(sorted(_RCODE_WORDS))}"
                ) from None
        return normalized


@dataclass(frozen=True)
class _ProbeRun:
    endpoint: str
    answers: dict[str, DnsAnswer]
    error: FleetcheckError | None = None


@functools.lru_cache(maxsize=32)
def _probe_fact(names: tuple[str, ...], record_type: str) -> Fact[_ProbeRun | None]:
    """The answers to ``names`` through the cluster's declared DNS endpoint, one probe per cluster per run."""

    def run(source: FactInput) -> _ProbeRun | None:
        endpoint = source.declared.dns_endpoint
        probes = source.profile.probes
        if not endpoint or not source.is_live or not probes.enabled:
            return None
        answers: dict[str, DnsAnswer] = {}
        try:
            for name in names:
                answers[name] = resolve_name(endpoint, name, rdtype=record_type, timeout=probes.timeout_seconds)
        except ProbeError as exc:
            return _ProbeRun(endpoint, answers, exc)
        except ValueError as exc:
            return _ProbeRun(endpoint, answers, FleetcheckError(f"facts.dns_endpoint {endpoint!r} or name: {exc}"))
        return _ProbeRun(endpoint, answers)

    return Fact(
        f"dns.answers[{record_type}:{','.join(names)}]",
        "What the cluster's DNS answers for the profile's probe names (live, through facts.dns_endpoint).",
        (),
        run,
    )


def _show_answer(key: tuple[str, ...]) -> str:
    return ", ".join(key)


@check(
    "FC-DNS-004",
    title="Probe names resolve differently from the fleet",
    factor="explicit-dns",
    severity="high",
    scope="live",
    settings=DnsAnswerSettings,
    success="every probe name resolves, through the cluster's DNS, to the fleet reference",
)
def test_dns_answers_match_fleet(cluster: ClusterView, fleet: FleetView, settings: DnsAnswerSettings) -> None:
    """Names from the profile's probe list resolve, through the cluster's DNS, to other answers than the fleet's.

    What: each name of ``probes.dns_names`` is asked (``record_type``, A by
    default) of the cluster's DNS service at the endpoint the fleet file
    declares (``facts.dns_endpoint: host:port``, as reachable from the
    runner), with ``probes.timeout_seconds``. The answer (the set of
    addresses, or NXDOMAIN/SERVFAIL/REFUSED/NODATA) is compared with the
    ``reference`` setting for that name, else with the fleet standard (the
    reference cluster's answer, else the answer more than half of the
    cohort gives). No declared endpoint: skip. No reply: error.
    Why: this is the end-to-end view of FC-DNS-001..003: whatever the
    Corefile says, a name that resolves to another address on one cluster
    (a stale stub domain, a split-horizon view, a resolver that filters or
    hijacks) sends that cluster's traffic elsewhere, and it shows only when a
    workload fails over there.
    Fix: find where the answer comes from (``kubectl run -it --rm dnsutils
    --image=registry.k8s.io/e2e-test-images/jessie-dnsutils:1.3 -- dig
    NAME``), then align the Corefile's forwards and stub domains with the
    fleet (FC-DNS-001, FC-DNS-002); declare expected answers with ``settings:
    {FC-DNS-004: {reference: {NAME: [ADDRESS]}}}``.
    References: https://kubernetes.io/docs/tasks/administer-cluster/dns-debugging-resolution/ ,
    https://www.dnspython.org/
    """
    names = list(dict.fromkeys(n.rstrip(".").lower() for n in cluster.profile.probes.dns_names))
    if not names:
        skip(f"profile {cluster.profile.name} lists no probe names (probes.dns_names)")
    if not cluster.facts.dns_endpoint:
        skip("no DNS endpoint declared for this cluster (fleet file: facts.dns_endpoint: HOST:PORT)")
    probe = _probe_fact(tuple(names), settings.record_type)
    mine = cluster.fact(probe)
    if mine is None:
        skip("the DNS endpoint cannot be probed from here")
    if mine.error is not None:
        raise mine.error

    def answer_of(name: str) -> Callable[[_ProbeRun | None], tuple[str, ...] | None]:
        def value_of(run: _ProbeRun | None) -> tuple[str, ...] | None:
            if run is not None and run.error is not None:
                raise run.error  # the peer's probe failed: unreadable, not counted
            return run.answers[name].key if run is not None else None

        return value_of

    findings = Findings()
    undecided: list[str] = []
    for name in names:
        answer = mine.answers[name]
        declared = tuple(settings.reference[name]) if name in settings.reference else None
        standard = fleet.compare(
            cluster,
            probe,
            answer_of(name),
            declared=declared,
            declared_as=f"settings.FC-DNS-004.reference[{name}]",
            show=_show_answer,
        )
        if not standard.decided:
            if standard.kind == "reference-unreadable":
                raise FleetcheckError(standard.source)
            undecided.append(f"{name}: {standard.says}")
        elif answer.key != standard.value:
            findings.add(
                f"DNSName/{name}",
                f"answers {answer.describe()}; expected {_show_answer(standard.expected)}, {standard.says}",
            )
    not_judged = f"; not judged: {'; '.join(undecided)}" if undecided else ""
    if findings:
        message = findings.message(
            f"{len(findings)} of {len(names)} probe names resolve differently through {mine.endpoint} "
            f"({settings.record_type} records)"
        )
        fail(message + not_judged, findings.objects)
    if undecided:
        skip(f"{len(undecided)} of {len(names)} probe names have no fleet standard{not_judged}")


# -- FC-DNS-005 ----------------------------------------------------------------------------------------


class DnsReplicaSettings(BaseModel):
    """Settings of FC-DNS-005."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_ready_replicas: int = Field(default=2, ge=1, description="fewer ready replicas than this fails")


def _dns_deployment(deployments: list[dict[str, Any]]) -> dict[str, Any] | None:
    """``coredns``, ``kube-dns`` or RKE2's chart in kube-system, else one labelled ``k8s-app: kube-dns`` (Helm)."""
    in_system = {
        str(d["metadata"].get("name")): d
        for d in deployments
        if d.get("metadata", {}).get("namespace") == "kube-system"
    }
    for name in ("coredns", "kube-dns", "rke2-coredns-rke2-coredns"):
        if name in in_system:
            return in_system[name]
    for name in sorted(in_system):
        if (in_system[name]["metadata"].get("labels") or {}).get("k8s-app") == "kube-dns":
            return in_system[name]
    return None


@check(
    "FC-DNS-005",
    title="Fewer than 2 ready CoreDNS replicas",
    factor="explicit-dns",
    severity="medium",
    reads=["deployments"],  # DaemonSets are listed only when no DNS Deployment is found (OpenShift)
    settings=DnsReplicaSettings,
    success="cluster DNS runs enough ready replicas to survive losing one",
)
def test_dns_has_ready_replicas(cluster: ClusterView, settings: DnsReplicaSettings) -> None:
    """The cluster DNS Deployment has fewer ready replicas than the minimum (default 2).

    What: the Deployment ``coredns`` (or ``kube-dns``, or one labelled
    ``k8s-app: kube-dns``) in kube-system is read for ``status.readyReplicas``
    (absent means 0); RKE2's ``rke2-coredns-rke2-coredns`` counts the same.
    OpenShift runs its DNS as DaemonSet ``openshift-dns/dns-default``, one
    pod per node: its ``status.numberReady`` is counted instead (DaemonSets
    are read only on OpenShift, when no DNS Deployment is found). The prod and default
    profiles apply this check; the dev
    and edge profiles ignore it (single-node clusters cannot spread replicas).
    Why: every pod's name lookups go through these replicas. With one ready
    replica, a node drain, an eviction or one crash-looping pod makes every
    lookup in the cluster time out, and most applications fail together; a
    replica that exists but is not ready protects nothing.
    Fix: scale the Deployment to at least 2 replicas spread over nodes
    (``kubectl -n kube-system scale deployment coredns --replicas=2``, or the
    managed add-on's replica setting) and add a PodDisruptionBudget; if
    replicas exist but are not ready, read their logs and events. Tune with
    ``settings: {FC-DNS-005: {min_ready_replicas: 2}}``.
    References: https://kubernetes.io/docs/tasks/administer-cluster/dns-horizontal-autoscaling/ ,
    https://github.com/coredns/deployment/tree/master/kubernetes
    """
    deployment = _dns_deployment(cluster.list("deployments"))
    if deployment is None and cluster.fact(PROVIDER).provider != "openshift":
        skip("no coredns, kube-dns or rke2-coredns Deployment in kube-system (managed or custom DNS)")
    if deployment is None:
        daemonset = next(
            (
                d
                for d in cluster.list("daemonsets")
                if (d.get("metadata") or {}).get("namespace") == "openshift-dns"
                and (d.get("metadata") or {}).get("name") == "dns-default"
            ),
            None,
        )
        if daemonset is None:
            skip(
                "no coredns, kube-dns or rke2-coredns Deployment in kube-system and no openshift-dns/dns-default "
                "DaemonSet (managed or custom DNS)"
            )
        status = daemonset.get("status") or {}
        ready, desired = int(status.get("numberReady") or 0), int(status.get("desiredNumberScheduled") or 0)
        if ready < settings.min_ready_replicas:
            ref = "openshift-dns/DaemonSet/dns-default"
            fail(
                f"{ref} (OpenShift DNS operator) has {ready} ready pod{'s' if ready != 1 else ''} of {desired} "
                f"scheduled; expected at least {settings.min_ready_replicas}, so losing one node does not stop "
                "name resolution",
                [ref],
            )
        return
    status = deployment.get("status") or {}
    ready = int(status.get("readyReplicas") or 0)
    wanted = (deployment.get("spec") or {}).get("replicas", 1)
    minimum = settings.min_ready_replicas
    if ready < minimum:
        ref = f"kube-system/Deployment/{deployment['metadata']['name']}"
        fail(
            f"{ref} has {ready} ready replica{'s' if ready != 1 else ''} (spec.replicas {wanted}); expected at least "
            f"{minimum}, so losing one pod or node does not stop name resolution",
            [ref],
        )
