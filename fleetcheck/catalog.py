"""Declaring checks, and finding them without running them.

One declaration carries everything about a check (code, title, factor,
default severity, scope, the kinds it reads, its settings model) and the
function's docstring carries its docs in fixed sections, as ruff's rules do:

    What: ... / Why: ... / Fix: ... / References: ...

``fleetcheck checks`` and ``fleetcheck explain`` import the check modules
and read these declarations; nothing is run and no global registry is
mutated, so every load is fresh.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Literal, TypeVar

import pytest
from pydantic import BaseModel

from fleetcheck.core.kinds import parse_kind
from fleetcheck.errors import ConfigError
from fleetcheck.facts.compare import RULE, RULE_TITLE
from fleetcheck.paths import builtin_checks_dir, repo_root
from fleetcheck.results import FACTORS, SEVERITIES, CheckInfo

__all__ = [
    "CODE_PATTERN",
    "DOC_SECTIONS",
    "Catalog",
    "CheckDefinitionError",
    "CheckDocs",
    "CheckSpec",
    "check",
    "check_dirs",
    "load_catalog",
    "report_path",
]

CODE_PATTERN = re.compile(r"^FC-[A-Z]{2,8}-\d{3}$")
DOC_SECTIONS = ("What", "Why", "Fix", "References")
Scope = Literal["cluster", "fleet", "live"]
_SECTION_RE = re.compile(r"^(What|Why|Fix|References):\s*(.*)$")
F = TypeVar("F", bound=Callable[..., Any])
ENTRY_POINT_GROUP = "fleetcheck.checks"


class CheckDefinitionError(Exception):
    """A check was declared wrongly (bad code, factor, severity, kind or docs)."""


@dataclass(frozen=True)
class CheckDocs:
    """The fixed doc sections of a check, parsed from its docstring."""

    summary: str = ""
    what: str = ""
    why: str = ""
    fix: str = ""
    references: str = ""

    def missing(self) -> list[str]:
        """Sections that are empty."""
        return [name for name in DOC_SECTIONS if not getattr(self, name.lower())]


@dataclass(frozen=True)
class CheckSpec:
    """Everything known about one check without running it."""

    code: str
    title: str
    factor: str
    severity: str
    scope: Scope
    reads: tuple[str, ...]
    docs: CheckDocs
    settings_model: type[BaseModel] | None = None
    success: str = ""
    module: str = ""
    function: str = ""
    path: str = ""

    def info(self) -> CheckInfo:
        """The catalog entry copied into ``results.json``."""
        return CheckInfo(
            code=self.code,
            title=self.title,
            factor=self.factor,
            severity=self.severity,
            scope=self.scope,
            what=self.docs.what,
            why=self.docs.why,
            fix=self.docs.fix,
            references=self.docs.references,
            file=report_path(self.path),
        )

    def default_settings(self) -> BaseModel | None:
        """The settings model with its defaults."""
        return self.settings_model() if self.settings_model else None


def report_path(path: str) -> str:
    """A check module's path as reports name it: relative, as CI tools resolve files (``checks/test_dns.py``).

    Relative to the package's root (the built-in checks: the source
    checkout, or site-packages for a wheel), else to the working folder (a
    project's own checks), else the folder and file name; "" when unknown.
    """
    if not path:
        return ""
    location = Path(path).resolve()
    for base in (repo_root(), Path.cwd().resolve()):
        if location.is_relative_to(base):
            return location.relative_to(base).as_posix()
    return f"{location.parent.name}/{location.name}"


def parse_docs(docstring: str | None) -> CheckDocs:
    """Split a docstring into summary and the What/Why/Fix/References sections."""
    text = inspect.cleandoc(docstring or "")
    lines = text.splitlines()
    summary_lines: list[str] = []
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for line in lines:
        match = _SECTION_RE.match(line)
        if match:
            current = match.group(1)
            sections[current] = [match.group(2)] if match.group(2) else []
        elif current is None:
            summary_lines.append(line)
        else:
            sections[current].append(line)

    def joined(name: str) -> str:
        return "\n".join(sections.get(name, [])).strip()

    return CheckDocs(
        " ".join(" ".join(summary_lines).split()), joined("What"), joined("Why"), joined("Fix"), joined("References")
    )


def _with_fleet_rule(docs: CheckDocs, fn: Callable[..., Any]) -> CheckDocs:
    """A fleet comparison's What ends with the one rule (the same text for every such check, from one place).

    A check compares by the rule when it takes ``fleet`` and its What names a
    standard; FC-TIER-* take ``fleet`` to look for canaries, not for a standard.
    """
    if "fleet" not in inspect.signature(fn).parameters or "standard" not in docs.what:
        return docs
    return CheckDocs(docs.summary, f"{docs.what}\n\n{RULE_TITLE}: {RULE}", docs.why, docs.fix, docs.references)


def check(
    code: str,
    *,
    title: str,
    factor: str,
    severity: str,
    scope: Scope = "cluster",
    reads: Iterable[str] = (),
    settings: type[BaseModel] | None = None,
    success: str = "",
) -> Callable[[F], F]:
    """Declare a check: ``@check("FC-QUOTA-001", title=..., factor="bounded", severity="high", reads=[...])``.

    ``reads`` lists the kinds the check lists (prefetched before it runs, so a
    forbidden kind turns it into ``error`` at setup). ``settings`` is a
    pydantic model of the thresholds a profile may set for it.
    """
    if not CODE_PATTERN.match(code):
        raise CheckDefinitionError(f"{code!r}: check codes look like FC-QUOTA-001 ({CODE_PATTERN.pattern})")
    if factor not in FACTORS:
        raise CheckDefinitionError(f"{code}: unknown factor {factor!r}; use one of {', '.join(FACTORS)}")
    if severity not in SEVERITIES:
        raise CheckDefinitionError(f"{code}: unknown severity {severity!r}; use one of {', '.join(SEVERITIES)}")
    if scope not in ("cluster", "fleet", "live"):
        raise CheckDefinitionError(f"{code}: scope must be cluster, fleet or live")
    kinds = tuple(reads)
    for kind in kinds:
        try:
            parse_kind(kind)
        except ValueError as exc:
            raise CheckDefinitionError(f"{code}: {exc}") from None

    def decorate(fn: F) -> F:
        spec = CheckSpec(
            code=code,
            title=title,
            factor=factor,
            severity=severity,
            scope=scope,
            reads=kinds,
            docs=_with_fleet_rule(parse_docs(fn.__doc__), fn),
            settings_model=settings,
            success=success,
            module=fn.__module__,
            function=fn.__name__,
            path=inspect.getsourcefile(fn) or "",
        )
        fn.__fleetcheck__ = spec  # type: ignore[attr-defined]
        marked: F = pytest.mark.fleetcheck(code)(fn)
        return marked

    return decorate


def spec_of(obj: Any) -> CheckSpec | None:
    """The :class:`CheckSpec` declared on a function, if any."""
    spec = getattr(obj, "__fleetcheck__", None)
    return spec if isinstance(spec, CheckSpec) else None


@dataclass
class Catalog:
    """Every check found, by code."""

    checks: dict[str, CheckSpec] = field(default_factory=dict)
    paths: list[Path] = field(default_factory=list)

    def get(self, code: str) -> CheckSpec:
        """The check ``code``; ``KeyError`` when unknown."""
        return self.checks[code.upper()]

    def sorted(self) -> list[CheckSpec]:
        """Checks ordered by factor (scorecard order), then code."""
        order = {f: i for i, f in enumerate(FACTORS)}
        return sorted(self.checks.values(), key=lambda s: (order.get(s.factor, 99), s.code))

    def kinds_read(self, codes: Iterable[str] | None = None) -> list[str]:
        """Distinct kinds the given (default: all) checks read, as ResourceRef keys."""
        wanted = set(codes) if codes is not None else None
        keys = {parse_kind(k).key for s in self.checks.values() if wanted is None or s.code in wanted for k in s.reads}
        return sorted(keys)


def check_dirs(extra: Iterable[str | Path] = ()) -> list[Path]:
    """Folders of check modules: built-in, installed packs (entry points), then ``extra``."""
    dirs = [builtin_checks_dir()]
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            module = ep.load()
        except Exception as exc:  # a broken third-party pack must not hide the built-in checks
            raise ConfigError(
                f"entry point {ep.name}",
                ENTRY_POINT_GROUP,
                f"cannot import {ep.value}: {exc}",
                "fix or uninstall the check pack",
            ) from None
        location = Path(getattr(module, "__file__", "") or "")
        dirs.append(location.parent if location.name == "__init__.py" else location)
    for folder in map(Path, extra):
        if not folder.exists():  # a typo must not quietly scan without the user's checks
            raise ConfigError(folder, "--checks", "folder of checks not found", "pass a folder of test_*.py modules")
        dirs.append(folder)
    return dirs


def _module_files(dirs: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for location in dirs:
        if location.is_file():
            files.append(location)
        elif location.is_dir():
            files.extend(sorted(location.glob("test_*.py")))
    return files


def _import_file(path: Path) -> Any:
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]
    name = f"_fleetcheck_catalog_{digest}_{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(path, "", "cannot import check module", "make it a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except CheckDefinitionError as exc:
        del sys.modules[name]
        raise ConfigError(path, "", str(exc), "fix the @check declaration") from None
    return module


def load_catalog(dirs: Iterable[Path] | None = None) -> Catalog:
    """Import every check module and collect the declared checks (codes must be unique)."""
    folders = list(dirs) if dirs is not None else check_dirs()
    catalog = Catalog(paths=folders)
    for path in _module_files(folders):
        module = _import_file(path)
        for _name, obj in inspect.getmembers(module, inspect.isfunction):
            spec = spec_of(obj)
            if spec is None or obj.__module__ != module.__name__:
                continue
            known = catalog.checks.get(spec.code)
            if known is not None and (known.path, known.function) != (spec.path, spec.function):
                # the same function under a second name is fine; two functions with one code are not
                raise ConfigError(
                    path,
                    spec.function,
                    f"check code {spec.code} is also declared by {known.function} in {known.path}",
                    "codes are unique; pick a new one",
                )
            catalog.checks[spec.code] = spec
    return catalog
