"""Databricks priced usage and the monthly cost_items upsert (contract section 4)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costattr_pipeline.defs import fx_rates
from costattr_pipeline.defs.ingest.databricks.cost_items import COST_ITEM, COST_ITEMS_SQL
from costattr_pipeline.defs.ingest.databricks.cost_items import TABLES_SQL as COST_ITEMS_TABLES_SQL
from costattr_pipeline.defs.ingest.databricks.databricks_priced_usage import AMBIGUOUS_PRICES_SQL, PRICED_USAGE_SQL
from costattr_pipeline.defs.ingest.databricks.databricks_priced_usage import TABLES_SQL as PRICED_TABLES_SQL
from costattr_pipeline.defs.ingest.databricks.databricks_usage import TABLES_SQL, recompute_days
from costattr_pipeline.project import Project
from costattr_pipeline.lib import databricks as billing
from costattr_pipeline.lib.config import Settings
from costattr_pipeline.lib.errors import SourceError
from costattr_pipeline.lib.sql import bind_script
from costattr_pipeline.resources.databricks import DatabricksSqlBilling
from costattr_pipeline.resources.warehouse import DuckDBSession, SnowflakeSession, WarehouseSession
from costattr_pipeline.runner import RunFailed, run_range
from costattr_pipeline_tests.conftest import dump_tables, query
from costattr_pipeline_tests.databricks_stand_in import (DuckDBAsDatabricksSql, run_databricks_sql,
                                                         system_tables_connection)

USAGE_HEADER = ["record_id", "account_id", "workspace_id", "sku_name", "cloud", "usage_start_time",
                "usage_end_time", "usage_date", "usage_unit", "usage_quantity", "custom_tags", "usage_metadata",
                "record_type"]
PRICE_HEADER = ["price_start_time", "price_end_time", "account_id", "sku_name", "cloud", "currency_code",
                "usage_unit", "pricing"]
MARCH = {"start_date": dt.date(2026, 3, 1), "end_date": dt.date(2026, 4, 1)}
TAGS = {"product_path": billing.tag_path("data_product_id"), "tenant_path": billing.tag_path("tenant_id")}


def usage(record_id: str, start: str, quantity: str, product: str | None = "octo", sku: str = "JOBS",
          cloud: str = "AWS", record_type: str = "ORIGINAL", tenant: str | None = "acme") -> dict[str, str]:
    """One usage record as exported; ``start`` is the UTC usage_start_time."""
    tags = {key: value for key, value in (("data_product_id", product), ("tenant_id", tenant)) if value}
    started = dt.datetime.fromisoformat(start)
    return {"record_id": record_id, "account_id": "acc", "workspace_id": "ws1", "sku_name": sku, "cloud": cloud,
            "usage_start_time": started.isoformat(), "usage_end_time": (started + dt.timedelta(hours=1)).isoformat(),
            "usage_date": started.date().isoformat(), "usage_unit": "DBU", "usage_quantity": quantity,
            "custom_tags": json.dumps(tags), "usage_metadata": "{}", "record_type": record_type}


def price(start: str, end: str | None, pricing: dict[str, Any], sku: str = "JOBS", cloud: str = "AWS",
          currency: str = "USD") -> dict[str, str]:
    return {"price_start_time": start, "price_end_time": end or "", "account_id": "acc", "sku_name": sku,
            "cloud": cloud, "currency_code": currency, "usage_unit": "DBU", "pricing": json.dumps(pricing)}


def write_csv(folder: Path, name: str, header: list[str], rows: list[dict[str, str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_exports(source_dir: Path, usage_rows: list[dict[str, str]], price_rows: list[dict[str, str]]) -> None:
    write_csv(source_dir / "databricks", "usage", USAGE_HEADER, usage_rows)
    write_csv(source_dir / "databricks", "list_prices", PRICE_HEADER, price_rows)


def land(session: WarehouseSession, folder: Path, usage_rows: list[dict[str, str]],
         price_rows: list[dict[str, str]]) -> None:
    """Read exports through the real reader and put them in the landing tables."""
    write_exports(folder, usage_rows, price_rows)
    for tables in (TABLES_SQL, PRICED_TABLES_SQL, COST_ITEMS_TABLES_SQL):
        session.execute(tables)
    session.insert_arrow("metering.databricks_usage", billing.read_usage_export(folder))
    session.insert_arrow("metering.databricks_list_prices", billing.read_list_prices_export(folder))


def price_usage(session: WarehouseSession, settings: Settings = Settings()) -> None:
    """Run the priced-usage SQL as the asset does: with the USD rates of the settings."""
    fx_rates.load_fx_rates(session, settings)
    session.execute(PRICED_USAGE_SQL, {**MARCH, **TAGS}, fx_rates.RELATIONS)


def priced(session: WarehouseSession) -> dict[str, tuple]:
    price_usage(session)
    return {row["record_id"]: (row["unit_price"], row["cost"], row["currency"], row["product_id"], row["tenant_id"])
            for row in session.rows("SELECT * FROM metering.databricks_priced_usage")}


def sync_cost_items(session: WarehouseSession) -> list[tuple]:
    price_usage(session)
    session.execute(COST_ITEMS_SQL, {**MARCH, **COST_ITEM})
    return sorted((row["entity_type"], row["entity_id"], row["cost_center"], row["title"], row["start_month"],
                   row["end_month"], int(row["amount_cents"]), row["currency"])
                  for row in session.rows("SELECT * FROM app.cost_items"))


@pytest.fixture(params=["duckdb", "snowflake"])
def session(request: pytest.FixtureRequest) -> Iterator[WarehouseSession]:
    """The same SQL on DuckDB and, transpiled, on Snowflake (fakesnow)."""
    if request.param == "duckdb":
        yield DuckDBSession(duckdb.connect())
    else:
        yield SnowflakeSession(request.getfixturevalue("fakesnow_connection"))


# --- pricing ---------------------------------------------------------------------------------------

def test_usage_exactly_at_a_price_change_takes_the_new_price(tmp_path: Path) -> None:
    session = DuckDBSession(duckdb.connect())
    land(session, tmp_path, [usage("before", "2026-03-10T11:59:59.999999", "10"),
                             usage("at", "2026-03-10T12:00:00", "10"),
                             usage("after", "2026-03-10T12:00:01", "10")],
         [price("2026-01-01T00:00:00", "2026-03-10T12:00:00", {"default": "0.10"}),
          price("2026-03-10T12:00:00", None, {"default": "0.20"})])
    result = priced(session)
    assert result["before"][:2] == (Decimal("0.1"), Decimal("1"))
    assert result["at"][:2] == (Decimal("0.2"), Decimal("2"))
    assert result["after"][:2] == (Decimal("0.2"), Decimal("2"))


def test_price_of_the_same_cloud_is_used(tmp_path: Path) -> None:
    session = DuckDBSession(duckdb.connect())
    land(session, tmp_path, [usage("aws", "2026-03-10T01:00:00", "1", cloud="AWS"),
                             usage("azure", "2026-03-10T01:00:00", "1", cloud="AZURE"),
                             usage("gcp", "2026-03-10T01:00:00", "1", cloud="GCP")],
         [price("2026-01-01T00:00:00", None, {"default": "0.15"}, cloud="AWS"),
          price("2026-01-01T00:00:00", None, {"default": "0.30"}, cloud="AZURE")])
    result = priced(session)
    assert result["aws"][0] == Decimal("0.15")
    assert result["azure"][0] == Decimal("0.30")
    assert result["gcp"][:3] == (None, None, None)  # another cloud's price is never borrowed


def test_effective_list_price_wins_and_default_is_the_fallback(tmp_path: Path) -> None:
    session = DuckDBSession(duckdb.connect())
    land(session, tmp_path, [usage("discounted", "2026-03-10T01:00:00", "3", sku="ALL_PURPOSE"),
                             usage("list", "2026-03-10T01:00:00", "3", sku="SQL")],
         [price("2026-01-01T00:00:00", None, {"default": "0.65", "effective_list": {"default": "0.585"}},
                sku="ALL_PURPOSE"),
          price("2026-01-01T00:00:00", None, {"default": "0.55"}, sku="SQL")])
    result = priced(session)
    assert result["discounted"][:2] == (Decimal("0.585"), Decimal("1.755"))
    assert result["list"][:2] == (Decimal("0.55"), Decimal("1.65"))
    assert session.rows("SELECT price_source FROM metering.databricks_priced_usage ORDER BY record_id") == [
        {"price_source": "effective_list"}, {"price_source": "default"}]


def test_tags_are_read_with_the_configured_keys(tmp_path: Path) -> None:
    session = DuckDBSession(duckdb.connect())
    land(session, tmp_path, [usage("r1", "2026-03-10T01:00:00", "1", product="octo", tenant="globex"),
                             usage("r2", "2026-03-10T01:00:00", "1", product=None, tenant=None)],
         [price("2026-01-01T00:00:00", None, {"default": "1"})])
    result = priced(session)
    assert result["r1"][3:] == ("octo", "globex")
    assert result["r2"][3:] == (None, None)


def test_two_equally_good_prices_are_reported_not_guessed(tmp_path: Path) -> None:
    session = DuckDBSession(duckdb.connect())
    land(session, tmp_path, [usage("r1", "2026-03-10T01:00:00", "1")],
         [price("2026-01-01T00:00:00", None, {"default": "1"}, currency="USD"),
          price("2026-01-01T00:00:00", None, {"default": "0.9"}, currency="EUR")])
    ambiguous = session.rows(AMBIGUOUS_PRICES_SQL, MARCH)
    assert [(row["record_id"], row["prices"]) for row in ambiguous] == [("r1", 2)]



CLOUDS = ["AWS", "AZURE", ""]
ACCOUNTS = ["acc", "other", ""]
price_specs = st.lists(st.tuples(st.sampled_from(["JOBS", "SQL"]), st.sampled_from(CLOUDS), st.sampled_from(ACCOUNTS),
                                 st.sampled_from(["USD", "EUR"]), st.integers(0, 5), st.none() | st.integers(1, 4)),
                       max_size=8)
usage_specs = st.lists(st.tuples(st.sampled_from(["JOBS", "SQL"]), st.sampled_from(CLOUDS), st.sampled_from(ACCOUNTS),
                                 st.integers(0, 13)), min_size=1, max_size=12)


def expected_prices(prices: list[dict], records: list[dict]) -> tuple[dict[str, Decimal | None], dict[str, int]]:
    """The contract's pricing rule, record by record: the candidates in force, the best match rank, ties."""
    chosen: dict[str, Decimal | None] = {}
    tied: dict[str, int] = {}
    for record in records:
        candidates = [
            (int(record["cloud"] != p["cloud"] or not p["cloud"]) + 2 * int(record["account_id"] != p["account_id"]
                                                                             or not p["account_id"]), p)
            for p in prices
            if p["sku_name"] == record["sku_name"]
            and (not record["cloud"] or not p["cloud"] or p["cloud"] == record["cloud"])
            and (not record["account_id"] or not p["account_id"] or p["account_id"] == record["account_id"])
            and p["price_start_time"] <= record["usage_start_time"]
            and (not p["price_end_time"] or record["usage_start_time"] < p["price_end_time"])]
        best = [p for rank, p in candidates if rank == min((r for r, _ in candidates), default=None)]
        if len(best) > 1:
            tied[record["record_id"]] = len(best)
        chosen[record["record_id"]] = Decimal(json.loads(best[0]["pricing"])["default"]) if best else None
    return chosen, tied


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(price_specs, usage_specs)
def test_price_segments_price_every_record_as_the_rule_says(tmp_path: Path, price_list, usage_list) -> None:
    """Pricing by time segments (tables.sql) equals ranking every record's candidates, ties included."""
    prices: list[dict] = []
    for index, (sku, cloud, account, currency, start, length) in enumerate(price_list):
        row = price(f"2026-03-10T{2 * start:02d}:00:00",
                    f"2026-03-10T{2 * (start + length):02d}:00:00" if length else None,
                    {"default": f"0.{index + 1:02d}"}, sku=sku, cloud=cloud, currency=currency)
        row["account_id"] = account
        if not any(other["sku_name"] == sku and other["cloud"] == cloud and other["account_id"] == account
                   and other["currency_code"] == currency
                   and (not other["price_end_time"] or row["price_start_time"] < other["price_end_time"])
                   and (not row["price_end_time"] or other["price_start_time"] < row["price_end_time"])
                   for other in prices):  # overlapping windows of one key are rejected on landing
            prices.append(row)
    records = []
    for index, (sku, cloud, account, hour) in enumerate(usage_list):
        row = usage(f"r{index:02d}", f"2026-03-10T{hour:02d}:00:00", "1", sku=sku, cloud=cloud)
        row["account_id"] = account
        records.append(row)
    session = DuckDBSession(duckdb.connect())
    land(session, tmp_path, records, prices)
    chosen, tied = expected_prices(prices, records)
    ambiguous = session.rows(AMBIGUOUS_PRICES_SQL, MARCH)
    assert [(row["record_id"], row["prices"]) for row in ambiguous] == sorted(tied.items())[:5]
    result = priced(session)
    assert {record_id: result[record_id][0] for record_id in chosen if record_id not in tied} == {
        record_id: price_ for record_id, price_ in chosen.items() if record_id not in tied}


