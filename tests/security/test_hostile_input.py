"""Hostile and malformed input: every bad fleet file, profile or snapshot is one line on stderr and exit 2.

Fleet files and profiles are fuzzed two ways through the real CLI:

- *must reject*: a valid document with exactly one defect planted (an
  unknown key, a wrong type, a value out of range or huge, nesting 50 to
  100,000 deep, an alias bomb, bytes that are not UTF-8, a duplicate, a
  conflict); the CLI must exit 2 with one line naming the file;
- *anything*: random bytes, random text, random YAML documents and
  truncations of a valid file; the CLI must accept (exit 0) or reject as
  above, and never show a traceback.

``fleetcheck clusters --fleet F`` loads the fleet; ``fleetcheck run
--profile P --snapshot D`` loads profiles and validates every check's
settings, with the pytest run itself replaced by a stub, so the fuzzing
exercises the whole front door without scanning. Example counts are
bounded and derandomized so the suite stays fast and repeatable.

Defects the fuzzers found once (tracebacks, crashes) are pinned as
hand-written regression cases below, each naming the module that was fixed.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import re
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleetcheck.cli import main
from tests.builders import alias_bomb
from tests.integration.clusters import write_cluster

FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ANYTHING = settings(FUZZ, max_examples=100)

BASE_FLEET: dict[str, Any] = {
    "version": 1,
    "defaults": {"profile": "default", "labels": {"team": "platform"}},
    "clusters": [
        {
            "name": "alpha",
            "snapshot": "snaps/alpha",
            "profile": "prod",
            "labels": {"env": "prod", "region": "eu-west"},
            "facts": {"oidc_issuer": "https://sso.example.com/realms/platform", "dns_endpoint": "10.0.0.10:53"},
        },
        {"name": "beta", "snapshot": "snaps/beta"},
    ],
}
BASE_PROFILE: dict[str, Any] = {
    "name": "payments-prod",
    "description": "the fuzzers' valid starting point",
    "extends": "prod",
    "select": ["FC-*"],
    "ignore": ["FC-COST-*"],
    "severity": {"FC-QUOTA-003": "medium"},
    "settings": {"FC-QUOTA-003": {"threshold_percent": 85}},
    "system_namespaces": ["kube-system", "monitoring"],
    "registries": {"eu-west": ["registry.eu-west.example.com"]},
    "standards": {"cni": "calico", "dns_upstreams": ["10.0.0.2"]},
    "probes": {"enabled": False, "timeout_seconds": 3, "ntp_servers": ["ntp.example.com"], "ntp_samples": 3},
    "waivers": [{"code": "FC-QUOTA-001", "clusters": "dev*", "reason": "short-lived", "expires": "2027-01-31"}],
}

FLEET_FIELDS: dict[tuple[Any, ...], set[str]] = {
    (): {"version", "defaults", "clusters"},
    ("defaults",): {"profile", "kubeconfig", "labels"},
    ("clusters", 0): {"name", "context", "kubeconfig", "snapshot", "profile", "labels", "facts"},
    ("clusters", 1): {"name", "context", "kubeconfig", "snapshot", "profile", "labels", "facts"},
    ("clusters", 0, "facts"): {
        "oidc_issuer",
        "oidc_client_id",
        "oidc_username_prefix",
        "dns_endpoint",
        "authentication_config",
    },
}
PROFILE_FIELDS: dict[tuple[Any, ...], set[str]] = {
    (): set(BASE_PROFILE),
    ("standards",): {
        "cni",
        "cni_version",
        "kubernetes_minor",
        "oidc_issuer",
        "oidc_client_id",
        "oidc_username_prefix",
        "dns_upstreams",
        "cluster_domain",
        "ingress",
        "mesh",
        "metrics_endpoints",
        "replicated_storage_classes",
    },
    ("probes",): {"enabled", "timeout_seconds", "ntp_servers", "ntp_samples", "dns_names", "allow_http"},
    ("waivers", 0): {"code", "clusters", "objects", "reason", "expires", "ticket"},
    ("settings", "FC-QUOTA-003"): {"threshold_percent"},
}
#: scalar fields (a list or a mapping there is never coerced) and mapping/list fields (a scalar never is)
FLEET_SCALARS = [
    ("version",),
    ("defaults", "profile"),
    ("defaults", "kubeconfig"),
    ("clusters", 0, "name"),
    ("clusters", 0, "snapshot"),
    ("clusters", 0, "profile"),
    ("clusters", 1, "context"),
    ("clusters", 0, "facts", "oidc_issuer"),
    ("clusters", 0, "labels", "env"),
    ("defaults", "labels", "team"),
]
FLEET_CONTAINERS = [
    ("defaults",),
    ("clusters",),
    ("clusters", 0),
    ("clusters", 0, "labels"),
    ("clusters", 0, "facts"),
    ("defaults", "labels"),
]
PROFILE_SCALARS = [
    ("extends",),
    ("severity", "FC-QUOTA-003"),
    ("settings", "FC-QUOTA-003", "threshold_percent"),
    ("probes", "enabled"),
    ("probes", "timeout_seconds"),
    ("probes", "ntp_samples"),
    ("standards", "cni"),
    ("waivers", 0, "code"),
    ("waivers", 0, "reason"),
    ("waivers", 0, "expires"),
    ("select", 0),
    ("registries", "eu-west", 0),
]
PROFILE_CONTAINERS = [
    ("select",),
    ("ignore",),
    ("severity",),
    ("settings",),
    ("settings", "FC-QUOTA-003"),
    ("system_namespaces",),
    ("registries",),
    ("registries", "eu-west"),
    ("standards",),
    ("probes",),
    ("waivers",),
    ("waivers", 0),
    ("standards", "dns_upstreams"),
]

# -- generating defects -----------------------------------------------------------------------------------

#: keys YAML itself gives a meaning (merge, value) and the start of a home-directory path (a known bug, below)
_SPECIAL = ("<<", "=")


def _plain_text(max_size: int = 30) -> st.SearchStrategy[str]:
    return st.text(max_size=max_size).filter(lambda s: not s.startswith("~"))


def _containers() -> st.SearchStrategy[Any]:
    leaf = st.one_of(st.integers(-(10**6), 10**6), _plain_text(10), st.booleans(), st.none())
    return st.one_of(st.lists(leaf, max_size=3), st.dictionaries(_plain_text(8), leaf, max_size=3))


def _scalars() -> st.SearchStrategy[Any]:
    return st.one_of(st.integers(-(10**30), 10**30), st.floats(allow_nan=False), _plain_text(), st.booleans())


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value


RAW = "__FLEETCHECK_RAW_VALUE__"


def _deep(depth: int, kind: str) -> str:
    """A value nested ``depth`` deep, written as flow YAML (lists or mappings)."""
    return "[" * depth + "]" * depth if kind == "list" else "{a: " * depth + "x" + "}" * depth


def _flow_bomb(levels: int, width: int) -> str:
    parts = ["a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    parts += [f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * width) + "]" for n in range(1, levels + 1)]
    return "{" + ", ".join(parts) + "}"


_BAD_UTF8 = [b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80", b"\xc0\xaf"]


@st.composite
def _defect(
    draw: st.DrawFn,
    base: dict[str, Any],
    fields: dict[tuple[Any, ...], set[str]],
    scalars: list[tuple[Any, ...]],
    containers: list[tuple[Any, ...]],
    semantic: Callable[[st.DrawFn, dict[str, Any]], None],
) -> tuple[str, bytes]:
    """(what was planted, the file's bytes): ``base`` with exactly one defect."""
    doc = copy.deepcopy(base)
    raw: str | None = None
    kind = draw(st.sampled_from(["unknown key", "wrong type", "deep", "bomb", "not utf-8", "semantic"]))
    if kind == "unknown key":
        where = draw(st.sampled_from(sorted(fields, key=str)))
        key = draw(_plain_text(20).filter(lambda k, w=where: k not in fields[w] and k not in _SPECIAL))
        target = doc
        for part in where:
            target = target[part]
        target[key] = draw(_scalars())
        kind += f" {key!r} at {where}"
    elif kind == "wrong type":
        if draw(st.booleans()):
            path = draw(st.sampled_from(scalars))
            _set(doc, path, draw(_containers()))
        else:
            path = draw(st.sampled_from(containers))
            _set(doc, path, draw(_scalars()))
        kind += f" at {path}"
    elif kind == "deep":
        path = draw(st.sampled_from(scalars + containers))
        # past ~450 levels the parser gives up (RecursionError); 100k deep is a hand-written case below, as
        # PyYAML's scanner spends ~1 s on any document over 1,024 levels and the fuzzing must stay fast
        depth = draw(st.sampled_from([50, 300, 600, 1_000]))
        raw = _deep(depth, draw(st.sampled_from(["list", "mapping"])))
        _set(doc, path, RAW)
        kind += f" {depth} at {path}"
    elif kind == "bomb":
        levels, width = draw(st.sampled_from([(6, 9), (7, 7), (8, 6), (9, 9), (12, 4)]))
        path = draw(st.sampled_from(scalars + containers))
        raw = _flow_bomb(levels, width)
        _set(doc, path, RAW)
        kind += f" {width}**{levels} at {path}"
    elif kind == "semantic":
        semantic(draw, doc)
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=draw(st.booleans()))
    if raw is not None:
        assert text.count(RAW) == 1
        text = text.replace(RAW, raw)
    data = text.encode("utf-8")
    if kind == "not utf-8":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from(_BAD_UTF8)) + data[at:]
    return kind, data


