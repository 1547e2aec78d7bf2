"""``metering/billing_period_summary``: one bill per tenant and month, and the billing schedules.

Heavy aggregation (usage per tenant, month and metric; external API cost per tenant and month)
is SQL. The tariff itself is applied by the pure, property-tested functions of
:mod:`costattr_pipeline.lib.tariff` on those aggregates: a handful of rows (tenants x months),
so one definition of the arithmetic serves the tests, the docs and the warehouse.
"""

import datetime as dt
from decimal import Decimal

import dagster as dg
import pyarrow as pa

from costattr_pipeline.audit import audit
from costattr_pipeline.defs.billing import OWNERS
from costattr_pipeline.defs.billing.config_tables import record_config
from costattr_pipeline.defs.ingest.usage.external_api_costs import EXTERNAL_API_COSTS
from costattr_pipeline.defs.ingest.usage.usage_events import UNIQUE_IN_WINDOW, USAGE_EVENTS
from costattr_pipeline.lib import arrow_tables
from costattr_pipeline.lib.billing_config import BillingConfig, load_billing_config, months, next_month, tenant_usage
from costattr_pipeline.lib.sql import sql_file
from costattr_pipeline.lib.tariff import billable_quantity, graduated_price
from costattr_pipeline.metadata import asset_tags, partition_metadata, rows_check, table_metadata
from costattr_pipeline.project import current_project, month_key, range_schedule, window_dates
from costattr_pipeline.resources.config import CostattrConfig
from costattr_pipeline.resources.warehouse import Warehouse

BILLING_PERIOD_SUMMARY = dg.AssetKey(["metering", "billing_period_summary"])
CHECK_TOTAL_IS_SUM = "total_is_sum_of_components"
CHECK_ONE_BILL = "one_bill_per_tenant_and_period"
CHECK_ALL_USAGE_BILLED = "all_usage_billed"
# Cost Explorer restates the last 24-48 h: a month's final bill waits until the 3rd.
CLOSE_DAY = 3

TABLES_SQL = sql_file(__file__, "billing_period_summary__tables.sql")
USAGE_BY_PERIOD_SQL = sql_file(__file__, "billing_period_summary__usage.sql")
EXTERNAL_BY_PERIOD_SQL = sql_file(__file__, "billing_period_summary__external_costs.sql")
WINDOW = "period_start >= :start_date AND period_start < :end_date"

MONEY = pa.decimal128(18, 2)
QUANTITY = pa.decimal128(38, 12)
BILL_SCHEMA = pa.schema([
    ("tenant_id", pa.string()), ("period_start", pa.date32()), ("period_end", pa.date32()),
    ("rate_card_version", pa.string()), ("customer_levy", MONEY), ("facility_fee", MONEY),
    ("variable_consumption", MONEY), ("pass_through", MONEY), ("total", MONEY), ("currency", pa.string()),
    ("allowance_tier", pa.string()), ("config_hash", pa.string()), ("provisional", pa.bool_()),
])
USAGE_LINE_SCHEMA = pa.schema([
    ("tenant_id", pa.string()), ("period_start", pa.date32()), ("metric", pa.string()),
    ("usage_quantity", QUANTITY), ("allowance", QUANTITY), ("billable_quantity", QUANTITY), ("amount", QUANTITY),
])


def utc_today() -> dt.date:
    """Today's UTC day: a period that has not ended yet is provisional."""
    return dt.datetime.now(dt.timezone.utc).date()


