"""``config.snowflake_credit_price``: settings.yaml's dated credit prices, as the Snowflake SQL joins them."""

from decimal import Decimal

import pyarrow as pa

from costattr_pipeline.lib.config import SnowflakeSettings
from costattr_pipeline.lib.errors import ConfigError
from costattr_pipeline.lib.sql import sql_file
from costattr_pipeline.resources.warehouse import WarehouseSession

PRICE_SCALE = Decimal("0.000001")
TABLES_SQL = sql_file(__file__, "snowflake_credit_price__tables.sql")


def load_credit_prices(session: WarehouseSession, snowflake: SnowflakeSettings) -> None:
    """Replace ``config.snowflake_credit_price`` with settings.yaml's dated prices (call inside a transaction).

    Prices are kept to the micro-dollar; a price with more decimals is refused rather than rounded.
    """
    entries = snowflake.credit_price_usd
    for index, entry in enumerate(entries):
        if entry.value.price != entry.value.price.quantize(PRICE_SCALE):
            raise ConfigError("settings.yaml", f"snowflake.credit_price_usd[{index}]",
                              f"price {entry.value.price} has more than 6 decimal places")
    session.execute(TABLES_SQL)
    session.execute("DELETE FROM config.snowflake_credit_price")
    session.insert_arrow("config.snowflake_credit_price", pa.table({
        "effective_from": pa.array([entry.window.start for entry in entries], pa.date32()),
        "effective_to": pa.array([entry.window.end for entry in entries], pa.date32()),
        "warehouse_name": pa.array([entry.value.warehouse for entry in entries], pa.string()),
        "price": pa.array([entry.value.price for entry in entries], pa.decimal128(18, 6)),
    }))
