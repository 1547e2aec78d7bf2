"""Billing end to end: sources -> daily tenant summary -> bills -> unit economics, by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costattr_pipeline.defs.attribution.tenant_summary.daily_tenant_summary import (SUMMARY_SQL, TABLES_SQL,
                                                                                     present_sources, source_rows)
from costattr_pipeline.defs.ingest.usage.external_api_costs import TABLES_SQL as EXTERNAL_TABLES_SQL
from costattr_pipeline.defs.ingest.usage.usage_events import CONFLICTS_SQL, UNIQUE_IN_WINDOW
from costattr_pipeline.defs.ingest.usage.usage_events import TABLES_SQL as USAGE_TABLES_SQL
from costattr_pipeline.resources.warehouse import DuckDBSession, SnowflakeSession, WarehouseSession
from costattr_pipeline.runner import RunFailed, run_range
from costattr_pipeline.target import Target
from costattr_pipeline_tests.builders import group, page, write_config, write_fetch
from costattr_pipeline_tests.conftest import dump_tables, query

D = Decimal
FEB, MAR = dt.date(2026, 2, 1), dt.date(2026, 3, 1)
RATE_CARD = """\
versions:
  - version: "2026.1"
    effective_from: 2026-01-01
    effective_to: 2026-02-14
    currency: USD
    customer_levy: {standard: 280.00, premium: 560.00}
    facility_fee: {risk-engine: 140.00, reporting: 56.00}
    variable:
      api_calls:
        tiers: [{up_to: 1000, unit_price: 0.10}, {up_to: 2000, unit_price: 0.05}, {up_to: null, unit_price: 0.01}]
    pass_through_markup_pct: 10
  - version: "2026.2"
    effective_from: 2026-02-14
    effective_to: null
    currency: USD
    customer_levy: {standard: 999.00, premium: 9999.00}
    facility_fee: {risk-engine: 999.00, reporting: 999.00}
    variable:
      api_calls:
        tiers: [{up_to: null, unit_price: 9}]
    pass_through_markup_pct: 99
"""
TENANTS = """\
tiers:
  standard: {included: {api_calls: 500}}
  premium: {included: {api_calls: 5000}}
tenants:
  acme:
    tiers:
      - {tier: standard, effective_from: 2026-01-01, effective_to: 2026-02-08}
      - {tier: premium, effective_from: 2026-02-08, effective_to: null}
    modules:
      - {module_id: risk-engine, effective_from: 2026-01-01, effective_to: null}
      - {module_id: reporting, effective_from: 2026-02-22, effective_to: null}
  globex:
    tiers: [{tier: standard, effective_from: 2026-01-01, effective_to: null}]
