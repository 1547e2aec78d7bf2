"""What users read in the UI: each partition's own figures, the run's figures, every table's columns.

A single-run backfill writes a year of days in one step, and Dagster records one materialization per
partition. Each must show that partition's figures, never the run's dressed up as the day's:
:func:`partition_metadata` computes the figures of every partition of the run in one grouped query
(``GROUP BY ROLLUP`` of the partition's day or month, so the same scan also gives the run's total)
and hands each partition its own with ``context.add_asset_metadata(..., partition_key=...)``. The
whole run's figures are logged and recorded under ``run_figures``, a name that says whose they are.

Numbers are numeric metadata, so the asset's Plots tab draws them partition by partition. A Decimal
is plotted as a float and kept exactly in a text entry ``<name>_exact``; the table holds the exact
value. Column schemas come from the ``CREATE TABLE`` of the asset's ``__tables.sql`` file, whose
``--`` comments on the column lines are the columns' descriptions; :func:`table_metadata` gives them to
the asset's definition too, so the catalog shows the columns before the first run.

Every asset also says who owns it (``OWNERS`` of its concern's package, a Dagster team string) and
carries two tags the catalog filters on: :func:`asset_tags` ``source`` (where its money or usage comes
from) and ``layer`` (what it is in the pipeline).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import dagster as dg

from costattr_pipeline.lib.sql import declared_columns
from costattr_pipeline.resources.warehouse import WarehouseSession

PREVIEW_ROWS = 10
RUN_FIGURES = "run_figures"
PARTITION_ROW_COUNT = "dagster/partition_row_count"
TABLE_NAME = "dagster/table_name"
COLUMN_SCHEMA = "dagster/column_schema"

SOURCE_TAG = "source"
LAYER_TAG = "layer"
# source: the data an asset's rows come from; "all" for the assets that bring every source together.
SOURCES = ("aws", "snowflake", "databricks", "focus", "usage", "kubernetes", "all")
# layer: landing (source rows as delivered), attribution (cost per tenant), billing (bills, margins),
# report (for people to read), export (for other tools to load).
LAYERS = ("landing", "attribution", "billing", "report", "export")


def asset_tags(*, source: str, layer: str) -> dict[str, str]:
    """The tags every asset carries: where its data comes from and its layer (values of ``SOURCES`` and ``LAYERS``)."""
    if source not in SOURCES or layer not in LAYERS:
        raise ValueError(f"asset tags: source must be one of {SOURCES} and layer one of {LAYERS}, "
                         f"got source={source!r}, layer={layer!r}")
    return {SOURCE_TAG: source, LAYER_TAG: layer}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value).replace("|", "\\|")


def markdown_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    if not rows:
        return "_no rows_"
    names = list(columns or rows[0].keys())
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    lines += ["| " + " | ".join(_cell(row.get(name)) for name in names) + " |" for row in rows]
    return "\n".join(lines)


def column_schema(tables_sql: str, table: str) -> dg.TableSchema:
    """The column schema of ``table`` as ``tables_sql`` creates it, each column described by its line's comment."""
    columns = declared_columns(tables_sql).get(table.lower())
    if columns is None:
        raise KeyError(f"{table} is not created by the given tables SQL")
    return dg.TableSchema(columns=[
        dg.TableColumn(column.name, column.type, description=column.description,
                       constraints=dg.TableColumnConstraints(nullable=column.nullable))
        for column in columns])


def table_metadata(tables_sql: str, table: str, schema_table: str | None = None) -> dict[str, Any]:
    """The table an asset writes and its described columns, as metadata: on the asset's definition (the
    catalog shows the columns before the first run) and on each run's materialization. ``schema_table``: the
    table ``tables_sql`` declares with the columns of ``table``, when ``table`` is a view."""
    return {TABLE_NAME: dg.MetadataValue.text(table), COLUMN_SCHEMA: column_schema(tables_sql, schema_table or table)}


def _is_whole(value: Decimal) -> bool:
    # A count summed by DuckDB arrives as a DECIMAL(38, 0): a whole number, not an amount.
    exponent = value.as_tuple().exponent
    return isinstance(exponent, int) and exponent >= 0


def figure_metadata(name: str, value: Any) -> dict[str, dg.MetadataValue]:
    """One figure as metadata: numbers numeric (plotted), a Decimal also exactly as text; NULL shows nothing."""
    if value is None:
        return {}
    if isinstance(value, bool):
        return {name: dg.MetadataValue.bool(value)}
    if isinstance(value, int) or (isinstance(value, Decimal) and _is_whole(value)):
        return {name: dg.MetadataValue.int(int(value))}
    if isinstance(value, Decimal):
        return {name: dg.MetadataValue.float(float(value)), f"{name}_exact": dg.MetadataValue.text(_cell(value))}
    if isinstance(value, float):
        return {name: dg.MetadataValue.float(value)}
    return {name: dg.MetadataValue.text(_cell(value))}


