"""``metering/databricks_priced_usage``: every usage record at its list price, and the daily Databricks schedule."""

import dagster as dg

from costattr_pipeline.audit import audit
from costattr_pipeline.defs import fx_rates
from costattr_pipeline.defs.attribution import OWNERS as ATTRIBUTION_OWNERS
from costattr_pipeline.defs.ingest.databricks.databricks_usage import DATABRICKS_USAGE, recompute_days
from costattr_pipeline.lib.databricks import tag_path
from costattr_pipeline.lib.errors import SourceError
from costattr_pipeline.lib.sql import sql_file
from costattr_pipeline.metadata import asset_tags, partition_metadata, rows_check, table_metadata
from costattr_pipeline.project import current_project, range_schedule, window_dates
from costattr_pipeline.resources.config import CostattrConfig
from costattr_pipeline.resources.warehouse import Warehouse

DATABRICKS_PRICED_USAGE = dg.AssetKey(["metering", "databricks_priced_usage"])
CHECK_USAGE_PRICED = "every_usage_row_priced"
CHECK_RECONCILES = "reconciles_with_landing"
CHECK_PRODUCT_TAG_COVERAGE = "untagged_cost_share_within_threshold"

# With config.fx_to_usd, which the asset loads inside its transaction (the DDL runs before it).
TABLES_SQL = fx_rates.TABLES_SQL + "\n" + sql_file(__file__, "databricks_priced_usage__tables.sql")
AMBIGUOUS_PRICES_SQL = sql_file(__file__, "databricks_priced_usage__ambiguous_prices.sql")
PRICED_USAGE_SQL = sql_file(__file__, "databricks_priced_usage.sql")
RECONCILE_SQL = sql_file(__file__, "databricks_priced_usage__reconcile.sql")
USAGE_WINDOW = "usage_date >= :start_date AND usage_date < :end_date"


def databricks_priced_usage(context: dg.AssetExecutionContext, warehouse: Warehouse,
                            config_files: CostattrConfig) -> dg.MaterializeResult:
    """Every Databricks usage record priced at list price.

    The unit price is `pricing.effective_list.default` (else `pricing.default`) of the list price with the
    same SKU (and cloud and account when both carry one) whose window [price_start_time, price_end_time)
    holds usage_start_time, so usage exactly at a price change takes the new price. cost = usage_quantity x
    unit_price in exact decimals, in the price's currency, and cost_usd = cost x the USD rate in force on
    the usage day (settings.yaml `fx_to_usd`; the rate is kept on the row). Retractions are negative records, so every sum
    nets them out. product_id and tenant_id come from the custom tags named in settings.yaml
    (`databricks.product_tag`, `databricks.tenant_tag`); NULL means untagged. A record without a price keeps
    NULL price and cost and fails the blocking check.
    """
    start, end = window_dates(context)
    settings = config_files.settings()
    params = {"start_date": start, "end_date": end,
              "product_path": tag_path(settings.databricks.product_tag),
              "tenant_path": tag_path(settings.databricks.tenant_tag)}
    with warehouse.session() as session:
        session.execute(TABLES_SQL)
        ambiguous = session.rows(AMBIGUOUS_PRICES_SQL, params)
        if ambiguous:
            first = ambiguous[0]
            raise SourceError(
                "databricks/list_prices",
                f"sku_name {first['sku_name']!r}, cloud {first['cloud']!r}, account {first['account_id']!r}",
                f"{first['prices']} list prices (different currencies or clouds) apply equally to usage record "
                f"{first['record_id']!r} at {first['usage_start_time']}: keep one per SKU, cloud and account")
        with session.transaction():
            fx_rates.load_fx_rates(session, settings)
            session.execute(PRICED_USAGE_SQL, params, fx_rates.RELATIONS)
            unpriced = session.rows(f"""
                SELECT sku_name, cloud, COUNT(*) AS usage_rows, MIN(usage_start_time) AS first_usage,
                       MAX(usage_start_time) AS last_usage
                FROM metering.databricks_priced_usage WHERE {USAGE_WINDOW} AND unit_price IS NULL
                GROUP BY sku_name, cloud ORDER BY sku_name, cloud""", params)
            blocking = audit(
                DATABRICKS_PRICED_USAGE,
                rows_check(CHECK_USAGE_PRICED, unpriced, "unpriced",
                           failure=(f"{sum(row['usage_rows'] for row in unpriced)} usage row(s) of sku_name "
                                    f"{unpriced[0]['sku_name']!r} (cloud {unpriced[0]['cloud']!r}, from "
                                    f"{unpriced[0]['first_usage']}) and {len(unpriced) - 1} other SKU(s) have no "
                                    "list price in force: add it to databricks/list_prices" if unpriced else None),
                           success="Every usage row has a list price",
                           metadata={"unpriced_skus": dg.MetadataValue.json([row["sku_name"] for row in unpriced])}),
                rows_check(CHECK_RECONCILES, session.rows(RECONCILE_SQL, params), "mismatched_days"),
                fx_rates.fx_rate_check(session, "metering.databricks_priced_usage", "usage_date", "cost",
                                       USAGE_WINDOW, params))
        day_shares = session.rows(f"""
            SELECT usage_date, SUM(CAST(cost_usd AS DECIMAL(38, 18))) AS cost_usd,
                   SUM(CAST(CASE WHEN product_id IS NULL THEN cost_usd ELSE 0 END AS DECIMAL(38, 18))) AS untagged_usd
            FROM metering.databricks_priced_usage WHERE {USAGE_WINDOW} AND cost_usd IS NOT NULL
            GROUP BY usage_date ORDER BY usage_date""", params)
        metadata = partition_metadata(
            context, session, "metering.databricks_priced_usage", USAGE_WINDOW, params, partition_column="usage_date",
            tables_sql=TABLES_SQL,
            figures={"total_cost_usd": "SUM(CAST(cost_usd AS DECIMAL(38, 18)))",
                     "untagged_cost_usd": "SUM(CAST(CASE WHEN product_id IS NULL THEN cost_usd ELSE 0 END "
                                          "AS DECIMAL(38, 18)))",
                     "unpriced_rows": "SUM(CASE WHEN unit_price IS NULL THEN 1 ELSE 0 END)",
                     "data_products": "COUNT(DISTINCT product_id)"},
            order_by="usage_date, product_id NULLS FIRST, record_id")
    # Exact comparison, no division: untagged / cost > threshold <=> untagged > threshold x cost (cost > 0).
    breaches = [dict(day, threshold=settings.threshold_on(day["usage_date"]))
                for day in day_shares
                if day["cost_usd"] > 0
                and day["untagged_usd"] > settings.threshold_on(day["usage_date"]) * day["cost_usd"]]
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[
            *blocking,
            rows_check(CHECK_PRODUCT_TAG_COVERAGE, breaches, "breaches", severity=dg.AssetCheckSeverity.WARN,
                       columns=["usage_date", "cost_usd", "untagged_usd", "threshold"],
                       failure=f"{len(breaches)} day(s) with untagged cost over the threshold",
                       success="Untagged cost is within the threshold every day"),
        ],
    )


