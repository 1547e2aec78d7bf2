"""The tariff arithmetic: hand-computed examples and Hypothesis properties."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from costattr_pipeline.lib.tariff import (PriceTier, assemble_bill, billable_quantity, graduated_price,
                                          gross_margin_pct, prorated, variable_charge, with_markup)

D = Decimal
THREE_TIERS = (PriceTier(D(100), D("0.10")), PriceTier(D(250), D("0.05")), PriceTier(None, D("0.01")))


def test_usage_crossing_two_tier_bounds() -> None:
    # 100 x 0.10 + 150 x 0.05 + 50 x 0.01 = 10 + 7.5 + 0.5
    assert graduated_price(D(300), THREE_TIERS) == D("18.00")


def test_usage_inside_first_tier_and_on_a_bound() -> None:
    assert graduated_price(D(40), THREE_TIERS) == D("4.00")
    assert graduated_price(D(100), THREE_TIERS) == D("10.00")
    assert graduated_price(D(250), THREE_TIERS) == D("17.50")


def test_mid_month_tier_change_prorates_the_levy_by_day() -> None:
    # March: 14 days standard (500) then 17 days premium (1500): (7000 + 25500) / 31 = 1048.387...
    levy = prorated([(D(500), 14), (D(1500), 17)], 31)
    assert assemble_bill(levy, D(0), D(0), D(0)).customer_levy == D("1048.39")


def test_module_activated_mid_month_is_charged_for_its_active_days() -> None:
    # reporting (90) active from March 10: 22 of 31 days = 63.870...; risk-engine (200) all month.
    fees = prorated([(D(90), 22), (D(200), 31)], 31)
    assert assemble_bill(D(0), fees, D(0), D(0)).facility_fee == D("263.87")


def test_pass_through_markup_rounds_half_away_from_zero() -> None:
    # 12.35 x 1.10 = 13.585 exactly: half away from zero gives 13.59 (banker's rounding would give 13.58).
    assert with_markup(D("12.35"), D(10)) == D("13.585")
    assert assemble_bill(D(0), D(0), D(0), with_markup(D("12.35"), D(10))).pass_through == D("13.59")


def test_allowance_is_subtracted_before_the_tiers() -> None:
    tiers = {"api_calls": (PriceTier(D(100000), D("0.001")), PriceTier(None, D("0.0005")))}
    # 180000 - 50000 = 130000 billable: 100000 x 0.001 + 30000 x 0.0005 = 100 + 15
    assert variable_charge({"api_calls": D(180000)}, {"api_calls": D(50000)}, tiers) == D("115.0000")
    assert variable_charge({"api_calls": D(40000)}, {"api_calls": D(50000)}, tiers) == 0
    # A metric the version does not price is not charged here (the asset warns about it).
    assert variable_charge({"reports": D(5)}, {}, tiers) == 0


def test_total_is_the_sum_of_the_rounded_components() -> None:
    bill = assemble_bill(D("0.004"), D("0.004"), D("0.004"), D("0.004"))
    # Each component rounds to 0.00, so the total is 0.00 although the unrounded sum is 0.016.
    assert (bill.customer_levy, bill.total) == (D("0.00"), D("0.00"))


def test_gross_margin_pct() -> None:
    assert gross_margin_pct(D("200.00"), D("50")) == D("25.0000")
    assert gross_margin_pct(D("3.00"), D("1")) == D("33.3333")
    assert gross_margin_pct(D("0.00"), D("-5")) is None


# --- properties ----------------------------------------------------------------------------------

quantities = st.decimals(min_value=0, max_value=10**7, places=3, allow_nan=False, allow_infinity=False)
prices = st.decimals(min_value=0, max_value=10, places=4, allow_nan=False, allow_infinity=False)


@st.composite
def tier_lists(draw: st.DrawFn) -> tuple[PriceTier, ...]:
    bounds = sorted(draw(st.sets(st.integers(min_value=1, max_value=10**6), min_size=0, max_size=4)))
    unit_prices = draw(st.lists(prices, min_size=len(bounds) + 1, max_size=len(bounds) + 1))
    return tuple(PriceTier(D(bound), price) for bound, price in zip(bounds, unit_prices)) + (
        PriceTier(None, unit_prices[-1]),)


@given(tier_lists(), quantities, quantities)
def test_graduated_price_is_monotone_in_usage(tiers: tuple[PriceTier, ...], first: Decimal, second: Decimal) -> None:
    low, high = sorted((first, second))
    assert graduated_price(low, tiers) <= graduated_price(high, tiers)


@given(tier_lists(), st.decimals(min_value=D("0.001"), max_value=1, places=3))
def test_graduated_price_is_continuous_at_every_bound(tiers: tuple[PriceTier, ...], step: Decimal) -> None:
    for index, tier in enumerate(tiers[:-1]):
        bound = tier.up_to
        assert bound is not None
        at_bound = graduated_price(bound, tiers)
        # Just above the bound only the next band's price applies; just below, this band's.
        assert graduated_price(bound + step, tiers) - at_bound == step * tiers[index + 1].unit_price
        if bound - step >= (tiers[index - 1].up_to if index else 0):
            assert at_bound - graduated_price(bound - step, tiers) == step * tier.unit_price


@given(tier_lists(), quantities, quantities)
def test_no_charge_up_to_the_allowance(tiers: tuple[PriceTier, ...], usage: Decimal, extra: Decimal) -> None:
    allowance = usage + extra
    assert billable_quantity(usage, allowance) == 0
    assert variable_charge({"m": usage}, {"m": allowance}, {"m": tiers}) == 0


@given(st.decimals(min_value=0, max_value=10**6, places=2), st.sampled_from([28, 29, 30, 31]))
def test_a_whole_month_on_one_tier_is_the_whole_levy(levy: Decimal, month_days: int) -> None:
    assert assemble_bill(prorated([(levy, month_days)], month_days), D(0), D(0), D(0)).customer_levy == levy


@given(st.lists(st.tuples(st.decimals(min_value=0, max_value=10**5, places=2), st.integers(0, 31)),
                max_size=4), quantities, prices)
def test_bill_components_are_cents_and_total_is_their_sum(levies: list, usage: Decimal, price: Decimal) -> None:
    bill = assemble_bill(prorated(levies, 31), prorated(levies, 30), usage * price, with_markup(usage, price))
    for component in (bill.customer_levy, bill.facility_fee, bill.variable_consumption, bill.pass_through):
        assert component == component.quantize(D("0.01"))
    assert bill.total == bill.customer_levy + bill.facility_fee + bill.variable_consumption + bill.pass_through