# --- cost items --------------------------------------------------------------------------------------

def test_retractions_net_out_and_x_xx5_rounds_away_from_zero(session: WarehouseSession, tmp_path: Path) -> None:
    # octo: 10 DBU, retracted, restated as 10.05 -> 10.05 x 0.10 = 1.005 USD -> 101 cents.
    # wave: a credit of -1.005 USD -> -101 cents (half away from zero, not towards +infinity).
    land(session, tmp_path, [
        usage("o1", "2026-03-02T01:00:00", "10", product="octo"),
        usage("o2", "2026-03-02T01:00:00", "-10", product="octo", record_type="RETRACTION"),
        usage("o3", "2026-03-02T01:00:00", "10.05", product="octo", record_type="RESTATEMENT"),
        usage("w1", "2026-03-03T01:00:00", "-10.05", product="wave", record_type="RETRACTION"),
    ], [price("2026-01-01T00:00:00", None, {"default": "0.10"})])
    items = sync_cost_items(session)
    assert items == [
        ("data_product", "octo", "INFRASTRUCTURE", "Databricks Infra Cost", dt.date(2026, 3, 1), dt.date(2026, 3, 1),
         101, "USD"),
        ("data_product", "wave", "INFRASTRUCTURE", "Databricks Infra Cost", dt.date(2026, 3, 1), dt.date(2026, 3, 1),
         -101, "USD"),
    ]