def compute_bills(config: BillingConfig, start: dt.date, end: dt.date, usage_rows: list[dict],
                  external_rows: list[dict], today: dt.date) -> tuple[pa.Table, pa.Table, list[dict]]:
    """Bills and per-metric usage lines for every billable tenant of every period in ``[start, end)``.

    Also returns what could not be billed (usage or cost of tenants that are unknown or not
    billable in the period, metrics the binding version does not price), for a WARN check.
    """
    usage = tenant_usage(usage_rows)
    external = {(row["tenant_id"], row["period_start"]): Decimal(str(row["amount"])) for row in external_rows}
    bills, lines, unbilled = [], [], []
    billed: set[tuple[str, dt.date]] = set()
    for period_start in months(start, end):
        for tenant_id in config.billable_tenants(period_start):
            key = (tenant_id, period_start)
            billed.add(key)
            tenant_bill = config.bill(tenant_id, period_start, usage.get(key, {}), external.get(key, Decimal(0)))
            bill, version = tenant_bill.bill, tenant_bill.version
            period_end = next_month(period_start) - dt.timedelta(days=1)
            bills.append({
                "tenant_id": tenant_id, "period_start": period_start, "period_end": period_end,
                "rate_card_version": version.version, "customer_levy": bill.customer_levy,
                "facility_fee": bill.facility_fee, "variable_consumption": bill.variable_consumption,
                "pass_through": bill.pass_through, "total": bill.total, "currency": version.currency,
                "allowance_tier": tenant_bill.allowance_tier, "config_hash": config.content_hash,
                "provisional": period_end >= today,
            })
            allowances = config.tiers.get(tenant_bill.allowance_tier or "", {})
            for metric, quantity in sorted(usage.get(key, {}).items()):
                allowance = allowances.get(metric, Decimal(0))
                billable = billable_quantity(quantity, allowance)
                priced = metric in version.variable
                lines.append({"tenant_id": tenant_id, "period_start": period_start, "metric": metric,
                              "usage_quantity": quantity, "allowance": allowance, "billable_quantity": billable,
                              "amount": graduated_price(billable, version.variable[metric]) if priced else None})
                if not priced:
                    unbilled.append({"tenant_id": tenant_id, "period_start": period_start, "what": metric,
                                     "reason": f"version {version.version} does not price this metric"})
    for key in sorted(set(usage) | set(external)):
        if key not in billed:
            tenant_id, period_start = key
            reason = ("not in tenants.yaml" if tenant_id not in config.tenants
                      else "no tier and no module in force in the period")
            unbilled.append({"tenant_id": tenant_id, "period_start": period_start,
                             "what": ", ".join(sorted(usage.get(key, {})) + (["external API cost"]
                                                                              if key in external else [])),
                             "reason": reason})
    return (arrow_tables.from_rows(bills, BILL_SCHEMA), arrow_tables.from_rows(lines, USAGE_LINE_SCHEMA), unbilled)


def billing_period_summary(context: dg.AssetExecutionContext, warehouse: Warehouse,
                           config_files: CostattrConfig) -> dg.MaterializeResult:
    """One bill per tenant and calendar month, from rate_card.yaml and tenants.yaml (contract section 4, FR-395).

    The rate-card version in force on the first day of the month binds the whole month. customer_levy = sum
    over days of levy[tier that day] / days in month; facility_fee = sum over active modules of fee x active
    days / days in month; variable_consumption = per metric, max(0, usage - allowance of the tier in force on
    the first day) priced through the graduated tiers; pass_through = external API costs x (1 + markup %).
    Each component is rounded to cents half away from zero and total is their sum. The current month is
    provisional (refreshed every 4 hours). `metering.billing_period_usage` shows the variable part per
    metric; `config.*` holds the exact config each bill used (join on config_hash and rate_card_version).
    """
    start, end = window_dates(context)
    params = {"start_date": start, "end_date": end}
    # Validated (files, cross-references, a version for every period) before anything is written.
    config = load_billing_config(config_files.path)
    config.check_periods(start, end)
    loaded_at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    with warehouse.session() as session:
        session.execute(TABLES_SQL)
        usage_rows = session.rows(USAGE_BY_PERIOD_SQL, params, UNIQUE_IN_WINDOW)
        external_rows = session.rows(EXTERNAL_BY_PERIOD_SQL, params)
        bills, lines, unbilled = compute_bills(config, start, end, usage_rows, external_rows, utc_today())
        with session.transaction():
            record_config(session, config, loaded_at)
            session.execute(f"DELETE FROM metering.billing_period_summary WHERE {WINDOW}", params)
            session.execute(f"DELETE FROM metering.billing_period_usage WHERE {WINDOW}", params)
            if bills.num_rows:
                session.insert_arrow("metering.billing_period_summary", bills)
            if lines.num_rows:
                session.insert_arrow("metering.billing_period_usage", lines)
            wrong_totals = session.rows(f"""
                SELECT tenant_id, period_start, total,
                       customer_levy + facility_fee + variable_consumption + pass_through AS components
                FROM metering.billing_period_summary
                WHERE {WINDOW} AND (total <> customer_levy + facility_fee + variable_consumption + pass_through
                   OR customer_levy * 100 <> ROUND(customer_levy * 100, 0)
                   OR facility_fee * 100 <> ROUND(facility_fee * 100, 0)
                   OR variable_consumption * 100 <> ROUND(variable_consumption * 100, 0)
                   OR pass_through * 100 <> ROUND(pass_through * 100, 0))
                ORDER BY 1, 2 LIMIT 20""", params)
            duplicates = session.rows(f"""
                SELECT tenant_id, period_start, COUNT(*) AS bills FROM metering.billing_period_summary
                WHERE {WINDOW} GROUP BY tenant_id, period_start HAVING COUNT(*) > 1 ORDER BY 1, 2 LIMIT 20""",
                params)
            blocking = audit(BILLING_PERIOD_SUMMARY, rows_check(CHECK_TOTAL_IS_SUM, wrong_totals, "wrong"),
                             rows_check(CHECK_ONE_BILL, duplicates, "duplicates"))
        metadata = partition_metadata(
            context, session, "metering.billing_period_summary", WINDOW, params, partition_column="period_start",
            tables_sql=TABLES_SQL,
            # One version binds a whole month, so a month's bills share it.
            figures={"total_billed": "SUM(total)", "customer_levy": "SUM(customer_levy)",
                     "facility_fee": "SUM(facility_fee)", "variable_consumption": "SUM(variable_consumption)",
                     "pass_through": "SUM(pass_through)", "rate_card_version": "MIN(rate_card_version)"},
            order_by="period_start, tenant_id")
    metadata["config_hash"] = dg.MetadataValue.text(config.content_hash)
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[
            *blocking,
            rows_check(CHECK_ALL_USAGE_BILLED, unbilled[:20], "unbilled", severity=dg.AssetCheckSeverity.WARN,
                       failure=f"{len(unbilled)} unbilled item(s)"),
        ],
    )


