"""Exec credential plugins and token files are under fleetcheck's control: bounded, isolated, redacted.

Real plugins (small shell scripts written into ``tmp_path``), a real
kubeconfig and the replay server over HTTPS. A fleet of three contexts has
one broken in a different way each time (a plugin that hangs, fails, prints
garbage or does not exist, a user that does not exist, a tokenFile that is
missing or unreadable): that one cluster errors with the real cause within
its exec budget, the other two get their normal verdicts, the reports are
written, and no token reaches the terminal or a report.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetcheck.errors import ConfigError
from fleetcheck.redact import REDACTED, redact
from fleetcheck.registry.kubeconfig import merge_kubeconfigs
from fleetcheck.replay import ReplayServer
from fleetcheck.runstate import BrokenClusterState, RunOptions, RunState
from fleetcheck.state.exec_plugin import ExecPluginError, run_exec_plugin
from fleetcheck.state.live import LiveClusterState, LiveOptions
from fleetcheck.state.snapshot import load_snapshot
from fleetcheck.state.user_credentials import prepare_context
from tests.integration.clusters import write_cluster
from tests.security.kit import check_module, fleet_file, records, scan

V1 = "client.authentication.k8s.io/v1"
TOKEN = "fc-exec-replay-token-3b8e1f0a9c7d4e2b6a51"
#: what the failing plugin says on stderr, shaped the way plugins print credentials in their errors
STDERR_SECRET = "fc-stderr-secret-5e9a2c71d0b3f4"
REPORTS = ("results.json", "junit.xml", "scorecard.html", "metrics.prom")
CODES = ("FC-QUOTA-001", "FC-QUOTA-002", "FC-QUOTA-003", "FC-TLS-001")
EXEC_TIMEOUT = 2.0
#: the whole three-cluster scan, hanging plugin included, finishes well within this
SCAN_BOUND = 30.0


def write_plugin(path: Path, body: str) -> Path:
    """An executable ``/bin/sh`` script at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    path.chmod(0o755)
    return path


def credential_script(token: str, api_version: str = V1) -> str:
    """A plugin body printing a valid ExecCredential carrying ``token``."""
    doc = json.dumps({"apiVersion": api_version, "kind": "ExecCredential", "status": {"token": token}})
    return f"cat <<'EOF'\n{doc}\nEOF\n"


def exec_user(command: str | Path, **extra: Any) -> dict[str, Any]:
    """A kubeconfig ``user`` running ``command`` as an exec plugin."""
    return {"exec": {"apiVersion": V1, "command": str(command), "interactiveMode": "Never", **extra}}


def set_user(kubeconfig: Path, context: str, user: dict[str, Any] | None, *, user_name: str | None = None) -> None:
    """Give ``context`` a new user entry (or point it at ``user_name``, which may not exist)."""
    doc = yaml.safe_load(kubeconfig.read_text(encoding="utf-8"))
    for entry in doc["contexts"]:
        if entry["name"] == context and user_name is not None:
            entry["context"]["user"] = user_name
    for entry in doc["users"]:
        if entry["name"] == context and user is not None:
            entry["user"] = user
    kubeconfig.write_text(yaml.safe_dump(doc), encoding="utf-8")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purpose: it runs nothing and holds no pipe
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ", 1)[1].startswith("Z"))


# -- the broken cluster of a three-cluster fleet -------------------------------------------------------------------

Breaker = Callable[[Path, Path], None]


def _hang(tmp: Path, kubeconfig: Path) -> None:
    # the shell waits on a child: the timeout must kill the child too (the pid file proves it)
    plugin = write_plugin(tmp / "plugins" / "hang.sh", f"sleep 1000 &\necho $! > {tmp}/hang.pid\nwait\n")
    set_user(kubeconfig, "broken", exec_user(plugin))


def _fail(tmp: Path, kubeconfig: Path) -> None:
    body = (
        f"echo 'error: getting credentials: token={STDERR_SECRET} was rejected, password: {STDERR_SECRET}' >&2\n"
        f"echo 'second line with {TOKEN}' >&2\nexit 1\n"
    )
    set_user(kubeconfig, "broken", exec_user(write_plugin(tmp / "plugins" / "fail.sh", body)))