def test_upsert_is_idempotent_updates_in_place_and_removes_stale_items(session: WarehouseSession,
                                                                       tmp_path: Path) -> None:
    land(session, tmp_path, [usage("o1", "2026-03-02T01:00:00", "10", product="octo"),
                             usage("w1", "2026-03-02T01:00:00", "20", product="wave")],
         [price("2026-01-01T00:00:00", None, {"default": "0.10"})])
    # A row the pipeline does not own stays untouched.
    session.execute("INSERT INTO app.cost_items VALUES ('data_product', 'octo', 'PEOPLE', 'Analyst time', "
                    "CAST('2026-03-01' AS DATE), CAST('2026-03-01' AS DATE), 5000, 'USD')")
    first = sync_cost_items(session)
    assert sync_cost_items(session) == first  # a re-run changes nothing
    assert [(item[1], item[2], item[6]) for item in first] == [
        ("octo", "INFRASTRUCTURE", 100), ("octo", "PEOPLE", 5000), ("wave", "INFRASTRUCTURE", 200)]

    # Restated usage: octo's item is updated in place; wave lost its tag, so its item goes.
    session.execute("DELETE FROM metering.databricks_usage")
    session.insert_arrow("metering.databricks_usage", billing.usage_landing_rows(pa.Table.from_pylist(
        [usage("o1", "2026-03-02T01:00:00", "12.5", product="octo"),
         usage("w1", "2026-03-02T01:00:00", "20", product=None)]), "usage.csv", "usage.csv"))
    assert [(item[1], item[2], item[6]) for item in sync_cost_items(session)] == [
        ("octo", "INFRASTRUCTURE", 125), ("octo", "PEOPLE", 5000)]


