"""FOCUS as an output: metering.focus_export adds up to the summary, `costattr export focus` writes it, the
FinOps Foundation's focus-validator finds no failed rule in the demo's export, and the SQL runs on Snowflake."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from costattr_pipeline.cli import main
from costattr_pipeline.defs.exports.focus_export import EXPORT_SOURCES, TABLES_SQL, create_tables, export_window
from costattr_pipeline.defs.attribution.tenant_summary.daily_tenant_summary import NO_AWS_CLUSTERS
from costattr_pipeline.defs.attribution.focus.focus_cost_daily import TABLES_SQL as ATTRIBUTION_TABLES_SQL
from costattr_pipeline.defs.ingest.cost_explorer.aws_cost_daily import TABLES_SQL as AWS_TABLES_SQL
from costattr_pipeline.defs.ingest.focus.focus_charges import TABLES_SQL as FOCUS_TABLES_SQL
from costattr_pipeline.defs.ingest.usage.external_api_costs import TABLES_SQL as EXTERNAL_TABLES_SQL
from costattr_pipeline.resources.warehouse import DuckDBSession, SnowflakeSession, WarehouseSession
from costattr_pipeline.runner import run_range
from costattr_pipeline.sample import DemoPeriod, generate_sample
from costattr_pipeline.target import Target
from costattr_pipeline_tests.conftest import query

REPO = Path(__file__).resolve().parents[1]
VALIDATOR_VENV = REPO / ".costattr" / "focus-validator-venv"
MARCH = DemoPeriod(dt.date(2026, 3, 1), dt.date(2026, 4, 1))


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Target:
    """The demo's sample data for March 2026, run through every asset."""
    folder = tmp_path_factory.mktemp("demo")
    generate_sample(folder / "source", period=MARCH)
    target = Target.resolve("local", str(folder / "source"), None, str(folder / "warehouse.duckdb"))
    run_range(target, MARCH.start, MARCH.end)
    return target


def test_the_export_adds_up_to_the_summary_per_day_and_resource_type(demo) -> None:
    exported = query(demo, "SELECT cost_date, x_CostattrResourceType, SUM(x_CountedCost) FROM metering.focus_export "
                           "GROUP BY 1, 2 ORDER BY 1, 2")
    summarized = query(demo, "SELECT cost_date, resource_type, SUM(cost_usd) FROM metering.daily_tenant_summary "
                             "GROUP BY 1, 2 ORDER BY 1, 2")
    assert exported == summarized
    assert {row[1] for row in exported} == {"aws", "snowflake", "databricks", "external_api", "focus_microsoft",
                                             "kubernetes"}
    # Split rows (a shared Snowflake warehouse's day) carry the allocation columns; whole charges do not.
    splits = query(demo, "SELECT x_AttributionRule, COUNT(*), COUNT(x_AllocatedMethodId), COUNT(x_AllocatedResourceId) "
                         "FROM metering.focus_export WHERE x_CostattrResourceType = 'snowflake' GROUP BY 1 ORDER BY 1")
    assert all(methods == 0 for rule, _, methods, _ in splits if rule == "dedicated")
    assert all(rows == methods == resources for rule, rows, methods, resources in splits if rule != "dedicated")
    assert any(rule != "dedicated" for rule, _, _, _ in splits)
    # External API costs are passed through under the rate card version of their period.
    assert query(demo, "SELECT DISTINCT x_RateCardVersion FROM metering.focus_export "
                       "WHERE x_CostattrResourceType = 'external_api'") == [("2026.1",)]


def test_export_focus_writes_the_month_as_parquet_and_csv(demo, tmp_path, capsys) -> None:
    flags = ["--source-dir", str(demo.source_dir), "--warehouse", str(demo.warehouse)]
    assert main(["export", "focus", "--month", "2026-03", "--out", str(tmp_path / "march.parquet"), *flags]) == 0
    assert main(["export", "focus", "--month", "2026-03", "--out", str(tmp_path / "march.csv"), *flags]) == 0
    table = pq.read_table(tmp_path / "march.parquet")
    assert str(table.schema.field("BillingAccountId").type) == "string"
    assert str(table.schema.field("BilledCost").type) == "decimal128(38, 18)"
    assert str(table.schema.field("ChargePeriodStart").type) == "timestamp[us, tz=UTC]"
    total = sum(table.column("x_CountedCost").to_pylist())
    assert total == query(demo, "SELECT SUM(cost_usd) FROM metering.daily_tenant_summary")[0][0]
    csv_total = duckdb.sql(f"SELECT SUM(CAST(x_CountedCost AS DECIMAL(38, 18))), MIN(ChargePeriodStart) "
                           f"FROM read_csv('{tmp_path / 'march.csv'}', all_varchar = true)").fetchall()[0]
    assert csv_total == (total, "2026-03-01T00:00:00Z")
    assert main(["export", "focus", "--month", "2026-07", "--out", str(tmp_path / "july.csv"), *flags]) == 2
    assert "no rows for this month" in capsys.readouterr().err


# --- conformance: the FinOps Foundation's focus-validator ------------------------------------------------------