def _fleet_semantics(draw: st.DrawFn, doc: dict[str, Any]) -> None:
    """A defect only fleetcheck's own rules catch."""
    clusters = doc["clusters"]
    choice = draw(st.integers(0, 6))
    if choice == 0:
        clusters[1]["name"] = clusters[0]["name"]  # duplicate names
    elif choice == 1:
        clusters[0]["context"] = "prod"  # a snapshot and a context
    elif choice == 2:
        doc["version"] = draw(st.integers(2, 10**40) | st.integers(-(10**40), 0))
    elif choice == 3:  # a name Kubernetes would not accept either (spaces, too long, leading dash ...)
        clusters[0]["name"] = draw(st.text(max_size=300).filter(lambda n: not _NAME.fullmatch(n)))
    elif choice == 4:
        clusters[1]["snapshot"] = "snaps/" + draw(st.from_regex(r"[a-z0-9-]{1,20}", fullmatch=True).filter(_absent))
    elif choice == 5:
        doc["defaults"]["profile"] = draw(
            st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=20).filter(
                lambda p: p not in ("default", "prod", "dev", "edge")
            )
        )
    else:
        doc["clusters"] = []


def _profile_semantics(draw: st.DrawFn, doc: dict[str, Any]) -> None:
    choice = draw(st.integers(0, 7))
    if choice == 0:
        doc["severity"][draw(_plain_text(20).filter(lambda c: not c.startswith("FC-")))] = "high"
    elif choice == 1:
        doc["settings"][draw(st.from_regex(r"FC-[A-Z]{2,8}-9[0-9]{2}", fullmatch=True))] = {}  # unknown code
    elif choice == 2:
        doc["probes"]["timeout_seconds"] = draw(
            st.floats(max_value=0) | st.floats(min_value=60.001) | st.just(float("nan")) | st.integers(61, 10**300)
        )
    elif choice == 3:
        doc["probes"]["ntp_samples"] = draw(st.integers(max_value=0) | st.integers(min_value=11, max_value=10**300))
    elif choice == 4:
        doc["settings"]["FC-QUOTA-003"]["threshold_percent"] = draw(
            st.floats(max_value=0) | st.floats(min_value=100.01)
        )
    elif choice == 5:
        doc["severity"]["FC-QUOTA-003"] = draw(_plain_text().filter(lambda s: s not in _SEVERITIES))
    elif choice == 6:
        doc["waivers"][0]["expires"] = draw(_plain_text().filter(lambda s: not _is_date(s)))
    else:
        doc["extends"] = draw(
            st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=20).filter(
                lambda p: p not in ("default", "prod", "dev", "edge")
            )
        )


