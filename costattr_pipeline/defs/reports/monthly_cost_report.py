"""``reports/monthly_cost_report``: one self-contained HTML page per month, and its daily schedule.

The page is drawn from the warehouse (the daily tenant summary, the unattributed share, the unit
economics, the Snowflake credits, the Databricks priced usage) and from Dagster's own record of the
checks that failed over the month's days. See :mod:`costattr_pipeline.lib.cost_report`.
"""

import datetime as dt
from typing import Any

import dagster as dg
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from costattr_pipeline.defs.attribution.snowflake_credits.snowflake_credit_daily import SNOWFLAKE_CREDIT_DAILY
from costattr_pipeline.defs.attribution.tenant_summary.daily_tenant_summary import DAILY_TENANT_SUMMARY
from costattr_pipeline.defs.attribution.unattributed.unattributed_costs import UNATTRIBUTED_COSTS
from costattr_pipeline.defs.billing.unit_economics import UNIT_ECONOMICS
from costattr_pipeline.defs.ingest.databricks.cost_items import recompute_months
from costattr_pipeline.defs.ingest.databricks.databricks_priced_usage import DATABRICKS_PRICED_USAGE
from costattr_pipeline.defs.reports import OWNERS
from costattr_pipeline.lib.cost_report import TOP, MonthData, month_figures, render_report, summary_markdown
from costattr_pipeline.lib.sql import sql_file
from costattr_pipeline.metadata import asset_tags, figure_metadata
from costattr_pipeline.project import current_project, range_schedule
from costattr_pipeline.resources.reports import ReportFolder
from costattr_pipeline.resources.warehouse import Warehouse, WarehouseSession

MONTHLY_COST_REPORT = dg.AssetKey(["reports", "monthly_cost_report"])

# What each part of the page reads, and the relation (in schema metering) it needs.
QUERIES = {
    "daily_cost": ("v_daily_tenant_summary", sql_file(__file__, "monthly_cost_report__daily_cost.sql")),
    "tenant_cost": ("v_daily_tenant_summary", sql_file(__file__, "monthly_cost_report__tenant_cost.sql")),
    "unattributed": ("v_unattributed_costs", sql_file(__file__, "monthly_cost_report__unattributed.sql")),
    "economics": ("v_unit_economics", sql_file(__file__, "monthly_cost_report__economics.sql")),
    "warehouses": ("v_snowflake_credit_daily", sql_file(__file__, "monthly_cost_report__warehouses.sql")),
    "products": ("databricks_priced_usage", sql_file(__file__, "monthly_cost_report__products.sql")),
}
# Evaluations that ended (a run records one "planned" entry per check and partition before it runs).
EVALUATED = {AssetCheckExecutionRecordStatus.SUCCEEDED, AssetCheckExecutionRecordStatus.FAILED}
# The figures of a month plotted over the months in the UI.
PLOTTED = ("total_cost_usd", "unattributed_cost_usd", "aws_unattributed_share", "days_over_threshold",
           "revenue_usd", "gross_margin_usd", "failed_checks")


def _run_window(run: dg.DagsterRun, asset_graph: Any, asset_key: dg.AssetKey) -> tuple[dt.date, dt.date] | None:
    """The days ``[start, end)`` a run covered for ``asset_key``: its partition range (or partition)."""
    tags = run.tags
    first = tags.get(ASSET_PARTITION_RANGE_START_TAG) or tags.get("dagster/partition")
    last = tags.get(ASSET_PARTITION_RANGE_END_TAG) or first
    partitions = asset_graph.get(asset_key).partitions_def if asset_graph.has(asset_key) else None
    if first is None or not isinstance(partitions, dg.TimeWindowPartitionsDefinition):
        return None
    return (partitions.time_window_for_partition_key(first).start.date(),
            partitions.time_window_for_partition_key(last).end.date())


def check_history(context: dg.AssetExecutionContext) -> list[tuple[dg.AssetCheckKey, Any, tuple[dt.date, dt.date]]]:
    """Every check's recent evaluations (newest first) with the days ``[start, end)`` of the run that made
    each: read once per run, then filtered for each month (a yearly backfill has 12 months and 36 checks)."""
    instance = context.instance
    # The run's graph holds only the assets it selected; the graph it was cut from holds every check.
    asset_graph = context.job_def.asset_layer.asset_graph
    asset_graph = getattr(asset_graph, "source_asset_graph", asset_graph)
    evaluations = []
    for check_key in sorted(asset_graph.asset_check_keys, key=lambda key: key.to_user_string()):
        for record in instance.event_log_storage.get_asset_check_execution_history(check_key, limit=25,
                                                                                    status=EVALUATED):
            event = record.event.dagster_event if record.event else None
            if event and event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
                evaluations.append((check_key, event.asset_check_evaluation_data, record.run_id))
    # The runs that made them, in one query (a daily run's history names ~100 check and run pairs).
    run_ids = sorted({run_id for _, _, run_id in evaluations})
    runs = {run.run_id: run for run in instance.get_runs(dg.RunsFilter(run_ids=run_ids))} if run_ids else {}
    windows: dict[tuple[str, dg.AssetKey], tuple[dt.date, dt.date] | None] = {}
    history = []
    for check_key, evaluation, run_id in evaluations:
        cached = (run_id, check_key.asset_key)
        if cached not in windows:
            run = runs.get(run_id)
            windows[cached] = _run_window(run, asset_graph, check_key.asset_key) if run else None
        if windows[cached] is not None:
            history.append((check_key, evaluation, windows[cached]))
    return history