def _validator() -> tuple[Path, Path]:
    """The validator's venv (made by `make focus-validator` from the pinned requirements when missing)."""
    subprocess.run(["make", "-s", "focus-validator"], cwd=REPO, check=True)
    executable = VALIDATOR_VENV / "bin" / "focus-validator"
    site_packages = Path(subprocess.run(
        [str(VALIDATOR_VENV / "bin" / "python"), "-c", "import focus_validator, pathlib; "
         "print(pathlib.Path(focus_validator.__file__).parent.parent)"],
        check=True, capture_output=True, text=True).stdout.strip())
    return executable, site_packages


def _satisfied_alternatives(site_packages: Path, passed: set[str]) -> set[str]:
    """Rules that are one alternative of an OR rule that passed: their failure is not the dataset's.

    (FOCUS 1.2's InvoiceId-C-003-C is "C-004 (null) OR C-005 (not null)": every dataset fails one.)
    """
    model = json.loads((site_packages / "focus_validator" / "rules" / "model-1.2.0.1.json").read_text())
    alternatives = set()
    for rule_id, rule in model["ModelRules"].items():
        requirement = rule["ValidationCriteria"].get("Requirement") or {}
        if rule_id in passed and requirement.get("CheckFunction") == "OR":
            alternatives |= {item["ModelRuleId"] for item in requirement.get("Items", []) if "ModelRuleId" in item}
    return alternatives


def test_the_demo_export_passes_the_focus_validator(demo, tmp_path) -> None:
    out = tmp_path / "march.parquet"
    assert main(["export", "focus", "--month", "2026-03", "--out", str(out), "--source-dir", str(demo.source_dir),
                 "--warehouse", str(demo.warehouse)]) == 0
    executable, site_packages = _validator()
    # It opens its rules relative to the working directory, and exits 0 even when rules fail: read its lines.
    result = subprocess.run([str(executable), "--data-file", str(out), "--validate-version", "1.2", "--block-download"],
                            cwd=site_packages, capture_output=True, text=True, timeout=600)
    report = result.stdout + result.stderr
    assert result.returncode == 0, report[-2000:]
    passed = set(re.findall(r"^\S+ (\S+): PASS", report, flags=re.MULTILINE))
    failed = set(re.findall(r"^\S+ (\S+): FAIL", report, flags=re.MULTILINE))
    assert len(passed) > 100, report[-2000:]          # the validator did run the 1.2 rules
    assert failed - _satisfied_alternatives(site_packages, passed) == set(), report[-4000:]


# --- the export SQL on DuckDB and on Snowflake (fakesnow) -------------------------------------------------------

ROWS = [
    """INSERT INTO metering.aws_cost_daily (cost_date, grouped_by, tenant_id, module_id, service, amount, currency,
       estimated, load_id, source_name, loaded_at) VALUES (CAST('2026-03-02' AS DATE),
       'TAG:tenant_id,DIMENSION:SERVICE', 'acme', NULL, 'Amazon Simple Storage Service', 1.25, 'USD', FALSE, 'l1', 'a.json',
       CAST('2026-03-03 00:00:00' AS TIMESTAMP))""",
    """INSERT INTO metering.external_api_costs (cost_date, tenant_id, module_id, provider, amount, currency,
       fx_rate_to_usd, amount_usd) VALUES (CAST('2026-03-02' AS DATE), NULL, NULL, 'openai', 0.1, 'USD', 1, 0.1)""",
    """INSERT INTO metering.focus_charges (cost_date, provider, resource_type, focus_version, charge_period_start,
       charge_period_end, billing_period_start, billing_period_end, billing_account_id, charge_category, billed_cost,
       effective_cost, billing_currency, service_name, tags, source_file, source_row, export_name, exported_at,
       load_id, loaded_at) VALUES (CAST('2026-03-02' AS DATE), 'Microsoft', 'focus_microsoft', '1.2',
       CAST('2026-03-02 00:00:00' AS TIMESTAMP), CAST('2026-03-03 00:00:00' AS TIMESTAMP),
       CAST('2026-03-01 00:00:00' AS TIMESTAMP), CAST('2026-04-01 00:00:00' AS TIMESTAMP), 'ea-1', 'Usage', 0.2, 0.3,
       'USD', 'Storage', '{"tenant_id":"acme"}', 'focus/a.csv', 2, 'a.csv', CAST('2026-03-03 00:00:00' AS TIMESTAMP),
       'l2', CAST('2026-03-03 00:00:00' AS TIMESTAMP))""",
    """INSERT INTO metering.focus_cost_daily VALUES (CAST('2026-03-02' AS DATE), 'Microsoft', 'focus_microsoft', 'ea-1',
       'acme', NULL, 'tag', 'EffectiveCost', 0.3, TRUE, NULL, 'l2', 'focus/a.csv', 2, 'USD', 0.3, 1)""",
]


