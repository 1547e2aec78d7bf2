"""``metering/snowflake_credit_daily``: Snowflake credits per day, warehouse and tenant, and its 4-hourly schedule."""

import datetime as dt
from decimal import Decimal
from typing import Any

import dagster as dg

from costattr_pipeline.audit import audit
from costattr_pipeline.defs.attribution import OWNERS
from costattr_pipeline.defs.attribution.snowflake_credits.credit_prices import load_credit_prices
from costattr_pipeline.defs.ingest.snowflake_usage.snowflake_account_usage import SNOWFLAKE_ACCOUNT_USAGE
from costattr_pipeline.defs.attribution.snowflake_credits.credit_sql import (APPEND_SQL, AS_OF_SQL, CREDIT_DAILY_SQL,
                                                                           RECONCILE_SQL, TABLES_SQL,
                                                                           UNTAGGED_USERS_SQL, credit_relations,
                                                                           tag_parameters)
from costattr_pipeline.lib.computations import Computation
from costattr_pipeline.lib.config import Settings, SnowflakeSettings
from costattr_pipeline.metadata import asset_tags, partition_metadata, rows_check, table_metadata
from costattr_pipeline.project import DayRange, Project, current_project, range_schedule, window_dates
from costattr_pipeline.resources.config import CostattrConfig
from costattr_pipeline.resources.snowflake_usage import SnowflakeUsageSource, UsageRelations
from costattr_pipeline.resources.warehouse import Warehouse, WarehouseSession

SNOWFLAKE_CREDIT_DAILY = dg.AssetKey(["metering", "snowflake_credit_daily"])
CHECK_CREDITS_RECONCILE = "credits_reconcile_with_metering"
CHECK_PRICE_FOUND = "credit_price_found"
CHECK_UNATTRIBUTED_SHARE = "credits_without_tenant_within_threshold"
CHECK_UNTAGGED_USERS = "no_untagged_users"
# ACCOUNT_USAGE lags 1-3 h (QUERY_ATTRIBUTION_HISTORY up to 8 h): every tick recomputes today and the two days before.
TRAILING_DAYS = 3

DAY_WINDOW = "cost_date >= :start_date AND cost_date < :end_date"


def provisional_range(tick: dt.datetime, project: Project, days: int = TRAILING_DAYS) -> DayRange:
    """From ``days - 1`` days before the tick's UTC day to that day itself (inclusive), clipped to the start."""
    last = tick.astimezone(dt.timezone.utc).date()
    return project.clip((last - dt.timedelta(days=days - 1), last))


def credit_computation(relations: UsageRelations, snowflake: SnowflakeSettings,
                       computation_id: str | None = None) -> Computation:
    """This computation's identity: the run, now, the hash of the snowflake settings, the relations it reads."""
    return Computation.new(snowflake.model_dump_json(), list(relations.mapping.values()), computation_id)


def attribute_credits(session: WarehouseSession, relations: UsageRelations, snowflake: SnowflakeSettings,
                      start: dt.date, end: dt.date, computation: Computation | None = None) -> None:
    """Compute the days ``[start, end)`` and append those that changed as a new version of
    ``metering.snowflake_credit_daily`` (call inside a transaction); the view then shows them."""
    computation = computation or credit_computation(relations, snowflake)
    load_credit_prices(session, snowflake)
    window = {"start_date": start, "end_date": end}
    session.execute(CREDIT_DAILY_SQL, {**window, **tag_parameters(snowflake)}, credit_relations(relations.mapping))
    session.execute(APPEND_SQL, {**window, **computation.params()})


def credits_as_of(session: WarehouseSession, start: dt.date, end: dt.date, as_of: dt.datetime) -> list[dict[str, Any]]:
    """What was attributed for the days ``[start, end)`` as of ``as_of`` (UTC): each day's version current then."""
    return session.rows(AS_OF_SQL, {"start_date": start, "end_date": end, "as_of": as_of})


def credit_mismatches(session: WarehouseSession, relations: UsageRelations, start: dt.date, end: dt.date
                      ) -> list[dict[str, Any]]:
    """(day, warehouse) pairs whose rows do not add up to the metered credits and their cost (empty: all good)."""
    return session.rows(RECONCILE_SQL, {"start_date": start, "end_date": end}, credit_relations(relations.mapping))


