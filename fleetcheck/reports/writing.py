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
   folder is fsynced.

A failure in 1-3 (``ENOSPC``, ``EFBIG``, ``EROFS``, a permission, ``DIR``
being a file) leaves the previous complete set untouched and raises
:class:`ReportWriteError`, which the CLI and the plugin print as one line
(exit 2). Step 4 is a few renames on one file system; should the kernel fail
one half-way, the files still name the run they belong to: every report
carries the run id (``results.json`` ``run_id``, a JUnit ``run_id`` property
on every suite, the scorecard's ``<meta name="fleetcheck-run-id">``, the
``fleetcheck_run_info{run_id=...}`` metric), and :func:`run_ids` reads them
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
from collections.abc import Iterator, Mapping
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


def write_report_set(files: Mapping[str, bytes], report_dir: Path, *, lock_timeout: float | None = None) -> None:
    """Put every ``name -> bytes`` of ``files`` into ``report_dir`` together (see the module docstring).

    The last name of ``files`` is moved into place last (``results.json``, the
    file readers look for first). Raises :class:`ReportWriteError` on any I/O
    failure, with the previous files left as they were.
    """
    report_dir = Path(report_dir)
    timeout = _lock_timeout() if lock_timeout is None else lock_timeout
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
        with _folder_lock(report_dir, timeout):
            _remove_stale_staging(report_dir)
            staging = Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=report_dir))
            try:
                for name, data in files.items():
                    _write_synced(staging / name, data)
                for name in files:
                    os.replace(staging / name, report_dir / name)
                _fsync_dir(report_dir)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    except OSError as exc:
        raise ReportWriteError(report_dir, _reason(exc)) from exc


_JSON_RUN_ID = re.compile(rb'"run_id":\s*"([^"]*)"')
_JUNIT_RUN_ID = re.compile(rb'<property name="run_id" value="([^"]*)"')
_HTML_RUN_ID = re.compile(rb'<meta name="fleetcheck-run-id" content="([^"]*)"')
_METRICS_RUN_ID = re.compile(rb'^fleetcheck_run_info\{run_id="([^"]*)"', re.MULTILINE)
_RUN_ID_PATTERNS = {
    "results.json": _JSON_RUN_ID,
    "junit.xml": _JUNIT_RUN_ID,
    "scorecard.html": _HTML_RUN_ID,
    "metrics.prom": _METRICS_RUN_ID,
}


def run_ids(report_dir: Path) -> dict[str, str | None]:
    """The run id each report file of ``report_dir`` names (None: missing file or no id), to spot a mixed set."""
    found: dict[str, str | None] = {}
    for name, pattern in _RUN_ID_PATTERNS.items():
        try:
            data = (Path(report_dir) / name).read_bytes()
        except OSError:
            found[name] = None
            continue
        match = pattern.search(data)
        found[name] = match.group(1).decode() if match else None
    return found
