"""Kubernetes resource quantities (``500m``, ``2Gi``, ``1e3``, ``0.5``) as exact decimals.

One parser for every check that compares cpu or memory, following
``k8s.io/apimachinery/pkg/api/resource``: decimal SI suffixes (``m``, ``k``,
``M``, ``G``, ``T``, ``P``, ``E``), binary suffixes (``Ki`` ... ``Ei``) and
decimal exponents (``1e3``, ``2E-3``).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

__all__ = ["QuantityError", "parse_quantity"]

_SUFFIX: dict[str, Decimal] = {
    "": Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}
_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$")


class QuantityError(ValueError):
    """Not a Kubernetes quantity."""


def parse_quantity(value: str | int | float) -> Decimal:
    """``"500m"`` -> ``Decimal("0.5")``; ``"2Gi"`` -> ``Decimal(2147483648)``."""
    if isinstance(value, bool):
        raise QuantityError(f"not a quantity: {value!r}")
    if isinstance(value, int | float):
        return Decimal(str(value))
    text = str(value).strip()
    match = _QUANTITY.match(text)
    if not match:
        raise QuantityError(f"not a quantity: {value!r}")
    number, exponent, suffix = match.groups()
    try:
        base = Decimal(number)
        if exponent:
            return base * Decimal(10) ** int(exponent[1:])
    except InvalidOperation:
        raise QuantityError(f"not a quantity: {value!r}") from None
    return base * _SUFFIX[suffix or ""]