_SEVERITIES = {"critical", "high", "medium", "low", "info"}
#: the cluster-name rule of registry/fleet.py
_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]{0,126}[A-Za-z0-9])?")


def _absent(name: str) -> bool:
    return name not in ("alpha", "beta")


def _is_date(text: str) -> bool:
    from pydantic import TypeAdapter, ValidationError

    from fleetcheck.registry.profile import Waiver

    try:
        TypeAdapter(Waiver.model_fields["expires"].annotation).validate_python(text)
    except ValidationError:
        return False
    return True


# -- driving the CLI ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Two snapshot folders, a fake home with no kubeconfig, and nothing else."""
    root = tmp_path_factory.mktemp("hostile-input")
    for name in ("alpha", "beta"):
        write_cluster(root / "snaps", name)
    (root / "home").mkdir()
    env = {"HOME": str(root / "home"), "KUBECONFIG": str(root / "home" / "no-kubeconfig")}
    with mock.patch.dict(os.environ, env):
        yield root


def _cli(args: list[str]) -> tuple[int, str, str]:
    """Run the CLI in-process, the pytest run of ``run`` replaced by a stub; a crash is returned as text."""
    out, err = io.StringIO(), io.StringIO()
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        mock.patch("fleetcheck.runner.run_scan", return_value=0),
    ):
        try:
            code = main(args)
        except BaseException:  # a crash, SystemExit included, is what these tests exist to catch
            return -1, out.getvalue(), traceback.format_exc()
    return code, out.getvalue(), err.getvalue()


