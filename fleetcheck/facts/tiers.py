"""Promotion tiers: which stage of dev -> staging -> canary -> prod a cluster is.

A cluster declares its tier in its registry labels (fleet file, or a
snapshot's ``cluster.yaml``): the ``tier`` label, else ``env``. Teams spell
the same stage differently (``production``, ``stg``, ``preprod``), so a few
common spellings are accepted and reported under their canonical name;
anything else is not a tier. A ``tier`` label that is not a promotion tier
(``tier: 1`` used for criticality, say) does not hide a valid ``env``.

FC-TIER-* judge the declaration; FC-PV-001 uses it to find prod clusters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "TIERS",
    "TIER_ALIASES",
    "TIER_LABELS",
    "Tier",
    "TierDeclaration",
    "normalize_tier",
    "read_tier",
]

Tier = Literal["dev", "staging", "canary", "prod"]

#: The promotion tiers, in the order a change travels through them.
TIERS: tuple[Tier, ...] = ("dev", "staging", "canary", "prod")

#: Registry labels that may declare the tier, most specific first.
TIER_LABELS: tuple[str, ...] = ("tier", "env")

#: Spellings accepted for each tier (lower-cased), besides the tier's own name.
TIER_ALIASES: Mapping[str, Tier] = {
    "development": "dev",
    "develop": "dev",
    "sandbox": "dev",
    "stage": "staging",
    "stg": "staging",
    "preprod": "staging",
    "pre-prod": "staging",
    "uat": "staging",
    "production": "prod",
    "prd": "prod",
}


def normalize_tier(value: str) -> Tier | None:
    """The canonical tier ``value`` names (``Production`` -> ``prod``), or ``None`` when it names none."""
    text = value.strip().lower()
    for tier in TIERS:
        if text == tier:
            return tier
    return TIER_ALIASES.get(text)


@dataclass(frozen=True)
class TierDeclaration:
    """What a cluster's labels say about its tier."""

    #: the canonical tier, or ``None`` when no tier label names one
    tier: Tier | None
    #: the label that declared it (``tier`` or ``env``)
    label: str | None = None
    #: the label's value as written (``production``)
    value: str | None = None
    #: tier labels that are set but name no tier, as (label, value)
    unrecognized: tuple[tuple[str, str], ...] = ()

    @property
    def source(self) -> str:
        """``label tier=prod`` or ``label env=production (prod)``, for messages."""
        if self.tier is None or self.label is None:
            return "no tier label"
        written = f"label {self.label}={self.value}"
        return written if self.value == self.tier else f"{written} ({self.tier})"

    def problem(self) -> str:
        """Why no tier was found, for FC-TIER-001 and for skip reasons."""
        if self.unrecognized:
            found = ", ".join(f"{label}={value!r}" for label, value in self.unrecognized)
            return f"{found} {'is' if len(self.unrecognized) == 1 else 'are'} not a tier ({' / '.join(TIERS)})"
        return f"no {' or '.join(TIER_LABELS)} label"


def read_tier(labels: Mapping[str, str]) -> TierDeclaration:
    """The tier the registry ``labels`` declare: ``tier`` if it names one, else ``env``."""
    unrecognized: list[tuple[str, str]] = []
    for label in TIER_LABELS:
        value = labels.get(label)
        if value is None or not str(value).strip():
            continue
        tier = normalize_tier(str(value))
        if tier is not None:
            return TierDeclaration(tier, label, str(value), tuple(unrecognized))
        unrecognized.append((label, str(value)))
    return TierDeclaration(None, unrecognized=tuple(unrecognized))
