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

Parsing and writing a statement costs milliseconds, and a run binds about 300 of them, the same
ones every run: what binding writes is kept in the user's cache folder (``$XDG_CACHE_HOME/costattr/sql``,
one file per statement, named by a hash of everything the result depends on, sqlglot's version among
it), so a later process reads it instead (see :func:`_stored`). Only what is a function of its key is
kept. For the engine's own dialect that is a *template*: the statement written with a marker where
each placeholder's literal goes, filled in with the values of the day by writing each value as a
literal; it is kept only when, filled with the values it was made with, it equals the statement bound
the ordinary way (otherwise that statement is bound the ordinary way every time, and the result kept
for exactly those values). A statement transpiled for another dialect is kept for exactly its values
(a value can change how the statement is transpiled).

The folder is bounded, least recently used first: reading a file refreshes its modification time,
and once per process, on its first store, a folder holding more than ``COSTATTR_SQL_CACHE_MAX_FILES``
files (5,000 by default) loses its oldest until it holds 80 % of that (see :func:`_prune_once`).
Statements that cannot be templated (every Snowflake statement) are kept per exact values, so a
production folder would otherwise gain a few hundred files a day for ever.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from costattr_pipeline.lib.cache_files import cache_folder, write_whole

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
    return tuple(sorted(((name, _hashable(value)) for name, value in (values or {}).items()), key=lambda item: item[0]))


def _hashable(value: object) -> object:
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, dict):
        return _Struct(value.items())
    return value


class _Struct(tuple):
    """A dict parameter in the bind cache's key (hashable, bound back as a struct)."""


@functools.lru_cache(maxsize=256)
def _parsed(text: str, read: str) -> tuple[exp.Expression, ...]:
    return tuple(statement for statement in sqlglot.parse(text, read=read) if statement is not None)


@functools.lru_cache(maxsize=2048)
def _bind(text: str, params: tuple[tuple[str, object], ...], relations: tuple[tuple[str, str], ...],
          dialect: str, read: str) -> tuple[str, ...]:
    if dialect == read:
        template = _template(text, params, relations, read)
        if template is not None:
            return _fill(template, dict(params), read)
    # The values with their signatures: a dict's repr (a struct) would otherwise equal a list of pairs'.
    key = ("bound", text, tuple((name, _signature(value), value) for name, value in params), relations, dialect, read)
    stored = _stored(key, "statements")
    if stored is not None and stored["statements"] is not None:
        return tuple(stored["statements"])
    bound = _bind_now(text, params, relations, dialect, read)
    _store(key, {"statements": list(bound)})
    return bound


