"""The one set of exit codes: every command, the gate and the pytest plugin return these.

The numbers are public (CHECKS.md, ``fleetcheck --help``): CI pipelines and
CronJobs branch on them, so each has one name, defined here and nowhere
else. A run ended by a signal exits as a shell reports one, 128 plus the
signal's number (:func:`signal_exit_code`).
"""

from __future__ import annotations

import signal

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_CODES_HELP",
    "EXIT_CONFIG",
    "EXIT_GATE_FAILED",
    "EXIT_OK",
    "EXIT_SIGINT",
    "EXIT_SIGTERM",
    "EXIT_UNDECIDED",
    "signal_exit_code",
]

#: the gate passed (run), or the command did what it was asked
EXIT_OK = 0
#: the gate failed: a finding at or above --fail-on, a grade below --min-grade, a blocking diff
EXIT_GATE_FAILED = 1
#: usage or configuration error (kubectl and pytest use 1-4 differently; we document 2)
EXIT_CONFIG = 2
#: nothing could be decided: errors on more than --max-errors of the checks, or an incomplete snapshot
EXIT_UNDECIDED = 3


def signal_exit_code(signum: int) -> int:
    """The shell's convention for a process ended by a signal: 128 + its number."""
    return 128 + int(signum)


#: interrupted by SIGINT (Ctrl-C); the reports written are marked incomplete
EXIT_SIGINT = signal_exit_code(signal.SIGINT)
#: interrupted by SIGTERM (what Kubernetes sends a CronJob's pod); the reports are marked incomplete
EXIT_SIGTERM = signal_exit_code(signal.SIGTERM)
#: stdout closed early (``fleetcheck checks | head``): what a process killed by SIGPIPE reports
EXIT_BROKEN_PIPE = signal_exit_code(signal.SIGPIPE)

EXIT_CODES_HELP = f"""\
exit codes:
  {EXIT_OK}    ok: the gate passed (run), or the command did what it was asked
  {EXIT_GATE_FAILED}    the gate failed: a finding at or above --fail-on, a grade below --min-grade,
       a blocking diff, or (clusters --check-access) a kind the credentials cannot list
  {EXIT_CONFIG}    usage or configuration error (one line: the file, the field, the fix)
  {EXIT_UNDECIDED}    the scan could not decide (errors on more than --max-errors of the checks),
       or a snapshot is incomplete
  {EXIT_SIGINT}  interrupted by SIGINT (Ctrl-C); the reports written are marked incomplete
  {EXIT_SIGTERM}  interrupted by SIGTERM; the reports written are marked incomplete
"""
