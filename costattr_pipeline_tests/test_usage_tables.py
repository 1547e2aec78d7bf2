"""Production usage: the product's Snowflake tables (fakesnow) read in place, validated and landed like the files."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from costattr_pipeline.runner import RunFailed, run_range
from costattr_pipeline.target import Target
from costattr_pipeline_tests.conftest import query

START, END = dt.date(2026, 2, 1), dt.date(2026, 2, 6)
SELECTION = ["metering/usage_events", "metering/external_api_costs"]
PROD_ENVIRONMENT = {
    "SNOWFLAKE_ACCOUNT": "costattr-test", "SNOWFLAKE_USER": "costattr", "SNOWFLAKE_PASSWORD": "not-a-secret",
    "SNOWFLAKE_ROLE": "COSTATTR", "SNOWFLAKE_WAREHOUSE": "COSTATTR_WH", "SNOWFLAKE_DATABASE": "COSTATTR",
    "DATABRICKS_SERVER_HOSTNAME": "localhost", "DATABRICKS_HTTP_PATH": "/sql", "DATABRICKS_TOKEN": "x",
    "AWS_REGION": "us-east-1", "COSTATTR_EVENT_BUS": "costattr", "SLACK_WEBHOOK_URL": "http://localhost:9/hook",
}
# e3 is delivered twice; e9 is after the window (it is neither validated nor landed).
USAGE_EVENTS = [
    ("e1", "acme", "risk-engine", "api_calls", "1000", "2026-02-02 10:00:00"),
    ("e2", "acme", "risk-engine", "api_calls", "1300.25", "2026-02-03 11:00:00"),
    ("e3", "acme", "reporting", "api_calls", "700", "2026-02-04 12:00:00"),
    ("e3", "acme", "reporting", "api_calls", "700", "2026-02-04 12:00:05"),
    ("e5", "globex", None, "api_calls", "400", "2026-02-05 08:00:00"),
    ("e9", "acme", "risk-engine", "api_calls", "99999", "2026-02-07 00:00:00"),
]
# An empty currency is USD (lower case is upper-cased); an empty tenant is NULL (no tenant caused it).
EXTERNAL_API_COSTS = [
    ("2026-02-03", "acme", "risk-engine", "openai", "10.00", "USD"),
    ("2026-02-04", "acme", "reporting", "bloomberg", "2.35", ""),
    ("2026-02-04", "", None, "pagerduty", "1.00", "usd"),
]
USAGE_COLUMNS = "event_id, tenant_id, module_id, metric, quantity, event_time, usage_date"
COST_COLUMNS = "cost_date, tenant_id, module_id, provider, amount, currency, fx_rate_to_usd, amount_usd"


def _csv(header: str, rows: list[tuple]) -> str:
    return header + "\n" + "".join(",".join("" if value is None else value for value in row) + "\n" for row in rows)


def _literal(value: str | None) -> str:
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


@pytest.fixture
def snowflake(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """fakesnow as the account: the product's database PRODUCT with its METERING tables, costattr's database
    COSTATTR; returns a connection to read what costattr wrote."""
    import fakesnow
    import snowflake.connector

    for name, value in PROD_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    with fakesnow.patch():
        connection = snowflake.connector.connect(database="COSTATTR", schema="PUBLIC")
        cursor = connection.cursor()
        cursor.execute("CREATE DATABASE IF NOT EXISTS PRODUCT")
        cursor.execute("CREATE SCHEMA IF NOT EXISTS PRODUCT.METERING")
        cursor.execute("CREATE TABLE PRODUCT.METERING.USAGE_EVENTS (EVENT_ID VARCHAR, TENANT_ID VARCHAR, "
                       "MODULE_ID VARCHAR, METRIC VARCHAR, QUANTITY NUMBER(38, 6), EVENT_TIME TIMESTAMP_NTZ)")
        cursor.execute("CREATE TABLE PRODUCT.METERING.EXTERNAL_API_COSTS (COST_DATE DATE, TENANT_ID VARCHAR, "
                       "MODULE_ID VARCHAR, PROVIDER VARCHAR, AMOUNT NUMBER(18, 4), CURRENCY VARCHAR)")
        _insert(cursor, "PRODUCT.METERING.USAGE_EVENTS", USAGE_EVENTS)
        _insert(cursor, "PRODUCT.METERING.EXTERNAL_API_COSTS", EXTERNAL_API_COSTS)
        cursor.execute("USE DATABASE COSTATTR")
        yield connection
        connection.close()


def _insert(cursor, table: str, rows: list[tuple]) -> None:
    values = ", ".join("(" + ", ".join(map(_literal, row)) + ")" for row in rows)
    cursor.execute(f"INSERT INTO {table} VALUES {values}")


def _rows(connection, sql: str) -> list[tuple]:
    cursor = connection.cursor()
    cursor.execute(sql)
    return [tuple(row) for row in cursor.fetchall()]


def _prod(target: Target) -> Target:
    return dataclasses.replace(target, name="prod")


def _write_files(target: Target) -> None:
    usage = Path(target.source_dir) / "usage"
    usage.mkdir(parents=True, exist_ok=True)
    (usage / "usage_events.csv").write_text(
        _csv("event_id,tenant_id,module_id,metric,quantity,event_time", USAGE_EVENTS), encoding="utf-8")
    (usage / "external_api_costs.csv").write_text(
        _csv("cost_date,tenant_id,module_id,provider,amount,currency", EXTERNAL_API_COSTS), encoding="utf-8")


def test_usage_read_from_the_product_tables_lands_the_rows_the_files_land(target: Target, snowflake) -> None:
    _write_files(target)
    run_range(target, START, END, selection=SELECTION)
    from_files_usage = query(target, f"SELECT {USAGE_COLUMNS} FROM metering.usage_events ORDER BY event_id, event_time")
    from_files_costs = query(target, f"SELECT {COST_COLUMNS} FROM metering.v_external_api_costs "
                                     "ORDER BY cost_date, provider")

    run_range(_prod(target), START, END, selection=SELECTION)

    from_tables_usage = _rows(snowflake, f"SELECT {USAGE_COLUMNS} FROM metering.usage_events "
                                         "ORDER BY event_id, event_time")
    from_tables_costs = _rows(snowflake, f"SELECT {COST_COLUMNS} FROM metering.v_external_api_costs "
                                         "ORDER BY cost_date, provider")
    assert from_tables_usage == from_files_usage
    assert from_tables_costs == from_files_costs
    assert [row[0] for row in from_tables_usage] == ["e1", "e2", "e3", "e3", "e5"]  # e9 is after the window
    assert [(row[3], row[1], row[5]) for row in from_tables_costs] == [
        ("openai", "acme", "USD"), ("bloomberg", "acme", "USD"), ("pagerduty", None, "USD")]
    # The version register names the table it was read from.
    assert _rows(snowflake, "SELECT DISTINCT source_load_ids FROM metering.external_api_costs_computations") == [
        ("PRODUCT.METERING.EXTERNAL_API_COSTS",)]


def test_a_bad_row_in_the_product_table_is_one_line_and_nothing_is_written(target: Target, snowflake) -> None:
    prod = _prod(target)
    run_range(prod, START, END, selection=SELECTION)
    landed = _rows(snowflake, f"SELECT {USAGE_COLUMNS} FROM metering.usage_events ORDER BY event_id, event_time")
    assert len(landed) == 5
    _insert(snowflake.cursor(), "PRODUCT.METERING.USAGE_EVENTS",
            [("e4", "acme", None, "api_calls", "-3", "2026-02-03 09:00:00"),
             ("e6", "globex", None, "api_calls", "5", "2026-02-04 09:00:00")])

    with pytest.raises(RunFailed) as raised:
        run_range(prod, START, END, selection=["metering/usage_events"])

    message = ("PRODUCT.METERING.USAGE_EVENTS: event_id 'e4', event_time '2026-02-03 09:00:00': "
               "column 'quantity' must not be negative, got -3.000000000000")
    assert message in str(raised.value)
    assert [line for line in str(raised.value).splitlines() if "PRODUCT.METERING" in line] == [
        line for line in str(raised.value).splitlines() if message in line]
    # Nothing written: e6, valid, is not landed either; the day keeps its earlier rows.
    assert _rows(snowflake, f"SELECT {USAGE_COLUMNS} FROM metering.usage_events "
                            "ORDER BY event_id, event_time") == landed


def test_a_bad_currency_in_the_product_table_names_the_row_and_appends_no_version(target: Target, snowflake) -> None:
    _insert(snowflake.cursor(), "PRODUCT.METERING.EXTERNAL_API_COSTS",
            [("2026-02-05", "globex", None, "twilio", "4.00", "EURO")])

    with pytest.raises(RunFailed, match=r"PRODUCT.METERING.EXTERNAL_API_COSTS: cost_date '2026-02-05', provider "
                                        r"'twilio', tenant_id 'globex': column 'currency' must be a 3-letter ISO "
                                        r"currency code \(empty: USD\), got 'EURO'"):
        run_range(_prod(target), START, END, selection=["metering/external_api_costs"])

    assert _rows(snowflake, "SELECT COUNT(*) FROM metering.external_api_costs") == [(0,)]
    assert _rows(snowflake, "SELECT COUNT(*) FROM metering.external_api_costs_computations") == [(0,)]


def test_a_source_in_costattrs_own_schema_is_refused(target: Target, snowflake) -> None:
    settings = Path(target.config_dir) / "settings.yaml"
    settings.write_text(settings.read_text(encoding="utf-8")
                        + "usage_source:\n  usage_events: metering.usage_events\n", encoding="utf-8")

    with pytest.raises(RunFailed, match=r"settings.yaml usage_source.usage_events: metering.usage_events is in "
                                        r"costattr's own schema COSTATTR.METERING"):
        run_range(_prod(target), START, END, selection=["metering/usage_events"])


def _use_text_table(target: Target, snowflake, rows: list[tuple]) -> None:
    """The product's usage events in a table of text columns (event_time with its zone), named in settings.yaml."""
    cursor = snowflake.cursor()
    cursor.execute("CREATE SCHEMA IF NOT EXISTS PRODUCT.RAW")
    cursor.execute("CREATE TABLE PRODUCT.RAW.EVENTS (event_id TEXT, tenant_id TEXT, module_id TEXT, metric TEXT, "
                   "quantity TEXT, event_time TIMESTAMP_TZ, extra_column TEXT)")
    values = ", ".join("(" + ", ".join(map(_literal, row)) + ", 'ignored')" for row in rows)
    cursor.execute(f"INSERT INTO PRODUCT.RAW.EVENTS VALUES {values}")
    cursor.execute("USE DATABASE COSTATTR")  # CREATE SCHEMA made PRODUCT.RAW current, as in Snowflake
    settings = Path(target.config_dir) / "settings.yaml"
    settings.write_text(settings.read_text(encoding="utf-8")
                        + "usage_source:\n  usage_events: product.raw.events\n", encoding="utf-8")


