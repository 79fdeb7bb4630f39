"""Every ``fleetcheck`` command line in the kit exists in fleetcheck's own argument parser.

``fleetcheck run`` passes arguments it does not know to pytest, so ``parse_known_args``
alone would accept a typo such as ``--fail-0n``: unknown arguments of ``run`` must be
pytest options from the short allow-list below, anything else is an error.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetcheck.core.plugin_options import PLUGIN_OPTIONS  # what 'fleetcheck run' takes by short names
from tests.deploy.kit import (
    DOCKERFILE,
    DOCS,
    EXAMPLES,
    KUSTOMIZE,
    REPO,
    containers,
    fleetcheck_invocations,
    kubectl,
    kustomize_build,
    manifests,
    option_strings,
    pod_templates,
    subcommands,
)

#: pytest options the kit passes through ``fleetcheck run``, and the plugin providing each
PYTEST_PASSTHROUGH = {"-n": "xdist"}


def _container_texts(objects: list[dict[str, Any]], origin: str) -> list[tuple[str, str]]:
    texts = []
    for obj in objects:
        for pod in pod_templates(obj):
            for c in containers(pod):
                where = f"{origin}: {obj['kind']}/{obj['metadata']['name']}/{c['name']}"
                texts += [(where, " ".join(c.get("command", []))), (where, " ".join(c.get("args", [])))]
    return texts


def _ci_texts(path: Path) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []

    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in {"run", "script", "before_script", "after_script"}:
                    lines = value if isinstance(value, list) else [value]
                    found.extend((f"{path.name}: {where}.{key}", str(line)) for line in lines)
                else:
                    walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{where}[{i}]")

    walk(yaml.safe_load(path.read_text(encoding="utf-8")), "")
    return found


def _doc_texts() -> list[tuple[str, str]]:
    text = DOCS.read_text(encoding="utf-8")
    blocks = re.findall(r"```(?:sh|bash|console)\n(.*?)```", text, re.DOTALL)
    return [(f"docs/operations.md block {i}", re.sub(r"^\s*", "", b, flags=re.MULTILINE)) for i, b in enumerate(blocks)]


def _dockerfile_texts() -> list[tuple[str, str]]:
    lines = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ").splitlines()
    found = [("Dockerfile RUN", line) for line in lines if line.startswith("RUN")]
    cmd = next(line for line in lines if line.startswith("CMD"))
    found.append(("Dockerfile CMD", "fleetcheck " + " ".join(yaml.safe_load(cmd[3:].strip()))))
    return found


def all_texts() -> list[tuple[str, str]]:
    texts = _container_texts([m.obj for m in manifests()], "deploy/kubernetes")
    if kubectl() is not None:
        for overlay in sorted((KUSTOMIZE / "overlays").iterdir()):
            texts += _container_texts(kustomize_build(overlay), f"overlays/{overlay.name}")
    for path in sorted(EXAMPLES.glob("*.yml")):
        texts += _ci_texts(path)
    return texts + _doc_texts() + _dockerfile_texts()


INVOCATIONS = [(where, words) for where, text in all_texts() for words in fleetcheck_invocations(text)]


def test_the_kit_invokes_fleetcheck_everywhere_expected() -> None:
    sources = {where.split(":")[0].split(" ")[0] for where, _ in INVOCATIONS}
    assert {"deploy/kubernetes", "github-actions.yml", "gitlab-ci.yml", "docs/operations.md", "Dockerfile"} <= sources
    subs = {words[0] for _, words in INVOCATIONS}
    assert {"run", "merge", "diff", "checks"} <= subs


@pytest.mark.parametrize(("where", "words"), INVOCATIONS, ids=[f"{w}: {' '.join(ws)[:60]}" for w, ws in INVOCATIONS])
def test_invocation_parses(where: str, words: list[str]) -> None:
    sub, *args = words
    parser = subcommands()[sub]
    try:
        if sub != "run":
            parser.parse_args(args)
            return
        _, unknown = parser.parse_known_args(args)
    except SystemExit:
        pytest.fail(f"{where}: fleetcheck {' '.join(words)} is rejected by fleetcheck's parser")
    known = option_strings(parser)
    passthrough = [a for a in unknown if a.startswith("-")]
    for flag in passthrough:
        assert flag not in known
        if flag in PLUGIN_OPTIONS:  # 'fleetcheck run' hands it to the plugin as --fleetcheck-<name>
            continue
        assert flag in PYTEST_PASSTHROUGH, f"{where}: {flag} is neither a 'fleetcheck run' option nor allow-listed"
        provider = PYTEST_PASSTHROUGH[flag]
        assert importlib.util.find_spec(provider) is not None, f"{flag} needs {provider}, which is not installed"


def test_run_options_used_are_real_run_options() -> None:
    """The flags the kit relies on, named explicitly (a parser change must fail here, not in production)."""
    run = option_strings(subcommands()["run"])
    used = {w.split("=")[0] for _, words in INVOCATIONS if words[0] == "run" for w in words if w.startswith("--")}
    assert used <= run | PLUGIN_OPTIONS, sorted(used - run - PLUGIN_OPTIONS)
    assert {"--fleet", "--cluster", "--fail-on", "--baseline", "--shard", "--report-dir"} <= used
    assert REPO.joinpath("fleetcheck", "cli.py").is_file()
