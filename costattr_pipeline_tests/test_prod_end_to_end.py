"""The production target end to end: `costattr run --target prod` over a few days, against the best local
stand-in at every boundary, and its tables compared with the local target's on the same data.

- Snowflake: fakesnow is the account (snowflake_stand_in: its aggregates kept exact, as Snowflake's). ``SNOWFLAKE.ACCOUNT_USAGE`` holds the sample's metering, query
  attribution and tag rows; ``PRODUCT.METERING`` the product's usage events and external API costs;
  costattr writes its own database ``COSTATTR``.
- AWS: moto's server over HTTP answers Cost Explorer (the sample's pages for the window) and EventBridge
  (a rule forwards costattr's events to an SQS queue the test reads).
- Slack: the local HTTP server receives the incoming-webhook posts.
- Databricks: the connector's ``connect`` answers the project's Databricks SQL from DuckDB tables holding
  the sample's ``system.billing`` rows (databricks_stand_in).

The local target reads the same sample from its files. Every relation both targets write is compared
row by row (except the columns that record when and from where a load happened), so the SQL that runs
inside Snowflake computes exactly what DuckDB computes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import io
import json
import pprint
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import dagster as dg
import duckdb
import pyarrow as pa
import pytest

from costattr_pipeline import cli
from costattr_pipeline.defs.alerts.sensors import build_alert_delivery_sensor
from costattr_pipeline.definitions import build_definitions
from costattr_pipeline.lib.config import load_settings
from costattr_pipeline.resources.targets import resources_for
from costattr_pipeline.resources.warehouse import SnowflakeSession
from costattr_pipeline.sample.generate import DemoPeriod, generate_sample
from costattr_pipeline.target import Target
from costattr_pipeline_tests.aws_stand_ins import FaultProxy, moto_behind_proxy, queue_cost_explorer_results
from costattr_pipeline_tests.databricks_stand_in import (DuckDBAsDatabricksSql, load_billing_exports,
                                                         system_tables_connection)
from costattr_pipeline_tests.slack_stand_in import SlackStandIn, running_slack
from costattr_pipeline_tests.snowflake_builders import create_usage_relations
from costattr_pipeline_tests.snowflake_stand_in import fakesnow_account

PERIOD = DemoPeriod(dt.date(2026, 1, 1), dt.date(2026, 2, 1))
# Three days of January; the sample's AWS cost has more than 2 % without a tenant tag on the 5th (a breach).
START, END = dt.date(2026, 1, 4), dt.date(2026, 1, 7)
SECRETS = {"SNOWFLAKE_PASSWORD": "sf-secret-not-for-logs", "DATABRICKS_TOKEN": "dapi-secret-not-for-logs"}
PROD_ENVIRONMENT = {
    "SNOWFLAKE_ACCOUNT": "costattr-test", "SNOWFLAKE_USER": "costattr", "SNOWFLAKE_ROLE": "COSTATTR",
    "SNOWFLAKE_WAREHOUSE": "COSTATTR_WH", "SNOWFLAKE_DATABASE": "COSTATTR",
    "DATABRICKS_SERVER_HOSTNAME": "dbc-e2e.cloud.databricks.com", "DATABRICKS_HTTP_PATH": "/sql/1.0/warehouses/e2e",
    "AWS_REGION": "us-east-1", "COSTATTR_EVENT_BUS": "costattr", "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing", **SECRETS,
}
ACCOUNT_USAGE = "SNOWFLAKE.ACCOUNT_USAGE"
# Columns that say when, by which run or from which delivery a row was loaded: they differ between any two
# runs, of either target. Every other column must be equal.
LOAD_COLUMNS = {"computed_at", "computation_id", "loaded_at", "load_id", "fetched_at", "fetch_id", "source_name",
                "source", "source_file", "created_at", "sent_at", "next_attempt_at", "run_id", "config_path",
                "sources", "source_load_ids", "checked_at", "exported_at", "path", "first_seen_at",
                "file_mtime_ns", "file_size", "x_sourcerecord"}
# What a source delivered, which is wider locally: the local target reads whole export files (every day of
# a Cost Explorer fetch file, every list price of the file), production asks the service for the window
# (the window's days, the prices in force in it). There every production row must be a local row.
WINDOW_OF_DELIVERY = {"metering.aws_cost_fetches", "metering.aws_cost_fetch_days",
                      "metering.aws_cost_current_deliveries", "metering.databricks_list_prices",
                      "metering.databricks_price_segments"}
# Relations only the local target has: the ACCOUNT_USAGE exports it lands (prod reads the views in place).
LOCAL_ONLY = {"landing.snowflake_query_attribution_history", "landing.snowflake_tag_references",
              "landing.snowflake_warehouse_metering_history"}


@dataclasses.dataclass
class Runs:
    local: Target
    prod: Target
    local_json: dict[str, Any]
    prod_json: dict[str, Any]
    prod_tables: dict[str, tuple[list[str], list[tuple]]]   # relation -> (columns, rows), read from fakesnow
    alerts_delivered: tuple[list[str], list[tuple]]          # metering.alerts after the delivery sensor's tick
    databricks_statements: list[str]
    delivery_message: str
    eventbridge_events: list[dict[str, Any]]
    slack_posts: list[dict[str, Any]]
    log_text: str


def _cost_explorer_answer(source_dir: Path) -> dict[str, Any]:
    """The sample's Cost Explorer pages for the window as the one answer the API gives to the window's request:
    per day, the groups of the latest fetch file that has the day (a day may span two pages of a file)."""
    days = {(START + dt.timedelta(days=offset)).isoformat() for offset in range((END - START).days)}
    latest: dict[str, dict[str, Any]] = {}
    definitions: list[Any] = []
    for path in sorted((source_dir / "aws_cost_explorer").glob("*.json")):
        in_file: dict[str, dict[str, Any]] = {}
        for page in json.loads(path.read_text(encoding="utf-8")):
            definitions = page["GroupDefinitions"]
            for result in page["ResultsByTime"]:
                day = result["TimePeriod"]["Start"]
                if day in days:
                    in_file.setdefault(day, {**result, "Groups": []})["Groups"] += result["Groups"]
        latest.update(in_file)  # a later fetch restates its days
    return {"GroupDefinitions": definitions, "ResultsByTime": [latest[day] for day in sorted(latest)],
            "DimensionValueAttributes": []}


def _seed_snowflake(connection: Any, local_warehouse: Path, source_dir: Path) -> None:
    """The account's ACCOUNT_USAGE views and the product's METERING tables, from the same sample."""
    session = SnowflakeSession(connection)
    for statement in ("CREATE DATABASE IF NOT EXISTS SNOWFLAKE", "CREATE DATABASE IF NOT EXISTS PRODUCT",
                      "CREATE SCHEMA IF NOT EXISTS PRODUCT.METERING"):
        session.execute(statement)
    relations = create_usage_relations(session, schema=ACCOUNT_USAGE)
    local = duckdb.connect(str(local_warehouse), read_only=True)
    try:
        for view in ("warehouse_metering_history", "query_attribution_history", "tag_references"):
            session.insert_arrow(getattr(relations, view),
                                 local.sql(f"SELECT * FROM landing.snowflake_{view}").to_arrow_table())
    finally:
        local.close()
    engine = duckdb.connect()
    try:
        usage = source_dir / "usage"
        events = engine.sql(f"""
            SELECT event_id, tenant_id, module_id, metric, CAST(quantity AS DECIMAL(38, 6)) AS quantity,
                   CAST(event_time AS TIMESTAMP) AS event_time
            FROM read_csv('{usage / "usage_events.csv"}', all_varchar = true)""").to_arrow_table()
        costs = engine.sql(f"""
            SELECT CAST(cost_date AS DATE) AS cost_date, tenant_id, module_id, provider,
                   CAST(amount AS DECIMAL(18, 4)) AS amount, currency
            FROM read_csv('{usage / "external_api_costs.csv"}', all_varchar = true)""").to_arrow_table()
    finally:
        engine.close()
    session.execute("CREATE TABLE PRODUCT.METERING.USAGE_EVENTS (EVENT_ID VARCHAR, TENANT_ID VARCHAR, "
                    "MODULE_ID VARCHAR, METRIC VARCHAR, QUANTITY NUMBER(38, 6), EVENT_TIME TIMESTAMP_NTZ)")
    session.execute("CREATE TABLE PRODUCT.METERING.EXTERNAL_API_COSTS (COST_DATE DATE, TENANT_ID VARCHAR, "
                    "MODULE_ID VARCHAR, PROVIDER VARCHAR, AMOUNT NUMBER(18, 4), CURRENCY VARCHAR)")
    session.insert_arrow("PRODUCT.METERING.USAGE_EVENTS", events)
    session.insert_arrow("PRODUCT.METERING.EXTERNAL_API_COSTS", costs)
    session.execute("USE DATABASE COSTATTR")  # CREATE DATABASE made the new database the current one


def _alert_queue(aws: FaultProxy) -> tuple[Any, str]:
    """The event bus costattr publishes to, with a rule sending every event to an SQS queue the test reads."""
    def client(service: str) -> Any:
        return boto3.client(service, region_name="us-east-1", endpoint_url=aws.url, aws_access_key_id="testing",
                            aws_secret_access_key="testing")
    events, sqs = client("events"), client("sqs")
    events.create_event_bus(Name="costattr")
    queue_url = sqs.create_queue(QueueName="costattr-alerts")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="all-costattr-events", EventBusName="costattr",
                    EventPattern=json.dumps({"source": ["bank.risk-platform"]}))
    events.put_targets(Rule="all-costattr-events", EventBusName="costattr", Targets=[{"Id": "q", "Arn": queue_arn}])
    return sqs, queue_url


def _prod_tables(connection: Any) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every table and view costattr wrote in the COSTATTR database, as (lower-case columns, rows)."""
    cursor = connection.cursor()
    cursor.execute("SELECT table_schema, table_name FROM COSTATTR.information_schema.tables "
                   "WHERE table_schema NOT IN ('INFORMATION_SCHEMA', 'PUBLIC') "
                   "UNION SELECT table_schema, table_name FROM COSTATTR.information_schema.views "
                   "WHERE table_schema NOT IN ('INFORMATION_SCHEMA', 'PUBLIC')")
    tables = {}
    for schema, name in cursor.fetchall():
        cursor.execute(f"SELECT * FROM COSTATTR.{schema}.{name}")
        columns = [column[0].lower() for column in cursor.description]
        tables[f"{schema}.{name}".lower()] = (columns, [tuple(row) for row in cursor.fetchall()])
    return tables


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    import databricks.sql
    import snowflake.connector

    work = tmp_path_factory.mktemp("prod-e2e")
    source = work / "source"
    generate_sample(source, PERIOD)
    home = work / "dagster_home"
    home.mkdir()
    shutil.copy(Path(__file__).parents[1] / "dagster.yaml", home / "dagster.yaml")
    local = Target.resolve("local", str(source), None, str(work / "local" / "warehouse.duckdb"))
    prod = dataclasses.replace(local, name="prod", warehouse=work / "prod" / "run.lock-anchor",
                               reports_dir=work / "prod" / "reports")
    with pytest.MonkeyPatch.context() as patch, contextlib.ExitStack() as stack:
        for name in ("COSTATTR_TARGET", "COSTATTR_SOURCE_DIR", "COSTATTR_CONFIG_DIR", "COSTATTR_WAREHOUSE",
                     "COSTATTR_REPORTS_DIR", "SLACK_BOT_TOKEN", "SLACK_CHANNEL", "DAGSTER_UI_URL"):
            patch.delenv(name, raising=False)
        patch.setenv("DAGSTER_HOME", str(home))
        window = ["--start", START.isoformat(), "--end", END.isoformat(), "--source-dir", str(source), "--json"]
        code, out, err = _run(window + ["--target", "local", "--warehouse", str(local.warehouse)])
        assert code == 0, err
        local_json = json.loads(out)

        aws = stack.enter_context(moto_behind_proxy())
        slack: SlackStandIn = stack.enter_context(running_slack())
        for name, value in {**PROD_ENVIRONMENT, "AWS_ENDPOINT_URL": aws.url,
                            "SLACK_WEBHOOK_URL": slack.webhook_url}.items():
            patch.setenv(name, value)
        queue_cost_explorer_results(aws, [_cost_explorer_answer(source)])
        sqs, queue_url = _alert_queue(aws)
        system_tables = system_tables_connection()
        load_billing_exports(system_tables, source / "databricks")
        databricks_sql = DuckDBAsDatabricksSql(system_tables)
        patch.setattr(databricks.sql, "connect", lambda **kwargs: databricks_sql)
        stack.enter_context(fakesnow_account())
        connection = snowflake.connector.connect(database="COSTATTR", schema="PUBLIC")
        connection.cursor().execute("CREATE DATABASE IF NOT EXISTS COSTATTR")
        _seed_snowflake(connection, local.warehouse, source)

        code, out, err = _run(window + ["--target", "prod", "--warehouse", str(prod.warehouse),
                                              "--reports-dir", str(prod.reports_dir)])
        assert code == 0, err
        prod_json = json.loads(out)
        prod_tables = _prod_tables(connection)

        # The alert delivery sensor, as the daemon ticks it, with the production resources.
        settings = load_settings(prod.config_dir)
        resources = resources_for(prod, settings)
        with dg.instance_for_test() as instance, dg.build_sensor_context(instance=instance, resources={
                name: resources[name] for name in ("warehouse", "eventbridge", "slack")}) as context:
            result = build_alert_delivery_sensor(first_retry=dt.timedelta(0)).evaluate_tick(context)
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        yield Runs(local=local, prod=prod, local_json=local_json, prod_json=prod_json,
                   prod_tables=prod_tables, alerts_delivered=_prod_tables(connection)["metering.alerts"],
                   databricks_statements=list(databricks_sql.statements),
                   delivery_message=result.skip_message or "",
                   eventbridge_events=[json.loads(message["Body"]) for message in messages.get("Messages", [])],
                   slack_posts=list(slack.received), log_text=out + err)
        connection.close()
        system_tables.close()