def test_text_columns_and_zoned_times_are_parsed_like_a_files(target: Target, snowflake) -> None:
    # The same events, their times written one hour east of UTC: they land at the same UTC times.
    shifted = [(*row[:5], (dt.datetime.fromisoformat(row[5]) + dt.timedelta(hours=1)).isoformat(" ") + "+01:00")
               for row in USAGE_EVENTS]
    _use_text_table(target, snowflake, shifted)
    run_range(_prod(target), START, END, selection=["metering/usage_events"])
    from_table = _rows(snowflake, f"SELECT {USAGE_COLUMNS} FROM metering.usage_events ORDER BY event_id, event_time")

    _write_files(target)
    local = dataclasses.replace(target, name="local")
    run_range(local, START, END, selection=["metering/usage_events"])
    assert from_table == query(target, f"SELECT {USAGE_COLUMNS} FROM metering.usage_events "
                                       "ORDER BY event_id, event_time")


def test_a_text_value_that_does_not_parse_is_named_with_its_row(target: Target, snowflake) -> None:
    rows = [(*row[:5], row[5] + "+00:00") for row in USAGE_EVENTS]
    rows[1] = (*rows[1][:4], "12x", rows[1][5])
    _use_text_table(target, snowflake, rows)

    with pytest.raises(RunFailed, match=r"product.raw.events: event_id 'e2', event_time '2026-02-03 11:00:00': "
                                        r"column 'quantity': '12x' is not a valid DECIMAL\(38, 12\)"):
        run_range(_prod(target), START, END, selection=["metering/usage_events"])
    assert _rows(snowflake, "SELECT COUNT(*) FROM metering.usage_events") == [(0,)]


