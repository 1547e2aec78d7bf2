"""``costattr validate``: every problem in the config and source folders, nothing written."""

from __future__ import annotations

from pathlib import Path

from costattr_pipeline.lib.config import Settings, load_settings
from costattr_pipeline.lib.cost_explorer import parse_fetch
from costattr_pipeline.lib.databricks import read_list_prices_export, read_usage_export
from costattr_pipeline.lib.errors import CostattrInputError
from costattr_pipeline.target import Target


def validate_inputs(target: Target) -> list[str]:
    """Check the config and every local source file; return one line per problem.

    Source checks need valid settings (tag names), so a broken settings.yaml is
    reported alone.
    """
    try:
        settings = load_settings(target.config_dir)
    except CostattrInputError as error:
        return [str(error)]
    problems: list[str] = []
    if target.name == "local":
        problems += _cost_explorer_problems(target.source_dir, settings)
        problems += _databricks_problems(target.source_dir)
    problems += _unit_cost_problems(target)
    return problems


def _unit_cost_problems(target: Target) -> list[str]:
    from costattr_pipeline.defs.unit_costs.assets import read_unit_drivers
    from costattr_pipeline.lib.source_files import find_table_file
    from costattr_pipeline.lib.unit_costs import load_unit_costs

    problems = []
    for check in (lambda: load_unit_costs(target.config_dir),
                  lambda: read_unit_drivers(find_table_file(Path(target.source_dir) / "usage", "unit_drivers"))):
        try:
            check()
        except CostattrInputError as error:
            problems.append(str(error))
    return problems


def _cost_explorer_problems(source_dir: Path, settings: Settings) -> list[str]:
    problems = []
    for path in sorted((Path(source_dir) / "aws_cost_explorer").glob("*.json")):
        try:
            parse_fetch(path, tenant_tag=settings.aws.tenant_tag, module_tag=settings.aws.module_tag,
                        metric=settings.aws.metric, display_name=f"aws_cost_explorer/{path.name}")
        except CostattrInputError as error:
            problems.append(str(error))
    return problems


def _databricks_problems(source_dir: Path) -> list[str]:
    problems = []
    for read in (read_usage_export, read_list_prices_export):
        try:
            read(source_dir)
        except CostattrInputError as error:
            problems.append(str(error))
    return problems
