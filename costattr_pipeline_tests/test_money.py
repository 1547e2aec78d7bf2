"""Money arithmetic: half-away-from-zero cents and the one largest-remainder split."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from costattr_pipeline.lib.money import round_cents, split_cents, to_cents, to_decimal


@pytest.mark.parametrize("amount, cents", [("2.675", 268), ("-2.675", -268), ("0.005", 1), ("-0.005", -1),
                                           ("1.004999", 100), ("10.125", 1013), ("0", 0)])
def test_cents_round_half_away_from_zero(amount: str, cents: int) -> None:
    assert to_cents(Decimal(amount)) == cents
    assert round_cents(Decimal(amount)) == Decimal(cents) / 100


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError):
        to_decimal(0.1)
    assert to_decimal("0.1") + to_decimal("0.2") == Decimal("0.3")


def test_split_gives_missing_cent_to_largest_remainder() -> None:
    # 100 cents in thirds: naive rounding gives 33 + 33 + 33 = 99.
    assert split_cents(100, {"a": Decimal(1), "b": Decimal(1), "c": Decimal(1)}) == {"a": 34, "b": 33, "c": 33}
    # 0.3 / 0.5 / 0.2 of 1001 cents: 300.3, 500.5, 200.2 -> the .5 gets the cent.
    assert split_cents(1001, {"octo": Decimal("0.3"), "ripple": Decimal("0.5"), "wave": Decimal("0.2")}) == {
        "octo": 300, "ripple": 501, "wave": 200}


def test_split_of_negative_total_mirrors_positive() -> None:
    assert split_cents(-100, {"a": Decimal(1), "b": Decimal(2)}) == {"a": -33, "b": -67}


def test_split_rejects_impossible_inputs() -> None:
    with pytest.raises(ValueError):
        split_cents(5, {})
    with pytest.raises(ValueError):
        split_cents(5, {"a": Decimal(0)})
    with pytest.raises(ValueError):
        split_cents(5, {"a": Decimal(-1), "b": Decimal(2)})


weights = st.dictionaries(st.text(alphabet="abcdefgh", min_size=1, max_size=3),
                          st.decimals(min_value=0, max_value=10**6, places=4, allow_nan=False),
                          min_size=1, max_size=12).filter(lambda w: sum(w.values()) > 0)


@given(total=st.integers(min_value=-10**9, max_value=10**9), shares=weights)
def test_split_sums_exactly_and_each_part_is_within_a_cent(total: int, shares: dict[str, Decimal]) -> None:
    parts = split_cents(total, shares)
    assert sum(parts.values()) == total
    weight_sum = sum(shares.values())
    for key, part in parts.items():
        exact = Decimal(total) * shares[key] / weight_sum
        assert abs(Decimal(part) - exact) < 1


@given(total=st.integers(min_value=0, max_value=10**6), shares=weights)
def test_split_does_not_depend_on_input_order(total: int, shares: dict[str, Decimal]) -> None:
    reordered = dict(reversed(list(shares.items())))
    assert split_cents(total, shares) == split_cents(total, reordered)
