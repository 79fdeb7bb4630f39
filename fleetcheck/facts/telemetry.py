"""Where a cluster's metrics and logs go: remote-write destinations and log-shipping DaemonSets (FC-OBS-*).

Metrics destinations are read from the objects that configure them:

====================================== ==========================================================
Prometheus Operator ``Prometheus``,    ``spec.remoteWrite[].url``
``PrometheusAgent``
VictoriaMetrics ``VMAgent``,           ``spec.remoteWrite[].url``
Grafana Agent ``MetricsInstance``
OpenTelemetry Collector CR             ``spec.config`` (an object in v1beta1, a YAML string in
                                       v1alpha1): ``exporters.<id>.endpoint`` of the exporters the
                                       ``metrics`` pipelines use
ConfigMap, Prometheus or Grafana       YAML with ``remote_write: [{url: ...}]`` at any depth
Agent static mode                      (``prometheus.yml``, ``agent.yaml``: ``metrics.configs[]``)
ConfigMap, OpenTelemetry Collector     YAML with ``exporters`` and ``service.pipelines`` (the
                                       collector chart's ``relay`` key), as for the CR
ConfigMap, Grafana Alloy / Agent flow  ``prometheus.remote_write "x" { endpoint { url = "..." } }``
                                       and ``otelcol.exporter.otlp|otlphttp "x" { client {
                                       endpoint = "..." } }`` wired into a ``metrics = [...]`` list
====================================== ==========================================================

Limits, said rather than guessed: a URL taken from the environment or a
Secret (``env("X")``, ``${X}``, ``$(X)``, ``remote_write`` in a Secret the
scan cannot read) cannot be judged and is reported as unresolved; Helm
templates that are not valid YAML are reported as unparsable; a ConfigMap
nobody mounts still counts (the scan does not follow volumes); Alloy
configuration is scanned block by block, not evaluated, so ``for_each`` and
module imports are not followed.

Every text is hostile input (any tenant can write a ConfigMap): YAML is
parsed with :func:`fleetcheck.registry.yamlfile.load_cluster_text` (a size
and an expanded-node budget per text), the ``remote_write`` walk visits each
node once however the parsed graph shares it, and Alloy text is scanned in
linear passes. A text over a budget is not parsed and is listed in
:attr:`MetricsScan.refused`, so the check can say it could not decide.

Metrics agents are the workloads that ship metrics to a store they have
built in, with no URL in any configuration: Azure Monitor's ``ama-metrics``
(managed Prometheus), GKE's ``gke-metrics-agent`` and Managed Service for
Prometheus ``collector`` (``gmp-system``), the CloudWatch agent, the Datadog
and Elastic agents. :func:`find_metrics_agents` names each with its store, so
FC-OBS-001 can say what was seen and whether that store is the profile's.

Log shippers are DaemonSets recognised by name or image (fluent-bit,
fluentd, Vector, Promtail, the OpenTelemetry Collector, Grafana Agent,
Alloy, Filebeat, Elastic Agent, the Datadog agent with log collection on,
and the providers' own: Azure Monitor's ``ama-logs``, GKE's
``fluentbit-gke``, ``aws-for-fluent-bit`` and Container Insights' fluent-bit).
Which nodes one must run on is decided as the DaemonSet controller decides
where it can schedule: Ready nodes that are not cordoned and whose ``NoSchedule``/``NoExecute`` taints the pod template
tolerates (with the tolerations the controller adds to every DaemonSet pod).
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from fleetcheck.core.imageref import ImageRefError, parse_image_ref
from fleetcheck.registry.yamlfile import (
    CLUSTER_TEXT_BYTES,
    CLUSTER_TEXT_NODES,
    ClusterTextInvalid,
    ClusterTextOverBudget,
    load_cluster_text,
)

__all__ = [
    "LOG_SHIPPERS",
    "METRICS_AGENTS",
    "METRICS_KINDS",
    "EligibleNodes",
    "LogShipper",
    "MetricsAgent",
    "MetricsAgentSignature",
    "MetricsDestination",
    "MetricsScan",
    "endpoint_matches",
    "find_log_shippers",
    "find_metrics_agents",
    "is_in_cluster",
    "metrics_destinations",
    "nodes_for",
    "river_destinations",
    "rollout_problems",
    "tolerates",
]

Obj = dict[str, Any]

#: (kind as ``reads=`` names it, Kind) of the custom resources with ``spec.remoteWrite[].url``.
_REMOTE_WRITE_CRS: tuple[tuple[str, str], ...] = (
    ("monitoring.coreos.com/v1 prometheuses", "Prometheus"),
    ("monitoring.coreos.com/v1alpha1 prometheusagents", "PrometheusAgent"),
    ("operator.victoriametrics.com/v1beta1 vmagents", "VMAgent"),
    ("monitoring.grafana.com/v1alpha1 metricsinstances", "MetricsInstance"),
)
_OTEL_COLLECTORS = "opentelemetry.io/v1beta1 opentelemetrycollectors"
#: Every kind :func:`metrics_destinations` lists (put them in a check's ``reads=``).
METRICS_KINDS: tuple[str, ...] = (*(kind for kind, _ in _REMOTE_WRITE_CRS), _OTEL_COLLECTORS, "configmaps")

#: Exporters that keep data local (a scrape endpoint, a file, the log) rather than sending it away.
_LOCAL_EXPORTERS = frozenset({"debug", "logging", "nop", "prometheus", "file"})
#: Exporters that send to a vendor's service, whose endpoint is built in when not configured.
_VENDOR_EXPORTERS = frozenset(
    {"datadog", "googlemanagedprometheus", "googlecloud", "awsemf", "azuremonitor", "splunk_hec", "newrelic"}
)
_UNRESOLVED = re.compile(r"\$\{|\$\(|^env\(|sys\.env\(")
#: A YAML key that makes a ConfigMap value worth parsing (JSON dashboards that merely mention them do not match).
_YAML_MARKER = re.compile(r"(?m)^[ \t-]*(remote_write|exporters)[ \t]*:")
_RIVER_BLOCK = re.compile(
    r"(?P<component>prometheus\.remote_write|otelcol\.exporter\.(?:otlphttp|otlp|prometheusremotewrite))"
    r"\s+\"(?P<label>[^\"]*)\"\s*\{"
)
_RIVER_ATTRIBUTE = re.compile(r"\b(?P<key>url|endpoint)\s*=\s*(?P<value>\"(?:[^\"\\]|\\.)*\"|[^\n}/]+)")
#: a string (kept), or a ``//`` or ``/* */`` comment (dropped); an unterminated string or comment runs to the end
_RIVER_STRING_OR_COMMENT = re.compile(r'"(?:[^"\\]|\\.)*"?|//[^\n]*|/\*[\s\S]*?(?:\*/|\Z)')
_RIVER_STRING_OR_BRACE = re.compile(r'"(?:[^"\\]|\\.)*"?|[{}]')
_RIVER_METRICS_LIST = re.compile(r"\bmetrics\s*=\s*\[(?P<body>[^\]]*)")
_RIVER_INPUT = re.compile(r"[\w.\-]+\.input\b")
#: remote-write and exporter components read from one Alloy text at most
_RIVER_BLOCKS = 1_000


@dataclass(frozen=True)
class MetricsDestination:
    """One place metrics are sent: which object says so, how, and the URL as written."""

    source: str
    via: str
    url: str

    @property
    def in_cluster(self) -> bool:
        """The URL names a Service, a bare name, or loopback: the metrics stay in the cluster."""
        return bool(self.url) and is_in_cluster(self.url)

    def describe(self) -> str:
        """``monitoring/Prometheus/k8s remoteWrite -> https://...``."""
        target = self.url or "(the exporter's built-in endpoint)"
        return f"{self.source} {self.via} -> {target}"


