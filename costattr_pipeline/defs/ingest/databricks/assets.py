"""Databricks billing: landed usage and list prices, priced usage per record, monthly cost items.

``metering/databricks_usage`` lands ``system.billing.usage`` (the run's days) and
``system.billing.list_prices``; ``metering/databricks_priced_usage`` prices every usage
record; ``app/cost_items`` syncs each data product's monthly cost into the application.
"""


import datetime as dt

import dagster as dg

from costattr_pipeline.defs.metadata import markdown_table, table_metadata
from costattr_pipeline.defs.project import Project, window_dates
from costattr_pipeline.defs.schedules import RANGE_END_TAG, RANGE_START_TAG
from costattr_pipeline.lib.databricks import tag_path
from costattr_pipeline.lib.errors import SourceError
from costattr_pipeline.lib.sql import sql_file
from costattr_pipeline.resources.config import CostattrConfig
from costattr_pipeline.resources.databricks import DatabricksBillingSource
from costattr_pipeline.resources.warehouse import Warehouse

DATABRICKS_USAGE = dg.AssetKey(["metering", "databricks_usage"])
DATABRICKS_PRICED_USAGE = dg.AssetKey(["metering", "databricks_priced_usage"])
COST_ITEMS = dg.AssetKey(["app", "cost_items"])

CHECK_SOURCE_PRESENT = "databricks_source_present"
CHECK_USAGE_PRICED = "every_usage_row_priced"
CHECK_RECONCILES = "reconciles_with_landing"
CHECK_PRODUCT_TAG_COVERAGE = "untagged_cost_share_within_threshold"
CHECK_ONE_ITEM_PER_KEY = "one_cost_item_per_key"
CHECK_ITEMS_RECONCILE = "cost_items_reconcile_with_priced_usage"

# The cost items this pipeline owns in app.cost_items (contract section 4).
COST_ITEM = {"entity_type": "data_product", "cost_center": "INFRASTRUCTURE", "title": "Databricks Infra Cost"}

TABLES_SQL = sql_file(__file__, "tables.sql")
LAND_PRICES_SQL = sql_file(__file__, "land_list_prices.sql")
AMBIGUOUS_PRICES_SQL = sql_file(__file__, "ambiguous_prices.sql")
PRICED_USAGE_SQL = sql_file(__file__, "priced_usage.sql")
RECONCILE_SQL = sql_file(__file__, "reconcile.sql")
COST_ITEMS_SQL = sql_file(__file__, "cost_items.sql")
COST_ITEMS_RECONCILE_SQL = sql_file(__file__, "cost_items_reconcile.sql")
USAGE_WINDOW = "usage_date >= :start_date AND usage_date < :end_date"


