"""Input problems before anything is written: what a run computes, or (``costattr validate``) everything.

A run validates the config and the sources for the days and months it computes (and what those read),
so years of tenant history before the first rate-card version, or an old bad row outside the run's
days, do not block it; its cost grows with the run's window, not with the size of history. Without a
range, ``costattr validate`` reports every problem, each with the runs it blocks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from costattr_pipeline.lib import databricks, focus, snowflake_usage
from costattr_pipeline.lib.billing_config import load_billing_config, months
from costattr_pipeline.lib.config import Settings, load_settings
from costattr_pipeline.lib.cost_explorer import Fetch, parse_fetch, refuse_amounts_without_rate
from costattr_pipeline.lib.errors import CostattrInputError
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
    try:
        settings = load_settings(target.config_dir)
    except CostattrInputError as error:
        return [Problem(str(error))]
    source_dir = Path(target.source_dir)
    problems: list[Problem] = []
    checks: list[Callable[[], object]] = [
        lambda: load_unit_costs(target.config_dir),
        lambda: read_unit_drivers(source_dir, window),
        lambda: problems.extend(_billing_problems(target, window)),
        lambda: read_usage_events(source_dir, window),
        lambda: read_external_api_costs(source_dir, window),
        # FOCUS exports are files of the source folder in every target.
        lambda: focus.validate_exports(source_dir),
    ]
    if target.name == "local":
        checks += _cost_explorer_checks(target, settings, window)
        checks += [lambda: databricks.read_usage_export(source_dir, *(window or (None, None))),
                   lambda: databricks.read_list_prices_export(source_dir)]
        checks += [lambda view=view: snowflake_usage.check_usage_export(source_dir / snowflake_usage.SOURCE_FOLDER,
                                                                        view, window)
                   for view in snowflake_usage.USAGE_VIEWS]
    for check in checks:
        try:
            check()
        except CostattrInputError as error:
            problems.append(Problem(str(error)))
    return problems


def validate_inputs(target: Target, start: dt.date | None = None, end: dt.date | None = None) -> list[str]:
    """One line per problem that blocks a run over ``[start, end)`` (every problem without a range)."""
    window = (start, end) if start is not None and end is not None else None
    return [problem.message for problem in find_problems(target, window)]


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


def describe(problems: list[Problem]) -> list[str]:
    """``costattr validate``'s lines: each problem and the runs it blocks."""
    return [problem.line for problem in problems]

