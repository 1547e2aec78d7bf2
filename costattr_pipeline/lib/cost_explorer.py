"""Cost Explorer fetches -> landing rows.

One parser serves both readers: a local export file and a live API fetch (whose
pages are written to a file first) go through the same DuckDB SQL, so the two
readers produce the same landing rows from the same page shape. Validation runs
on the whole fetch before anything is landed; every problem names the file, the
page/period/group and the rule.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from costattr_pipeline.lib import arrow_tables
from costattr_pipeline.lib.config import USD, FxRate
from costattr_pipeline.lib.errors import SourceError
from costattr_pipeline.lib.sql import bind_script, sql_file

AMOUNT_SCALE = 12
# Amounts are kept as DECIMAL(38, 12). At most 16 digits before the point (below ten quadrillion, far above
# any day's cost) keeps every figure exact: a day's sum of amounts stays in DECIMAL(38, 12), and an
# amount times a rate (up to 10 digits before the point) too. A longer amount is a corrupt file.
AMOUNT_DIGITS = 16
BYTE_ORDER_MARK = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Fetch:
    """One Cost Explorer fetch to land: a file of pages and the name that orders it.

    ``source_name`` orders restatements: for a cost_date, the rows of the fetch with the
    greatest source_name count (file names for exports, ``api/<UTC time>`` for the API).
    """

    source_name: str
    path: Path

    @property
    def file_key(self) -> tuple[str, int, int]:
        """Name, size and modification time: an unchanged file is not hashed or parsed again."""
        stat = self.path.stat()
        return self.source_name, stat.st_size, stat.st_mtime_ns

    @property
    def load_id(self) -> str:
        """The content hash: tells a file touched without new bytes (the same delivery) from a new delivery."""
        digest = hashlib.sha256()
        with self.path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()[:32]


def _where(row: dict) -> str:
    return f"page {row['page_no']}, ResultsByTime[{row['period_no'] - 1}].Groups[{row['group_no'] - 1}]"


T = TypeVar("T")
# What a fetch holds once per day: a group is one (grouping, tenant, module, service) of a day.
GROUP_KEY = "cost_date, grouped_by, tenant_id, module_id, service"
PARSED_TABLE = "cost_explorer_parsed"
NUMBERED_TABLE = "cost_explorer_numbered_groups"
PAGES_TABLE = "cost_explorer_numbered_pages"
GROUPS_SQL = sql_file(__file__, "cost_explorer_groups.sql")
# read_json sizes its buffers by the largest object it may meet, and big buffers slow every read
# (1 GiB made a 170 MB file of pages twice as slow as DuckDB's default of 16 MiB). A page is far
# smaller; a fetch saved as one response object bigger than this is read again with its file size
# as the limit.
PAGE_SIZE_LIMIT = 16 << 20
# One JSON array is parsed by one thread: fetches are read several at a time, as many as DuckDB
# has threads, within this many bytes of JSON (the flattened rows of a batch are held at once).
BATCH_BYTES = 1 << 30


@dataclass(frozen=True)
class FetchFile:
    """A fetch file to parse and the name that its errors give (e.g. ``aws_cost_explorer/<file>``)."""

    path: Path
    display_name: str


def batches(files: Sequence[FetchFile], width: int) -> list[list[FetchFile]]:
    """``files`` in order, cut into batches of at most ``width`` files and ``BATCH_BYTES`` bytes (at least one)."""
    cut: list[list[FetchFile]] = []
    size = 0
    for file in files:
        file_size = file.path.stat().st_size
        if not cut or len(cut[-1]) >= max(width, 1) or size + file_size > BATCH_BYTES:
            cut.append([])
            size = 0
        cut[-1].append(file)
        size += file_size
    return cut


def _pages_sql(numbered: bool) -> str:
    """Read fetches' pages (:files), typed: only the configured metric of each group is read.

    ``numbered`` gives each page its position (``page_no``), which needs the pages materialized in
    order; the fast path leaves it NULL and streams. ``filename`` is the path of a page's file.
    """
    page_no = "row_number() OVER ()" if numbered else "CAST(NULL AS BIGINT)"
    return f"""
        SELECT {page_no} AS page_no,
               filename,
               GroupDefinitions AS definitions,
               ResultsByTime AS results
        FROM read_json(:files, columns = {{'GroupDefinitions': :definitions_type, 'ResultsByTime': :results_type}},
                       format = 'auto', maximum_object_size = :object_size, filename = true)"""


def _page_params(paths: Sequence[Path], metric: str, object_size: int) -> dict[str, object]:
    """The values :func:`_pages_sql` reads with: the files, the JSON shape (with the metric's field), the limit."""
    quoted_metric = '"' + metric.replace('"', '""') + '"'
    results = ("STRUCT(TimePeriod STRUCT(\"Start\" VARCHAR, \"End\" VARCHAR), Groups STRUCT(Keys VARCHAR[], "
               f"Metrics STRUCT({quoted_metric} STRUCT(Amount VARCHAR, Unit VARCHAR)))[], Estimated BOOLEAN)[]")
    return {"files": [str(path) for path in paths], "definitions_type": 'STRUCT("Type" VARCHAR, "Key" VARCHAR)[]',
            "results_type": results, "object_size": object_size}


def _tag_params(tenant_tag: str, module_tag: str, metric: str) -> dict[str, object]:
    """The values the group SQL and the group rules read with."""
    return {"tenant_tag": tenant_tag, "module_tag": module_tag, "metric": metric,
            "tenant_prefix": f"{tenant_tag}$", "module_prefix": f"{module_tag}$",
            "amount_pattern": r"-?[0-9]+(\.[0-9]{1," + str(AMOUNT_SCALE) + r"})?",
            "amount_range_pattern": r"-?[0-9]{1," + str(AMOUNT_DIGITS) + r"}(\.[0-9]*)?"}


def _staged_sql(broken: str) -> str:
    """The flattened groups as staged for landing: the landing columns, plus the screen's flags.

    Only what landing and the screen need is kept (``group_broken`` stands for every group rule):
    the staged rows of a whole run stay in memory until its transaction ends, and the group keys,
    texts and positions that name a problem are only read again for a fetch that fails the screen.
    """
    return f"""
        SELECT filename,
               page_ok,
               is_group,
               coalesce(is_group AND ({broken}), FALSE) AS group_broken,
               cost_date,
               grouped_by,
               NULLIF(substr(tenant_key, length(:tenant_prefix) + 1), '') AS tenant_id,
               NULLIF(substr(module_key, length(:module_prefix) + 1), '') AS module_id,
               service,
               amount_text,
               unit AS currency,
               estimated
        FROM cost_explorer_groups"""


class UnreadableFetches(Exception):
    """DuckDB could not read a batch of fetches (malformed JSON, a page over the object limit...).

    Raised instead of a :class:`SourceError` because the failed statement has aborted the
    connection's transaction: the file at fault is named by :func:`explain`, which reads each
    file again on a fresh connection, once the caller has rolled back.
    """

    def __init__(self, files: Sequence[FetchFile], message: str) -> None:
        super().__init__(f"{', '.join(file.display_name for file in files)}: {message}")
        self.files = list(files)
        self.message = message

    @property
    def object_too_large(self) -> bool:
        """A response object is larger than the object limit of the read: read again with a larger one."""
        return "maximum_object_size" in self.message

    @property
    def object_size_needed(self) -> int:
        return max(PAGE_SIZE_LIMIT, max(file.path.stat().st_size for file in self.files) + 1)

    def explain(self, *, tenant_tag: str = "tenant_id", module_tag: str = "module_id",
                metric: str = "UnblendedCost") -> SourceError:
        """The error naming the file at fault: each file is read alone on a fresh connection."""
        if len(self.files) == 1:
            name = self.files[0].display_name
            shape = _shape_problem(self.message)
            if shape is not None:
                return SourceError(name, shape[0], f"not a GetCostAndUsage response: {shape[1]}")
            if "JSON" in self.message:
                return SourceError(name, None, f"malformed JSON: {self.message.split(':', 1)[-1].strip()}")
            return SourceError(name, None, f"not a Cost Explorer response: {self.message}")
        for file in self.files:
            engine = duckdb.connect()
            try:
                stage_fetch(engine, file.path, tenant_tag=tenant_tag, module_tag=module_tag, metric=metric,
                            display_name=file.display_name)
            except SourceError as error:
                return error
            finally:
                engine.close()
        return SourceError(", ".join(file.display_name for file in self.files), None,
                           f"cannot be read together: {self.message}")


_JSON_KINDS = {"OBJECT": "object", "ARRAY": "array", "VARCHAR": "string", "BOOLEAN": "boolean", "NULL": "null"}
_SHAPE_ERROR = re.compile(r"record/value (\d+): Expected (\w+), but got (\w+): (.*)$")


def _shape_problem(message: str) -> tuple[str, str] | None:
    """The page and the problem of valid JSON of another shape, from DuckDB's transform error; else None.

    DuckDB names the JSON types it expected and found, and the record (page) they are in, but not the
    field: the value it quotes is what a user looks for.
    """
    found = _SHAPE_ERROR.search(message)
    if "JSON transform error" not in message or found is None:
        return None
    page_no, expected, got, value = found.groups()
    expected_kind = _JSON_KINDS.get(expected, "number")
    article = "an" if expected_kind[0] in "aeiou" else "a"
    return (f"page {page_no}",
            f"found a JSON {_JSON_KINDS.get(got, 'number')} where {article} {expected_kind} belongs ({value})")


def _create_from_files(engine: duckdb.DuckDBPyConnection, files: Sequence[FetchFile], table: str, select: str,
                       params: dict[str, object], numbered: bool, object_size: int) -> None:
    """``CREATE TEMP TABLE table AS select``, ``select`` reading the files' pages as ``cost_explorer_pages``
    (and their groups as ``cost_explorer_groups``); raises :class:`UnreadableFetches`."""
    pages = _pages_sql(numbered)
    relations = {"cost_explorer_pages": pages, "cost_explorer_groups": GROUPS_SQL}
    statement = bind_script(f"CREATE OR REPLACE TEMP TABLE {table} AS {select}",
                            {**params, **_page_params([file.path for file in files], params["metric"], object_size)},
                            relations)
    try:
        engine.execute(statement)
    except duckdb.Error as error:
        raise UnreadableFetches(files, str(error).splitlines()[0]) from None


def _group_checks(metric: str) -> list[tuple[str, Callable[[dict], str]]]:
    """Each rule a group must meet: (condition that breaks it, over the :func:`_tag_params`; message from the row)."""
    return [
        ("group_keys IS NULL",
         lambda r: f"group has no Keys (one per GroupDefinitions entry: {r['grouped_by']})"),
        ("len(list_filter(group_keys, lambda key: key IS NULL)) > 0",
         lambda r: f"group Keys {r['group_keys']} hold a null key"),
        ("NOT keys_match_definitions", lambda r: f"group Keys {r['group_keys']} do not match GroupDefinitions"),
        ("NOT starts_with(tenant_key, :tenant_prefix)",
         lambda r: f"unknown group key {r['tenant_key']!r} (expected '{r['tenant_prefix']}<value>')"),
        ("module_key IS NOT NULL AND NOT starts_with(module_key, :module_prefix)",
         lambda r: f"unknown group key {r['module_key']!r} (expected '{r['module_prefix']}<value>')"),
        ("cost_date IS NULL", lambda r: f"TimePeriod.Start {r['period_start']!r} is not a date"),
        ("amount_text IS NULL", lambda r: f"Metrics.{metric}.Amount is missing"),
        ("NOT regexp_full_match(amount_text, :amount_pattern)",
         lambda r: f"Metrics.{metric}.Amount {r['amount_text']!r} is not a decimal with at most "
                   f"{AMOUNT_SCALE} places"),
        ("NOT regexp_full_match(amount_text, :amount_range_pattern)",
         lambda r: f"Metrics.{metric}.Amount {r['amount_text']!r} is out of range: at most {AMOUNT_DIGITS} digits "
                   "before the decimal point"),
        ("unit IS NULL", lambda r: f"Metrics.{metric}.Unit is missing"),
    ]


def stage_fetches(engine: duckdb.DuckDBPyConnection, files: Sequence[FetchFile], *, tenant_tag: str = "tenant_id",
                  module_tag: str = "module_id", metric: str = "UnblendedCost",
                  object_size: int | None = None) -> None:
    """Parse and validate whole fetches into the temp table ``cost_explorer_parsed`` of ``engine``.

    ``engine`` is any DuckDB connection: an in-memory one, or the DuckDB warehouse itself so
    that a large fetch never passes through Python. Each fetch is validated whole, not only a
    window: a broken file is broken for every run. Raises :class:`SourceError` naming the file.

    The files are streamed once, in one read (DuckDB parses one JSON array per thread, so several
    files are read in parallel), into flattened rows whose ``filename`` is the file's path; one
    pass over them screens every page and group rule of every file. Only a fetch that the screen
    does not clear (a broken rule, or no group at all) is read again alone with its pages numbered,
    to name the page, period and group at fault: numbering pages means materializing them, which
    doubled the cost of every clean fetch.

    A file DuckDB cannot read raises :class:`UnreadableFetches` (its ``explain()`` names the file
    and the rule; ``object_size_needed`` reads a fetch saved as one big response object); a
    broken rule raises :class:`SourceError`.
    """
    if not files:
        raise ValueError("no fetch to stage")
    for file in files:
        _refuse_byte_order_mark(file)
    object_size = object_size or PAGE_SIZE_LIMIT
    params = _tag_params(tenant_tag, module_tag, metric)
    checks = _group_checks(metric)
    broken = " OR ".join(f"({condition})" for condition, _ in checks)
    _create_from_files(engine, files, PARSED_TABLE, _staged_sql(broken), params, False, object_size)
    # A repeated group is screened by one hash of its key: equal hashes are only candidates, which the
    # numbered read of the file decides exactly.
    cleared = {row[0] for row in engine.execute(f"""
        SELECT filename
        FROM {PARSED_TABLE}
        GROUP BY filename
        HAVING COUNT(*) FILTER (WHERE NOT page_ok OR group_broken) = 0
           AND COUNT(*) FILTER (WHERE is_group) > 0
           AND filename NOT IN (
               SELECT filename FROM {PARSED_TABLE} WHERE is_group
               GROUP BY filename, hash({GROUP_KEY}) HAVING COUNT(*) > 1)""").fetchall()}
    for file in files:
        if str(file.path) not in cleared:
            _validate_numbered(engine, file, params, checks, object_size)


def stage_fetch(engine: duckdb.DuckDBPyConnection, path: Path, *, tenant_tag: str = "tenant_id",
                module_tag: str = "module_id", metric: str = "UnblendedCost", display_name: str | None = None) -> None:
    """:func:`stage_fetches` for one fetch, on a connection outside any transaction: read errors are
    explained as a :class:`SourceError`, and a response object over the limit is read again."""
    file = FetchFile(path, display_name or str(path))
    with_object_limit(lambda object_size: stage_fetches(engine, [file], tenant_tag=tenant_tag, module_tag=module_tag,
                                                        metric=metric, object_size=object_size))


def with_object_limit(attempt: Callable[[int | None], T], *, tenant_tag: str = "tenant_id",
                      module_tag: str = "module_id", metric: str = "UnblendedCost",
                      on_retry: Callable[[int], None] | None = None) -> T:
    """``attempt(object_size)`` with the default read limit (None); once more with the limit the files
    need when a response object is over it. Any other read error becomes the :class:`SourceError`
    that names its file. ``attempt`` must start afresh each time: on a connection outside any
    transaction, or as a whole transaction (a failed read aborts it)."""
    object_size = None
    while True:
        try:
            return attempt(object_size)
        except UnreadableFetches as unreadable:
            if unreadable.object_too_large and (object_size or 0) < unreadable.object_size_needed:
                object_size = unreadable.object_size_needed
                if on_retry is not None:
                    on_retry(object_size)
                continue
            raise unreadable.explain(tenant_tag=tenant_tag, module_tag=module_tag, metric=metric) from None


def _validate_numbered(engine: duckdb.DuckDBPyConnection, file: FetchFile, params: dict[str, object],
                       checks: list[tuple[str, Callable[[dict], str]]], object_size: int) -> None:
    """Read one fetch again with numbered pages; raise naming the first page or group at fault."""
    _create_from_files(engine, [file], PAGES_TABLE, "SELECT * FROM cost_explorer_pages", params, True, object_size)
    try:
        _validate_pages(engine, file.display_name, str(params["tenant_tag"]), str(params["module_tag"]))
        engine.execute(bind_script(f"CREATE OR REPLACE TEMP TABLE {NUMBERED_TABLE} AS "
                                   "SELECT *, :tenant_prefix AS tenant_prefix, :module_prefix AS module_prefix "
                                   "FROM cost_explorer_groups", params,
                                   {"cost_explorer_groups": GROUPS_SQL, "cost_explorer_pages": PAGES_TABLE}))
        _validate_groups(engine, file.display_name, checks, params)
        _validate_unique_groups(engine, file.display_name, params)
    finally:
        engine.execute(f"DROP TABLE IF EXISTS {PAGES_TABLE}")
        engine.execute(f"DROP TABLE IF EXISTS {NUMBERED_TABLE}")


LANDING_ROWS_SQL = f"""
    SELECT cost_date,
           grouped_by,
           tenant_id,
           module_id,
           service,
           CAST(amount_text AS DECIMAL(38, {AMOUNT_SCALE})) AS amount,
           CASE WHEN currency = 'USD' THEN CAST(amount_text AS DECIMAL(38, {AMOUNT_SCALE})) END AS amount_usd,
           currency,
           estimated
    FROM {PARSED_TABLE}
    WHERE is_group
      AND (CAST(:filename AS VARCHAR) IS NULL OR filename = :filename)
      AND (CAST(:start_date AS DATE) IS NULL OR cost_date >= :start_date)
      AND (CAST(:end_date AS DATE) IS NULL OR cost_date < :end_date)"""
"""The landing columns of the staged fetches (of :filename only, unless NULL) for the days
[:start_date, :end_date) (either end open when NULL). The amount is kept as delivered, in its
currency (the group's Unit); amount_usd only holds an amount in USD (others are converted at the
rate of their day where the figures are built)."""

FETCH_DAYS_SQL = f"""
    SELECT cost_date, COUNT(*) AS row_count
    FROM {PARSED_TABLE}
    WHERE is_group AND filename = :filename
    GROUP BY cost_date
    ORDER BY cost_date"""
"""Per day of one staged fetch (:filename), its row count."""


def landing_params(path: Path | None = None, start: dt.date | None = None, end: dt.date | None = None
                   ) -> dict[str, object]:
    """The values of :data:`LANDING_ROWS_SQL`: one fetch's file (None: all staged) and the day window."""
    return {"filename": None if path is None else str(path), "start_date": start, "end_date": end}


def parse_fetch(path: Path, *, tenant_tag: str = "tenant_id", module_tag: str = "module_id",
                metric: str = "UnblendedCost", display_name: str | None = None,
                start: dt.date | None = None, end: dt.date | None = None) -> pa.Table:
    """Parse and validate one fetch; return its landing rows for ``[start, end)`` (without load identity)."""
    engine = duckdb.connect()
    try:
        stage_fetch(engine, path, tenant_tag=tenant_tag, module_tag=module_tag, metric=metric,
                    display_name=display_name)
        return engine.sql(bind_script(LANDING_ROWS_SQL, landing_params(None, start, end))).to_arrow_table()
    finally:
        engine.close()


def refuse_amounts_without_rate(rows: pa.Table, rates: Sequence[FxRate], display_name: str) -> None:
    """Raise naming the first day and currency of a fetch's landing ``rows`` that no ``fx_to_usd`` rate converts.

    The landing's blocking check finds it too, once the rows are landed; found here, a run that
    validates its inputs refuses before any write.
    """
    # Only the rows not in USD (usually none) reach Python; not Table.group_by: Arrow's grouping loads
    # pyarrow.dataset, which imports pandas (0.4 s a process).
    currency = rows["currency"]
    usd = arrow_tables.scalar(USD, pa.string())
    foreign = rows.filter(pc.or_kleene(pc.is_null(currency), pc.not_equal(currency, usd)))
    pairs = set(zip(foreign["cost_date"].to_pylist(), foreign["currency"].to_pylist()))
    for day, currency in sorted(pairs, key=lambda pair: (pair[0], pair[1] or "")):
        if not any(rate.currency == currency and rate.window.contains(day) for rate in rates):
            raise SourceError(display_name, None, f"no USD rate for {currency} on {day}: add a fx_to_usd entry "
                                                  "in force that day to settings.yaml")


def _validate_pages(engine: duckdb.DuckDBPyConnection, name: str, tenant_tag: str, module_tag: str) -> None:
    allowed = {f"TAG:{tenant_tag}", f"TAG:{module_tag}", "DIMENSION:SERVICE"}
    rows = engine.execute(f"""
        SELECT page_no, definitions IS NULL AS no_definitions, results IS NULL AS no_results,
               list_transform(definitions, lambda d: d."Type" || ':' || d."Key") AS names
        FROM {PAGES_TABLE} ORDER BY page_no""").fetchall()
    if not rows:
        raise SourceError(name, None, "no Cost Explorer response in the file")
    for page_no, no_definitions, no_results, names in rows:
        if no_results:
            raise SourceError(name, f"page {page_no}", "missing ResultsByTime")
        if no_definitions:
            raise SourceError(name, f"page {page_no}",
                              f"missing GroupDefinitions (the fetch must be grouped by TAG {tenant_tag})")
        if f"TAG:{tenant_tag}" not in names:
            raise SourceError(name, f"page {page_no}",
                              f"GroupDefinitions {names} do not group by TAG {tenant_tag}")
        unknown = [definition for definition in names if definition not in allowed]
        if unknown:
            raise SourceError(name, f"page {page_no}",
                              f"unknown group key {unknown[0]} in GroupDefinitions (allowed: {sorted(allowed)})")


def _validate_groups(engine: duckdb.DuckDBPyConnection, name: str,
                     checks: list[tuple[str, Callable[[dict], str]]], params: dict[str, object]) -> None:
    firsts = engine.execute(bind_script("SELECT " + ", ".join(
        f"MIN(CASE WHEN is_group AND ({condition}) THEN [page_no, period_no, group_no] END)" for condition, _ in checks)
        + f" FROM {NUMBERED_TABLE}", params)).fetchall()[0]
    for (_, describe), first in zip(checks, firsts):
        if first is not None:
            found = engine.sql(bind_script(
                f"SELECT * FROM {NUMBERED_TABLE} WHERE page_no = :page_no AND period_no = :period_no "
                "AND group_no = :group_no", {"page_no": first[0], "period_no": first[1], "group_no": first[2]})
            ).to_arrow_table().to_pylist()
            raise SourceError(name, _where(found[0]), describe(found[0]))


def _validate_unique_groups(engine: duckdb.DuckDBPyConnection, name: str, params: dict[str, object]) -> None:
    """Raise naming the first group the fetch holds twice (Cost Explorer gives each group of a day once:
    a repeat would be counted twice)."""
    repeats = engine.execute(f"""
        SELECT page_no, period_no, group_no, CAST(cost_date AS VARCHAR) AS cost_date, tenant_key, module_key,
               service, first_place
        FROM (SELECT *,
                     first_value([page_no, period_no, group_no]) OVER same_key AS first_place,
                     row_number() OVER same_key AS occurrence
              FROM {NUMBERED_TABLE}
              WHERE is_group
              WINDOW same_key AS (PARTITION BY cost_date, grouped_by, tenant_key, module_key, service
                                  ORDER BY page_no, period_no, group_no))
        WHERE occurrence = 2
        ORDER BY page_no, period_no, group_no
        LIMIT 1""").fetchall()
    if not repeats:
        return
    page_no, period_no, group_no, cost_date, tenant_key, module_key, service, first = repeats[0]
    key = [cost_date, f"tenant {tenant_key[len(str(params['tenant_prefix'])):] or '(untagged)'}"]
    if module_key is not None:
        key.append(f"module {module_key[len(str(params['module_prefix'])):] or '(untagged)'}")
    if service is not None:
        key.append(f"service {service}")
    first_place = _where({"page_no": first[0], "period_no": first[1], "group_no": first[2]})
    raise SourceError(name, _where({"page_no": page_no, "period_no": period_no, "group_no": group_no}),
                      f"the group ({', '.join(key)}) is already at {first_place}: a fetch holds each group of a "
                      "day once")


def _refuse_byte_order_mark(file: FetchFile) -> None:
    """A BOM before the JSON (an editor's UTF-8 "with signature") is refused, with what to do.

    boto3 never writes one, and DuckDB then reads a file of pages as one record of the wrong shape.
    """
    with file.path.open("rb") as handle:
        if handle.read(len(BYTE_ORDER_MARK)) == BYTE_ORDER_MARK:
            raise SourceError(file.display_name, None, "starts with a UTF-8 byte order mark (BOM): save it as "
                                                       "UTF-8 without a BOM (as boto3 writes a GetCostAndUsage "
                                                       "response)")
