"""``metering/focus_charges``: the append-only landing of FOCUS exports (any provider, any released version)."""

import datetime as dt

import dagster as dg

from costattr_pipeline.audit import audit

from costattr_pipeline.defs.ingest import OWNERS
from costattr_pipeline.lib.focus import FocusExport, StagedFile, find_exports, stage_export, with_custom_columns
from costattr_pipeline.lib.sql import sql_file
from costattr_pipeline.metadata import asset_tags, partition_metadata, rows_check, table_metadata
from costattr_pipeline.project import current_project, window_dates
from costattr_pipeline.resources.source_files import SourceFiles
from costattr_pipeline.resources.warehouse import Warehouse, WarehouseSession

FOCUS_CHARGES = dg.AssetKey(["metering", "focus_charges"])
CHECK_SOURCE_PRESENT = "focus_source_present"
CHECK_EXPORTS_LANDED_WHOLE = "exports_landed_whole"

TABLES_SQL = sql_file(__file__, "focus_charges__tables.sql")
LANDING_ROWS_SQL = sql_file(__file__, "focus_charges.sql")
LANDED_WHOLE_SQL = sql_file(__file__, "focus_charges__landed_whole.sql")
WINDOW = "cost_date >= :start_date AND cost_date < :end_date"


def _file_totals(engine, staged: StagedFile) -> tuple[int, object, object]:
    return engine.execute(f"SELECT COUNT(*), COALESCE(SUM(billedcost), 0), "
                          f"COALESCE(SUM(COALESCE(effectivecost, amortizedcost)), 0) FROM {staged.view}").fetchall()[0]


def _land(session: WarehouseSession, exports: list[FocusExport], log) -> tuple[list[str], list[dg.AssetCheckResult]]:
    """Land every export not landed yet, all or nothing; return the names of those landed.

    Every new export is validated before the first row is written, so a bad file anywhere leaves
    the landing as it was.
    """
    registered = {(row["export_name"], row["fingerprint"]): row["load_id"]
                  for row in session.rows("SELECT export_name, fingerprint, load_id FROM metering.focus_exports")}
    known_loads = {row["load_id"] for row in session.rows("SELECT DISTINCT load_id FROM metering.focus_exports")}
    new: list[tuple[FocusExport, str]] = []
    copies: list[tuple[FocusExport, str]] = []  # the same bytes seen under another name: registered, not landed
    for export in exports:
        fingerprint = export.fingerprint
        if (export.name, fingerprint) in registered:
            continue
        load_id = export.load_id
        if load_id in known_loads or any(load_id == other for _, other in new):
            copies.append((export, load_id))
        else:
            new.append((export, load_id))
    loaded_at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    with session.local_engine() as engine:
        staged = [(export, load_id, stage_export(engine, export, prefix=f"focus_{index}"))
                  for index, (export, load_id) in enumerate(new)]
        with session.transaction():
            for export, load_id, files in staged:
                rows, billed, effective = 0, 0, 0
                for file in files:
                    query, params = with_custom_columns(file)
                    session.insert_from_local(engine, "metering.focus_charges", LANDING_ROWS_SQL, {
                        **params, "focus_version": file.version, "source_file": file.display_name,
                        "export_name": export.name, "exported_at": export.exported_at, "load_id": load_id,
                        "loaded_at": loaded_at}, {"focus_part": query})
                    count, file_billed, file_effective = _file_totals(engine, file)
                    rows, billed, effective = rows + count, billed + file_billed, effective + file_effective
                _register(session, export, load_id, rows, billed, effective)
            for export, load_id in copies:
                totals = session.rows("SELECT row_count, billed_cost, effective_cost FROM metering.focus_exports "
                                      "WHERE load_id = :load_id LIMIT 1", {"load_id": load_id})
                first = totals[0] if totals else {"row_count": 0, "billed_cost": 0, "effective_cost": 0}
                _register(session, export, load_id, first["row_count"], first["billed_cost"], first["effective_cost"])
            blocking = audit(FOCUS_CHARGES, rows_check(CHECK_EXPORTS_LANDED_WHOLE, session.rows(LANDED_WHOLE_SQL),
                                                       "incomplete_exports"))
    log.info(f"Landed {len(new)} new FOCUS export(s) of {len(exports)} found")
    return [export.name for export, _ in new], blocking