@dataclass
class MetricsScan:
    """Every metrics destination found, and the configurations that could not be judged (with why)."""

    destinations: list[MetricsDestination] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    #: texts not read because they are over a parse budget (each message names the object and the budget)
    refused: list[str] = field(default_factory=list)


def _ref(obj: Obj, kind: str) -> str:
    meta = obj.get("metadata") or {}
    namespace = meta.get("namespace")
    name = meta.get("name", "?")
    return f"{namespace}/{kind}/{name}" if namespace else f"{kind}/{name}"


def _host(url: str) -> str | None:
    try:
        return urlsplit(url if "://" in url else f"//{url}").hostname
    except ValueError:
        return None


def is_in_cluster(url: str) -> bool:
    """Whether ``url`` points inside the cluster: ``*.svc[.domain]``, a single-label name, or loopback."""
    host = _host(url.strip())
    if not host:
        return False
    if host in ("localhost", "0.0.0.0", "::"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    return len(labels) == 1 or "svc" in labels[2:] or host.endswith(".cluster.local")


def _normalised(url: str) -> str:
    """Scheme and host lower case (DNS and schemes are case-insensitive; paths are not)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}://{host.lower()}{slash}{path}"


def endpoint_matches(url: str, pattern: str) -> bool:
    """Whether ``url`` is under ``pattern``: a URL prefix ending at a boundary, or a glob (``*``, ``?``, ``[``).

    ``https://metrics.example.com`` matches ``https://metrics.example.com/api/v1/push`` but not
    ``https://metrics.example.com.evil.io``; an endpoint without a scheme (``host:4317``, as gRPC
    exporters write it) is also tried as ``https://`` and ``http://``.
    """
    pattern = _normalised(pattern.strip())
    candidates = [url.strip()] if "://" in url else [url.strip(), f"https://{url.strip()}", f"http://{url.strip()}"]
    for candidate in (_normalised(c) for c in candidates):
        if any(ch in pattern for ch in "*?["):
            stem = pattern.rstrip("/")
            if any(fnmatch.fnmatchcase(candidate, p) for p in (pattern, f"{stem}/*", f"{stem}:*")):
                return True
        elif candidate.startswith(pattern) and (
            pattern.endswith("/") or len(candidate) == len(pattern) or candidate[len(pattern)] in "/?#:"
        ):
            return True
    return False


def _remote_write_urls(entries: Any) -> Iterator[str]:
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("url"):
            yield str(entry["url"])


def _add(scan: MetricsScan, source: str, via: str, url: str) -> None:
    if _UNRESOLVED.search(url):
        scan.unresolved.append(f"{source} {via}: URL {url!r} comes from the environment and cannot be judged")
    else:
        scan.destinations.append(MetricsDestination(source, via, url))


def _walk_remote_write(root: Any, *, max_depth: int = 8, max_nodes: int = CLUSTER_TEXT_NODES) -> Iterator[str]:
    """Every ``remote_write[].url`` at any depth (Prometheus, Grafana Agent static ``metrics.configs[]``).

    The parsed document may share containers (a YAML alias is one Python
    object reachable from many places), so each container is visited once by
    identity and at most ``max_nodes`` are visited: the walk is linear in the
    distinct nodes, never in the expanded tree.
    """
    seen: set[int] = set()
    stack: list[tuple[Any, int]] = [(root, 0)]
    while stack and len(seen) < max_nodes:
        node, depth = stack.pop()
        if depth > max_depth or not isinstance(node, dict | list) or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            children: list[Any] = []
            for key, value in node.items():
                if key == "remote_write":
                    yield from _remote_write_urls(value)
                else:
                    children.append(value)
        else:
            children = list(node)
        stack.extend((child, depth + 1) for child in reversed(children))


def _otel_config(scan: MetricsScan, source: str, config: Any) -> None:
    """Exporters of the collector's ``metrics`` pipelines (all exporters when no pipeline is declared)."""
    if not isinstance(config, dict):
        return
    exporters = config.get("exporters") or {}
    if not isinstance(exporters, dict):
        return
    pipelines = ((config.get("service") or {}).get("pipelines")) or {}
    used: set[str] = set()
    if isinstance(pipelines, dict) and pipelines:
        for name, pipeline in pipelines.items():
            if (str(name) == "metrics" or str(name).startswith("metrics/")) and isinstance(pipeline, dict):
                used.update(str(e) for e in pipeline.get("exporters") or [])
    else:
        used = {str(e) for e in exporters}
    for exporter_id in sorted(used):
        exporter_type = exporter_id.split("/", 1)[0]
        settings = exporters.get(exporter_id) or {}
        if exporter_type in _LOCAL_EXPORTERS or not isinstance(settings, dict):
            continue
        endpoint = settings.get("metrics_endpoint") or settings.get("endpoint")
        if endpoint:
            _add(scan, source, f"exporter {exporter_id}", str(endpoint))
        elif exporter_type in _VENDOR_EXPORTERS:
            scan.destinations.append(MetricsDestination(source, f"exporter {exporter_id}", ""))


def _strip_river_comments(text: str) -> str:
    """``text`` without ``//`` and ``/* */`` comments (strings respected), so commented-out config does not count."""
    return _RIVER_STRING_OR_COMMENT.sub(lambda m: m[0] if m[0].startswith('"') else "", text)


def _river_closing_braces(text: str) -> dict[int, int]:
    """For each ``{`` outside strings, where its ``}`` is (one pass; an unclosed block runs to the end)."""
    closing: dict[int, int] = {}
    open_at: list[int] = []
    for match in _RIVER_STRING_OR_BRACE.finditer(text):
        if match[0] == "{":
            open_at.append(match.start())
        elif match[0] == "}" and open_at:
            closing[open_at.pop()] = match.start()
    for start in open_at:
        closing[start] = len(text)
    return closing


def river_destinations(text: str, *, what: str = "Alloy configuration") -> list[tuple[str, str]]:
    """``(via, url)`` pairs from Alloy / Grafana Agent flow configuration (see the module docs).

    Linear in the text: comments go in one regex pass, braces are matched in
    another, and a component nested in another one's body (not valid Alloy)
    is not read again. Raises :class:`ClusterTextOverBudget` for a text
    larger than the parse budget or with more than ``_RIVER_BLOCKS`` components.
    """
    if len(text) > CLUSTER_TEXT_BYTES:
        raise ClusterTextOverBudget(
            what, f"text is {len(text):,} characters, more than the parse budget of {CLUSTER_TEXT_BYTES:,}; not parsed"
        )
    found: list[tuple[str, str]] = []
    text = _strip_river_comments(text)
    closing = _river_closing_braces(text)
    fed = {name for listed in _RIVER_METRICS_LIST.finditer(text) for name in _RIVER_INPUT.findall(listed["body"])}
    read_until, blocks = -1, 0
    for match in _RIVER_BLOCK.finditer(text):
        component, label = match["component"], match["label"]
        if match.start() < read_until:
            continue  # inside a component already read
        if component.startswith("otelcol.") and f"{component}.{label}.input" not in fed:
            continue  # an exporter no metrics flow into (traces or logs only)
        blocks += 1
        if blocks > _RIVER_BLOCKS:
            raise ClusterTextOverBudget(
                what, f"more than {_RIVER_BLOCKS:,} remote-write or exporter components (the parse budget); not parsed"
            )
        opener = match.end() - 1
        read_until = closing.get(opener, len(text))
        body = text[opener + 1 : read_until]
        key = "url" if component == "prometheus.remote_write" else "endpoint"
        for attribute in _RIVER_ATTRIBUTE.finditer(body):
            if attribute["key"] != key:
                continue
            value = attribute["value"].strip()
            url = value[1:-1] if value.startswith('"') else value
            found.append((f'{component} "{label}"', url))
    return found


def _configmap(scan: MetricsScan, configmap: Obj) -> None:
    data = configmap.get("data") or {}
    if not isinstance(data, dict):
        return
    for key, value in sorted(data.items()):
        text = str(value)
        source = f"{_ref(configmap, 'ConfigMap')} ({key})"
        if _RIVER_BLOCK.search(text):
            try:
                for via, url in river_destinations(text, what=source):
                    _add(scan, source, via, url)
            except ClusterTextOverBudget as exc:
                scan.refused.append(str(exc))
            continue
        marker = _YAML_MARKER.search(text)
        if marker is None:
            continue
        try:
            document = load_cluster_text(text, what=source)
        except ClusterTextOverBudget as exc:
            scan.refused.append(str(exc))
            continue
        except ClusterTextInvalid:
            scan.unresolved.append(f"{source}: has a {marker[1]} key but is not valid YAML (a template?)")
            continue
        if not isinstance(document, dict):
            continue
        for url in _walk_remote_write(document):
            _add(scan, source, "remote_write", url)
        if "exporters" in document and isinstance(document.get("service"), dict):
            _otel_config(scan, source, document)


def metrics_destinations(list_objects: Callable[[str], list[Obj]]) -> MetricsScan:
    """Every metrics destination the cluster's configuration names (``list_objects``: ``ClusterView.list``)."""
    scan = MetricsScan()
    for kind, kind_name in _REMOTE_WRITE_CRS:
        for obj in list_objects(kind):
            for url in _remote_write_urls((obj.get("spec") or {}).get("remoteWrite")):
                _add(scan, _ref(obj, kind_name), "remoteWrite", url)
    for collector in list_objects(_OTEL_COLLECTORS):
        config = (collector.get("spec") or {}).get("config")
        source = _ref(collector, "OpenTelemetryCollector")
        if isinstance(config, str):
            try:
                config = load_cluster_text(config, what=f"{source} spec.config")
            except ClusterTextOverBudget as exc:
                scan.refused.append(str(exc))
                continue
            except ClusterTextInvalid:
                scan.unresolved.append(f"{source}: spec.config is not valid YAML")
                continue
        _otel_config(scan, source, config)
    for configmap in list_objects("configmaps"):
        _configmap(scan, configmap)
    return scan


# -- log shippers ------------------------------------------------------------------------------------


# -- metrics agents with a built-in store ---------------------------------------------------------


@dataclass(frozen=True)
class MetricsAgentSignature:
    """A metrics agent that ships to a store of its own: workload name globs, image globs, namespaces, the store.

    ``store`` is the id a profile lists in FC-OBS-001's ``agent_stores`` to
    count the agent as the central store (``google-cloud-monitoring`` ...).
    """

    product: str
    store: str
    store_title: str
    names: tuple[str, ...]
    images: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()


METRICS_AGENTS: tuple[MetricsAgentSignature, ...] = (
    MetricsAgentSignature(
        "Azure Monitor metrics add-on (ama-metrics)",
        "azure-monitor",
        "Azure Monitor managed Prometheus",
        ("ama-metrics", "ama-metrics-node", "ama-metrics-win-node", "ama-metrics-ksm"),
        ("azuremonitor/containerinsights/ciprod/prometheus-collector/*",),
        ("kube-system",),
    ),
    MetricsAgentSignature(
        "Azure Monitor Container Insights agent (ama-logs)",
        "azure-monitor",
        "Azure Monitor Log Analytics (Container Insights performance metrics)",
        ("ama-logs", "ama-logs-rs", "omsagent", "omsagent-rs"),
        ("azuremonitor/containerinsights/ciprod",),
        ("kube-system",),
    ),
    MetricsAgentSignature(
        "GKE metrics agent",
        "google-cloud-monitoring",
        "Google Cloud Monitoring",
        ("gke-metrics-agent*",),
        ("gke-metrics-agent",),
        ("kube-system",),
    ),
    MetricsAgentSignature(
        "Google Cloud Managed Service for Prometheus collector",
        "google-cloud-monitoring",
        "Google Cloud Monitoring (Managed Service for Prometheus)",
        ("collector",),
        ("prometheus-engine/prometheus",),
        ("gmp-system", "gke-gmp-system"),
    ),
    MetricsAgentSignature(
        "CloudWatch agent (Container Insights)",
        "amazon-cloudwatch",
        "Amazon CloudWatch",
        ("cloudwatch-agent*",),
        ("cloudwatch-agent/cloudwatch-agent", "cloudwatch-agent"),
    ),
    MetricsAgentSignature(
        "Datadog agent",
        "datadog",
        "Datadog",
        ("datadog", "datadog-agent", "*-datadog"),
        (
            "datadog/agent",
            "datadoghq/agent",
        ),
    ),
    MetricsAgentSignature(
        "Elastic Agent / Metricbeat",
        "elastic",
        "Elasticsearch",
        ("elastic-agent*", "metricbeat*", "*-metricbeat"),
        ("beats/elastic-agent", "elastic/elastic-agent", "beats/metricbeat"),
    ),
)


@dataclass(frozen=True)
class MetricsAgent:
    """One metrics agent seen: which workload, which product, which store it ships to."""

    ref: str
    signature: MetricsAgentSignature

    def describe(self) -> str:
        """``kube-system/DaemonSet/gke-metrics-agent (GKE metrics agent -> Google Cloud Monitoring)``."""
        return f"{self.ref} ({self.signature.product} -> {self.signature.store_title})"


def _glob_any(text: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(text, p) or fnmatch.fnmatchcase(text, f"*/{p}") for p in patterns)


def find_metrics_agents(workloads: Iterable[tuple[str, Obj]], *, limit: int = 10_000) -> list[MetricsAgent]:
    """Every metrics agent with a built-in store among ``(Kind, object)`` pairs (DaemonSets and Deployments).

    A workload counts when its name matches and, where the signature names
    images, one of its images does too (``collector`` is a common name);
    at most ``limit`` workloads are read.
    """
    found: list[MetricsAgent] = []
    for index, (kind, obj) in enumerate(workloads):
        if index >= limit:
            break
        meta = obj.get("metadata") or {}
        name, namespace = str(meta.get("name", ""))[:253], str(meta.get("namespace", ""))[:253]
        paths = [_image_path(image) for image in _images(obj)]
        for signature in METRICS_AGENTS:
            if signature.namespaces and namespace not in signature.namespaces:
                continue
            if not any(fnmatch.fnmatchcase(name, pattern) for pattern in signature.names):
                continue
            if signature.images and not any(_glob_any(path, signature.images) for path in paths):
                continue
            found.append(MetricsAgent(_ref(obj, kind), signature))
            break
    return found


# -- log shippers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogShipper:
    """A log shipper's signature: DaemonSet name globs and image repository globs (matched on the path tail).

    ``env``: a container environment variable that must hold one of the
    values for the DaemonSet to ship logs (the Datadog agent collects logs
    only with ``DD_LOGS_ENABLED=true``).
    """

    product: str
    names: tuple[str, ...]
    images: tuple[str, ...]
    env: tuple[str, tuple[str, ...]] | None = None
    #: a provider's own shipper: matched before the generic products it is built on (fluentbit-gke is fluent-bit)
    provider: bool = False


LOG_SHIPPERS: tuple[LogShipper, ...] = (
    LogShipper(
        "fluent-bit",
        ("fluent-bit*", "*-fluent-bit", "*fluentbit*", "aws-for-fluent-bit"),
        ("fluent/fluent-bit", "fluent-bit", "aws-for-fluent-bit"),
    ),
    LogShipper("fluentd", ("fluentd*", "*-fluentd"), ("fluent/fluentd*", "fluentd-kubernetes-daemonset", "fluentd")),
    LogShipper("vector", ("vector", "vector-agent", "*-vector", "vector-*"), ("timberio/vector", "vector")),
    LogShipper("promtail", ("promtail*", "*-promtail"), ("grafana/promtail", "promtail")),
    LogShipper(
        "opentelemetry-collector",
        ("otel-agent*", "*-otel-agent", "otel-collector*", "opentelemetry-collector*", "*-opentelemetry-collector*"),
        ("otel/opentelemetry-collector*", "opentelemetry-collector*", "opentelemetry-collector-releases/*"),
    ),
    LogShipper("grafana-agent", ("grafana-agent*", "*-grafana-agent"), ("grafana/agent",)),
    LogShipper("alloy", ("alloy", "alloy-*", "*-alloy"), ("grafana/alloy",)),
    LogShipper("filebeat", ("filebeat*", "*-filebeat"), ("beats/filebeat", "elastic/filebeat")),
    LogShipper("elastic-agent", ("elastic-agent*",), ("beats/elastic-agent", "elastic/elastic-agent")),
    LogShipper(
        "datadog-agent (logs)",
        ("datadog", "datadog-agent", "*-datadog"),
        ("datadog/agent", "datadoghq/agent"),
        env=("DD_LOGS_ENABLED", ("true", "1", "yes")),
    ),
    LogShipper(
        "ama-logs (Azure Monitor Container Insights, fluent-bit)",
        ("ama-logs", "ama-logs-windows", "omsagent", "omsagent-win"),
        ("azuremonitor/containerinsights/ciprod",),
        provider=True,
    ),
    LogShipper("fluentbit-gke (GKE Cloud Logging, fluent-bit)", ("fluentbit-gke*",), (), provider=True),
    LogShipper(
        "aws-for-fluent-bit (fluent-bit)",
        ("aws-for-fluent-bit*",),
        ("aws-observability/aws-for-fluent-bit",),
        provider=True,
    ),
)
#: the order shippers are tried in: a provider's own first
_SHIPPER_ORDER = tuple(sorted(LOG_SHIPPERS, key=lambda shipper: not shipper.provider))


def _image_path(image: str) -> str:
    try:
        return parse_image_ref(image).path
    except ImageRefError:
        return image.split("@", 1)[0].rsplit(":", 1)[0]


def _pod_spec(daemonset: Obj) -> Obj:
    spec = ((daemonset.get("spec") or {}).get("template") or {}).get("spec") or {}
    return spec if isinstance(spec, dict) else {}


def _images(daemonset: Obj) -> list[str]:
    return [str(c.get("image", "")) for c in _pod_spec(daemonset).get("containers") or [] if isinstance(c, dict)]


def _env_values(daemonset: Obj, name: str) -> set[str]:
    values: set[str] = set()
    for container in _pod_spec(daemonset).get("containers") or []:
        for env in (container.get("env") or []) if isinstance(container, dict) else []:
            if isinstance(env, dict) and env.get("name") == name and "value" in env:
                values.add(str(env.get("value"))[:64].strip().lower())
    return values


def _product(daemonset: Obj) -> str | None:
    name = str((daemonset.get("metadata") or {}).get("name", ""))
    paths = [_image_path(image) for image in _images(daemonset)]
    for shipper in _SHIPPER_ORDER:
        named = any(fnmatch.fnmatchcase(name, pattern) for pattern in shipper.names)
        if not named and not any(_glob_any(path, shipper.images) for path in paths):
            continue
        if shipper.env is not None and not _env_values(daemonset, shipper.env[0]) & set(shipper.env[1]):
            continue  # the agent runs, but does not collect logs
        return shipper.product
    return None


def find_log_shippers(daemonsets: Iterable[Obj]) -> list[tuple[str, Obj]]:
    """``(product, DaemonSet)`` for every DaemonSet that is a known log shipper, by name or image."""
    found: list[tuple[str, Obj]] = []
    for daemonset in daemonsets:
        product = _product(daemonset)
        if product is not None:
            found.append((product, daemonset))
    return found


#: Tolerations the DaemonSet controller adds to every DaemonSet pod (``network-unavailable`` only with hostNetwork).
_DAEMONSET_TOLERATIONS: tuple[Obj, ...] = (
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
)
_HOST_NETWORK_TOLERATION: Obj = {
    "key": "node.kubernetes.io/network-unavailable",
    "operator": "Exists",
    "effect": "NoSchedule",
}


def tolerates(toleration: Obj, taint: Obj) -> bool:
    """Kubernetes' ``Toleration.ToleratesTaint``: effect, key and (for ``Equal``) value must match."""
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    operator = toleration.get("operator") or "Equal"
    key = toleration.get("key") or ""
    if not key:
        return operator == "Exists"
    if key != taint.get("key"):
        return False
    return operator == "Exists" or str(toleration.get("value") or "") == str(taint.get("value") or "")


def _ready(node: Obj) -> bool:
    for condition in (node.get("status") or {}).get("conditions") or []:
        if isinstance(condition, dict) and condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


@dataclass
class EligibleNodes:
    """The nodes a DaemonSet must run on, and why each other node is not one of them."""

    names: list[str] = field(default_factory=list)
    excluded: dict[str, str] = field(default_factory=dict)


def nodes_for(daemonset: Obj, nodes: Iterable[Obj]) -> EligibleNodes:
    """Ready, uncordoned nodes whose NoSchedule/NoExecute taints the DaemonSet's pods tolerate."""
    pod_spec = _pod_spec(daemonset)
    tolerations = [t for t in pod_spec.get("tolerations") or [] if isinstance(t, dict)]
    tolerations += list(_DAEMONSET_TOLERATIONS)
    if pod_spec.get("hostNetwork"):
        tolerations.append(_HOST_NETWORK_TOLERATION)
    result = EligibleNodes()
    for node in nodes:
        name = str((node.get("metadata") or {}).get("name", "?"))
        spec = node.get("spec") or {}
        if not _ready(node):
            result.excluded[name] = "not Ready"
        elif spec.get("unschedulable"):
            result.excluded[name] = "cordoned"
        else:
            blocking = [
                t
                for t in spec.get("taints") or []
                if isinstance(t, dict)
                and t.get("effect") in ("NoSchedule", "NoExecute")
                and not any(tolerates(tol, t) for tol in tolerations)
            ]
            if blocking:
                taint = blocking[0]
                value = f"={taint['value']}" if taint.get("value") else ""
                result.excluded[name] = f"taint {taint.get('key')}{value}:{taint.get('effect')} not tolerated"
            else:
                result.names.append(name)
    return result


def rollout_problems(daemonset: Obj, eligible: int) -> list[str]:
    """Why the DaemonSet is not fully rolled out on every eligible node (empty when it is).

    Fully rolled out: the controller has seen the current generation, and
    ``desiredNumberScheduled == numberReady == updatedNumberScheduled`` (the
    last only for ``RollingUpdate``: with ``OnDelete`` old pods stay by
    design), with at least one pod per eligible node. ``desired`` may
    exceed the eligible count, since DaemonSets also run on cordoned and
    NotReady nodes.
    """
    meta = daemonset.get("metadata") or {}
    status = daemonset.get("status") or {}
    spec = daemonset.get("spec") or {}
    problems: list[str] = []
    generation, observed = meta.get("generation"), status.get("observedGeneration")
    if isinstance(generation, int) and isinstance(observed, int) and observed < generation:
        problems.append(f"the controller has not observed generation {generation} yet (status is of {observed})")
    desired = int(status.get("desiredNumberScheduled") or 0)
    ready = int(status.get("numberReady") or 0)
    updated = int(status.get("updatedNumberScheduled") or 0)
    if desired == 0:
        problems.append("scheduled on no node (desiredNumberScheduled is 0)")
    if ready < desired:
        problems.append(f"ready on {ready} of {desired} scheduled nodes")
    strategy = str((spec.get("updateStrategy") or {}).get("type") or "RollingUpdate")
    if strategy == "RollingUpdate" and updated < desired:
        problems.append(f"{updated} of {desired} pods run the current template (rollout incomplete)")
    if desired < eligible:
        selector = _pod_spec(daemonset).get("nodeSelector") or {}
        affinity = (_pod_spec(daemonset).get("affinity") or {}).get("nodeAffinity")
        why = ""
        if selector:
            why = f" (its nodeSelector {', '.join(f'{k}={v}' for k, v in sorted(selector.items()))} leaves nodes out)"
        elif affinity:
            why = " (its node affinity leaves nodes out)"
        problems.append(f"scheduled on {desired} nodes but {eligible} schedulable Ready nodes accept it{why}")
    return problems