def _exact(value: Any) -> Any:
    """A figure in the run's JSON: whole numbers as numbers, other Decimals as exact text."""
    if isinstance(value, Decimal):
        return int(value) if _is_whole(value) else _cell(value)
    return value


def _partition_start(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def add_partitions_metadata(context: dg.AssetExecutionContext, key: dg.AssetKey,
                            per_partition: Mapping[str, Mapping[str, Any]]) -> None:
    """``context.add_asset_metadata(metadata, asset_key=key, partition_key=...)`` for every partition at once.

    Dagster's call copies every partition's metadata gathered so far and lists the run's partition keys
    again on each call: 365 calls cost about 2 s a yearly backfill (quadratic). Its accumulator is an
    immutable record, so the run's partitions are validated once and merged in one new record, as the call
    itself would leave it. Where Dagster's internals are not as expected, the public call is used.
    """
    from dagster._core.execution.context.metadata_logging import AssetMetadataHandle, OutputMetadataAccumulator

    step = getattr(context.op_execution_context, "_step_execution_context", None)
    accumulator = getattr(step, "_metadata_accumulator", None)
    targeted = set(context.partition_keys)
    if not isinstance(accumulator, OutputMetadataAccumulator) or key not in context.assets_def.keys or not (
            set(per_partition) <= targeted):
        for partition_key, metadata in per_partition.items():
            context.add_asset_metadata(metadata, asset_key=key, partition_key=partition_key)
        return
    merged = dict(accumulator.per_output_metadata)
    for partition_key, metadata in per_partition.items():
        handle = AssetMetadataHandle(asset_key=key, partition_key=partition_key)
        merged[handle] = {**merged.get(handle, {}), **metadata}
    step._metadata_accumulator = OutputMetadataAccumulator(per_output_metadata=merged)  # noqa: SLF001


def partition_metadata(context: dg.AssetExecutionContext, session: WarehouseSession, table: str, where: str,
                       params: Mapping[str, object], *, partition_column: str, tables_sql: str | None,
                       figures: Mapping[str, str] | None = None, order_by: str | None = None,
                       schema_table: str | None = None, asset_key: dg.AssetKey | None = None,
                       relations: Mapping[str, str] | None = None, preview: bool = True) -> dict[str, Any]:
    """Give every partition of the run its own row count, figures and preview; return the run's metadata.

    ``where``/``params`` select the rows the run wrote; ``partition_column`` is the date that places
    a row in its partition (grouped by its month for a monthly asset); ``figures`` maps a name to a
    SQL aggregate over a partition's rows (``SUM(CAST(cost_usd AS DECIMAL(38, 18)))``), also
    computed over the whole run. ``relations`` are bound as in every statement (``table`` may name
    one). The returned metadata (table name, column schema from ``tables_sql``, or ``schema_table`` when
    ``table`` is a view of it; ``run_figures``) is for the ``MaterializeResult``: it is true of every partition.
    The column schema goes with the run's latest partition only (see below).
    """
    key = asset_key or context.assets_def.key
    partitions_def = context.assets_def.partitions_def
    if not isinstance(partitions_def, dg.TimeWindowPartitionsDefinition):
        raise TypeError(f"{key.to_user_string()}: partition_metadata needs a time-partitioned asset")
    partition = (f"DATE_TRUNC('month', {partition_column})"
                 if isinstance(partitions_def, dg.MonthlyPartitionsDefinition) else partition_column)
    selected = ", ".join([f"{partition} AS partition_start", f"GROUPING({partition}) AS run_total",
                          "COUNT(*) AS row_count", *(f"{sql} AS {name}" for name, sql in (figures or {}).items())])
    grouped = session.rows(f"SELECT {selected} FROM {table} WHERE {where} GROUP BY ROLLUP ({partition})", params,
                           relations)
    previews: dict[dt.date, list[dict[str, Any]]] = {}
    if preview:
        for row in preview_rows(session, table, where, params, relations, partition, order_by or partition_column):
            previews.setdefault(_partition_start(row.pop("partition_start")), []).append(row)

    by_start = {_partition_start(row["partition_start"]): row for row in grouped if not row["run_total"]}
    run = next((row for row in grouped if row["run_total"]), None)
    keys = context.partition_keys
    # The column schema is the same for every partition and the largest entry (4 KB serialized, most of a
    # partition's event): the run's latest partition carries it, the materialization the UI's asset page
    # reads its columns from, instead of serializing it 365 times a yearly backfill.
    schema: dict[str, Any] = {}
    if tables_sql is not None:
        schema = {"dagster/column_schema": column_schema(tables_sql, schema_table or table)}
    per_partition: dict[str, dict[str, Any]] = {}
    for partition_key in keys:
        start = partitions_def.time_window_for_partition_key(partition_key).start.date()
        row = by_start.get(start)
        metadata: dict[str, Any] = {PARTITION_ROW_COUNT: dg.MetadataValue.int(int(row["row_count"]) if row else 0)}
        for name in figures or {}:
            metadata.update(figure_metadata(name, row[name] if row else None))
        if preview:
            metadata["preview"] = dg.MetadataValue.md(markdown_table(previews.get(start, [])))
        if partition_key == keys[-1]:
            metadata.update(schema)
        per_partition[partition_key] = metadata
    add_partitions_metadata(context, key, per_partition)

    run_figures: dict[str, Any] = {"partitions": f"{keys[0]}...{keys[-1]}" if len(keys) > 1 else keys[0],
                                   "partition_count": len(keys), "row_count": int(run["row_count"]) if run else 0}
    for name in figures or {}:
        value = run[name] if run else None
        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            run_figures[name] = _exact(value)
    context.log.info(f"{key.to_user_string()} ({table}), whole run: "
                     + ", ".join(f"{name}={value}" for name, value in run_figures.items()))
    metadata: dict[str, Any] = {RUN_FIGURES: dg.MetadataValue.json(run_figures)}
    if tables_sql is not None:  # the rows are a table the asset owns (or a view of it)
        metadata["dagster/table_name"] = dg.MetadataValue.text(schema_table or table)
    return metadata


def preview_rows(session: WarehouseSession, table: str, where: str, params: Mapping[str, object],
                 relations: Mapping[str, str] | None, partition: str, ordered: str) -> list[dict[str, Any]]:
    """The first ``PREVIEW_ROWS`` rows of each partition of ``table`` (``WHERE where``) in ``ordered`` order.

    Ranking whole rows with a window carries every column of every row through DuckDB's sort: 38 M rows
    of the FOCUS export's 56 columns took minutes and spilled to disk for 3,650 rows shown. On DuckDB a
    base table's partitions keep the row ids of their first rows in one pass (``preview_sql`` by row
    id); a view has no row ids, so its partitions keep the values of their first rows' order columns
    (``preview_values_sql``, one pass over those columns alone), and the window then ranks only the rows
    whose every order column holds one of those values: literal values, which DuckDB carries into the
    view (a constant column of a UNION branch empties the branch). Those rows include every partition's
    first rows, so the window keeps the same rows (a year of the FOCUS export: 11 s as a window over the
    rows of the first keys, 5.5 s with the values). Elsewhere (Snowflake, an order of expressions or DESC)
    the window ranks every row of the window.
    """
    columns = order_columns(ordered) if session.dialect == "duckdb" else None  # MIN_BY(.., n), list_contains
    if columns is None or (session.row_ids and table not in (relations or {}) and _is_base_table(session, table)):
        return session.rows(preview_sql(table, where, partition, ordered, by_row_id=columns is not None),
                            params, relations)
    found = session.rows(preview_values_sql(table, where, partition, ordered), params, relations)[0]
    kept, values = [], {}
    for number, column in enumerate(columns):
        held = [f"{column} IS NULL"] if found[f"nulls_{number}"] else []
        if found[f"values_{number}"]:
            values[f"preview_values_{number}"] = found[f"values_{number}"]
            held.insert(0, f"list_contains(:preview_values_{number}, {column})")
        kept.append(f"({' OR '.join(held) or 'FALSE'})")
    return session.rows(preview_sql(table, " AND ".join([f"({where})", *kept]), partition, ordered, by_row_id=False),
                        {**params, **values}, relations)


def preview_sql(table: str, where: str, partition: str, ordered: str, by_row_id: bool) -> str:
    """The first ``PREVIEW_ROWS`` rows of each partition: by row id (a DuckDB base table, an order of plain
    ascending columns: ``min_by`` over the order as a sortable key, no sort: 1.8 s for the FOCUS export's
    38 M rows, 12.5 s as a narrow window), else by a window over the rows. Among rows equal on every order
    column either form shows any."""
    key = order_key(ordered) if by_row_id else None
    if key is not None:
        return (f"WITH previewed AS (SELECT UNNEST(MIN_BY(rowid, {key}, {PREVIEW_ROWS})) AS previewed_row "
                f"FROM {table} WHERE {where} GROUP BY {partition}) "
                f"SELECT *, {partition} AS partition_start FROM {table} "
                f"WHERE rowid IN (SELECT previewed_row FROM previewed) ORDER BY {partition}, {ordered}")
    return (f"SELECT *, {partition} AS partition_start FROM {table} WHERE {where} "
            f"QUALIFY ROW_NUMBER() OVER (PARTITION BY {partition} ORDER BY {ordered}) <= {PREVIEW_ROWS} "
            f"ORDER BY {partition}, {ordered}")


def preview_values_sql(table: str, where: str, partition: str, ordered: str) -> str:
    """One row: for each order column ``n`` of ``ordered`` (plain ascending columns), the distinct values it
    holds in the first ``PREVIEW_ROWS`` rows of any partition (``values_n``) and whether it holds NULL there
    (``nulls_n``). One pass over the order columns, no sort (``min_by`` over the order as a sortable key)."""
    columns = order_columns(ordered)
    if columns is None:
        raise ValueError(f"no order key for {ordered!r}: only plain ascending columns")
    fields = ", ".join(f"'c{number}': {column}" for number, column in enumerate(columns))
    lists = ", ".join(f"LIST(DISTINCT first.c{number}) FILTER (WHERE first.c{number} IS NOT NULL) AS values_{number}, "
                      f"COALESCE(BOOL_OR(first.c{number} IS NULL), FALSE) AS nulls_{number}"
                      for number in range(len(columns)))
    return (f"WITH previewed AS (SELECT UNNEST(MIN_BY({{{fields}}}, {order_key(ordered)}, {PREVIEW_ROWS})) AS first "
            f"FROM {table} WHERE {where} GROUP BY {partition}) SELECT {lists} FROM previewed")


def order_columns(ordered: str) -> list[str] | None:
    """The columns of an ascending ``ORDER BY`` list of plain columns, None for any other order."""
    return None if order_key(ordered) is None else [term.split()[0] for term in ordered.split(",")]


def order_key(ordered: str) -> str | None:
    """An ascending ``ORDER BY`` list of columns as one row value that compares in the same order: each
    column is preceded by whether it sorts among the NULLs' end (``x IS NULL`` for the default NULLS LAST,
    ``x IS NOT NULL`` for NULLS FIRST), so no comparison of the key depends on how NULL compares.
    None for any other order (DESC, an expression): the preview then ranks with a window."""
    parts = []
    for term in (term.strip() for term in ordered.split(",")):
        words = term.split()
        if (not words or not words[0].isidentifier()
                or [word.upper() for word in words[1:]] not in ([], ["NULLS", "FIRST"], ["NULLS", "LAST"], ["ASC"])):
            return None
        nulls_first = [word.upper() for word in words[1:]] == ["NULLS", "FIRST"]
        parts += [f"{words[0]} IS {'NOT ' if nulls_first else ''}NULL", words[0]]
    return f"({', '.join(parts)})"


def _is_base_table(session: WarehouseSession, table: str) -> bool:
    schema, _, name = table.rpartition(".")
    return bool(schema) and session.relations_in(schema).get(name.lower()) == "BASE TABLE"


def rows_check(check_name: str, rows: Sequence[Mapping[str, Any]], label: str, *,
               severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR, failure: str | None = None,
               success: str | None = None, columns: Sequence[str] | None = None, asset_key: dg.AssetKey | None = None,
               metadata: Mapping[str, Any] | None = None) -> dg.AssetCheckResult:
    """The result of a check that passes when ``rows``, the rows that break it, is empty.

    The rows are shown as a table under ``label`` and counted under ``failing_rows`` (a number, so the
    check's history plots in the UI); ``failure`` / ``success`` describe the outcome in a sentence
    (by default: how many rows break it, and the first one).
    """
    if rows and failure is None:
        first = ", ".join(f"{name} {_cell(value)}" for name, value in rows[0].items())
        failure = f"{len(rows)} row(s) of {label.replace('_', ' ')}, the first: {first}"
    return dg.AssetCheckResult(
        asset_key=asset_key, check_name=check_name, passed=not rows, severity=severity,
        description=(failure if rows else success),
        metadata={"failing_rows": dg.MetadataValue.int(len(rows)),
                  label: dg.MetadataValue.md(markdown_table(rows, columns)), **(metadata or {})},
    )