def _run(argv: list[str]) -> tuple[int, str, str]:
    """``costattr run`` in process, with its stdout and stderr (a module-scoped fixture cannot use capsys)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["run", *argv])
    return code, out.getvalue(), err.getvalue()


def _local_tables(path: Path) -> dict[str, tuple[list[str], list[tuple]]]:
    connection = duckdb.connect(str(path), read_only=True)
    try:
        tables = {}
        for schema, name in connection.execute(
                "SELECT table_schema, table_name FROM information_schema.tables ORDER BY 1, 2").fetchall():
            relation = connection.sql(f"SELECT * FROM {schema}.{name}")
            tables[f"{schema}.{name}".lower()] = ([column.lower() for column in relation.columns], relation.fetchall())
        return tables
    finally:
        connection.close()


def _comparable(value: Any) -> Any:
    """One value as both engines' clients return it: numbers by value, JSON text by its content."""
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return Decimal(value).normalize()
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    if isinstance(value, str) and value[:1] in "{[":
        with contextlib.suppress(ValueError):
            return json.dumps(_json_content(json.loads(value, parse_float=Decimal)), sort_keys=True, default=str)
    if isinstance(value, (dict, list)):
        return json.dumps(_json_content(value), sort_keys=True, default=str)
    return value


def _json_content(value: Any) -> Any:
    """A JSON document's content: a null field is an absent one, a number is its value (0.60 in a string
    of an export = 0.6 in the struct the service returns)."""
    if isinstance(value, dict):
        return {key: _json_content(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_json_content(item) for item in value]
    if isinstance(value, (str, int, Decimal)) and not isinstance(value, bool):
        with contextlib.suppress(ArithmeticError, ValueError):
            return Decimal(value).normalize()
    return value


def _rows(columns: list[str], rows: list[tuple], keep: list[str]) -> list[tuple]:
    index = [columns.index(name) for name in keep]
    return sorted((tuple(_comparable(row[i]) for i in index) for row in rows), key=repr)


def test_every_asset_materializes_and_every_check_runs_on_prod(runs: Runs) -> None:
    graph = build_definitions(runs.local, component_catalog=False).resolve_asset_graph()
    local_assets = {asset["asset"]: asset for asset in runs.local_json["assets"]}
    prod_assets = {asset["asset"]: asset for asset in runs.prod_json["assets"]}
    assert set(prod_assets) == set(local_assets) == {key.to_user_string() for key in graph.executable_asset_keys}
    assert {name: asset["rows"] for name, asset in prod_assets.items()} == \
        {name: asset["rows"] for name, asset in local_assets.items()}
    local_checks = {(check["asset"], check["check"]): check["passed"] for check in runs.local_json["checks"]}
    prod_checks = {(check["asset"], check["check"]): check["passed"] for check in runs.prod_json["checks"]}
    assert prod_checks == local_checks
    assert {key for key in prod_checks} == {(key.asset_key.to_user_string(), key.name) for key in graph.asset_check_keys}


def test_the_prod_tables_equal_the_local_tables(runs: Runs) -> None:
    local = _local_tables(runs.local.warehouse)
    assert set(local) - set(runs.prod_tables) == LOCAL_ONLY
    assert set(runs.prod_tables) - set(local) == set()
    differences = {}
    for relation in sorted(set(local) & set(runs.prod_tables)):
        local_columns, local_rows = local[relation]
        prod_columns, prod_rows = runs.prod_tables[relation]
        assert set(prod_columns) == set(local_columns), relation
        keep = [name for name in local_columns if name not in LOAD_COLUMNS]
        on_prod, on_local = _rows(prod_columns, prod_rows, keep), _rows(local_columns, local_rows, keep)
        if relation in WINDOW_OF_DELIVERY:
            assert on_prod and not [row for row in on_prod if row not in on_local], relation
            continue
        if on_prod != on_local:
            only_prod = [row for row in on_prod if row not in on_local]
            only_local = [row for row in on_local if row not in on_prod]
            columns = sorted({keep[i] for a, b in zip(only_prod, only_local) for i in range(len(keep)) if a[i] != b[i]})
            example = next(({keep[i]: (a[i], b[i]) for i in range(len(keep)) if a[i] != b[i]}
                            for a, b in zip(only_prod, only_local)), None)
            differences[relation] = {"rows (prod, local)": (len(on_prod), len(on_local)),
                                     "differing rows": (len(only_prod), len(only_local)),
                                     "columns": columns, "example (prod, local)": example}
    if differences:
        pytest.fail("the targets differ:\n" + pprint.pformat(differences, width=160))


def test_usage_is_read_in_place_and_databricks_through_its_sql(runs: Runs) -> None:
    assert any("system.billing.usage" in statement for statement in runs.databricks_statements)
    assert any("system.billing.list_prices" in statement for statement in runs.databricks_statements)
    columns, rows = runs.prod_tables["metering.usage_events"]
    assert rows and {row[columns.index("usage_date")] for row in rows} <= {
        START + dt.timedelta(days=offset) for offset in range((END - START).days)}


def test_the_breach_reaches_eventbridge_and_slack(runs: Runs) -> None:
    columns, rows = runs.alerts_delivered
    breached = sorted({row[columns.index("subject_date")] for row in rows})
    assert breached, "the sample has a breach in the window"
    assert runs.delivery_message.startswith(f"{2 * len(breached)} delivered, 0 failed"), runs.delivery_message
    assert sorted(event["detail"]["cost_date"] for event in runs.eventbridge_events) == [str(day) for day in breached]
    assert all(event["detail-type"] == "unattributed_cost_threshold_exceeded" for event in runs.eventbridge_events)
    assert len(runs.slack_posts) == len(breached)
    assert all("Unattributed AWS cost on" in post["body"]["text"] for post in runs.slack_posts)
    statuses = {(row[columns.index("sent_to")], row[columns.index("status")]) for row in rows}
    assert statuses == {("log", "sent"), ("eventbridge", "sent"), ("slack", "sent")}


def test_no_secret_is_printed(runs: Runs) -> None:
    for secret in SECRETS.values():
        assert secret not in runs.log_text
