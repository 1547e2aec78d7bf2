"""Exact money arithmetic: Decimal only, cents rounded half away from zero.

Binary floats never touch an amount. Every split of an amount into cents goes
through :func:`split_cents`, so that the parts always add up to the whole.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from costattr_pipeline.lib.sql import bind_script, sql_file

CENT = Decimal("0.01")
LARGEST_REMAINDER_SQL = sql_file(__file__, "largest_remainder.sql")


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


def largest_remainder(exact_parts: Mapping[str | None, Decimal], total: Decimal, unit: Decimal,
                      ) -> dict[str | None, Decimal]:
    """Parts of ``total`` at the precision ``unit``, each within one unit of its exact value.

    The rule of ``lib/largest_remainder.sql``, in Python: every part is floored to the unit, then the
    units still missing to reach ``total`` (a multiple of ``unit``) go one each to the parts with the
    largest remainders; ties go to the key that sorts first, the key None (unattributed) last.
    """
    if total % unit:
        raise ValueError(f"total {total} is not a multiple of the unit {unit}")
    floors = {key: (value / unit).to_integral_value(rounding="ROUND_FLOOR") for key, value in exact_parts.items()}
    missing = int(total / unit - sum(floors.values(), Decimal(0)))
    order = sorted(exact_parts, key=lambda key: (-(exact_parts[key] - floors[key] * unit), key is None, key or ""))
    if not 0 <= missing <= len(order):
        raise ValueError(f"the exact parts do not add up to about {total}: {missing} units missing")
    return {key: (floors[key] + (1 if key in order[:missing] else 0)) * unit for key in exact_parts}


def largest_remainder_relation(split_input: str) -> str:
    """The largest-remainder SQL (``lib/largest_remainder.sql``) reading ``split_input``, a relation or a
    CTE of the statement it is bound into: bind the result as a relation, e.g.
    ``{"credit_parts": largest_remainder_relation("credit_split_input")}``."""
    return bind_script(LARGEST_REMAINDER_SQL, relations={"split_input": split_input})