"""
# e3 is delivered twice (a retry, 5 s later): it counts once. hooli is not a tenant. e9 is March.
USAGE_EVENTS = """\
event_id,tenant_id,module_id,metric,quantity,event_time
e1,acme,risk-engine,api_calls,1000,2026-02-02T10:00:00
e2,acme,risk-engine,api_calls,1300,2026-02-10T11:00:00Z
e3,acme,reporting,api_calls,700,2026-02-20T12:00:00
e3,acme,reporting,api_calls,700,2026-02-20T12:00:05
e5,globex,,api_calls,400,2026-02-05T08:00:00
e7,hooli,,api_calls,10,2026-02-05T08:00:00
e9,acme,risk-engine,api_calls,99999,2026-03-01T00:00:00
"""
EXTERNAL_COSTS = """\
cost_date,tenant_id,module_id,provider,amount,currency
2026-02-03,acme,risk-engine,openai,10.00,USD
2026-02-04,acme,reporting,bloomberg,2.35,
2026-02-04,,,pagerduty,1.00,USD
"""


def _write_sources(target: Target) -> None:
    write_config(target.config_dir, "rate_card.yaml", RATE_CARD)
    write_config(target.config_dir, "tenants.yaml", TENANTS)
    usage = Path(target.source_dir) / "usage"
    usage.mkdir(parents=True, exist_ok=True)
    (usage / "usage_events.csv").write_text(USAGE_EVENTS, encoding="utf-8")
    (usage / "external_api_costs.csv").write_text(EXTERNAL_COSTS, encoding="utf-8")
    groups = [group("acme", "EC2", "100.0000000001"), group("globex", "EC2", "50"), group(None, "VPC", "5")]
    write_fetch(target.source_dir, "fetch-1.json", page({"2026-02-01": groups, "2026-02-02": groups}))


def test_bills_margins_and_summary_by_hand(target: Target) -> None:
    _write_sources(target)
    summary = run_range(target, FEB, MAR)

    bills = query(target, "SELECT tenant_id, period_start, period_end, rate_card_version, customer_levy, facility_fee, "
                          "variable_consumption, pass_through, total, currency, allowance_tier, provisional "
                          "FROM metering.billing_period_summary ORDER BY tenant_id")
    assert bills == [
        # acme: levy (280 x 7 + 560 x 21) / 28 = 490; fees 140 + 56 x 7 / 28 = 154;
        # usage 3000 (e3 once) - 500 (standard on Feb 1) = 2500: 1000 x 0.10 + 1000 x 0.05 + 500 x 0.01 = 155;
        # pass-through 12.35 x 1.10 = 13.585 -> 13.59. Version 2026.2 starts Feb 14: February keeps 2026.1.
        ("acme", FEB, dt.date(2026, 2, 28), "2026.1", D("490.00"), D("154.00"), D("155.00"), D("13.59"),
         D("812.59"), "USD", "standard", False),
        # globex: a whole month of standard; 400 calls are inside the 500 allowance.
        ("globex", FEB, dt.date(2026, 2, 28), "2026.1", D("280.00"), D("0.00"), D("0.00"), D("0.00"),
         D("280.00"), "USD", "standard", False),
    ]

    day_rows = query(target, "SELECT cost_date, tenant_id, resource_type, cost_usd FROM metering.daily_tenant_summary "
                             "ORDER BY cost_date, tenant_id NULLS FIRST, resource_type")
    assert day_rows[:3] == [(FEB, None, "aws", D("5")), (FEB, "acme", "aws", D("100.0000000001")),
                            (FEB, "globex", "aws", D("50"))]
    assert (dt.date(2026, 2, 4), None, "external_api", D("1")) in day_rows
    assert query(target, "SELECT SUM(cost_usd) FROM metering.daily_tenant_summary") == [(D("323.3500000002"),)]

    economics = query(target, "SELECT tenant_id, revenue, attributed_cost, gross_margin, gross_margin_pct "
                              "FROM metering.unit_economics ORDER BY tenant_id")
    assert economics == [
        # acme cost: 2 x 100.0000000001 (AWS) + 12.35 (external) = 212.3500000002
        ("acme", D("812.59"), D("212.3500000002"), D("600.2399999998"), D("73.8675")),
        ("globex", D("280.00"), D("100"), D("180"), D("64.2857")),
    ]
    usage_lines = query(target, "SELECT tenant_id, usage_quantity, allowance, billable_quantity, amount "
                                "FROM metering.billing_period_usage ORDER BY tenant_id")
    assert usage_lines == [("acme", D(3000), D(500), D(2500), D(155)), ("globex", D(400), D(500), D(0), D(0))]
    # The config each bill used is stored once, effective-dated, under the bill's config_hash.
    assert query(target, "SELECT v.version, v.effective_from, v.effective_to FROM config.rate_card_versions v "
                         "JOIN metering.billing_period_summary b ON b.config_hash = v.config_hash "
                         "AND b.rate_card_version = v.version WHERE b.tenant_id = 'acme'") == [
        ("2026.1", dt.date(2026, 1, 1), dt.date(2026, 2, 14))]

    # Sources this test does not provide (Snowflake, Databricks) only WARN that they are missing.
    failed = {(asset, check, severity) for asset, check, passed, severity in summary.checks
              if not passed and not check.endswith(("_source_present", "_sources_present"))}
    # hooli's usage is not billed (WARN); e3's two copies have the same content (no conflict); 5 of 155
    # AWS dollars are untagged (> 2 %). Every ERROR check (reconciliations, totals) passed.
    assert failed == {("metering/billing_period_summary", "all_usage_billed", "WARN"),
                      ("metering/unattributed_costs", "unattributed_share_within_threshold", "WARN")}

    # Same inputs, same warehouse: identical contents.
    before = dump_tables(target)
    run_range(target, FEB, MAR)
    assert dump_tables(target) == before


def test_invalid_rate_card_fails_before_writing(target: Target) -> None:
    _write_sources(target)
    run_range(target, FEB, MAR, selection=["metering/usage_events", "metering/external_api_costs",
                                           "metering/billing_period_summary"])
    before = dump_tables(target)
    write_config(target.config_dir, "rate_card.yaml", RATE_CARD.replace("premium: 560.00", "premium: -560.00"))
    with pytest.raises(RunFailed) as raised:
        run_range(target, FEB, MAR, selection=["metering/billing_period_summary"])
    assert "rate_card.yaml: versions[0].customer_levy: 'premium' must not be negative" in str(raised.value)
    assert dump_tables(target) == before


def test_malformed_usage_file_names_file_line_and_column(target: Target) -> None:
    usage = Path(target.source_dir) / "usage"
    usage.mkdir(parents=True)
    (usage / "usage_events.csv").write_text(USAGE_EVENTS.replace("1300", "-5"), encoding="utf-8")
    with pytest.raises(RunFailed, match=r"usage/usage_events.csv: line 3: column 'quantity' must not be negative"):
        run_range(target, FEB, MAR, selection=["metering/usage_events"])


def _events(session: WarehouseSession) -> None:
    """e1 is a plain retry; e2 and e4 repeat with another quantity or module; e3's second copy, with
    another tenant, was delivered on a day outside February; e9 conflicts outside it only."""
    session.execute(USAGE_TABLES_SQL)
    session.execute("""
        INSERT INTO metering.usage_events VALUES
         ('e1', 'acme', 'risk-engine', 'api_calls', 10, CAST('2026-02-02 10:00:00' AS TIMESTAMP), CAST('2026-02-02' AS DATE)),
         ('e1', 'acme', 'risk-engine', 'api_calls', 10, CAST('2026-02-02 10:00:05' AS TIMESTAMP), CAST('2026-02-02' AS DATE)),
         ('e2', 'acme', 'risk-engine', 'api_calls', 10, CAST('2026-02-03 10:00:00' AS TIMESTAMP), CAST('2026-02-03' AS DATE)),
         ('e2', 'acme', 'risk-engine', 'api_calls', 11, CAST('2026-02-03 10:00:00' AS TIMESTAMP), CAST('2026-02-03' AS DATE)),
         ('e3', 'acme', NULL, 'api_calls', 1, CAST('2026-02-28 23:59:59' AS TIMESTAMP), CAST('2026-02-28' AS DATE)),
         ('e3', 'globex', NULL, 'api_calls', 1, CAST('2026-03-01 00:00:01' AS TIMESTAMP), CAST('2026-03-01' AS DATE)),
         ('e4', 'acme', NULL, 'api_calls', 1, CAST('2026-02-04 10:00:00' AS TIMESTAMP), CAST('2026-02-04' AS DATE)),
         ('e4', 'acme', 'reporting', 'api_calls', 1, CAST('2026-02-04 10:00:00' AS TIMESTAMP), CAST('2026-02-04' AS DATE)),
         ('e4', 'acme', 'reporting', 'api_calls', 1, CAST('2026-02-04 10:00:00' AS TIMESTAMP), CAST('2026-02-04' AS DATE)),
         ('e9', 'acme', NULL, 'api_calls', 1, CAST('2026-03-02 10:00:00' AS TIMESTAMP), CAST('2026-03-02' AS DATE)),
         ('e9', 'acme', NULL, 'api_calls', 2, CAST('2026-03-02 10:00:00' AS TIMESTAMP), CAST('2026-03-02' AS DATE))""")


def _conflicts(session: WarehouseSession) -> list[tuple]:
    _events(session)
    return [(row["event_id"], int(row["copies"]))
            for row in session.rows(CONFLICTS_SQL, {"start_date": FEB, "end_date": MAR})]


def _counted(session: WarehouseSession, start: dt.date, end: dt.date) -> tuple[list[tuple], list[tuple]]:
    """The events of ``[start, end)`` that count: from the view, and from the window's form billing binds."""
    window = {"start_date": start, "end_date": end}
    select = ("SELECT event_id, tenant_id, module_id, metric, quantity, event_time, usage_date "
              "FROM metering.usage_events_unique WHERE usage_date >= :start_date AND usage_date < :end_date "
              "ORDER BY event_id")
    return ([tuple(row.values()) for row in session.rows(select, window)],
            [tuple(row.values()) for row in session.rows(select, window, UNIQUE_IN_WINDOW)])