# --- readers and validation ---------------------------------------------------------------------------

@pytest.mark.parametrize("rows, where, rule", [
    ([usage("r1", "2026-03-02T01:00:00", "1") | {"custom_tags": "not json"}], "line 2", "must be a JSON object"),
    ([usage("r1", "2026-03-02T01:00:00", "1"), usage("r1", "2026-03-02T02:00:00", "1")], "line 3", "appears twice"),
    ([usage("r1", "2026-03-02T01:00:00", "1") | {"usage_date": "2026-03-03"}], "line 2", "not the UTC day"),
    ([usage("r1", "2026-03-02T01:00:00", "lots")], "line 2", "is not a valid DECIMAL"),
    ([usage("r1", "2026-03-02T01:00:00", "1", record_type="CORRECTION")], "line 2", "is not one of"),
])
def test_bad_usage_rows_name_file_line_and_rule(tmp_path: Path, rows: list[dict[str, str]], where: str,
                                                rule: str) -> None:
    write_csv(tmp_path / "databricks", "usage", USAGE_HEADER, rows)
    with pytest.raises(SourceError) as raised:
        billing.read_usage_export(tmp_path)
    assert raised.value.source == "databricks/usage.csv"
    assert raised.value.where == where
    assert rule in raised.value.rule


@pytest.mark.parametrize("rows, where, rule", [
    ([price("2026-01-01T00:00:00", None, {"promotional": {"default": "1"}})], "line 2", "neither"),
    ([price("2026-01-01T00:00:00", None, {"default": "-0.1"})], "line 2", "non-negative decimal"),
    ([price("2026-01-01T00:00:00", None, {"default": "0.12345678901"})], "line 2", "at most 10 places"),
    ([price("2026-01-01T00:00:00", None, {"default": "1"}), price("2026-02-01T00:00:00", None, {"default": "2"})],
     "line 3", "overlaps"),
    ([price("2026-02-01T00:00:00", "2026-01-01T00:00:00", {"default": "1"})], "line 2", "must be after"),
])
def test_bad_list_prices_name_file_line_and_rule(tmp_path: Path, rows: list[dict[str, str]], where: str,
                                                 rule: str) -> None:
    write_csv(tmp_path / "databricks", "list_prices", PRICE_HEADER, rows)
    with pytest.raises(SourceError) as raised:
        billing.read_list_prices_export(tmp_path)
    assert (raised.value.source, raised.value.where) == ("databricks/list_prices.csv", where)
    assert rule in raised.value.rule


