"""settings.yaml: defaults, exact decimals, dated windows, and errors that name file, entry and rule."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from costattr_pipeline.lib.config import load_settings
from costattr_pipeline.lib.errors import ConfigError


def _settings(tmp_path: Path, text: str):
    (tmp_path / "settings.yaml").write_text(text, encoding="utf-8")
    return load_settings(tmp_path)


def test_missing_file_means_defaults(tmp_path: Path) -> None:
    settings = load_settings(tmp_path)
    assert settings.threshold_on(dt.date(2030, 5, 1)) == Decimal("0.02")
    assert settings.aws.tenant_tag == "tenant_id"
    assert settings.snowflake.idle_policy == "proportional"


def test_contract_example_parses_with_exact_decimals(tmp_path: Path) -> None:
    settings = _settings(tmp_path, """
partitions_start: 2024-01-01
unattributed_threshold:
  - {effective_from: 2026-01-01, effective_to: 2026-07-01, value: 0.02}
  - {effective_from: 2026-07-01, effective_to: null, value: 0.015}
aws: {tenant_tag: tenant_id, module_tag: module_id}
snowflake:
  tenant_tag: TENANT_ID
  idle_policy: separate
  credit_price_usd:
    - {effective_from: 2025-01-01, effective_to: null, price: 3.00}
    - {effective_from: 2025-01-01, effective_to: null, price: 2.50, warehouse: WH_ACME}
databricks: {product_tag: data_product_id, tenant_tag: tenant_id}
unit_costs: {category_prefix: costattr}
""")
    assert settings.partitions_start == dt.date(2024, 1, 1)
    assert settings.threshold_on(dt.date(2026, 6, 30)) == Decimal("0.02")
    assert settings.threshold_on(dt.date(2026, 7, 1)) == Decimal("0.015")
    assert isinstance(settings.threshold_on(dt.date(2026, 7, 1)), Decimal)
    # Before the first window the 2 % default applies.
    assert settings.threshold_on(dt.date(2025, 12, 31)) == Decimal("0.02")
    assert [price.value.price for price in settings.snowflake.credit_price_usd] == [Decimal("3.00"), Decimal("2.50")]
    assert settings.snowflake.idle_policy == "separate"


@pytest.mark.parametrize("text, where, rule", [
    ("""unattributed_threshold:
  - {effective_from: 2026-01-01, effective_to: null, value: 0.02}
  - {effective_from: 2026-06-01, effective_to: null, value: 0.03}
""", "unattributed_threshold[1]", "overlaps unattributed_threshold[0]"),
    ("unattributed_threshold:\n  - {effective_from: 2026-01-01, effective_to: null, value: -0.1}\n",
     "unattributed_threshold[0]", "must not be negative"),
    ("unattributed_threshold:\n  - {effective_from: 2026-02-01, effective_to: 2026-01-01, value: 0.1}\n",
     "unattributed_threshold[0]", "must be after effective_from"),
    ("unattributed_treshold: []\n", None, "unknown key 'unattributed_treshold'"),
    ("snowflake: {idle_policy: sometimes}\n", "snowflake", "idle_policy must be one of"),
    ("""snowflake:
  credit_price_usd:
    - {effective_from: 2025-01-01, effective_to: null, price: 2.50, warehouse: WH_A}
    - {effective_from: 2025-06-01, effective_to: null, price: 2.00, warehouse: WH_A}
""", "snowflake.credit_price_usd[1]", "overlaps"),
    ("partitions_start: [1\n", "line", "invalid YAML"),
])
def test_invalid_settings_name_file_entry_and_rule(tmp_path: Path, text: str, where: str | None, rule: str) -> None:
    with pytest.raises(ConfigError) as raised:
        _settings(tmp_path, text)
    message = str(raised.value)
    assert message.startswith(str(tmp_path / "settings.yaml"))
    assert rule in message
    if where:
        assert where in message
    assert "\n" not in message


def test_per_warehouse_prices_do_not_overlap_the_general_price(tmp_path: Path) -> None:
    settings = _settings(tmp_path, """snowflake:
  credit_price_usd:
    - {effective_from: 2025-01-01, effective_to: null, price: 3.00}
    - {effective_from: 2025-01-01, effective_to: null, price: 2.50, warehouse: WH_ACME}
""")
    assert len(settings.snowflake.credit_price_usd) == 2
