"""Snowflake credits per tenant (``metering/snowflake_credit_daily``) and the two query-cost reports.

Every asset reads the ACCOUNT_USAGE relations the ``snowflake_usage`` resource
gives: locally the exports ``landing/snowflake_account_usage`` landed, in production
the views themselves.
"""


import datetime as dt
from decimal import Decimal
from typing import Any

import dagster as dg
import pyarrow as pa

from costattr_pipeline.defs.ingest.snowflake_usage import SNOWFLAKE_ACCOUNT_USAGE
from costattr_pipeline.defs.metadata import markdown_table, table_metadata
from costattr_pipeline.defs.project import Project, window_dates
from costattr_pipeline.lib.config import Settings, SnowflakeSettings
from costattr_pipeline.lib.errors import ConfigError
from costattr_pipeline.lib.snowflake_usage import TOP_RECURRING_QUERIES, json_tag_pattern, pair_tag_pattern
from costattr_pipeline.lib.sql import sql_file
from costattr_pipeline.resources.config import CostattrConfig
from costattr_pipeline.resources.snowflake_usage import SnowflakeUsageSource, UsageRelations
from costattr_pipeline.resources.warehouse import Warehouse, WarehouseSession

SNOWFLAKE_CREDIT_DAILY = dg.AssetKey(["metering", "snowflake_credit_daily"])
RECURRING_QUERY_COST = dg.AssetKey(["metering", "snowflake_recurring_query_cost"])
HIERARCHICAL_QUERY_COST = dg.AssetKey(["metering", "snowflake_hierarchical_query_cost"])

CHECK_CREDITS_RECONCILE = "credits_reconcile_with_metering"
CHECK_PRICE_FOUND = "credit_price_found"
CHECK_UNATTRIBUTED_SHARE = "credits_without_tenant_within_threshold"
CHECK_UNTAGGED_USERS = "no_untagged_users"

TABLES_SQL = sql_file(__file__, "tables.sql")
CREDIT_DAILY_SQL = sql_file(__file__, "snowflake_credit_daily.sql")
RECONCILE_SQL = sql_file(__file__, "reconcile.sql")
UNTAGGED_USERS_SQL = sql_file(__file__, "untagged_users.sql")
RECURRING_QUERY_COST_SQL = sql_file(__file__, "recurring_query_cost.sql")
HIERARCHICAL_QUERY_COST_SQL = sql_file(__file__, "hierarchical_query_cost.sql")

PRICE_SCALE = Decimal("0.000001")
DAY_WINDOW = "cost_date >= :start_date AND cost_date < :end_date"
MONTH_WINDOW = "month_start >= :start_date AND month_start < :end_date"


def load_credit_prices(session: WarehouseSession, snowflake: SnowflakeSettings) -> None:
    """Replace ``config.snowflake_credit_price`` with settings.yaml's dated prices.

    Prices are kept to the micro-dollar; a price with more decimals is refused rather than rounded.
    """
    entries = snowflake.credit_price_usd
    for index, entry in enumerate(entries):
        if entry.value.price != entry.value.price.quantize(PRICE_SCALE):
            raise ConfigError("settings.yaml", f"snowflake.credit_price_usd[{index}]",
                              f"price {entry.value.price} has more than 6 decimal places")
    session.execute("DELETE FROM config.snowflake_credit_price")
    session.insert_arrow("config.snowflake_credit_price", pa.table({
        "effective_from": pa.array([entry.window.start for entry in entries], pa.date32()),
        "effective_to": pa.array([entry.window.end for entry in entries], pa.date32()),
        "warehouse_name": pa.array([entry.value.warehouse for entry in entries], pa.string()),
        "price": pa.array([entry.value.price for entry in entries], pa.decimal128(18, 6)),
    }))


