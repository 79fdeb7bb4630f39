"""Putting report files on disk: whole or not at all, one run at a time per folder.

A scheduled scan rewrites ``reports/`` while dashboards, CI artifact
uploaders and ``fleetcheck report`` read it, and a full disk or a read-only
mount must never leave a truncated scorecard next to a new ``results.json``.
How the set is kept together (``reports/`` stays a plain folder of plain
files, as existing users read it):

1. every file is rendered in memory first (a rendering bug fails before the
   folder is touched);
2. an exclusive ``fcntl.flock`` on ``DIR/.fleetcheck.lock`` is taken, waiting
   at most :data:`LOCK_TIMEOUT_S` (``FLEETCHECK_REPORT_LOCK_TIMEOUT`` seconds
   overrides it), so two runs writing one folder never interleave: the
   second waits for the first, then writes its own whole set;
3. every file is written into a staging folder inside ``DIR`` (same file
   system, so the moves below are renames) and fsynced;
4. only when all are written, each is moved into place with
   :func:`os.replace` (atomic per file), ``results.json`` last, and the
   folder is fsynced; a report folder (``policyreports/``, one file per
   cluster) is replaced whole, the old one renamed aside first, and the
   files of formats this run does not write are removed, so no report of
   an older run stays beside this run's.

A failure in 1-3 (``ENOSPC``, ``EFBIG``, ``EROFS``, a permission, ``DIR``
being a file) leaves the previous complete set untouched and raises
:class:`ReportWriteError`, which the CLI and the plugin print as one line
(exit 2). Step 4 is a few renames on one file system; should the kernel fail
one half-way, the files still name the run they belong to: every report
carries the run id (``results.json`` ``run_id``, a JUnit ``run_id`` property
on every suite, the scorecard's ``<meta name="fleetcheck-run-id">``, the
``fleetcheck_run_info{run_id=...}`` metric, the SARIF run's ``run_id``
property, ``summary.md``'s ``<!-- fleetcheck-run-id -->`` comment, each
policy report's ``fleetcheck.io/run-id`` annotation), and :func:`run_ids` reads them
back, so a reader can always tell a mixed set from a whole one.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from fleetcheck.errors import FleetcheckError

__all__ = [
    "LOCK_FILE",
    "LOCK_TIMEOUT_S",
    "ReportWriteError",
    "atomic_write_bytes",
    "new_run_id",
    "run_ids",
    "write_report_set",
]

#: The lock file inside the report folder (hidden, so globbing ``*.json`` never sees it).
LOCK_FILE = ".fleetcheck.lock"
#: How long a run waits for another run writing the same folder before giving up.
LOCK_TIMEOUT_S = 300.0
_STAGING_PREFIX = ".fleetcheck-staging-"
#: Files per report folder that :func:`run_ids` reads (a folder of 100,000 clusters is not read whole to check ids).
MAX_LISTED = 10_000
_POLL_S = 0.05


class ReportWriteError(FleetcheckError):
    """The reports could not be written; the folder still holds the previous complete set."""

    def __init__(self, report_dir: Path, reason: str) -> None:
        self.report_dir = report_dir
        self.reason = " ".join(reason.split())
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """``fleetcheck: cannot write reports to DIR: reason``."""
        return f"fleetcheck: cannot write reports to {self.report_dir}: {self.reason}"


def new_run_id() -> str:
    """A fresh run id: UTC time (sortable, readable) and a random suffix (unique across concurrent runs)."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + uuid.uuid4().hex[:12]


def _reason(exc: OSError) -> str:
    text = exc.strerror or str(exc)
    return f"{text} ({exc.filename})" if exc.filename else text


def _lock_timeout() -> float:
    raw = os.environ.get("FLEETCHECK_REPORT_LOCK_TIMEOUT")
    if raw is None:
        return LOCK_TIMEOUT_S
    try:
        return max(0.0, float(raw))
    except ValueError:
        return LOCK_TIMEOUT_S


