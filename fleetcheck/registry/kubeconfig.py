"""Merge kubeconfig files the way kubectl does, and list their contexts.

``$KUBECONFIG`` may name several files (``:``-separated); for each context,
cluster and user the first file that defines a name wins, and
``current-context`` comes from the first file that sets one. Relative file
references (``certificate-authority``, ``client-key`` ...) are resolved
against the file that holds them, as kubectl does; so is an exec plugin's
``command`` when it contains a path separator (``./bin/get-token``), while a
bare name (``aws``) is left for a ``PATH`` lookup, as kubectl leaves it. The
merged dict is what the live client loads, so the contexts listed are
exactly the ones scanned.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fleetcheck.errors import ConfigError
from fleetcheck.registry.yamlfile import read_yaml_mapping

__all__ = ["MergedKubeconfig", "default_kubeconfig_paths", "merge_kubeconfigs"]

_PATH_FIELDS = {
    "clusters": ("cluster", ("certificate-authority",)),
    "users": ("user", ("client-certificate", "client-key", "tokenFile")),
}


@dataclass
class MergedKubeconfig:
    """The merged config plus where each context came from."""

    paths: tuple[Path, ...]
    config: dict[str, Any]
    context_files: dict[str, Path] = field(default_factory=dict)
    #: the file that defined each user entry (keyword-only: subclasses add positional fields after ``context_files``)
    user_files: dict[str, Path] = field(default_factory=dict, kw_only=True)

    @property
    def contexts(self) -> list[str]:
        """Context names in file order."""
        return [str(c["name"]) for c in self.config.get("contexts", [])]

    @property
    def current_context(self) -> str | None:
        """The merged ``current-context``, if any."""
        value = self.config.get("current-context")
        return str(value) if value else None

    def server_of(self, context: str) -> str | None:
        """The API server URL a context points at."""
        ctx = next((c for c in self.config.get("contexts", []) if c.get("name") == context), None)
        if ctx is None:
            return None
        cluster_name = (ctx.get("context") or {}).get("cluster")
        cluster = next((c for c in self.config.get("clusters", []) if c.get("name") == cluster_name), None)
        return None if cluster is None else (cluster.get("cluster") or {}).get("server")

    def describe(self) -> str:
        """``a.yaml:b.yaml`` for messages."""
        return os.pathsep.join(str(p) for p in self.paths)


def default_kubeconfig_paths() -> list[Path]:
    """``$KUBECONFIG`` split on the path separator, else ``~/.kube/config``."""
    env = os.environ.get("KUBECONFIG", "")
    if env:
        return [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    return [Path("~/.kube/config").expanduser()]


def _absolutise(entry: dict[str, Any], section: str, base: Path) -> dict[str, Any]:
    inner_key, keys = _PATH_FIELDS[section]
    raw = entry.get(inner_key) or {}
    if not isinstance(raw, dict):  # not ours to judge here: the live loader names the bad entry
        return entry
    inner = dict(raw)
    for key in keys:
        value = inner.get(key)
        if isinstance(value, str) and value and not os.path.isabs(value):
            inner[key] = str((base / value).resolve())
    plugin = inner.get("exec")
    if section == "users" and isinstance(plugin, dict):
        command = plugin.get("command")
        # kubectl resolves only a command with a path separator; a bare name is a PATH lookup at run time
        if isinstance(command, str) and os.sep in command and not os.path.isabs(command):
            inner["exec"] = {**plugin, "command": os.path.normpath(base / command)}
    return {**entry, inner_key: inner}


_MERGED: dict[tuple[tuple[str, int, int], ...], MergedKubeconfig] = {}
_MERGED_LOCK = threading.Lock()


def merge_kubeconfigs(paths: list[Path], *, referenced_by: str = "KUBECONFIG") -> MergedKubeconfig:
    """Merge ``paths`` (missing files are skipped, as kubectl does, unless none exist), once per content.

    Every cluster of a fleet usually names the same kubeconfig, and a
    100-context file takes a YAML parser a good part of a second: parsing it
    again for each cluster made opening a fleet quadratic. The result is kept
    per (path, modification time, size) of each file, so an edited file is
    read again; a file that cannot be read is reported by the uncached merge.
    """
    try:
        key = tuple((str(p.resolve()), p.stat().st_mtime_ns, p.stat().st_size) for p in paths)
    except OSError:
        return _merge_files(paths, referenced_by)
    with _MERGED_LOCK:
        merged = _MERGED.get(key)
        if merged is None:
            merged = _MERGED[key] = _merge_files(paths, referenced_by)
        return merged


def _merge_files(paths: list[Path], referenced_by: str) -> MergedKubeconfig:
    existing = [p for p in paths if p.is_file()]
    if not existing:
        shown = os.pathsep.join(str(p) for p in paths) or "(none)"
        raise ConfigError(
            referenced_by,
            "kubeconfig",
            f"no kubeconfig file found at {shown}",
            "set KUBECONFIG, pass --fleet FILE, or --snapshot DIR",
        )
    merged: dict[str, Any] = {"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [], "contexts": []}
    names: dict[str, set[str]] = {"clusters": set(), "users": set(), "contexts": set()}
    context_files: dict[str, Path] = {}
    user_files: dict[str, Path] = {}
    for path in existing:
        try:  # the bounded reader: alias bombs, deep nesting and absurd values are one-line errors
            doc = read_yaml_mapping(path, "kubeconfig")
        except ConfigError as exc:
            raise ConfigError(
                path, exc.field, f"not a valid kubeconfig: {exc.problem}", "check it with 'kubectl config view'"
            ) from None
        if not isinstance(doc, dict):
            raise ConfigError(path, "(top)", "not a kubeconfig mapping", "check it with 'kubectl config view'")
        if not merged.get("current-context") and doc.get("current-context"):
            merged["current-context"] = doc["current-context"]
        for section in ("clusters", "users", "contexts"):
            entries = doc.get(section) or []
            if not isinstance(entries, list):
                raise ConfigError(path, section, "must be a list", "check it with 'kubectl config view'")
            for entry in entries:
                if not isinstance(entry, dict) or not entry.get("name"):
                    raise ConfigError(path, section, "entry without a name", "give every entry a name")
                name = str(entry["name"])
                if name in names[section]:
                    continue
                names[section].add(name)
                if section in _PATH_FIELDS:
                    entry = _absolutise(entry, section, path.parent)
                else:
                    context_files[name] = path
                if section == "users":
                    user_files[name] = path
                merged[section].append(entry)
    return MergedKubeconfig(tuple(existing), merged, context_files, user_files=user_files)
