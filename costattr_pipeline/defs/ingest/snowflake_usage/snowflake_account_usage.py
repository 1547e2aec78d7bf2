"""``landing/snowflake_account_usage``: the run's days of the three ACCOUNT_USAGE views, readable once.

The credits asset and both query-cost reports read the same three relations. Landing them in
one upstream asset means a run validates each export once, whatever reads it (a yearly
backfill used to stage the query history three times).
"""

import datetime as dt

import dagster as dg

from costattr_pipeline.defs.ingest import OWNERS
from costattr_pipeline.lib.snowflake_usage import USAGE_VIEWS
from costattr_pipeline.lib.sql import sql_file
from costattr_pipeline.metadata import asset_tags, partition_metadata
from costattr_pipeline.project import current_project, window_dates
from costattr_pipeline.resources.snowflake_usage import (LANDING_SCHEMA, StagedExport, SnowflakeUsageSource,
                                                         landing_relation)
from costattr_pipeline.resources.warehouse import Warehouse, WarehouseSession

SNOWFLAKE_ACCOUNT_USAGE = dg.AssetKey(["landing", "snowflake_account_usage"])
CHECK_SOURCES_PRESENT = "snowflake_sources_present"

TABLES_SQL = sql_file(__file__, "snowflake_account_usage__tables.sql")
# Every landed row of the two dated views, placed on its UTC day, for the figures of each day.
USAGE_ROWS_SQL = """
SELECT CAST(start_time AS DATE) AS usage_date, start_time, 'WAREHOUSE_METERING_HISTORY' AS view_name,
       CAST(credits_used_compute AS DECIMAL(38, 12)) AS credits
FROM account_usage.warehouse_metering_history
WHERE start_time >= :start_date AND start_time < :end_date
UNION ALL
SELECT CAST(start_time AS DATE), start_time, 'QUERY_ATTRIBUTION_HISTORY',
       CAST(credits_attributed_compute AS DECIMAL(38, 12))
FROM account_usage.query_attribution_history
WHERE start_time >= :start_date AND start_time < :end_date"""
METERED = "view_name = 'WAREHOUSE_METERING_HISTORY'"
QUERIES = "view_name = 'QUERY_ATTRIBUTION_HISTORY'"
DAY_FIGURES = {
    "metering_rows": f"SUM(CASE WHEN {METERED} THEN 1 ELSE 0 END)",
    "metered_credits": f"SUM(CASE WHEN {METERED} THEN credits ELSE 0 END)",
    "query_rows": f"SUM(CASE WHEN {QUERIES} THEN 1 ELSE 0 END)",
    "query_credits": f"SUM(CASE WHEN {QUERIES} THEN credits ELSE 0 END)",
}


def land_exports(session: WarehouseSession, engine, exports: list[StagedExport], start: dt.date,
                 end: dt.date) -> None:
    """Make the validated exports the landing relations, in one transaction.

    A **Parquet** export is read in place where the warehouse can read the file (DuckDB), as
    production reads ACCOUNT_USAGE in place: ``landing.snowflake_<view>`` becomes a view of its
    typed columns over the file (copying 20 M query rows a year cost 13 s and saved the readers
    nothing). Otherwise the run's days replace those days in the table ``landing.snowflake_<view>``
    (CSV is text: parsed once here, not by every reader). An absent export empties its days.
    """
    staged = {export.view_name: export for export in exports}
    in_place = {name for name, export in staged.items() if export.parquet and session.reads_local_files}
    with session.transaction():
        session.execute(f"CREATE SCHEMA IF NOT EXISTS {LANDING_SCHEMA}")
        existing = session.relations_in(LANDING_SCHEMA)
        for view in USAGE_VIEWS:
            relation = landing_relation(view.name)
            kind = existing.get(relation.split(".", 1)[1])
            if view.name in in_place:
                if kind == "BASE TABLE":
                    session.execute(f"DROP TABLE {relation}")
                session.execute(f"CREATE OR REPLACE VIEW {relation} AS {staged[view.name].select}")
            elif kind == "VIEW":  # the export is CSV now, or gone: land into a table again
                session.execute(f"DROP VIEW {relation}")
        session.execute(TABLES_SQL)  # the tables of the views not read in place (IF NOT EXISTS)
        for view in USAGE_VIEWS:
            if view.name in in_place:
                continue
            relation = landing_relation(view.name)
            if view.has_start_time:
                session.execute(f"DELETE FROM {relation} WHERE start_time >= :start_date AND start_time < :end_date",
                                {"start_date": start, "end_date": end})
            else:
                session.execute(f"DELETE FROM {relation}")
            if view.name in staged:
                columns = ", ".join(column.name.lower() for column in view.columns)
                session.insert_from_local(engine, relation, f"SELECT {columns} FROM {staged[view.name].staged}")


