"""``costattr validate``: every problem in the config and source folders, nothing written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from costattr_pipeline.lib import databricks, focus, snowflake_usage
from costattr_pipeline.lib.billing_config import load_billing_config
from costattr_pipeline.lib.config import Settings, load_settings
from costattr_pipeline.lib.cost_explorer import parse_fetch
from costattr_pipeline.lib.errors import CostattrInputError
from costattr_pipeline.lib.unit_costs import load_unit_costs
from costattr_pipeline.lib.usage_sources import read_external_api_costs, read_unit_drivers, read_usage_events
from costattr_pipeline.target import Target


def validate_inputs(target: Target) -> list[str]:
    """Check the config and every local source file; return one line per problem.

    Source checks need valid settings (tag names), so a broken settings.yaml is
    reported alone. Each file is checked on its own, so every broken file is named.
    """
    try:
        settings = load_settings(target.config_dir)
    except CostattrInputError as error:
        return [str(error)]
    source_dir = Path(target.source_dir)
    checks: list[Callable[[], object]] = [
        lambda: load_unit_costs(target.config_dir),
        lambda: read_unit_drivers(source_dir),
        # rate_card.yaml and tenants.yaml are validated together.
        lambda: load_billing_config(target.config_dir),
        lambda: read_usage_events(source_dir),
        lambda: read_external_api_costs(source_dir),
        # FOCUS exports are files of the source folder in every target.
        lambda: focus.validate_exports(source_dir),
    ]
    if target.name == "local":
        checks += _cost_explorer_checks(source_dir, settings)
        checks += [lambda: databricks.read_usage_export(source_dir),
                   lambda: databricks.read_list_prices_export(source_dir)]
        checks += [lambda view=view: snowflake_usage.check_usage_export(source_dir / snowflake_usage.SOURCE_FOLDER,
                                                                        view)
                   for view in snowflake_usage.USAGE_VIEWS]
    return _problems(checks)


def _problems(checks: list[Callable[[], object]]) -> list[str]:
    problems = []
    for check in checks:
        try:
            check()
        except CostattrInputError as error:
            problems.append(str(error))
    return problems


def _cost_explorer_checks(source_dir: Path, settings: Settings) -> list[Callable[[], object]]:
    return [lambda path=path: parse_fetch(path, tenant_tag=settings.aws.tenant_tag, module_tag=settings.aws.module_tag,
                                          metric=settings.aws.metric, display_name=f"aws_cost_explorer/{path.name}")
            for path in sorted((source_dir / "aws_cost_explorer").glob("*.json"))]
