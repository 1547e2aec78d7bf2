"""Exact money arithmetic: Decimal only, cents rounded half away from zero.

Binary floats never touch an amount. Every split of an amount into cents goes
through :func:`split_cents`, so that the parts always add up to the whole.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")


def to_decimal(value: object) -> Decimal:
    """Convert a text or integer amount to Decimal, refusing floats.

    Floats are refused because ``Decimal(0.1)`` silently carries the binary
    representation error into every later sum.
    """
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"amounts must be text, int or Decimal, not {type(value).__name__}: {value!r}")
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation as error:
        raise ValueError(f"not a decimal number: {value!r}") from error
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def round_cents(amount: Decimal) -> Decimal:
    """Round to cents, half away from zero (2.675 -> 2.68, -2.675 -> -2.68).

    Python's ROUND_HALF_UP is "away from zero" for Decimal, unlike banker's rounding.
    """
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def to_cents(amount: Decimal) -> int:
    """The amount as whole cents, rounded half away from zero."""
    return int(round_cents(amount) * 100)


def split_cents(total_cents: int, weights: Mapping[str, Decimal] | Sequence[tuple[str, Decimal]]) -> dict[str, int]:
    """Split ``total_cents`` across keys in proportion to non-negative weights.

    Largest-remainder (Hamilton) method: every key first gets the floor of its
    exact share, then the cents still missing go one each to the keys with the
    largest remainders; ties go to the key that sorts first, so the result is
    stable whatever the input order. The parts add up to ``total_cents`` exactly
    and each part is within one cent of its exact share. A negative total is
    split as the mirror image of the positive one.
    """
    items = sorted(dict(weights).items())
    if not items:
        if total_cents:
            raise ValueError("cannot split a non-zero amount across no items")
        return {}
    if any(weight < 0 for _, weight in items):
        raise ValueError("weights must not be negative")
    weight_sum = sum((weight for _, weight in items), Decimal(0))
    if weight_sum == 0:
        raise ValueError("weights must not all be zero")
    if total_cents < 0:
        return {key: -part for key, part in split_cents(-total_cents, items).items()}

    floors: dict[str, int] = {}
    remainders: list[tuple[Decimal, str]] = []
    for key, weight in items:
        exact = Decimal(total_cents) * weight / weight_sum
        floor = int(exact)  # exact >= 0, so int() is the floor
        floors[key] = floor
        remainders.append((exact - floor, key))
    missing = total_cents - sum(floors.values())
    # Largest remainder first; among equal remainders the key that sorts first.
    for _, key in sorted(remainders, key=lambda pair: (-pair[0], pair[1]))[:missing]:
        floors[key] += 1
    return floors