def test_validate_refuses_a_source_in_costattrs_schema_and_ignores_usage_files(target: Target, monkeypatch,
                                                                               capsys) -> None:
    from costattr_pipeline.cli import main

    for name, value in PROD_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    usage = Path(target.source_dir) / "usage"
    usage.mkdir(parents=True)
    (usage / "usage_events.csv").write_text("not,the,usage\n", encoding="utf-8")  # prod reads no usage file
    settings = Path(target.config_dir) / "settings.yaml"
    settings.write_text(settings.read_text(encoding="utf-8")
                        + "usage_source:\n  external_api_costs: Costattr.Metering.External_API_Costs\n", encoding="utf-8")

    flags = ["--target", "prod", "--source-dir", str(target.source_dir), "--warehouse", str(target.warehouse)]
    assert main(["validate", *flags]) != 0
    err = capsys.readouterr().err
    assert ("settings.yaml usage_source.external_api_costs: Costattr.Metering.External_API_Costs is in costattr's own "
            "schema COSTATTR.METERING") in err
    assert "usage_events.csv" not in err


@pytest.mark.parametrize(("name", "database", "refused"), [
    ("METERING.USAGE_EVENTS", "COSTATTR", True),             # two parts: the connection's database
    ("costattr.metering.usage_events", "COSTATTR", True),    # unquoted names are case-insensitive
    ("PRODUCT.METERING.USAGE_EVENTS", "COSTATTR", False),    # the product's own database
    ("PRODUCT_METERING.USAGE_EVENTS", "COSTATTR", False),    # another schema of costattr's database
    ("PRODUCT.METERING.USAGE_EVENTS", "product", True),      # costattr writing into the product's database
])
def test_which_source_tables_are_costattrs_own(name: str, database: str, refused: bool) -> None:
    from costattr_pipeline.lib.errors import SourceError
    from costattr_pipeline.lib.table_sources import reject_costattr_table

    if refused:
        with pytest.raises(SourceError, match=f"usage_source.usage_events: {name} is in costattr's own schema "
                                              f"{database.upper()}.METERING"):
            reject_costattr_table("usage_events", name, database)
    else:
        reject_costattr_table("usage_events", name, database)