def test_conflicting_copies_of_an_event_are_reported_on_both_engines(fakesnow_connection) -> None:
    expected = [("e2", 2), ("e3", 2), ("e4", 3)]
    assert _conflicts(DuckDBSession(duckdb.connect())) == expected
    assert _conflicts(SnowflakeSession(fakesnow_connection)) == expected


@pytest.mark.parametrize("engine", ["duckdb", "snowflake"])
def test_billing_counts_the_events_the_view_counts_from_the_window_alone(engine, fakesnow_connection) -> None:
    """The view ranks every copy ever landed; billing binds the window's form in its place: the window's rows
    and the earlier copies of their ids. e3's globex copy (1 March) is not counted in March: its acme copy
    came first, on 28 February."""
    session = DuckDBSession(duckdb.connect()) if engine == "duckdb" else SnowflakeSession(fakesnow_connection)
    _events(session)
    for start, end in [(FEB, MAR), (MAR, dt.date(2026, 4, 1)), (dt.date(2026, 2, 3), dt.date(2026, 3, 2)),
                       (dt.date(2026, 3, 1), dt.date(2026, 3, 2)), (dt.date(2026, 1, 1), dt.date(2027, 1, 1))]:
        from_view, from_window = _counted(session, start, end)
        assert from_window == from_view, (start, end)
    march, _ = _counted(session, MAR, dt.date(2026, 4, 1))
    assert [row[0] for row in march] == ["e9"]