CHECKS = [
    dg.AssetCheckSpec(CHECK_USAGE_PRICED, asset=DATABRICKS_PRICED_USAGE, blocking=True,
                      description="ERROR when a usage record has no list price in force: its cost is unknown. The "
                                  "unpriced SKUs and their row counts are in the metadata."),
    dg.AssetCheckSpec(CHECK_RECONCILES, asset=DATABRICKS_PRICED_USAGE, blocking=True,
                      description="ERROR unless, per day, every landed record appears once with its quantity "
                                  "(record counts and quantity totals equal)."),
    fx_rates.fx_rate_check_spec(DATABRICKS_PRICED_USAGE),
    dg.AssetCheckSpec(CHECK_PRODUCT_TAG_COVERAGE, asset=DATABRICKS_PRICED_USAGE,
                      description="WARN when a day's share of priced cost (in USD, every currency) without a data "
                                  "product tag is strictly greater than the unattributed threshold in force "
                                  "(settings.yaml, default 2 %)."),
]


@dg.definitions
def defs() -> dg.Definitions:
    project = current_project()
    asset = dg.asset(key=DATABRICKS_PRICED_USAGE, deps=[DATABRICKS_USAGE], group_name="attribution",
                     owners=ATTRIBUTION_OWNERS, tags=asset_tags(source="databricks", layer="attribution"),
                     metadata=table_metadata(TABLES_SQL, "metering.databricks_priced_usage"),
                     kinds={"databricks", "duckdb", "snowflake"}, partitions_def=project.daily,
                     backfill_policy=dg.BackfillPolicy.single_run(), check_specs=CHECKS)(databricks_priced_usage)
    job = dg.define_asset_job("databricks_priced_usage_job", selection=[DATABRICKS_USAGE, DATABRICKS_PRICED_USAGE],
                              description="Land and price Databricks usage for a range of days.")
    schedule = range_schedule(
        "databricks_priced_usage_daily", "0 7 * * *", job, lambda tick: recompute_days(tick, project),
        "07:00 UTC: land and price Databricks usage of the previous and the current month (Databricks delivers "
        "within about 12 h and restates).")
    return dg.Definitions(assets=[asset], jobs=[job], schedules=[schedule])