def test_a_missing_product_table_lands_no_usage_and_warns(target: Target, snowflake) -> None:
    prod = _prod(target)
    run_range(prod, START, END, selection=SELECTION)
    assert _rows(snowflake, "SELECT COUNT(*) FROM metering.usage_events") == [(5,)]
    snowflake.cursor().execute("DROP TABLE PRODUCT.METERING.USAGE_EVENTS")
    snowflake.cursor().execute("USE DATABASE COSTATTR")

    summary = run_range(prod, START, END, selection=["metering/usage_events"])

    assert _rows(snowflake, "SELECT COUNT(*) FROM metering.usage_events") == [(0,)]  # like a missing file
    assert [(check.passed, check.severity) for check in summary.checks
            if check.check == "usage_events_source_present"] == [(False, "WARN")]


def test_a_binary_float_amount_is_refused(target: Target, snowflake) -> None:
    cursor = snowflake.cursor()
    cursor.execute("CREATE OR REPLACE TABLE PRODUCT.METERING.EXTERNAL_API_COSTS (COST_DATE DATE, TENANT_ID VARCHAR, "
                   "MODULE_ID VARCHAR, PROVIDER VARCHAR, AMOUNT FLOAT, CURRENCY VARCHAR)")
    cursor.execute("USE DATABASE COSTATTR")

    with pytest.raises(RunFailed, match=r"PRODUCT.METERING.EXTERNAL_API_COSTS: column 'amount' is FLOAT, a binary "
                                        r"float: an exact amount needs NUMBER\(p, s\) \(or text\)"):
        run_range(_prod(target), START, END, selection=["metering/external_api_costs"])
