"""FOCUS as a source: version detection, validation, landing by export, attribution, the summary,
and the Cost Explorer overlap (the same money is never counted twice)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest

from costattr_pipeline.defs import fx_rates
from costattr_pipeline.defs.attribution.focus.focus_cost_daily import (ATTRIBUTION_SQL, TABLES_SQL,
                                                                       _attribution_params)
from costattr_pipeline.defs.ingest.focus.focus_charges import TABLES_SQL as LANDING_TABLES_SQL
from costattr_pipeline.lib.config import parse_settings
from costattr_pipeline.lib.errors import SourceError
from costattr_pipeline.lib.focus import detect_version, validate_exports
from costattr_pipeline.resources.warehouse import DuckDBSession, SnowflakeSession, WarehouseSession
from costattr_pipeline.runner import RunFailed, run_range
from costattr_pipeline.validation import validate_inputs
from costattr_pipeline_tests.builders import group, page, write_fetch
from costattr_pipeline_tests.conftest import dump_tables, query
from costattr_pipeline_tests.focus_builders import at, charge, write_focus_csv, write_focus_parquet

MAY1, MAY2, MAY3 = dt.date(2026, 5, 1), dt.date(2026, 5, 2), dt.date(2026, 5, 3)
FOCUS_ASSETS = ["metering/focus_charges", "metering/focus_cost_daily", "metering/daily_tenant_summary"]


def _settings(target, text: str) -> None:
    (target.config_dir / "settings.yaml").write_text("partitions_start: 2026-01-01\n" + text, encoding="utf-8")


def _summary(target) -> list[tuple]:
    return query(target, "SELECT CAST(cost_date AS VARCHAR), resource_type, tenant_id, module_id, cost_usd "
                         "FROM metering.daily_tenant_summary ORDER BY 1, 2, 3 NULLS FIRST, 4 NULLS FIRST")


def _run(target, assets=FOCUS_ASSETS, end=MAY3):
    return run_range(target, MAY1, end, selection=assets)


# --- versions -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("columns", "version"), [
    (["ChargeCategory", "BilledCost"], "1.0"),
    (["ChargeCategory", "ServiceSubcategory"], "1.1"),
    (["ChargeCategory", "SkuMeter", "InvoiceId"], "1.2"),
    (["ChargeCategory", "ProviderName", "ServiceProviderName", "HostProviderName"], "1.3"),
    (["ChargeType", "AmortizedCost"], "0.5"),
    (["chargecategory", "PRICINGCURRENCY"], "1.2"),   # names match case-insensitively
])
def test_the_columns_say_the_version(columns, version) -> None:
    assert detect_version(columns) == version


def test_a_declared_focus_version_wins_and_an_unknown_one_is_refused() -> None:
    assert detect_version(["ChargeCategory", "InvoiceId"], "1.1") == "1.1"
    assert detect_version(["ChargeCategory"], "1.2.0") == "1.2"
    with pytest.raises(ValueError, match="FocusVersion '9.9' is not a FOCUS version"):
        detect_version(["ChargeCategory"], "9.9")
    with pytest.raises(ValueError, match="not a FOCUS cost and usage dataset"):
        detect_version(["cost", "day"])


# --- bad input: one line naming the file, the row and the rule; nothing written ----------------------------


def _bad(target, rows, columns=None) -> str:
    write_focus_csv(target.source_dir / "focus" / "export.csv", rows, columns)
    with pytest.raises(SourceError) as raised:
        validate_exports(target.source_dir)
    message = str(raised.value)
    assert "\n" not in message
    return message


def test_a_missing_mandatory_column_of_the_version_is_named(target) -> None:
    row = charge("2026-05-01", "10")
    del row["ChargeClass"]
    assert _bad(target, [row]).startswith("focus/export.csv: missing column 'ChargeClass' (found: ")


def test_a_1_3_file_needs_service_provider_name_not_provider_name(target) -> None:
    row = {**charge("2026-05-01", "10"), "HostProviderName": "AWS"}
    del row["ProviderName"]
    assert "missing column 'ServiceProviderName'" in _bad(target, [row])


def test_a_bad_value_names_the_line_and_the_column(target) -> None:
    rows = [charge("2026-05-01", "10"), charge("2026-05-01", "1,5")]
    assert _bad(target, rows) == "focus/export.csv: line 3: column 'BilledCost': '1,5' is not a valid DECIMAL(38, 18)"


def test_a_bad_timestamp_and_an_empty_cost_are_refused(target) -> None:
    assert _bad(target, [charge("2026-05-01", "10", ChargePeriodStart="yesterday")]) == (
        "focus/export.csv: line 2: column 'ChargePeriodStart': 'yesterday' is not a valid TIMESTAMP")
    assert _bad(target, [charge("2026-05-01", "10", BilledCost="")]) == (
        "focus/export.csv: line 2: column 'BilledCost' is empty")


def test_a_billing_currency_must_be_an_iso_code(target) -> None:
    message = _bad(target, [charge("2026-05-01", "10"), charge("2026-05-01", "10", BillingCurrency="Euro")])
    assert message.startswith("focus/export.csv: line 3: column 'BillingCurrency' must be a 3-letter ISO 4217 code")
    assert "got 'Euro'" in message


def test_another_currency_is_converted_at_the_rate_of_its_day_in_the_summary_and_the_export(target) -> None:
    _settings(target, """\
