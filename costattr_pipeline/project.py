"""What every concern's definitions are built from: the project's settings, its partitions, its schedules.

The daily and monthly partitions start at ``partitions_start`` of settings.yaml, a user's file, so
they cannot exist at import time: each concern under ``defs/`` builds its definitions in a
``@dg.definitions`` function, which Dagster calls while it loads the code location, and asks
:func:`current_project` for the project being loaded. :func:`build_definitions
<costattr_pipeline.definitions.build_definitions>` names that project explicitly for the
duration of the load (:func:`loading`); nothing is read from the environment here.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from costattr_pipeline.lib.config import Settings

TIMEZONE = "UTC"
DayRange = tuple[dt.date, dt.date]  # first and last day, inclusive


@dataclass(frozen=True)
class Project:
    """The validated settings of the code location being loaded, and the partitions they imply."""

    settings: Settings

    @cached_property
    def daily(self) -> dg.DailyPartitionsDefinition:
        """One partition per UTC day from ``partitions_start``; today is included as a provisional partition."""
        return dg.DailyPartitionsDefinition(
            start_date=self.settings.partitions_start.isoformat(), timezone=TIMEZONE, end_offset=1)

    @cached_property
    def monthly(self) -> dg.MonthlyPartitionsDefinition:
        """Calendar months (billing periods); the open period has a partition (end_offset=1)."""
        start = self.settings.partitions_start.replace(day=1)
        return dg.MonthlyPartitionsDefinition(start_date=start.isoformat(), timezone=TIMEZONE, end_offset=1)

    def clip(self, days: DayRange) -> DayRange:
        """``days`` with its first day moved to ``partitions_start`` when earlier (no partition before it)."""
        first, last = days
        start = self.settings.partitions_start
        return max(first, start), max(last, start)


_LOADING: contextvars.ContextVar[Project] = contextvars.ContextVar("costattr_project")


@contextlib.contextmanager
def loading(project: Project) -> Iterator[Project]:
    """Make ``project`` the one :func:`current_project` returns while the defs folder is loaded."""
    token = _LOADING.set(project)
    try:
        yield project
    finally:
        _LOADING.reset(token)


def current_project() -> Project:
    """The project whose definitions are being loaded (see the module docstring)."""
    try:
        return _LOADING.get()
    except LookupError:
        raise RuntimeError("costattr definitions are loaded through costattr_pipeline.definitions "
                           "(build_definitions or the `defs` entry point), which names the project") from None


def window_dates(context: dg.AssetExecutionContext) -> tuple[dt.date, dt.date]:
    """The run's half-open day window ``[start, end)``: one partition, or the whole range of a single-run backfill."""
    window = context.partition_time_window
    return window.start.date(), window.end.date()


def range_request(run_key: str, first: dt.date | str, last: dt.date | str) -> dg.RunRequest:
    """A run over the partition keys ``first``..``last`` (inclusive) as one single-run range
    (one partition: a plain partitioned run)."""
    if str(first) == str(last):
        return dg.RunRequest(run_key=run_key, partition_key=str(first))
    return dg.RunRequest(run_key=run_key, tags={
        ASSET_PARTITION_RANGE_START_TAG: str(first), ASSET_PARTITION_RANGE_END_TAG: str(last)})


def range_schedule(name: str, cron: str, job: dg.UnresolvedAssetJobDefinition,
                   keys: Callable[[dt.datetime], tuple[dt.date | str, dt.date | str]],
                   description: str) -> dg.ScheduleDefinition:
    """A UTC schedule whose every tick runs ``job`` once over the partition-key range ``keys(tick)``.

    Every costattr schedule is one of these: a tick recomputes a trailing range of days or months
    as one single-run backfill (not one run per partition). The run key is the schedule and the
    tick, so a daemon that evaluates a tick again launches nothing twice. Schedules start stopped:
    a user turns them on in the UI once the sources are in place.
    """
    @dg.schedule(name=name, cron_schedule=cron, job=job, execution_timezone=TIMEZONE, description=description,
                 default_status=dg.DefaultScheduleStatus.STOPPED)
    def _schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        tick = context.scheduled_execution_time.astimezone(dt.timezone.utc)
        first, last = keys(tick)
        return range_request(f"{name}:{tick.isoformat()}", first, last)

    return _schedule


def month_key(day: dt.date) -> str:
    """The monthly partition key of ``day``'s calendar month."""
    return day.replace(day=1).isoformat()
