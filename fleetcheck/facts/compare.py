"""The one fleet-comparison rule: which clusters a cluster is compared with, and what it is compared against.

Every fleet check judges one cluster's fact against a *standard* derived
here, and nowhere else (``grep`` for a second majority vote should find
nothing). The rule, word for word as ``fleetcheck explain`` prints it
(:data:`RULE`):

1. **Cohort.** A cluster is compared with the clusters of its profile; a
   profile with ``cohort_by: [env, region]`` narrows that to the clusters of
   the same profile whose labels ``env`` and ``region`` have the same values
   (a missing label is its own value, "unset").
2. **Standard**, the first that applies:
   a. the value the profile declares (``standards.*``, or the check's
      reference setting);
   b. the value of a reference cluster: ``--reference-cluster NAME`` for the
      run, else the profile's ``reference_cluster`` (it may sit outside the
      cohort). Its value must be known: when the reference cannot be read
      the check errors, when its value is unknown the check is skipped,
      both saying why. The reference cluster itself is not judged (skip);
   c. the value a *strict majority* (more than half) of the cohort's known
      values holds. FC-VER-001 alone derives "the newest known minor"
      instead of the majority, because its public rule is "more than one
      minor behind the newest"; cohort, declared value, reference and voters
      are the same.
3. **Voters.** Only known values vote, the judged cluster's included.
   Unreadable peers (their fact raised) and peers whose value is unknown
   never vote; the message says how many were not counted and why.
4. **Quorum.** A majority (or a newest) needs at least two known values: a
   cluster alone in its cohort has no standard and is skipped ("no other
   cluster ... to compare with").
5. **Split.** When no value holds more than half, there is no standard and
   every cluster of the cohort is *skipped*, the same way in every check,
   with the values and their clusters named and how to settle it (declare
   the value in the profile, or name a reference cluster). A split is real
   drift, but the numbers cannot say which side is wrong: failing both
   sides would fail the clusters that are right, and one cluster joining
   the fleet would flip half the verdicts. The drift is still shown (in
   the skip's message, and in the drift view).

:func:`decide` applies the rule to plain readings (no pytest, no views), so
it is unit-tested alone; :class:`fleetcheck.view.FleetView` gathers the
readings of a cohort and turns an undecided standard into a skip or an
error.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from fleetcheck.core.refs import breakdown, name_list

__all__ = [
    "NAMES_SHOWN",
    "RULE",
    "RULE_TITLE",
    "Derive",
    "Reading",
    "Reference",
    "Standard",
    "cohort_key",
    "cohort_label",
    "decide",
]

V = TypeVar("V", bound=Hashable)
Derive = Literal["majority", "newest"]
#: cluster names a message lists before "and N more"
NAMES_SHOWN = 6

RULE_TITLE = "How the fleet standard is chosen"
RULE = (
    "This cluster is compared with its cohort: the clusters of its profile (with cohort_by: [label, ...] in the "
    "profile, only those whose labels have the same values). The standard is the value the profile declares; "
    "else the value of the reference cluster (--reference-cluster NAME, else the profile's reference_cluster), "
    "which must be readable and known, and which is not judged itself; else the value held by more than half "
    "of the cohort's known values (FC-VER-001: the newest known minor instead). Unreadable clusters and "
    "unknown values never vote, and the message says how many were not counted. A majority needs at least two "
    "known values: a cluster alone is skipped. When no value holds more than half (a split), every cluster "
    "of the cohort is skipped with the values and their clusters named: declare the value in the profile or "
    "name a reference cluster to settle it."
)

Kind = Literal[
    "declared",
    "reference",
    "majority",
    "newest",
    "split",
    "alone",
    "is-reference",
    "reference-unknown",
    "reference-unreadable",
]


@dataclass(frozen=True)
class Reading(Generic[V]):
    """One cluster's value for the compared fact: known, unknown (``value`` None), or unreadable (``error``)."""

    cluster: str
    value: V | None = None
    error: str | None = None

    @property
    def known(self) -> bool:
        """Whether this reading votes."""
        return self.error is None and self.value is not None


@dataclass(frozen=True)
class Reference(Generic[V]):
    """The reference cluster's reading and where it was named (``--reference-cluster``, the profile ...)."""

    reading: Reading[V]
    named_by: str


@dataclass(frozen=True)
class Standard(Generic[V]):
    """What a cluster is compared with, who set it, and who differs (``value`` None: undecided, see ``source``)."""

    value: V | None
    kind: Kind
    #: who set the standard ("declared by profile P (standards.cni)"), or why nothing did
    source: str
    cohort: str
    #: known-value clusters holding the standard, and those that do not
    holders: tuple[str, ...] = ()
    outliers: tuple[str, ...] = ()
    #: "x (why)" for every cohort member that did not vote
    not_counted: tuple[str, ...] = ()
    #: the shown value -> clusters holding it, for messages and the drift view
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: the reference cluster, when one was named (whatever came of it)
    reference: str = ""

    @property
    def expected(self) -> V:
        """The standard's value; only for a decided standard (``FleetView.standard`` returns no other)."""
        if self.value is None:
            raise ValueError(f"the standard is undecided: {self.source}")
        return self.value

    @property
    def decided(self) -> bool:
        """Whether there is a value to compare with."""
        return self.value is not None

    @property
    def says(self) -> str:
        """Who set the standard, and who was not counted: for the end of a check's message."""
        return self.source + self.not_counted_text

    @property
    def not_counted_text(self) -> str:
        """``; not counted: 1 unreadable (x: why), 1 without a known value (y)`` or nothing."""
        if not self.not_counted or self.kind not in ("majority", "newest", "split", "alone"):
            return ""
        return f"; not counted: {name_list(self.not_counted, NAMES_SHOWN, sort=False)}"