def _bind_now(text: str, params: tuple[tuple[str, object], ...], relations: tuple[tuple[str, str], ...],
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


# A template's markers: placeholders renamed so that no statement's own text can contain them.
_MARKER = "__costattr_bind_{}__"
_MARKER_PATTERN = r"__costattr_bind_(\d+)__"


@dataclass(frozen=True)
class _Template:
    """Statements written with a marker for each placeholder, and the placeholder each marker stands for."""

    statements: tuple[str, ...]
    names: tuple[str, ...]


def _signature(value: object) -> object:
    """What a value's literal depends on besides the value: its type (an element's for a list), a number's sign."""
    if isinstance(value, _Struct):
        return ("struct", tuple((str(key), _signature(item)) for key, item in value))
    if isinstance(value, (list, tuple)):
        return ("array", tuple(_signature(item) for item in value))
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return (type(value).__name__, value < 0)
    if isinstance(value, dt.datetime):
        return ("datetime", value.tzinfo is not None)
    return type(value).__name__


def _template(text: str, params: tuple[tuple[str, object], ...], relations: tuple[tuple[str, str], ...],
              read: str) -> _Template | None:
    """The template of ``text`` for values of these types, or None when filling it would not equal binding."""
    if "__costattr_bind_" in text or any("__costattr_bind_" in replacement for _, replacement in relations):
        return None
    key = ("template", text, tuple((name, _signature(value)) for name, value in params), relations, read)
    stored = _stored(key, "template", "names")
    if stored is not None:
        if stored["template"] is None:
            return None
        template = _Template(tuple(stored["template"]), tuple(stored["names"] or ()))
        markers = [int(index) for statement in template.statements
                   for index in _marker_pattern(read).findall(statement)]
        if sorted(markers) == list(range(len(template.names))):
            return template
        # a file that is not what _store wrote: made again below
    bound = _bind_now(text, params, relations, read, read)  # raises for an unbound placeholder, as binding does
    template = _make_template(text, relations, read)
    if template is not None and _fill(template, dict(params), read) != bound:
        template = None  # some literal is written differently in its place: bind this statement every time
    _store(key, {"template": None, "names": None} if template is None else
           {"template": list(template.statements), "names": list(template.names)})
    return template


def _make_template(text: str, relations: tuple[tuple[str, str], ...], read: str) -> _Template | None:
    replacements = {_normal(name): replacement for name, replacement in relations}
    names: list[str] = []

    def mark(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.Placeholder) or not node.name:
            return node
        names.append(node.name)
        return exp.Placeholder(this=_MARKER.format(len(names) - 1))

    statements = []
    for statement in _parsed(text, read):
        tree = statement.copy()
        if replacements:
            tree = tree.transform(_relation_replacer(replacements, read))
        statements.append(tree.transform(mark).sql(dialect=read))
    written = "".join(statements)
    if any(written.count(_marker(index, read)) != 1 for index in range(len(names))):
        return None
    return _Template(tuple(statements), tuple(names))


@functools.cache
def _marker(index: int, read: str) -> str:
    return exp.Placeholder(this=_MARKER.format(index)).sql(dialect=read)


@functools.cache
def _marker_pattern(read: str) -> re.Pattern[str]:
    prefix = _marker(0, read)[: -len(_MARKER.format(0))]
    return re.compile(re.escape(prefix) + _MARKER_PATTERN)


def _fill(template: _Template, values: Mapping[str, object], read: str) -> tuple[str, ...]:
    def value(match: re.Match[str]) -> str:
        name = template.names[int(match.group(1))]
        if name not in values:
            raise KeyError(f"SQL parameter :{name} is not bound")
        return literal(values[name]).sql(dialect=read)

    pattern = _marker_pattern(read)
    return tuple(pattern.sub(value, statement) for statement in template.statements)


# Bump when what is stored changes shape or meaning: older files are then simply not found
# (and, no longer read, are the first pruned).
_CACHE_FORMAT = 1

# At most this many files in the cache folder (COSTATTR_SQL_CACHE_MAX_FILES overrides it); when over,
# the least recently used are deleted down to _CACHE_KEPT_SHARE of it. A daily production run adds ~300.
_CACHE_MAX_FILES = 5_000
_CACHE_KEPT_SHARE = 0.8
_cache_pruned = False  # whether this process has already looked (it looks at most once)


def sql_cache_folder() -> Path:
    """Where bound statements are kept between processes: ``$XDG_CACHE_HOME/costattr/sql`` (``~/.cache``)."""
    return cache_folder() / "sql"


def _cache_path(key: tuple[object, ...]) -> Path:
    # repr is exact for every parameter type bind accepts (Decimal('1.0') is not Decimal('1.00')).
    digest = hashlib.sha256(repr((_CACHE_FORMAT, sqlglot.__version__, key)).encode("utf-8")).hexdigest()
    return sql_cache_folder() / digest[:2] / f"{digest}.json"


def _stored(key: tuple[object, ...], *fields: str) -> dict[str, list[str] | None] | None:
    """What a process stored under ``key``: each of ``fields`` a list of texts or null. None when absent,
    unreadable or not of that shape (a file is then written anew)."""
    path = _cache_path(key)
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # absent (or just pruned by another process), unreadable, half a file, not JSON
        return None
    try:
        os.utime(path)  # used now: the last to be pruned
    except OSError:
        pass
    if not isinstance(value, dict) or set(value) != set(fields):
        return None
    if not all(item is None or (isinstance(item, list) and all(isinstance(text, str) for text in item))
               for item in value.values()):
        return None
    return value


def _store(key: tuple[object, ...], value: dict[str, object]) -> None:
    path = _cache_path(key)
    if write_whole(path, json.dumps(value)):
        _prune_once(path.parent)


def cached_json(key: tuple[object, ...], build: Callable[[], Any], read: Callable[[Any], Any] = lambda value: value
                ) -> Any:
    """``read`` of the JSON value a process stored under ``key`` in the cache folder; else ``build()``'s value,
    stored. For what is slow to make, depends only on ``key`` and is the same in every process: what a file
    holds that ``read`` refuses (TypeError, ValueError, KeyError, IndexError) is made again."""
    stored = _stored(key, "json")
    if stored is not None and stored["json"]:
        try:
            return read(json.loads(stored["json"][0]))
        except (TypeError, ValueError, KeyError, IndexError):
            pass
    value = build()
    _store(key, {"json": [json.dumps(value)]})
    return read(value)


def sql_cache_max_files() -> int:
    """The most files the cache folder keeps: ``COSTATTR_SQL_CACHE_MAX_FILES``, else 5,000."""
    try:
        limit = int(os.environ.get("COSTATTR_SQL_CACHE_MAX_FILES") or _CACHE_MAX_FILES)
    except ValueError:
        return _CACHE_MAX_FILES  # a cache setting that does not parse must not stop a run
    return limit if limit > 0 else _CACHE_MAX_FILES


def _prune_once(written_folder: Path) -> None:
    """Once per process, on a store: when the cache folder holds more than its limit, delete the least
    recently used files (by modification time) until it holds 80 % of it.

    Files spread evenly over the 256 two-hex-digit subfolders (they are named by a hash), so the one just
    written to, times 256, estimates the total: the whole folder is only scanned when that estimate is over
    the limit, so a process whose folder is well under it pays one small directory listing. Safe with other
    processes: one reading a file deleted here finds it absent and binds again; one deleting the same files
    at the same time is ignored.
    """
    global _cache_pruned
    if _cache_pruned:
        return
    _cache_pruned = True
    limit = sql_cache_max_files()
    try:
        if sum(1 for _ in os.scandir(written_folder)) * 256 <= limit:
            return
        files = []
        for subfolder in os.scandir(written_folder.parent):
            if subfolder.is_dir(follow_symlinks=False):
                for entry in os.scandir(subfolder.path):
                    try:
                        files.append((entry.stat(follow_symlinks=False).st_mtime_ns, entry.path))
                    except OSError:  # deleted meanwhile
                        pass
    except OSError:
        return
    if len(files) <= limit:
        return
    files.sort()
    for _, path in files[:len(files) - int(limit * _CACHE_KEPT_SHARE)]:
        try:
            os.unlink(path)
        except OSError:  # already deleted by another process, or not ours to delete
            pass


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
    if isinstance(value, _Struct):
        value = dict(value)
    if isinstance(value, (list, tuple)):
        return exp.Array(expressions=[literal(item) for item in value])
    if isinstance(value, dict):  # a DuckDB struct, e.g. read_csv's columns = {'name': 'VARCHAR'}
        return exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier(str(key), quoted=True),
                                                      expression=literal(item)) for key, item in value.items()])
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
    """Kept in the SQL cache folder: parsing the table scripts was 0.5 s of every process that loads the
    definitions (each asset's column schema in the UI comes from its script)."""
    def read(stored: Any) -> tuple[tuple[str, tuple[DeclaredColumn, ...]], ...]:
        return tuple((table, tuple(DeclaredColumn(name, type_, bool(nullable), description)
                                   for name, type_, nullable, description in columns))
                     for table, columns in stored)

    return cached_json(("declared_columns", text), lambda: [
        [table, [[column.name, column.type, column.nullable, column.description] for column in columns]]
        for table, columns in _parsed_declared_columns(text)], read)


def _parsed_declared_columns(text: str) -> tuple[tuple[str, tuple[DeclaredColumn, ...]], ...]:
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