# --- the summary SQL on both engines, with the Snowflake and Databricks contract tables -------------

PARALLEL_TABLES = """
CREATE SCHEMA IF NOT EXISTS metering;
CREATE TABLE metering.snowflake_credit_daily (cost_date DATE, warehouse_name VARCHAR, tenant_id VARCHAR,
    attribution VARCHAR, credits DECIMAL(38, 12), cost_usd DECIMAL(38, 12));
CREATE TABLE metering.databricks_priced_usage (usage_date DATE, product_id VARCHAR, workspace_id VARCHAR,
    sku_name VARCHAR, usage_unit VARCHAR, usage_quantity DECIMAL(38, 18), unit_price DECIMAL(38, 18),
    cost DECIMAL(38, 18), currency VARCHAR, tenant_id VARCHAR, fx_rate_to_usd DECIMAL(20, 10),
    cost_usd DECIMAL(38, 18));
INSERT INTO metering.snowflake_credit_daily VALUES
 (CAST('2026-02-01' AS DATE), 'WH_SHARED', 'acme', 'proportional', 1.5, 4.5),
 (CAST('2026-02-01' AS DATE), 'WH_SHARED', NULL, 'idle', 0.1, 0.3),
 (CAST('2026-02-01' AS DATE), 'WH_ACME', 'acme', 'dedicated', 2, 5);
INSERT INTO metering.databricks_priced_usage VALUES
 (CAST('2026-02-01' AS DATE), 'octo', 'ws1', 'JOBS', 'DBU', 0.123456789, 0.15, 0.01851851835, 'USD', 'globex', 1,
  0.01851851835),
 (CAST('2026-02-01' AS DATE), 'octo', 'ws1', 'NEW_SKU', 'DBU', 3, NULL, NULL, 'USD', 'globex', NULL, NULL);
-- The summary reads the Snowflake credits through their published view (its owner creates it so).
CREATE VIEW metering.v_snowflake_credit_daily AS SELECT * FROM metering.snowflake_credit_daily;
"""


