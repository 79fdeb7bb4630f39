"""A live cluster read through the official ``kubernetes`` client, raw JSON only.

The only module that imports ``kubernetes``. Lists are fetched as raw bytes
(``_preload_content`` off) and parsed with orjson: the client's typed models
are 18-25x slower on 5,000 pods. Every request has a connect and a read
timeout; the API server's clock is read from each response's ``Date``
header. Nothing here can write: the only verb used is GET.

Credentials are made ready by :mod:`fleetcheck.state.user_credentials`
before the client loads the kubeconfig (tokenFile read, exec plugin run with
``--exec-timeout``, outside :data:`CONFIG_LOAD_LOCK`), so the client's own
exec provider never runs and one cluster's hanging plugin never holds the
lock the others load under. Every text the API server sends back that goes
into a message passes through :func:`fleetcheck.redact.redact`: a proxy that
echoes the bearer token in its 401 has it removed.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import orjson
import urllib3
from cryptography import x509
from kubernetes import client as k8s_client
from kubernetes.config import kube_config
from kubernetes.config.config_exception import ConfigException

from fleetcheck.core.kinds import ResourceRef, is_builtin
from fleetcheck.core.prometheus_text import MetricSample, parse_samples
from fleetcheck.errors import ConfigError, fresh
from fleetcheck.redact import install_redaction, redact
from fleetcheck.registry.kubeconfig import MergedKubeconfig
from fleetcheck.state.base import (
    ClusterState,
    ClusterUnreachable,
    KindList,
    KindUnavailable,
    MetricsUnavailable,
    ServerVersion,
    ServingCertificate,
)
from fleetcheck.state.projection import project_items
from fleetcheck.state.user_credentials import DEFAULT_EXEC_TIMEOUT, prepare_context

__all__ = ["LiveClusterState", "LiveOptions"]

log = logging.getLogger("fleetcheck.live")

_RETRYABLE_STATUS = {429, 503}
#: The client writes certificate data to temporary files it shares between loads by content, naming the file
#: before writing it: two contexts loaded at once (a thread pool opening clusters) could hand one of them an empty
#: CA file ("no certificate or crl found"). Loading takes milliseconds; one at a time.
CONFIG_LOAD_LOCK = threading.Lock()


@dataclass(frozen=True)
class LiveOptions:
    """Network behaviour of a live scan."""

    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    page_size: int = 500
    #: attempts for 429/503 (honouring Retry-After up to ``max_retry_after``) and connection resets
    attempts: int = 3
    max_retry_after: float = 5.0
    #: wall-clock budget for all of one cluster's requests (``--cluster-timeout``); None = unbounded
    cluster_budget: float | None = 120.0
    #: seconds a kubeconfig exec credential plugin may take (``--exec-timeout``)
    exec_timeout: float = DEFAULT_EXEC_TIMEOUT
    #: bytes of ``/metrics`` read at most (a big cluster's API server serves 10-30 MB; more is not read)
    metrics_max_bytes: int = 64 * 1024 * 1024


@dataclass
class _Response:
    status: int
    data: bytes
    date: datetime | None
    retry_after: float | None


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _peer_der(raw: Any) -> bytes | None:
    """The DER certificate the server presented on the connection ``raw`` arrived on (None: not TLS).

    Read from the live urllib3 connection before the body is read (which hands the connection back to
    the pool): no second handshake, no extra request.
    """
    connection = getattr(getattr(raw, "response", None), "connection", None)
    sock = getattr(connection, "sock", None)
    if not isinstance(sock, ssl.SSLSocket):
        return None
    try:
        return sock.getpeercert(binary_form=True)
    except (ValueError, OSError):  # closed, or the handshake is not done
        return None


#: a served certificate larger than this is not parsed (real ones are 1-2 KiB)
_MAX_DER_BYTES = 64 * 1024


def _serving_certificate(der: bytes) -> ServingCertificate | None:
    """Subject, issuer and expiry of the DER certificate a server presented (None when it is not one)."""
    if not der or len(der) > _MAX_DER_BYTES:
        return None
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return None
    return ServingCertificate(
        redact(cert.subject.rfc4514_string()[:300]),
        redact(cert.issuer.rfc4514_string()[:300]),
        cert.not_valid_after_utc.astimezone(UTC),
    )


def _read_bounded(raw: Any, max_bytes: int) -> bytes | None:
    """At most ``max_bytes`` of the body; None (connection closed, never pooled) when it is longer."""
    response = raw.response
    data = response.read(max_bytes + 1) or b""
    if len(data) > max_bytes:
        response.close()
        return None
    response.release_conn()
    return bytes(data)


_METRICS_REF = ResourceRef("", "v1", "metrics", "Metrics", False)
_METRICS_ACCEPT = "text/plain;version=0.0.4"


def _status_message(data: bytes) -> str:
    """The ``message`` of a Kubernetes Status body, if the body is one."""
    try:
        body = orjson.loads(data)
    except orjson.JSONDecodeError:
        return ""
    return redact(str(body.get("message", ""))[:300]) if isinstance(body, dict) else ""


class LiveClusterState(ClusterState):
    """One cluster behind one kubeconfig context, with its own ApiClient.

    Each context gets its own ``Configuration`` object, never the process-wide
    default, so two clusters in one process can never share credentials or a
    server URL.
    """

    is_live = True

    def __init__(
        self, name: str, kubeconfig: MergedKubeconfig, context: str, options: LiveOptions | None = None
    ) -> None:
        super().__init__(name)
        # before the first request: this logger, urllib3's and the client's redact credentials from then on
        install_redaction()
        self.options = options or LiveOptions()
        configuration = k8s_client.Configuration()
        # outside the lock: an exec plugin may take up to --exec-timeout, and only this cluster waits for it
        prepared = prepare_context(kubeconfig, context, exec_timeout=self.options.exec_timeout)
        try:
            with CONFIG_LOAD_LOCK:
                kube_config.load_kube_config_from_dict(
                    prepared.config, context=context, client_configuration=configuration, persist_config=False
                )
        except (ConfigException, ValueError, TypeError, KeyError, OSError) as exc:
            prepared.close()
            first = redact(str(exc).splitlines()[0]) if str(exc) else type(exc).__name__
            raise ConfigError(
                kubeconfig.describe(),
                f"contexts[{context}]",
                f"cannot load context: {first}",
                "check it with 'kubectl config view --minify --context " + context + "'",
            ) from None
        configuration.retries = 0
        self._credentials = prepared
        self.anonymous = prepared.anonymous
        self.server = configuration.host
        #: plain ``http://``: whatever credential the context has goes over the wire in cleartext
        self.plaintext = str(self.server).lower().startswith("http://")
        self.insecure = not configuration.verify_ssl
        self._api = k8s_client.ApiClient(configuration)
        self._unreachable: ClusterUnreachable | None = None
        self._groups: dict[str, tuple[str, list[str]]] | None = None
        self._resources: dict[str, set[str] | None] = {}
        self._discovery_lock = threading.Lock()
        self._version: ServerVersion | None = None
        self._first_date: datetime | None = None
        #: the newest Date header and the monotonic time it arrived (server_time extrapolates from it)
        self._latest_date: tuple[datetime, float] | None = None
        self._clock_started: float | None = None
        self.request_count = 0
        #: wall seconds spent in requests to this cluster (retries and back-off included)
        self.request_seconds = 0.0
        self._meter_lock = threading.Lock()
        #: the server certificate of the first TLS connection (DER), and its parse
        self._peer_certificate: bytes | None = None
        self._serving_certificate: ServingCertificate | None = None
        #: metric families read from /metrics, by name (each family read once), or why /metrics is unreadable
        self._metrics: dict[str, list[MetricSample]] = {}
        self._metrics_error: MetricsUnavailable | None = None
        self._metrics_lock = threading.Lock()

    # -- HTTP -----------------------------------------------------------------------
    def _get(
        self,
        path: str,
        query: list[tuple[str, Any]] | None,
        ref: ResourceRef,
        *,
        accept: str = "application/json",
        max_bytes: int | None = None,
    ) -> _Response:
        """One GET with timeouts, bounded retries and errors turned into :class:`KindUnavailable`.

        The seconds it takes are added to :attr:`request_seconds`, which the check budgets
        (:mod:`fleetcheck.budget`) charge to the cluster with its check bodies.
        """
        started = time.monotonic()
        try:
            return self._get_metered(path, query, ref, accept, max_bytes)
        finally:
            with self._meter_lock:
                self.request_seconds += time.monotonic() - started

    def _get_metered(
        self, path: str, query: list[tuple[str, Any]] | None, ref: ResourceRef, accept: str, max_bytes: int | None
    ) -> _Response:
        if self._unreachable is not None:
            raise ClusterUnreachable(self.name, ref, self._unreachable.reason)
        opts = self.options
        now = time.monotonic()
        if self._clock_started is None:
            self._clock_started = now
        read_timeout = opts.read_timeout
        if opts.cluster_budget is not None:
            remaining = opts.cluster_budget - (now - self._clock_started)
            if remaining <= 0:
                reason = f"the cluster's time budget of {opts.cluster_budget:g} s (--cluster-timeout) is spent"
                self._unreachable = ClusterUnreachable(self.name, ref, reason)
                raise self._unreachable
            read_timeout = min(read_timeout, remaining)
        for attempt in range(1, opts.attempts + 1):
            method, url, headers, _body, _post = self._api.param_serialize(
                "GET",
                path,
                query_params=query or [],
                header_params={"Accept": accept},
                auth_settings=["BearerToken"],
            )
            self.request_count += 1
            try:
                raw = self._api.call_api(
                    method, url, header_params=headers, _request_timeout=(opts.connect_timeout, read_timeout)
                )
                if self._peer_certificate is None and not self.plaintext:
                    self._peer_certificate = _peer_der(raw)
                if max_bytes is None:
                    data = raw.read() or b""
                else:
                    bounded = _read_bounded(raw, max_bytes)
                    if bounded is None:
                        raise KindUnavailable(self.name, ref, f"the response is larger than {max_bytes:,} bytes")
                    data = bounded
            except k8s_client.ApiException as exc:  # TLS failures arrive as status 0
                text = str(exc.reason)
                reason = "TLS verification failed" if "SSL" in text else redact((text.splitlines() or [""])[0])
                self._unreachable = ClusterUnreachable(self.name, ref, f"{reason} ({self.server})")
                raise self._unreachable from None
            except urllib3.exceptions.MaxRetryError as exc:
                cause = exc.reason
                if isinstance(cause, urllib3.exceptions.SSLError):
                    reason = f"TLS verification failed talking to {self.server}"
                elif isinstance(cause, urllib3.exceptions.ReadTimeoutError):
                    raise KindUnavailable(self.name, ref, f"read timed out after {read_timeout:g} s") from None
                elif isinstance(cause, urllib3.exceptions.NewConnectionError):  # subclasses ConnectTimeoutError
                    reason = f"cannot connect to {self.server} (connection refused or no route)"
                elif isinstance(cause, urllib3.exceptions.ConnectTimeoutError):
                    reason = f"connect to {self.server} timed out after {opts.connect_timeout:g} s"
                elif isinstance(cause, urllib3.exceptions.ProtocolError):
                    if attempt < opts.attempts:
                        log.debug("%s: connection reset on %s, retrying", self.name, path)
                        continue
                    raise KindUnavailable(self.name, ref, "connection reset by the API server") from None
                else:
                    reason = f"cannot connect to {self.server} ({type(cause).__name__})"
                self._unreachable = ClusterUnreachable(self.name, ref, reason)
                raise self._unreachable from None
            except (urllib3.exceptions.ReadTimeoutError, TimeoutError):
                raise KindUnavailable(self.name, ref, f"read timed out after {read_timeout:g} s") from None
            except (urllib3.exceptions.ProtocolError, urllib3.exceptions.DecodeError) as exc:
                if attempt < opts.attempts:
                    log.debug("%s: connection reset on %s, retrying (%s)", self.name, path, type(exc).__name__)
                    continue
                raise KindUnavailable(self.name, ref, "connection reset or response truncated") from None
            date = _parse_date(raw.headers.get("Date"))
            if date is not None:
                if self._first_date is None:
                    self._first_date = date
                self._latest_date = (date, time.monotonic())
            retry_after: float | None = None
            header = raw.headers.get("Retry-After")
            if header and header.strip().isdigit():
                retry_after = float(header)
            response = _Response(raw.status, data, date, retry_after)
            honourable = retry_after is None or retry_after <= opts.max_retry_after
            if raw.status in _RETRYABLE_STATUS and attempt < opts.attempts and honourable:
                time.sleep(retry_after if retry_after is not None else 0.5 * attempt)
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover - the loop always returns or raises

    def _raise_for_status(self, response: _Response, ref: ResourceRef, namespace_note: str = "") -> None:
        status = response.status
        if 200 <= status < 300:
            return
        detail = _status_message(response.data)
        resource = ref.plural if not ref.group else f"{ref.plural}.{ref.group}"
        if status == 401 and self.anonymous:
            reason = "401 Unauthorized: the context names no user, so the scan sent no credentials"
        elif status == 401:
            reason = "401 Unauthorized: the credentials were rejected (expired token?)"
        elif status == 403:
            reason = f"403 Forbidden: the scan's RBAC lacks 'list' on '{resource}'{namespace_note}"
        elif status == 410:
            reason = "410 Gone: the list's continue token expired mid-pagination"
        elif status == 429:
            reason = "429 Too Many Requests: the API server throttled the scan"
            if response.retry_after is not None:
                reason += f" (Retry-After {response.retry_after:g} s)"
        else:
            reason = f"HTTP {status} from the API server"
        if detail:
            reason += f": {detail}"
        raise KindUnavailable(self.name, ref, reason, status)

    def _json(self, response: _Response, ref: ResourceRef) -> dict[str, Any]:
        try:
            body = orjson.loads(response.data)
        except orjson.JSONDecodeError as exc:
            raise KindUnavailable(self.name, ref, f"invalid JSON in the response ({exc})") from None
        if not isinstance(body, dict):
            raise KindUnavailable(self.name, ref, "the response is not a JSON object")
        return body

    # -- discovery -------------------------------------------------------------------
    def _discover_groups(self, ref: ResourceRef) -> dict[str, tuple[str, list[str]]]:
        with self._discovery_lock:
            if self._groups is None:
                response = self._get("/apis", None, ref)
                self._raise_for_status(response, ref)
                groups: dict[str, tuple[str, list[str]]] = {}
                for group in self._json(response, ref).get("groups", []):
                    versions = [v.get("version", "") for v in group.get("versions", [])]
                    preferred = (group.get("preferredVersion") or {}).get("version") or (versions or [""])[0]
                    groups[str(group.get("name"))] = (preferred, versions)
                self._groups = groups
            return self._groups

    def _resources_of(self, group_version: str, ref: ResourceRef) -> set[str] | None:
        with self._discovery_lock:
            if group_version not in self._resources:
                response = self._get(f"/apis/{group_version}", None, ref)
                if response.status == 404:
                    self._resources[group_version] = None
                else:
                    self._raise_for_status(response, ref)
                    names = {str(r.get("name")) for r in self._json(response, ref).get("resources", [])}
                    self._resources[group_version] = names
            return self._resources[group_version]

    def _resolve(self, ref: ResourceRef) -> tuple[str, str] | None:
        """(group, version) the server serves ``ref`` under, or None when it does not serve it."""
        if not ref.group:
            return ("", ref.version)
        groups = self._discover_groups(ref)
        for group in (ref.group, *ref.legacy_groups):
            if group not in groups:
                continue
            preferred, versions = groups[group]
            version = ref.version if (group == ref.group and ref.version in versions) else preferred
            if is_builtin(ref) and group == ref.group:
                return (group, version)
            resources = self._resources_of(f"{group}/{version}", ref)
            if resources is not None and ref.plural in resources:
                return (group, version)
        return None

    # -- ClusterState ------------------------------------------------------------------
    def _fetch(self, ref: ResourceRef) -> KindList:
        resolved = self._resolve(ref)
        if resolved is None:
            return KindList(ref, [], served=False)
        group, version = resolved
        base = f"/api/{version}" if not group else f"/apis/{group}/{version}"
        path = f"{base}/{ref.plural}"
        items: list[dict[str, Any]] = []
        read_at: datetime | None = None
        token = ""
        pages = 0
        received = 0
        projecting = self.projection
        while True:
            query: list[tuple[str, Any]] = [("limit", self.options.page_size)]
            if token:
                query.append(("continue", token))
            response = self._get(path, query, ref)
            pages += 1
            if response.status == 404 and pages == 1:
                return KindList(ref, [], served=False, requests=pages)
            self._raise_for_status(response, ref)
            received += len(response.data)
            body = self._json(response, ref)
            if read_at is None:
                read_at = response.date
            page_items = body.get("items") or []
            if not isinstance(page_items, list):
                raise KindUnavailable(self.name, ref, "the list response has no 'items' array")
            token = str((body.get("metadata") or {}).get("continue") or "")
            del body  # with the page's full objects when projecting: only the slim ones are kept
            items.extend(project_items(ref.key, page_items) if projecting else page_items)
            if not token:
                break
        return KindList(ref, items, served=True, read_at=read_at, requests=pages, projected=projecting, size=received)

    @property
    def version(self) -> ServerVersion:
        """``/version``, read once."""
        if self._version is None:
            ref = ResourceRef("", "v1", "version", "Version", False)
            response = self._get("/version", None, ref)
            self._raise_for_status(response, ref)
            self._version = ServerVersion.parse(self._json(response, ref))
        return self._version

    @property
    def server_time(self) -> datetime:
        """The API server's clock now: the newest ``Date`` header plus the time since it arrived.

        ``Date`` has one-second resolution; extrapolating from the newest one keeps
        a long scan from reading a stale clock as skew.
        """
        if self._latest_date is None:
            _ = self.version
        if self._latest_date is None:
            return datetime.now(UTC)
        date, arrived = self._latest_date
        return date + timedelta(seconds=time.monotonic() - arrived)

    @property
    def serving_certificate(self) -> ServingCertificate | None:
        """The certificate the API server presented to the scan (after the first request; None before)."""
        if self._serving_certificate is None and self._peer_certificate is not None:
            self._serving_certificate = _serving_certificate(self._peer_certificate)
        return self._serving_certificate

    def metric_samples(self, names: Collection[str]) -> dict[str, list[MetricSample]]:
        """The families ``names`` from ``/metrics``, one GET for the families not read yet (bounded)."""
        wanted = frozenset(names)
        with self._metrics_lock:
            if self._metrics_error is not None:
                raise fresh(self._metrics_error)
            missing = wanted - self._metrics.keys()
            if missing:
                try:
                    data = self._read_metrics()
                except MetricsUnavailable as exc:
                    self._metrics_error = fresh(exc)  # without the raising frames (errors.fresh)
                    raise
                self._metrics.update(parse_samples(data, missing).samples)
            return {name: self._metrics[name] for name in wanted}

    def _read_metrics(self) -> bytes:
        """``GET /metrics`` (a nonResourceURL), at most :attr:`LiveOptions.metrics_max_bytes`."""
        limit = self.options.metrics_max_bytes
        try:
            response = self._get("/metrics", None, _METRICS_REF, accept=_METRICS_ACCEPT, max_bytes=limit)
        except KindUnavailable as exc:
            raise MetricsUnavailable(self.name, exc.reason, exc.status) from None
        status = response.status
        if 200 <= status < 300:
            return response.data
        detail = _status_message(response.data)
        if status == 403:
            reason = (
                "403 Forbidden: the scan's RBAC lacks 'get' on the nonResourceURL /metrics (optional: grant it with "
                "deploy/kubernetes/optional/metrics/metrics-reader.yaml, see docs/security.md)"
            )
        elif status == 401:
            reason = "401 Unauthorized: the credentials were rejected"
        elif status == 404:
            reason = "404: the API server does not serve /metrics"
        else:
            reason = f"HTTP {status} from the API server"
        raise MetricsUnavailable(self.name, f"{reason}: {detail}" if detail else reason, status)

    def close(self) -> None:
        """Close the connection pool, then the memory files holding a plugin's client key."""
        self._api.close()
        self._credentials.close()
