"""``metering/external_api_costs``: third-party API costs, landed per day (scheduled with the usage events)."""

import dagster as dg

from costattr_pipeline.audit import audit
from costattr_pipeline.defs import fx_rates
from costattr_pipeline.defs.ingest import OWNERS
from costattr_pipeline.defs.ingest.usage.window_landing import replace_window
from costattr_pipeline.lib.computations import Computation
from costattr_pipeline.lib.sql import sql_file
from costattr_pipeline.lib.versioned_tables import VersionedTable
from costattr_pipeline.metadata import asset_tags, partition_metadata, table_metadata
from costattr_pipeline.project import current_project, window_dates
from costattr_pipeline.resources.config import CostattrConfig
from costattr_pipeline.resources.usage import UsageSource
from costattr_pipeline.resources.warehouse import Warehouse

EXTERNAL_API_COSTS = dg.AssetKey(["metering", "external_api_costs"])
CHECK_EXTERNAL_SOURCE_PRESENT = "external_api_costs_source_present"

# Append-only (spec NFR-024): the staged file's rows, converted to USD (external_api_costs.sql), are appended
# per changed day.
EXTERNAL_API_COSTS_VERSIONS = VersionedTable(
    table="metering.external_api_costs", staging="metering.external_api_costs_staging",
    figures=("cost_date", "tenant_id", "module_id", "provider", "amount", "currency", "fx_rate_to_usd", "amount_usd"),
    staged_rows=sql_file(__file__, "external_api_costs.sql"))
TABLES_SQL = sql_file(__file__, "external_api_costs__tables.sql") + "\n" + EXTERNAL_API_COSTS_VERSIONS.tables_sql()
LAND_EXTERNAL_SQL = EXTERNAL_API_COSTS_VERSIONS.append_sql()
AS_OF_SQL = sql_file(__file__, "external_api_costs__as_of.sql")
COST_WINDOW = "cost_date >= :start_date AND cost_date < :end_date"


def external_api_costs(context: dg.AssetExecutionContext, warehouse: Warehouse, config_files: CostattrConfig,
                       usage_source: UsageSource) -> dg.MaterializeResult:
    """Third-party API costs, landed per cost_date with their amount in USD at the rate in force on the day
    (settings.yaml `fx_to_usd`; an empty currency is USD). Locally from `usage/external_api_costs`; in
    production read in place from a Snowflake table (settings.yaml `usage_source`, default
    `PRODUCT.METERING.EXTERNAL_API_COSTS`), validated there and copied inside Snowflake.

    They are part of each tenant's cost (daily tenant summary, resource type `external_api`) and are
    passed through to the tenant's bill with the rate card's markup. tenant_id NULL: no tenant caused
    the cost.

    Append-only (audit): a day landed again with other rows is appended as a new version (computation id
    = the run, computed_at, hash of the rates, the file or table read); `metering.v_external_api_costs` shows each
    day's current version and `external_api_costs__as_of.sql` what was landed as of an earlier time.
    """
    start, end = window_dates(context)
    params = {"start_date": start, "end_date": end}
    settings = config_files.settings()
    with warehouse.session() as session:
        # Tables first, outside the landing's transaction (in Snowflake a DDL statement commits the open one).
        session.execute(TABLES_SQL)
        session.execute(fx_rates.TABLES_SQL)
        costs = usage_source.external_api_costs(session, start, end)  # validated: a bad row raises, nothing written
        computation = Computation.new(str([rate.model_dump(mode="json") for rate in settings.fx_to_usd]),
                                      [costs.name], context.run.run_id)
        blocking = replace_window(
            session, "metering.external_api_costs_staging", costs, LAND_EXTERNAL_SQL,
            {**params, **computation.params()},
            before=lambda: fx_rates.load_fx_rates(session, settings), relations=fx_rates.RELATIONS,
            audit=lambda: audit(EXTERNAL_API_COSTS, fx_rates.fx_rate_check(
                session, "metering.v_external_api_costs", "cost_date", "amount", COST_WINDOW, params)))
        metadata = partition_metadata(
            context, session, "metering.v_external_api_costs", COST_WINDOW, params, partition_column="cost_date",
            tables_sql=TABLES_SQL, schema_table="metering.external_api_costs",
            figures={"total_usd": "SUM(CAST(amount_usd AS DECIMAL(38, 18)))",
                     "untagged_usd": "SUM(CAST(CASE WHEN tenant_id IS NULL THEN amount_usd ELSE 0 END "
                                     "AS DECIMAL(38, 18)))"},
            order_by="cost_date, tenant_id NULLS FIRST, provider")
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[
            dg.AssetCheckResult(
                check_name=CHECK_EXTERNAL_SOURCE_PRESENT, passed=costs.count is not None,
                severity=dg.AssetCheckSeverity.WARN,
                description=None if costs.count is not None else f"No {costs.name}: pass-through is 0.",
                metadata={"source_rows": dg.MetadataValue.int(costs.count or 0)},
            ),
            *blocking,
        ],
    )


CHECKS = [
    dg.AssetCheckSpec(CHECK_EXTERNAL_SOURCE_PRESENT, asset=EXTERNAL_API_COSTS,
                      description="WARN when there is no external_api_costs file (or table): pass-through is 0."),
    fx_rates.fx_rate_check_spec(EXTERNAL_API_COSTS),
]


@dg.definitions
def defs() -> dg.Definitions:
    project = current_project()
    asset = dg.asset(key=EXTERNAL_API_COSTS, group_name="ingest", kinds={"duckdb", "snowflake"},
                     owners=OWNERS, tags=asset_tags(source="usage", layer="landing"),
                     metadata=table_metadata(TABLES_SQL, "metering.external_api_costs"),
                     partitions_def=project.daily, backfill_policy=dg.BackfillPolicy.single_run(),
                     check_specs=CHECKS)(external_api_costs)
    return dg.Definitions(assets=[asset])