def _assert_rejected(result: tuple[int, str, str], source: Path, what: str) -> None:
    code, out, err = result
    assert code == 2 and "Traceback" not in err, f"{what}: exit {code}\n{err[-2000:]}"
    lines = err.splitlines()
    assert len(lines) == 1, f"{what}: {len(lines)} lines on stderr: {err[:500]!r}"
    assert lines[0].startswith("fleetcheck: error: ") and source.name in lines[0], (what, lines[0][:300])
    assert len(lines[0]) < 2000, f"{what}: a one-line error of {len(lines[0])} characters"
    assert out == "", (what, out[:300])


def _assert_accepted_or_rejected(result: tuple[int, str, str], source: Path, what: str) -> None:
    code, _out, err = result
    if code == 0:
        assert err == "", (what, err[:500])
    else:
        _assert_rejected(result, source, what)


def _fleet(workspace: Path, data: bytes) -> tuple[int, str, str]:
    path = workspace / "fleet.yaml"
    path.write_bytes(data)
    return _cli(["clusters", "--fleet", str(path)])


def _profile(workspace: Path, data: bytes) -> tuple[int, str, str]:
    path = workspace / "profile.yaml"
    path.write_bytes(data)
    return _cli(["run", "--profile", str(path), "--snapshot", str(workspace / "snaps" / "alpha")])


def test_the_fuzzers_start_from_valid_documents(workspace: Path) -> None:
    assert _fleet(workspace, yaml.safe_dump(BASE_FLEET).encode())[0] == 0
    assert _profile(workspace, yaml.safe_dump(BASE_PROFILE).encode()) == (0, "", "")


@FUZZ
@given(_defect(BASE_FLEET, FLEET_FIELDS, FLEET_SCALARS, FLEET_CONTAINERS, _fleet_semantics))
def test_fleet_file_with_one_defect_is_one_line_and_exit_2(workspace: Path, case: tuple[str, bytes]) -> None:
    what, data = case
    _assert_rejected(_fleet(workspace, data), workspace / "fleet.yaml", what)


@FUZZ
@given(_defect(BASE_PROFILE, PROFILE_FIELDS, PROFILE_SCALARS, PROFILE_CONTAINERS, _profile_semantics))
def test_profile_with_one_defect_is_one_line_and_exit_2(workspace: Path, case: tuple[str, bytes]) -> None:
    what, data = case
    _assert_rejected(_profile(workspace, data), workspace / "profile.yaml", what)


