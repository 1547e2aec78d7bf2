"""The three-part tariff's arithmetic (contract section 4, "Billing period", FR-395).

Pure functions on Decimal, no I/O: proration of the levy and facility fees over
the days of a period, allowances, graduated tiers, pass-through markup, and the
assembly of a bill whose total is the sum of its rounded components.

Every intermediate value is exact: a prorated amount is a sum of
``price x days`` divided once by the days of the month, computed with enough
precision that the only rounding is the final, contractual one (cents, half
away from zero, per component).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

from costattr_pipeline.lib.money import round_cents

# Enough significant digits that dividing a sum of money x days by 28..31 and
# rounding to cents can never be affected by the division's own rounding.
PRECISION = 60
ZERO = Decimal(0)
PERCENT_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class PriceTier:
    """One band of a graduated price: quantities above the previous bound up to ``up_to`` cost ``unit_price``.

    ``up_to`` None is the open last band.
    """

    up_to: Decimal | None
    unit_price: Decimal


@dataclass(frozen=True)
class Bill:
    """The four components of a period's bill, each rounded to cents, and their sum."""

    customer_levy: Decimal
    facility_fee: Decimal
    variable_consumption: Decimal
    pass_through: Decimal

    @property
    def total(self) -> Decimal:
        """The sum of the four rounded components (never a separately rounded grand total)."""
        return self.customer_levy + self.facility_fee + self.variable_consumption + self.pass_through


def days_in_month(period_start: dt.date) -> int:
    return calendar.monthrange(period_start.year, period_start.month)[1]


def prorated(amount_days: Sequence[tuple[Decimal, int]], month_days: int) -> Decimal:
    """Exact ``sum(amount x days) / month_days`` for (amount, days) pairs, unrounded.

    The customer levy is ``sum over days of levy[tier that day] / days in month``: the
    days on one tier contribute ``levy x days``. The facility fee is ``sum over active
    modules of fee x active days / days in month``. Both are this function.
    """
    if month_days <= 0:
        raise ValueError(f"a period has at least one day, got {month_days}")
    with localcontext() as context:
        context.prec = PRECISION
        numerator = sum((amount * days for amount, days in amount_days), ZERO)
        return numerator / month_days


def billable_quantity(usage: Decimal, allowance: Decimal) -> Decimal:
    """``max(0, usage - allowance)``: usage up to the included allowance is free."""
    return max(ZERO, usage - allowance)


def graduated_price(quantity: Decimal, tiers: Sequence[PriceTier]) -> Decimal:
    """Price ``quantity`` through graduated tiers, each band at its own unit price, unrounded.

    With tiers ``[{up_to: 100, 0.10}, {up_to: 250, 0.05}, {up_to: null, 0.01}]`` a quantity of
    300 costs ``100 x 0.10 + 150 x 0.05 + 50 x 0.01``. Bounds are cumulative quantities; the
    last tier is open. A quantity of 0 (or below, which billable quantities never are) costs 0.
    The result is monotone in the quantity and continuous at every bound.
    """
    if quantity <= 0:
        return ZERO
    charge = ZERO
    lower = ZERO
    for tier in tiers:
        upper = quantity if tier.up_to is None else min(quantity, tier.up_to)
        if upper > lower:
            charge += (upper - lower) * tier.unit_price
        if tier.up_to is None or quantity <= tier.up_to:
            return charge
        lower = tier.up_to
    raise ValueError(f"quantity {quantity} exceeds the last tier bound {lower}: the last tier must be open")


def variable_charge(usage: Mapping[str, Decimal], allowances: Mapping[str, Decimal],
                    tiers_by_metric: Mapping[str, Sequence[PriceTier]]) -> Decimal:
    """Sum over priced metrics of the graduated price of ``max(0, usage - allowance)``, unrounded.

    Metrics without tiers are not priced (the asset reports them in a check); a metric
    without an allowance has an allowance of 0.
    """
    return sum((graduated_price(billable_quantity(quantity, allowances.get(metric, ZERO)), tiers_by_metric[metric])
                for metric, quantity in usage.items() if metric in tiers_by_metric), ZERO)


def with_markup(cost: Decimal, markup_pct: Decimal) -> Decimal:
    """``cost x (1 + markup %)``, unrounded: the pass-through of external API costs."""
    return cost * (1 + markup_pct / 100)


def assemble_bill(customer_levy: Decimal, facility_fee: Decimal, variable_consumption: Decimal,
                  pass_through: Decimal) -> Bill:
    """Round each component to cents, half away from zero; the total is their sum."""
    return Bill(round_cents(customer_levy), round_cents(facility_fee), round_cents(variable_consumption),
                round_cents(pass_through))


def gross_margin_pct(revenue: Decimal, gross_margin: Decimal) -> Decimal | None:
    """``100 x gross_margin / revenue`` to 4 decimals, half away from zero; None when revenue is 0."""
    if revenue == 0:
        return None
    with localcontext() as context:
        context.prec = PRECISION
        return (gross_margin * 100 / revenue).quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP)
