"""The fleet x dimension drift table: per cohort, each dimension's standard, who set it, and who differs.

:func:`drift` compares every cluster of a :class:`~fleetcheck.view.FleetView`
on every dimension of :mod:`fleetcheck.facts.dimensions`, with the one rule
(:meth:`FleetView.compare`, hence :func:`fleetcheck.facts.compare.decide`):
the same cohorts, declared standards, reference cluster (``--reference-cluster``,
the profile's, FC-RBAC-001's own setting), strict majority (FC-VER-001's
newest), voters and split as the fleet checks. Nothing here decides a
standard itself.

The result, a frozen :class:`DriftReport`, is bounded whatever the fleet's
size: per dimension it keeps counts and at most :data:`MAX_LISTED` names of
each list. It is what ``results.json`` carries as ``drift``, what
``fleetcheck facts`` prints, and what the scorecard's drift view renders.
Check titles and fixes come from the caller (the catalog, or a results
document's ``checks``), so facts never import checks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from fleetcheck.facts.compare import Kind, Standard, cohort_key
from fleetcheck.facts.dimensions import (
    Dimension,
    DimensionReading,
    DimValue,
    dimensions_for,
    read_dimension,
    show_value,
)
from fleetcheck.redact import redact

if TYPE_CHECKING:  # the views import pytest; reports read the report models without them
    from fleetcheck.view import ClusterView, FleetView

__all__ = [
    "DRIFT_SCHEMA",
    "MAX_LISTED",
    "CheckText",
    "ClusterValue",
    "CohortDrift",
    "DimensionDrift",
    "DriftReport",
    "SetBy",
    "ValueGroup",
    "drift",
]

DRIFT_SCHEMA = "fleetcheck/drift/v1"
#: cluster names kept per list of one dimension (the counts stay exact)
MAX_LISTED = 50
#: value groups kept per dimension (a split names them)
MAX_GROUPS = 10
SetBy = Literal["declared", "reference", "majority", "newest", "split", "no quorum", "no standard"]
_SET_BY: Mapping[Kind, SetBy] = {
    "declared": "declared",
    "reference": "reference",
    "majority": "majority",
    "newest": "newest",
    "split": "split",
    "alone": "no quorum",
    "is-reference": "reference",
    "reference-unknown": "no standard",
    "reference-unreadable": "no standard",
}


class CheckText(Protocol):
    """What the drift table takes from a check: its title and fix (a CheckInfo or CheckSpec.info())."""

    @property
    def title(self) -> str: ...

    @property
    def fix(self) -> str: ...


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ClusterValue(_Frozen):
    """One cluster and its shown value (an outlier), or the reason it could not be read."""

    cluster: str
    value: str


class ValueGroup(_Frozen):
    """One value of a dimension in a cohort and the clusters holding it."""

    value: str
    count: int
    clusters: tuple[str, ...]


class DimensionDrift(_Frozen):
    """One dimension in one cohort: the standard, who set it, the outliers and the clusters not counted."""

    name: str
    family: str
    title: str
    #: the shown standard; None when there is none (split, no quorum, unknown reference)
    standard: str | None
    set_by: SetBy
    #: who set it, and who was not counted, as the fleet checks' messages say it
    source: str
    holders: int
    outliers: tuple[ClusterValue, ...] = ()
    outliers_count: int = 0
    unknown: tuple[str, ...] = ()
    unknown_count: int = 0
    unreadable: tuple[ClusterValue, ...] = ()
    unreadable_count: int = 0
    values: tuple[ValueGroup, ...] = ()
    #: the check that judges the dimension (None: informational), its title and fix
    check: str | None = None
    check_title: str = ""
    fix: str = ""

    @property
    def informational(self) -> bool:
        """No check judges this dimension yet."""
        return self.check is None

    @property
    def drifted(self) -> bool:
        """Some cluster differs from the standard, or the cohort is split."""
        return self.outliers_count > 0 or self.set_by == "split"


class CohortDrift(_Frozen):
    """Every dimension of one cohort."""

    cohort: str
    profile: str
    clusters: int
    cluster_names: tuple[str, ...]
    dimensions: tuple[DimensionDrift, ...]

    @property
    def drifted(self) -> tuple[DimensionDrift, ...]:
        """The dimensions with outliers or a split."""
        return tuple(d for d in self.dimensions if d.drifted)


class DriftReport(_Frozen):
    """The fleet's drift: one :class:`CohortDrift` per cohort (``results.json`` ``drift``)."""

    schema_: str = Field(default=DRIFT_SCHEMA, alias="schema")
    reference_cluster: str | None = None
    clusters: int = 0
    dimensions: int = 0
    cohorts: tuple[CohortDrift, ...] = ()

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def to_json(self) -> dict[str, Any]:
        """The report as plain JSON types (for ``results.json`` and ``fleetcheck facts --format json``)."""
        return self.model_dump(mode="json", by_alias=True)


