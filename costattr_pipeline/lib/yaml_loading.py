"""YAML loading that keeps numbers exact.

PyYAML turns ``0.02`` into a binary float; config amounts and shares must stay
exact, so floats are constructed as Decimal from their source text.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from costattr_pipeline.lib.errors import ConfigError


class _ExactLoader(yaml.SafeLoader):
    pass


def _decimal_constructor(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal:
    text = loader.construct_scalar(node).replace("_", "")  # type: ignore[arg-type]
    return Decimal(text)


_ExactLoader.add_constructor("tag:yaml.org,2002:float", _decimal_constructor)


def load_yaml(path: Path) -> Any:
    """Parse a YAML file with exact decimals; a syntax error names the file and line."""
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.load(handle, Loader=_ExactLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}" if mark is not None else None
        raise ConfigError(str(path), where, f"invalid YAML: {error.problem}") from error
