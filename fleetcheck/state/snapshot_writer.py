"""``fleetcheck snapshot``: write one live cluster as a snapshot folder.

Only the kinds the enabled checks read are listed (never Secrets), plus the
CRDs (so a reader knows which custom kinds are not installed), each written
as ``kubectl get KIND -A -o json`` would print it, named the way sonobuoy
names its files (``<group|core>_<version>_<plural>.json``) so the snapshot
loader knows the kind even of an empty list. ``cluster.yaml`` records what
the capture holds: ``kinds:`` every kind it listed (a kind the server does
not serve is listed there with no file) and ``unreadable:`` every kind it
could not read, with the reason, so scanning the folder errors the checks
that need those kinds instead of reading "none".
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import yaml

from fleetcheck.core.kinds import parse_kind
from fleetcheck.errors import ConfigError
from fleetcheck.redact import redact
from fleetcheck.registry.kubeconfig import default_kubeconfig_paths, merge_kubeconfigs
from fleetcheck.state.base import ClusterState, KindUnavailable

__all__ = ["Capture", "write_live_snapshot", "write_snapshot"]

_NEVER = {"secrets"}
#: always captured: without the CRDs a reader cannot tell "not installed" from "not captured"
_ALWAYS = ("customresourcedefinitions.apiextensions.k8s.io",)
#: a reason recorded in cluster.yaml and printed: one line, bounded (the server's message is hostile text)
_MAX_REASON_CHARS = 300


@dataclass
class Capture:
    """What one ``fleetcheck snapshot`` wrote: the folder, the kinds listed, and those it could not read."""

    folder: Path
    captured: list[str] = field(default_factory=list)
    #: kind -> reason (redacted, one line)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Every kind was read."""
        return not self.failed


def _reason(exc: KindUnavailable) -> str:
    text = " ".join(redact(exc.reason).split())
    return text if len(text) <= _MAX_REASON_CHARS else text[: _MAX_REASON_CHARS - 3] + "..."


def write_snapshot(
    state: ClusterState,
    out: Path,
    kinds: list[str],
    *,
    name: str | None = None,
    labels: dict[str, str] | None = None,
    allow_partial: bool = False,
) -> Capture:
    """Write ``kinds`` of ``state`` into ``out`` and record in ``cluster.yaml`` what was and was not read."""
    out.mkdir(parents=True, exist_ok=True)
    capture = Capture(out)
    for kind in sorted({parse_kind(k).key for k in (*kinds, *_ALWAYS)}):
        ref = parse_kind(kind)
        if ref.key in _NEVER:
            continue
        stale = out / f"{ref.group or 'core'}_{ref.version}_{ref.plural}.json"
        try:
            listed = state.fetch(ref)
        except KindUnavailable as exc:
            capture.failed[ref.key] = _reason(exc)
            stale.unlink(missing_ok=True)  # an earlier capture's file must not stand in for this one
            continue
        capture.captured.append(ref.key)
        if not listed.served:
            stale.unlink(missing_ok=True)
            continue
        body = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": listed.items}
        stale.write_bytes(orjson.dumps(body))
    meta: dict[str, object] = {"name": name or state.name}
    with contextlib.suppress(KindUnavailable):
        meta["captured"] = state.server_time.strftime("%Y-%m-%dT%H:%M:%SZ")
    with contextlib.suppress(KindUnavailable):
        meta["serverVersion"] = state.version.git_version
    if labels:
        meta["labels"] = labels
    meta["kinds"] = capture.captured
    if capture.failed:
        meta["unreadable"] = dict(capture.failed)
        meta["partial"] = allow_partial
    (out / "cluster.yaml").write_text(yaml.safe_dump(meta, sort_keys=False), encoding="utf-8")
    return capture


def write_live_snapshot(
    context: str,
    out: Path,
    kinds: list[str],
    *,
    kubeconfig: list[Path] | None = None,
    name: str | None = None,
    allow_partial: bool = False,
) -> Capture:
    """Snapshot the cluster behind ``context``: every kind in ``kinds``.

    The caller says which kinds (the CLI passes what the catalog's checks
    read, ``load_catalog().kinds_read()``): the state layer does not know
    the checks.
    """
    from fleetcheck.state.live import LiveClusterState

    merged = merge_kubeconfigs(kubeconfig or default_kubeconfig_paths())
    if context not in merged.contexts:
        raise ConfigError(
            merged.describe(),
            "--context",
            f"context {context!r} not found",
            f"use one of: {', '.join(merged.contexts[:8])}",
        )
    state = LiveClusterState(name or context, merged, context)
    try:
        return write_snapshot(state, out, kinds, name=name or context, allow_partial=allow_partial)
    finally:
        state.close()
