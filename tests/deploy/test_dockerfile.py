"""deploy/Dockerfile and its ignore file, checked by parsing (no container runtime here).

The parser follows the Dockerfile reference: ``# directive`` lines, comments, ``\\``
continuations, JSON (exec) and shell forms. The ignore file is matched the way Docker's
patternmatcher does (last match wins, ``!`` re-includes, a pattern matching a parent folder
matches everything below it, ``**`` spans folders), so the test knows the exact build context.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from fleetcheck import __version__ as fleetcheck_version
from tests.deploy.kit import DEPLOY, DOCKERFILE, REPO, subcommands

KNOWN_INSTRUCTIONS = {
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
    "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
}  # fmt: skip
SECRETISH = re.compile(r"(passw(or)?d|secret|token|api[_-]?key|private[_-]?key|credential|kubeconfig)", re.IGNORECASE)


@dataclass(frozen=True)
class Instruction:
    keyword: str
    value: str
    line: int

    def exec_form(self) -> list[str] | None:
        """The JSON array of an exec-form instruction, else None."""
        if not self.value.startswith("["):
            return None
        parsed = json.loads(self.value)
        assert isinstance(parsed, list) and all(isinstance(x, str) for x in parsed), self
        return parsed


def parse_dockerfile(text: str) -> list[Instruction]:
    instructions: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # comment lines inside a continued instruction are dropped
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1].strip())
            continue
        pending.append(stripped)
        keyword, _, value = " ".join(p for p in pending if p).partition(" ")
        instructions.append(Instruction(keyword.upper(), value.strip(), start))
        pending = []
    assert not pending, "the Dockerfile ends in a line continuation"
    return instructions


INSTRUCTIONS = parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))


def stages() -> list[list[Instruction]]:
    result: list[list[Instruction]] = []
    for ins in INSTRUCTIONS:
        if ins.keyword == "FROM":
            result.append([])
        if result:
            result[-1].append(ins)
    return result


FINAL = stages()[-1]


def _key_values(value: str) -> dict[str, str]:
    return dict(word.split("=", 1) for word in shlex.split(value))


def _global_args() -> dict[str, str]:
    head = INSTRUCTIONS[: next(i for i, ins in enumerate(INSTRUCTIONS) if ins.keyword == "FROM")]
    return {k: v for ins in head if ins.keyword == "ARG" for k, v in _key_values(ins.value).items()}


def test_every_instruction_is_known() -> None:
    unknown = [ins for ins in INSTRUCTIONS if ins.keyword not in KNOWN_INSTRUCTIONS]
    assert not unknown, unknown
    assert INSTRUCTIONS[0].keyword in {"ARG", "FROM"}


def test_every_stage_is_python_311_slim() -> None:
    args = _global_args()
    for stage in stages():
        image = stage[0].value.split()[0]
        resolved = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args[m.group(1) or m.group(2)], image)
        assert resolved.split("@")[0] == "python:3.11-slim", resolved


def test_final_stage_runs_as_numeric_non_root_before_the_entrypoint() -> None:
    keywords = [ins.keyword for ins in FINAL]
    users = [ins for ins in FINAL if ins.keyword == "USER"]
    assert users, "the final stage never sets USER (it would run as root)"
    # numeric, so the kubelet can verify runAsNonRoot without resolving a name
    uid, _, gid = users[-1].value.partition(":")
    assert uid.isdigit() and int(uid) == 10001, users[-1]
    assert not gid or gid.isdigit()
    assert keywords.index("ENTRYPOINT") > max(i for i, k in enumerate(keywords) if k == "USER")
    assert keywords.index("CMD") > max(i for i, k in enumerate(keywords) if k == "USER")
    useradd = " ".join(ins.value for ins in FINAL if ins.keyword == "RUN")
    assert "--uid 10001" in useradd, "the uid of USER should exist in /etc/passwd"


def test_entrypoint_is_fleetcheck_and_cmd_is_a_valid_run() -> None:
    entrypoint = next(ins for ins in FINAL if ins.keyword == "ENTRYPOINT").exec_form()
    cmd = next(ins for ins in FINAL if ins.keyword == "CMD").exec_form()
    assert entrypoint == ["fleetcheck"], "exec form, so signals reach fleetcheck"
    assert cmd is not None
    run = subcommands()["run"]
    args, unknown = run.parse_known_args(cmd[1:])
    assert cmd[0] == "run" and not unknown
    assert args.report_dir == "/reports"
    volumes = [v for ins in FINAL if ins.keyword == "VOLUME" for v in (ins.exec_form() or ins.value.split())]
    assert "/reports" in volumes


def test_healthcheck_none_and_oci_labels() -> None:
    assert [ins.value for ins in FINAL if ins.keyword == "HEALTHCHECK"] == ["NONE"]
    labels: dict[str, str] = {}
    for ins in FINAL:
        if ins.keyword == "LABEL":
            labels.update(_key_values(ins.value))
    for key in ("title", "description", "version", "licenses"):
        assert f"org.opencontainers.image.{key}" in labels
    version_arg = {k: v for ins in FINAL if ins.keyword == "ARG" for k, v in _key_values(ins.value).items()}
    assert version_arg.get("VERSION") == fleetcheck_version, "the image version label defaults to the package version"


def test_package_is_installed_from_the_repo_without_pip_cache() -> None:
    runs = [ins.value for stage in stages() for ins in stage if ins.keyword == "RUN"]
    installs = [r for r in runs if "pip install" in r]
    assert installs and all("--no-cache-dir" in r for r in installs)
    assert any(re.search(r"pip install --no-cache-dir \.(\s|$)", r) for r in installs)
    assert any(ins.keyword == "COPY" and ins.value.startswith("--from=") for ins in FINAL), "multi-stage copy"


def test_no_remote_add_and_no_secrets() -> None:
    for ins in INSTRUCTIONS:
        assert ins.keyword != "ADD", f"line {ins.line}: use COPY (ADD fetches URLs and unpacks archives)"
        if ins.keyword in {"ENV", "ARG"}:
            for word in shlex.split(ins.value):
                assert not SECRETISH.search(word.split("=", 1)[0]), f"line {ins.line}: {word}"
        if ins.keyword == "RUN":
            assert not re.search(r"(curl|wget)\b", ins.value), f"line {ins.line}: nothing is downloaded at build time"
        if ins.keyword == "COPY":
            assert not SECRETISH.search(ins.value) and ".env" not in ins.value, f"line {ins.line}"


# -- the build context ----------------------------------------------------------------------
IGNORE_FILE = DEPLOY / "Dockerfile.dockerignore"


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """Docker's patternmatcher: ``**`` spans folders, ``*`` and ``?`` stay within one."""
    out = ""
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):
                out += "(.*/)?"
                i += 1
            else:
                out += ".*"
            continue
        out += {"*": "[^/]*", "?": "[^/]"}.get(ch, re.escape(ch))
        i += 1
    return re.compile(f"^{out}$")


def ignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for raw in IGNORE_FILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        cleaned = os.path.normpath(line.lstrip("!").strip()).lstrip("/")
        rules.append((negated, _pattern_regex(cleaned)))
    return rules


def is_ignored(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for negated, regex in rules:
        if any(regex.match(c) for c in candidates):
            ignored = not negated
    return ignored


def build_context() -> set[str]:
    rules = ignore_rules()
    found = set()
    for root, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files:
            rel = Path(root, name).relative_to(REPO).as_posix()
            if not is_ignored(rel, rules):
                found.add(rel)
    return found


def test_ignore_matcher_follows_docker_semantics() -> None:
    rules = [(False, _pattern_regex("*")), (True, _pattern_regex("src")), (False, _pattern_regex("**/__pycache__"))]
    assert is_ignored("notes.txt", rules)
    assert not is_ignored("src/a/b.py", rules)
    assert is_ignored("src/a/__pycache__/b.pyc", rules)
    assert is_ignored(".git/config", rules)


@pytest.fixture(scope="module")
def context() -> set[str]:
    return build_context()


def test_build_context_holds_exactly_what_the_wheel_is_built_from(context: set[str]) -> None:
    allowed_tops = {"pyproject.toml", "README.md", "fleetcheck", "checks", "profiles"}
    assert {path.split("/")[0] for path in context} <= allowed_tops
    for path in ("pyproject.toml", "README.md", "fleetcheck/cli.py", "fleetcheck/pytest-run.ini"):
        assert path in context
    assert any(p.startswith("checks/test_") for p in context)
    assert any(p.startswith("profiles/") and p.endswith(".yaml") for p in context)
    assert not [p for p in context if "__pycache__" in p or p.endswith(".pyc")]


def test_every_copy_source_is_in_the_context(context: set[str]) -> None:
    for ins in INSTRUCTIONS:
        if ins.keyword != "COPY" or ins.value.startswith("--from="):
            continue
        *sources, _dest = shlex.split(ins.value)
        for source in sources:
            src = source.rstrip("/")
            assert (REPO / src).exists(), f"line {ins.line}: {src} is not in the repository"
            assert src in context or any(p.startswith(src + "/") for p in context), f"line {ins.line}: {src} ignored"