def _json_like() -> st.SearchStrategy[Any]:
    leaf = st.one_of(st.none(), st.booleans(), st.integers(-(10**20), 10**20), st.floats(), _plain_text())
    return st.recursive(
        leaf,
        lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_plain_text(12), inner, max_size=4)),
        max_leaves=30,
    )


def _anything(base: dict[str, Any]) -> st.SearchStrategy[tuple[str, bytes]]:
    valid = yaml.safe_dump(base, sort_keys=False).encode()
    return st.one_of(
        st.binary(max_size=400).map(lambda b: ("random bytes", b)),
        _plain_text(400).map(lambda t: ("random text", t.encode("utf-8", "surrogatepass"))),
        _json_like().map(lambda d: ("random document", yaml.safe_dump(d).encode())),
        st.integers(0, len(valid)).map(lambda n: (f"truncated at {n}", valid[:n])),
    )


@ANYTHING
@given(_anything(BASE_FLEET))
def test_any_fleet_file_is_accepted_or_one_line(workspace: Path, case: tuple[str, bytes]) -> None:
    what, data = case
    _assert_accepted_or_rejected(_fleet(workspace, data), workspace / "fleet.yaml", what)


@ANYTHING
@given(_anything(BASE_PROFILE))
def test_any_profile_is_accepted_or_one_line(workspace: Path, case: tuple[str, bytes]) -> None:
    what, data = case
    _assert_accepted_or_rejected(_profile(workspace, data), workspace / "profile.yaml", what)


# -- hand-written cases ---------------------------------------------------------------------------------------

SNAPSHOT = "snaps/alpha"
#: name -> (which file, its bytes); each must be rejected with one line naming the file
HAND_WRITTEN: dict[str, tuple[str, bytes]] = {
    "empty fleet file": ("fleet", b""),
    "a list, not a mapping": ("fleet", b"- name: a\n  snapshot: snaps/alpha\n"),
    "a bare string": ("fleet", b"hello"),
    "python object tag": ("fleet", b"!!python/object/apply:os.system ['true']\n"),
    "unhashable key": ("fleet", b"clusters:\n- ? [a, b]\n  : c\n"),
    "tab indentation": ("fleet", b"clusters:\n\t- name: a\n"),
    "NUL in a value": ("fleet", b"clusters:\n- name: a\x00b\n  snapshot: snaps/alpha\n"),
    "byte order mark then garbage": ("fleet", b"\xef\xbb\xbf\xff\xfe"),
    "UTF-16": ("fleet", "clusters: []\n".encode("utf-16")),
    "recursive alias": ("fleet", b"clusters: &c\n- *c\n"),
    "billion laughs": ("fleet", alias_bomb().encode()),
    "9 MB file": ("fleet", b"# " + b"x" * (9 * 1024 * 1024) + b"\nclusters: []\n"),
    "100k-deep list": ("fleet", b"clusters: " + b"[" * 100_000 + b"]" * 100_000 + b"\n"),
    "100k-deep mapping": ("fleet", b"clusters: " + b"{a: " * 100_000 + b"x" + b"}" * 100_000 + b"\n"),
    "2k-deep block nesting": (
        "fleet",
        b"clusters:\n" + b"".join(b" " * (i + 1) + b"a:\n" for i in range(2000)) + b" " * 2001 + b"x\n",
    ),
    "huge integer (4000 digits)": ("fleet", b"version: " + b"9" * 4000 + b"\n"),
    "float overflow": ("profile", b"probes: {timeout_seconds: 1e999999}\n"),
    "NaN timeout": ("profile", b"probes: {timeout_seconds: .nan}\n"),
    "profile extends itself": ("profile", b"extends: profile.yaml\n"),
    "profile extends a folder": ("profile", b"extends: ./snaps/alpha\n"),
    "profile extends /dev/zero": ("profile", b"extends: /dev/zero\n"),
    "waiver without reason": ("profile", b"waivers:\n- {code: FC-QUOTA-001, expires: 2030-01-01}\n"),
    "settings for an unknown check": ("profile", b"settings: {FC-NOPE-001: {x: 1}}\n"),
    "unknown setting of a known check": ("profile", b"settings: {FC-QUOTA-003: {threshold: 1}}\n"),
}


