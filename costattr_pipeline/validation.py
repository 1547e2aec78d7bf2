"""Input problems before anything is written: what a run computes, or (``costattr validate``) everything.

A run validates the config and the sources for the days and months it computes (and what those read),
so years of tenant history before the first rate-card version, or an old bad row outside the run's
days, do not block it; its cost grows with the run's window, not with the size of history. Without a
range, ``costattr validate`` reports every problem, each with the runs it blocks.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from costattr_pipeline.lib import arrow_tables, databricks, focus, kubernetes, snowflake_usage
from costattr_pipeline.lib.billing_config import load_billing_config, months
from costattr_pipeline.lib.config import SETTINGS_FILE, Settings, load_settings
from costattr_pipeline.lib.cost_model import check_sources_present, load_cost_models
from costattr_pipeline.lib.cost_explorer import Fetch, parse_fetch, refuse_amounts_without_rate
from costattr_pipeline.lib.errors import CostattrInputError
from costattr_pipeline.lib.source_files import source_folder
from costattr_pipeline.lib.table_sources import reject_costattr_table
from costattr_pipeline.lib.unit_costs import load_unit_costs
from costattr_pipeline.lib.usage_sources import read_external_api_costs, read_unit_drivers, read_usage_events
from costattr_pipeline.target import Target

Window = tuple[dt.date, dt.date] | None


@dataclass(frozen=True)
class Problem:
    """One input problem and the runs it blocks."""

    message: str
    period: dt.date | None = None  # first day of the one billing period it blocks, if only one

    @property
    def line(self) -> str:
        """The message, and for a problem of one billing period, the runs it blocks (the others block
        every run: a config file's shape, or a source file the run reads)."""
        return f"{self.message} (blocks runs over {self.period:%Y-%m})" if self.period else self.message


def find_problems(target: Target, window: Window = None) -> list[Problem]:
    """The problems of the config and the local sources: for the days ``window`` computes, or all of them.

    Source checks need valid settings (tag names), so a broken settings.yaml is reported alone. Each
    file is checked on its own, so every broken file is named.
    """
    environment = environment_problems(target)
    try:
        settings = load_settings(target.config_dir)
    except CostattrInputError as error:
        return [*environment, Problem(str(error))]
    try:
        source_dir = source_folder(target.source_dir)
    except CostattrInputError as error:
        return [*environment, Problem(str(error))]
    problems: list[Problem] = list(environment)
    checks: list[Callable[[], object]] = [
        lambda: load_unit_costs(target.config_dir),
        lambda: read_unit_drivers(source_dir, window),
        lambda: problems.extend(_billing_problems(target, window)),
        # FOCUS exports are files of the source folder in every target.
        lambda: focus.validate_exports(source_dir),
        # Kubernetes usage exports are files of the source folder in every target; the cost models price them.
        lambda: kubernetes.validate_exports(source_dir, window),
        lambda: _cost_model_problems(target.config_dir, source_dir),
    ]
    if target.name == "local":  # in prod, usage is read (and validated) in place from Snowflake tables
        checks += [lambda: read_usage_events(source_dir, window),
                   lambda: read_external_api_costs(source_dir, window)]
        checks += _cost_explorer_checks(target, settings, window)
        checks += [lambda: databricks.read_usage_export(source_dir, *(window or (None, None))),
                   lambda: databricks.read_list_prices_export(source_dir)]
        checks += [lambda view=view: snowflake_usage.check_usage_export(source_dir / snowflake_usage.SOURCE_FOLDER,
                                                                        view, window)
                   for view in snowflake_usage.USAGE_VIEWS]
    if target.name == "prod" and (os.environ.get("SNOWFLAKE_DATABASE") or "").strip():
        database = os.environ["SNOWFLAKE_DATABASE"].strip()
        checks += [lambda: reject_costattr_table("usage_events", settings.usage_source.usage_events, database),
                   lambda: reject_costattr_table("external_api_costs", settings.usage_source.external_api_costs,
                                                 database)]
    for check in checks:
        try:
            check()
        except CostattrInputError as error:
            problems.append(Problem(str(error)))
    if target.name == "local" and window is not None and not problems:
        problems += _price_problems(source_dir, Path(target.config_dir) / SETTINGS_FILE, settings, window)
    return problems


def environment_problems(target: Target) -> list[Problem]:
    """ENV_MISSING: every variable the production target needs that is unset or empty, in one line."""
    if target.name != "prod":
        return []
    from costattr_pipeline.resources.targets import missing_environment

    missing = missing_environment()
    if not missing:
        return []
    return [Problem(f"ENV_MISSING: the prod target needs {len(missing)} environment variable(s) that are unset or "
                    f"empty: {', '.join(missing)} (set them in the deployment's environment; docs/operations.md)")]


def validate_inputs(target: Target, start: dt.date | None = None, end: dt.date | None = None) -> list[str]:
    """One line per problem that blocks a run over ``[start, end)`` (every problem without a range)."""
    window = (start, end) if start is not None and end is not None else None
    return [problem.message for problem in find_problems(target, window)]


def _cost_model_problems(config_dir: Path, source_dir: Path) -> None:
    """cost_model.yaml's rules, and a rate on a metric whose (optional) export is missing."""
    models = load_cost_models(config_dir)
    check_sources_present(models, {table.name for table in kubernetes.TABLES
                                   if kubernetes.export_path(source_dir, table) is not None})


def _billing_problems(target: Target, window: Window) -> list[Problem]:
    """The billing files' problems: their shape (every run), and each period that cannot be billed."""
    config = load_billing_config(target.config_dir)  # raises for a problem of the files themselves
    periods = months(*window) if window else config.known_periods()
    return [Problem(str(error), period) for period, error in config.period_problems(periods)]


def _cost_explorer_checks(target: Target, settings: Settings, window: Window) -> list[Callable[[], object]]:
    """Every fetch file (no window), or only those a run would parse: files not landed in this form yet.

    A fetch file in a state (name, size, modification time) of its latest delivery was validated when it
    landed; any other state may be a new delivery.
    """
    folder = Path(target.source_dir) / "aws_cost_explorer"
    paths = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if window is not None:
        landed = _landed_fetch_files(target.warehouse)
        paths = [path for path in paths if Fetch(path.name, path).file_key not in landed]
    aws = settings.aws
    start, end = window or (None, None)

    def check(path: Path) -> None:
        name = f"aws_cost_explorer/{path.name}"
        rows = parse_fetch(path, tenant_tag=aws.tenant_tag, module_tag=aws.module_tag, metric=aws.metric,
                           display_name=name, start=start, end=end)
        refuse_amounts_without_rate(rows, settings.fx_to_usd, name)

    return [lambda path=path: check(path) for path in paths]


def _landed_fetch_files(warehouse: Path) -> set[tuple[str, int, int]]:
    """The states (name, size, mtime) of each fetch file's latest delivery in the local warehouse, if any."""
    if not Path(warehouse).exists():
        return set()
    try:
        connection = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return set()  # held by a run, or not a warehouse yet: validate every file
    try:
        return {tuple(row) for row in connection.execute(
            "SELECT source_name, file_size, file_mtime_ns FROM metering.aws_cost_current_deliveries").fetchall()}
    except duckdb.Error:
        return set()
    finally:
        connection.close()


def _dated_schema(key: str) -> pa.Schema:
    """A dated settings history keyed by ``key`` (a warehouse or a currency), as the price rules join it."""
    return pa.schema([(key, pa.string()), ("effective_from", pa.date32()), ("effective_to", pa.date32())])


def _price_problems(source_dir: Path, settings_file: Path, settings: Settings,
                    window: tuple[dt.date, dt.date]) -> list[Problem]:
    """Amounts of the run's days that settings.yaml cannot price: caught here, not as a step's failed check.

    The assets' blocking checks (``credit_price_found``, ``fx_rate_found``) would stop the run and publish
    nothing; finding the first such day before the run starts names it in one line, without a run. The
    sources are already valid here; each rule below is the assets' join, on the local files.
    """
    engine = duckdb.connect()
    try:
        prices = settings.snowflake.credit_price_usd
        engine.register("credit_prices", arrow_tables.from_columns({
            "warehouse_name": [price.warehouse for price in prices],
            "effective_from": [price.effective_from for price in prices],
            "effective_to": [price.effective_to for price in prices]}, _dated_schema("warehouse_name")))
        engine.register("fx_rates", arrow_tables.from_columns({
            "currency": [rate.currency for rate in settings.fx_to_usd],
            "effective_from": [rate.effective_from for rate in settings.fx_to_usd],
            "effective_to": [rate.effective_to for rate in settings.fx_to_usd]}, _dated_schema("currency")))
        bounds = {"start": window[0], "end": window[1]}
        days = []  # (what, currency or warehouse, day, source file): what the run's days must price
        metering = snowflake_usage.WAREHOUSE_METERING_HISTORY
        folder = source_dir / snowflake_usage.SOURCE_FOLDER
        if snowflake_usage.stage_usage_export(engine, folder, metering, "metering", window) is not None:
            days.append(f"""SELECT DISTINCT 'credit', WAREHOUSE_NAME, CAST(START_TIME AS DATE),
                                   '{snowflake_usage.SOURCE_FOLDER}/{metering.name.lower()}'
                            FROM metering WHERE CREDITS_USED <> 0""")
        costs, name = read_external_api_costs(source_dir, window)
        if costs is not None:
            engine.register("external_costs", costs)
            days.append(f"""SELECT DISTINCT 'fx', UPPER(currency), cost_date, '{name}' FROM external_costs
                            WHERE UPPER(currency) <> 'USD'""")
        usage = databricks.read_usage_export(source_dir, *window)
        prices = databricks.read_list_prices_export(source_dir)
        if usage is not None and prices is not None:
            engine.register("databricks_usage", usage)
            engine.register("databricks_prices", prices)
            days.append(f"""SELECT DISTINCT 'fx', UPPER(p.currency_code), u.usage_date, '{databricks.FOLDER}/usage'
                            FROM databricks_usage AS u JOIN databricks_prices AS p
                              ON p.sku_name = u.sku_name AND u.usage_start_time >= p.price_start_time
                             AND (p.price_end_time IS NULL OR u.usage_start_time < p.price_end_time)
                            WHERE UPPER(p.currency_code) <> 'USD'""")
        if not days:
            return []
        needed = " UNION ALL ".join(days)
        missing = engine.execute(f"""
            WITH needed(what, name, day, source) AS ({needed})
            SELECT what, name, day, source FROM needed
            WHERE day >= $start AND day < $end
              AND CASE what
                  WHEN 'credit' THEN NOT EXISTS (
                      SELECT 1 FROM credit_prices AS p
                      WHERE (p.warehouse_name IS NULL OR UPPER(p.warehouse_name) = UPPER(needed.name))
                        AND needed.day >= p.effective_from AND (p.effective_to IS NULL OR needed.day < p.effective_to))
                  ELSE NOT EXISTS (
                      SELECT 1 FROM fx_rates AS r
                      WHERE r.currency = needed.name
                        AND needed.day >= r.effective_from AND (r.effective_to IS NULL OR needed.day < r.effective_to))
                  END
            ORDER BY what, day, name, source LIMIT 1""", bounds).fetchall()
    except CostattrInputError as error:
        return [Problem(str(error))]
    finally:
        engine.close()
    if not missing:
        return []
    what, name, day, source = missing[0]
    where = settings_file if settings_file.exists() else f"{settings_file} (absent: the defaults have no prices)"
    if what == "credit":
        return [Problem(f"{where}: snowflake.credit_price_usd: no credit price in force on {day} for {name} "
                        f"(metered in {source}): add an entry for that day, for every warehouse or for {name}")]
    return [Problem(f"{where}: fx_to_usd: no USD rate for {name} on {day} ({source} has {name} amounts that "
                    f"day): add an entry for {name} in force that day")]


def describe(problems: list[Problem]) -> list[str]:
    """``costattr validate``'s lines: each problem and the runs it blocks."""
    return [problem.line for problem in problems]

