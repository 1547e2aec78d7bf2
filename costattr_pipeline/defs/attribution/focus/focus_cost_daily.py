"""``metering/focus_cost_daily``: every counted FOCUS charge attributed to a tenant, its checks, alerts and schedule."""

import datetime as dt

import dagster as dg
import pyarrow as pa

from costattr_pipeline.audit import audit
from costattr_pipeline.defs import fx_rates
from costattr_pipeline.defs.alerts.records import LOG_CHANNEL, record_alerts, share_breaches
from costattr_pipeline.defs.alerts.records import TABLES_SQL as ALERT_TABLES_SQL
from costattr_pipeline.defs.attribution import OWNERS
from costattr_pipeline.defs.ingest.focus.focus_charges import FOCUS_CHARGES
from costattr_pipeline.lib import arrow_tables
from costattr_pipeline.lib.config import FocusSettings, Settings
from costattr_pipeline.lib.databricks import tag_path
from costattr_pipeline.lib.sql import sql_file
from costattr_pipeline.metadata import asset_tags, partition_metadata, rows_check, table_metadata
from costattr_pipeline.project import DayRange, Project, current_project, range_schedule, window_dates
from costattr_pipeline.resources.config import CostattrConfig
from costattr_pipeline.resources.warehouse import Warehouse, WarehouseSession

FOCUS_COST_DAILY = dg.AssetKey(["metering", "focus_cost_daily"])
CHECK_RECONCILES = "reconciles_with_landing"
CHECK_UNATTRIBUTED = "focus_unattributed_share_within_threshold"
CHECK_NOT_COUNTED_TWICE = "not_counted_twice_with_cost_explorer"

# With config.fx_to_usd, which the asset loads inside its transaction (the DDL runs before it).
TABLES_SQL = fx_rates.TABLES_SQL + "\n" + sql_file(__file__, "focus_cost_daily__tables.sql")
ATTRIBUTION_SQL = sql_file(__file__, "focus_cost_daily.sql")
RECONCILE_SQL = sql_file(__file__, "focus_cost_daily__reconcile.sql")
DOUBLE_COUNT_SQL = sql_file(__file__, "focus_cost_daily__double_count.sql")
OVERLAP_SCHEMA = pa.schema([("billing_account_id", pa.string()), ("counted", pa.string())])
FX_MISSING_SQL = sql_file(__file__, "focus_cost_daily__fx_missing.sql")
WINDOW = "cost_date >= :start_date AND cost_date < :end_date"
# The relation sources/aws.sql of the daily tenant summary leaves out: days whose AWS cost FOCUS counts.
COST_EXPLORER_REPLACED_DAYS = ("SELECT DISTINCT cost_date FROM metering.focus_cost_daily "
                               "WHERE overlap = 'focus_counted'")


