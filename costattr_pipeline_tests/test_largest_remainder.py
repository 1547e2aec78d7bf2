"""The project's one largest-remainder rule: the SQL piece (DuckDB and fakesnow) against the Python reference."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costattr_pipeline.lib.money import largest_remainder, largest_remainder_relation
from costattr_pipeline.resources.warehouse import DuckDBSession, SnowflakeSession, WarehouseSession

UNITS = [Decimal("0.000000001"), Decimal("0.000001"), Decimal("0.01")]
ITEMS = ["acme", "globex", "initech", None]
weights = st.decimals(min_value=Decimal(0), max_value=Decimal(5000), places=9, allow_nan=False, allow_infinity=False)
groups = st.lists(st.tuples(st.sampled_from(UNITS), st.decimals(min_value=Decimal(0), max_value=Decimal(10**6),
                                                                 places=2, allow_nan=False, allow_infinity=False),
                            st.dictionaries(st.sampled_from(ITEMS), weights, min_size=1, max_size=4)),
                  min_size=1, max_size=4)


def _split_in_sql(session: WarehouseSession, cases) -> dict[tuple[int, str | None], Decimal]:
    rows = []
    for number, (unit, total, shares) in enumerate(cases):
        weight_sum = sum(shares.values())
        for item, weight in shares.items():
            rows.append(f"({number}, {'NULL' if item is None else repr(item)}, "
                        f"CAST({total * weight} AS DECIMAL(38, 12)), CAST({weight_sum} AS DECIMAL(38, 12)), "
                        f"CAST({total} AS DECIMAL(38, 12)), CAST({unit} AS DECIMAL(38, 9)))")
    session.execute("CREATE OR REPLACE TABLE split_cases (split_group INTEGER, split_item VARCHAR, "
                    "numerator DECIMAL(38, 12), denominator DECIMAL(38, 12), rounded_total DECIMAL(38, 12), "
                    "split_unit DECIMAL(38, 9))")
    session.execute("INSERT INTO split_cases VALUES " + ", ".join(rows))
    found = session.rows("SELECT split_group, split_item, split_part FROM parts",
                         relations={"parts": largest_remainder_relation("split_input"),
                                    "split_input": "SELECT *, CAST(NULL AS VARCHAR) AS split_subitem FROM split_cases"})
    return {(int(row["split_group"]), row["split_item"]): Decimal(str(row["split_part"])) for row in found}


def _cases(draw_groups):
    # Only wholes of the unit's precision and groups with some weight can be split.
    return [(unit, total.quantize(unit), shares) for unit, total, shares in draw_groups if sum(shares.values()) > 0]


def _check(parts: dict, cases) -> None:
    for number, (unit, total, shares) in enumerate(cases):
        weight_sum = sum(shares.values())
        exact = {item: total * weight / weight_sum for item, weight in shares.items()}
        got = {item: parts[(number, item)] for item in shares}
        assert got == largest_remainder(exact, total, unit)
        assert sum(got.values()) == total
        assert all(abs(got[item] - exact[item]) < unit for item in shares)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(groups)
def test_sql_rule_equals_the_python_reference_on_duckdb(drawn) -> None:
    cases = _cases(drawn)
    if cases:
        _check(_split_in_sql(DuckDBSession(duckdb.connect()), cases), cases)


@pytest.fixture(scope="module")
def snowflake_session():
    import fakesnow
    import snowflake.connector

    with fakesnow.patch():
        connection = snowflake.connector.connect(database="COSTATTR", schema="PUBLIC")
        connection.cursor().execute("CREATE DATABASE IF NOT EXISTS COSTATTR")
        yield SnowflakeSession(connection)
        connection.close()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(groups)
def test_sql_rule_equals_the_python_reference_on_snowflake(snowflake_session, drawn) -> None:
    cases = _cases(drawn)
    if cases:
        _check(_split_in_sql(snowflake_session, cases), cases)


def test_ties_go_to_the_first_item_and_unattributed_last() -> None:
    third = Decimal(1) / Decimal(3)
    assert largest_remainder({"b": third, None: third, "a": third}, Decimal(1), Decimal("0.01")) == {
        "a": Decimal("0.34"), "b": Decimal("0.33"), None: Decimal("0.33")}
    parts = _split_in_sql(DuckDBSession(duckdb.connect()), [(Decimal("0.01"), Decimal(1), {"b": 1, None: 1, "a": 1})])
    assert parts == {(0, "a"): Decimal("0.34"), (0, "b"): Decimal("0.33"), (0, None): Decimal("0.33")}