def test_missing_exports_read_as_absent(tmp_path: Path) -> None:
    assert billing.read_usage_export(tmp_path) is None
    assert billing.read_list_prices_export(tmp_path) is None


# --- the live query (Databricks SQL) ------------------------------------------------------------------

SYSTEM_TABLES = """
CREATE SCHEMA system.billing;
CREATE TABLE system.billing.usage (
    record_id VARCHAR, account_id VARCHAR, workspace_id VARCHAR, sku_name VARCHAR, cloud VARCHAR,
    usage_start_time TIMESTAMP, usage_end_time TIMESTAMP, usage_date DATE, usage_unit VARCHAR,
    usage_quantity DECIMAL(38, 18), custom_tags MAP(VARCHAR, VARCHAR),
    usage_metadata STRUCT(job_id VARCHAR, warehouse_id VARCHAR), record_type VARCHAR);
INSERT INTO system.billing.usage VALUES
 ('r0', 'acc', 'ws1', 'JOBS', 'AWS', TIMESTAMP '2026-02-28 23:00:00', TIMESTAMP '2026-03-01 00:00:00',
  DATE '2026-02-28', 'DBU', 1, MAP {'data_product_id': 'octo'}, {'job_id': 'j0', 'warehouse_id': NULL}, 'ORIGINAL'),
 ('r1', 'acc', 'ws1', 'JOBS', 'AWS', TIMESTAMP '2026-03-01 00:00:00', TIMESTAMP '2026-03-01 01:00:00',
  DATE '2026-03-01', 'DBU', 2.5, MAP {'data_product_id': 'octo', 'tenant_id': 'acme'},
  {'job_id': 'j1', 'warehouse_id': NULL}, 'ORIGINAL'),
 ('r2', 'acc', 'ws1', 'JOBS', 'AWS', TIMESTAMP '2026-03-01 05:00:00', TIMESTAMP '2026-03-01 06:00:00',
  DATE '2026-03-01', 'DBU', -2.5, MAP {'data_product_id': 'octo', 'tenant_id': 'acme'},
  {'job_id': 'j1', 'warehouse_id': NULL}, 'RETRACTION'),
 ('r3', 'acc', 'ws1', 'JOBS', 'AWS', TIMESTAMP '2026-03-02 00:00:00', TIMESTAMP '2026-03-02 01:00:00',
  DATE '2026-03-02', 'DBU', 7, MAP {}, {'job_id': NULL, 'warehouse_id': 'w'}, 'ORIGINAL');
CREATE TABLE system.billing.list_prices (
    price_start_time TIMESTAMP, price_end_time TIMESTAMP, account_id VARCHAR, sku_name VARCHAR, cloud VARCHAR,
    currency_code VARCHAR, usage_unit VARCHAR,
    pricing STRUCT("default" DECIMAL(30, 18), effective_list STRUCT("default" DECIMAL(30, 18))));
INSERT INTO system.billing.list_prices VALUES
 (TIMESTAMP '2025-01-01 00:00:00', TIMESTAMP '2026-01-01 00:00:00', 'acc', 'JOBS', 'AWS', 'USD', 'DBU',
  {'default': 0.1, 'effective_list': {'default': 0.1}}),
 (TIMESTAMP '2026-01-01 00:00:00', NULL, 'acc', 'JOBS', 'AWS', 'USD', 'DBU',
  {'default': 0.2, 'effective_list': {'default': 0.15}});
"""


