"""The code location loads, validates, and its schedules ask for the right ranges."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import dagster as dg
import pytest

from costattr_pipeline.definitions import build_definitions, defs
from costattr_pipeline.target import Target

REPOSITORY = Path(__file__).resolve().parents[1]


def test_definitions_load_and_validate(target: Target, monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = build_definitions(target)
    dg.Definitions.validate_loadable(loaded)
    keys = {key.to_user_string() for key in loaded.resolve_asset_graph().get_all_asset_keys()}
    assert {"metering/aws_cost_daily", "metering/unattributed_costs"} <= keys
    for key in loaded.resolve_asset_graph().materializable_asset_keys:
        node = loaded.resolve_asset_graph().get(key)
        assert node.backfill_policy == dg.BackfillPolicy.single_run(), key
        assert node.partitions_def is not None, key
    # The lazy @definitions entry point Dagster loads builds the same thing.
    assert isinstance(defs(), dg.Definitions)


def test_no_deprecated_api_is_used(target: Target) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = build_definitions(target)
        dg.Definitions.validate_loadable(loaded)
        for name in ("cost_explorer_landing", "unattributed_monitor"):
            loaded.resolve_job_def(name)
    deprecated = [f"{w.filename}: {w.message}" for w in caught if issubclass(w.category, DeprecationWarning)
                  and "costattr_pipeline" in str(w.filename)]
    assert deprecated == []


@pytest.mark.parametrize("schedule_name, job_name", [("cost_explorer_daily", "cost_explorer_landing"),
                                                     ("unattributed_monitor_daily", "unattributed_monitor")])
def test_daily_schedules_cover_yesterday_and_two_restated_days(target: Target, schedule_name: str,
                                                               job_name: str) -> None:
    tick = dt.datetime(2026, 3, 10, 6 if "cost_explorer" in schedule_name else 8, tzinfo=dt.timezone.utc)
    # Resolve inside the test instance: Dagster's definitions state lookup needs a live instance.
    with dg.instance_for_test() as instance:
        schedule = build_definitions(target).resolve_schedule_def(schedule_name)
        assert schedule.execution_timezone == "UTC"
        assert schedule.job_name == job_name
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=tick)
        request = schedule.evaluate_tick(context).run_requests[0]
    assert request.tags["dagster/asset_partition_range_start"] == "2026-03-07"
    assert request.tags["dagster/asset_partition_range_end"] == "2026-03-09"
    cron = {"cost_explorer_daily": "0 6 * * *", "unattributed_monitor_daily": "0 8 * * *"}[schedule_name]
    assert schedule.cron_schedule == cron


def test_every_asset_is_materialized_by_a_schedule(target: Target) -> None:
    with dg.instance_for_test():
        loaded = build_definitions(target)
        repository = loaded.get_repository_def()
        scheduled = set()
        for schedule in repository.schedule_defs:
            assert schedule.execution_timezone == "UTC", schedule.name
            job = repository.get_job(schedule.job_name)
            scheduled |= set(job.asset_layer.executable_asset_keys)
        assets = set(loaded.resolve_asset_graph().materializable_asset_keys)
    assert assets - scheduled == set()


def test_prod_target_loads_with_the_same_asset_keys(target: Target) -> None:
    prod = Target.resolve("prod", str(target.source_dir), None, str(target.warehouse))
    with dg.instance_for_test():
        local_defs, prod_defs = build_definitions(target), build_definitions(prod)
        dg.Definitions.validate_loadable(prod_defs)
        keys = prod_defs.resolve_asset_graph().get_all_asset_keys()
        assert keys == local_defs.resolve_asset_graph().get_all_asset_keys()
        resources = prod_defs.resources or {}
    assert type(resources["warehouse"]).__name__ == "SnowflakeWarehouse"
    assert type(resources["cost_explorer"]).__name__ == "CostExplorerApi"
    assert resources["eventbridge"].enabled and resources["slack"].enabled


def test_a_run_loads_the_same_definitions_without_the_component_catalog(target: Target) -> None:
    import subprocess
    import sys

    full, for_a_run = build_definitions(target), build_definitions(target, component_catalog=False)
    graph, run_graph = full.resolve_asset_graph(), for_a_run.resolve_asset_graph()
    assert run_graph.get_all_asset_keys() == graph.get_all_asset_keys()
    assert run_graph.asset_check_keys == graph.asset_check_keys
    for kind in ("schedules", "sensors", "jobs"):
        assert sorted(item.name for item in getattr(for_a_run, kind)) == sorted(
            item.name for item in getattr(full, kind))
    assert "plugin_component_types_json" in (full.metadata or {})  # what the UI and dg read
    assert "plugin_component_types_json" not in (for_a_run.metadata or {})
    # Without the catalog, loading imports no installed integration the local target does not use.
    loaded = subprocess.run([sys.executable, "-c", (
        "import sys; from costattr_pipeline.definitions import build_definitions; "
        "from costattr_pipeline.target import Target; "
        f"build_definitions(Target.resolve('local', {str(target.source_dir)!r}, None, {str(target.warehouse)!r}), "
        "component_catalog=False); "
        "print(sorted(name for name in ('dagster_snowflake', 'dagster_aws', 'botocore', 'altair') if name in sys.modules))"
    )], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip().splitlines()[-1] == "[]"


def test_dg_checks_and_lists_the_definitions_from_the_checkout() -> None:
    """What the README promises a newcomer: `dg check defs` and `dg list defs` from the checkout, with no
    DAGSTER_HOME (dg then reads the project's dagster.yaml and its batched event storage by itself)."""
    environment = {name: value for name, value in os.environ.items()
                   if name != "DAGSTER_HOME" and not name.startswith("COSTATTR_")}
    dg_command = str(Path(sys.executable).with_name("dg"))
    checked = subprocess.run([dg_command, "check", "defs"], cwd=REPOSITORY, env=environment, capture_output=True,
                             text=True, timeout=600)
    assert checked.returncode == 0, checked.stderr[-2000:]
    assert "All definitions loaded successfully" in checked.stdout + checked.stderr
    listed = subprocess.run([dg_command, "list", "defs", "--json"], cwd=REPOSITORY, env=environment,
                            capture_output=True, text=True, timeout=600)
    assert listed.returncode == 0, listed.stderr[-2000:]
    keys = {asset["asset_key"] for asset in json.loads(listed.stdout)["assets"]}
    assert {"metering/unattributed_costs", "metering/k8s_project_daily_cost", "reports/monthly_cost_report"} <= keys