def failed_checks(history: list[tuple[dg.AssetCheckKey, Any, tuple[dt.date, dt.date]]], start: dt.date,
                  end: dt.date) -> list[dict[str, Any]]:
    """Per check, its latest evaluation by a run that covered days of ``[start, end)``, when it failed."""
    failed = []
    seen: set[dg.AssetCheckKey] = set()
    for check_key, evaluation, window in history:
        if check_key in seen or window[1] <= start or window[0] >= end:
            continue
        seen.add(check_key)  # its latest evaluation over these days decides
        if not evaluation.passed:
            failing = evaluation.metadata.get("failing_rows")
            failed.append({"asset": check_key.asset_key.to_user_string(), "check": check_key.name,
                           "severity": evaluation.severity.value, "description": evaluation.description,
                           "failing_rows": failing.value if failing is not None else None,
                           "partitions": f"{window[0]} to {window[1] - dt.timedelta(days=1)}"})
    return failed


def month_data(session: WarehouseSession, month: dt.date, end: dt.date, checks: list[dict[str, Any]]) -> MonthData:
    """The month's rows for the page; a source that never ran (no relation) shows nothing."""
    existing = session.relations_in("metering")
    params = {"start_date": month, "end_date": end, "top": TOP}
    rows = {name: session.rows(sql, params) if relation in existing else []
            for name, (relation, sql) in QUERIES.items()}
    return MonthData(month=month, failed_checks=checks, **rows)


def monthly_cost_report(context: dg.AssetExecutionContext, warehouse: Warehouse,
                        report_folder: ReportFolder) -> dg.MaterializeResult:
    """One HTML page per calendar month for finance readers, opened in any browser without a network:
    the month's cost per day and per tenant by source, the daily AWS unattributed share against its
    threshold, revenue against attributed cost and the gross margin per tenant, the Snowflake warehouses
    and Databricks data products that cost most, and the checks that failed over the month's days.

    Written to `<reports folder>/<YYYY-MM>.html` (`COSTATTR_REPORTS_DIR`, default `reports/` beside the
    warehouse file); each month's metadata links its file and summarizes its figures. The open month's
    page is provisional and rewritten by the next run.
    """
    generated_at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    partitions_def = context.assets_def.partitions_def
    written = []
    history = check_history(context)
    with warehouse.session() as session:
        for month_key in context.partition_keys:
            window = partitions_def.time_window_for_partition_key(month_key)
            month, end = window.start.date(), window.end.date()
            data = month_data(session, month, end, failed_checks(history, month, end))
            path = report_folder.write(month, render_report(data, generated_at))
            figures = month_figures(data)
            metadata: dict[str, Any] = {
                "report": dg.MetadataValue.path(str(path)),
                "report_url": dg.MetadataValue.url(path.as_uri()),
                "summary": dg.MetadataValue.md(summary_markdown(data, path)),
            }
            for name in PLOTTED:
                metadata.update(figure_metadata(name, figures[name]))
            context.add_asset_metadata(metadata, partition_key=month_key)
            written.append(str(path))
    context.log.info(f"Wrote {len(written)} monthly cost report(s): {', '.join(written)}")
    return dg.MaterializeResult(metadata={"run_reports_folder": dg.MetadataValue.text(report_folder.folder)})


@dg.definitions
def defs() -> dg.Definitions:
    project = current_project()
    asset = dg.asset(key=MONTHLY_COST_REPORT, group_name="reports", kinds={"html", "duckdb", "snowflake"},
                     owners=OWNERS, tags=asset_tags(source="all", layer="report"),
                     deps=[DAILY_TENANT_SUMMARY, UNATTRIBUTED_COSTS, UNIT_ECONOMICS, SNOWFLAKE_CREDIT_DAILY,
                           DATABRICKS_PRICED_USAGE],
                     partitions_def=project.monthly, backfill_policy=dg.BackfillPolicy.single_run())(
        monthly_cost_report)
    job = dg.define_asset_job("monthly_cost_report_job", selection=[MONTHLY_COST_REPORT],
                              description="Write the monthly cost reports of a range of months.")
    schedule = range_schedule(
        "monthly_cost_report_daily", "30 9 * * *", job, lambda tick: recompute_months(tick, project),
        "09:30 UTC, after the day's costs and the Databricks cost items: rewrite the current and the previous "
        "month's reports.")
    return dg.Definitions(assets=[asset], jobs=[job], schedules=[schedule])
