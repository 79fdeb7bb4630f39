"""fleetcheck's command-line options: one table, spelt ``--fleetcheck-NAME`` under pytest, ``--NAME`` for short.

``fleetcheck run`` takes the short names and translates them
(:mod:`fleetcheck.runner`); under plain pytest the short spelling is added
only where no other installed plugin took it (``--profile`` is
pytest-profiling's). The plugin's ``pytest_addoption`` and
``pytest_load_initial_conftests`` hooks call :func:`add_options` and
:func:`add_short_spellings`; :func:`run_options` reads them back as the
run's :class:`~fleetcheck.runstate.RunOptions`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from fleetcheck.budget import DEFAULT_CHECK_TIMEOUT
from fleetcheck.errors import ConfigError

if TYPE_CHECKING:  # the run state is imported when a scan reads its options, not when pytest starts
    from fleetcheck.runstate import RunOptions

__all__ = ["OPTION_PREFIX", "add_options", "add_short_spellings", "run_options"]


def _report_formats(value: str) -> tuple[str, ...]:
    """``--report-formats`` parsed (imported only when the option is given); a bad name is a usage error."""
    import argparse

    from fleetcheck.reports import parse_report_formats

    try:
        return parse_report_formats(value)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(exc.one_line()) from None


def _megabytes_arg(value: str) -> float:
    """``--prefetch-mb``: a number of megabytes, 0 or more (a bad value is a usage error naming the fix)."""
    import argparse
    import math

    try:
        megabytes = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of megabytes: write e.g. 256") from None
    if not math.isfinite(megabytes) or megabytes < 0:
        raise argparse.ArgumentTypeError(f"{value!r}: write 0 (no byte bound) or a positive number, e.g. 256")
    return megabytes


def _megabytes(megabytes: float) -> int | None:
    """Bytes for ``megabytes`` (MiB); None for 0, which means "no byte bound"."""
    return int(megabytes * 1024 * 1024) or None


#: the prefix of every pytest spelling of fleetcheck's options (``--profile`` is also pytest-profiling's)
OPTION_PREFIX = "--fleetcheck-"
_LEGACY: list[tuple[str, dict[str, Any]]] = []


class _PrefixedGroup:
    """Registers ``--X`` as ``--fleetcheck-X`` (same ``dest``), and remembers ``--X`` as a legacy spelling.

    ``fleetcheck run`` keeps the short names (it translates them); under
    plain pytest the short spelling is added later, only where no other
    plugin took it (:func:`add_short_spellings`).
    """

    def __init__(self, group: pytest.OptionGroup) -> None:
        self._group = group

    def addoption(self, name: str, **attrs: Any) -> None:
        """Add the prefixed option; keep the short one for later."""
        short = name.removeprefix("--")
        # its own dest too: pytest-profiling's ``--profile`` stores into ``profile``
        attrs.setdefault("dest", "fleetcheck_" + short.replace("-", "_"))
        self._group.addoption(OPTION_PREFIX + short, **attrs)
        _LEGACY.append((name, attrs))


def _taken_names(parser: pytest.Parser) -> set[str] | None:
    """Every option string registered so far, or None when pytest's parser cannot be read."""
    try:
        groups = [parser._anonymous, *parser._groups]  # no public listing of another plugin's options
        return {opt_name for group in groups for option in group.options for opt_name in option.names()}
    except AttributeError:
        return None


def add_short_spellings(parser: pytest.Parser) -> None:
    """Add the short spellings (``--profile``, ``--snapshot`` ...) that no other installed plugin registered.

    Entry-point and ``-p`` plugins have registered their options by now, so a
    short name another plugin owns is left to it (pytest-profiling keeps
    ``--profile``; use ``--fleetcheck-profile``) instead of crashing pytest.
    """
    taken = _taken_names(parser)
    if taken is None:
        return
    group = parser.getgroup("fleetcheck")
    for name, attrs in _LEGACY:
        if name not in taken:
            help_text = f"short for {OPTION_PREFIX}{name.removeprefix('--')}"
            group.addoption(name, **{**attrs, "help": help_text})
            taken.add(name)


