"""``config.snowflake_credit_price``: settings.yaml's dated credit prices, as the Snowflake SQL joins them."""

import pyarrow as pa

from costattr_pipeline.lib import arrow_tables
from costattr_pipeline.lib.config import SnowflakeSettings
from costattr_pipeline.resources.warehouse import WarehouseSession

CREDIT_PRICE_SCHEMA = pa.schema([("effective_from", pa.date32()), ("effective_to", pa.date32()),
                                 ("warehouse_name", pa.string()), ("price", pa.decimal128(18, 6))])


def load_credit_prices(session: WarehouseSession, snowflake: SnowflakeSettings) -> None:
    """Replace ``config.snowflake_credit_price`` with settings.yaml's dated prices (call inside a transaction,
    after the asset's tables, which include the price table: ``credit_sql.CREDIT_PRICE_TABLES_SQL``).

    Prices are kept to the micro-dollar (settings.yaml refuses a price with more decimals).
    """
    entries = snowflake.credit_price_usd
    session.execute("DELETE FROM config.snowflake_credit_price")
    session.insert_arrow("config.snowflake_credit_price", arrow_tables.from_columns({
        "effective_from": [entry.window.start for entry in entries],
        "effective_to": [entry.window.end for entry in entries],
        "warehouse_name": [entry.value.warehouse for entry in entries],
        "price": [entry.value.price for entry in entries],
    }, CREDIT_PRICE_SCHEMA))