def build_defs(project: Project) -> dg.Definitions:
    @dg.asset(
        key=DATABRICKS_USAGE,
        group_name="ingest",
        kinds={"databricks", "duckdb", "snowflake"},
        partitions_def=project.daily,
        backfill_policy=dg.BackfillPolicy.single_run(),
        description=(
            "Databricks `system.billing.usage` records of the run's days (by usage_date), replaced on every "
            "run so restatements and retractions delivered later are picked up, and `system.billing.list_prices` "
            "upserted by (SKU, cloud, account, currency, price_start_time). Locally read from "
            "`<source>/databricks/usage` and `list_prices` (CSV or Parquet); in production queried on a "
            "Databricks SQL warehouse. Every row is validated before anything is written."
        ),
        check_specs=[
            dg.AssetCheckSpec(CHECK_SOURCE_PRESENT, asset=DATABRICKS_USAGE,
                              description="WARN when the usage or list price source is missing: the Databricks "
                                          "outputs are empty (or unpriced), not wrong."),
        ],
    )
    def databricks_usage(context: dg.AssetExecutionContext, warehouse: Warehouse,
                         databricks_billing: DatabricksBillingSource) -> dg.MaterializeResult:
        start, end = window_dates(context)
        params = {"start_date": start, "end_date": end}
        with warehouse.session() as session:
            session.execute(TABLES_SQL)
            with session.transaction():
                # The window is replaced: restatements and retractions delivered later are picked up.
                session.execute(f"DELETE FROM metering.databricks_usage WHERE {USAGE_WINDOW}", params)
                session.execute("DELETE FROM metering.databricks_list_prices_staging")
                loaded = databricks_billing.load(session, start, end, "metering.databricks_usage",
                                                 "metering.databricks_list_prices_staging", context.log)
                session.execute(LAND_PRICES_SQL)
            metadata = table_metadata(
                session, "metering.databricks_usage", USAGE_WINDOW, params,
                totals={"usage_quantity": "SUM(CAST(usage_quantity AS DECIMAL(38, 18)))",
                        "retraction_records": "SUM(CASE WHEN record_type = 'RETRACTION' THEN 1 ELSE 0 END)"},
                order_by="usage_date, record_id",
            )
            metadata["list_prices"] = dg.MetadataValue.int(
                int(session.scalar("SELECT COUNT(*) FROM metering.databricks_list_prices") or 0))
        missing = [name for name, found in (("usage", loaded.usage_found), ("list_prices", loaded.list_prices_found))
                   if not found]
        metadata["source"] = dg.MetadataValue.text(loaded.source)
        return dg.MaterializeResult(
            metadata=metadata,
            check_results=[dg.AssetCheckResult(
                check_name=CHECK_SOURCE_PRESENT, passed=not missing, severity=dg.AssetCheckSeverity.WARN,
                description=(f"Missing Databricks source(s): {', '.join(missing)} in {loaded.source}"
                             if missing else None),
                metadata={"missing": dg.MetadataValue.text(", ".join(missing) or "none")},
            )],
        )

    @dg.asset(
        key=DATABRICKS_PRICED_USAGE,
        deps=[DATABRICKS_USAGE],
        group_name="attribution",
        kinds={"databricks", "duckdb", "snowflake"},
        partitions_def=project.daily,
        backfill_policy=dg.BackfillPolicy.single_run(),
        description=(
            "Every Databricks usage record priced at list price: the unit price is "
            "`pricing.effective_list.default` (else `pricing.default`) of the list price with the same SKU "
            "(and cloud and account when both carry one) whose window [price_start_time, price_end_time) holds "
            "usage_start_time, so usage exactly at a price change takes the new price. cost = usage_quantity x "
            "unit_price in exact decimals, in the price's currency. Retractions are negative records, so every "
            "sum nets them out. product_id and tenant_id come from the custom tags named in settings.yaml "
            "(`databricks.product_tag`, `databricks.tenant_tag`); NULL means untagged. A record without a price "
            "keeps NULL price and cost and fails the blocking check."
        ),
        check_specs=[
            dg.AssetCheckSpec(CHECK_USAGE_PRICED, asset=DATABRICKS_PRICED_USAGE, blocking=True,
                              description="ERROR when a usage record has no list price in force: its cost is "
                                          "unknown. The unpriced SKUs and their row counts are in the metadata."),
            dg.AssetCheckSpec(CHECK_RECONCILES, asset=DATABRICKS_PRICED_USAGE, blocking=True,
                              description="ERROR unless, per day, every landed record appears once with its "
                                          "quantity (record counts and quantity totals equal)."),
            dg.AssetCheckSpec(CHECK_PRODUCT_TAG_COVERAGE, asset=DATABRICKS_PRICED_USAGE,
                              description="WARN when a day's share of priced cost without a data product tag is "
                                          "strictly greater than the unattributed threshold in force "
                                          "(settings.yaml, default 2 %)."),
        ],
    )
    def databricks_priced_usage(context: dg.AssetExecutionContext, warehouse: Warehouse,
                                config_files: CostattrConfig) -> dg.MaterializeResult:
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
                session.execute(PRICED_USAGE_SQL, params)
            unpriced = session.rows(f"""
                SELECT sku_name, cloud, COUNT(*) AS usage_rows, MIN(usage_start_time) AS first_usage,
                       MAX(usage_start_time) AS last_usage
                FROM metering.databricks_priced_usage WHERE {USAGE_WINDOW} AND unit_price IS NULL
                GROUP BY sku_name, cloud ORDER BY sku_name, cloud""", params)
            mismatches = session.rows(RECONCILE_SQL, params)
            day_shares = session.rows(f"""
                SELECT usage_date, currency, SUM(CAST(cost AS DECIMAL(38, 18))) AS cost,
                       SUM(CAST(CASE WHEN product_id IS NULL THEN cost ELSE 0 END AS DECIMAL(38, 18))) AS untagged
                FROM metering.databricks_priced_usage WHERE {USAGE_WINDOW} AND cost IS NOT NULL
                GROUP BY usage_date, currency ORDER BY usage_date, currency""", params)
            metadata = table_metadata(
                session, "metering.databricks_priced_usage", USAGE_WINDOW, params,
                totals={"total_cost": "SUM(CAST(cost AS DECIMAL(38, 18)))",
                        "untagged_cost": "SUM(CAST(CASE WHEN product_id IS NULL THEN cost ELSE 0 END "
                                         "AS DECIMAL(38, 18)))",
                        "unpriced_rows": "SUM(CASE WHEN unit_price IS NULL THEN 1 ELSE 0 END)",
                        "data_products": "COUNT(DISTINCT product_id)"},
                order_by="usage_date, product_id NULLS FIRST, record_id",
            )
        # Exact comparison, no division: untagged / cost > threshold <=> untagged > threshold x cost (cost > 0).
        breaches = [dict(day, threshold=settings.threshold_on(day["usage_date"]))
                    for day in day_shares
                    if day["cost"] > 0 and day["untagged"] > settings.threshold_on(day["usage_date"]) * day["cost"]]
        return dg.MaterializeResult(
            metadata=metadata,
            check_results=[
                dg.AssetCheckResult(
                    check_name=CHECK_USAGE_PRICED, passed=not unpriced, severity=dg.AssetCheckSeverity.ERROR,
                    description=(f"{sum(row['usage_rows'] for row in unpriced)} usage row(s) of "
                                 f"{len(unpriced)} SKU(s) have no list price" if unpriced
                                 else "Every usage row has a list price"),
                    metadata={"unpriced_skus": dg.MetadataValue.json([row["sku_name"] for row in unpriced]),
                              "unpriced": dg.MetadataValue.md(markdown_table(unpriced))},
                ),
                dg.AssetCheckResult(
                    check_name=CHECK_RECONCILES, passed=not mismatches, severity=dg.AssetCheckSeverity.ERROR,
                    metadata={"mismatched_days": dg.MetadataValue.md(markdown_table(mismatches))},
                ),
                dg.AssetCheckResult(
                    check_name=CHECK_PRODUCT_TAG_COVERAGE, passed=not breaches, severity=dg.AssetCheckSeverity.WARN,
                    description=(f"{len(breaches)} day(s) with untagged cost over the threshold" if breaches
                                 else "Untagged cost is within the threshold every day"),
                    metadata={"breaches": dg.MetadataValue.md(
                        markdown_table(breaches, ["usage_date", "currency", "cost", "untagged", "threshold"]))},
                ),
            ],
        )

    @dg.asset(
        key=COST_ITEMS,
        deps=[DATABRICKS_PRICED_USAGE],
        group_name="app",
        kinds={"duckdb", "snowflake"},
        partitions_def=project.monthly,
        backfill_policy=dg.BackfillPolicy.single_run(),
        description=(
            "Databricks cost per data product and calendar month in the application's `app.cost_items`: one row "
            "per (product, month, currency) with entity_type `data_product`, cost_center `INFRASTRUCTURE`, title "
            "`Databricks Infra Cost`, start_month = end_month = the first of the month and amount_cents = the "
            "exact monthly total x 100 rounded half away from zero. Upserted (MERGE) on (entity_type, entity_id, "
            "cost_center, title, start_month, currency): re-runs update in place and never duplicate; the "
            "month's items of products with no cost left are removed. Untagged cost has no item (see the "
            "priced usage check). Refuses to sync a month that still has unpriced usage."
        ),
        check_specs=[
            dg.AssetCheckSpec(CHECK_ONE_ITEM_PER_KEY, asset=COST_ITEMS, blocking=True,
                              description="ERROR when app.cost_items holds a key (entity_type, entity_id, "
                                          "cost_center, title, start_month, currency) twice."),
            dg.AssetCheckSpec(CHECK_ITEMS_RECONCILE, asset=COST_ITEMS, blocking=True,
                              description="ERROR unless the synced items of the months carry exactly the tagged "
                                          "priced cost (per currency) and each amount_cents is its exact total "
                                          "rounded half away from zero."),
        ],
    )
    def cost_items(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        start, end = window_dates(context)
        params = {"start_date": start, "end_date": end, **COST_ITEM}
        with warehouse.session() as session:
            session.execute(TABLES_SQL)
            unpriced = session.rows(f"""
                SELECT sku_name, COUNT(*) AS usage_rows FROM metering.databricks_priced_usage
                WHERE {USAGE_WINDOW} AND cost IS NULL GROUP BY sku_name ORDER BY sku_name""", params)
            if unpriced:
                raise SourceError(
                    "metering.databricks_priced_usage", f"months [{start}, {end}), sku_name {unpriced[0]['sku_name']!r}",
                    f"{sum(row['usage_rows'] for row in unpriced)} usage row(s) have no list price: cost items are "
                    "not synced until every row is priced (add the price to list_prices and re-run)")
            with session.transaction():
                session.execute(COST_ITEMS_SQL, params)
            ours = ("entity_type = :entity_type AND cost_center = :cost_center AND title = :title "
                    "AND start_month >= :start_date AND start_month < :end_date")
            duplicates = session.rows("""
                SELECT entity_type, entity_id, cost_center, title, start_month, currency, COUNT(*) AS copies
                FROM app.cost_items
                GROUP BY entity_type, entity_id, cost_center, title, start_month, currency
                HAVING COUNT(*) > 1 ORDER BY start_month, entity_id LIMIT 20""")
            mismatches = session.rows(COST_ITEMS_RECONCILE_SQL, params)
            metadata = table_metadata(
                session, "app.cost_items", ours, params,
                totals={"amount_cents": "SUM(amount_cents)", "data_products": "COUNT(DISTINCT entity_id)"},
                order_by="start_month, entity_id, currency",
            )
        return dg.MaterializeResult(
            metadata=metadata,
            check_results=[
                dg.AssetCheckResult(
                    check_name=CHECK_ONE_ITEM_PER_KEY, passed=not duplicates, severity=dg.AssetCheckSeverity.ERROR,
                    metadata={"duplicates": dg.MetadataValue.md(markdown_table(duplicates))},
                ),
                dg.AssetCheckResult(
                    check_name=CHECK_ITEMS_RECONCILE, passed=not mismatches, severity=dg.AssetCheckSeverity.ERROR,
                    metadata={"mismatches": dg.MetadataValue.md(markdown_table(mismatches))},
                ),
            ],
        )

    return dg.Definitions(assets=[databricks_usage, databricks_priced_usage, cost_items],
                          **_schedules(project))


def recompute_days(scheduled_for: dt.datetime, project: Project) -> tuple[dt.date, dt.date]:
    """First and last day (inclusive) a tick recomputes: the previous month's first day up to the tick's day.

    Databricks delivers usage within about 12 hours and restates it later, so the current and the
    previous month are recomputed every day (clipped to ``partitions_start``).
    """
    today = scheduled_for.date()
    previous_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    start = project.settings.partitions_start
    return max(previous_month, start), max(today, start)


def _schedules(project: Project) -> dict:
    daily_job = dg.define_asset_job(
        "databricks_priced_usage_job", selection=[DATABRICKS_USAGE, DATABRICKS_PRICED_USAGE],
        description="Land and price Databricks usage for a range of days.")
    monthly_job = dg.define_asset_job(
        "databricks_cost_items_job", selection=[COST_ITEMS],
        description="Sync Databricks cost per data product into app.cost_items for a range of months.")

    @dg.schedule(name="databricks_priced_usage_daily", cron_schedule="0 7 * * *", job=daily_job,
                 execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.STOPPED,
                 description="07:00 UTC: land and price Databricks usage of the previous and the current month "
                             "(Databricks delivers within about 12 h and restates).")
    def databricks_priced_usage_daily(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        first, last = recompute_days(context.scheduled_execution_time, project)
        return dg.RunRequest(run_key=f"databricks_priced_usage_daily:{first}:{last}",
                             tags={RANGE_START_TAG: first.isoformat(), RANGE_END_TAG: last.isoformat()})

    @dg.schedule(name="databricks_cost_items_daily", cron_schedule="0 8 * * *", job=monthly_job,
                 execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.STOPPED,
                 description="08:00 UTC, after the priced usage: re-sync the previous and the current month "
                             "into app.cost_items.")
    def databricks_cost_items_daily(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        first, last = recompute_days(context.scheduled_execution_time, project)
        first_month, last_month = first.replace(day=1), last.replace(day=1)
        return dg.RunRequest(run_key=f"databricks_cost_items_daily:{first_month}:{last_month}",
                             tags={RANGE_START_TAG: first_month.isoformat(), RANGE_END_TAG: last_month.isoformat()})

    return {"jobs": [daily_job, monthly_job], "schedules": [databricks_priced_usage_daily, databricks_cost_items_daily]}
