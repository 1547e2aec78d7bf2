"""The same SQL text runs on DuckDB and, transpiled, on Snowflake (fakesnow)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest

from costattr_pipeline.defs.attribution.unattributed.unattributed_costs import TABLES_SQL, UNATTRIBUTED_SQL
from costattr_pipeline.defs.ingest.cost_explorer.aws_cost_daily import TABLES_SQL as LANDING_TABLES_SQL
from costattr_pipeline.resources.warehouse import (DdlInTransaction, DuckDBSession, SnowflakeSession, WarehouseSession,
                                                  leading_keyword)

THRESHOLD_ROWS = "INSERT INTO config.unattributed_threshold VALUES (CAST('2026-01-01' AS DATE), NULL, 0.02)"
# Decimal-sensitive: 0.1 + 0.2 of 15 is exactly 2 % in decimals, a hair above in binary floats.
LANDED = """
INSERT INTO metering.aws_cost_daily
 (cost_date, grouped_by, tenant_id, module_id, service, amount, currency, estimated, load_id, source_name, loaded_at)
VALUES
 (CAST('2026-03-01' AS DATE), 'TAG:tenant_id,DIMENSION:SERVICE', 'acme', NULL, 'EC2', 14.7, 'USD', FALSE, 'l1', 'a.json', CAST('2026-03-02 00:00:00' AS TIMESTAMP)),
 (CAST('2026-03-01' AS DATE), 'TAG:tenant_id,DIMENSION:SERVICE', NULL, NULL, 'VPC', 0.1, 'USD', FALSE, 'l1', 'a.json', CAST('2026-03-02 00:00:00' AS TIMESTAMP)),
 (CAST('2026-03-01' AS DATE), 'TAG:tenant_id,DIMENSION:SERVICE', NULL, NULL, 'S3', 0.2, 'USD', FALSE, 'l1', 'a.json', CAST('2026-03-02 00:00:00' AS TIMESTAMP)),
 (CAST('2026-03-02' AS DATE), 'TAG:tenant_id,DIMENSION:SERVICE', 'acme', NULL, 'EC2', 9.0, 'USD', FALSE, 'l1', 'a.json', CAST('2026-03-02 00:00:00' AS TIMESTAMP)),
 (CAST('2026-03-02' AS DATE), 'TAG:tenant_id,DIMENSION:SERVICE', NULL, NULL, 'VPC', 1.0, 'USD', FALSE, 'l1', 'a.json', CAST('2026-03-02 00:00:00' AS TIMESTAMP)),
 (CAST('2026-03-02' AS DATE), 'TAG:tenant_id,DIMENSION:SERVICE', 'acme', NULL, 'EC2', 9.9, 'USD', FALSE, 'l2', 'b.json', CAST('2026-03-03 00:00:00' AS TIMESTAMP)),
 (CAST('2026-03-02' AS DATE), 'TAG:tenant_id,DIMENSION:SERVICE', NULL, NULL, 'VPC', 0.1, 'USD', FALSE, 'l2', 'b.json', CAST('2026-03-03 00:00:00' AS TIMESTAMP))
"""
EXPECTED = [
    # 0.3 / 15 = 0.02 exactly: not strictly greater.
    (dt.date(2026, 3, 1), Decimal("15"), Decimal("0.3"), Decimal("0.02"), False),
    # b.json restates 2026-03-02: 0.1 / 10.0 = 1 %.
    (dt.date(2026, 3, 2), Decimal("10"), Decimal("0.1"), Decimal("0.01"), False),
]


def _compute(session: WarehouseSession) -> list[tuple]:
    session.execute(LANDING_TABLES_SQL)
    session.execute(TABLES_SQL)
    session.execute(THRESHOLD_ROWS)
    session.execute(LANDED)
    session.execute(UNATTRIBUTED_SQL, {"start_date": dt.date(2026, 3, 1), "end_date": dt.date(2026, 3, 3)})
    rows = session.rows("SELECT cost_date, total_aws_cost_usd, unattributed_cost_usd, unattributed_share, "
                        "exceeds_threshold FROM metering.unattributed_costs ORDER BY cost_date")
    return [(row["cost_date"], Decimal(str(row["total_aws_cost_usd"])), Decimal(str(row["unattributed_cost_usd"])),
             Decimal(str(row["unattributed_share"])), bool(row["exceeds_threshold"])) for row in rows]


def _normalized(rows: list[tuple]) -> list[tuple]:
    return [(day, total.normalize(), unattributed.normalize(), share.normalize(), exceeds)
            for day, total, unattributed, share, exceeds in rows]


def test_unattributed_sql_on_duckdb() -> None:
    connection = duckdb.connect()
    assert _normalized(_compute(DuckDBSession(connection))) == _normalized(EXPECTED)


def test_unattributed_sql_on_snowflake_dialect(fakesnow_connection) -> None:
    assert _normalized(_compute(SnowflakeSession(fakesnow_connection))) == _normalized(EXPECTED)


@pytest.mark.parametrize("threshold, exceeds", [("0.019999", True), ("0.02", False), ("0.020001", False)])
def test_threshold_boundary_is_strict(threshold: str, exceeds: bool) -> None:
    session = DuckDBSession(duckdb.connect())
    session.execute(LANDING_TABLES_SQL)
    session.execute(TABLES_SQL)
    session.execute(f"INSERT INTO config.unattributed_threshold VALUES (CAST('2026-01-01' AS DATE), NULL, {threshold})")
    session.execute(LANDED)
    session.execute(UNATTRIBUTED_SQL, {"start_date": dt.date(2026, 3, 1), "end_date": dt.date(2026, 3, 2)})
    assert session.scalar("SELECT exceeds_threshold FROM metering.unattributed_costs") is exceeds


# Amounts in another currency: the USD amount of metering.aws_cost_day_rows, exact on both engines (the largest
# amount Cost Explorer rows may hold, times a rate, does not overflow; a fraction is rounded half away from zero).
FOREIGN_LANDED = """
INSERT INTO metering.aws_cost_daily
 (cost_date, grouped_by, tenant_id, module_id, service, amount, currency, estimated, load_id, source_name, loaded_at)