def _fsync_dir(folder: Path) -> None:
    """Make renames in ``folder`` durable (a crash after return keeps the new names)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _folder_lock(report_dir: Path, timeout: float) -> Iterator[None]:
    """Hold an exclusive ``flock`` on the folder's lock file, waiting at most ``timeout`` seconds."""
    fd = os.open(report_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ReportWriteError(
                        report_dir,
                        f"another fleetcheck run is writing there (it held {report_dir / LOCK_FILE} for {timeout:g} s; "
                        "wait for it, or give each run its own --report-dir)",
                    ) from None
                time.sleep(_POLL_S)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(path, 0o644)  # the report folder is meant to be published


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write one file atomically (temporary file beside it, fsync, rename); return ``path``.

    For a single report written on its own; a set of reports goes through
    :func:`write_report_set`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        _write_synced(Path(tmp), data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _remove_stale_staging(report_dir: Path) -> None:
    """Staging folders of runs that were killed mid-write (safe: we hold the lock)."""
    for stale in report_dir.glob(_STAGING_PREFIX + "*"):
        shutil.rmtree(stale, ignore_errors=True)


def _entries(names: Iterable[str]) -> list[str]:
    """The top-level entries of ``names`` in first-seen order: a file, or the folder a ``folder/file`` name is in."""
    seen: dict[str, None] = {}
    for name in names:
        seen.setdefault(name.split("/", 1)[0], None)
    return list(seen)


def _safe_name(name: str) -> str:
    """``name`` if it stays inside the report folder (renderers build names from cluster names)."""
    parts = name.split("/")
    if not name or name.startswith("/") or any(part in ("", ".", "..") for part in parts) or "\\" in name:
        raise ValueError(f"report file name {name!r} would leave the report folder")
    return name


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def write_report_set(
    files: Mapping[str, bytes],
    report_dir: Path,
    *,
    lock_timeout: float | None = None,
    remove: Iterable[str] = (),
) -> None:
    """Put every ``name -> bytes`` of ``files`` into ``report_dir`` together (see the module docstring).

    A name may be ``folder/file`` (``policyreports/prod.yaml``): such a
    folder is replaced whole (renamed aside, the new one renamed in), so a
    cluster that left the fleet leaves no report of an older run behind.
    ``remove`` names report files or folders of formats this run does not
    write: they are deleted under the same lock, so the folder never holds a
    report of another run next to this run's. The last entry of ``files``
    is moved into place last (``results.json``, the file readers look for
    first). Raises :class:`ReportWriteError` on any I/O failure, with the
    previous files left as they were.
    """
    report_dir = Path(report_dir)
    timeout = _lock_timeout() if lock_timeout is None else lock_timeout
    names = [_safe_name(name) for name in files]
    stale = [_safe_name(name) for name in remove if name not in files]
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
        with _folder_lock(report_dir, timeout):
            _remove_stale_staging(report_dir)
            staging = Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=report_dir))
            try:
                for name in names:
                    (staging / name).parent.mkdir(parents=True, exist_ok=True)
                    _write_synced(staging / name, files[name])
                for name in stale:
                    _remove(report_dir / name)
                for entry in _entries(names):
                    target = report_dir / entry
                    if (staging / entry).is_dir():
                        _fsync_dir(staging / entry)
                        if target.exists() or target.is_symlink():
                            os.replace(target, staging / f".previous-{entry}")
                        os.chmod(staging / entry, 0o755)
                    os.replace(staging / entry, target)
                _fsync_dir(report_dir)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    except OSError as exc:
        raise ReportWriteError(report_dir, _reason(exc)) from exc


_JSON_RUN_ID = re.compile(rb'"run_id":\s*"([^"]*)"')
_JUNIT_RUN_ID = re.compile(rb'<property name="run_id" value="([^"]*)"')
_HTML_RUN_ID = re.compile(rb'<meta name="fleetcheck-run-id" content="([^"]*)"')
_METRICS_RUN_ID = re.compile(rb'^fleetcheck_run_info\{run_id="([^"]*)"', re.MULTILINE)
_MARKDOWN_RUN_ID = re.compile(rb"<!-- fleetcheck-run-id: (\S+) -->")
_YAML_RUN_ID = re.compile(rb"fleetcheck\.io/run-id: '?([^'\s]+)'?")
_RUN_ID_PATTERNS = {
    "results.json": _JSON_RUN_ID,
    "junit.xml": _JUNIT_RUN_ID,
    "scorecard.html": _HTML_RUN_ID,
    "metrics.prom": _METRICS_RUN_ID,
    "fleetcheck.sarif": _JSON_RUN_ID,
    "summary.md": _MARKDOWN_RUN_ID,
}
#: Report folders whose every ``*.yaml`` names its run.
_RUN_ID_FOLDERS = {"policyreports": _YAML_RUN_ID, "openreports": _YAML_RUN_ID}


def _run_id_of(path: Path, pattern: re.Pattern[bytes]) -> str | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    match = pattern.search(data)
    return match.group(1).decode() if match else None


def run_ids(report_dir: Path, names: Iterable[str] | None = None) -> dict[str, str | None]:
    """The run id each report file of ``report_dir`` names (None: missing file or no id), to spot a mixed set.

    ``names`` limits the single files looked at (default: every kind this
    version writes); the files of the report folders present are always
    listed, as ``policyreports/<cluster>.yaml``.
    """
    found: dict[str, str | None] = {}
    wanted = set(_RUN_ID_PATTERNS) if names is None else set(names)
    for name, pattern in _RUN_ID_PATTERNS.items():
        if name in wanted:
            found[name] = _run_id_of(Path(report_dir) / name, pattern)
    for folder, pattern in _RUN_ID_FOLDERS.items():
        for path in sorted((Path(report_dir) / folder).glob("*.yaml"))[:MAX_LISTED]:
            found[f"{folder}/{path.name}"] = _run_id_of(path, pattern)
    return found