def tag_parameters(snowflake: SnowflakeSettings) -> dict[str, object]:
    """The SQL parameters of the tenant rule: tag name, query-tag patterns and idle policy."""
    return {"tenant_tag": snowflake.tenant_tag, "pair_tag_pattern": pair_tag_pattern(snowflake.tenant_tag),
            "json_tag_pattern": json_tag_pattern(snowflake.tenant_tag), "idle_policy": snowflake.idle_policy}


def attribute_credits(session: WarehouseSession, relations: UsageRelations, snowflake: SnowflakeSettings,
                      start: dt.date, end: dt.date) -> None:
    """Replace the days ``[start, end)`` of ``metering.snowflake_credit_daily`` (call inside a transaction)."""
    load_credit_prices(session, snowflake)
    session.execute(relations.bind(CREDIT_DAILY_SQL),
                    {"start_date": start, "end_date": end, **tag_parameters(snowflake)})


def credit_mismatches(session: WarehouseSession, relations: UsageRelations, start: dt.date, end: dt.date
                      ) -> list[dict[str, Any]]:
    """(day, warehouse) pairs whose rows do not add up to the metered credits and their cost (empty: all good)."""
    return session.rows(relations.bind(RECONCILE_SQL), {"start_date": start, "end_date": end})


def untagged_users(session: WarehouseSession, relations: UsageRelations, snowflake: SnowflakeSettings,
                   start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Users who ran queries in ``[start, end)`` without a tenant tag, most credits without a tenant first."""
    return session.rows(relations.bind(UNTAGGED_USERS_SQL),
                        {"start_date": start, "end_date": end, **tag_parameters(snowflake)})


def days_over_threshold(session: WarehouseSession, settings: Settings, start: dt.date, end: dt.date
                        ) -> list[dict[str, Any]]:
    """Days whose credits without a tenant (unattributed + idle) are strictly more than the threshold in force.

    One row per day is read; the comparison is exact (no division): without > threshold x total.
    """
    days = session.rows(f"""
        SELECT cost_date,
               SUM(CAST(credits AS DECIMAL(38, 12))) AS total_credits,
               SUM(CAST(CASE WHEN tenant_id IS NULL THEN credits ELSE 0 END AS DECIMAL(38, 12))) AS credits_without_tenant
        FROM metering.snowflake_credit_daily WHERE {DAY_WINDOW}
        GROUP BY cost_date ORDER BY cost_date""", {"start_date": start, "end_date": end})
    breaches = []
    for day in days:
        threshold = settings.threshold_on(day["cost_date"])
        total, without = Decimal(day["total_credits"]), Decimal(day["credits_without_tenant"])
        if total > 0 and without > threshold * total:
            breaches.append({**day, "share": (without / total).quantize(Decimal("0.0001")), "threshold": threshold})
    return breaches


def _price_check(session: WarehouseSession, where: str, params: dict[str, object], table: str,
                 label: str) -> dg.AssetCheckResult:
    unpriced = session.rows(f"SELECT {label} FROM {table} WHERE {where} AND cost_usd IS NULL "
                            f"GROUP BY {label} ORDER BY {label} LIMIT 20", params)
    return dg.AssetCheckResult(
        check_name=CHECK_PRICE_FOUND, passed=not unpriced, severity=dg.AssetCheckSeverity.ERROR,
        description=("Rows without a credit price in force: add a snowflake.credit_price_usd entry" if unpriced
                     else "Every row has a credit price"),
        metadata={"unpriced": dg.MetadataValue.md(markdown_table(unpriced))},
    )


def _check_specs(asset: dg.AssetKey, price_subject: str) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(CHECK_PRICE_FOUND, asset=asset, blocking=True,
                          description=f"ERROR when {price_subject} has no credit price in force "
                                      "(snowflake.credit_price_usd in settings.yaml): its cost is NULL, never 0."),
    ]


def build_defs(project: Project) -> dg.Definitions:
    @dg.asset(
        key=SNOWFLAKE_CREDIT_DAILY,
        deps=[SNOWFLAKE_ACCOUNT_USAGE],
        group_name="attribution",
        kinds={"snowflake", "duckdb"},
        partitions_def=project.daily,
        backfill_policy=dg.BackfillPolicy.single_run(),
        description=(
            "Snowflake compute credits per UTC day, warehouse and tenant, and their cost in USD. A warehouse "
            "carrying the tenant object tag is `dedicated`: the tag value gets all its credits. On a shared "
            "warehouse each query's tenant comes from its query tag (`TENANT_ID=acme;...`, `...,tenant_id=acme` "
            "or JSON `{\"tenant_id\": \"acme\"}`), else from its user's tag. With idle policy `proportional` "
            "the metered credits are split in proportion to the queries' credits (queries without a tenant: "
            "`unattributed`); with `separate` tenants get their queries' credits and the rest is `idle`. A "
            "metered day without queries is all `idle`. Per day and warehouse the rows add up to the metered "
            "credits exactly; cost_usd = credits x the price in force that day (the warehouse's own first). "
            "Today is provisional and recomputed by the next run."
        ),
        check_specs=[
            *_check_specs(SNOWFLAKE_CREDIT_DAILY, "a warehouse-day"),
            dg.AssetCheckSpec(CHECK_CREDITS_RECONCILE, asset=SNOWFLAKE_CREDIT_DAILY, blocking=True,
                              description="ERROR unless, per day and warehouse, the rows' credits add up to the "
                                          "metered CREDITS_USED_COMPUTE, no part is negative and the costs add "
                                          "up to ROUND(credits x price, 6)."),
            dg.AssetCheckSpec(CHECK_UNATTRIBUTED_SHARE, asset=SNOWFLAKE_CREDIT_DAILY,
                              description="WARN when a day's credits without a tenant (unattributed and idle) "
                                          "are strictly more than the unattributed threshold in force."),
            dg.AssetCheckSpec(CHECK_UNTAGGED_USERS, asset=SNOWFLAKE_CREDIT_DAILY,
                              description="WARN when users without a tenant tag ran queries; the list is in "
                                          "the metadata (tag them, or tag their queries)."),
        ],
    )
    def snowflake_credit_daily(context: dg.AssetExecutionContext, warehouse: Warehouse,
                               config_files: CostattrConfig,
                               snowflake_usage: SnowflakeUsageSource) -> dg.MaterializeResult:
        start, end = window_dates(context)
        settings = config_files.settings()
        params = {"start_date": start, "end_date": end}
        with warehouse.session() as session:
            relations = snowflake_usage.relations(session)
            session.execute(TABLES_SQL)
            with session.transaction():
                attribute_credits(session, relations, settings.snowflake, start, end)
            mismatches = credit_mismatches(session, relations, start, end)
            breaches = days_over_threshold(session, settings, start, end)
            users = untagged_users(session, relations, settings.snowflake, start, end)
            price_check = _price_check(session, DAY_WINDOW, params, "metering.snowflake_credit_daily",
                                       "cost_date, warehouse_name")
            metadata = table_metadata(
                session, "metering.snowflake_credit_daily", DAY_WINDOW, params,
                totals={"total_credits": "SUM(CAST(credits AS DECIMAL(38, 12)))",
                        "total_cost_usd": "SUM(CAST(cost_usd AS DECIMAL(38, 6)))",
                        "credits_without_tenant": "SUM(CAST(CASE WHEN tenant_id IS NULL THEN credits ELSE 0 END "
                                                  "AS DECIMAL(38, 12)))"},
                order_by="cost_date, warehouse_name, tenant_id NULLS LAST, attribution",
            )
        metadata["idle_policy"] = dg.MetadataValue.text(settings.snowflake.idle_policy)
        return dg.MaterializeResult(
            metadata=metadata,
            check_results=[
                price_check,
                dg.AssetCheckResult(
                    check_name=CHECK_CREDITS_RECONCILE, passed=not mismatches, severity=dg.AssetCheckSeverity.ERROR,
                    metadata={"mismatches": dg.MetadataValue.md(markdown_table(mismatches))},
                ),
                dg.AssetCheckResult(
                    check_name=CHECK_UNATTRIBUTED_SHARE, passed=not breaches, severity=dg.AssetCheckSeverity.WARN,
                    description=(f"{len(breaches)} day(s) with more credits without a tenant than the threshold"
                                 if breaches else "Every day is within its threshold"),
                    metadata={"breached_days": dg.MetadataValue.int(len(breaches)),
                              "breaches": dg.MetadataValue.md(markdown_table(breaches))},
                ),
                dg.AssetCheckResult(
                    check_name=CHECK_UNTAGGED_USERS, passed=not users, severity=dg.AssetCheckSeverity.WARN,
                    description=(f"{len(users)} user(s) without a tenant tag ran queries" if users
                                 else "Every user who ran queries has a tenant tag"),
                    metadata={"untagged_users": dg.MetadataValue.md(markdown_table(users)),
                              "user_names": dg.MetadataValue.json([user["user_name"] for user in users])},
                ),
            ],
        )

    def _report(key: dg.AssetKey, sql: str, extra: dict[str, object], description: str, order_by: str,
                label: str) -> dg.AssetsDefinition:
        @dg.asset(
            key=key,
            deps=[SNOWFLAKE_ACCOUNT_USAGE],
            group_name="reports",
            kinds={"snowflake", "duckdb"},
            partitions_def=project.monthly,
            backfill_policy=dg.BackfillPolicy.single_run(),
            description=description,
            check_specs=_check_specs(key, label),
        )
        def _asset(context: dg.AssetExecutionContext, warehouse: Warehouse, config_files: CostattrConfig,
                   snowflake_usage: SnowflakeUsageSource) -> dg.MaterializeResult:
            start, end = window_dates(context)
            settings = config_files.settings()
            params = {"start_date": start, "end_date": end}
            with warehouse.session() as session:
                relations = snowflake_usage.relations(session)
                session.execute(TABLES_SQL)
                with session.transaction():
                    load_credit_prices(session, settings.snowflake)
                    session.execute(relations.bind(sql), {**params, **extra})
                price_check = _price_check(session, MONTH_WINDOW, params, f"metering.{key.path[-1]}", label)
                metadata = table_metadata(
                    session, f"metering.{key.path[-1]}", MONTH_WINDOW, params,
                    totals={"credits": "SUM(CAST(credits AS DECIMAL(38, 12)))",
                            "cost_usd": "SUM(CAST(cost_usd AS DECIMAL(38, 6)))"},
                    order_by=order_by,
                )
            return dg.MaterializeResult(metadata=metadata, check_results=[price_check])

        return _asset

    recurring = _report(
        RECURRING_QUERY_COST, RECURRING_QUERY_COST_SQL, {"top_n": TOP_RECURRING_QUERIES},
        f"Cost of recurring queries, per calendar month: queries grouped by QUERY_PARAMETERIZED_HASH (the same "
        f"statement with different literals), the {TOP_RECURRING_QUERIES} most expensive kept and ranked. "
        "Credits are the queries' CREDITS_ATTRIBUTED_COMPUTE (idle time excluded), priced at the credit price "
        "in force on each query's day and warehouse.",
        "month_start, cost_rank", "month_start, query_parameterized_hash")
    hierarchical = _report(
        HIERARCHICAL_QUERY_COST, HIERARCHICAL_QUERY_COST_SQL, {},
        "Cost of hierarchical queries, per calendar month: each stored procedure or script with the statements "
        "it ran, rolled up by ROOT_QUERY_ID (queries counted in the month they started). Only trees with at "
        "least one child query; credits are CREDITS_ATTRIBUTED_COMPUTE priced per query's day and warehouse.",
        "month_start, cost_usd DESC NULLS LAST, root_query_id", "month_start, root_query_id")

    return dg.Definitions(assets=[snowflake_credit_daily, recurring, hierarchical])
