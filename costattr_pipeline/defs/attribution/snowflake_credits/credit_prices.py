"""``config.snowflake_credit_price``: settings.yaml's dated credit prices, as the Snowflake SQL joins them."""

import pyarrow as pa

from costattr_pipeline.lib.config import SnowflakeSettings
from costattr_pipeline.resources.warehouse import WarehouseSession


def load_credit_prices(session: WarehouseSession, snowflake: SnowflakeSettings) -> None:
    """Replace ``config.snowflake_credit_price`` with settings.yaml's dated prices (call inside a transaction,
    after the asset's tables, which include the price table: ``credit_sql.CREDIT_PRICE_TABLES_SQL``).

    Prices are kept to the micro-dollar (settings.yaml refuses a price with more decimals).
    """
    entries = snowflake.credit_price_usd
    session.execute("DELETE FROM config.snowflake_credit_price")
    session.insert_arrow("config.snowflake_credit_price", pa.table({
        "effective_from": pa.array([entry.window.start for entry in entries], pa.date32()),
        "effective_to": pa.array([entry.window.end for entry in entries], pa.date32()),
        "warehouse_name": pa.array([entry.value.warehouse for entry in entries], pa.string()),
        "price": pa.array([entry.value.price for entry in entries], pa.decimal128(18, 6)),
    }))
