"""SQL text: one source, two engines.

Every transformation is written once, in the subset of SQL that DuckDB and
Snowflake share, in a ``.sql`` file beside the asset that runs it. Named
parameters (``:start_date``) are bound as typed literals by :func:`render`;
for Snowflake the text is transpiled with sqlglot, which smooths the few
spelling differences (``TIMESTAMP`` vs ``TIMESTAMP_NTZ``, casts) that remain.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import sqlglot

SOURCE_DIALECT = "duckdb"
_PARAMETER = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)\b")


def literal(value: object) -> str:
    """A SQL literal for a parameter value (dates, numbers, text, booleans, NULL)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return f"CAST('{value.isoformat(sep=' ')}' AS TIMESTAMP)"
    if isinstance(value, dt.date):
        return f"CAST('{value.isoformat()}' AS DATE)"
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"cannot bind {type(value).__name__} as a SQL literal")


def render(text: str, params: Mapping[str, object] | None = None) -> str:
    """Bind ``:name`` parameters; an unbound name is an error, not a silent NULL."""
    params = params or {}

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in params:
            raise KeyError(f"SQL parameter :{name} is not bound")
        return literal(params[name])

    return _PARAMETER.sub(substitute, _strip_comments(text))


def _strip_comments(text: str) -> str:
    # Comments may contain words like ":name" or quotes; drop them before binding.
    return "\n".join(line.split("--", 1)[0] if "--" in line and "'" not in line.split("--", 1)[0] else line
                     for line in text.splitlines())


@functools.lru_cache(maxsize=512)
def statements(text: str, dialect: str) -> tuple[str, ...]:
    """Split rendered SQL into statements written for ``dialect``."""
    if dialect == SOURCE_DIALECT:
        parsed = sqlglot.parse(text, read=SOURCE_DIALECT)
        return tuple(statement.sql(dialect=SOURCE_DIALECT) for statement in parsed if statement is not None)
    return tuple(sqlglot.transpile(text, read=SOURCE_DIALECT, write=dialect))


@functools.lru_cache(maxsize=256)
def read_sql(path: Path) -> str:
    return Path(path).read_text(encoding="utf-8")


def sql_file(anchor: str, name: str) -> str:
    """The text of ``name`` in the folder of the module ``anchor`` (pass ``__file__``)."""
    return read_sql(Path(anchor).parent / name)
