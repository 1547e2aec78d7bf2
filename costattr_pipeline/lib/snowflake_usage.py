"""Snowflake ACCOUNT_USAGE exports (contract 2.2) and the query-tag grammar.

Pure code: the column specs of the three exports, their validation (types,
non-negative credits, duplicate keys) and the query-tag rule shared by the SQL
and its Python reference. The SQL runs the same regular expressions on DuckDB
and Snowflake; :func:`query_tag_tenant` applies them in Python so property
tests can compare both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from costattr_pipeline.lib.errors import ConfigError
from costattr_pipeline.lib.source_files import Column, Rule, UniqueKey, find_table_file, stage_table_file

SOURCE_FOLDER = "snowflake"
TOP_RECURRING_QUERIES = 100  # the recurring-query report keeps the month's most expensive hashes
CREDITS = "DECIMAL(38, 12)"


@dataclass(frozen=True)
class UsageView:
    """One ACCOUNT_USAGE view: its export columns and the keys that must be unique."""

    name: str
    columns: tuple[Column, ...]
    unique_key: tuple[str, ...]
    non_negative: tuple[str, ...]

    @property
    def relation(self) -> str:
        """The name the SQL reads the view by (``account_usage.<view>``), bound to where it lives at run time."""
        return f"account_usage.{self.name}"

    @property
    def has_start_time(self) -> bool:
        """Whether rows carry START_TIME: such a view is landed per run window, the others whole."""
        return any(column.name == "START_TIME" for column in self.columns)


# Every column of the contract's list is required: a column missing from an export, unlike an empty value,
# would change results without a word (no WAREHOUSE_ID: tags by id lost; no QUERY_HASH: no recurring queries).
WAREHOUSE_METERING_HISTORY = UsageView(
    "warehouse_metering_history",
    (
        Column("START_TIME", "TIMESTAMP", nullable=False),
        Column("END_TIME", "TIMESTAMP"),
        Column("WAREHOUSE_ID", "BIGINT"),
        Column("WAREHOUSE_NAME", nullable=False),
        Column("CREDITS_USED", CREDITS),
        Column("CREDITS_USED_COMPUTE", CREDITS, nullable=False),
        Column("CREDITS_USED_CLOUD_SERVICES", CREDITS),
    ),
    unique_key=("warehouse_name", "start_time"),
    non_negative=("credits_used_compute",),
)
QUERY_ATTRIBUTION_HISTORY = UsageView(
    "query_attribution_history",
    (
        Column("QUERY_ID", nullable=False),
        Column("PARENT_QUERY_ID"),
        Column("ROOT_QUERY_ID"),
        Column("WAREHOUSE_ID", "BIGINT"),
        Column("WAREHOUSE_NAME", nullable=False),
        Column("QUERY_HASH"),
        Column("QUERY_PARAMETERIZED_HASH"),
        Column("QUERY_TAG"),
        Column("USER_NAME"),
        Column("START_TIME", "TIMESTAMP", nullable=False),
        Column("END_TIME", "TIMESTAMP"),
        Column("CREDITS_ATTRIBUTED_COMPUTE", CREDITS, nullable=False),
        Column("CREDITS_USED_QUERY_ACCELERATION", CREDITS),
    ),
    unique_key=("query_id",),
    non_negative=("credits_attributed_compute",),
)
TAG_REFERENCES = UsageView(
    "tag_references",
    (
        Column("TAG_DATABASE"),
        Column("TAG_SCHEMA"),
        Column("TAG_NAME", nullable=False),
        Column("TAG_VALUE"),
        Column("OBJECT_DATABASE"),
        Column("OBJECT_SCHEMA"),
        Column("OBJECT_ID", "BIGINT"),
        Column("OBJECT_NAME", nullable=False),
        Column("DOMAIN", nullable=False),
        Column("COLUMN_NAME"),
        Column("OBJECT_DELETED", "TIMESTAMP"),
    ),
    unique_key=(),
    non_negative=(),
)
USAGE_VIEWS = (WAREHOUSE_METERING_HISTORY, QUERY_ATTRIBUTION_HISTORY, TAG_REFERENCES)


def stage_usage_export(engine: duckdb.DuckDBPyConnection, folder: Path, view: UsageView, into: str,
                       window: tuple[object, object] | None = None) -> str | None:
    """Validate ``<folder>/<view>.csv|parquet`` into the temp view ``into`` of ``engine``; None when absent.

    Beyond types: credits must not be negative, and the view's key must be unique (an export
    that holds a query twice would count its credits twice). ``window`` (SQL literals of a
    half-open START_TIME range) keeps the rows a run covers, for the views that have START_TIME.
    Returns the ``SELECT`` of the whole export's typed columns, straight from the file.
    """
    path = find_table_file(folder, view.name)
    if path is None:
        return None
    names = ", ".join(name.upper() for name in view.unique_key)
    return stage_table_file(
        engine, path, view.columns, into, display_name=f"{SOURCE_FOLDER}/{path.name}",
        window=("START_TIME", *window) if window and view.has_start_time else None,
        rules=[Rule(f"{column} < 0", f"column {column.upper()!r} must not be negative") for column in view.non_negative],
        unique_key=UniqueKey(view.unique_key, f"duplicate ({names}): already on an earlier row") if view.unique_key else None)


def check_usage_export(folder: Path, view: UsageView, window: tuple[object, object] | None = None) -> bool:
    """Validate an export (the rows of ``window`` by START_TIME, or all) in a throwaway DuckDB; False when absent."""
    engine = duckdb.connect()
    try:
        return stage_usage_export(engine, folder, view, "staged", window) is not None
    finally:
        engine.close()


def read_usage_export(folder: Path, view: UsageView) -> pa.Table | None:
    """The whole validated export as Arrow; None when absent."""
    engine = duckdb.connect()
    try:
        if stage_usage_export(engine, folder, view, "staged") is None:
            return None
        return engine.sql("SELECT * EXCLUDE (source_row) FROM staged ORDER BY source_row").to_arrow_table()
    finally:
        engine.close()


# --- Query tags -----------------------------------------------------------------------------------
# A query's tenant is the value of the tenant key in its QUERY_TAG: either `KEY=value` pairs separated by
# `;` or `,`, or a JSON object whose key maps to a string. Keys are matched case-insensitively; the value is
# kept as written (surrounding spaces trimmed); an empty value counts as no tag. The patterns use only
# POSIX classes, alternation and capture groups, which DuckDB (RE2), Snowflake (POSIX ERE) and Python agree on.

_KEY_CHARACTERS = re.compile(r"^[A-Za-z0-9_$]+$")


def _case_insensitive(key: str) -> str:
    if not _KEY_CHARACTERS.match(key):
        raise ConfigError("settings.yaml", "snowflake.tenant_tag",
                          f"tag name {key!r} may only hold letters, digits, '_' and '$'")
    return "".join(f"[{char.lower()}{char.upper()}]" if char.isalpha() else f"[{char}]" for char in key)


def pair_tag_pattern(key: str) -> str:
    """Regex whose group 2 is the value of ``key`` in a ``K=v;K=v`` or ``K=v,K=v`` tag."""
    return f"(^|[;,])[ \t]*{_case_insensitive(key)}[ \t]*=[ \t]*([^;,]*)"


def json_tag_pattern(key: str) -> str:
    """Regex whose group 1 is the string value of ``key`` in a JSON object tag."""
    return f'"{_case_insensitive(key)}"[ \t]*:[ \t]*"([^"]*)"'


def is_json_tag(tag: str) -> bool:
    return tag.lstrip(" ").startswith("{")


def query_tag_tenant(tag: str | None, key: str) -> str | None:
    """The tenant a QUERY_TAG names, or None (Python reference of the SQL rule).

    The first occurrence of the key wins. JSON is matched as text: a nested object that
    holds the key also matches, and a non-string value does not.
    """
    if tag is None:
        return None
    if is_json_tag(tag):
        match = re.search(json_tag_pattern(key), tag)
        value = match.group(1) if match else None
    else:
        match = re.search(pair_tag_pattern(key), tag)
        value = match.group(2) if match else None
    value = value.strip(" ") if value is not None else None
    return value or None
