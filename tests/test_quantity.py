"""Kubernetes quantities parsed exactly (``k8s.io/apimachinery/pkg/api/resource``)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fleetcheck.core.quantity import QuantityError, parse_quantity


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("20", Decimal(20)),
        ("19500m", Decimal("19.5")),
        ("500m", Decimal("0.5")),
        ("0.5", Decimal("0.5")),
        (".5", Decimal("0.5")),
        ("1.", Decimal(1)),
        ("2Gi", Decimal(2 * 1024**3)),
        ("1536Mi", Decimal(1536 * 1024**2)),
        ("128974848", Decimal(128974848)),
        ("129e6", Decimal(129000000)),
        ("129M", Decimal(129000000)),
        ("123Mi", Decimal(123 * 1024**2)),
        ("1k", Decimal(1000)),
        ("1Ki", Decimal(1024)),
        ("2E-3", Decimal("0.002")),
        ("1E", Decimal(10**18)),
        ("1Ei", Decimal(2**60)),
        ("100n", Decimal("1e-7")),
        ("5u", Decimal("5e-6")),
        ("+1", Decimal(1)),
        ("-1", Decimal(-1)),
        (" 250m ", Decimal("0.25")),
        ("0", Decimal(0)),
        (3, Decimal(3)),
        (0.25, Decimal("0.25")),
    ],
)
def test_quantities(text: str | int | float, value: Decimal) -> None:
    assert parse_quantity(text) == value


def test_exactness_for_percentages() -> None:
    assert parse_quantity("19500m") * 100 / parse_quantity("20") == Decimal("97.5")
    assert parse_quantity("1900Mi") / parse_quantity("2Gi") == Decimal(1900) / Decimal(2048)


@pytest.mark.parametrize("text", ["", "abc", "1Gb", "1 Gi", "1.2.3", "Gi", "1e", "1ki", "--1", True])
def test_not_quantities(text: str | bool) -> None:
    with pytest.raises(QuantityError, match="not a quantity"):
        parse_quantity(text)


def test_quantity_error_is_a_value_error() -> None:
    assert issubclass(QuantityError, ValueError)
