"""Loading and exercising the deploy kit: manifests, kustomize builds, container scripts, CLI flags.

Everything here runs without a cluster or a container runtime. Container scripts are run
for real by ``/bin/sh`` after the kubelet's ``$(VAR)`` expansion (ported below), with
``fleetcheck`` on ``PATH`` either the real CLI or a stub that records its arguments.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client as k8s

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
MANIFESTS = DEPLOY / "kubernetes"
KUSTOMIZE = DEPLOY / "kustomize"
EXAMPLES = REPO / "examples" / "ci"
DOCS = REPO / "docs" / "operations.md"
DOCKERFILE = DEPLOY / "Dockerfile"
IMAGE_REPOSITORY = "registry.example.com/platform/fleetcheck"

Obj = dict[str, Any]


# -- manifests -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Manifest:
    """One object of a manifest file."""

    path: Path
    obj: Obj

    @property
    def kind(self) -> str:
        return str(self.obj["kind"])

    @property
    def name(self) -> str:
        return str(self.obj["metadata"]["name"])

    def __str__(self) -> str:
        return f"{self.path.relative_to(REPO)}: {self.kind}/{self.name}"


def is_kustomization(path: Path) -> bool:
    return path.name in {"kustomization.yaml", "kustomization.yml", "Kustomization"}


def manifest_files() -> list[Path]:
    """Every Kubernetes manifest of deploy/kubernetes (kustomization files are not manifests)."""
    return sorted(p for p in MANIFESTS.rglob("*.yaml") if not is_kustomization(p))


def load_documents(path: Path) -> list[Obj]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]


def manifests() -> list[Manifest]:
    return [Manifest(path, obj) for path in manifest_files() for obj in load_documents(path)]


def by_kind(items: list[Manifest], kind: str) -> list[Manifest]:
    return [m for m in items if m.kind == kind]


def one(items: list[Manifest], kind: str, name: str) -> Manifest:
    found = [m for m in items if m.kind == kind and m.name == name]
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


# -- the official client's models ------------------------------------------------------------
def model_name(obj: Obj) -> str:
    """``V1CronJob`` for ``batch/v1 CronJob``: the client's model of a ``v1`` kind."""
    version = str(obj["apiVersion"]).rsplit("/", 1)[-1]
    assert version == "v1", f"{obj['kind']}: apiVersion {obj['apiVersion']} is not a GA v1 API"
    return f"V1{obj['kind']}"


def roundtrip(obj: Obj) -> Obj:
    """Deserialise ``obj`` into its ``kubernetes`` client model and serialise it back.

    The models reject wrong types and missing required fields; fields they do not know are
    dropped, so comparing the result with the input also catches a misspelt or misplaced key.
    """
    api = k8s.ApiClient()
    model = api.deserialize(json.dumps(obj), model_name(obj), "application/json")
    result: Obj = api.sanitize_for_serialization(model)
    return result


def pod_templates(obj: Obj) -> list[Obj]:
    """The pod spec(s) an object runs: a CronJob's job template, a Job's template, a Pod."""
    kind = obj["kind"]
    if kind == "CronJob":
        return [obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]]
    if kind == "Job":
        return [obj["spec"]["template"]["spec"]]
    if kind == "Pod":
        return [obj["spec"]]
    return []


def containers(pod: Obj) -> list[Obj]:
    return [*pod.get("initContainers", []), *pod["containers"]]


def container(pod: Obj, name: str) -> Obj:
    return next(c for c in containers(pod) if c["name"] == name)


def literal_env(c: Obj) -> dict[str, str]:
    """The container's ``env`` entries that have a literal value."""
    return {e["name"]: e["value"] for e in c.get("env", []) if "value" in e}


# -- kubectl kustomize -----------------------------------------------------------------------
#: components and replacements need kustomize 4.5+ (kubectl 1.24+); Debian's kubectl 1.20 embeds 2.0.3
MIN_KUSTOMIZE = (4, 5)


def _kustomize_version(binary: str) -> tuple[int, ...] | None:
    done = subprocess.run(
        [binary, "version", "--client", "-o", "json"], capture_output=True, text=True, timeout=30, check=False
    )
    try:
        version = str(json.loads(done.stdout).get("kustomizeVersion", ""))
    except ValueError:
        return None
    match = re.match(r"v?(\d+)\.(\d+)", version)
    return (int(match[1]), int(match[2])) if match else None


@functools.cache
def kubectl() -> str | None:
    """The kubectl with the newest built-in kustomize (the repo's .ci/bin one, or PATH's), if new enough."""
    found: list[tuple[tuple[int, ...], str]] = []
    for candidate in (REPO / ".ci" / "bin" / "kubectl", shutil.which("kubectl")):
        if candidate and Path(candidate).is_file():
            version = _kustomize_version(str(candidate))
            if version is not None and version >= MIN_KUSTOMIZE:
                found.append((version, str(candidate)))
    return max(found)[1] if found else None