@pytest.mark.parametrize("case", list(HAND_WRITTEN))
def test_hand_written_bad_input(workspace: Path, case: str) -> None:
    which, data = HAND_WRITTEN[case]
    run = _fleet if which == "fleet" else _profile
    _assert_rejected(run(workspace, data), workspace / f"{which}.yaml", case)


#: inputs that once gave a traceback (exit 1) or a crash, each with the module and the fix made
KNOWN_BUGS: dict[str, tuple[str, bytes, str]] = {
    "home of an unknown user (~nosuchuser/...) in a fleet path": (
        "fleet",
        b"clusters:\n- name: a\n  snapshot: ~nosuchuser/snaps\n",
        "registry/fleet.py _resolve_path: Path.expanduser() raises RuntimeError; catch it as a ConfigError",
    ),
    "home of an unknown user in a profile's extends": (
        "profile",
        b"extends: ~nosuchuser/base.yaml\n",
        "registry/profile.py _locate: Path.expanduser() raises RuntimeError; catch it as a ConfigError",
    ),
    "an integer of 5,000 digits": (
        "fleet",
        b"version: " + b"9" * 5000 + b"\n",
        "registry/yamlfile.py read_yaml_mapping: PyYAML's int() raises ValueError (Python's 4300-digit limit); "
        "catch ValueError as a ConfigError",
    ),
    "an impossible date (2027-13-45) in a label": (
        "fleet",
        b"clusters:\n- name: a\n  snapshot: snaps/alpha\n  labels: {expires: 2027-13-45}\n",
        "registry/yamlfile.py read_yaml_mapping: PyYAML's timestamp constructor raises ValueError; catch it",
    ),
    "an impossible date as a waiver's expiry": (
        "profile",
        b"waivers:\n- {code: FC-QUOTA-001, reason: why not, expires: 2027-02-30}\n",
        "registry/yamlfile.py read_yaml_mapping: PyYAML's timestamp constructor raises ValueError; catch it",
    ),
    "a kubeconfig nested 100k deep": (
        "kubeconfig",
        b"preferences: " + b"[" * 100_000 + b"]" * 100_000 + b"\n",
        "registry/kubeconfig.py merge_kubeconfigs: yaml.safe_load raises RecursionError; read it with "
        "yamlfile's bounded loader (alias bombs, depth, size) or catch RecursionError and ValueError",
    ),
    "a kubeconfig with an integer of 5,000 digits": (
        "kubeconfig",
        b"preferences: {a: " + b"9" * 5000 + b"}\n",
        "registry/kubeconfig.py merge_kubeconfigs: catch ValueError from the YAML constructors",
    ),
}


def _kubeconfig_fleet(workspace: Path, data: bytes) -> tuple[int, str, str]:
    kubeconfig = workspace / "kubeconfig.yaml"
    kubeconfig.write_bytes(data)
    fleet = workspace / "fleet.yaml"
    fleet.write_text(f"clusters:\n- name: a\n  kubeconfig: {kubeconfig}\n", encoding="utf-8")
    return _cli(["clusters", "--fleet", str(fleet)])


_RUNNERS = {"fleet": _fleet, "profile": _profile, "kubeconfig": _kubeconfig_fleet}


@pytest.mark.parametrize("case", list(KNOWN_BUGS))
def test_known_bad_input_bugs(workspace: Path, case: str) -> None:
    which, data, _fix = KNOWN_BUGS[case]
    source = workspace / ("kubeconfig.yaml" if which == "kubeconfig" else f"{which}.yaml")
    _assert_rejected(_RUNNERS[which](workspace, data), source, case)


