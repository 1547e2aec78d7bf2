"""``config.fx_to_usd``: settings.yaml's dated exchange rates, as the SQL that converts amounts joins them.

No amount in another currency is ever added to a ``*_usd`` figure as it is: every asset that meets one
converts it in its SQL with the rate of the relation ``fx_rates_to_usd`` in force on its day (USD: 1), keeps the rate on
the row, and fails the blocking check ``fx_rate_found`` naming the currency and the day when no rate is in
force (the amount in USD is then NULL, never the unconverted amount).
"""

import dagster as dg
import pyarrow as pa

from costattr_pipeline.lib import arrow_tables
from costattr_pipeline.lib.config import Settings
from costattr_pipeline.lib.sql import sql_file
from costattr_pipeline.metadata import rows_check
from costattr_pipeline.resources.warehouse import WarehouseSession

TABLES_SQL = sql_file(__file__, "fx_rates__tables.sql")
# The relation the converting SQL joins: bind it as `{"fx_rates_to_usd": FX_RATES_SQL}`.
FX_RATES_SQL = sql_file(__file__, "fx_rates_to_usd.sql")
RELATIONS = {"fx_rates_to_usd": FX_RATES_SQL}
CHECK_FX_RATE_FOUND = "fx_rate_found"
FX_TO_USD_SCHEMA = pa.schema([("currency", pa.string()), ("effective_from", pa.date32()),
                              ("effective_to", pa.date32()), ("rate", pa.decimal128(20, 10))])


def load_fx_rates(session: WarehouseSession, settings: Settings) -> None:
    """Replace ``config.fx_to_usd`` with settings.yaml's rates (call inside the converting transaction).

    The caller runs :data:`TABLES_SQL` before its transaction, never inside it: in Snowflake a DDL
    statement commits the open transaction (and fakesnow refuses one there), so a failed run would
    keep what it wrote before the DDL."""
    session.execute("DELETE FROM config.fx_to_usd")
    rates = settings.fx_to_usd
    session.insert_arrow("config.fx_to_usd", arrow_tables.from_columns({
        "currency": [rate.currency for rate in rates],
        "effective_from": [rate.effective_from for rate in rates],
        "effective_to": [rate.effective_to for rate in rates],
        "rate": [rate.rate for rate in rates],
    }, FX_TO_USD_SCHEMA))


def fx_rate_check(session: WarehouseSession, table: str, day_column: str, amount_column: str, window: str,
                  params: dict) -> dg.AssetCheckResult:
    """The blocking check that every amount of the window in ``table`` found a USD rate on its day."""
    missing = session.rows(f"""
        SELECT currency, MIN({day_column}) AS first_day, MAX({day_column}) AS last_day, COUNT(*) AS rows_without_rate
        FROM {table}
        WHERE {window} AND {amount_column} IS NOT NULL AND fx_rate_to_usd IS NULL
        GROUP BY currency ORDER BY currency""", params)
    return fx_rate_result(missing)


def fx_rate_result(missing: list[dict]) -> dg.AssetCheckResult:
    """``fx_rate_found`` from the rows without a rate, per currency (currency, first_day, last_day, rows)."""
    first = missing[0] if missing else {}
    return rows_check(
        CHECK_FX_RATE_FOUND, missing, "missing_rates",
        failure=(f"no USD rate for {first.get('currency')} on {first.get('first_day')}: add a fx_to_usd entry in "
                 "force that day to settings.yaml"),
        success="Every amount has a USD rate in force on its day")


def fx_rate_check_spec(asset: dg.AssetKey) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(CHECK_FX_RATE_FOUND, asset=asset, blocking=True,
                             description="ERROR when an amount in another currency has no USD rate in force on its "
                                         "day (fx_to_usd in settings.yaml): its USD amount is NULL, never the "
                                         "unconverted amount. The currency and the days are in the metadata.")