def _summary_rows(session: WarehouseSession) -> list[tuple]:
    session.execute(EXTERNAL_TABLES_SQL)
    session.execute(TABLES_SQL)
    session.execute(PARALLEL_TABLES)
    session.execute("INSERT INTO metering.external_api_costs (cost_date, tenant_id, module_id, provider, amount, "
                    "currency, fx_rate_to_usd, amount_usd) VALUES "
                    "(CAST('2026-02-01' AS DATE), 'acme', NULL, 'openai', 1.25, 'USD', 1, 1.25)")
    sources = present_sources(session)
    session.execute(SUMMARY_SQL, {"start_date": FEB, "end_date": MAR}, source_rows(sources))
    rows = session.rows("SELECT tenant_id, resource_type, cost_usd FROM metering.daily_tenant_summary")
    return sorted(((row["tenant_id"] or "", row["resource_type"], D(str(row["cost_usd"])).normalize())
                   for row in rows), key=repr)


EXPECTED_SUMMARY = sorted([
    ("", "snowflake", D("0.3")), ("acme", "snowflake", D("9.5")), ("acme", "external_api", D("1.25")),
    ("globex", "databricks", D("0.01851851835")),  # the unpriced row is left out, never zero
], key=repr)


def test_summary_sql_reads_snowflake_and_databricks_tables_on_duckdb() -> None:
    assert _summary_rows(DuckDBSession(duckdb.connect())) == EXPECTED_SUMMARY


def test_summary_sql_on_snowflake_dialect(fakesnow_connection) -> None:
    assert _summary_rows(SnowflakeSession(fakesnow_connection)) == EXPECTED_SUMMARY


def test_definitions_load_with_billing_schedules(target: Target) -> None:
    import dagster as dg

    from costattr_pipeline.definitions import build_definitions

    defs = build_definitions(target)
    dg.Definitions.validate_loadable(defs)
    tick = dt.datetime(2026, 3, 17, 8, 0, tzinfo=dt.timezone.utc)
    context = dg.build_schedule_context(scheduled_execution_time=tick, repository_def=defs.get_repository_def())
    provisional = defs.resolve_schedule_def("billing_provisional_4h")
    assert provisional.cron_schedule == "0 */4 * * *"
    requests = provisional.evaluate_tick(context).run_requests
    assert [request.partition_key for request in requests] == ["2026-03-01"]
    closing = defs.resolve_schedule_def("billing_close_monthly")
    requests = closing.evaluate_tick(context).run_requests
    assert [request.partition_key for request in requests] == ["2026-02-01"]
    ingest = defs.resolve_schedule_def("usage_ingest_4h")
    requests = ingest.evaluate_tick(context).run_requests
    assert [(request.tags["dagster/asset_partition_range_start"], request.tags["dagster/asset_partition_range_end"])
            for request in requests] == [("2026-03-01", "2026-03-17")]


def test_validate_reports_billing_config_and_usage_problems(target: Target) -> None:
    from costattr_pipeline.validation import validate_inputs

    _write_sources(target)
    assert validate_inputs(target) == []
    write_config(target.config_dir, "tenants.yaml", TENANTS.replace("tier: premium", "tier: platinum"))
    (Path(target.source_dir) / "usage" / "external_api_costs.csv").write_text(
        EXTERNAL_COSTS.replace("2.35,", "2.35,EURO"), encoding="utf-8")
    problems = validate_inputs(target)
    assert len(problems) == 2
    assert problems[0].endswith("tenants.yaml: tenants.acme.tiers[1]: unknown tier 'platinum' "
                                "(tiers: premium, standard)")
    assert problems[1] == ("usage/external_api_costs.csv: line 3: column 'currency' must be a 3-letter ISO "
                           "currency code (empty: USD), got 'EURO'")


def test_external_api_costs_in_another_currency_are_passed_through_in_usd(target: Target) -> None:
    """10 EUR at 1.08 = 10.80 USD: the tenant's cost, and its pass-through at cost x (1 + 10 %)."""
    _write_sources(target)
    write_config(target.config_dir, "settings.yaml", (Path(target.config_dir) / "settings.yaml").read_text()
                 + "fx_to_usd:\n  - {currency: EUR, effective_from: 2026-01-01, effective_to: null, rate: 1.08}\n")
    (Path(target.source_dir) / "usage" / "external_api_costs.csv").write_text(
        "cost_date,tenant_id,module_id,provider,amount,currency\n2026-02-03,acme,risk-engine,mistral,10.00,eur\n",
        encoding="utf-8")
    run_range(target, FEB, MAR)
    assert query(target, "SELECT amount, currency, fx_rate_to_usd, amount_usd FROM metering.external_api_costs") == [
        (D("10"), "EUR", D("1.08"), D("10.8"))]
    assert query(target, "SELECT cost_usd FROM metering.daily_tenant_summary WHERE resource_type = 'external_api'") == [
        (D("10.8"),)]
    assert query(target, "SELECT pass_through FROM metering.billing_period_summary WHERE tenant_id = 'acme'") == [
        (D("11.88"),)]