def _register(session: WarehouseSession, export: FocusExport, load_id: str, rows, billed, effective) -> None:
    session.execute("INSERT INTO metering.focus_exports VALUES (:name, :fingerprint, :load_id, :rows, "
                    "CAST(:billed AS DECIMAL(38, 18)), CAST(:effective AS DECIMAL(38, 18)))",
                    {"name": export.name, "fingerprint": export.fingerprint, "load_id": load_id, "rows": int(rows),
                     "billed": billed, "effective": effective})


def focus_charges(context: dg.AssetExecutionContext, warehouse: Warehouse,
                  source_files: SourceFiles) -> dg.MaterializeResult:
    """FOCUS cost and usage rows of every provider (AWS, Azure, Google Cloud, OCI...), landed append-only.

    `focus/` holds the providers' exports as they deliver them: a file, or a folder of part files, per
    delivery. Each file's columns say its FOCUS version (0.5 to 1.3); its mandatory columns and every
    value's type are checked before anything is written. An export is landed once (its identity is a
    hash of its files); a later export of the same provider, billing account and billing period replaces
    the earlier one: the view `metering.focus_charges_latest` keeps, for each of them, the rows of the
    latest delivery (latest file modification time, then latest load). A run lands every export found;
    the figures shown are the counted rows of the run's days.
    """
    start, end = window_dates(context)
    exports = find_exports(source_files.path)
    params = {"start_date": start, "end_date": end}
    with warehouse.session() as session:
        session.execute(TABLES_SQL)
        landed, blocking = _land(session, exports, context.log)
        # A day's figures are those of the rows it counts (metering.focus_charges_latest, a view of the landing).
        metadata = partition_metadata(
            context, session, "metering.focus_charges_latest", WINDOW, params, partition_column="cost_date",
            tables_sql=TABLES_SQL, schema_table="metering.focus_charges",
            figures={"billed_cost": "SUM(CAST(billed_cost AS DECIMAL(38, 18)))",
                    "effective_cost": "SUM(CAST(effective_cost AS DECIMAL(38, 18)))",
                    "providers": "COUNT(DISTINCT provider)"},
            order_by="cost_date, provider, billing_account_id, source_file, source_row",
        )
    metadata["run_exports_found"] = dg.MetadataValue.int(len(exports))
    metadata["run_exports_landed"] = dg.MetadataValue.json(landed)
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[
            dg.AssetCheckResult(
                check_name=CHECK_SOURCE_PRESENT, passed=bool(exports), severity=dg.AssetCheckSeverity.WARN,
                description=None if exports else "No FOCUS export in focus/: no FOCUS cost is counted.",
                metadata={"exports": len(exports)},
            ),
            *blocking,
        ],
    )


CHECKS = [
    dg.AssetCheckSpec(CHECK_SOURCE_PRESENT, asset=FOCUS_CHARGES,
                      description="WARN when focus/ holds no export: FOCUS outputs are empty, not wrong."),
    dg.AssetCheckSpec(CHECK_EXPORTS_LANDED_WHOLE, asset=FOCUS_CHARGES, blocking=True,
                      description="ERROR unless every registered export's landed rows match its files: the same "
                                  "row count, BilledCost and EffectiveCost."),
]


@dg.definitions
def defs() -> dg.Definitions:
    project = current_project()
    asset = dg.asset(key=FOCUS_CHARGES, group_name="ingest", kinds={"duckdb", "snowflake"},
                     owners=OWNERS, tags=asset_tags(source="focus", layer="landing"),
                     metadata=table_metadata(TABLES_SQL, "metering.focus_charges"),
                     partitions_def=project.daily, backfill_policy=dg.BackfillPolicy.single_run(),
                     check_specs=CHECKS)(focus_charges)
    return dg.Definitions(assets=[asset])