def _bounded(names: Sequence[str]) -> tuple[str, ...]:
    return tuple(names[:MAX_LISTED])


def _reference_subject(fleet: FleetView, members: list[ClusterView], dimension: Dimension[Any]) -> ClusterView:
    """A cohort member to ask the rule for (not the reference cluster itself, whose answer is "is-reference")."""
    named = fleet.reference(members[0], dimension.reference_setting(members[0].profile))
    if named is None:
        return members[0]
    return next((m for m in members if m.name != named[0]), members[0])


def _dimension_drift(
    fleet: FleetView,
    members: list[ClusterView],
    dimension: Dimension[Any],
    readings: Mapping[str, DimensionReading],
    checks: Mapping[str, CheckText],
) -> DimensionDrift:
    subject = _reference_subject(fleet, members, dimension)
    profile = subject.profile
    standard: Standard[DimValue] = fleet.compare(
        subject,
        dimension.fact,
        dimension.project,
        declared=dimension.declared_value(profile),
        declared_as=dimension.declared_as,
        show=show_value,
        derive=dimension.derive,
        newest=dimension.newest,
        reference_setting=dimension.reference_setting(profile),
    )
    decided = standard.value is not None
    if standard.kind == "is-reference":  # the cohort is the reference cluster alone: its value is the standard
        decided = readings[subject.name].value is not None
    expected = standard.value if standard.value is not None else readings[subject.name].value
    outliers = [
        ClusterValue(cluster=m.name, value=show_value(readings[m.name].value))
        for m in members
        if decided and readings[m.name].value is not None and readings[m.name].value != expected
    ]
    unknown = [m.name for m in members if readings[m.name].error is None and readings[m.name].value is None]
    unreadable = [
        ClusterValue(cluster=m.name, value=redact(readings[m.name].error or ""))
        for m in members
        if readings[m.name].error is not None
    ]
    groups = sorted(standard.groups.items(), key=lambda item: (-len(item[1]), item[0]))
    check = checks.get(dimension.check) if dimension.check else None
    return DimensionDrift(
        name=dimension.name,
        family=dimension.family,
        title=dimension.title,
        standard=show_value(expected) if decided and expected is not None else None,
        set_by=_SET_BY[standard.kind],
        source=redact(standard.says),
        holders=sum(1 for m in members if decided and readings[m.name].value == expected),
        outliers=tuple(outliers[:MAX_LISTED]),
        outliers_count=len(outliers),
        unknown=_bounded(unknown),
        unknown_count=len(unknown),
        unreadable=tuple(unreadable[:MAX_LISTED]),
        unreadable_count=len(unreadable),
        values=tuple(
            ValueGroup(value=value, count=len(names), clusters=_bounded(names)) for value, names in groups[:MAX_GROUPS]
        ),
        check=dimension.check,
        check_title=check.title if check is not None else "",
        fix=check.fix if check is not None else "",
    )


def cohorts_of(fleet: FleetView) -> list[list[ClusterView]]:
    """The fleet's cohorts (same profile and ``cohort_by`` labels), in first-seen order of the fleet."""
    grouped: dict[tuple[str, ...], list[ClusterView]] = {}
    for cluster in fleet:
        key = cohort_key(cluster.profile.name, cluster.profile.cohort_by, cluster.labels)
        grouped.setdefault(key, []).append(cluster)
    return list(grouped.values())


def drift(fleet: FleetView, checks: Mapping[str, CheckText] | None = None) -> DriftReport:
    """Compare every cluster of ``fleet`` on every dimension, per cohort, by the one rule.

    ``checks`` maps check codes to their title and fix (``doc.checks`` of a
    results document, or the catalog's ``CheckSpec.info()``); a judging
    check missing from it is still named, without a fix.
    """
    texts: Mapping[str, CheckText] = checks or {}
    cohorts: list[CohortDrift] = []
    names = 0
    for members in cohorts_of(fleet):
        dimensions = dimensions_for(members[0].profile)
        names = len(dimensions)
        rows = []
        for dimension in dimensions:
            readings = {m.name: read_dimension(m, dimension) for m in members}
            rows.append(_dimension_drift(fleet, members, dimension, readings, texts))
        cohorts.append(
            CohortDrift(
                cohort=fleet.cohort_label(members[0]),
                profile=members[0].profile.name,
                clusters=len(members),
                cluster_names=_bounded([m.name for m in members]),
                dimensions=tuple(rows),
            )
        )
    return DriftReport(
        reference_cluster=fleet.reference_cluster, clusters=len(fleet), dimensions=names, cohorts=tuple(cohorts)
    )