fx_to_usd:
  - {currency: EUR, effective_from: 2026-05-01, effective_to: 2026-05-02, rate: 1.0812}
  - {currency: EUR, effective_from: 2026-05-02, effective_to: null, rate: 1.1043}
""")
    write_focus_csv(target.source_dir / "focus" / "eu.csv", [
        charge("2026-05-01", "10", {"tenant_id": "acme"}, provider="Microsoft", account="ea-1", BillingCurrency="EUR"),
        charge("2026-05-02", "10", {"tenant_id": "acme"}, provider="Microsoft", account="ea-1", BillingCurrency="EUR"),
    ])
    _run(target, [*FOCUS_ASSETS, "metering/focus_export"])
    assert _summary(target) == [("2026-05-01", "focus_microsoft", "acme", None, Decimal("10.812")),
                                ("2026-05-02", "focus_microsoft", "acme", None, Decimal("11.043"))]
    assert query(target, "SELECT currency, cost, fx_rate_to_usd, cost_usd FROM metering.focus_cost_daily "
                         "ORDER BY cost_date") == [
        ("EUR", Decimal("10"), Decimal("1.0812"), Decimal("10.812")),
        ("EUR", Decimal("10"), Decimal("1.1043"), Decimal("11.043"))]
    exported = query(target, "SELECT BillingCurrency, SUM(BilledCost), SUM(EffectiveCost) FROM metering.focus_export "
                             "WHERE ProviderName = 'Microsoft' GROUP BY 1")
    assert exported == [("USD", Decimal("21.855"), Decimal("21.855"))]


def test_another_currency_without_a_rate_stops_the_run_and_publishes_nothing(target) -> None:
    write_focus_csv(target.source_dir / "focus" / "eu.csv", [
        charge("2026-05-01", "10", {"tenant_id": "acme"}, provider="Microsoft", account="ea-1", BillingCurrency="EUR"),
    ])
    with pytest.raises(RunFailed, match="metering/focus_cost_daily: blocking check fx_rate_found: no USD rate for EUR "
                                        "on 2026-05-01"):
        _run(target)
    assert query(target, "SELECT COUNT(*) FROM metering.focus_cost_daily") == [(0,)]


def test_tags_must_be_a_json_object(target) -> None:
    message = _bad(target, [charge("2026-05-01", "10", Tags='["acme"]')])
    assert message.startswith("focus/export.csv: line 2: column 'Tags' must be a JSON object")
    assert _bad(target, [charge("2026-05-01", "10", Tags="tenant_id=acme")]) == (
        "focus/export.csv: line 2: column 'Tags': 'tenant_id=acme' is not a valid JSON")


def test_a_parquet_row_is_named_by_its_row(target) -> None:
    write_focus_parquet(target.source_dir / "focus" / "export.parquet",
                        [charge("2026-05-01", "10"), charge("2026-05-01", "x")])
    with pytest.raises(SourceError, match=r"^focus/export.parquet: row 2: column 'BilledCost': 'x' is not"):
        validate_exports(target.source_dir)


def test_a_bad_file_fails_the_run_and_changes_nothing(target) -> None:
    write_focus_csv(target.source_dir / "focus" / "a.csv", [charge("2026-05-01", "10", {"tenant_id": "acme"})])
    _run(target)
    before = dump_tables(target)
    write_focus_csv(target.source_dir / "focus" / "b.csv", [charge("2026-05-02", "5"), charge("2026-05-02", "?")])
    with pytest.raises(RunFailed, match=r"focus/b.csv: line 3: column 'BilledCost'"):
        _run(target)
    assert dump_tables(target) == before
    assert validate_inputs(target) == [
        "focus/b.csv: line 3: column 'BilledCost': '?' is not a valid DECIMAL(38, 18)"]


# --- landing: append-only by export, the latest export of a provider, account and period counts ------------


def test_the_same_export_lands_once_and_a_folder_of_parts_is_one_export(target) -> None:
    folder = target.source_dir / "focus" / "aws-export" / "BILLING_PERIOD=2026-05"
    write_focus_csv(folder / "part-1.csv", [charge("2026-05-01", "10", {"tenant_id": "acme"})])
    write_focus_parquet(folder / "part-2.parquet", [charge("2026-05-02", "4", {"tenant_id": "globex"})])
    _run(target)
    assert query(target, "SELECT export_name, COUNT(*), COUNT(DISTINCT source_file) FROM metering.focus_charges "
                         "GROUP BY 1") == [("aws-export/BILLING_PERIOD=2026-05", 2, 2)]
    before = dump_tables(target)
    _run(target)                                     # nothing new: identical warehouse
    assert dump_tables(target) == before
    (target.source_dir / "focus" / "copy.csv").write_bytes((folder / "part-1.csv").read_bytes())
    _run(target)                                     # other bytes name: a new export
    assert query(target, "SELECT COUNT(*) FROM metering.focus_charges") == [(3,)]


def test_a_later_export_of_the_same_provider_account_and_period_replaces_the_earlier(target) -> None:
    focus = target.source_dir / "focus"
    write_focus_csv(focus / "may-first.csv", [charge("2026-05-01", "10", {"tenant_id": "acme"}),
                                              charge("2026-05-02", "20", {"tenant_id": "acme"}),
                                              charge("2026-05-01", "7", {"tenant_id": "wayne"}, account="999")],
                    mtime=at("2026-05-03T06:00:00"))
    # Delivered later (its name sorts first: the delivery time decides, not the name).
    write_focus_csv(focus / "a-restated.csv", [charge("2026-05-01", "11", {"tenant_id": "acme"})],
                    mtime=at("2026-05-04T06:00:00"))
    _run(target)
    assert _summary(target) == [
        ("2026-05-01", "focus_aws", "acme", None, Decimal("11")),    # the restatement, account 1000...1
        ("2026-05-01", "focus_aws", "wayne", None, Decimal("7")),    # another billing account: kept
    ]
    # The landing keeps every row it loaded.
    assert query(target, "SELECT COUNT(*) FROM metering.focus_charges") == [(4,)]


# --- attribution -------------------------------------------------------------------------------------------


def test_tags_custom_columns_per_provider_keys_and_billed_cost(target) -> None:
    _settings(target, """\
