"""Dagster's floor: costattr's asset graph with bodies that do nothing, to measure what Dagster alone costs.

A backfill's time is Dagster's bookkeeping (creating the run and its planned events, starting each step,
one materialization per asset and partition, each check's evaluation, the events stored in the instance)
plus what costattr's steps do (validation, the SQL, per-partition metadata, check queries). The first part
does not depend on costattr's code at all: it is the price of the assets, partitions and checks the UI
shows. Running the same graph with empty bodies, through the same runner and on the same instance, gives
it as a number, so the bench can say how much of the fixed cost is costattr's and how much is not.

The copy keeps, per step, what Dagster's cost depends on: the asset keys and their specs (dependencies,
partitions), the check specs, the backfill policy and the op's name. Each body reports every asset of
its step as materialized (Dagster records one materialization per partition of the run, as for the real
step) and every check as passed, with no metadata.
"""

from collections.abc import Iterator

import dagster as dg


def _empty_step(assets_def: dg.AssetsDefinition) -> dg.AssetsDefinition:
    """A step with ``assets_def``'s assets, checks, partitions and policy, whose body does nothing."""
    keys = sorted(assets_def.keys)
    checks = sorted(assets_def.check_specs, key=lambda spec: (spec.asset_key, spec.name))

    def body(_context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        for key in keys:
            yield dg.MaterializeResult(asset_key=key)
        for check in checks:
            yield dg.AssetCheckResult(asset_key=check.asset_key, check_name=check.name, passed=True)

    return dg.multi_asset(specs=[assets_def.get_asset_spec(key) for key in keys], check_specs=checks,
                          partitions_def=assets_def.partitions_def, backfill_policy=assets_def.backfill_policy,
                          name=assets_def.op.name)(body)


def floor_definitions(defs: dg.Definitions) -> dg.Definitions:
    """The executable assets of ``defs``, each step replaced by one that does nothing (no resources needed)."""
    graph = defs.resolve_asset_graph()
    return dg.Definitions(assets=[_empty_step(assets_def) for assets_def in graph.assets_defs
                                  if assets_def.is_executable])