VALUES
 (CAST('2026-03-01' AS DATE), 'TAG:tenant_id,DIMENSION:SERVICE', 'acme', NULL, 'EC2',
  CAST('9999999999999999.999999999999' AS DECIMAL(38, 12)), 'EUR', FALSE, 'l1', 'a.json',
  CAST('2026-03-02 00:00:00' AS TIMESTAMP)),
 (CAST('2026-03-01' AS DATE), 'TAG:tenant_id,DIMENSION:SERVICE', 'acme', NULL, 'S3', -0.000000000005, 'EUR', FALSE,
  'l1', 'a.json', CAST('2026-03-02 00:00:00' AS TIMESTAMP)),
 (CAST('2026-03-01' AS DATE), 'TAG:tenant_id,DIMENSION:SERVICE', NULL, NULL, 'VPC', 2.5, 'USD', FALSE, 'l1', 'a.json',
  CAST('2026-03-02 00:00:00' AS TIMESTAMP)),
 (CAST('2026-03-01' AS DATE), 'TAG:tenant_id,DIMENSION:SERVICE', NULL, NULL, 'RDS', 7, 'GBP', FALSE, 'l1', 'a.json',
  CAST('2026-03-02 00:00:00' AS TIMESTAMP))
"""


def _converted(session: WarehouseSession) -> list[tuple]:
    session.execute(LANDING_TABLES_SQL)
    session.execute("INSERT INTO config.fx_to_usd VALUES ('EUR', CAST('2026-01-01' AS DATE), NULL, 1.1)")
    session.execute(FOREIGN_LANDED)
    # Compared as numbers (Decimal equality): normalize() would round to 28 digits.
    return sorted((row["service"], None if row["amount_usd"] is None else Decimal(str(row["amount_usd"])),
                   None if row["fx_rate_to_usd"] is None else Decimal(str(row["fx_rate_to_usd"])))
                  for row in ({name.lower(): value for name, value in found.items()}
                              for found in session.rows("SELECT * FROM metering.aws_cost_day_rows")))


CONVERTED = [("EC2", Decimal("10999999999999999.999999999999"), Decimal("1.1")),   # ...9989 rounded
             ("RDS", None, None),                              # no GBP rate: NULL, never 7 as if it were USD
             ("S3", Decimal("-6E-12"), Decimal("1.1")),
             ("VPC", Decimal("2.5"), Decimal("1"))]


def test_amounts_are_converted_to_usd_on_duckdb() -> None:
    assert _converted(DuckDBSession(duckdb.connect())) == CONVERTED


def test_amounts_are_converted_to_usd_on_snowflake_dialect(fakesnow_connection) -> None:
    assert _converted(SnowflakeSession(fakesnow_connection)) == CONVERTED


def test_snowflake_refuses_ddl_inside_a_transaction(fakesnow_connection) -> None:
    """In Snowflake a DDL statement commits the open transaction: a failed run would keep what it wrote before."""
    session = SnowflakeSession(fakesnow_connection)
    session.execute("CREATE SCHEMA IF NOT EXISTS metering")
    session.execute("CREATE TABLE IF NOT EXISTS metering.kept (a INT)")
    with pytest.raises(DdlInTransaction, match=r"^CREATE inside a transaction \(run it before BEGIN\): "
                                               r"/\* a comment first \*/ CREATE TABLE IF NOT EXISTS metering\.later"):
        with session.transaction():
            session.execute("INSERT INTO metering.kept VALUES (1)")
            session.execute("/* a comment first */ CREATE TABLE IF NOT EXISTS metering.later (a INT)")
    assert not session.in_transaction
    assert session.rows("SELECT COUNT(*) AS n FROM metering.kept") == [{"n": 0}]  # rolled back, nothing kept
    with session.transaction():  # DML inside, DDL before: as every asset does
        session.execute("INSERT INTO metering.kept VALUES (2)")
    assert session.rows("SELECT a FROM metering.kept") == [{"a": 2}]


@pytest.mark.parametrize(("statement", "keyword"), [
    ("CREATE TABLE t (a INT)", "CREATE"), ("  drop view v", "DROP"), ("-- why\nALTER TABLE t ADD b INT", "ALTER"),
    ("/* x */ /* y */ truncate table t", "TRUNCATE"), ("INSERT INTO t SELECT 'CREATE'", "INSERT"),
    ("WITH c AS (SELECT 1) SELECT * FROM c", "WITH"), ("/* unterminated", ""), ("", "")])
def test_the_leading_keyword_skips_comments(statement: str, keyword: str) -> None:
    assert leading_keyword(statement) == keyword
