"""Run a command as a child process and measure it: wall time, CPU time, peak RSS; and another process's CPU."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Measured", "process_cpu_seconds", "process_rss_mb", "run_measured"]

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Measured:
    """What one child cost: wall seconds, CPU seconds (user + system, its waited-for children included), peak RSS."""

    returncode: int
    wall_s: float
    cpu_s: float
    maxrss_mb: float
    log: Path


def run_measured(
    cmd: Sequence[str], log: Path, *, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> Measured:
    """Run ``cmd`` (stdout and stderr to ``log``) and measure it with ``wait4``.

    ``wait4`` gives the resource usage of exactly this child (and the
    grandchildren it waited for, e.g. xdist workers: their CPU is added,
    ``ru_maxrss`` is the largest single process), not of earlier children.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(
            list(cmd), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, env=env
        )
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Measured(
        returncode=proc.returncode,
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        maxrss_mb=usage.ru_maxrss / 1024.0,  # kilobytes on Linux
        log=log,
    )


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a running process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # after the ")" of comm: state is fields[0]; utime and stime are the 14th and 15th fields overall
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def process_rss_mb(pid: int) -> float:
    """Peak resident set size of a running process so far, in MiB (``VmHWM`` of ``/proc/PID/status``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return 0.0
