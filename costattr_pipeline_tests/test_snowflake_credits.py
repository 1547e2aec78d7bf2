"""Snowflake credits per tenant (contract section 4, FR-394): the SQL on DuckDB and fakesnow, then end to end."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import dagster as dg
import duckdb
import pytest

from costattr_pipeline.definitions import build_definitions
from costattr_pipeline.defs.attribution.snowflake_credits.query_cost_reports import report_months
from costattr_pipeline.lib.computations import Computation
from costattr_pipeline.defs.attribution.snowflake_credits.snowflake_credit_daily import (
    TABLES_SQL,
    attribute_credits,
    credits_as_of,
    credit_mismatches,
    provisional_range,
    untagged_users,
)
from costattr_pipeline.project import Project
from costattr_pipeline.lib.config import Settings, SnowflakeSettings, parse_settings
from costattr_pipeline.lib.errors import ConfigError, SourceError
from costattr_pipeline.lib.snowflake_usage import query_tag_tenant
from costattr_pipeline.lib.yaml_loading import parse_yaml
from costattr_pipeline.resources.snowflake_usage import SnowflakeAccountUsage
from costattr_pipeline.resources.warehouse import DuckDBSession, SnowflakeSession, WarehouseSession
from costattr_pipeline.runner import RunFailed, run_range
from costattr_pipeline.validation import validate_inputs
from costattr_pipeline_tests.conftest import dump_tables, query
from costattr_pipeline_tests.snowflake_builders import (
    Metered,
    Query,
    Tag,
    create_usage_relations,
    insert_usage,
    write_exports,
)

DAY = dt.date(2026, 3, 1)
PRICES = """
snowflake:
  tenant_tag: TENANT_ID
  idle_policy: {policy}
  credit_price_usd:
    - {{effective_from: 2026-01-01, effective_to: 2026-03-15, price: 3.00}}
    - {{effective_from: 2026-03-15, effective_to: null, price: 3.20}}
    - {{effective_from: 2026-01-01, effective_to: null, price: 2.50, warehouse: WH_ACME}}