def test_external_api_costs_landed_again_with_other_rows_are_a_new_version(target: Target) -> None:
    """Append-only (spec NFR-024): a corrected file appends a version; the view, the summary and the as-of
    query show the right one; the same file again appends nothing."""
    costs = Path(target.source_dir) / "usage" / "external_api_costs.csv"
    costs.parent.mkdir(parents=True, exist_ok=True)
    header = "cost_date,tenant_id,module_id,provider,amount,currency\n"
    costs.write_text(header + "2026-02-03,acme,risk-engine,openai,2.50,USD\n2026-02-03,acme,risk-engine,openai,2.50,USD\n",
                     encoding="utf-8")
    selection = ["metering/external_api_costs", "metering/daily_tenant_summary"]
    run_range(target, FEB, dt.date(2026, 2, 4), selection=selection)
    first_at = query(target, "SELECT MAX(computed_at) FROM metering.external_api_costs_computations")[0][0]
    run_range(target, FEB, dt.date(2026, 2, 4), selection=selection)  # the same file: nothing appended
    assert query(target, "SELECT COUNT(*) FROM metering.external_api_costs") == [(2,)]
    costs.write_text(header + "2026-02-03,acme,risk-engine,openai,2.50,USD\n", encoding="utf-8")  # one duplicate dropped
    run_range(target, FEB, dt.date(2026, 2, 4), selection=selection)
    assert query(target, "SELECT COUNT(*), COUNT(DISTINCT computation_id) FROM metering.external_api_costs") == [(3, 2)]
    assert query(target, "SELECT SUM(amount_usd) FROM metering.v_external_api_costs") == [(D("2.5"),)]
    assert query(target, "SELECT cost_usd FROM metering.daily_tenant_summary WHERE resource_type = 'external_api'") == [
        (D("2.5"),)]
    from costattr_pipeline.defs.ingest.usage.external_api_costs import AS_OF_SQL
    from costattr_pipeline.resources.warehouse import DuckDBWarehouse

    with DuckDBWarehouse(path=str(target.warehouse)).session() as session:
        then = session.rows(AS_OF_SQL, {"start_date": FEB, "end_date": MAR, "as_of": first_at})
    assert [(row["cost_date"], D(str(row["amount_usd"])).normalize()) for row in then] == [
        (dt.date(2026, 2, 3), D("2.5")), (dt.date(2026, 2, 3), D("2.5"))]


copies = st.lists(st.tuples(st.sampled_from(["e1", "e2", "e3"]), st.sampled_from(["acme", "globex"]),
                            st.sampled_from([None, "reporting"]), st.integers(0, 4), st.sampled_from([0, 59]),
                            st.integers(1, 3)), max_size=14)


@settings(max_examples=60, deadline=None)
@given(copies, st.integers(0, 4), st.integers(1, 4))
def test_the_window_form_counts_what_the_view_counts_for_any_copies_and_window(rows, first, length) -> None:
    """Copies of a few event ids on a few days, with ties and conflicts, and any window of days."""
    session = DuckDBSession(duckdb.connect())
    session.execute(USAGE_TABLES_SQL)
    for event_id, tenant, module, day, second, quantity in rows:
        time = dt.datetime(2026, 2, 1 + day, 23, 59, second)
        session.execute("INSERT INTO metering.usage_events VALUES (:event_id, :tenant, :module, 'api_calls', "
                        ":quantity, :time, :day)", {"event_id": event_id, "tenant": tenant, "module": module,
                                                    "quantity": quantity, "time": time, "day": time.date()})
    start = dt.date(2026, 2, 1 + first)
    from_view, from_window = _counted(session, start, start + dt.timedelta(days=length))
    assert from_window == from_view
