"""Time budgets for check bodies, charged to the cluster each check judges.

A check reads cluster data, and cluster data is hostile input: a body that
loops (an exponential walk, a regex on a huge text) must cost its own case,
never the whole scan. Every check body therefore runs under a budget:

    budget = min(--check-timeout, what is left of the cluster's --cluster-timeout)

How a cluster's ``--cluster-timeout`` (S seconds) is spent, so that the two
meters add up rather than overlap:

- **API reads** are metered by the live state (:mod:`fleetcheck.state.live`):
  its clock starts with the cluster's first request; each request's read
  timeout is cut to what is left of S, and once S is spent every further
  read raises ``ClusterUnreachable`` ("the cluster's time budget of S s
  (--cluster-timeout) is spent"), so the remaining checks error. Reads run
  in the prefetch pool before the checks, in parallel with other clusters.
- **Check bodies** are metered here, in a :class:`TimeLedger` per session
  keyed by cluster name: the wall time of each body is added to its
  cluster's total. A state that reports the seconds its requests took
  (``request_seconds``, when the state has it) is counted too, so
  ``spent = request seconds + check-body seconds``; without it, the API
  part is the live state's own clock, which bounds reads separately.
- The setup of a case (waiting for the prefetch) is API time, not check time.

Once the spent time reaches S, every remaining check of that cluster errors
with "the cluster's time budget of S s (--cluster-timeout) is spent"; a body
that runs past its budget errors with "FC-X-001 ran past its budget of 30 s
(--check-timeout)". Other clusters are not charged.

The timer is ``signal.setitimer(ITIMER_REAL)`` with a ``SIGALRM`` handler
that raises :class:`BudgetExceeded` in the main thread, where pytest and
pytest-xdist workers run tests. Signals reach only the main thread, so off
the main thread (a check run from a thread pool, an embedding application)
no timer is set and the body runs unbounded: the ledger still charges it.
The previous handler and any pending timer are restored afterwards. A
handler runs between Python bytecodes, so a single long C call (one huge
regex match) is interrupted only when it returns; the parse budgets of
:func:`fleetcheck.registry.yamlfile.load_cluster_text` bound those. A body
that catches the exception and carries on is interrupted again every
:data:`REPEAT_S` seconds, and errors as over budget however it ends.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType

import pytest

from fleetcheck.errors import BudgetExceeded

__all__ = [
    "DEFAULT_CHECK_TIMEOUT",
    "REPEAT_S",
    "BudgetExceeded",
    "TimeLedger",
    "check_budget",
    "ledger_of",
    "time_limit",
]

#: ``--check-timeout`` when not given: a check body that needs more is a bug or an attack.
DEFAULT_CHECK_TIMEOUT = 30.0
#: After the budget fires, it fires again this often until the body has ended.
REPEAT_S = 0.5


@dataclass
class TimeLedger:
    """Seconds of check bodies spent per cluster in one session (thread-safe)."""

    _spent: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def spent(self, cluster: str) -> float:
        """Check-body seconds charged to ``cluster`` so far."""
        with self._lock:
            return self._spent.get(cluster, 0.0)

    def charge(self, cluster: str, seconds: float) -> None:
        """Add ``seconds`` of a check body to ``cluster``."""
        with self._lock:
            self._spent[cluster] = self._spent.get(cluster, 0.0) + max(0.0, seconds)


_LEDGER_KEY = pytest.StashKey[TimeLedger]()


def ledger_of(config: pytest.Config) -> TimeLedger:
    """The session's ledger (one per pytest config, so nested and successive runs never share one)."""
    ledger = config.stash.get(_LEDGER_KEY, None)
    if ledger is None:
        ledger = config.stash[_LEDGER_KEY] = TimeLedger()
    return ledger


def _can_time() -> bool:
    return threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")


class _StillOverBudget(BaseException):
    """Raised by every alarm after the first: a body whose ``except Exception`` swallowed the budget still ends."""


@contextmanager
def time_limit(seconds: float, message: str) -> Iterator[None]:
    """Run the block for at most ``seconds``; past it :class:`BudgetExceeded` (``message``) is raised in it.

    In the main thread only (see the module docs); elsewhere the block runs
    unbounded. The first alarm raises :class:`BudgetExceeded`; if the block
    swallows it, later alarms raise a ``BaseException`` that ``except
    Exception`` does not catch, and the block's end is reported as
    :class:`BudgetExceeded` however it came. The previous ``SIGALRM``
    handler and timer are restored.
    """
    if seconds <= 0:
        raise BudgetExceeded(message)
    if not _can_time():
        yield
        return
    fired, stopping = 0, False

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        nonlocal fired
        if stopping:
            return
        fired += 1
        if fired == 1:
            raise BudgetExceeded(message)
        raise _StillOverBudget(message)

    started = time.monotonic()
    previous_delay, previous_interval = 0.0, 0.0
    previous_handler = signal.signal(signal.SIGALRM, on_alarm)
    try:
        try:
            previous_delay, previous_interval = signal.setitimer(signal.ITIMER_REAL, seconds, REPEAT_S)
            yield
        finally:
            stopping = True
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous_handler)
            if previous_delay > 0:  # someone else's timer was pending: give it what is left (at least a tick)
                left = max(previous_delay - (time.monotonic() - started), 0.001)
                signal.setitimer(signal.ITIMER_REAL, left, previous_interval)
    except BaseException as exc:
        if fired:  # our alarm, or the body caught it and then failed some other way
            raise BudgetExceeded(message) from None if isinstance(exc, BudgetExceeded | _StillOverBudget) else exc
        raise
    if fired:  # the body swallowed the alarm and returned
        raise BudgetExceeded(message)


@contextmanager
def check_budget(
    ledger: TimeLedger,
    cluster: str,
    code: str,
    check_timeout: float | None,
    cluster_timeout: float | None,
    api_seconds: float = 0.0,
) -> Iterator[None]:
    """Run one check body of ``cluster`` under min(check budget, what is left of the cluster's), charged to it.

    ``api_seconds``: what the cluster's API reads took, when its state
    reports it (see the module docs). None for a timeout means unbounded.
    """
    limits: list[tuple[float, str]] = []
    if check_timeout is not None and check_timeout > 0:
        limits.append((check_timeout, f"{code} ran past its budget of {check_timeout:g} s (--check-timeout)"))
    if cluster_timeout is not None:
        spent_message = f"the cluster's time budget of {cluster_timeout:g} s (--cluster-timeout) is spent"
        left = cluster_timeout - ledger.spent(cluster) - api_seconds
        if left <= 0:
            raise BudgetExceeded(spent_message)
        limits.append(
            (
                left,
                f"{code} ran past what was left ({left:.3g} s) of the cluster's time budget of "
                f"{cluster_timeout:g} s (--cluster-timeout)",
            )
        )
    if not limits:
        yield
        return
    seconds, message = min(limits)
    started = time.monotonic()
    try:
        with time_limit(seconds, message):
            yield
    finally:
        ledger.charge(cluster, time.monotonic() - started)