@pytest.fixture
def system_tables() -> Iterator[duckdb.DuckDBPyConnection]:
    """DuckDB standing in for Databricks' ``system.billing`` tables (see databricks_stand_in)."""
    connection = system_tables_connection(SYSTEM_TABLES)
    yield connection
    connection.close()


def _run_live(connection: duckdb.DuckDBPyConnection, text: str, params: dict[str, object]) -> pa.Table:
    """The live query bound as the reader binds it, answered by the stand-in."""
    return run_databricks_sql(connection, bind_script(text, params, read="databricks", dialect="databricks"))


@pytest.mark.parametrize("text", [billing.LIVE_USAGE_SQL, billing.LIVE_LIST_PRICES_SQL])
def test_live_queries_parse_as_databricks_sql(text: str) -> None:
    parsed = sqlglot.parse(text, read="databricks", error_level=sqlglot.ErrorLevel.RAISE)
    assert len(parsed) == 1
    tables = {table.sql(dialect="databricks") for table in parsed[0].find_all(sqlglot.exp.Table)}
    assert tables & {"system.billing.usage", "system.billing.list_prices"}


def test_live_usage_query_returns_the_window_as_landing_rows(system_tables: duckdb.DuckDBPyConnection) -> None:
    rows = _run_live(system_tables, billing.LIVE_USAGE_SQL,
                              {"start_date": dt.date(2026, 3, 1), "end_date": dt.date(2026, 3, 2)})
    landed = billing.usage_landing_rows(rows, "system.billing.usage", "live").to_pylist()
    assert [(row["record_id"], row["usage_quantity"], row["record_type"]) for row in landed] == [
        ("r1", Decimal("2.5"), "ORIGINAL"), ("r2", Decimal("-2.5"), "RETRACTION")]
    assert json.loads(landed[0]["custom_tags"]) == {"data_product_id": "octo", "tenant_id": "acme"}
    assert json.loads(landed[0]["usage_metadata"])["job_id"] == "j1"
    assert landed[0]["usage_start_time"] == dt.datetime(2026, 3, 1)


def test_live_list_prices_query_returns_prices_overlapping_the_window(
        system_tables: duckdb.DuckDBPyConnection) -> None:
    rows = _run_live(system_tables, billing.LIVE_LIST_PRICES_SQL,
                              {"start_date": dt.date(2026, 3, 1), "end_date": dt.date(2026, 3, 2)})
    landed = billing.list_price_landing_rows(rows, "system.billing.list_prices").to_pylist()
    assert [(row["price_start_time"], row["default_price"], row["effective_list_price"]) for row in landed] == [
        (dt.datetime(2026, 1, 1), Decimal("0.2"), Decimal("0.15"))]