def cohort_key(profile: str, cohort_by: Sequence[str], labels: Mapping[str, str]) -> tuple[str, ...]:
    """What makes two clusters one cohort: the profile, and the values of the profile's ``cohort_by`` labels."""
    return (profile, *(labels.get(key, "") for key in cohort_by))


def cohort_label(profile: str, cohort_by: Sequence[str], labels: Mapping[str, str]) -> str:
    """``profile prod`` or ``profile prod, env=prod, region=unset`` (for messages)."""
    parts = [f"{key}={labels.get(key) or 'unset'}" for key in cohort_by]
    return ", ".join([f"profile {profile}", *parts])


def _itself(value: Any) -> Any:
    return value


def _settle_hint(profile: str, declared_as: str) -> str:
    where = f"declare {declared_as} in profile {profile} or " if declared_as else ""
    return f"{where}name a reference cluster (--reference-cluster NAME, or reference_cluster in the profile)"


def _not_counted(readings: Iterable[Reading[Any]]) -> tuple[str, ...]:
    unreadable = [f"{r.cluster} (unreadable: {r.error})" for r in readings if r.error is not None]
    unknown = [f"{r.cluster} (value unknown)" for r in readings if r.error is None and r.value is None]
    return (*unreadable, *unknown)


def decide(
    subject: str,
    readings: Sequence[Reading[V]],
    *,
    cohort: str,
    profile: str,
    declared: V | None = None,
    declared_as: str = "",
    reference: Reference[V] | None = None,
    show: Callable[[V], str] = str,
    derive: Derive = "majority",
    newest: Callable[[V], Any] | None = None,
) -> Standard[V]:
    """Apply the rule: the standard ``subject`` is judged against, from its cohort's ``readings``.

    ``readings`` are the cohort's (``subject`` included); ``declared`` is the
    profile's value (named ``declared_as``, e.g. ``standards.cni``);
    ``reference`` the reference cluster's reading when one is named;
    ``derive="newest"`` takes the largest known value by ``newest`` instead
    of the majority.
    """
    counted = [r for r in readings if r.known]
    not_counted = _not_counted(readings)
    groups: dict[str, list[str]] = {}
    for reading in counted:
        assert reading.value is not None
        groups.setdefault(show(reading.value), []).append(reading.cluster)
    shown = {key: tuple(names) for key, names in groups.items()}

    def result(value: V | None, kind: Kind, source: str) -> Standard[V]:
        holders = tuple(r.cluster for r in counted if value is not None and r.value == value)
        outliers = tuple(r.cluster for r in counted if value is not None and r.value != value)
        named = reference.reading.cluster if reference is not None and declared is None else ""
        return Standard(value, kind, source, cohort, holders, outliers, not_counted, shown, named)

    if declared is not None:
        return result(declared, "declared", f"declared by profile {profile} ({declared_as})")
    if reference is not None:
        named = f"reference cluster {reference.reading.cluster} ({reference.named_by})"
        if reference.reading.cluster == subject:
            return result(None, "is-reference", f"this is the {named}: the other clusters are compared with it")
        if reference.reading.error is not None:
            return result(None, "reference-unreadable", f"cannot read the {named}: {reference.reading.error}")
        if reference.reading.value is None:
            return result(None, "reference-unknown", f"no standard: the {named} has no known value to compare with")
        return result(reference.reading.value, "reference", named)
    if len(counted) < 2:
        return result(
            None,
            "alone",
            f"no standard: no other cluster of cohort {cohort} has a known value to compare with; "
            f"{_settle_hint(profile, declared_as)}",
        )
    total = len(counted)
    if derive == "newest":
        key: Callable[[V], Any] = newest if newest is not None else _itself
        top = max((r.value for r in counted if r.value is not None), key=key)
        holders = [r.cluster for r in counted if r.value is not None and key(r.value) == key(top)]
        return result(
            top,
            "newest",
            f"the newest of {total} clusters of cohort {cohort}: {show(top)} on "
            f"{name_list(holders, NAMES_SHOWN, sort=False)}",
        )
    count_by_value: dict[V, list[str]] = {}
    for reading in counted:
        assert reading.value is not None
        count_by_value.setdefault(reading.value, []).append(reading.cluster)
    value, members = max(count_by_value.items(), key=lambda item: len(item[1]))
    if len(members) * 2 > total:
        return result(
            value,
            "majority",
            f"majority: {len(members)} of {total} clusters of cohort {cohort}: "
            f"{name_list(members, NAMES_SHOWN, sort=False)}",
        )
    return result(
        None,
        "split",
        f"no fleet standard: no value holds more than half of the {total} clusters of cohort {cohort} with a known "
        f"value ({breakdown(groups, NAMES_SHOWN)}); {_settle_hint(profile, declared_as)}",
    )
