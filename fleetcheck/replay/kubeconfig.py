"""A kubeconfig naming every replayed cluster, for kubectl and the ``kubernetes`` client alike.

One cluster, user and context per snapshot, all named after the cluster, so
``--context NAME`` picks a cluster the way it would in a real fleet. The file
holds the bearer token, so it is written 0600 and atomically (readers
polling for it never see half a file).
"""

from __future__ import annotations

import base64
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

__all__ = ["build_kubeconfig", "write_kubeconfig", "write_private_file"]


def build_kubeconfig(urls: Mapping[str, str], *, token: str, ca_pem: bytes, insecure: bool = False) -> dict[str, Any]:
    """The kubeconfig document for ``urls`` (cluster name -> server URL), first cluster current."""
    if not urls:
        raise ValueError("a kubeconfig needs at least one cluster")
    ca_data = base64.b64encode(ca_pem).decode()
    clusters, users, contexts = [], [], []
    for name, url in urls.items():
        cluster: dict[str, Any] = {"server": url}
        if insecure:
            cluster["insecure-skip-tls-verify"] = True
        else:
            cluster["certificate-authority-data"] = ca_data
        clusters.append({"name": name, "cluster": cluster})
        users.append({"name": name, "user": {"token": token}})
        contexts.append({"name": name, "context": {"cluster": name, "user": name}})
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": clusters,
        "users": users,
        "contexts": contexts,
        "current-context": next(iter(urls)),
    }


def write_private_file(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` with mode 0600, atomically (temp file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(data)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return path


def write_kubeconfig(path: Path, urls: Mapping[str, str], *, token: str, ca_pem: bytes, insecure: bool = False) -> Path:
    """Write the kubeconfig for ``urls`` to ``path`` (mode 0600) and return the path."""
    document = build_kubeconfig(urls, token=token, ca_pem=ca_pem, insecure=insecure)
    return write_private_file(path, yaml.safe_dump(document, sort_keys=False).encode())
