"""``fleetcheck snapshot``: write one live cluster as a snapshot folder.

Only the kinds the enabled checks read are listed (never Secrets), each
written as ``kubectl get KIND -A -o json`` would print it, named the way
sonobuoy names its files (``<group|core>_<version>_<plural>.json``) so the
snapshot loader knows the kind even of an empty list. A kind the server does
not serve gets no file; a kind that could not be read is reported and left
out, never written as empty.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import orjson
import yaml

from fleetcheck.catalog import load_catalog
from fleetcheck.errors import ConfigError
from fleetcheck.kinds import parse_kind
from fleetcheck.registry.kubeconfig import default_kubeconfig_paths, merge_kubeconfigs
from fleetcheck.state.base import ClusterState, KindUnavailable

__all__ = ["write_live_snapshot", "write_snapshot"]

_NEVER = {"secrets"}


def write_snapshot(
    state: ClusterState, out: Path, kinds: list[str], *, name: str | None = None, labels: dict[str, str] | None = None
) -> tuple[Path, list[str]]:
    """Write ``kinds`` of ``state`` into ``out``; returns the folder and the kinds that failed."""
    out.mkdir(parents=True, exist_ok=True)
    failed: list[str] = []
    for kind in sorted(set(kinds)):
        ref = parse_kind(kind)
        if ref.key in _NEVER:
            continue
        try:
            listed = state.fetch(ref)
        except KindUnavailable as exc:
            failed.append(f"{ref.spec}: {exc.reason}")
            continue
        if not listed.served:
            continue
        group = ref.group or "core"
        body = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": listed.items}
        (out / f"{group}_{ref.version}_{ref.plural}.json").write_bytes(orjson.dumps(body))
    meta: dict[str, object] = {"name": name or state.name, "captured": state.server_time.strftime("%Y-%m-%dT%H:%M:%SZ")}
    with contextlib.suppress(KindUnavailable):
        meta["serverVersion"] = state.version.git_version
    if labels:
        meta["labels"] = labels
    (out / "cluster.yaml").write_text(yaml.safe_dump(meta, sort_keys=False), encoding="utf-8")
    return out, failed


def write_live_snapshot(
    context: str, out: Path, *, kubeconfig: list[Path] | None = None, name: str | None = None
) -> Path:
    """Snapshot the cluster behind ``context``: every kind the built-in checks read."""
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
        folder, failed = write_snapshot(state, out, load_catalog().kinds_read(), name=name or context)
    finally:
        state.close()
    for line in failed:
        print(f"fleetcheck: warning: not captured: {line}", file=sys.stderr)
    return folder