def _garbage(tmp: Path, kubeconfig: Path) -> None:
    plugin = write_plugin(tmp / "plugins" / "garbage.sh", "echo '<html><body>Login required</body></html>'\n")
    set_user(kubeconfig, "broken", exec_user(plugin))


def _missing_command(tmp: Path, kubeconfig: Path) -> None:
    set_user(kubeconfig, "broken", exec_user("fc-no-such-credential-plugin", installHint="install it with brew"))


def _missing_user(tmp: Path, kubeconfig: Path) -> None:
    set_user(kubeconfig, "broken", None, user_name="nobody-by-this-name")


def _missing_token_file(tmp: Path, kubeconfig: Path) -> None:
    set_user(kubeconfig, "broken", {"tokenFile": str(tmp / "no-such-token")})


def _unreadable_token_file(tmp: Path, kubeconfig: Path) -> None:
    (tmp / "token-dir").mkdir()  # tests run as root too, where a mode-000 file is still readable
    set_user(kubeconfig, "broken", {"tokenFile": str(tmp / "token-dir")})


BROKEN: dict[str, tuple[Breaker, tuple[str, ...]]] = {
    "hanging plugin": (_hang, ("exec plugin", "hang.sh timed out after 2 s", "--exec-timeout")),
    "failing plugin": (_fail, ("fail.sh exited 1: error: getting credentials: token=[REDACTED]",)),
    "garbage output": (_garbage, ("garbage.sh printed", "not JSON, not an ExecCredential")),
    "missing command": (
        _missing_command,
        ("fc-no-such-credential-plugin was not found on PATH", "install it with brew"),
    ),
    "missing user": (_missing_user, ("user nobody-by-this-name not found in kubeconfig",)),
    "missing tokenFile": (
        _missing_token_file,
        ("no-such-token cannot be read (No such file or directory)", "tokenFile"),
    ),
    "unreadable tokenFile": (_unreadable_token_file, ("token-dir cannot be read (Is a directory)",)),
}


