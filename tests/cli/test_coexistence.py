"""fleetcheck's plugin beside others: prefixed pytest spellings, short names only where free.

The stand-in plugin registers ``--profile`` exactly as pytest-profiling 1.8
does (its ``pytest_addoption``: group "Profiling", ``--profile`` a flag), so
the collision is the real one without installing it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.builders import namespace, write_snapshot

pytest_plugins = ["pytester"]

PROFILING_LIKE = """
def pytest_addoption(parser):
    group = parser.getgroup("Profiling")
    group.addoption("--profile", action="store_true", help="generate profiling information")
    group.addoption("--profile-svg", action="store_true", help="generate profiling graph (gprof2dot, dot -Tsvg)")


def pytest_configure(config):
    config.stash_profiling_seen = config.getoption("profile")


def pytest_terminal_summary(terminalreporter, config):
    terminalreporter.write_line(f"profiling-like: profile={config.getoption('profile')}")
"""


@pytest.fixture
def snapshot_dir(pytester: pytest.Pytester) -> str:
    folder = pytester.path / "snaps" / "prod-a"
    write_snapshot(folder, [namespace("kube-system"), namespace("team-a")], name="prod-a")
    return str(folder)


def _checks(pytester: pytest.Pytester) -> str:
    from fleetcheck.catalog import builtin_checks_dir

    return str(builtin_checks_dir() / "test_stale.py")


def test_both_plugins_load_and_each_owns_its_option(pytester: pytest.Pytester, snapshot_dir: str) -> None:
    pytester.makepyfile(profiling_like=PROFILING_LIKE)
    pytester.syspathinsert()
    result = pytester.runpytest(
        "-p",
        "profiling_like",
        _checks(pytester),
        "--fleetcheck-snapshot",
        snapshot_dir,
        "--fleetcheck-profile",
        "prod",
        "--fleetcheck-no-reports",
        "--profile",
        "-p",
        "no:randomly",
    )
    assert "conflicting option" not in result.stderr.str()
    result.stdout.fnmatch_lines(["*fleetcheck: 1 clusters, profile prod,*"])
    result.stdout.fnmatch_lines(["*profiling-like: profile=True*"])
    assert result.ret in (0, 1), result.stdout.str()[-2000:]


def test_short_spelling_works_where_no_plugin_took_it(pytester: pytest.Pytester, snapshot_dir: str) -> None:
    result = pytester.runpytest(
        _checks(pytester), "--snapshot", snapshot_dir, "--profile", "prod", "--no-reports", "-p", "no:randomly"
    )
    result.stdout.fnmatch_lines(["*fleetcheck: 1 clusters, profile prod,*"])


def test_short_profile_is_left_to_the_other_plugin(pytester: pytest.Pytester, snapshot_dir: str) -> None:
    """With the stand-in loaded, ``--profile prod`` is its flag: fleetcheck's default profile applies."""
    pytester.makepyfile(profiling_like=PROFILING_LIKE)
    pytester.syspathinsert()
    result = pytester.runpytest(
        "-p", "profiling_like", _checks(pytester), "--snapshot", snapshot_dir, "--fleetcheck-no-reports", "--profile"
    )
    result.stdout.fnmatch_lines(["*fleetcheck: 1 clusters, profile default,*"])
    result.stdout.fnmatch_lines(["*profiling-like: profile=True*"])


def test_run_translates_its_short_names() -> None:
    from pathlib import Path

    from fleetcheck.runner import pytest_args_for

    args = pytest_args_for(
        fleet=None,
        snapshots=["s"],
        profile="prod",
        clusters=["a*"],
        report_dir=Path("r"),
        passthrough=["--page-size=5", "--cluster-timeout", "9", "-k", "quota"],
    )
    assert "--fleetcheck-profile" in args and "--profile" not in args
    assert "--fleetcheck-page-size=5" in args and "--fleetcheck-cluster-timeout" in args
    assert args[-2:] == ["-k", "quota"] or "-k" in args


def test_the_real_pytest_profiling_and_fleetcheck_run_in_one_session(tmp_path: Path) -> None:
    """pytest-profiling 1.8.1 itself (installed beside the venv by scripts/setup.sh --test), autoloaded.

    Its ``--profile`` is the flag that used to crash every session with fleetcheck installed; here both
    plugins load from their entry points, pytest-profiling writes its profile, fleetcheck scans.
    """
    import os
    import subprocess
    import sys

    plugins = Path(__file__).resolve().parents[2] / ".ci" / "pyplugins"
    if not (plugins / "pytest_profiling.py").is_file():
        if os.environ.get("CI"):
            pytest.fail(f"pytest-profiling is not installed in {plugins}: run scripts/setup.sh --test")
        pytest.skip(f"pytest-profiling is not installed in {plugins} (scripts/setup.sh --test installs it)")
    snapshot = write_snapshot(tmp_path / "snaps" / "prod-a", [namespace("kube-system")], name="prod-a")
    from fleetcheck.catalog import builtin_checks_dir

    env = {**os.environ, "PYTHONPATH": str(plugins)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(builtin_checks_dir() / "test_stale.py"),
            "--profile",
            "--fleetcheck-snapshot",
            str(snapshot),
            "--fleetcheck-profile",
            "prod",
            "--fleetcheck-no-reports",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = done.stdout + done.stderr
    assert "conflicting option" not in output
    assert "pytest_profiling" in output or (tmp_path / "prof" / "combined.prof").is_file(), output[-2000:]
    assert (tmp_path / "prof" / "combined.prof").is_file(), output[-2000:]
    assert "fleetcheck: 1 clusters, profile prod," in output, output[-2000:]
    assert done.returncode in (0, 1), output[-2000:]
