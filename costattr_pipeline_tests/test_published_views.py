"""The published views (spec ADR-046 §3): METERING.V_* on both engines, created by the asset that owns each
table, showing what the table publishes; costattr's own readers outside the owner read the views."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from costattr_pipeline.defs.attribution.snowflake_credits.credit_sql import TABLES_SQL as CREDIT_TABLES_SQL
from costattr_pipeline.defs.attribution.tenant_summary.daily_tenant_summary import TABLES_SQL as SUMMARY_TABLES_SQL
from costattr_pipeline.defs.attribution.unattributed.unattributed_costs import TABLES_SQL, UNATTRIBUTED_SQL
from costattr_pipeline.defs.billing.billing_period_summary import TABLES_SQL as BILLING_TABLES_SQL
from costattr_pipeline.defs.billing.config_tables import record_config
from costattr_pipeline.defs.billing.unit_economics import TABLES_SQL as ECONOMICS_TABLES_SQL
from costattr_pipeline.defs.ingest.cost_explorer.aws_cost_daily import TABLES_SQL as LANDING_TABLES_SQL
from costattr_pipeline.lib.billing_config import parse_billing_config
from costattr_pipeline.lib.yaml_loading import parse_yaml
from costattr_pipeline.resources.warehouse import DuckDBSession, SnowflakeSession, WarehouseSession
from costattr_pipeline_tests.test_billing_assets import RATE_CARD, TENANTS
from costattr_pipeline_tests.test_sql_engines import LANDED, THRESHOLD_ROWS

PACKAGE = Path(__file__).parent.parent / "costattr_pipeline"
# Each published view, the table it publishes, and the folder of the asset that owns both.
PUBLISHED = {
    "v_aws_cost_daily": ("aws_cost_daily", "defs/ingest/cost_explorer"),
    "v_snowflake_credit_daily": ("snowflake_credit_daily", "defs/attribution/snowflake_credits"),
    "v_cost_rates": ("rate_card_versions", "defs/billing"),
    "v_daily_tenant_summary": ("daily_tenant_summary", "defs/attribution/tenant_summary"),
    "v_billing_period_summary": ("billing_period_summary", "defs/billing"),
    "v_unit_economics": ("unit_economics", "defs/billing"),
    "v_unattributed_costs": ("unattributed_costs", "defs/attribution/unattributed"),
}
OWNERS_TABLES = (LANDING_TABLES_SQL, CREDIT_TABLES_SQL, TABLES_SQL, SUMMARY_TABLES_SQL, BILLING_TABLES_SQL,
                 ECONOMICS_TABLES_SQL)


def _config(rate_card: str, content_hash: str):
    return parse_billing_config(parse_yaml(rate_card.encode(), "rate_card.yaml"), parse_yaml(TENANTS.encode(),
                                                                                            "tenants.yaml"),
                                content_hash=content_hash)


def _published(session: WarehouseSession) -> dict[str, list[dict]]:
    for text in OWNERS_TABLES:
        session.execute(text)
    session.execute(THRESHOLD_ROWS)
    session.execute(LANDED)
    session.execute(UNATTRIBUTED_SQL, {"start_date": dt.date(2026, 3, 1), "end_date": dt.date(2026, 3, 3)})
    record_config(session, _config(RATE_CARD, "first"), dt.datetime(2026, 3, 1, 6))
    # A later rate_card.yaml: the view shows the current content only; config.* keeps both.
    record_config(session, _config(RATE_CARD.replace("standard: 280.00", "standard: 300.00"), "second"),
                  dt.datetime(2026, 3, 2, 6))
    kinds = session.relations_in("metering")
    return {
        "kinds": [{"view": view, "kind": kinds.get(view)} for view in PUBLISHED],
        "aws": session.rows("SELECT cost_date, tenant_id, service, amount_usd, load_id FROM metering.v_aws_cost_daily "
                            "ORDER BY cost_date, load_id, service"),
        "unattributed": session.rows("SELECT cost_date, unattributed_cost_usd, exceeds_threshold "
                                     "FROM metering.v_unattributed_costs ORDER BY cost_date"),
        "levies": session.rows("SELECT rate_card_version, applies_to, amount, config_hash FROM metering.v_cost_rates "
                               "WHERE component = 'customer_levy' ORDER BY rate_card_version, applies_to"),
        "bands": session.rows("SELECT applies_to, tier_number, lower_bound, up_to, amount FROM metering.v_cost_rates "
                              "WHERE component = 'variable' AND rate_card_version = '2026.1' ORDER BY tier_number"),
        "loads": session.rows("SELECT COUNT(DISTINCT config_hash) AS contents FROM config.rate_card_versions"),
    }


def _plain(rows: list[dict]) -> list[tuple]:
    return [tuple(Decimal(str(value)).normalize() if isinstance(value, (Decimal, float)) else value
                  for value in row.values()) for row in rows]


def _check(published: dict[str, list[dict]]) -> None:
    assert all(row["kind"] == "VIEW" for row in published["kinds"]), published["kinds"]
    # 2026-03-02 was restated by b.json (load l2): only its rows are published.
    assert _plain(published["aws"]) == [
        (dt.date(2026, 3, 1), "acme", "EC2", Decimal("14.7"), "l1"), (dt.date(2026, 3, 1), None, "S3", Decimal("0.2"), "l1"),
        (dt.date(2026, 3, 1), None, "VPC", Decimal("0.1"), "l1"),
        (dt.date(2026, 3, 2), "acme", "EC2", Decimal("9.9"), "l2"), (dt.date(2026, 3, 2), None, "VPC", Decimal("0.1"), "l2")]
    assert [(row[0], row[1], bool(row[2])) for row in _plain(published["unattributed"])] == [
        (dt.date(2026, 3, 1), Decimal("0.3"), False), (dt.date(2026, 3, 2), Decimal("0.1"), False)]
    assert _plain(published["levies"]) == [
        ("2026.1", "premium", Decimal("560"), "second"), ("2026.1", "standard", Decimal("300"), "second"),
        ("2026.2", "premium", Decimal("9999"), "second"), ("2026.2", "standard", Decimal("999"), "second")]
    assert _plain(published["bands"]) == [
        ("api_calls", 1, Decimal("0"), Decimal("1000"), Decimal("0.1")),
        ("api_calls", 2, Decimal("1000"), Decimal("2000"), Decimal("0.05")),
        ("api_calls", 3, Decimal("2000"), None, Decimal("0.01"))]
    assert published["loads"] == [{"contents": 2}]


def test_published_views_on_duckdb() -> None:
    _check(_published(DuckDBSession(duckdb.connect())))


def test_published_views_on_snowflake_dialect(fakesnow_connection) -> None:
    _check(_published(SnowflakeSession(fakesnow_connection)))


@pytest.mark.parametrize("view", sorted(PUBLISHED))
def test_only_the_owner_reads_a_published_table(view: str) -> None:
    """Every .sql file that reads ``metering.<table>`` of a published view lives beside the asset that owns it."""
    table, owner = PUBLISHED[view]
    readers = [path.relative_to(PACKAGE).as_posix() for path in PACKAGE.glob("defs/**/*.sql")
               if re.search(rf"\bmetering\.{table}\b", path.read_text(encoding="utf-8"), re.IGNORECASE)
               and not path.parent.relative_to(PACKAGE).as_posix().startswith(owner)]
    assert readers == []