def _export(session: WarehouseSession) -> list[tuple]:
    for tables in (AWS_TABLES_SQL, EXTERNAL_TABLES_SQL, FOCUS_TABLES_SQL, ATTRIBUTION_TABLES_SQL):
        session.execute(tables)
    create_tables(session)
    for rows in ROWS:
        session.execute(rows)
    sources = [source for source in EXPORT_SOURCES if source.cost.resource_type in ("aws", "external_api", "focus")
               and source.cost.relation != "k8s_project_daily_cost"]  # no Kubernetes cluster on AWS here
    export_window(session, sources, {"start_date": dt.date(2026, 3, 1), "end_date": dt.date(2026, 4, 1),
                                     "snowflake_account": "unknown", "cost_explorer_account": "unknown"}, {
        "cost_explorer_replaced_days": "SELECT CAST(NULL AS DATE) AS cost_date WHERE 1 = 0",
        "k8s_aws_clusters": NO_AWS_CLUSTERS,
        "rate_card_versions": "SELECT CAST('2026-03-01' AS DATE) AS period_start, '2026.1' AS rate_card_version"})
    return [(row["x_costattrresourcetype"], row["servicecategory"], row["servicesubcategory"],
             Decimal(str(row["billedcost"])).normalize(), Decimal(str(row["x_countedcost"])).normalize(),
             str(row["billingperiodend"])[:10], str(row["chargeperiodend"])[:10], row["x_ratecardversion"])
            for row in ({name.lower(): value for name, value in found.items()} for found in
                        session.rows("SELECT * FROM metering.focus_export ORDER BY x_CostattrResourceType"))]


EXPECTED = [
    ("aws", "Storage", "Object Storage", Decimal("1.25"), Decimal("1.25"), "2026-04-01", "2026-03-03", None),
    ("external_api", "Other", "Other (Other)", Decimal("0.1"), Decimal("0.1"), "2026-04-01", "2026-03-03", "2026.1"),
    ("focus_microsoft", "Other", "Other (Other)", Decimal("0.2"), Decimal("0.3"), "2026-04-01", "2026-03-03", None),
]


def test_export_sql_on_duckdb() -> None:
    assert _export(DuckDBSession(duckdb.connect())) == EXPECTED


def test_export_sql_on_snowflake_dialect(fakesnow_connection) -> None:
    assert _export(SnowflakeSession(fakesnow_connection)) == EXPECTED


def _migrated(session: WarehouseSession) -> tuple[str | None, list[tuple], list[tuple]]:
    """A warehouse of an earlier version (metering.focus_export a table holding two days) after a day is exported
    again: what focus_export is, the rows the view shows, and the rows kept whole."""
    session.execute("CREATE SCHEMA IF NOT EXISTS metering")
    old = re.sub(r"metering\.focus_export_rows\b", "metering.focus_export",
                 TABLES_SQL[TABLES_SQL.index("CREATE TABLE IF NOT EXISTS metering.focus_export_rows"):])
    session.execute(old)
    for day in ("2026-02-27", "2026-03-02"):
        session.execute(f"""INSERT INTO metering.focus_export (cost_date, BilledCost, BillingAccountId, BillingCurrency,
            BillingPeriodEnd, BillingPeriodStart, ChargeCategory, ChargeFrequency, ChargePeriodEnd, ChargePeriodStart,
            ContractedCost, EffectiveCost, InvoiceIssuerName, ListCost, ProviderName, PublisherName, ServiceCategory,
            ServiceName, ServiceSubcategory, x_AttributionRule, x_CostattrResourceType, x_CountedCost)
            VALUES (CAST('{day}' AS DATE), 2, 'unknown', 'USD', CAST('2026-03-01' AS TIMESTAMP),
            CAST('2026-02-01' AS TIMESTAMP), 'Usage', 'Usage-Based', CAST('2026-02-28' AS TIMESTAMP),
            CAST('2026-02-27' AS TIMESTAMP), 2, 2, 'AWS', 2, 'AWS', 'AWS', 'Compute', 'old', 'Other', 'tag', 'aws',
            2)""")
    _export(session)
    kind = session.relations_in("metering").get("focus_export")
    shown, whole = ([(str(day), service) for day, service in (row.values() for row in session.rows(
        f"SELECT cost_date, ServiceName FROM {table} ORDER BY 1, 2"))]
        for table in ("metering.focus_export", "metering.focus_export_rows"))
    return kind, shown, whole


# The day outside the exported window keeps its old row; the day inside it is exported again from the sources
# (the FOCUS charge, whose service is Storage, is stored whole).
MIGRATED = ("VIEW", [("2026-02-27", "old"), ("2026-03-02", "Amazon Simple Storage Service"), ("2026-03-02", "Storage"),
                     ("2026-03-02", "openai API")],
            [("2026-02-27", "old"), ("2026-03-02", "Storage")])


def test_a_warehouse_of_an_earlier_version_keeps_its_exported_days_on_duckdb() -> None:
    assert _migrated(DuckDBSession(duckdb.connect())) == MIGRATED


def test_a_warehouse_of_an_earlier_version_keeps_its_exported_days_on_snowflake_dialect(fakesnow_connection) -> None:
    assert _migrated(SnowflakeSession(fakesnow_connection)) == MIGRATED
