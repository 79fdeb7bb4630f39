# mypy: disallow-untyped-calls=False
# (the official client is untyped, as for fleetcheck.state.live in pyproject.toml)
"""The fetch floor: list the kinds a scan reads, raw, with the scan's client and concurrency, and nothing else.

Run as a subprocess by ``bench/fleet_scan.py`` (so its wall time, CPU and
peak RSS are its own)::

    python bench/fetch_floor.py --plan plan.json --kubeconfig K --workers 8 --page-size 500 --out result.json

``plan.json`` maps each context to the kinds (ResourceRef keys) to list.
Each context gets its own ``kubernetes`` ``ApiClient`` (as
:class:`fleetcheck.state.live.LiveClusterState` does); each kind is listed
with ``limit``/``continue`` at the version the kind names (no discovery:
a 404 means "not served"), the raw bytes are parsed with orjson and the
items kept, as a scan must keep them until its checks have run. The
contexts are handed to a thread pool of ``--workers`` threads, one task per
context, in the plan's order. Nothing else happens: no checks, no reports,
and no cyclic garbage collection (``--gc on`` to compare).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson
import yaml
from kubernetes import client as k8s_client
from kubernetes.config import kube_config

from fleetcheck.core.kinds import parse_kind
from fleetcheck.state.live import CONFIG_LOAD_LOCK

__all__ = ["main"]


def _client(config: dict[str, Any], context: str) -> k8s_client.ApiClient:
    configuration = k8s_client.Configuration()
    # the client may hand a thread a CA temp file another is still writing: load as fleetcheck does, one at a time
    with CONFIG_LOAD_LOCK:
        kube_config.load_kube_config_from_dict(
            config, context=context, client_configuration=configuration, persist_config=False
        )
    configuration.retries = 0
    return k8s_client.ApiClient(configuration)


def _list(api: k8s_client.ApiClient, path: str, page_size: int) -> tuple[list[dict[str, Any]], int, bool]:
    """(items, requests, served) of one kind."""
    items: list[dict[str, Any]] = []
    token = ""
    requests = 0
    while True:
        query: list[tuple[str, Any]] = [("limit", page_size)] if page_size > 0 else []
        if token:
            query.append(("continue", token))
        method, url, headers, _body, _post = api.param_serialize(
            "GET", path, query_params=query, header_params={"Accept": "application/json"}, auth_settings=["BearerToken"]
        )
        raw = api.call_api(method, url, header_params=headers, _request_timeout=(5.0, 60.0))
        data = raw.read() or b""
        requests += 1
        if raw.status == 404 and requests == 1:
            return [], requests, False
        if raw.status != 200:
            raise RuntimeError(f"{path}: HTTP {raw.status}")
        body = orjson.loads(data)
        items.extend(body.get("items") or [])
        token = str((body.get("metadata") or {}).get("continue") or "")
        if not token:
            return items, requests, True


def _fetch_cluster(
    config: dict[str, Any], context: str, kinds: list[str], page_size: int
) -> tuple[str, dict[str, list[dict[str, Any]]], dict[str, Any]]:
    api = _client(config, context)
    lists: dict[str, list[dict[str, Any]]] = {}
    served: list[str] = []
    requests = 0
    objects = 0
    try:
        for key in kinds:
            ref = parse_kind(key)
            items, n, is_served = _list(api, ref.list_path(), page_size)
            requests += n
            objects += len(items)
            lists[key] = items
            if is_served:
                served.append(key)
    finally:
        api.close()
    return context, lists, {"served": served, "requests": requests, "objects": objects}


def main(argv: list[str] | None = None) -> int:
    """List every planned kind of every context; write a JSON summary to ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--plan", type=Path, required=True, help="JSON: {context: [kind key, ...]}")
    parser.add_argument("--kubeconfig", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--gc", choices=["off", "on"], default="off", help="the cyclic garbage collector (default off: nothing else)"
    )
    args = parser.parse_args(argv)
    if args.gc == "off":
        gc.disable()
    plan: dict[str, list[str]] = orjson.loads(args.plan.read_bytes())
    config = yaml.safe_load(args.kubeconfig.read_text(encoding="utf-8"))
    started = time.perf_counter()
    kept: dict[str, dict[str, list[dict[str, Any]]]] = {}
    summary: dict[str, dict[str, Any]] = {}
    with ThreadPoolExecutor(max_workers=max(1, args.workers), thread_name_prefix="floor") as pool:
        futures = [
            pool.submit(_fetch_cluster, config, context, kinds, args.page_size) for context, kinds in plan.items()
        ]
        for future in futures:
            context, lists, info = future.result()
            kept[context] = lists  # held until the end, as a scan holds its states
            summary[context] = info
    wall = time.perf_counter() - started
    objects = sum(info["objects"] for info in summary.values())
    args.out.write_bytes(orjson.dumps({"wall_s": wall, "objects": objects, "clusters": summary}))
    print(f"floor: {len(kept)} clusters, {objects} objects in {wall:.2f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