"""


def snowflake_settings(policy: str = "proportional") -> SnowflakeSettings:
    return parse_settings(parse_yaml(PRICES.format(policy=policy), "settings.yaml")).snowflake


@pytest.fixture(params=["duckdb", "fakesnow"])
def session(request: pytest.FixtureRequest) -> Iterator[WarehouseSession]:
    """The same SQL on both engines: DuckDB as is, Snowflake SQL (transpiled) on fakesnow."""
    if request.param == "duckdb":
        connection = duckdb.connect()
        yield DuckDBSession(connection)
        connection.close()
    else:
        yield SnowflakeSession(request.getfixturevalue("fakesnow_connection"))


def attribute(session: WarehouseSession, metered=(), queries=(), tags=(), policy: str = "proportional",
              start: dt.date = DAY, end: dt.date = DAY + dt.timedelta(days=1)) -> list[tuple]:
    """Run the attribution over the given usage; rows as (day, warehouse, tenant, attribution, credits, cost)."""
    relations = create_usage_relations(session)
    session.execute(TABLES_SQL)
    insert_usage(session, relations, metered, queries, tags)
    attribute_credits(session, relations, snowflake_settings(policy), start, end)
    assert credit_mismatches(session, relations, start, end) == []
    rows = session.rows("SELECT * FROM metering.snowflake_credit_daily")
    return sorted(((row["cost_date"], row["warehouse_name"], row["tenant_id"], row["attribution"],
                    Decimal(row["credits"]).normalize(), Decimal(row["cost_usd"]).normalize()) for row in rows),
                  key=repr)


def credits_by_tenant(rows: list[tuple]) -> dict[tuple[str | None, str], Decimal]:
    return {(tenant, attribution): credits for _, _, tenant, attribution, credits, _ in rows}


# --- The seed's acceptance example and the sum invariant, on both engines -------------------------------

def test_acceptance_example_dedicated_and_proportional(session: WarehouseSession) -> None:
    rows = attribute(session, metered=[
        Metered("2026-03-01 09:00", "WH_ACME", "40"), Metered("2026-03-01 10:00", "WH_ACME", "2"),
        Metered("2026-03-01 10:00", "WH_SHARED", "10"), Metered("2026-03-01 11:00", "WH_SHARED", "7"),
    ], queries=[
        Query("q1", "WH_SHARED", "6", query_tag="TENANT_ID=globex"),
        Query("q2", "WH_SHARED", "2", query_tag="TENANT_ID=initech"),
        Query("q3", "WH_ACME", "30", query_tag="TENANT_ID=globex"),  # dedicated: queries do not matter
    ], tags=[Tag("WH_ACME", "acme")])
    assert rows == [
        (DAY, "WH_ACME", "acme", "dedicated", Decimal("42"), Decimal("105")),
        (DAY, "WH_SHARED", "globex", "proportional", Decimal("12.75"), Decimal("38.25")),
        (DAY, "WH_SHARED", "initech", "proportional", Decimal("4.25"), Decimal("12.75")),
    ]
    shared = [row for row in rows if row[1] == "WH_SHARED"]
    assert sum(row[4] for row in shared) == Decimal("17")
    assert sum(row[5] for row in shared) == Decimal("51.000000")
    costs = session.rows("SELECT warehouse_name, SUM(CAST(cost_usd AS DECIMAL(38, 6))) AS cost "
                         "FROM metering.snowflake_credit_daily GROUP BY warehouse_name ORDER BY warehouse_name")
    assert [str(row["cost"]) for row in costs] == ["105.000000", "51.000000"]


def test_residue_goes_to_the_largest_share_and_parts_add_up_exactly(session: WarehouseSession) -> None:
    rows = attribute(session, metered=[Metered("2026-03-01 10:00", "WH_SHARED", "1")], queries=[
        Query("q1", "WH_SHARED", "1", query_tag="TENANT_ID=wayne"),
        Query("q2", "WH_SHARED", "1", query_tag="TENANT_ID=globex"),
        Query("q3", "WH_SHARED", "1", query_tag="TENANT_ID=acme"),
    ])
    # 1/3 each: floors of 0.333333333, the 1e-9 residue to the tie that sorts first (acme).
    assert credits_by_tenant(rows) == {("acme", "proportional"): Decimal("0.333333334"),
                                       ("globex", "proportional"): Decimal("0.333333333"),
                                       ("wayne", "proportional"): Decimal("0.333333333")}
    assert sum(row[4] for row in rows) == 1
    assert sum(row[5] for row in rows) == Decimal("3.00")


# --- Who is the tenant of a query ---------------------------------------------------------------------

TAGGED_QUERIES = [
    Query("semicolon", "WH_SHARED", "1", query_tag="app=dash;TENANT_ID=acme;team=bi"),
    Query("comma", "WH_SHARED", "2", query_tag="app=etl, tenant_id = globex ,job=nightly"),
    Query("json", "WH_SHARED", "3", query_tag='{"job": "load", "Tenant_Id": "initech"}'),
    Query("user_tag", "WH_SHARED", "4", user_name="SVC_UMBRELLA", query_tag="app=sync"),
    Query("tag_wins", "WH_SHARED", "5", user_name="SVC_UMBRELLA", query_tag="TENANT_ID=wayne"),
    Query("untagged", "WH_SHARED", "6", user_name="ANALYST", query_tag=None),
    Query("empty_value", "WH_SHARED", "7", user_name="ANALYST", query_tag="TENANT_ID="),
    Query("other_key", "WH_SHARED", "8", user_name="ANALYST", query_tag="OLD_TENANT_ID=acme"),
]


def test_each_query_tag_format_and_the_user_tag_fallback(session: WarehouseSession) -> None:
    rows = attribute(session, metered=[Metered("2026-03-01 10:00", "WH_SHARED", "36")], queries=TAGGED_QUERIES,
                     tags=[Tag("SVC_UMBRELLA", "umbrella", domain="USER"),
                           Tag("ANALYST", "acme", domain="USER", object_deleted="2026-02-01 00:00")])
    # A = M = 36, so each tenant gets exactly its queries' credits.
    assert credits_by_tenant(rows) == {
        ("acme", "proportional"): Decimal("1"), ("globex", "proportional"): Decimal("2"),
        ("initech", "proportional"): Decimal("3"), ("umbrella", "proportional"): Decimal("4"),
        ("wayne", "proportional"): Decimal("5"), (None, "unattributed"): Decimal("21"),
    }


@pytest.mark.parametrize("tag, tenant", [
    ("TENANT_ID=acme", "acme"), ("tenant_id=acme;app=x", "acme"), ("app=x,Tenant_Id= acme ", "acme"),
    ('{"tenant_id":"acme"}', "acme"), (' {"TENANT_ID" : "acme", "x": 1}', "acme"), ("TENANT_ID=", None),
    ("XTENANT_ID=acme", None), ('{"tenant_id": 42}', None), ("", None), (None, None),
    ("TENANT_ID=acme;TENANT_ID=globex", "acme"),
])
def test_query_tag_reference_rule(tag: str | None, tenant: str | None) -> None:
    assert query_tag_tenant(tag, "TENANT_ID") == tenant


def test_tenant_tag_with_characters_a_pattern_cannot_hold_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="snowflake.tenant_tag"):
        query_tag_tenant("x", "TENANT-ID")


def test_deleted_warehouse_tag_makes_the_warehouse_shared(session: WarehouseSession) -> None:
    rows = attribute(session, metered=[Metered("2026-03-01 10:00", "WH_OLD", "10")],
                     queries=[Query("q1", "WH_OLD", "4", query_tag="TENANT_ID=globex")],
                     tags=[Tag("WH_OLD", "acme", object_deleted="2026-02-20 08:00")])
    assert credits_by_tenant(rows) == {("globex", "proportional"): Decimal("10")}


# --- Idle ---------------------------------------------------------------------------------------------

def test_metered_day_without_queries_is_all_idle(session: WarehouseSession) -> None:
    rows = attribute(session, metered=[Metered("2026-03-01 03:00", "WH_ETL", "2.5")],
                     queries=[Query("q1", "WH_ETL", "1", start_time="2026-03-02 03:00", query_tag="TENANT_ID=acme")])
    assert rows == [(DAY, "WH_ETL", None, "idle", Decimal("2.5"), Decimal("7.5"))]


IDLE_USAGE = dict(metered=[Metered("2026-03-01 10:00", "WH_SHARED", "10")], queries=[
    Query("q1", "WH_SHARED", "3", query_tag="TENANT_ID=acme"),
    Query("q2", "WH_SHARED", "1", query_tag="TENANT_ID=globex"),
    Query("q3", "WH_SHARED", "1"),
])


def test_proportional_policy_spreads_idle_over_the_queries(session: WarehouseSession) -> None:
    rows = attribute(session, **IDLE_USAGE, policy="proportional")
    assert credits_by_tenant(rows) == {("acme", "proportional"): Decimal("6"), ("globex", "proportional"): Decimal("2"),
                                       (None, "unattributed"): Decimal("2")}


def test_separate_policy_keeps_idle_apart(session: WarehouseSession) -> None:
    rows = attribute(session, **IDLE_USAGE, policy="separate")
    assert credits_by_tenant(rows) == {("acme", "proportional"): Decimal("3"), ("globex", "proportional"): Decimal("1"),
                                       (None, "unattributed"): Decimal("1"), (None, "idle"): Decimal("5")}


def test_separate_policy_never_gives_negative_idle_when_queries_exceed_metering(session: WarehouseSession) -> None:
    rows = attribute(session, metered=[Metered("2026-03-01 10:00", "WH_SHARED", "2")], policy="separate",
                     queries=[Query("q1", "WH_SHARED", "3", query_tag="TENANT_ID=acme"),
                              Query("q2", "WH_SHARED", "1", query_tag="TENANT_ID=globex")])
    assert credits_by_tenant(rows) == {("acme", "proportional"): Decimal("1.5"),
                                       ("globex", "proportional"): Decimal("0.5")}


# --- Prices -------------------------------------------------------------------------------------------

def test_price_change_mid_month_and_warehouse_price(session: WarehouseSession) -> None:
    rows = attribute(session, metered=[
        Metered("2026-03-14 23:00", "WH_SHARED", "10"), Metered("2026-03-15 00:00", "WH_SHARED", "10"),
        Metered("2026-03-14 12:00", "WH_ACME", "4"), Metered("2026-03-15 12:00", "WH_ACME", "4"),
    ], tags=[Tag("WH_ACME", "acme")], start=dt.date(2026, 3, 1), end=dt.date(2026, 4, 1))
    assert [(row[0], row[1], row[5]) for row in rows] == [
        (dt.date(2026, 3, 14), "WH_ACME", Decimal("10")),     # 4 x 2.50, the warehouse's own price
        (dt.date(2026, 3, 14), "WH_SHARED", Decimal("30")),   # 10 x 3.00 until the 15th
        (dt.date(2026, 3, 15), "WH_ACME", Decimal("10")),     # its own price does not change
        (dt.date(2026, 3, 15), "WH_SHARED", Decimal("32")),   # 10 x 3.20 from the 15th
    ]


def test_no_price_in_force_leaves_cost_null(session: WarehouseSession) -> None:
    relations = create_usage_relations(session)
    session.execute(TABLES_SQL)
    insert_usage(session, relations, metered=[Metered("2025-12-31 10:00", "WH_SHARED", "1")])
    attribute_credits(session, relations, snowflake_settings(), dt.date(2025, 12, 31), dt.date(2026, 1, 1))
    assert session.rows("SELECT credits, cost_usd FROM metering.snowflake_credit_daily") == [
        {"credits": Decimal("1.000000000000"), "cost_usd": None}]


# --- As Snowflake bills: cloud services above 10 %, query acceleration, tags by object id ---------------------

D1, D2 = dt.date(2026, 3, 1), dt.date(2026, 3, 2)


def test_cloud_services_are_billed_above_ten_percent_and_shared_by_compute(session: WarehouseSession) -> None:
    """Day 1: 1.5 cloud-services credits for 20 compute credits, under 10 %: nothing billed. Day 2: 3.4 for
    10, so 3.4 - 1.0 = 2.4 billed, shared by the day's compute rows (4 : 3 : 3). Query acceleration goes to
    the query's tenant, or to the warehouse's on a dedicated warehouse."""
    rows = attribute(session, start=D1, end=D2 + dt.timedelta(days=1), metered=[
        Metered("2026-03-01 09:00", "WH_ACME", "8", cloud_services="0.5", warehouse_id=101),
        Metered("2026-03-01 09:00", "WH_SHARED", "12", cloud_services="1.0", warehouse_id=102),
        Metered("2026-03-02 09:00", "WH_ACME", "4", cloud_services="2.0", warehouse_id=101),
        Metered("2026-03-02 09:00", "WH_SHARED", "6", cloud_services="1.4", warehouse_id=102),
    ], queries=[
        Query("q1", "WH_SHARED", "6", start_time="2026-03-01 09:05", query_tag="TENANT_ID=globex"),
        Query("q2", "WH_SHARED", "2", start_time="2026-03-01 09:06", query_tag="TENANT_ID=initech"),
        Query("q3", "WH_SHARED", "3", start_time="2026-03-02 09:05", query_tag="TENANT_ID=globex", acceleration="0.5"),
        Query("q4", "WH_SHARED", "3", start_time="2026-03-02 09:06"),
        Query("q5", "WH_ACME", "1", start_time="2026-03-02 09:07", query_tag="TENANT_ID=globex", acceleration="0.25"),
    ], tags=[Tag("WH_ACME", "acme", object_id=101)])
    d = Decimal
    assert rows == sorted([
        (D1, "WH_ACME", "acme", "dedicated", d("8"), d("20")),          # 8 x 2.50
        (D1, "WH_SHARED", "globex", "proportional", d("9"), d("27")),   # 12 x 6/8, x 3.00
        (D1, "WH_SHARED", "initech", "proportional", d("3"), d("9")),
        (D2, "WH_ACME", "acme", "dedicated", d("4"), d("10")),
        (D2, "WH_ACME", "acme", "cloud_services", d("0.96"), d("2.4")),  # 2.4 x 4/10
        (D2, "WH_ACME", "acme", "query_acceleration", d("0.25"), d("0.625")),
        (D2, "WH_SHARED", "globex", "proportional", d("3"), d("9")),
        (D2, "WH_SHARED", None, "unattributed", d("3"), d("9")),
        (D2, "WH_SHARED", "globex", "cloud_services", d("0.72"), d("2.16")),
        (D2, "WH_SHARED", None, "cloud_services", d("0.72"), d("2.16")),
        (D2, "WH_SHARED", "globex", "query_acceleration", d("0.5"), d("1.5")),
    ], key=repr)
    # The day adds up to what Snowflake bills: compute + billed cloud services + query acceleration.
    assert sum(credits for day, *_, credits, _ in rows if day == D2) == d("10") + d("2.4") + d("0.75")


def test_a_renamed_warehouse_keeps_its_tag_and_other_databases_tags_attribute_nothing(
        session: WarehouseSession) -> None:
    rows = attribute(session, metered=[
        Metered("2026-03-01 08:00", "WH_ACME_OLD", "1", warehouse_id=101),   # before the rename
        Metered("2026-03-01 09:00", "WH_ACME", "2", warehouse_id=101),
        Metered("2026-03-01 09:00", "WH_SHARED", "4", warehouse_id=102),
    ], queries=[Query("q1", "WH_SHARED", "1", warehouse_id=102)],
        tags=[Tag("WH_ACME", "acme", object_id=101, tag_database="COST_MANAGEMENT", tag_schema="TAGS"),
              # The same tag name in a sandbox database: not the configured tag, so WH_SHARED stays shared.
              Tag("WH_SHARED", "umbrella", object_id=102, tag_database="SANDBOX", tag_schema="TAGS")])
    assert [(warehouse, tenant, attribution, credits) for _, warehouse, tenant, attribution, credits, _ in rows] == [
        ("WH_ACME", "acme", "dedicated", Decimal("2")), ("WH_ACME_OLD", "acme", "dedicated", Decimal("1")),
        ("WH_SHARED", None, "unattributed", Decimal("4"))]


# --- Production: ACCOUNT_USAGE read in place -------------------------------------------------------------

def test_prod_reads_account_usage_in_place_on_fakesnow(fakesnow_connection) -> None:
    session = SnowflakeSession(fakesnow_connection)
    session.execute("CREATE DATABASE IF NOT EXISTS SNOWFLAKE")
    in_place = create_usage_relations(session, schema="SNOWFLAKE.ACCOUNT_USAGE")
    insert_usage(session, in_place, metered=[Metered("2026-03-01 10:00", "WH_SHARED", "17")],
                 queries=[Query("q1", "WH_SHARED", "6", query_tag="TENANT_ID=globex"),
                          Query("q2", "WH_SHARED", "2", user_name="SVC_INITECH")],
                 tags=[Tag("SVC_INITECH", "initech", domain="USER")])
    relations = SnowflakeAccountUsage().relations(session)
    assert relations.query_attribution_history == "SNOWFLAKE.ACCOUNT_USAGE.QUERY_ATTRIBUTION_HISTORY"
    session.execute(TABLES_SQL)
    attribute_credits(session, relations, snowflake_settings(), DAY, DAY + dt.timedelta(days=1))
    rows = session.rows("SELECT tenant_id, credits, cost_usd FROM metering.snowflake_credit_daily ORDER BY tenant_id")
    assert rows == [{"tenant_id": "globex", "credits": Decimal("12.750000000000"), "cost_usd": Decimal("38.250000")},
                    {"tenant_id": "initech", "credits": Decimal("4.250000000000"), "cost_usd": Decimal("12.750000")}]
    assert untagged_users(session, relations, snowflake_settings(), DAY, DAY + dt.timedelta(days=1))[0]["user_name"] \
        == "ANALYST"
    # The session is UTC from the connection's session parameters (no ALTER SESSION, which fakesnow lacks).
    assert SnowflakeAccountUsage().session_statements == []


# --- End to end through the Definitions ---------------------------------------------------------------------

SETTINGS = """\
partitions_start: 2026-01-01
unattributed_threshold:
  - {effective_from: 2026-01-01, effective_to: null, value: 0.02}
