"""``app/cost_items``: Databricks cost per data product and month, upserted into the application, and its schedule."""

import datetime as dt

import dagster as dg

from costattr_pipeline.audit import audit
from costattr_pipeline.defs.ingest import OWNERS
from costattr_pipeline.defs.ingest.databricks.databricks_priced_usage import DATABRICKS_PRICED_USAGE
from costattr_pipeline.defs.ingest.databricks.databricks_usage import recompute_days
from costattr_pipeline.lib.errors import SourceError
from costattr_pipeline.lib.sql import sql_file
from costattr_pipeline.metadata import asset_tags, partition_metadata, rows_check, table_metadata
from costattr_pipeline.project import Project, current_project, month_key, range_schedule, window_dates
from costattr_pipeline.resources.warehouse import Warehouse

COST_ITEMS = dg.AssetKey(["app", "cost_items"])
CHECK_ONE_ITEM_PER_KEY = "one_cost_item_per_key"
CHECK_ITEMS_RECONCILE = "cost_items_reconcile_with_priced_usage"
# The cost items this pipeline owns in app.cost_items (contract section 4).
COST_ITEM = {"entity_type": "data_product", "cost_center": "INFRASTRUCTURE", "title": "Databricks Infra Cost"}

TABLES_SQL = sql_file(__file__, "cost_items__tables.sql")
COST_ITEMS_SQL = sql_file(__file__, "cost_items.sql")
COST_ITEMS_RECONCILE_SQL = sql_file(__file__, "cost_items__reconcile.sql")
USAGE_WINDOW = "usage_date >= :start_date AND usage_date < :end_date"
OUR_ITEMS = ("entity_type = :entity_type AND cost_center = :cost_center AND title = :title "
             "AND start_month >= :start_date AND start_month < :end_date")


def recompute_months(tick: dt.datetime, project: Project) -> tuple[str, str]:
    """The monthly partition keys of the priced usage's recomputed days (the previous and the current month)."""
    first, last = recompute_days(tick, project)
    return month_key(first), month_key(last)


def cost_items(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Databricks cost per data product and calendar month in the application's `app.cost_items`.

    One row per (product, month, currency) with entity_type `data_product`, cost_center `INFRASTRUCTURE`,
    title `Databricks Infra Cost`, start_month = end_month = the first of the month and amount_cents = the
    exact monthly total x 100 rounded half away from zero. Upserted (updated in place, else inserted) on (entity_type, entity_id,
    cost_center, title, start_month, currency): re-runs update in place and never duplicate; the month's
    items of products with no cost left are removed. Untagged cost has no item (see the priced usage
    check). Refuses to sync a month that still has unpriced usage.
    """
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
            duplicates = session.rows("""
                SELECT entity_type, entity_id, cost_center, title, start_month, currency, COUNT(*) AS copies
                FROM app.cost_items
                GROUP BY entity_type, entity_id, cost_center, title, start_month, currency
                HAVING COUNT(*) > 1 ORDER BY start_month, entity_id LIMIT 20""")
            blocking = audit(COST_ITEMS, rows_check(CHECK_ONE_ITEM_PER_KEY, duplicates, "duplicates"),
                             rows_check(CHECK_ITEMS_RECONCILE, session.rows(COST_ITEMS_RECONCILE_SQL, params),
                                        "mismatches"))
        metadata = partition_metadata(
            context, session, "app.cost_items", OUR_ITEMS, params, partition_column="start_month",
            tables_sql=TABLES_SQL,
            figures={"amount_cents": "SUM(amount_cents)", "data_products": "COUNT(DISTINCT entity_id)"},
            order_by="start_month, entity_id, currency",
        )
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[
            *blocking,
        ],
    )


CHECKS = [
    dg.AssetCheckSpec(CHECK_ONE_ITEM_PER_KEY, asset=COST_ITEMS, blocking=True,
                      description="ERROR when app.cost_items holds a key (entity_type, entity_id, cost_center, "
                                  "title, start_month, currency) twice."),
    dg.AssetCheckSpec(CHECK_ITEMS_RECONCILE, asset=COST_ITEMS, blocking=True,
                      description="ERROR unless the synced items of the months carry exactly the tagged priced "
                                  "cost (per currency) and each amount_cents is its exact total rounded half away "
                                  "from zero."),
]


@dg.definitions
def defs() -> dg.Definitions:
    project = current_project()
    asset = dg.asset(key=COST_ITEMS, deps=[DATABRICKS_PRICED_USAGE], group_name="app", kinds={"duckdb", "snowflake"},
                     owners=OWNERS, tags=asset_tags(source="databricks", layer="export"),
                     metadata=table_metadata(TABLES_SQL, "app.cost_items"),
                     partitions_def=project.monthly, backfill_policy=dg.BackfillPolicy.single_run(),
                     check_specs=CHECKS)(cost_items)
    job = dg.define_asset_job("databricks_cost_items_job", selection=[COST_ITEMS],
                              description="Sync Databricks cost per data product into app.cost_items for a range "
                                          "of months.")
    schedule = range_schedule(
        "databricks_cost_items_daily", "0 8 * * *", job, lambda tick: recompute_months(tick, project),
        "08:00 UTC, after the priced usage: re-sync the previous and the current month into app.cost_items.")
    return dg.Definitions(assets=[asset], jobs=[job], schedules=[schedule])