def add_options(parser: pytest.Parser) -> None:
    """Fleetcheck's options, spelt ``--fleetcheck-NAME`` under pytest (``fleetcheck run`` takes ``--NAME``)."""
    _LEGACY.clear()
    group = _PrefixedGroup(parser.getgroup("fleetcheck", "fleet conformance checks"))
    group.addoption("--fleet", metavar="FILE", help="fleet file (default: every context of $KUBECONFIG)")
    group.addoption(
        "--snapshot", action="append", default=[], metavar="DIR", help="scan snapshot folders as the fleet (repeatable)"
    )
    group.addoption("--profile", metavar="NAME|FILE", help="profile for every cluster (default: the fleet's)")
    group.addoption(
        "--cluster",
        action="append",
        default=[],
        metavar="GLOB",
        help="only give verdicts for matching clusters (repeatable); fleet checks still compare all",
    )
    group.addoption("--report-dir", default="reports", metavar="DIR", help="where reports go (default: reports)")
    group.addoption("--no-reports", action="store_true", help="write no report files")
    group.addoption(
        "--report-formats",
        type=_report_formats,
        default=None,
        metavar="LIST",
        help="comma-separated: json,junit,html,metrics,sarif,policyreport,markdown (default: all; json always)",
    )
    group.addoption(
        "--cluster-timeout",
        type=float,
        default=120.0,
        metavar="S",
        help="time budget for one cluster's API reads and check bodies; past it the cluster's remaining checks error",
    )
    group.addoption(
        "--check-timeout",
        type=float,
        default=DEFAULT_CHECK_TIMEOUT,
        metavar="S",
        help=f"time budget for one check body (default {DEFAULT_CHECK_TIMEOUT:g}; 0: none); past it the check errors",
    )
    group.addoption("--pushgateway", metavar="URL", help="push metrics.prom to this Prometheus Pushgateway")
    group.addoption("--page-size", type=int, default=500, metavar="N", help="objects per list page (default 500)")
    group.addoption("--shard", metavar="K/N", help="give verdicts for the K-th of N slices of the fleet")
    group.addoption(
        "--facts",
        metavar="DIR",
        help="with --shard: publish this shard's clusters' facts into DIR and read the other shards' from it",
    )
    group.addoption(
        "--facts-wait",
        type=float,
        default=600.0,
        metavar="S",
        help="seconds to wait for another shard's or worker's facts (default 600)",
    )
    group.addoption("--read-timeout", type=float, default=30.0, metavar="S", help="per-request read timeout")
    group.addoption("--connect-timeout", type=float, default=5.0, metavar="S", help="per-request connect timeout")
    group.addoption(
        "--exec-timeout",
        type=float,
        default=30.0,
        metavar="S",
        help="seconds a kubeconfig exec credential plugin may take (default 30); past it that cluster's checks error",
    )
    group.addoption(
        "--fetch-workers",
        type=int,
        default=16,
        metavar="N",
        help="clusters listed ahead of the one being judged (default 16), within --prefetch-mb",
    )
    group.addoption(
        "--prefetch-mb",
        type=_megabytes_arg,
        default=256.0,
        metavar="MB",
        help="API response megabytes the clusters listed ahead may hold (default 256; 0: no byte bound); "
        "the cluster being judged is always listed, however large",
    )
    group.addoption(
        "--reference-cluster",
        metavar="NAME",
        help="compare every fleet check with this cluster (unless the profile declares the standard)",
    )
    group.addoption(
        "--full-objects",
        action="store_true",
        help="keep listed objects whole (default: slim projections, see docs/performance.md)",
    )


def run_options(config: pytest.Config) -> RunOptions:
    """The run's options as the session's command line gave them."""
    from fleetcheck.runstate import RunOptions, parse_shard

    shard = config.getoption("fleetcheck_shard")
    return RunOptions(
        fleet_file=config.getoption("fleetcheck_fleet"),
        snapshots=tuple(config.getoption("fleetcheck_snapshot") or ()),
        profile=config.getoption("fleetcheck_profile"),
        cluster_globs=tuple(config.getoption("fleetcheck_cluster") or ()),
        report_dir=Path(config.getoption("fleetcheck_report_dir")),
        connect_timeout=config.getoption("fleetcheck_connect_timeout"),
        read_timeout=config.getoption("fleetcheck_read_timeout"),
        cluster_timeout=config.getoption("fleetcheck_cluster_timeout"),
        check_timeout=config.getoption("fleetcheck_check_timeout") or None,
        exec_timeout=config.getoption("fleetcheck_exec_timeout"),
        page_size=config.getoption("fleetcheck_page_size"),
        shard=parse_shard(shard) if shard else None,
        prefetch_workers=max(1, config.getoption("fleetcheck_fetch_workers")),
        prefetch_bytes=_megabytes(config.getoption("fleetcheck_prefetch_mb")),
        slim_objects=not config.getoption("fleetcheck_full_objects"),
        reference_cluster=config.getoption("fleetcheck_reference_cluster"),
        facts_dir=Path(facts) if (facts := config.getoption("fleetcheck_facts")) else None,
        facts_wait=config.getoption("fleetcheck_facts_wait"),
    )
