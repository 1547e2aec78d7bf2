"""SQL text: written once, bound one way, run on DuckDB and Snowflake.

Every statement lives in a ``.sql`` file beside the code that runs it, in the SQL that DuckDB and
Snowflake share. It names its values as ``:placeholders`` and its inputs as plain relation names;
:func:`bind` is the one way to fill both in:

- ``params`` gives each placeholder a value, turned into a typed SQL literal (a date becomes
  ``CAST('2026-01-01' AS DATE)``, text is quoted, a list becomes an array). A placeholder left
  unbound is an error, never a silent NULL; a binary float is refused (money is exact).
- ``relations`` replaces a relation the text names by another relation (``account_usage.tag_references``
  -> ``landing.snowflake_tag_references`` locally, ``SNOWFLAKE.ACCOUNT_USAGE.TAG_REFERENCES`` in
  production) or by a query, which becomes an aliased subquery (a shared SQL piece, or a union
  built at run time).

The text is parsed by sqlglot into a syntax tree once, and the substitutions are made on the
tree, so a value can never change the statement's shape. The bound tree is then written for
the engine's dialect (DuckDB as written, Snowflake transpiled), which smooths the few spelling
differences between the two.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import sqlglot
from sqlglot import exp

SOURCE_DIALECT = "duckdb"
_RELATION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}$")
Params = Mapping[str, object] | None
Relations = Mapping[str, str] | None


def sql_file(anchor: str, name: str) -> str:
    """The text of ``name`` in the folder of the module ``anchor`` (pass ``__file__``)."""
    return _read(Path(anchor).parent / name)


@functools.lru_cache(maxsize=512)
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def bind(text: str, params: Params = None, relations: Relations = None, *, dialect: str = SOURCE_DIALECT,
         read: str = SOURCE_DIALECT) -> tuple[str, ...]:
    """The statements of ``text`` with ``params`` and ``relations`` bound, written for ``dialect``."""
    return _bind(text, _key(params), _key(relations), dialect, read)


def bind_script(text: str, params: Params = None, relations: Relations = None, *,
                dialect: str = SOURCE_DIALECT, read: str = SOURCE_DIALECT) -> str:
    """:func:`bind` as one script (statements separated by ``;``), for engines that run a script at once."""
    return ";\n".join(bind(text, params, relations, dialect=dialect, read=read))


def _key(values: Mapping[str, object] | None) -> tuple[tuple[str, object], ...]:
    # Bound results are cached: a run binds the same statement with the same window many times.
    return tuple(sorted(((name, tuple(value) if isinstance(value, list) else value)
                         for name, value in (values or {}).items()), key=lambda item: item[0]))


@functools.lru_cache(maxsize=256)
def _parsed(text: str, read: str) -> tuple[exp.Expression, ...]:
    return tuple(statement for statement in sqlglot.parse(text, read=read) if statement is not None)


@functools.lru_cache(maxsize=2048)
def _bind(text: str, params: tuple[tuple[str, object], ...], relations: tuple[tuple[str, str], ...],
          dialect: str, read: str) -> tuple[str, ...]:
    values = dict(params)
    replacements = {_normal(name): replacement for name, replacement in relations}
    bound = []
    for statement in _parsed(text, read):
        tree = statement.copy()
        if replacements:
            tree = tree.transform(_relation_replacer(replacements, read))
        tree = tree.transform(_placeholder_replacer(values))
        text_in_source = tree.sql(dialect=read)
        if dialect == read:
            bound.append(text_in_source)
        else:
            # Read again before writing for another engine: a bound value that the dialects spell
            # differently (a JSON path such as '$."tag"') is only recognized when parsed.
            bound.extend(sqlglot.transpile(text_in_source, read=read, write=dialect))
    return tuple(bound)


def _normal(name: str) -> str:
    return name.strip().lower()


def _relation_replacer(replacements: Mapping[str, str], read: str):
    def replace(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.Table) or not node.name:
            return node
        name = ".".join(part.name for part in node.parts).lower()
        if name not in replacements:
            return node
        replacement = replacements[name].strip()
        alias = node.alias or node.name
        if not _RELATION_NAME.match(replacement):  # a query: an aliased subquery in the relation's place
            inner = {other: text for other, text in replacements.items() if other != name}
            query = _parsed(replacement, read)[0].copy().transform(_relation_replacer(inner, read))
            return exp.Subquery(this=query, alias=exp.TableAlias(this=exp.to_identifier(alias)))
        table = exp.to_table(replacement, dialect=read)
        return table.as_(alias) if node.alias else table
    return replace


def _placeholder_replacer(values: Mapping[str, object]):
    def replace(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.Placeholder) or not node.name:
            return node
        if node.name not in values:
            raise KeyError(f"SQL parameter :{node.name} is not bound")
        return literal(values[node.name])
    return replace


def literal(value: object) -> exp.Expression:
    """A typed SQL literal for a parameter value: text, exact numbers, dates, timestamps, booleans, NULL, lists."""
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, dt.datetime):
        text = value.astimezone(dt.timezone.utc).replace(tzinfo=None) if value.tzinfo else value
        return exp.cast(exp.Literal.string(text.isoformat(sep=" ")), "TIMESTAMP")
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    if isinstance(value, (int, Decimal)):
        return exp.Literal.number(format(value, "f") if isinstance(value, Decimal) else str(value))
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, (list, tuple)):
        return exp.Array(expressions=[literal(item) for item in value])
    raise TypeError(f"cannot bind {type(value).__name__} as a SQL parameter (money and shares are Decimal)")


def union_all(queries: Iterable[str]) -> str:
    """The queries as one ``UNION ALL`` (each wrapped as a subquery), for a relation built at run time."""
    return "\nUNION ALL\n".join(f"SELECT * FROM ({query.strip().rstrip(';')}) AS part_{index}"
                                for index, query in enumerate(queries))


@dataclass(frozen=True)
class DeclaredColumn:
    """A column as a ``CREATE TABLE`` declares it; ``description`` is the ``--`` comment on its line."""

    name: str
    type: str
    nullable: bool
    description: str | None


def declared_columns(text: str) -> dict[str, tuple[DeclaredColumn, ...]]:
    """The columns of every table the script creates, by lower-case table name.

    The ``-- comments`` on column lines are the one place a column's meaning and unit are written:
    readers of the SQL and of the UI's column schema read the same words.
    """
    return dict(_declared_columns(text))


# sqlglot writes DuckDB's VARCHAR and INTEGER under their aliases; show them as the files spell them.
_TYPE_NAMES = {"TEXT": "VARCHAR", "INT": "INTEGER"}


@functools.lru_cache(maxsize=128)
def _declared_columns(text: str) -> tuple[tuple[str, tuple[DeclaredColumn, ...]], ...]:
    tables = []
    for statement in _parsed(text, SOURCE_DIALECT):
        if not (isinstance(statement, exp.Create) and statement.kind == "TABLE"
                and isinstance(statement.this, exp.Schema)):
            continue
        columns = []
        for column in statement.this.expressions:
            if not isinstance(column, exp.ColumnDef):
                continue
            # sqlglot attaches a line's comment to the column or to its last constraint.
            comments = [comment.strip() for node in column.walk() for comment in (node.comments or [])]
            nullable = not any(isinstance(constraint.args.get("kind"), exp.NotNullColumnConstraint)
                               for constraint in column.constraints)
            declared = column.args["kind"].sql()
            columns.append(DeclaredColumn(column.name, _TYPE_NAMES.get(declared, declared), nullable,
                                          " ".join(comments) or None))
        tables.append((statement.this.this.sql().lower(), tuple(columns)))
    return tuple(tables)
