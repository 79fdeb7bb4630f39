"""The read-only Kubernetes REST API of one replayed cluster, as a pure function of the request.

:meth:`ClusterAPI.answer` maps (path, query, Accept, server time) to a
:class:`Reply`; it knows nothing of sockets, TLS, tokens or faults (those
are :mod:`fleetcheck.replay.server`'s), which keeps the API semantics
testable and the transport small.

Lists follow kube-apiserver: sorted by namespace/name, ``limit`` +
``continue`` with an opaque token, ``metadata.remainingItemCount`` only when
no selector is used, 410 Expired for a token of another resourceVersion.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import orjson

from fleetcheck.core.kinds import ResourceRef

from .discovery import DiscoveryDocs, build_discovery
from .pages import ClusterPages, KindPages, PageCache, render_json
from .selectors import SelectorError, parse_field_selector, parse_label_selector
from .tables import TableRenderer, wanted_table_version

__all__ = ["ClusterAPI", "Reply", "continue_page", "status_reply"]

JSON = "application/json"

_REASONS: dict[int, str] = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}
_EXPIRED_MESSAGE = (
    "The provided continue parameter is too old to display a consistent list result. You can start a new "
    "list without the continue parameter."
)


@dataclass(frozen=True)
class Reply:
    """One HTTP answer: status, body, content type and any extra headers."""

    status: int
    body: bytes
    content_type: str = JSON
    headers: Mapping[str, str] = field(default_factory=dict)


def _reason_for(code: int) -> str:
    """The ``reason`` kube-apiserver gives for ``code`` (``StatusReason``), else the HTTP phrase."""
    if code in _REASONS:
        return _REASONS[code]
    try:
        return HTTPStatus(code).phrase.replace(" ", "")
    except ValueError:
        return "Unknown"


def status_reply(
    code: int,
    message: str,
    *,
    reason: str | None = None,
    details: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """A ``v1 Status`` failure body, as kube-apiserver sends with every error."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason or _reason_for(code),
        "code": code,
    }
    if details:
        body["details"] = dict(details)
    return Reply(code, render_json(body), headers=dict(headers or {}))


def _not_found() -> Reply:
    return status_reply(404, "the server could not find the requested resource")


# -- continue tokens ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Position:
    resource_version: str
    index: int
    page: int
    query: str


def _query_hash(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]


