"""``metering/unit_economics``: revenue, attributed cost and gross margin per tenant and month.

Scheduled with the bills (the ``billing`` job of ``billing_period_summary``).
"""

from decimal import Decimal

import dagster as dg
import pyarrow as pa

from costattr_pipeline.audit import audit
from costattr_pipeline.defs.attribution.tenant_summary.daily_tenant_summary import DAILY_TENANT_SUMMARY
from costattr_pipeline.defs.billing import OWNERS
from costattr_pipeline.defs.billing.billing_period_summary import BILLING_PERIOD_SUMMARY, MONEY, utc_today
from costattr_pipeline.lib import arrow_tables
from costattr_pipeline.lib.billing_config import BILLING_CURRENCY, next_month
from costattr_pipeline.lib.sql import sql_file
from costattr_pipeline.lib.tariff import gross_margin_pct
from costattr_pipeline.metadata import asset_tags, partition_metadata, rows_check, table_metadata
from costattr_pipeline.project import current_project, window_dates
from costattr_pipeline.resources.warehouse import Warehouse

UNIT_ECONOMICS = dg.AssetKey(["metering", "unit_economics"])
CHECK_UNIT_ECONOMICS_RECONCILES = "reconciles_with_bills_and_costs"

TABLES_SQL = sql_file(__file__, "unit_economics__tables.sql")
UNIT_ECONOMICS_SQL = sql_file(__file__, "unit_economics.sql")
RECONCILE_UNIT_ECONOMICS_SQL = sql_file(__file__, "unit_economics__reconcile.sql")
WINDOW = "period_start >= :start_date AND period_start < :end_date"
UNIT_ECONOMICS_SCHEMA = pa.schema([
    ("tenant_id", pa.string()), ("period_start", pa.date32()), ("revenue", MONEY),
    ("attributed_cost", pa.decimal128(38, 18)), ("gross_margin", pa.decimal128(38, 18)),
    ("gross_margin_pct", pa.decimal128(18, 4)), ("currency", pa.string()), ("provisional", pa.bool_()),
])


def unit_economics(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Per tenant and calendar month: revenue (the bill's total), attributed cost (the tenant's cost in the
    daily tenant summary over the month, every resource type, exact, including the markup of the AWS,
    SNOWFLAKE and DATABRICKS cost models: cost_usd + markup_usd), gross margin = revenue - cost and gross
    margin % = 100 x margin / revenue to 4 decimals (NULL when revenue is 0).

    Tenants with cost but no bill appear with revenue 0. Unattributed cost belongs to no tenant and is not
    included.
    """
    start, end = window_dates(context)
    params = {"start_date": start, "end_date": end}
    today = utc_today()
    with warehouse.session() as session:
        session.execute(TABLES_SQL)
        rows = session.rows(UNIT_ECONOMICS_SQL, params)
        for row in rows:  # tenants x months: the percentage needs an exact Decimal division
            revenue, margin = Decimal(str(row["revenue"])), Decimal(str(row["gross_margin"]))
            row["gross_margin_pct"] = gross_margin_pct(revenue, margin)
            row["currency"] = BILLING_CURRENCY
            row["provisional"] = next_month(row["period_start"]) > today
        with session.transaction():
            session.execute(f"DELETE FROM metering.unit_economics WHERE {WINDOW}", params)
            if rows:
                session.insert_arrow("metering.unit_economics", arrow_tables.from_rows(rows, UNIT_ECONOMICS_SCHEMA))
            blocking = audit(UNIT_ECONOMICS, rows_check(CHECK_UNIT_ECONOMICS_RECONCILES,
                                                        session.rows(RECONCILE_UNIT_ECONOMICS_SQL, params),
                                                        "mismatches"))
        metadata = partition_metadata(
            context, session, "metering.unit_economics", WINDOW, params, partition_column="period_start",
            tables_sql=TABLES_SQL,
            figures={"revenue": "SUM(revenue)", "attributed_cost": "SUM(attributed_cost)",
                     "gross_margin": "SUM(gross_margin)",
                     "gross_margin_pct": "CASE WHEN SUM(revenue) = 0 THEN NULL "
                                         "ELSE 100 * SUM(gross_margin) / SUM(revenue) END",
                     "tenants": "COUNT(DISTINCT tenant_id)"},
            order_by="period_start, tenant_id")
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[
            *blocking,
        ],
    )


CHECKS = [
    dg.AssetCheckSpec(CHECK_UNIT_ECONOMICS_RECONCILES, asset=UNIT_ECONOMICS, blocking=True,
                      description="ERROR unless, per period, revenue adds up to the bills' totals, attributed cost "
                                  "to the summary's tenant cost plus its markup, and every margin is revenue - cost."),
]


@dg.definitions
def defs() -> dg.Definitions:
    project = current_project()
    asset = dg.asset(key=UNIT_ECONOMICS, deps=[BILLING_PERIOD_SUMMARY, DAILY_TENANT_SUMMARY], group_name="billing",
                     owners=OWNERS, tags=asset_tags(source="all", layer="billing"),
                     metadata=table_metadata(TABLES_SQL, "metering.unit_economics"),
                     kinds={"duckdb", "snowflake"}, partitions_def=project.monthly,
                     backfill_policy=dg.BackfillPolicy.single_run(), check_specs=CHECKS)(unit_economics)
    return dg.Definitions(assets=[asset])