@pytest.fixture(scope="module")
def fleet_snapshots(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("exec-fleet")
    return [write_cluster(root, name, bad_namespaces=1) for name in ("via-exec", "via-token", "broken")]


@pytest.mark.parametrize("case", list(BROKEN), ids=list(BROKEN))
def test_a_broken_credential_costs_only_its_own_cluster(
    case: str, fleet_snapshots: list[Path], tmp_path: Path, pytester: pytest.Pytester
) -> None:
    breaker, expected = BROKEN[case]
    reports = tmp_path / "reports"
    with ReplayServer([load_snapshot(d) for d in fleet_snapshots], token=TOKEN) as server:
        kubeconfig = server.write_kubeconfig(tmp_path / "kube" / "config")
        good = write_plugin(tmp_path / "plugins" / "good.sh", credential_script(TOKEN))
        set_user(kubeconfig, "via-exec", exec_user(good))
        breaker(tmp_path, kubeconfig)
        fleet = fleet_file(
            tmp_path / "fleet.yaml",
            [{"name": n, "context": n, "kubeconfig": str(kubeconfig)} for n in ("via-exec", "via-token", "broken")],
        )
        started = time.monotonic()
        result = scan(
            pytester,
            [check_module("quota"), check_module("transport")],
            reports,
            "--fleet",
            str(fleet),
            "--exec-timeout",
            str(EXEC_TIMEOUT),
            "-o",
            "log_cli=true",
            "--log-level=DEBUG",
        )
        elapsed = time.monotonic() - started
        served = {r.cluster for r in server.request_log if r.status == 200}
    output = "\n".join(result.outlines + result.errlines)
    assert "INTERNALERROR" not in output, output[-3000:]
    assert elapsed < SCAN_BOUND, f"the scan took {elapsed:.1f} s"
    verdicts = records(reports)

    # the broken cluster: every check errors, naming the real cause; never a 401 it never asked for
    for code in CODES:
        record = verdicts[("broken", code)]
        assert record["outcome"] == "error", (code, record)
        for fragment in expected:
            assert fragment in record["message"], (code, fragment, record["message"])
        assert "401" not in record["message"] and "expired token" not in record["message"]
    assert "broken" not in served, "the broken cluster was read without its credentials"

    # the other two are scanned normally, the exec one with the plugin's token
    for name in ("via-exec", "via-token"):
        assert verdicts[(name, "FC-QUOTA-001")]["outcome"] == "fail", verdicts[(name, "FC-QUOTA-001")]
        assert verdicts[(name, "FC-TLS-001")]["outcome"] == "pass"
    assert served == {"via-exec", "via-token"}

    # no credential in the terminal (DEBUG live log included) or any report
    texts = {"terminal": output} | {name: (reports / name).read_text(errors="replace") for name in REPORTS}
    leaks = [
        f"{secret} in {where}" for secret in (TOKEN, STDERR_SECRET) for where, text in texts.items() if secret in text
    ]
    assert not leaks, leaks

    if case == "hanging plugin":
        assert elapsed >= EXEC_TIMEOUT, "the plugin cannot have been waited for"
        child = int((tmp_path / "hang.pid").read_text())
        assert not _pid_alive(child), "the hanging plugin's child outlived its timeout"


def test_a_hanging_plugin_never_blocks_another_cluster_from_opening(tmp_path: Path) -> None:
    folders = [write_cluster(tmp_path / "snaps", name) for name in ("slow", "fast")]
    with ReplayServer([load_snapshot(d) for d in folders], token=TOKEN) as server:
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
        started_file = tmp_path / "started"
        plugin = write_plugin(tmp_path / "hang.sh", f"touch {started_file}\nexec sleep 1000\n")
        set_user(kubeconfig, "slow", exec_user(plugin))
        fleet = fleet_file(
            tmp_path / "fleet.yaml", [{"name": n, "kubeconfig": str(kubeconfig)} for n in ("slow", "fast")]
        )
        run = RunState(RunOptions(fleet_file=str(fleet), exec_timeout=3.0))
        opened: dict[str, object] = {}
        slow = threading.Thread(target=lambda: opened.setdefault("slow", run.state("slow")), daemon=True)
        slow.start()
        deadline = time.monotonic() + 10
        while not started_file.exists():  # the plugin runs, holding whatever lock opening holds
            assert time.monotonic() < deadline, "the plugin never started"
            time.sleep(0.01)
        begun = time.monotonic()
        fast = run.view("fast").state
        assert len(fast.fetch("namespaces").items) > 0
        assert time.monotonic() - begun < 2.0, "opening one cluster waited for another cluster's plugin"
        assert slow.is_alive(), "the plugin should still be running"
        slow.join(timeout=10)
        run.close()
    state = opened["slow"]
    assert isinstance(state, BrokenClusterState)
    assert "timed out after 3 s" in state.reason


# -- relative and PATH commands, as kubectl resolves them ----------------------------------------------------------


@pytest.mark.parametrize("command", ["./bin/get-token", "bin/get-token"])
def test_relative_command_resolves_against_the_kubeconfig_folder(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_cluster(tmp_path / "snaps", "prod-a")
    with ReplayServer([load_snapshot(folder)], token=TOKEN) as server:
        kubeconfig = server.write_kubeconfig(tmp_path / "A" / "config")
        write_plugin(tmp_path / "A" / "bin" / "get-token", credential_script(TOKEN))
        # a decoy where a cwd-relative lookup would find it: it hands out a token the server refuses
        write_plugin(tmp_path / "elsewhere" / "bin" / "get-token", credential_script("fc-wrong-token-decoy"))
        set_user(kubeconfig, "prod-a", exec_user(command))
        monkeypatch.chdir(tmp_path / "elsewhere")
        merged = merge_kubeconfigs([kubeconfig])
        state = LiveClusterState("prod-a", merged, "prod-a", LiveOptions(exec_timeout=EXEC_TIMEOUT))
        try:
            assert len(state.fetch("namespaces").items) == 7
        finally:
            state.close()


def test_bare_command_is_looked_up_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = write_cluster(tmp_path / "snaps", "prod-a")
    with ReplayServer([load_snapshot(folder)], token=TOKEN) as server:
        kubeconfig = server.write_kubeconfig(tmp_path / "A" / "config")
        write_plugin(tmp_path / "path-bin" / "fc-get-token", credential_script(TOKEN))
        # the same name next to the kubeconfig must not be used: a bare name is never file-relative
        write_plugin(tmp_path / "A" / "fc-get-token", credential_script("fc-wrong-token-decoy"))
        set_user(kubeconfig, "prod-a", exec_user("fc-get-token"))
        monkeypatch.setenv("PATH", f"{tmp_path / 'path-bin'}{os.pathsep}{os.environ['PATH']}")
        state = LiveClusterState("prod-a", merge_kubeconfigs([kubeconfig]), "prod-a")
        try:
            assert len(state.fetch("namespaces").items) == 7
        finally:
            state.close()


# -- the plugin's side of the protocol -----------------------------------------------------------------------------


def _spec(command: Path, **extra: Any) -> dict[str, Any]:
    return {"apiVersion": V1, "command": str(command), **extra}


def test_plugin_gets_exec_info_entry_env_and_no_terminal(tmp_path: Path) -> None:
    seen = tmp_path / "seen"
    body = (
        f'echo "$KUBERNETES_EXEC_INFO" > {seen}.info\necho "$FC_REGION" > {seen}.env\n'
        f"if [ -t 0 ]; then echo tty > {seen}.stdin; elif read line; then echo data > {seen}.stdin; "
        f"else echo eof > {seen}.stdin; fi\n" + credential_script("fc-token-from-the-plugin-1")
    )
    plugin = write_plugin(tmp_path / "p.sh", body)
    cluster = {"server": "https://10.0.0.1:6443", "certificate-authority-data": "Q0E=", "config": {"region": "x"}}
    spec = _spec(plugin, env=[{"name": "FC_REGION", "value": "eu-west-1"}], provideClusterInfo=True)
    credential = run_exec_plugin(spec, timeout=EXEC_TIMEOUT, cluster=cluster)
    assert credential.token == "fc-token-from-the-plugin-1"
    info = json.loads(Path(f"{seen}.info").read_text())
    assert info["kind"] == "ExecCredential" and info["apiVersion"] == V1
    assert info["spec"]["interactive"] is False
    assert info["spec"]["cluster"] == cluster
    assert Path(f"{seen}.env").read_text().strip() == "eu-west-1"
    assert Path(f"{seen}.stdin").read_text().strip() == "eof"

    run_exec_plugin(_spec(plugin), timeout=EXEC_TIMEOUT, cluster=cluster)  # provideClusterInfo unset: no cluster
    assert "cluster" not in json.loads(Path(f"{seen}.info").read_text())["spec"]


def test_interactive_mode_always_is_refused_without_running_the_plugin(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    plugin = write_plugin(tmp_path / "p.sh", f"touch {marker}\n" + credential_script("fc-never-issued-token"))
    with pytest.raises(ExecPluginError, match="interactiveMode Always, which needs a terminal"):
        run_exec_plugin(_spec(plugin, interactiveMode="Always"), timeout=EXEC_TIMEOUT, cluster=None)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("body", "spec_extra", "message"),
    [
        (credential_script("fc-token-v1beta1-xx", "client.authentication.k8s.io/v1beta1"), {}, "apiVersion"),
        ('echo \'{"kind": "ExecCredential", "apiVersion": "' + V1 + '", "status": {}}\'\n', {}, "neither"),
        ("echo '[1, 2]'\n", {}, "not an ExecCredential"),
        ("exit 0\n", {}, "printed nothing"),
        ("kill -9 $$\n", {}, "was killed by signal 9"),
        ("head -c 2000000 /dev/zero | tr '\\0' a\n", {}, "more than 1024 KiB"),
        ("exit 3\n", {}, "exited 3 (nothing on stderr)"),
        (credential_script("fc-x-token-value"), {"apiVersion": "client.authentication.k8s.io/v1alpha1"}, "supported"),
        (credential_script("fc-x-token-value"), {"args": "--not-a-list"}, "'args' that is not a list"),
    ],
    ids=["version mismatch", "no credential", "not an object", "empty", "signal", "huge", "exit 3", "v1alpha1", "args"],
)
def test_bad_plugin_answers_are_named(tmp_path: Path, body: str, spec_extra: dict[str, Any], message: str) -> None:
    plugin = write_plugin(tmp_path / "p.sh", body)
    with pytest.raises(ExecPluginError, match=re.escape(message)):
        run_exec_plugin({**_spec(plugin), **spec_extra}, timeout=10, cluster=None)


def test_plugin_stderr_never_reaches_a_logger(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    plugin = write_plugin(tmp_path / "p.sh", "echo 'fc-stderr-line-for-no-logger' >&2\nexit 1\n")
    with caplog.at_level(logging.DEBUG), pytest.raises(ExecPluginError, match="fc-stderr-line-for-no-logger"):
        run_exec_plugin(_spec(plugin), timeout=EXEC_TIMEOUT, cluster=None)
    assert "fc-stderr-line-for-no-logger" not in caplog.text


def test_client_certificate_from_a_plugin_stays_in_memory(tmp_path: Path) -> None:
    from tests.security.test_secrets import _client_key_and_cert

    key_pem, cert_pem = _client_key_and_cert()
    doc = {
        "apiVersion": V1,
        "kind": "ExecCredential",
        "status": {"clientCertificateData": cert_pem.decode(), "clientKeyData": key_pem.decode()},
    }
    plugin = write_plugin(tmp_path / "p.sh", f"cat <<'EOF'\n{json.dumps(doc)}\nEOF\n")
    folder = write_cluster(tmp_path / "snaps", "prod-a")
    with ReplayServer([load_snapshot(folder)], token=TOKEN) as server:
        kubeconfig = server.write_kubeconfig(tmp_path / "config")
        set_user(kubeconfig, "prod-a", exec_user(plugin))
        state = LiveClusterState("prod-a", merge_kubeconfigs([kubeconfig]), "prod-a")
        configuration = state._api.configuration
        assert configuration.key_file.startswith("/proc/self/fd/")
        assert Path(configuration.key_file).read_bytes().endswith(key_pem)
        state.close()
    key_line = max(key_pem.decode().splitlines(), key=len)
    assert REDACTED in redact(f"echoed {key_line}")


# -- every secret the run loads is registered for redaction ---------------------------------------------------------


def test_every_loaded_secret_is_registered(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("fc-token-file-contents-71c2\n")
    plugin = write_plugin(tmp_path / "p.sh", credential_script("fc-exec-issued-token-9d3e"))
    users = {
        "inline": {"token": "fc-inline-kubeconfig-token-4a1b"},
        "file": {"tokenFile": str(token_file)},
        "exec": exec_user(plugin),
        "basic": {"username": "admin", "password": "fc-basic-password-6f0e"},
    }
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": n, "user": u} for n, u in users.items()],
        "contexts": [{"name": n, "context": {"cluster": "c", "user": n}} for n in users],
    }
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(doc))
    merged = merge_kubeconfigs([path])
    for name in users:
        prepare_context(merged, name, exec_timeout=EXEC_TIMEOUT).close()
    basic = base64.b64encode(b"admin:fc-basic-password-6f0e").decode()
    for secret in (
        "fc-inline-kubeconfig-token-4a1b",
        "fc-token-file-contents-71c2",
        "fc-exec-issued-token-9d3e",
        "fc-basic-password-6f0e",
        basic,
    ):
        assert redact(f"the server said {secret} is bad") == f"the server said {REDACTED} is bad", secret
    # the token file's contents reach the client inline, stripped; the file is not read again by the client
    prepared = prepare_context(merged, "file", exec_timeout=EXEC_TIMEOUT)
    user = next(u["user"] for u in prepared.config["users"] if u["name"] == "file")
    assert user == {"token": "fc-token-file-contents-71c2"}
    # and the merged (cached) document is not changed by preparing a context
    assert "tokenFile" in next(u["user"] for u in merged.config["users"] if u["name"] == "file")


def test_empty_token_file_is_a_one_line_error(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("\n")
    doc = {
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": "u", "user": {"tokenFile": str(token_file)}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
    }
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError) as caught:
        prepare_context(merge_kubeconfigs([path]), "x", exec_timeout=EXEC_TIMEOUT)
    line = caught.value.one_line()
    assert line.startswith(f"{path}: users[u].user.tokenFile: tokenFile {token_file} is empty") and "\n" not in line


def test_a_plugin_path_that_cannot_be_run_is_named(tmp_path: Path) -> None:
    with pytest.raises(ExecPluginError, match=r"bin/absent cannot be started: No such file or directory"):
        run_exec_plugin(_spec(tmp_path / "bin" / "absent"), timeout=EXEC_TIMEOUT, cluster=None)
    not_executable = tmp_path / "plain.sh"
    not_executable.write_text("#!/bin/sh\nexit 0\n")
    with pytest.raises(ExecPluginError, match=r"plain.sh cannot be started: Permission denied"):
        run_exec_plugin(_spec(not_executable), timeout=EXEC_TIMEOUT, cluster=None)