snowflake:
  tenant_tag: TENANT_ID
  idle_policy: proportional
  credit_price_usd:
    - {effective_from: 2026-01-01, effective_to: null, price: 3.00}
    - {effective_from: 2026-01-01, effective_to: null, price: 2.50, warehouse: WH_ACME}
"""
SELECTION = ["metering/snowflake_credit_daily", "landing/snowflake_account_usage", "metering/snowflake_recurring_query_cost",
             "metering/snowflake_hierarchical_query_cost"]


def test_run_writes_credits_reports_and_checks_and_is_idempotent(target) -> None:
    (target.config_dir / "settings.yaml").write_text(SETTINGS, encoding="utf-8")
    write_exports(target.source_dir, metered=[
        Metered("2026-03-01 09:00", "WH_ACME", "42"), Metered("2026-03-01 10:00", "WH_SHARED", "17"),
        Metered("2026-03-02 02:00", "WH_SHARED", "3"),
    ], queries=[
        Query("root", "WH_SHARED", "1", query_tag="TENANT_ID=globex", query_parameterized_hash="h1"),
        Query("child", "WH_SHARED", "5", query_tag="TENANT_ID=globex", query_parameterized_hash="h1",
              root_query_id="root"),
        Query("q3", "WH_SHARED", "2", user_name="SVC_INITECH", query_parameterized_hash="h2"),
        Query("q4", "WH_SHARED", "0.5", user_name="BOB", query_parameterized_hash="h2",
              start_time="2026-03-02 02:10"),
    ], tags=[Tag("WH_ACME", "acme"), Tag("SVC_INITECH", "initech", domain="USER")])

    summary = run_range(target, dt.date(2026, 3, 1), dt.date(2026, 3, 3), selection=SELECTION)
    assert query(target, "SELECT cost_date, warehouse_name, tenant_id, attribution, credits, cost_usd "
                         "FROM metering.snowflake_credit_daily ORDER BY ALL") == [
        (DAY, "WH_ACME", "acme", "dedicated", Decimal("42"), Decimal("105")),
        (DAY, "WH_SHARED", "globex", "proportional", Decimal("12.75"), Decimal("38.25")),
        (DAY, "WH_SHARED", "initech", "proportional", Decimal("4.25"), Decimal("12.75")),
        (dt.date(2026, 3, 2), "WH_SHARED", None, "unattributed", Decimal("3"), Decimal("9")),
    ]
    checks = {(check, passed) for asset, check, passed, _ in summary.checks if asset == SELECTION[0]}
    assert ("landing/snowflake_account_usage", "snowflake_sources_present", True) in {
        check[:3] for check in summary.checks}
    assert checks == {("credit_price_found", True),
                      ("credits_reconcile_with_metering", True),
                      ("credits_without_tenant_within_threshold", False),  # 2026-03-02 is all unattributed
                      ("no_untagged_users", False)}                        # BOB has no tenant tag
    assert query(target, "SELECT month_start, cost_rank, query_parameterized_hash, query_count, credits, cost_usd "
                         "FROM metering.snowflake_recurring_query_cost ORDER BY cost_rank") == [
        (DAY, 1, "h1", 2, Decimal("6"), Decimal("18")), (DAY, 2, "h2", 2, Decimal("2.5"), Decimal("7.5"))]
    assert query(target, "SELECT root_query_id, query_count, credits, cost_usd "
                         "FROM metering.snowflake_hierarchical_query_cost") == [("root", 2, Decimal("6"), Decimal("18"))]

    before = dump_tables(target)
    run_range(target, dt.date(2026, 3, 1), dt.date(2026, 3, 3), selection=SELECTION)
    assert dump_tables(target) == before


def test_parquet_exports_are_read_in_place_and_csv_exports_are_landed(target) -> None:
    """Parquet: landing.snowflake_* are views over the files; CSV: tables. Same credits either way."""
    (target.config_dir / "settings.yaml").write_text(SETTINGS, encoding="utf-8")
    rows = dict(metered=[Metered("2026-03-01 09:00", "WH_ACME", "42"), Metered("2026-03-01 10:00", "WH_SHARED", "17")],
                queries=[Query("q1", "WH_SHARED", "3", query_tag="TENANT_ID=globex"),
                         Query("q2", "WH_SHARED", "1", user_name="SVC_INITECH")],
                tags=[Tag("WH_ACME", "acme"), Tag("SVC_INITECH", "initech", domain="USER")])
    kinds = ("SELECT table_name, table_type FROM information_schema.tables "
             "WHERE table_schema = 'landing' ORDER BY table_name")
    credits = "SELECT * FROM metering.snowflake_credit_daily ORDER BY ALL"
    landing = [f"landing.snowflake_{name}" for name in ("query_attribution_history", "tag_references",
                                                        "warehouse_metering_history")]

    write_exports(target.source_dir, **rows, file_format="parquet")
    run_range(target, DAY, DAY + dt.timedelta(days=1), selection=SELECTION[:2])
    assert {kind for _, kind in query(target, kinds)} == {"VIEW"}
    from_parquet = query(target, credits)
    assert query(target, "SELECT warehouse_name, tenant_id, attribution, credits FROM metering.snowflake_credit_daily "
                         "ORDER BY ALL") == [("WH_ACME", "acme", "dedicated", Decimal("42")),
                                             ("WH_SHARED", "globex", "proportional", Decimal("12.75")),
                                             ("WH_SHARED", "initech", "proportional", Decimal("4.25"))]
    landed_parquet = {name: query(target, f"SELECT * FROM {name} ORDER BY ALL") for name in landing}

    write_exports(target.source_dir, **rows, file_format="csv")
    run_range(target, DAY, DAY + dt.timedelta(days=1), selection=SELECTION[:2])
    assert {kind for _, kind in query(target, kinds)} == {"BASE TABLE"}
    assert query(target, credits) == from_parquet
    assert {name: query(target, f"SELECT * FROM {name} ORDER BY ALL") for name in landing} == landed_parquet

    write_exports(target.source_dir, **rows, file_format="parquet")  # and back: the tables give way to views
    run_range(target, DAY, DAY + dt.timedelta(days=1), selection=SELECTION[:2])
    assert {kind for _, kind in query(target, kinds)} == {"VIEW"}
    assert query(target, credits) == from_parquet


def test_bad_export_names_file_line_and_rule_and_writes_nothing(target) -> None:
    (target.config_dir / "settings.yaml").write_text(SETTINGS, encoding="utf-8")
    write_exports(target.source_dir, metered=[Metered("2026-03-01 09:00", "WH_A", "1"),
                                              Metered("2026-03-01 10:00", "WH_A", "-2")])
    assert validate_inputs(target) == [
        "snowflake/warehouse_metering_history.csv: line 3: column 'CREDITS_USED_COMPUTE' must not be negative"]
    with pytest.raises(RunFailed, match="warehouse_metering_history.csv: line 3"):
        run_range(target, DAY, DAY + dt.timedelta(days=1), selection=SELECTION[:2])
    assert "metering.snowflake_credit_daily" not in dump_tables(target)


def test_duplicate_query_in_export_is_an_error(target) -> None:
    write_exports(target.source_dir, queries=[Query("q1", "WH_A", "1"), Query("q1", "WH_A", "1")])
    from costattr_pipeline.lib.snowflake_usage import QUERY_ATTRIBUTION_HISTORY, read_usage_export

    with pytest.raises(SourceError, match=r"query_attribution_history.csv: line 3: duplicate \(QUERY_ID\)"):
        read_usage_export(target.source_dir / "snowflake", QUERY_ATTRIBUTION_HISTORY)


# --- Schedule -------------------------------------------------------------------------------------------------

def test_every_4_hours_over_a_trailing_window_including_today(target) -> None:
    project = Project(Settings(partitions_start=dt.date(2026, 1, 1)))
    tick = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.timezone.utc)
    assert provisional_range(tick, project) == (dt.date(2026, 2, 28), dt.date(2026, 3, 2))
    assert report_months(tick, project) == ("2026-02-01", "2026-03-01")
    defs = build_definitions(target)
    schedule = defs.resolve_schedule_def("snowflake_credits_every_4_hours")
    assert schedule.cron_schedule == "0 */4 * * *"
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=tick)
        request = next(iter(schedule.evaluate_tick(context).run_requests))
    assert request.tags["dagster/asset_partition_range_start"] == "2026-02-28"
    assert request.tags["dagster/asset_partition_range_end"] == "2026-03-02"


# --- Append-only (spec NFR-024): a recomputed day is a new version; the view shows the current one -----------

def _version(name: str, at: str) -> Computation:
    return Computation(computation_id=name, computed_at=dt.datetime.fromisoformat(at), config_hash="h",
                       source_load_ids="landing.snowflake_warehouse_metering_history")


def _credits(rows: list[dict]) -> list[tuple]:
    return sorted(((row["tenant_id"], row["attribution"], Decimal(str(row["credits"])).normalize())
                   for row in rows), key=repr)


def test_a_recomputed_day_is_a_new_version_and_as_of_answers_with_the_earlier_one(session: WarehouseSession) -> None:
    relations = create_usage_relations(session)
    session.execute(TABLES_SQL)
    settings, end = snowflake_settings(), DAY + dt.timedelta(days=1)
    insert_usage(session, relations, [Metered("2026-03-01 10:00", "WH_SHARED", "10")],
                 [Query("q1", "WH_SHARED", "6", query_tag="TENANT_ID=globex"),
                  Query("q2", "WH_SHARED", "2", query_tag="TENANT_ID=initech")])
    attribute_credits(session, relations, settings, DAY, end, _version("run-1", "2026-03-02 06:00:00"))
    # A late query lands (ACCOUNT_USAGE lags): the day is recomputed by a later run.
    insert_usage(session, relations, queries=[Query("q3", "WH_SHARED", "2", query_tag="TENANT_ID=initech")])
    attribute_credits(session, relations, settings, DAY, end, _version("run-2", "2026-03-02 10:00:00"))
    assert credit_mismatches(session, relations, DAY, end) == []

    versions = session.rows("SELECT computation_id, COUNT(*) AS row_count FROM metering.snowflake_credit_daily "
                            "GROUP BY computation_id ORDER BY computation_id")
    assert [(row["computation_id"], row["row_count"]) for row in versions] == [("run-1", 2), ("run-2", 2)]
    current = session.rows("SELECT * FROM metering.v_snowflake_credit_daily")
    assert {row["computation_id"] for row in current} == {"run-2"}
    assert _credits(current) == [("globex", "proportional", Decimal("6")), ("initech", "proportional", Decimal("4"))]
    # As of a time between the two computations: the first; before the first: nothing; after: the second.
    assert _credits(credits_as_of(session, DAY, end, dt.datetime(2026, 3, 2, 8))) == [
        ("globex", "proportional", Decimal("7.5")), ("initech", "proportional", Decimal("2.5"))]
    assert {row["computation_id"] for row in credits_as_of(session, DAY, end, dt.datetime(2026, 3, 2, 8))} == {"run-1"}
    assert credits_as_of(session, DAY, end, dt.datetime(2026, 3, 2, 5)) == []
    assert _credits(credits_as_of(session, DAY, end, dt.datetime(2026, 3, 3))) == _credits(current)

    # The same input again: nothing is appended (the tables stay as they were), the view is unchanged.
    attribute_credits(session, relations, settings, DAY, end, _version("run-3", "2026-03-02 14:00:00"))
    assert session.scalar("SELECT COUNT(*) FROM metering.snowflake_credit_daily") == 4
    assert session.scalar("SELECT COUNT(*) FROM metering.snowflake_credit_daily_computations") == 2
    assert {row["computation_id"] for row in session.rows("SELECT * FROM metering.v_snowflake_credit_daily")} == {
        "run-2"}


def test_a_day_that_loses_its_rows_is_an_empty_version(session: WarehouseSession) -> None:
    relations = create_usage_relations(session)
    session.execute(TABLES_SQL)
    settings, end = snowflake_settings(), DAY + dt.timedelta(days=1)
    insert_usage(session, relations, [Metered("2026-03-01 10:00", "WH_SHARED", "10")])
    attribute_credits(session, relations, settings, DAY, end, _version("run-1", "2026-03-02 06:00:00"))
    assert session.scalar("SELECT COUNT(*) FROM metering.v_snowflake_credit_daily") == 1
    # The metering row is withdrawn at the source: the day's current version is empty, the earlier one stays.
    session.execute(f"DELETE FROM {relations.warehouse_metering_history}")
    attribute_credits(session, relations, settings, DAY, end, _version("run-2", "2026-03-02 10:00:00"))
    assert session.scalar("SELECT COUNT(*) FROM metering.v_snowflake_credit_daily") == 0
    assert session.scalar("SELECT COUNT(*) FROM metering.snowflake_credit_daily") == 1
    assert session.rows("SELECT computation_id, row_count FROM metering.snowflake_credit_daily_computations "
                        "ORDER BY computed_at") == [{"computation_id": "run-1", "row_count": 1},
                                                    {"computation_id": "run-2", "row_count": 0}]