@functools.cache
def _kustomize_build(path: Path) -> str:
    binary = kubectl()
    assert binary is not None
    done = subprocess.run([binary, "kustomize", str(path)], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, f"kubectl kustomize {path} failed:\n{done.stderr}"
    return done.stdout


def kustomize_build(path: Path) -> list[Obj]:
    return [doc for doc in yaml.safe_load_all(_kustomize_build(path)) if doc is not None]


def kustomization_dirs() -> list[Path]:
    return sorted({p.parent for p in DEPLOY.rglob("kustomization.yaml")})


# -- kubelet expansion and running container scripts -----------------------------------------
def kubelet_expand(text: str, env: Mapping[str, str]) -> str:
    """The kubelet's expansion of ``$(VAR)`` in command/args (k8s.io/kubernetes third_party expansion).

    ``$$`` is an escaped ``$``; ``$(NAME)`` becomes the value of a container variable, or stays
    as written when there is none; any other ``$`` is kept.
    """
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "$" or i + 1 >= len(text):
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "(":
            close = text.find(")", i + 2)
            if close == -1:
                out.append("$(")
                i += 2
            else:
                name = text[i + 2 : close]
                out.append(env.get(name, f"$({name})"))
                i = close + 1
        else:
            out.append("$" + nxt)
            i += 2
    return "".join(out)


def shell_script(c: Obj) -> str:
    """The script of a ``["/bin/sh", "-c"]`` container, as the kubelet hands it to the shell."""
    assert c.get("command") == ["/bin/sh", "-c"], f"container {c['name']}: not a /bin/sh -c container"
    (script,) = c["args"]
    expanded = kubelet_expand(script, literal_env(c))
    assert expanded == script, f"container {c['name']}: the kubelet would rewrite its script ($(...) references)"
    return str(script)


#: Records its arguments (one line per call, fields separated by US, 0x1f); with
#: STUB_WRITE=1 writes a results.json into its --report-dir; exits with STUB_RC. Plain sh,
#: so a call costs a fork rather than an interpreter start.
STUB = """#!/bin/sh
sep="$(printf '\\037')"
line="" out=""
prev=""
for arg in "$@"; do
  line="${{line}}${{arg}}${{sep}}"
  [ "$prev" = "--report-dir" ] && out="$arg"
  prev="$arg"
done
printf '%s\\n' "$line" >> "$STUB_LOG"
if [ "${{STUB_WRITE:-}}" = 1 ] && [ -n "$out" ]; then
  mkdir -p "$out" && printf '{{"schema": "fleetcheck/v1"}}' > "$out/results.json"
fi
exit "${{STUB_RC:-0}}"
"""

REAL = """#!/bin/sh
exec "{python}" -m fleetcheck.cli "$@"
"""

#: ``python`` for the container scripts: an exec of this interpreter by its own path. A symlink to a venv's
#: interpreter placed outside the venv finds no ``pyvenv.cfg`` beside it and runs as the base interpreter,
#: without the project's packages (the image's ``python`` has them; a fresh machine's base has none).
PYTHON_WRAPPER = """#!/bin/sh
exec "{python}" "$@"
"""


def _executable(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def stub_bin(folder: Path, *, real: bool = False) -> Path:
    """A folder for ``PATH`` with ``fleetcheck`` (stub or the real CLI) and ``python`` (this interpreter)."""
    folder.mkdir(parents=True, exist_ok=True)
    _executable(folder / "fleetcheck", (REAL if real else STUB).format(python=sys.executable))
    (folder / "python").unlink(missing_ok=True)
    _executable(folder / "python", PYTHON_WRAPPER.format(python=sys.executable))
    return folder


def run_script(
    c: Obj, bin_dir: Path, overrides: Mapping[str, str], *, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run a container's script with /bin/sh: its env, then ``overrides``; ``bin_dir`` first on PATH."""
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        **literal_env(c),
        **overrides,
    }
    return subprocess.run(
        ["/bin/sh", "-c", shell_script(c)], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def recorded_calls(log: Path) -> list[list[str]]:
    """The argument lists the stub recorded, one per call."""
    if not log.exists():
        return []
    return [line.split("\x1f")[:-1] for line in log.read_text(encoding="utf-8").splitlines()]


# -- fleetcheck's command line ---------------------------------------------------------------
def subcommands() -> dict[str, argparse.ArgumentParser]:
    from fleetcheck.cli import _build_parser

    parser = _build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def option_strings(parser: argparse.ArgumentParser) -> set[str]:
    return {s for action in parser._actions for s in action.option_strings}


_INVOCATION = re.compile(r"(?:^|[\s/\"'`(])fleetcheck\s+(?P<sub>[a-z]+)\b")
_STOP = {"||", "&&", ";", "|", "&", ">", ">>", "<", "<<", "(", ")", ";;", "2>", "2>&1"}


def fleetcheck_invocations(text: str) -> Iterator[list[str]]:
    """Each ``fleetcheck SUBCOMMAND args...`` in shell text, as its words, up to the end of the command."""
    subs = set(subcommands())
    for match in _INVOCATION.finditer(text):
        if match["sub"] not in subs:
            continue
        rest = text[match.start("sub") :]
        rest = rest.replace("\\\n", " ").split("\n", 1)[0]
        for quote in "'\"":  # inside sh -c '...': the enclosing string's closing quote is not ours
            if rest.count(quote) % 2:
                rest = rest[: rest.rfind(quote)]
        lexer = shlex.shlex(rest, posix=True, punctuation_chars=";&|<>()")
        lexer.whitespace_split = True
        lexer.commenters = ""
        words: list[str] = []
        for word in lexer:
            if word in _STOP or word.startswith(("|", ";", "&", ">", "<")):
                break
            words.append(word)
        yield words