def previous_and_current_period(tick: dt.datetime, project: Project) -> DayRange:
    """From the first day of the previous month to the day before the tick: providers refresh the open
    billing period every day and restate the last closed one."""
    last = tick.date() - dt.timedelta(days=1)
    first = (last.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    return project.clip((first, last))


def _attribution_params(focus: FocusSettings, provider: str) -> dict[str, object]:
    rule = focus.attribution_for(provider)
    return {"provider": provider, "cost_column": rule.cost_column,
            "tenant_tag_path": tag_path(rule.tenant_tag), "module_tag_path": tag_path(rule.module_tag),
            "use_tenant_column": rule.tenant_column is not None,
            # A path is bound even when no column is named (the SQL does not read it then).
            "tenant_column_path": tag_path((rule.tenant_column or "x_").lower()),
            "use_module_column": rule.module_column is not None,
            "module_column_path": tag_path((rule.module_column or "x_").lower())}


def _load_overlap(session: WarehouseSession, focus: FocusSettings) -> None:
    """Replace config.focus_cost_explorer_accounts with settings.yaml's."""
    overlap = focus.cost_explorer_overlap
    session.execute("DELETE FROM config.focus_cost_explorer_accounts")
    session.insert_arrow("config.focus_cost_explorer_accounts", arrow_tables.from_columns({
        "billing_account_id": list(overlap.billing_account_ids),
        "counted": [overlap.counted] * len(overlap.billing_account_ids)}, OVERLAP_SCHEMA))


def _breaches(session: WarehouseSession, settings: Settings, params: dict) -> list[dict]:
    """Days and providers whose unattributed share of the counted cost is strictly over the threshold."""
    day_totals = session.rows(f"""
        SELECT cost_date, resource_type, SUM(CAST(cost_usd AS DECIMAL(38, 18))) AS total_cost_usd,
               SUM(CAST(CASE WHEN tenant_id IS NULL THEN cost_usd ELSE 0 END AS DECIMAL(38, 18))) AS unattributed_cost_usd
        FROM metering.focus_cost_daily WHERE {WINDOW} AND counted
        GROUP BY cost_date, resource_type ORDER BY cost_date, resource_type""", params)
    return share_breaches(day_totals, settings)


def focus_cost_daily(context: dg.AssetExecutionContext, warehouse: Warehouse,
                     config_files: CostattrConfig) -> dg.MaterializeResult:
    """Every FOCUS charge of the latest exports, per day, attributed to a tenant and module.

    The tenant is the custom column named in settings.yaml (`focus.tenant_column`, e.g. `x_TenantId`)
    when it has a value, else the Tags key `focus.tenant_tag` (default `tenant_id`); per provider if
    `focus.providers` says so. NULL: unattributed. The cost is `focus.cost_column` (EffectiveCost by
    default, or BilledCost), in the charge's BillingCurrency and in USD at the rate of its day
    (settings.yaml `fx_to_usd`; a currency without a rate stops the run, nothing published). AWS rows of a billing account Cost Explorer also fetches
    (`focus.cost_explorer_overlap`) are the same money: they are kept with `counted` FALSE when Cost
    Explorer counts, or count and take the place of Cost Explorer's cost of their days. Each provider is
    its own resource type (`focus_aws`, `focus_microsoft`, ...) in the daily tenant summary; a day whose
    unattributed share is over the threshold is recorded in `metering.alerts`.
    """
    start, end = window_dates(context)
    settings = config_files.settings()
    params = {"start_date": start, "end_date": end}
    with warehouse.session() as session:
        session.execute(TABLES_SQL)
        session.execute(ALERT_TABLES_SQL)
        relations = session.relations_in("metering")
        providers = ([row["provider"] for row in session.rows(
            f"SELECT DISTINCT provider FROM metering.focus_charges_latest WHERE {WINDOW} ORDER BY provider", params)]
            if "focus_charges_latest" in relations else [])
        with session.transaction():
            _load_overlap(session, settings.focus)
            fx_rates.load_fx_rates(session, settings)
            # Every charge's currency needs a rate on its day before anything is written (cost_usd is never
            # NULL and never the unconverted amount).
            rates_found = audit(FOCUS_COST_DAILY, fx_rates.fx_rate_result(
                session.rows(FX_MISSING_SQL, params, fx_rates.RELATIONS) if providers else []))
            session.execute(f"DELETE FROM metering.focus_cost_daily WHERE {WINDOW}", params)
            for provider in providers:
                session.execute(ATTRIBUTION_SQL, {**params, **_attribution_params(settings.focus, provider)},
                                fx_rates.RELATIONS)
            breaches = _breaches(session, settings, params)
            new_alerts = []
            for resource_type in sorted({breach["resource_type"] for breach in breaches}):
                new_alerts += record_alerts(session, f"{CHECK_UNATTRIBUTED}:{resource_type}",
                                            [breach for breach in breaches if breach["resource_type"] == resource_type],
                                            [LOG_CHANNEL], context.log)
            overlap_declared = bool(settings.focus.cost_explorer_overlap.billing_account_ids)
            double_counted = (session.rows(DOUBLE_COUNT_SQL, params)
                              if providers and not overlap_declared and "v_aws_cost_daily" in relations else [])
            blocking = rates_found + audit(
                FOCUS_COST_DAILY,
                rows_check(CHECK_RECONCILES, session.rows(RECONCILE_SQL, params) if providers else [], "mismatches"),
                rows_check(CHECK_NOT_COUNTED_TWICE, double_counted, "days_counted_twice",
                           failure="FOCUS AWS cost and Cost Explorer cost are both counted on these days: say in "
                                   "settings.yaml focus.cost_explorer_overlap which AWS billing accounts Cost "
                                   "Explorer fetches and which source counts for them"))
        metadata = partition_metadata(
            context, session, "metering.focus_cost_daily", WINDOW, params, partition_column="cost_date",
            tables_sql=TABLES_SQL,
            figures={"counted_usd": "SUM(CAST(CASE WHEN counted THEN cost_usd ELSE 0 END AS DECIMAL(38, 18)))",
                    "unattributed_usd": "SUM(CAST(CASE WHEN counted AND tenant_id IS NULL THEN cost_usd ELSE 0 END "
                                        "AS DECIMAL(38, 18)))",
                    "not_counted_usd": "SUM(CAST(CASE WHEN counted THEN 0 ELSE cost_usd END AS DECIMAL(38, 18)))"},
            order_by="cost_date, provider, tenant_id NULLS FIRST, source_file, source_row",
        )
    metadata["providers"] = dg.MetadataValue.text(", ".join(providers) or "none")
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[
            *blocking,
            rows_check(CHECK_UNATTRIBUTED, breaches, "breaches", severity=dg.AssetCheckSeverity.WARN,
                       columns=["cost_date", "resource_type", "total_cost_usd", "unattributed_cost_usd",
                                "unattributed_share", "threshold"],
                       failure=f"{len(breaches)} day(s) and provider(s) over the threshold",
                       success="Every day and provider is within its threshold",
                       metadata={"new_alert_ids": dg.MetadataValue.json(new_alerts)}),
        ],
    )


