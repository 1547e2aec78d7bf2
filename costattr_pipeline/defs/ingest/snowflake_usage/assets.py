"""``landing/snowflake_account_usage``: the run's days of the three ACCOUNT_USAGE views, readable once.

The credits asset and both query-cost reports read the same three relations. Landing them in
one upstream asset means a run validates each export once, whatever reads it (a yearly
backfill used to stage the query history three times).
"""


import dagster as dg

from costattr_pipeline.defs.metadata import markdown_table
from costattr_pipeline.defs.project import Project, window_dates
from costattr_pipeline.resources.snowflake_usage import SnowflakeUsageSource
from costattr_pipeline.resources.warehouse import Warehouse

SNOWFLAKE_ACCOUNT_USAGE = dg.AssetKey(["landing", "snowflake_account_usage"])
CHECK_SOURCES_PRESENT = "snowflake_sources_present"


def build_defs(project: Project) -> dg.Definitions:
    @dg.asset(
        key=SNOWFLAKE_ACCOUNT_USAGE,
        group_name="ingest",
        kinds={"snowflake", "duckdb"},
        partitions_def=project.daily,
        backfill_policy=dg.BackfillPolicy.single_run(),
        description=(
            "Snowflake `WAREHOUSE_METERING_HISTORY`, `QUERY_ATTRIBUTION_HISTORY` (the run's days, by "
            "START_TIME) and `TAG_REFERENCES` (whole), as the credits and the query-cost reports read them. "
            "Locally the exports under `<source>/snowflake/` are validated in one pass each (types, required "
            "values, no negative credits, QUERY_ID unique), read by DuckDB inside the warehouse; then a Parquet "
            "export is read in place (`landing.snowflake_*` is a view over the file) and a CSV export replaces "
            "those days in the table `landing.snowflake_*`, in one transaction. In production the views are read "
            "in place (nothing is copied out of Snowflake) and this asset records what the window holds."
        ),
        check_specs=[dg.AssetCheckSpec(
            CHECK_SOURCES_PRESENT, asset=SNOWFLAKE_ACCOUNT_USAGE,
            description="WARN when an ACCOUNT_USAGE export is missing: it is read as empty, so the credits of "
                        "its days are unattributed or absent, not wrong.")],
    )
    def snowflake_account_usage(context: dg.AssetExecutionContext, warehouse: Warehouse,
                                snowflake_usage: SnowflakeUsageSource) -> dg.MaterializeResult:
        start, end = window_dates(context)
        params = {"start_date": start, "end_date": end}
        with warehouse.session() as session:
            relations = snowflake_usage.land(session, start, end)  # validated before anything is written
            counts = session.rows(f"""
                SELECT 'WAREHOUSE_METERING_HISTORY' AS view_name, COUNT(*) AS row_count,
                       SUM(CAST(credits_used_compute AS DECIMAL(38, 12))) AS credits
                FROM {relations.warehouse_metering_history}
                WHERE start_time >= :start_date AND start_time < :end_date
                UNION ALL
                SELECT 'QUERY_ATTRIBUTION_HISTORY', COUNT(*), SUM(CAST(credits_attributed_compute AS DECIMAL(38, 12)))
                FROM {relations.query_attribution_history}
                WHERE start_time >= :start_date AND start_time < :end_date
                UNION ALL
                SELECT 'TAG_REFERENCES', COUNT(*), NULL FROM {relations.tag_references}""", params)
        by_view = {row["view_name"]: row for row in counts}
        missing = list(relations.missing)
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": dg.MetadataValue.int(sum(int(row["row_count"]) for row in counts)),
                "metered_credits": dg.MetadataValue.text(str(by_view["WAREHOUSE_METERING_HISTORY"]["credits"] or 0)),
                "query_rows": dg.MetadataValue.int(int(by_view["QUERY_ATTRIBUTION_HISTORY"]["row_count"])),
                "views": dg.MetadataValue.md(markdown_table(counts)),
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

    return dg.Definitions(assets=[snowflake_account_usage])