def test_live_reader_fetches_validated_landing_rows(system_tables: duckdb.DuckDBPyConnection,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import databricks.sql

    monkeypatch.setattr(databricks.sql, "connect", lambda **kwargs: DuckDBAsDatabricksSql(system_tables))
    reader = DatabricksSqlBilling(server_hostname="dbc.example", http_path="/sql/1.0/warehouses/x",
                                  access_token="token")
    usage, list_prices, source = reader.fetch(dt.date(2026, 3, 1), dt.date(2026, 3, 3), log=_Log())
    assert usage.column("record_id").to_pylist() == ["r1", "r2", "r3"]
    assert usage.column("custom_tags").to_pylist()[2] == "{}"
    assert list_prices.num_rows == 1
    assert source == "databricks://dbc.example/sql/1.0/warehouses/x"


class _Log:
    def info(self, message: str) -> None:
        self.last = message


# --- assets, schedules, end to end --------------------------------------------------------------------

def test_schedule_recomputes_the_previous_and_the_current_month() -> None:
    project = Project(Settings(partitions_start=dt.date(2026, 1, 1)))
    assert recompute_days(dt.datetime(2026, 3, 1, 7, tzinfo=dt.timezone.utc), project) == (
        dt.date(2026, 2, 1), dt.date(2026, 3, 1))
    assert recompute_days(dt.datetime(2026, 3, 17, 7, tzinfo=dt.timezone.utc), project) == (
        dt.date(2026, 2, 1), dt.date(2026, 3, 17))
    assert recompute_days(dt.datetime(2026, 1, 5, 7, tzinfo=dt.timezone.utc), project) == (
        dt.date(2026, 1, 1), dt.date(2026, 1, 5))


def test_definitions_load_with_the_databricks_assets_jobs_and_schedules(target) -> None:
    import dagster as dg

    from costattr_pipeline.definitions import build_definitions

    defs = build_definitions(target)
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    assert {dg.AssetKey(["metering", "databricks_usage"]), dg.AssetKey(["metering", "databricks_priced_usage"]),
            dg.AssetKey(["app", "cost_items"])} <= set(graph.materializable_asset_keys)
    assert defs.resolve_job_def("databricks_cost_items_job").partitions_def is not None
    tick = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2026, 3, 17, 7, tzinfo=dt.timezone.utc))
    ranges = {}
    for name in ("databricks_priced_usage_daily", "databricks_cost_items_daily"):
        request = defs.resolve_schedule_def(name)(tick)
        ranges[name] = (request.tags["dagster/asset_partition_range_start"],
                        request.tags["dagster/asset_partition_range_end"])
    assert ranges == {"databricks_priced_usage_daily": ("2026-02-01", "2026-03-17"),
                      "databricks_cost_items_daily": ("2026-02-01", "2026-03-01")}


SELECTION = ["metering/databricks_usage", "metering/databricks_priced_usage", "app/cost_items"]


def test_pipeline_end_to_end_is_idempotent(target) -> None:
    write_exports(target.source_dir, [
        usage("a1", "2026-03-02T10:00:00", "10", product="octo", tenant="acme"),
        usage("a2", "2026-03-31T23:59:59", "5", product="octo", tenant="acme"),
        usage("b1", "2026-04-01T00:00:00", "3", product="wave", tenant="globex"),
        usage("u1", "2026-03-02T10:00:00", "1", product=None, tenant=None),
    ], [price("2026-01-01T00:00:00", "2026-04-01T00:00:00", {"default": "0.10"}),
        price("2026-04-01T00:00:00", None, {"default": "0.20"})])
    summary = run_range(target, dt.date(2026, 3, 1), dt.date(2026, 4, 3), selection=SELECTION)
    failed = {check[1] for check in summary.checks if not check[2]}
    assert failed == {"untagged_cost_share_within_threshold"}  # 0.1 of 1.6 USD untagged on 2026-03-02
    assert query(target, "SELECT entity_id, start_month, amount_cents FROM app.cost_items ORDER BY 2, 1") == [
        ("octo", dt.date(2026, 3, 1), 150), ("wave", dt.date(2026, 4, 1), 60)]
    assert query(target, "SELECT SUM(cost) FROM metering.databricks_priced_usage")[0][0] == Decimal("2.2")  # 1.0 + 0.5 + 0.1 at 0.10, 0.6 at 0.20
    before = dump_tables(target)
    run_range(target, dt.date(2026, 3, 1), dt.date(2026, 4, 3), selection=SELECTION)
    assert dump_tables(target) == before


def test_unpriced_sku_fails_the_blocking_check_and_no_cost_item_is_written(target) -> None:
    write_exports(target.source_dir, [usage("a1", "2026-03-02T10:00:00", "10"),
                                      usage("x1", "2026-03-02T10:00:00", "4", sku="NEW_SERVERLESS_SKU")],
                  [price("2026-01-01T00:00:00", None, {"default": "0.10"})])
    with pytest.raises(RunFailed) as failed:
        run_range(target, dt.date(2026, 3, 1), dt.date(2026, 3, 3), selection=SELECTION)
    # Write-audit-publish: the check fails on the staged rows, so the priced usage is not published.
    assert str(failed.value) == (
        "metering/databricks_priced_usage: blocking check every_usage_row_priced: 1 usage row(s) of sku_name "
        "'NEW_SERVERLESS_SKU' (cloud 'AWS', from 2026-03-02 10:00:00) and 0 other SKU(s) have no list price in "
        "force: add it to databricks/list_prices (nothing was published)")
    assert query(target, "SELECT COUNT(*) FROM metering.databricks_priced_usage")[0][0] == 0
    # The blocking check stopped the run before app/cost_items: its table was never even created.
    assert query(target, "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'cost_items' "
                         "AND table_schema = 'app'")[0][0] == 0