def _encode_continue(position: _Position, start_key: str) -> str:
    raw = orjson.dumps(
        {
            "v": "meta.k8s.io/v1",
            "rv": position.resource_version,
            "start": start_key,
            "i": position.index,
            "p": position.page,
            "q": position.query,
        }
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _decode_continue(token: str) -> _Position:
    """Raise ``ValueError`` for anything that is not a token this server made."""
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    data = orjson.loads(raw)
    if not isinstance(data, dict) or data.get("v") != "meta.k8s.io/v1":
        raise ValueError("not a continue token")
    position = _Position(str(data["rv"]), int(data["i"]), int(data["p"]), str(data["q"]))
    if position.index < 0 or position.page < 1:
        raise ValueError("bad position")
    return position


def continue_page(query: Mapping[str, str]) -> int | None:
    """How many pages were already served before this ``continue`` request (None when not one)."""
    token = query.get("continue")
    if not token:
        return None
    try:
        return _decode_continue(token).page
    except (ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        return None


# -- the API ---------------------------------------------------------------------------------------


class ClusterAPI:
    """Answers the requests of one cluster from its :class:`ClusterPages`."""

    def __init__(self, pages: ClusterPages, server_address: str, cache: PageCache | None = None) -> None:
        self.pages = pages
        self.discovery: DiscoveryDocs = build_discovery(pages, server_address)
        self.cache = cache if cache is not None else PageCache()
        self.tables = TableRenderer()
        self._core_versions = {version for group, version, _ in pages.kinds if not group} | {
            version for group, version, _ in pages.forbidden if not group
        }
        self._group_versions = {(group, version) for group, version, _ in [*pages.kinds, *pages.forbidden]}

    def answer(self, path: str, query: Mapping[str, str], accept: str, now: float) -> Reply:
        """The reply to a GET of ``path``; ``now`` is the server's clock (epoch seconds, offset applied)."""
        parts = [part for part in path.split("/") if part]
        docs = self.discovery
        if not parts:
            return Reply(200, docs.root)
        head = parts[0]
        if len(parts) == 1 and head == "version":
            return Reply(200, docs.version)
        if len(parts) == 1 and head in ("healthz", "livez", "readyz"):
            return Reply(200, b"ok", content_type="text/plain; charset=utf-8")
        if len(parts) == 1 and head == "metrics":
            if self.pages.metrics is None:
                return _not_found()
            return Reply(200, self.pages.metrics, content_type="text/plain; version=0.0.4; charset=utf-8")
        if head == "api":
            if len(parts) == 1:
                return Reply(200, docs.api)
            if parts[1] not in self._core_versions:
                return _not_found()
            if len(parts) == 2:
                return Reply(200, docs.resource_lists[("", parts[1])])
            return self._resource("", parts[1], parts[2:], query, accept, now)
        if head == "apis":
            if len(parts) == 1:
                return Reply(200, docs.apis)
            group = parts[1]
            if group not in docs.groups:
                return _not_found()
            if len(parts) == 2:
                return Reply(200, docs.groups[group])
            if (group, parts[2]) not in self._group_versions:
                return _not_found()
            if len(parts) == 3:
                return Reply(200, docs.resource_lists[(group, parts[2])])
            return self._resource(group, parts[2], parts[3:], query, accept, now)
        return _not_found()

    def _resource(
        self, group: str, version: str, rest: Sequence[str], query: Mapping[str, str], accept: str, now: float
    ) -> Reply:
        namespace: str | None = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, plural, name = rest[1], rest[2], (rest[3] if len(rest) == 4 else None)
            if len(rest) > 4:
                return _not_found()  # subresources (status, log, exec ...) are not replayed
        elif len(rest) <= 2:
            plural, name = rest[0], (rest[1] if len(rest) == 2 else None)
        else:
            return _not_found()
        address = (group, version, plural)
        forbidden = self.pages.forbidden.get(address)
        if forbidden is not None:
            reason = self.pages.withheld_because.get(address)
            return self._forbidden(forbidden, "get" if name else "list", namespace, reason)
        kind = self.pages.kinds.get(address)
        if kind is None:
            return _not_found()
        if namespace is not None and not kind.ref.namespaced:
            return _not_found()
        if name is not None and namespace is None and kind.ref.namespaced:
            return _not_found()
        if query.get("watch", "").lower() in ("true", "1"):
            return status_reply(
                405,
                "watch is not supported by the fleetcheck replay server (snapshots do not change)",
            )
        table = wanted_table_version(accept)
        if name is not None:
            return self._get(kind, namespace, name, table, query, now)
        return self._list(kind, namespace, query, table, now)

    def _forbidden(self, ref: ResourceRef, verb: str, namespace: str | None, reason: str | None = None) -> Reply:
        scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
        why = reason or "the replay server withholds Secrets unless started with serve_secrets"
        message = (
            f'{ref.plural} is forbidden: User "system:serviceaccount:fleetcheck:replay" cannot {verb} '
            f'resource "{ref.plural}" in API group "{ref.group}" {scope} ({why})'
        )
        return status_reply(
            403, message, details={"group": ref.group, "kind": ref.plural} if ref.group else {"kind": ref.plural}
        )

    def _get(
        self,
        kind: KindPages,
        namespace: str | None,
        name: str,
        table: str | None,
        query: Mapping[str, str],
        now: float,
    ) -> Reply:
        index = kind.find(namespace, name)
        if index is None:
            details = {"name": name, "kind": kind.ref.plural}
            if kind.ref.group:
                details["group"] = kind.ref.group
            return status_reply(404, f'{kind.ref.key} "{name}" not found', details=details)
        if table is None:
            return Reply(200, kind.bodies[index])
        metadata = render_json({"resourceVersion": self.pages.resource_version})
        body = self.tables.render(
            kind,
            [index],
            now=now,
            metadata=metadata,
            api_version=table,
            include_object=query.get("includeObject", "Metadata"),
        )
        return Reply(200, body)

    def _list(
        self, kind: KindPages, namespace: str | None, query: Mapping[str, str], table: str | None, now: float
    ) -> Reply:
        label_text = query.get("labelSelector", "")
        field_text = query.get("fieldSelector", "")
        try:
            limit = int(query.get("limit") or 0)
        except ValueError:
            return status_reply(400, f"invalid limit {query.get('limit')!r}: must be an integer")
        query_key = _query_hash(kind.ref.key, kind.ref.version, namespace or "", label_text, field_text)
        start, page = 0, 0
        token = query.get("continue")
        if token:
            try:
                position = _decode_continue(token)
            except (ValueError, KeyError, TypeError, orjson.JSONDecodeError):
                return status_reply(400, "continue key is not valid: cannot decode the continue token")
            if position.resource_version != self.pages.resource_version:
                return status_reply(410, _EXPIRED_MESSAGE, reason="Expired")
            if position.query != query_key:
                return status_reply(400, "continue key is not valid: it belongs to another list request")
            start, page = position.index, position.page

        cache_key = (kind.ref.key, kind.ref.version, namespace, label_text, field_text, start, limit)
        if table is None:
            cached = self.cache.get(cache_key)
            if cached is not None:
                return Reply(200, cached)
        try:
            selected = kind.select(
                namespace,
                parse_label_selector(label_text),
                parse_field_selector(field_text, kind.ref.key),
            )
        except SelectorError as exc:
            return status_reply(400, str(exc))

        end = len(selected) if limit <= 0 else min(len(selected), start + limit)
        chosen = selected[start:end]
        meta = b'{"resourceVersion":"' + self.pages.resource_version.encode() + b'"'
        if end < len(selected):
            position = _Position(self.pages.resource_version, end, page + 1, query_key)
            last = selected[end - 1]
            start_key = f"{kind.namespaces[last]}/{kind.names[last]}\x00"
            meta += b',"continue":"' + _encode_continue(position, start_key).encode() + b'"'
            if not label_text and not field_text:
                meta += b',"remainingItemCount":' + str(len(selected) - end).encode()
        meta += b"}"

        if table is not None:
            body = self.tables.render(
                kind,
                chosen,
                now=now,
                metadata=meta,
                api_version=table,
                include_object=query.get("includeObject", "Metadata"),
            )
            return Reply(200, body)
        if isinstance(chosen, range):
            items = b",".join(kind.bodies[chosen.start : chosen.stop])
        else:
            items = b",".join([kind.bodies[i] for i in chosen])
        body = b"".join(
            (
                b'{"kind":"',
                kind.list_kind.encode(),
                b'","apiVersion":"',
                kind.ref.group_version.encode(),
                b'","metadata":',
                meta,
                b',"items":[',
                items,
                b"]}",
            )
        )
        self.cache.put(cache_key, body)
        return Reply(200, body)
