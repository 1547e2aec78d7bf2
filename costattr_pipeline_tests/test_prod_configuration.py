"""The production target's configuration errors, through the CLI: every missing variable at once (ENV_MISSING),
and a service that refuses the credentials named in one line, without the secret."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from costattr_pipeline.cli import main
from costattr_pipeline.resources.targets import (DATABRICKS_VARIABLES, EVENTBRIDGE_VARIABLES, SLACK_WEB_API_VARIABLES,
                                                 SNOWFLAKE_VARIABLES)

PROD_VARIABLES = (*SNOWFLAKE_VARIABLES, *DATABRICKS_VARIABLES, *EVENTBRIDGE_VARIABLES, *SLACK_WEB_API_VARIABLES,
                  "SLACK_WEBHOOK_URL", "SNOWFLAKE_HOST", "SNOWFLAKE_PORT", "SNOWFLAKE_PROTOCOL")
PASSWORD = "correct-horse-battery-staple"


def _flags(target) -> list[str]:
    return ["--target", "prod", "--source-dir", str(target.source_dir), "--warehouse", str(target.warehouse)]


@pytest.fixture
def bare_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for name in PROD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()


@pytest.mark.parametrize("command", [["validate"], ["run", "--start", "2026-03-01", "--end", "2026-03-03"]])
def test_every_missing_or_empty_variable_is_named_at_once(target, bare_environment, monkeypatch, capsys,
                                                        command: list[str]) -> None:
    monkeypatch.setenv("SNOWFLAKE_ACCOUNT", "xy12345")
    monkeypatch.setenv("SNOWFLAKE_USER", "   ")  # empty is missing
    monkeypatch.setenv("DATABRICKS_TOKEN", "")
    assert main([*command, *_flags(target)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err + captured.out
    expected = [name for name in (*SNOWFLAKE_VARIABLES, *DATABRICKS_VARIABLES, *EVENTBRIDGE_VARIABLES,
                                  *SLACK_WEB_API_VARIABLES) if name != "SNOWFLAKE_ACCOUNT"]
    assert lines[0] == (f"error: ENV_MISSING: the prod target needs {len(expected)} environment variable(s) that are "
                        f"unset or empty: {', '.join(expected)} (set them in the deployment's environment; "
                        "docs/operations.md)")
    assert not target.warehouse.exists()


def test_a_slack_webhook_replaces_the_bot_token_and_channel(target, bare_environment, monkeypatch, capsys) -> None:
    for name in (*SNOWFLAKE_VARIABLES, *DATABRICKS_VARIABLES, *EVENTBRIDGE_VARIABLES):
        monkeypatch.setenv(name, "set")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    assert main(["validate", *_flags(target)]) == 2
    assert "needs 1 environment variable(s) that are unset or empty: SLACK_CHANNEL " in capsys.readouterr().err
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://hooks.example/T0")
    assert main(["validate", *_flags(target)]) == 0


@contextmanager
def snowflake_endpoint(accept: bool) -> Iterator[tuple[int, list[dict[str, Any]], list[str]]]:
    """A local endpoint of Snowflake's REST API (what the connector speaks over HTTP), yielding its port, the
    login requests and the SQL text of the statements it received. ``accept=False``: it refuses every
    credential as Snowflake does (code 390100); otherwise it accepts the login and answers every statement
    "executed successfully"."""
    logins: list[dict[str, Any]] = []
    statements: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802 - http.server API
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            answer: dict[str, Any] = {"data": {}, "code": None, "message": None, "success": True}
            if self.path.startswith("/session/v1/login-request"):
                logins.append({"path": self.path, "body": body})
                answer["data"] = {"token": "session-token", "masterToken": "master-token", "validityInSeconds": 3600,
                                  "masterValidityInSeconds": 14400, "sessionId": 1, "parameters": [],
                                  "sessionInfo": {"databaseName": "COSTATTR", "schemaName": "PUBLIC",
                                                  "warehouseName": "COSTATTR_WH", "roleName": "COSTATTR_ADMIN"}}
                if not accept:
                    answer = {"data": {"nextAction": "RETRY_LOGIN", "authnMethod": "USERNAME_PASSWORD"},
                              "code": "390100", "message": "Incorrect username or password was specified.",
                              "success": False, "headers": None}
            elif self.path.startswith("/queries/v1/query-request"):
                statements.append(json.loads(body)["sqlText"])
                answer["data"] = {
                    "parameters": [], "rowtype": [{"name": "status", "type": "text", "nullable": True,
                                                   "byteLength": 16777216, "length": 16777216, "scale": None,
                                                   "precision": None, "database": "", "schema": "", "table": ""}],
                    "rowset": [["Statement executed successfully."]], "total": 1, "returned": 1,
                    "queryId": f"01b2-{len(statements)}", "statementTypeId": 28672, "queryResultFormat": "json",
                    "finalDatabaseName": "COSTATTR", "finalSchemaName": "PUBLIC"}
            payload = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], logins, statements
    finally:
        server.shutdown()
        server.server_close()


def test_snowflake_refusing_the_credentials_is_one_line_without_the_password(target, bare_environment, monkeypatch,
                                                                            capsys) -> None:
    for name in (*SNOWFLAKE_VARIABLES, *DATABRICKS_VARIABLES, *EVENTBRIDGE_VARIABLES):
        monkeypatch.setenv(name, "set")
    monkeypatch.setenv("SNOWFLAKE_ACCOUNT", "xy12345")
    monkeypatch.setenv("SNOWFLAKE_PASSWORD", PASSWORD)
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    with snowflake_endpoint(accept=False) as (port, logins, _):
        monkeypatch.setenv("SNOWFLAKE_HOST", "127.0.0.1")
        monkeypatch.setenv("SNOWFLAKE_PORT", str(port))
        monkeypatch.setenv("SNOWFLAKE_PROTOCOL", "http")
        code = main(["run", "--quiet", "--start", "2026-03-01", "--end", "2026-03-02", *_flags(target)])
    captured = capsys.readouterr()
    assert code == 2
    assert logins and all(login["path"].startswith("/session/v1/login-request") for login in logins)
    assert PASSWORD.encode() in logins[0]["body"]  # the password did reach the service ...
    assert PASSWORD not in captured.err + captured.out  # ... and is never printed
    assert "Traceback" not in captured.err
    # The service, its endpoint, and what it said (the connector's own words), on the last line.
    assert captured.err.strip().splitlines()[-1] == (
        f"error: Snowflake at 127.0.0.1:{port}: 390100 (28000): Failed to connect to DB: 127.0.0.1:{port}. "
        "Incorrect username or password was specified.")


# --- costattr grants: the audit tables append-only for a role (spec NFR-024) ---------------------------------

def test_grants_prints_a_revoke_for_every_audit_table_the_assets_create(target, capsys) -> None:
    from costattr_pipeline.defs.attribution.snowflake_credits.credit_sql import TABLES_SQL as CREDIT_TABLES_SQL
    from costattr_pipeline.defs.billing.billing_period_summary import TABLES_SQL as BILLING_TABLES_SQL
    from costattr_pipeline.defs.ingest.cost_explorer.aws_cost_daily import TABLES_SQL as LANDING_TABLES_SQL
    from costattr_pipeline.defs.ingest.usage.external_api_costs import TABLES_SQL as EXTERNAL_TABLES_SQL
    from costattr_pipeline.grants import AUDIT_TABLES
    from costattr_pipeline.resources.warehouse import DuckDBSession
    import duckdb

    assert main(["grants", "--role", "COSTATTR_RUNNER", *_flags(target)[2:]]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[:2] == ["REVOKE UPDATE, DELETE, TRUNCATE ON TABLE METERING.AWS_COST_DAILY FROM ROLE COSTATTR_RUNNER;",
                         "REVOKE UPDATE, DELETE, TRUNCATE ON TABLE METERING.SNOWFLAKE_CREDIT_DAILY FROM ROLE "
                         "COSTATTR_RUNNER;"]
    revoked = [line.split(" ON TABLE ")[1].split(" FROM ")[0].lower() for line in lines]
    assert revoked == list(AUDIT_TABLES) and "metering.external_api_costs" in revoked
    # Every one is a base table the owning assets create.
    session = DuckDBSession(duckdb.connect())
    for text in (LANDING_TABLES_SQL, CREDIT_TABLES_SQL, EXTERNAL_TABLES_SQL, BILLING_TABLES_SQL):
        session.execute(text)
    for table in AUDIT_TABLES:
        schema, name = table.split(".")
        assert session.relations_in(schema).get(name) == "BASE TABLE", table


def test_grants_refuses_a_role_that_is_not_a_name_and_apply_on_the_local_target(target, capsys) -> None:
    assert main(["grants", "--role", "X; DROP TABLE Y", *_flags(target)[2:]]) == 2
    assert "--role 'X; DROP TABLE Y': not a Snowflake role name" in capsys.readouterr().err
    assert main(["grants", "--role", "COSTATTR_RUNNER", "--apply", *_flags(target)[2:]]) == 2
    assert capsys.readouterr().err.strip() == ("error: the local target (DuckDB) has no roles: grants apply to the "
                                               "prod target (Snowflake)")


def test_grants_apply_on_prod_names_every_missing_variable(target, bare_environment, capsys) -> None:
    assert main(["grants", "--role", "COSTATTR_RUNNER", "--apply", *_flags(target)]) == 2
    assert capsys.readouterr().err.startswith("error: ENV_MISSING: the prod target needs 13 environment variable(s)")


def test_every_production_snowflake_session_is_utc(target, bare_environment, monkeypatch) -> None:
    """The ACCOUNT_USAGE views hold TIMESTAMP_LTZ: the connection opens each session in UTC (no ALTER SESSION)."""
    import dataclasses

    from costattr_pipeline.lib.config import load_settings
    from costattr_pipeline.resources.targets import resources_for

    monkeypatch.setenv("SNOWFLAKE_HOST", "costattr.privatelink.snowflakecomputing.com")
    warehouse = resources_for(dataclasses.replace(target, name="prod"), load_settings(target.config_dir))["warehouse"]
    assert warehouse.snowflake.additional_snowflake_connection_args == {
        "host": "costattr.privatelink.snowflakecomputing.com", "session_parameters": {"TIMEZONE": "UTC"}}


def test_grants_apply_sends_every_revoke_to_snowflake(target, bare_environment, monkeypatch, capsys) -> None:
    """`--apply` runs the printed statements in the account, through the connector, one by one."""
    from costattr_pipeline.grants import revoke_statements

    for name in (*SNOWFLAKE_VARIABLES, *DATABRICKS_VARIABLES, *EVENTBRIDGE_VARIABLES):
        monkeypatch.setenv(name, "set")
    monkeypatch.setenv("SNOWFLAKE_ACCOUNT", "xy12345")
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    with snowflake_endpoint(accept=True) as (port, _, statements):
        monkeypatch.setenv("SNOWFLAKE_HOST", "127.0.0.1")
        monkeypatch.setenv("SNOWFLAKE_PORT", str(port))
        monkeypatch.setenv("SNOWFLAKE_PROTOCOL", "http")
        code = main(["grants", "--role", "COSTATTR_RUNNER", "--apply", *_flags(target)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    # dagster-snowflake commits when the connection closes.
    assert statements == [*revoke_statements("COSTATTR_RUNNER"), "COMMIT"]
    assert len(statements) == 11
    assert captured.out.splitlines() == [f"{statement};" for statement in statements[:-1]]
    assert captured.err.strip() == "Applied 10 statement(s) for role COSTATTR_RUNNER."