def untagged_users(session: WarehouseSession, relations: UsageRelations, snowflake: SnowflakeSettings,
                   start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Users who ran queries in ``[start, end)`` without a tenant tag, most credits without a tenant first."""
    return session.rows(UNTAGGED_USERS_SQL, {"start_date": start, "end_date": end, **tag_parameters(snowflake)},
                        credit_relations(relations.mapping))


def days_over_threshold(session: WarehouseSession, settings: Settings, start: dt.date, end: dt.date
                        ) -> list[dict[str, Any]]:
    """Days whose credits without a tenant (unattributed + idle) are strictly more than the threshold in force.

    One row per day is read; the comparison is exact (no division): without > threshold x total.
    """
    days = session.rows(f"""
        SELECT cost_date,
               SUM(CAST(credits AS DECIMAL(38, 12))) AS total_credits,
               SUM(CAST(CASE WHEN tenant_id IS NULL THEN credits ELSE 0 END AS DECIMAL(38, 12))) AS credits_without_tenant
        FROM metering.v_snowflake_credit_daily WHERE {DAY_WINDOW}
        GROUP BY cost_date ORDER BY cost_date""", {"start_date": start, "end_date": end})
    breaches = []
    for day in days:
        threshold = settings.threshold_on(day["cost_date"])
        total, without = Decimal(day["total_credits"]), Decimal(day["credits_without_tenant"])
        if total > 0 and without > threshold * total:
            breaches.append({**day, "share": (without / total).quantize(Decimal("0.0001")), "threshold": threshold})
    return breaches


def price_check(session: WarehouseSession, where: str, params: dict[str, object], table: str,
                label: str) -> dg.AssetCheckResult:
    """The blocking check that every row of ``table`` in the window has a credit price (its cost is not NULL)."""
    unpriced = session.rows(f"SELECT {label} FROM {table} WHERE {where} AND cost_usd IS NULL "
                            f"GROUP BY {label} ORDER BY {label} LIMIT 20", params)
    first = ", ".join(f"{name} {value}" for name, value in unpriced[0].items()) if unpriced else ""
    return rows_check(CHECK_PRICE_FOUND, unpriced, "unpriced",
                      failure=f"no credit price in force for {first}: add a snowflake.credit_price_usd entry in "
                              "force that day to settings.yaml",
                      success="Every row has a credit price")


def price_check_spec(asset: dg.AssetKey, subject: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(CHECK_PRICE_FOUND, asset=asset, blocking=True,
                             description=f"ERROR when {subject} has no credit price in force "
                                         "(snowflake.credit_price_usd in settings.yaml): its cost is NULL, never 0.")


def snowflake_credit_daily(context: dg.AssetExecutionContext, warehouse: Warehouse, config_files: CostattrConfig,
                           snowflake_usage: SnowflakeUsageSource) -> dg.MaterializeResult:
    """Snowflake compute credits per UTC day, warehouse and tenant, and their cost in USD.

    A warehouse carrying the tenant object tag is `dedicated`: the tag value gets all its credits. On a
    shared warehouse each query's tenant comes from its query tag (`TENANT_ID=acme;...`,
    `...,tenant_id=acme` or JSON `{"tenant_id": "acme"}`), else from its user's tag. With idle policy
    `proportional` the metered credits are split in proportion to the queries' credits (queries without a
    tenant: `unattributed`); with `separate` tenants get their queries' credits and the rest is `idle`. A
    metered day without queries is all `idle`. Per day and warehouse the rows add up to the metered credits
    exactly; cost_usd = credits x the price in force that day (the warehouse's own first). Today is
    provisional and recomputed by the next run.

    Append-only (audit): a recomputed day that changed is appended as a new version (computation id = the
    run, computed_at, config hash, sources read), never written over; `metering.v_snowflake_credit_daily`
    shows each day's current version, and `snowflake_credit_daily__as_of.sql` what was attributed as of
    any earlier time. A recomputation equal to the current version appends nothing.
    """
    start, end = window_dates(context)
    settings = config_files.settings()
    params = {"start_date": start, "end_date": end}
    with warehouse.session() as session:
        relations = snowflake_usage.relations(session)
        session.execute(TABLES_SQL)
        with session.transaction():
            attribute_credits(session, relations, settings.snowflake, start, end,
                              credit_computation(relations, settings.snowflake, context.run.run_id))
            blocking = audit(
                SNOWFLAKE_CREDIT_DAILY,
                price_check(session, DAY_WINDOW, params, "metering.v_snowflake_credit_daily",
                            "cost_date, warehouse_name"),
                rows_check(CHECK_CREDITS_RECONCILE, credit_mismatches(session, relations, start, end), "mismatches"))
        breaches = days_over_threshold(session, settings, start, end)
        users = untagged_users(session, relations, settings.snowflake, start, end)
        metadata = partition_metadata(
            context, session, "metering.v_snowflake_credit_daily", DAY_WINDOW, params, partition_column="cost_date",
            tables_sql=TABLES_SQL, schema_table="metering.snowflake_credit_daily",
            figures={"total_credits": "SUM(CAST(credits AS DECIMAL(38, 12)))",
                    "total_cost_usd": "SUM(CAST(cost_usd AS DECIMAL(38, 6)))",
                    "credits_without_tenant": "SUM(CAST(CASE WHEN tenant_id IS NULL THEN credits ELSE 0 END "
                                              "AS DECIMAL(38, 12)))"},
            order_by="cost_date, warehouse_name, tenant_id NULLS LAST, attribution",
        )
    metadata["idle_policy"] = dg.MetadataValue.text(settings.snowflake.idle_policy)
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[
            *blocking,
            rows_check(CHECK_UNATTRIBUTED_SHARE, breaches, "breaches", severity=dg.AssetCheckSeverity.WARN,
                       failure=f"{len(breaches)} day(s) with more credits without a tenant than the threshold",
                       success="Every day is within its threshold",
                       metadata={"breached_days": dg.MetadataValue.int(len(breaches))}),
            rows_check(CHECK_UNTAGGED_USERS, users, "untagged_users", severity=dg.AssetCheckSeverity.WARN,
                       failure=f"{len(users)} user(s) without a tenant tag ran queries",
                       success="Every user who ran queries has a tenant tag",
                       metadata={"user_names": dg.MetadataValue.json([user["user_name"] for user in users])}),
        ],
    )


CHECKS = [
    price_check_spec(SNOWFLAKE_CREDIT_DAILY, "a warehouse-day"),
    dg.AssetCheckSpec(CHECK_CREDITS_RECONCILE, asset=SNOWFLAKE_CREDIT_DAILY, blocking=True,
                      description="ERROR unless, per day and warehouse, the rows' credits add up to the metered "
                                  "CREDITS_USED_COMPUTE, no part is negative and the costs add up to "
                                  "ROUND(credits x price, 6)."),
    dg.AssetCheckSpec(CHECK_UNATTRIBUTED_SHARE, asset=SNOWFLAKE_CREDIT_DAILY,
                      description="WARN when a day's credits without a tenant (unattributed and idle) are strictly "
                                  "more than the unattributed threshold in force."),
    dg.AssetCheckSpec(CHECK_UNTAGGED_USERS, asset=SNOWFLAKE_CREDIT_DAILY,
                      description="WARN when users without a tenant tag ran queries; the list is in the metadata "
                                  "(tag them, or tag their queries)."),
]


@dg.definitions
def defs() -> dg.Definitions:
    project = current_project()
    asset = dg.asset(key=SNOWFLAKE_CREDIT_DAILY, deps=[SNOWFLAKE_ACCOUNT_USAGE], group_name="attribution",
                     owners=OWNERS, tags=asset_tags(source="snowflake", layer="attribution"),
                     metadata=table_metadata(TABLES_SQL, "metering.snowflake_credit_daily"),
                     kinds={"snowflake", "duckdb"}, partitions_def=project.daily,
                     backfill_policy=dg.BackfillPolicy.single_run(), check_specs=CHECKS)(snowflake_credit_daily)
    job = dg.define_asset_job("snowflake_credits", selection=[SNOWFLAKE_ACCOUNT_USAGE, SNOWFLAKE_CREDIT_DAILY],
                              description="Attribute Snowflake credits to tenants for a range of days.")
    schedule = range_schedule(
        "snowflake_credits_every_4_hours", "0 */4 * * *", job, lambda tick: provisional_range(tick, project),
        "Every 4 hours: land ACCOUNT_USAGE again and recompute today's (provisional) credits and the two days "
        "before, as one run: a late query or metering row lands in its day on a later tick.")
    return dg.Definitions(assets=[asset], jobs=[job], schedules=[schedule])