focus:
  tenant_tag: tenant_id
  module_tag: module_id
  tenant_column: x_TenantId
  providers:
    Microsoft: {tenant_tag: Tenant, module_tag: Module, cost_column: BilledCost}
""")
    write_focus_csv(target.source_dir / "focus" / "aws.csv", [
        charge("2026-05-01", "10", {"tenant_id": "acme", "module_id": "risk-engine"}, x_TenantId=""),
        charge("2026-05-01", "3", {"tenant_id": "acme"}, x_TenantId="globex"),      # the column wins
        charge("2026-05-01", "2", {"team": "data"}, x_TenantId=""),                 # unattributed
    ])
    write_focus_csv(target.source_dir / "focus" / "azure.csv", [
        charge("2026-05-01", "8", {"Tenant": "wayne", "Module": "reporting"}, provider="Microsoft",
               account="ea-1", billed="9.5"),
    ])
    _run(target)
    assert _summary(target) == [
        ("2026-05-01", "focus_aws", None, None, Decimal("2")),
        ("2026-05-01", "focus_aws", "acme", "risk-engine", Decimal("10")),
        ("2026-05-01", "focus_aws", "globex", None, Decimal("3")),
        ("2026-05-01", "focus_microsoft", "wayne", "reporting", Decimal("9.5")),   # BilledCost for Microsoft
    ]
    assert query(target, "SELECT attribution_rule, COUNT(*) FROM metering.focus_cost_daily GROUP BY 1 ORDER BY 1") == [
        ("column", 1), ("tag", 2), ("unattributed", 1)]


def test_an_unattributed_share_over_the_threshold_warns_and_alerts_once_per_provider_and_day(target) -> None:
    write_focus_csv(target.source_dir / "focus" / "aws.csv", [
        charge("2026-05-01", "97", {"tenant_id": "acme"}), charge("2026-05-01", "3"),     # 3 % > 2 %
        charge("2026-05-02", "98", {"tenant_id": "acme"}), charge("2026-05-02", "2"),     # 2 %: not over
    ])
    summary = _run(target)
    assert ("metering/focus_cost_daily", "focus_unattributed_share_within_threshold", False, "WARN") in summary.checks
    assert query(target, "SELECT check_name, CAST(subject_date AS VARCHAR), "
                         "json_extract_string(payload, '$.unattributed_share') FROM metering.alerts") == [
        ("focus_unattributed_share_within_threshold:focus_aws", "2026-05-01", "0.030000000000")]
    _run(target)
    assert query(target, "SELECT COUNT(*) FROM metering.alerts") == [(1,)]


# --- the same money is never counted twice -------------------------------------------------------------------


def _cost_explorer_and_focus(target) -> None:
    write_fetch(target.source_dir, "fetch-2026-05-03.json", page({
        "2026-05-01": [group("acme", "EC2", "60"), group(None, "VPC", "1")],
        "2026-05-02": [group("acme", "EC2", "50")]}))
    # FOCUS holds the same AWS billing account for May 1 only (40 + 21 = the same 61 dollars, differently tagged).
    write_focus_csv(target.source_dir / "focus" / "aws.csv", [
        charge("2026-05-01", "40", {"tenant_id": "acme"}), charge("2026-05-01", "21", {"tenant_id": "globex"})])


ALL = ["metering/aws_cost_daily", *FOCUS_ASSETS]


def test_cost_explorer_counts_when_settings_say_so(target) -> None:
    _settings(target, "focus: {cost_explorer_overlap: {billing_account_ids: ['100000000001'], counted: cost_explorer}}\n")
    _cost_explorer_and_focus(target)
    _run(target, ALL)
    assert _summary(target) == [
        ("2026-05-01", "aws", None, None, Decimal("1")),
        ("2026-05-01", "aws", "acme", None, Decimal("60")),
        ("2026-05-02", "aws", "acme", None, Decimal("50")),
    ]
    assert query(target, "SELECT overlap, counted, SUM(cost_usd) FROM metering.focus_cost_daily GROUP BY 1, 2") == [
        ("cost_explorer_counted", False, Decimal("61"))]


def test_focus_counts_and_replaces_cost_explorer_on_the_days_it_holds(target) -> None:
    _settings(target, "focus: {cost_explorer_overlap: {billing_account_ids: ['100000000001'], counted: focus}}\n")
    _cost_explorer_and_focus(target)
    summary = _run(target, ALL)
    assert _summary(target) == [
        ("2026-05-01", "focus_aws", "acme", None, Decimal("40")),
        ("2026-05-01", "focus_aws", "globex", None, Decimal("21")),
        ("2026-05-02", "aws", "acme", None, Decimal("50")),            # a day FOCUS does not hold
    ]
    assert all(passed for asset, _, passed, severity in summary.checks if severity == "ERROR")


def test_both_counted_without_a_word_in_settings_fails_the_blocking_check(target) -> None:
    _cost_explorer_and_focus(target)
    with pytest.raises(RunFailed, match="not_counted_twice_with_cost_explorer"):
        _run(target, ALL)
    # The summary did not run: nothing counted the day twice.
    assert ("metering.daily_tenant_summary",) not in query(
        target, "SELECT table_schema || '.' || table_name FROM information_schema.tables")


def test_another_aws_organization_is_not_an_overlap(target) -> None:
    _settings(target, "focus: {cost_explorer_overlap: {billing_account_ids: ['555555555555']}}\n")
    _cost_explorer_and_focus(target)
    summary = _run(target, ALL)
    assert sum(row[4] for row in _summary(target) if row[0] == "2026-05-01") == Decimal("122")
    assert all(passed for _, _, passed, severity in summary.checks if severity == "ERROR")


# --- the attribution SQL on DuckDB and on Snowflake (fakesnow) ------------------------------------------------

LANDED = """
INSERT INTO metering.focus_charges (cost_date, provider, resource_type, focus_version, charge_period_start,
    charge_period_end, billing_period_start, billing_period_end, billing_account_id, charge_category, billed_cost,
    effective_cost, billing_currency, tags, custom_columns, source_file, source_row, export_name, exported_at,
    load_id, loaded_at) VALUES
 (CAST('2026-05-01' AS DATE), 'AWS', 'focus_aws', '1.2', CAST('2026-05-01 00:00:00' AS TIMESTAMP),
  CAST('2026-05-02 00:00:00' AS TIMESTAMP), CAST('2026-05-01 00:00:00' AS TIMESTAMP),
  CAST('2026-06-01 00:00:00' AS TIMESTAMP), '1', 'Usage', 0.1, 0.2, 'USD', '{"tenant_id": "acme", "module-id": "m"}',
  NULL, 'focus/a.csv', 2, 'a.csv', CAST('2026-05-02 00:00:00' AS TIMESTAMP), 'l1', CAST('2026-05-02 00:00:00' AS TIMESTAMP)),
 (CAST('2026-05-01' AS DATE), 'AWS', 'focus_aws', '1.2', CAST('2026-05-01 00:00:00' AS TIMESTAMP),
  CAST('2026-05-02 00:00:00' AS TIMESTAMP), CAST('2026-05-01 00:00:00' AS TIMESTAMP),
  CAST('2026-06-01 00:00:00' AS TIMESTAMP), '1', 'Usage', 0.3, 0.4, 'EUR', '{"tenant_id": "acme"}',
  '{"x_tenantid": "globex"}', 'focus/a.csv', 3, 'a.csv', CAST('2026-05-02 00:00:00' AS TIMESTAMP), 'l1',
  CAST('2026-05-02 00:00:00' AS TIMESTAMP)),
 (CAST('2026-05-01' AS DATE), 'AWS', 'focus_aws', '1.2', CAST('2026-05-01 00:00:00' AS TIMESTAMP),
  CAST('2026-05-02 00:00:00' AS TIMESTAMP), CAST('2026-05-01 00:00:00' AS TIMESTAMP),
  CAST('2026-06-01 00:00:00' AS TIMESTAMP), '1', 'Usage', 5, 5, 'USD', NULL, NULL, 'focus/old.csv', 2, 'old.csv',
  CAST('2026-05-01 00:00:00' AS TIMESTAMP), 'l0', CAST('2026-05-01 00:00:00' AS TIMESTAMP))
