"""``metering/unattributed_costs``: daily unattributed AWS share, its checks, its alerts and its schedule."""


import dagster as dg
import pyarrow as pa

from costattr_pipeline.audit import audit
from costattr_pipeline.defs import fx_rates
from costattr_pipeline.defs.alerts.records import LOG_CHANNEL, record_alerts
from costattr_pipeline.defs.alerts.records import TABLES_SQL as ALERT_TABLES_SQL
from costattr_pipeline.defs.attribution import OWNERS
from costattr_pipeline.defs.ingest.cost_explorer.aws_cost_daily import AWS_COST_DAILY, trailing_days
from costattr_pipeline.lib import arrow_tables
from costattr_pipeline.lib.sql import sql_file
from costattr_pipeline.metadata import asset_tags, partition_metadata, rows_check, table_metadata
from costattr_pipeline.project import current_project, range_schedule, window_dates
from costattr_pipeline.resources.config import CostattrConfig
from costattr_pipeline.resources.warehouse import Warehouse, WarehouseSession

UNATTRIBUTED_COSTS = dg.AssetKey(["metering", "unattributed_costs"])
CHECK_THRESHOLD = "unattributed_share_within_threshold"
CHECK_RECONCILES = "reconciles_with_landing"

# With config.fx_to_usd, which the asset loads inside its transaction (the DDL runs before it).
TABLES_SQL = fx_rates.TABLES_SQL + "\n" + sql_file(__file__, "unattributed_costs__tables.sql")
UNATTRIBUTED_SQL = sql_file(__file__, "unattributed_costs.sql")
RECONCILE_SQL = sql_file(__file__, "unattributed_costs__reconcile.sql")
WINDOW = "cost_date >= :start_date AND cost_date < :end_date"
THRESHOLD_SCHEMA = pa.schema([("effective_from", pa.date32()), ("effective_to", pa.date32()),
                              ("value", pa.decimal128(9, 6))])
# A day's figures (one row per day) and, over the run, its totals: the share is unattributed / total.
FIGURES = {
    "total_aws_cost_usd": "SUM(total_aws_cost_usd)",
    "unattributed_cost_usd": "SUM(unattributed_cost_usd)",
    "unattributed_share": "CASE WHEN SUM(total_aws_cost_usd) = 0 THEN 0 "
                          "ELSE SUM(unattributed_cost_usd) / SUM(total_aws_cost_usd) END",
    "threshold_used": "MAX(threshold_used)",
    "days_over_threshold": "SUM(CASE WHEN exceeds_threshold THEN 1 ELSE 0 END)",
}


def _load_thresholds(session: WarehouseSession, config_files: CostattrConfig) -> None:
    """Replace the threshold history table with settings.yaml's, gaps filled with the 2 % default."""
    history = config_files.settings().threshold_history()
    session.execute("DELETE FROM config.unattributed_threshold")
    session.insert_arrow("config.unattributed_threshold", arrow_tables.from_columns({
        "effective_from": [entry.window.start for entry in history],
        "effective_to": [entry.window.end for entry in history],
        "value": [entry.value for entry in history],
    }, THRESHOLD_SCHEMA))


def unattributed_costs(context: dg.AssetExecutionContext, warehouse: Warehouse,
                       config_files: CostattrConfig) -> dg.MaterializeResult:
    """Per day, from the latest Cost Explorer rows: total AWS cost, the part without a tenant tag, their
    share (0 when the total is 0), the threshold in force that day (settings.yaml, default 2 %) and
    whether the share is strictly greater than it.

    The comparison is exact (no division), so a share equal to the threshold never breaches.
    Breached days are recorded in `metering.alerts`.
    """
    start, end = window_dates(context)
    params = {"start_date": start, "end_date": end}
    with warehouse.session() as session:
        session.execute(TABLES_SQL)
        session.execute(ALERT_TABLES_SQL)
        with session.transaction():
            _load_thresholds(session, config_files)
            # metering.aws_cost_day_rows converts with these: this run's settings, even when it runs alone.
            fx_rates.load_fx_rates(session, config_files.settings())
            session.execute(UNATTRIBUTED_SQL, params)
            breaches = session.rows(f"""
                SELECT cost_date AS subject_date, cost_date, total_aws_cost_usd, unattributed_cost_usd,
                       unattributed_share, threshold_used AS threshold
                FROM metering.unattributed_costs WHERE {WINDOW} AND exceeds_threshold ORDER BY cost_date""",
                params)
            new_alerts = record_alerts(session, CHECK_THRESHOLD, breaches, [LOG_CHANNEL], context.log)
            blocking = audit(UNATTRIBUTED_COSTS,
                             rows_check(CHECK_RECONCILES, session.rows(RECONCILE_SQL, params), "mismatched_days"))
        highest_share = session.scalar(f"SELECT MAX(unattributed_share) FROM metering.unattributed_costs WHERE {WINDOW}",
                                       params)
        metadata = partition_metadata(
            context, session, "metering.unattributed_costs", WINDOW, params, partition_column="cost_date",
            tables_sql=TABLES_SQL, figures=FIGURES, order_by="cost_date")
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[
            rows_check(CHECK_THRESHOLD, breaches, "breaches", severity=dg.AssetCheckSeverity.WARN,
                       columns=["cost_date", "total_aws_cost_usd", "unattributed_cost_usd", "unattributed_share",
                                "threshold"],
                       failure=f"{len(breaches)} day(s) over the threshold", success="Every day is within its threshold",
                       metadata={"breached_days": dg.MetadataValue.int(len(breaches)),
                                 # The measured value, plotted over the check's evaluations.
                                 "max_unattributed_share": dg.MetadataValue.float(float(highest_share or 0)),
                                 "new_alert_ids": dg.MetadataValue.json(new_alerts)}),
            *blocking,
        ],
    )


CHECKS = [
    dg.AssetCheckSpec(CHECK_THRESHOLD, asset=UNATTRIBUTED_COSTS,
                      description="WARN when a day's unattributed share is strictly greater than the threshold in "
                                  "force; the breached days and figures are in the metadata and each breach is "
                                  "recorded once in metering.alerts."),
    dg.AssetCheckSpec(CHECK_RECONCILES, asset=UNATTRIBUTED_COSTS, blocking=True,
                      description="ERROR unless, for every day with landed cost, total = attributed + unattributed "
                                  "= the sum of the latest landing rows."),
]


@dg.definitions
def defs() -> dg.Definitions:
    project = current_project()
    asset = dg.asset(key=UNATTRIBUTED_COSTS, deps=[AWS_COST_DAILY], group_name="attribution",
                     owners=OWNERS, tags=asset_tags(source="aws", layer="attribution"),
                     metadata=table_metadata(TABLES_SQL, "metering.unattributed_costs"),
                     kinds={"duckdb", "snowflake"}, partitions_def=project.daily,
                     backfill_policy=dg.BackfillPolicy.single_run(), check_specs=CHECKS)(unattributed_costs)
    job = dg.define_asset_job("unattributed_monitor", selection=[UNATTRIBUTED_COSTS],
                              description="Recompute the unattributed share and alert on breaches.")
    schedule = range_schedule(
        "unattributed_monitor_daily", "0 8 * * *", job, lambda tick: trailing_days(tick, project),
        "08:00 UTC: recompute the unattributed share for the days Cost Explorer landed at 06:00 and alert.")
    return dg.Definitions(assets=[asset], jobs=[job], schedules=[schedule])
