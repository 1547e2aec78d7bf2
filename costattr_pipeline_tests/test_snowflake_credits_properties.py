"""Properties of the Snowflake credit split (Hypothesis), on the SQL that the asset runs (DuckDB)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costattr_pipeline.defs.attribution.snowflake_credits.snowflake_credit_daily import TABLES_SQL, attribute_credits
from costattr_pipeline.lib.config import SnowflakeSettings, parse_settings
from costattr_pipeline.lib.money import largest_remainder
from costattr_pipeline.lib.snowflake_usage import query_tag_tenant
from costattr_pipeline.resources.warehouse import DuckDBSession, SnowflakeSession, WarehouseSession
from costattr_pipeline_tests.snowflake_builders import Metered, Query, Tag, create_usage_relations, insert_usage

DAYS = [dt.date(2026, 3, 1), dt.date(2026, 3, 2)]
WAREHOUSES = ["WH_A", "WH_B", "WH_C"]
TENANT_TAGS = [None, "TENANT_ID=acme", "tenant_id=globex;x=1", '{"TENANT_ID": "initech"}', "app=dash"]
USERS = ["SVC_WAYNE", "ANALYST"]

# Credits as Snowflake holds them: NUMBER(38, 9), up to a 6XL warehouse running all day.
credits = st.decimals(min_value=Decimal(0), max_value=Decimal(13000), places=9, allow_nan=False,
                      allow_infinity=False)
metering = st.lists(st.tuples(st.sampled_from(DAYS), st.integers(0, 23), st.sampled_from(WAREHOUSES), credits),
                    max_size=12, unique_by=lambda row: (row[0], row[1], row[2]))
queries = st.lists(st.tuples(st.sampled_from(DAYS), st.sampled_from(WAREHOUSES), st.sampled_from(TENANT_TAGS),
                             st.sampled_from(USERS), credits), max_size=25)


def _split(metered_rows, query_rows, policy: str) -> tuple[dict, list[dict]]:
    session = DuckDBSession(duckdb.connect())
    relations = create_usage_relations(session)
    session.execute(TABLES_SQL)
    insert_usage(
        session, relations,
        metered=[Metered(f"{day} {hour:02d}:00", warehouse, str(amount)) for day, hour, warehouse, amount in metered_rows],
        queries=[Query(f"q{index}", warehouse, str(amount), start_time=f"{day} 12:00", user_name=user, query_tag=tag)
                 for index, (day, warehouse, tag, user, amount) in enumerate(query_rows)],
        tags=[Tag("WH_C", "umbrella"), Tag("SVC_WAYNE", "wayne", domain="USER")],
    )
    attribute_credits(session, relations, SnowflakeSettings(idle_policy=policy), DAYS[0], DAYS[-1] + dt.timedelta(1))
    expected: dict[tuple, Decimal] = {}
    for day, _, warehouse, amount in metered_rows:
        expected[(day, warehouse)] = expected.get((day, warehouse), Decimal(0)) + amount
    return expected, session.rows("SELECT * FROM metering.snowflake_credit_daily")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(metering, queries, st.sampled_from(["proportional", "separate"]))
def test_parts_add_up_to_the_metered_credits_and_none_is_negative(metered_rows, query_rows, policy) -> None:
    expected, rows = _split(metered_rows, query_rows, policy)
    written: dict[tuple, Decimal] = {}
    for row in rows:
        assert row["credits"] > 0  # zero rows are not written; negative ones must never exist
        assert row["attribution"] in ("dedicated", "proportional", "unattributed", "idle")
        assert (row["tenant_id"] is None) == (row["attribution"] in ("unattributed", "idle"))
        key = (row["cost_date"], row["warehouse_name"])
        written[key] = written.get(key, Decimal(0)) + row["credits"]
    assert written == {key: total for key, total in expected.items() if total != 0}


tag_text = st.one_of(
    st.none(),
    st.text(alphabet="TENANT_IDtenant_id=;, {}\":acme", max_size=40),
    st.builds(lambda key, sep, value, other: f"{other}{sep}{key}={value}", st.sampled_from(
        ["TENANT_ID", "tenant_id", "Tenant_Id", "TENANT_IDX"]), st.sampled_from([";", ",", "; "]),
        st.sampled_from(["acme", " globex ", "", "a=b"]), st.sampled_from(["app=x", "", "TENANT_ID=first"])),
    st.builds(lambda key, value: f'{{"job": "x", "{key}": "{value}"}}', st.sampled_from(
        ["tenant_id", "TENANT_ID", "tenantid"]), st.sampled_from(["acme", "", " initech "])),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(tag_text, min_size=1, max_size=20))
def test_sql_query_tag_rule_matches_the_python_reference(tags) -> None:
    # One warehouse per tag, fully used by its one query: the row's tenant is the query's tenant.
    session = DuckDBSession(duckdb.connect())
    relations = create_usage_relations(session)
    session.execute(TABLES_SQL)
    insert_usage(session, relations,
                 metered=[Metered("2026-03-01 10:00", f"WH_{index:02d}", "1") for index in range(len(tags))],
                 queries=[Query(f"q{index}", f"WH_{index:02d}", "1", user_name="NOBODY", query_tag=tag)
                          for index, tag in enumerate(tags)])
    attribute_credits(session, relations, SnowflakeSettings(), DAYS[0], DAYS[1])
    rows = session.rows("SELECT tenant_id FROM metering.snowflake_credit_daily ORDER BY warehouse_name")
    assert [row["tenant_id"] for row in rows] == [query_tag_tenant(tag, "TENANT_ID") for tag in tags]


# --- Every part within one unit of its exact value, on both engines (issue 15: one largest-remainder rule) ---

PRICED = parse_settings({"snowflake": {"credit_price_usd": [
    {"effective_from": "2026-01-01", "effective_to": None, "price": Decimal("3.17")},
    {"effective_from": "2026-01-01", "effective_to": None, "price": Decimal("2.333333"), "warehouse": "WH_A"}]}})
USER_TENANTS = {"SVC_WAYNE": "wayne"}


def _exact_tenant_parts(metered_rows, query_rows) -> dict[tuple, dict]:
    """Per (day, shared warehouse) with queries: M and each tenant's exact part M x A_t / A (Decimal)."""
    metered: dict[tuple, Decimal] = {}
    for day, _, warehouse, amount in metered_rows:
        metered[(day, warehouse)] = metered.get((day, warehouse), Decimal(0)) + amount
    used: dict[tuple, dict] = {}
    for day, warehouse, tag, user, amount in query_rows:
        tenant = query_tag_tenant(tag, "TENANT_ID") or USER_TENANTS.get(user)
        per_tenant = used.setdefault((day, warehouse), {})
        per_tenant[tenant] = per_tenant.get(tenant, Decimal(0)) + amount
    parts = {}
    for key, total in metered.items():
        queries_total = sum(used.get(key, {}).values(), Decimal(0))
        if key[1] != "WH_C" and queries_total > 0:
            parts[key] = {"M": total, "exact": {tenant: total * credits / queries_total
                                                for tenant, credits in used[key].items()}}
    return parts