def snowflake_account_usage(context: dg.AssetExecutionContext, warehouse: Warehouse,
                            snowflake_usage: SnowflakeUsageSource) -> dg.MaterializeResult:
    """Snowflake `WAREHOUSE_METERING_HISTORY`, `QUERY_ATTRIBUTION_HISTORY` (the run's days, by START_TIME)
    and `TAG_REFERENCES` (whole), as the credits and the query-cost reports read them.

    Locally the exports under `<source>/snowflake/` are validated in one pass each (types, required
    values, no negative credits, QUERY_ID unique) before anything is written; then a Parquet export is
    read in place (`landing.snowflake_*` is a view over the file) and a CSV export replaces those days
    in the table `landing.snowflake_*`, in one transaction. In production the views are read in place
    (nothing is copied out of Snowflake) and this asset records what the window holds.
    """
    start, end = window_dates(context)
    params = {"start_date": start, "end_date": end}
    with warehouse.session() as session:
        with session.local_engine() as engine:
            exports = snowflake_usage.stage_exports(engine, start, end)  # validated before anything is written
            if exports is not None:
                land_exports(session, engine, exports, start, end)
        relations = snowflake_usage.relations(session)
        metadata = partition_metadata(
            context, session, "usage_rows", "usage_date >= :start_date AND usage_date < :end_date", params,
            partition_column="usage_date", tables_sql=None, figures=DAY_FIGURES, preview=False,
            relations={**relations.mapping, "usage_rows": USAGE_ROWS_SQL})
        tag_references = session.scalar("SELECT COUNT(*) FROM account_usage.tag_references", None, relations.mapping)
    missing = list(relations.missing)
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "run_tag_references": dg.MetadataValue.int(int(tag_references or 0)),  # the whole view, every run
            "relations": dg.MetadataValue.json({"warehouse_metering_history": relations.warehouse_metering_history,
                                                "query_attribution_history": relations.query_attribution_history,
                                                "tag_references": relations.tag_references}),
        },
        check_results=[dg.AssetCheckResult(
            check_name=CHECK_SOURCES_PRESENT, passed=not missing, severity=dg.AssetCheckSeverity.WARN,
            description=(f"No export for {', '.join(missing)}: read as empty" if missing
                         else "Every ACCOUNT_USAGE source is present"),
            metadata={"missing": dg.MetadataValue.json(missing)},
        )],
    )


CHECKS = [dg.AssetCheckSpec(
    CHECK_SOURCES_PRESENT, asset=SNOWFLAKE_ACCOUNT_USAGE,
    description="WARN when an ACCOUNT_USAGE export is missing: it is read as empty, so the credits of its days "
                "are unattributed or absent, not wrong.")]


@dg.definitions
def defs() -> dg.Definitions:
    project = current_project()
    asset = dg.asset(key=SNOWFLAKE_ACCOUNT_USAGE, group_name="ingest", kinds={"snowflake", "duckdb"},
                     owners=OWNERS, tags=asset_tags(source="snowflake", layer="landing"),
                     partitions_def=project.daily, backfill_policy=dg.BackfillPolicy.single_run(),
                     check_specs=CHECKS)(snowflake_account_usage)
    return dg.Definitions(assets=[asset])