CHECKS = [
    dg.AssetCheckSpec(CHECK_RECONCILES, asset=FOCUS_COST_DAILY, blocking=True,
                      description="ERROR unless, per day and provider, every latest landed charge is attributed "
                                  "once, the attributed cost equals the landed cost column (in the charges' "
                                  "currency), each USD amount is its cost at its rate, and attributed + "
                                  "unattributed = the day's USD cost."),
    fx_rates.fx_rate_check_spec(FOCUS_COST_DAILY),
    dg.AssetCheckSpec(CHECK_UNATTRIBUTED, asset=FOCUS_COST_DAILY,
                      description="WARN when a provider's unattributed share of a day's counted FOCUS cost is "
                                  "strictly greater than the threshold in force (settings.yaml "
                                  "unattributed_threshold); each breach is recorded once in metering.alerts."),
    dg.AssetCheckSpec(CHECK_NOT_COUNTED_TWICE, asset=FOCUS_COST_DAILY, blocking=True,
                      description="ERROR when FOCUS rows of provider AWS and Cost Explorer both have counted cost on "
                                  "a day and settings.yaml does not say which AWS accounts Cost Explorer fetches "
                                  "(focus.cost_explorer_overlap): the same money could be counted twice."),
]


@dg.definitions
def defs() -> dg.Definitions:
    project = current_project()
    asset = dg.asset(key=FOCUS_COST_DAILY, deps=[FOCUS_CHARGES], group_name="attribution",
                     owners=OWNERS, tags=asset_tags(source="focus", layer="attribution"),
                     metadata=table_metadata(TABLES_SQL, "metering.focus_cost_daily"),
                     kinds={"duckdb", "snowflake"}, partitions_def=project.daily,
                     backfill_policy=dg.BackfillPolicy.single_run(), check_specs=CHECKS)(focus_cost_daily)
    job = dg.define_asset_job("focus_ingest", selection=[FOCUS_CHARGES, FOCUS_COST_DAILY],
                              description="Land FOCUS exports and attribute their charges for a range of days.")
    schedule = range_schedule(
        "focus_daily", "0 7 * * *", job, lambda tick: previous_and_current_period(tick, project),
        "07:00 UTC: land new FOCUS exports and attribute the previous and the current billing period (providers "
        "refresh the open period daily and restate the last closed one).")
    return dg.Definitions(assets=[asset], jobs=[job], schedules=[schedule])