def open_period(tick: dt.datetime) -> tuple[str, str]:
    """The billing period the tick falls in (the provisional one), as a one-key range."""
    key = month_key(tick.date())
    return key, key


def closed_period(tick: dt.datetime) -> tuple[str, str]:
    """The period before the tick's month (the one being closed), as a one-key range."""
    key = month_key(tick.date().replace(day=1) - dt.timedelta(days=1))
    return key, key


CHECKS = [
    dg.AssetCheckSpec(CHECK_TOTAL_IS_SUM, asset=BILLING_PERIOD_SUMMARY, blocking=True,
                      description="ERROR unless every total equals the sum of its four rounded components, and "
                                  "every component is whole cents."),
    dg.AssetCheckSpec(CHECK_ONE_BILL, asset=BILLING_PERIOD_SUMMARY, blocking=True,
                      description="ERROR when a tenant has two bills for one period."),
    dg.AssetCheckSpec(CHECK_ALL_USAGE_BILLED, asset=BILLING_PERIOD_SUMMARY,
                      description="WARN when usage or external API cost is not billed: a tenant that is not in "
                                  "tenants.yaml or has no tier or module in the period, or a metric the binding "
                                  "rate-card version does not price."),
]


@dg.definitions
def defs() -> dg.Definitions:
    project = current_project()
    asset = dg.asset(key=BILLING_PERIOD_SUMMARY, deps=[USAGE_EVENTS, EXTERNAL_API_COSTS], group_name="billing",
                     owners=OWNERS, tags=asset_tags(source="usage", layer="billing"),
                     metadata=table_metadata(TABLES_SQL, "metering.billing_period_summary"),
                     kinds={"duckdb", "snowflake"}, partitions_def=project.monthly,
                     backfill_policy=dg.BackfillPolicy.single_run(), check_specs=CHECKS)(billing_period_summary)
    # The billing group: the bills and the unit economics computed from them.
    job = dg.define_asset_job("billing", selection=dg.AssetSelection.groups("billing"),
                              description="Compute the bills and unit economics of a billing period.")
    schedules = [
        range_schedule("billing_provisional_4h", "0 */4 * * *", job, open_period,
                       "Every 4 hours: recompute the open (provisional) period's bills and margins."),
        range_schedule("billing_close_monthly", f"0 10 {CLOSE_DAY} * *", job, closed_period,
                       "10:00 UTC on the 3rd: final bills of the previous month, after Cost Explorer's "
                       "restatements."),
    ]
    return dg.Definitions(assets=[asset], jobs=[job], schedules=schedules)
