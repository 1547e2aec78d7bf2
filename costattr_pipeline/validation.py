"""``costattr validate``: every problem in the config and source folders, nothing written."""

from __future__ import annotations

from pathlib import Path

from costattr_pipeline.lib.billing_config import load_billing_config
from costattr_pipeline.lib.config import Settings, load_settings
from costattr_pipeline.lib.cost_explorer import parse_fetch
from costattr_pipeline.lib.errors import CostattrInputError
from costattr_pipeline.lib.usage_sources import read_external_api_costs, read_usage_events
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
    problems: list[str] = _billing_problems(target)
    if target.name == "local":
        problems += _cost_explorer_problems(target.source_dir, settings)
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


def _billing_problems(target: Target) -> list[str]:
    """rate_card.yaml + tenants.yaml (validated together), then the usage sources."""
    problems = []
    for check in (lambda: load_billing_config(target.config_dir),
                  lambda: read_usage_events(target.source_dir),
                  lambda: read_external_api_costs(target.source_dir)):
        try:
            check()
        except CostattrInputError as error:
            problems.append(str(error))
    return problems