"""


def _attribute(session: WarehouseSession) -> list[tuple]:
    session.execute(LANDING_TABLES_SQL)
    session.execute(TABLES_SQL)
    session.execute(LANDED)
    settings = parse_settings({"focus": {"module_tag": "module-id", "tenant_column": "x_TenantId",
                                         "cost_column": "BilledCost"},
                               "fx_to_usd": [{"currency": "EUR", "effective_from": MAY1, "effective_to": None,
                                              "rate": "1.1043"}]})
    fx_rates.load_fx_rates(session, settings)
    session.execute(ATTRIBUTION_SQL, {"start_date": MAY1, "end_date": MAY2,
                                      **_attribution_params(settings.focus, "AWS")}, fx_rates.RELATIONS)
    return [(row["tenant_id"], row["module_id"], row["attribution_rule"], Decimal(str(row["cost_usd"])).normalize(),
             bool(row["counted"])) for row in session.rows(
        "SELECT tenant_id, module_id, attribution_rule, cost_usd, counted FROM metering.focus_cost_daily "
        "ORDER BY source_row")]


# The second charge is in EUR: 0.3 EUR at 1.1043 USD.
EXPECTED = [("acme", "m", "tag", Decimal("0.1"), True), ("globex", None, "column", Decimal("0.33129"), True)]


def test_attribution_sql_on_duckdb() -> None:
    assert _attribute(DuckDBSession(duckdb.connect())) == EXPECTED


def test_attribution_sql_on_snowflake_dialect(fakesnow_connection) -> None:
    assert _attribute(SnowflakeSession(fakesnow_connection)) == EXPECTED


def test_a_focus_alert_says_which_provider_on_every_channel() -> None:
    from costattr_pipeline.lib.alert_messages import eventbridge_detail, slack_text

    payload = {"alert_id": "a1", "check_name": "focus_unattributed_share_within_threshold:focus_aws",
               "cost_date": "2026-05-01", "resource_type": "focus_aws", "total_cost_usd": "100",
               "unattributed_cost_usd": "3", "unattributed_share": "0.03", "threshold": "0.02"}
    detail = eventbridge_detail(payload, "t1", dt.datetime(2026, 5, 2, tzinfo=dt.timezone.utc))
    assert detail["resource_type"] == "focus_aws" and detail["total_cost_usd"] == "100"
    assert "total_aws_cost_usd" not in detail
    assert slack_text(payload, "http://ui") == (
        ":rotating_light: Unattributed focus_aws (FOCUS) cost on 2026-05-01 is 3.00 % of $100.00 (threshold 2.00 %): "
        "$3.00 has no tenant tag. <http://ui/assets/metering/focus_cost_daily|Open in Dagster>")