def _check_exact_splits(session: WarehouseSession, metered_rows, query_rows) -> None:
    relations = create_usage_relations(session)
    session.execute(TABLES_SQL)
    insert_usage(
        session, relations,
        metered=[Metered(f"{day} {hour:02d}:00", warehouse, str(amount)) for day, hour, warehouse, amount in metered_rows],
        queries=[Query(f"q{index}", warehouse, str(amount), start_time=f"{day} 12:00", user_name=user, query_tag=tag)
                 for index, (day, warehouse, tag, user, amount) in enumerate(query_rows)],
        tags=[Tag("WH_C", "umbrella"), Tag("SVC_WAYNE", "wayne", domain="USER")])
    attribute_credits(session, relations, PRICED.snowflake, DAYS[0], DAYS[-1] + dt.timedelta(1))
    rows = session.rows("SELECT * FROM metering.snowflake_credit_daily")
    unit = Decimal("0.000000001")
    for (day, warehouse), split in _exact_tenant_parts(metered_rows, query_rows).items():
        written = {row["tenant_id"]: Decimal(str(row["credits"])) for row in rows
                   if (row["cost_date"], row["warehouse_name"]) == (day, warehouse)}
        expected = {tenant: part for tenant, part in largest_remainder(split["exact"], split["M"], unit).items()
                    if part != 0}
        assert written == expected
        assert all(abs(written[tenant] - split["exact"][tenant]) < unit for tenant in written)
    costs: dict[tuple, list] = {}
    for row in rows:
        costs.setdefault((row["cost_date"], row["warehouse_name"]), []).append(row)
    for day_rows in costs.values():
        exact = [Decimal(str(row["credits"])) * Decimal(str(row["credit_price_usd"])) for row in day_rows]
        written_costs = [Decimal(str(row["cost_usd"])) for row in day_rows]
        assert sum(written_costs) == sum(exact).quantize(Decimal("0.000001"), rounding="ROUND_HALF_UP")
        assert all(abs(cost - value) < Decimal("0.000001") for cost, value in zip(written_costs, exact))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(metering, queries)
def test_credits_and_costs_are_within_one_unit_of_exact_on_duckdb(metered_rows, query_rows) -> None:
    _check_exact_splits(DuckDBSession(duckdb.connect()), metered_rows, query_rows)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(metering, queries)
def test_credits_and_costs_are_within_one_unit_of_exact_on_snowflake(fakesnow_connection, metered_rows,
                                                                    query_rows) -> None:
    session = SnowflakeSession(fakesnow_connection)
    session.execute("DROP SCHEMA IF EXISTS landing CASCADE")
    session.execute("DROP SCHEMA IF EXISTS metering CASCADE")
    _check_exact_splits(session, metered_rows, query_rows)
