"""The versioned-table description (lib/versioned_tables.py) matches the tables it versions."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costattr_pipeline.defs.attribution.snowflake_credits import credit_sql
from costattr_pipeline.defs.ingest.usage import external_api_costs
from costattr_pipeline.lib.sql import declared_columns
from costattr_pipeline.lib.versioned_tables import VersionedTable
from costattr_pipeline.resources.warehouse import DuckDBSession

VERSION_COLUMNS = ["computation_id", "computed_at", "config_hash", "source_load_ids"]
DESCRIBED = [(credit_sql.CREDIT_DAILY_VERSIONS, credit_sql.TABLES_SQL),
             (external_api_costs.EXTERNAL_API_COSTS_VERSIONS, external_api_costs.TABLES_SQL)]


@pytest.mark.parametrize(("versions", "tables_sql"), DESCRIBED, ids=lambda value: getattr(value, "table", ""))
def test_a_description_names_its_tables_columns_in_their_order(versions: VersionedTable, tables_sql: str) -> None:
    tables = {name: [column.name for column in columns] for name, columns in declared_columns(tables_sql).items()}
    assert tables[versions.table] == [*versions.figures, *VERSION_COLUMNS]
    assert tables[versions.register] == ["cost_date", "computation_id", "computed_at", "config_hash",
                                         "source_load_ids", "row_count"]
    assert versions.staging in tables


def test_a_description_refuses_what_is_not_a_versioned_day_or_a_plain_name() -> None:
    with pytest.raises(ValueError, match="first figure is cost_date"):
        VersionedTable("metering.t", ("tenant_id", "cost_date"), "metering.t_staging")
    with pytest.raises(ValueError, match="not a plain lower-case SQL name"):
        VersionedTable("metering.t", ("cost_date", "x; DROP TABLE y"), "metering.t_staging")


ROWS = st.lists(st.tuples(st.integers(0, 3), st.one_of(st.none(), st.sampled_from("ab")),
                          st.sampled_from([Decimal("1.5"), Decimal("2"), Decimal("-0.000001")])), max_size=12)


@settings(max_examples=60, deadline=None)
@given(current=ROWS, staged=ROWS, earlier=ROWS)
def test_the_days_appended_are_exactly_those_whose_rows_changed_as_multisets(current, staged, earlier) -> None:
    """A day is appended when its staged rows differ from its current rows as multisets (a copy more, a row
    less, NULL tenants, the same size with other values), and only then; the view then shows the staged rows."""
    versions = VersionedTable("metering.t", ("cost_date", "tenant_id", "amount"), "metering.t_staged")
    connection = duckdb.connect()
    session = DuckDBSession(connection)
    session.execute("""
        CREATE SCHEMA metering;
        CREATE TABLE metering.t (cost_date DATE NOT NULL, tenant_id VARCHAR, amount DECIMAL(38, 6),
                                 computation_id VARCHAR, computed_at TIMESTAMP, config_hash VARCHAR,
                                 source_load_ids VARCHAR);
        CREATE TABLE metering.t_staged (cost_date DATE NOT NULL, tenant_id VARCHAR, amount DECIMAL(38, 6));""")
    session.execute(versions.tables_sql())
    start, end = dt.date(2026, 3, 1), dt.date(2026, 3, 5)

    def append(rows: list[tuple], computation: str, hour: int) -> None:
        for offset, tenant, amount in rows:
            session.execute("INSERT INTO metering.t_staged VALUES (:day, :tenant, :amount)",
                            {"day": start + dt.timedelta(days=offset), "tenant": tenant, "amount": amount})
        session.execute(versions.append_sql(), {
            "start_date": start, "end_date": end, "computation_id": computation,
            "computed_at": dt.datetime(2026, 3, 6, hour), "config_hash": "h", "source_load_ids": "s"})

    append(earlier, "run-0", 1)  # an older version, replaced by the current one where they differ
    append(current, "run-1", 2)
    append(staged, "run-2", 3)

    def by_day(rows: list[tuple]) -> dict[int, Counter]:
        days: dict[int, Counter] = {}
        for offset, tenant, amount in rows:
            days.setdefault(offset, Counter())[(tenant, amount)] += 1
        return days

    was, now = by_day(current), by_day(staged)
    changed = {offset for offset in range(4) if was.get(offset, Counter()) != now.get(offset, Counter())}
    registered = session.rows("SELECT cost_date, row_count FROM metering.t_computations "
                              "WHERE computation_id = 'run-2' ORDER BY cost_date")
    assert [(row["cost_date"] - start).days for row in registered] == sorted(changed)
    assert all(row["row_count"] == sum(now.get((row["cost_date"] - start).days, Counter()).values())
               for row in registered)
    shown = session.rows("SELECT cost_date, tenant_id, amount FROM metering.v_t")
    assert Counter(((row["cost_date"] - start).days, row["tenant_id"], row["amount"]) for row in shown) == Counter(
        staged)
    connection.close()