def test_kubeconfig_named_by_a_fleet_file_is_read_safely(workspace: Path) -> None:
    """A kubeconfig is input too: bombs and garbage in it are one line, naming it."""
    kubeconfig = workspace / "bad-kubeconfig"
    fleet = workspace / "kube-fleet.yaml"
    fleet.write_text(f"clusters:\n- name: a\n  kubeconfig: {kubeconfig}\n")
    for data in (b"\xff\xfe", b"clusters: {", b"- a\n- b\n", b"clusters: 7\n", alias_bomb().encode()):
        kubeconfig.write_bytes(data)
        code, _out, err = _cli(["clusters", "--fleet", str(fleet)])
        assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err, (data[:20], err[-500:])


# -- snapshot files -------------------------------------------------------------------------------------------


def _scan_snapshot(folder: Path, tmp: Path) -> tuple[int, dict[str, Any] | None, str]:
    """``fleetcheck run --snapshot`` in its own process (a crash must not take the test run down with it)."""
    report = tmp / "reports"
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    args = ["run", "--snapshot", str(folder), "--report-dir", str(report), "-p", "no:benchmark", "-k", "QUOTA"]
    proc = subprocess.run(
        [sys.executable, "-m", "fleetcheck.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    results = report / "results.json"
    doc = json.loads(results.read_text()) if results.is_file() else None
    return proc.returncode, doc, proc.stderr


#: file name -> bytes of a broken ``kubectl get -o json|yaml`` output
BROKEN_DATA_FILES: dict[str, bytes] = {
    "truncated JSON": b'{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Namespace", "meta',
    "truncated YAML": b"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: 'x",
    "not UTF-8": b'{"apiVersion": "v1", "kind": "List", "items": [], "x": "\xff\xfe"}',
    "JSON nested 100k deep": b'{"kind": "List", "items": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}",
}


@pytest.mark.parametrize("case", list(BROKEN_DATA_FILES))
def test_broken_snapshot_file_errors_naming_the_file(tmp_path: Path, case: str) -> None:
    folder = write_cluster(tmp_path / "snaps", "broken")
    suffix = ".yaml" if "YAML" in case else ".json"
    (folder / "namespaces.json").unlink()
    (folder / f"namespaces{suffix}").write_bytes(BROKEN_DATA_FILES[case])
    code, doc, stderr = _scan_snapshot(folder, tmp_path)
    assert code == 3, f"exit {code}: {stderr[-1500:]}"  # undecided: every check errored, none passed
    assert doc is not None
    assert {r["outcome"] for r in doc["results"]} == {"error"}
    assert all(f"namespaces{suffix}" in r["message"] for r in doc["results"]), doc["results"][0]["message"]


@pytest.mark.parametrize("name", ["namespaces.yaml", "cluster.yaml"])
def test_yaml_snapshot_nested_100k_deep_errors_naming_the_file(tmp_path: Path, name: str) -> None:
    folder = write_cluster(tmp_path / "snaps", "deep")
    deep = b"[" * 100_000 + b"]" * 100_000
    if name == "cluster.yaml":
        (folder / name).write_bytes(b"name: deep\nlabels: " + deep + b"\n")
    else:
        (folder / "namespaces.json").unlink()
        (folder / name).write_bytes(b"kind: List\nitems:\n- " + deep + b"\n")
    code, doc, stderr = _scan_snapshot(folder, tmp_path)
    assert code in (2, 3), f"exit {code} (negative: killed by a signal): {stderr[-500:]}"
    assert name in stderr or (doc is not None and all(name in r["message"] for r in doc["results"]))


@pytest.mark.parametrize(
    "content",
    [b"name: [unclosed", b"\xff\xfe\x00", b"name: a\nlabels: " + b"[" * 300 + b"]" * 300, b"- 1\n- 2\n"],
    ids=["truncated", "not UTF-8", "300 deep", "a list"],
)
def test_broken_cluster_yaml_is_one_line_and_exit_2(workspace: Path, tmp_path: Path, content: bytes) -> None:
    folder = write_cluster(tmp_path / "snaps", "broken")
    (folder / "cluster.yaml").write_bytes(content)
    _assert_rejected(_cli(["run", "--snapshot", str(folder)]), folder / "cluster.yaml", "cluster.yaml")