def test_demo_generates_databricks_exports_and_shows_the_assets(tmp_path: Path, capsys, monkeypatch) -> None:
    from costattr_pipeline.cli import main
    from costattr_pipeline.sample import generate as sample

    monkeypatch.setattr(sample, "default_period", lambda: sample.DemoPeriod(dt.date(2026, 1, 1),
                                                                             dt.date(2026, 3, 1)))
    for name in ("COSTATTR_TARGET", "COSTATTR_SOURCE_DIR", "COSTATTR_CONFIG_DIR", "COSTATTR_WAREHOUSE"):
        monkeypatch.delenv(name, raising=False)
    code = main(["demo", "--source-dir", str(tmp_path / "sample"), "--warehouse", str(tmp_path / "w.duckdb")])
    output = capsys.readouterr().out
    assert code == 0
    assert (tmp_path / "sample" / "databricks" / "usage.csv").is_file()
    for asset in SELECTION:
        assert f"  {asset}: " in output
    assert "unpriced_rows=0" in output


# --- Currencies: no amount in another currency is ever summed into USD (issue 15) ----------------------

FX_SETTINGS = """\
partitions_start: 2026-01-01
fx_to_usd:
  - {currency: EUR, effective_from: 2026-01-01, effective_to: 2026-03-03, rate: 1.08}
  - {currency: EUR, effective_from: 2026-03-03, effective_to: null, rate: 1.10}
"""


def test_a_eur_list_price_is_converted_at_the_rate_of_the_usage_day(target) -> None:
    (Path(target.config_dir) / "settings.yaml").write_text(FX_SETTINGS, encoding="utf-8")
    write_exports(target.source_dir, [usage("e1", "2026-03-02T10:00:00", "10"), usage("e2", "2026-03-03T10:00:00", "5")],
                  [price("2026-01-01T00:00:00", None, {"default": "0.10"}, currency="EUR")])
    summary = run_range(target, dt.date(2026, 3, 2), dt.date(2026, 3, 4),
                        selection=SELECTION + ["metering/daily_tenant_summary"])
    assert ("metering/databricks_priced_usage", "fx_rate_found", True, "ERROR") in summary.checks
    assert query(target, "SELECT record_id, cost, currency, fx_rate_to_usd, cost_usd FROM metering.databricks_priced_usage "
                         "ORDER BY record_id") == [
        ("e1", Decimal("1"), "EUR", Decimal("1.08"), Decimal("1.08")),    # 10 x 0.10 EUR at 1.08 on 03-02
        ("e2", Decimal("0.5"), "EUR", Decimal("1.1"), Decimal("0.55"))]   # the next rate from 03-03
    assert query(target, "SELECT cost_date, cost_usd FROM metering.daily_tenant_summary "
                         "WHERE resource_type = 'databricks' ORDER BY 1") == [
        (dt.date(2026, 3, 2), Decimal("1.08")), (dt.date(2026, 3, 3), Decimal("0.55"))]
    # The application's cost items stay in the price's currency (one row per product, month and currency).
    assert query(target, "SELECT entity_id, amount_cents, currency FROM app.cost_items") == [("octo", 150, "EUR")]


def test_an_amount_without_a_rate_fails_the_blocking_check_naming_currency_and_day(target) -> None:
    write_exports(target.source_dir, [usage("e1", "2026-03-02T10:00:00", "10")],
                  [price("2026-01-01T00:00:00", None, {"default": "0.10"}, currency="EUR")])
    with pytest.raises(RunFailed) as failed:
        run_range(target, dt.date(2026, 3, 2), dt.date(2026, 3, 3), selection=SELECTION + ["metering/daily_tenant_summary"])
    assert str(failed.value) == (
        "metering/databricks_priced_usage: blocking check fx_rate_found: no USD rate for EUR on 2026-03-02: add a "
        "fx_to_usd entry in force that day to settings.yaml (nothing was published)")
    # The unconverted amount is never counted as USD: nothing was published and the summary did not run.
    assert query(target, "SELECT COUNT(*) FROM metering.databricks_priced_usage")[0][0] == 0
