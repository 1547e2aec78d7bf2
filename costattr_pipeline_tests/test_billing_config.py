"""rate_card.yaml and tenants.yaml: validation messages, and bills computed by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from costattr_pipeline.lib.billing_config import load_billing_config
from costattr_pipeline.lib.errors import ConfigError
from costattr_pipeline_tests.builders import write_config

D = Decimal
RATE_CARD = """\
versions:
  - version: "2026.1"
    effective_from: 2026-01-01
    effective_to: 2026-03-15
    currency: USD
    customer_levy: {standard: 500.00, premium: 1500.00}
    facility_fee: {risk-engine: 200.00, reporting: 90.00}
    variable:
      api_calls:
        tiers:
          - {up_to: 100000, unit_price: 0.001}
          - {up_to: 250000, unit_price: 0.0008}
          - {up_to: null, unit_price: 0.0005}
    pass_through_markup_pct: 10
  - version: "2026.2"
    effective_from: 2026-03-15
    effective_to: null
    currency: USD
    customer_levy: {standard: 600.00, premium: 1800.00}
    facility_fee: {risk-engine: 250.00, reporting: 100.00}
    variable:
      api_calls:
        tiers: [{up_to: 100000, unit_price: 0.002}, {up_to: null, unit_price: 0.001}]
    pass_through_markup_pct: 20
"""
TENANTS = """\
tiers:
  standard: {included: {api_calls: 50000}}
  premium: {included: {api_calls: 500000}}
tenants:
  acme:
    tiers:
      - {tier: standard, effective_from: 2026-01-01, effective_to: 2026-03-15}
      - {tier: premium, effective_from: 2026-03-15, effective_to: null}
    modules:
      - {module_id: risk-engine, effective_from: 2026-01-01, effective_to: null}
      - {module_id: reporting, effective_from: 2026-03-10, effective_to: null}
  globex:
    tiers: [{tier: standard, effective_from: 2026-01-01, effective_to: null}]
"""


def _config(folder: Path, rate_card: str = RATE_CARD, tenants: str = TENANTS):
    write_config(folder, "rate_card.yaml", rate_card)
    write_config(folder, "tenants.yaml", tenants)
    return load_billing_config(folder)


def _error(folder: Path, rate_card: str = RATE_CARD, tenants: str = TENANTS) -> str:
    """The first problem: of the files themselves (raised when read), else of a period the files reach
    (what `costattr validate` reports, and a run over that period refuses)."""
    try:
        config = _config(folder, rate_card, tenants)
    except ConfigError as error:
        return str(error)
    problems = config.period_problems(config.known_periods())
    assert problems, "the config is valid"
    return str(problems[0][1])


MARCH = dt.date(2026, 3, 1)


def test_mid_month_tier_change_module_activation_and_mid_month_version(tmp_path: Path) -> None:
    config = _config(tmp_path)
    bill = config.bill("acme", MARCH, {"api_calls": D(300000)}, D("12.35"))
    # Version 2026.2 starts on March 15: March keeps 2026.1, in force on March 1.
    assert bill.version.version == "2026.1"
    # Levy: 14 days standard + 17 days premium: (500 x 14 + 1500 x 17) / 31 = 1048.387...
    assert bill.bill.customer_levy == D("1048.39")
    # Fees: risk-engine all month (200) + reporting from March 10 (90 x 22 / 31 = 63.870...) = 263.870...
    assert bill.bill.facility_fee == D("263.87")
    # Allowance of the tier on March 1 (standard, 50000), although acme is premium from the 15th:
    # 250000 billable crosses two bounds: 100000 x 0.001 + 150000 x 0.0008 + 0 = 100 + 120.
    assert bill.allowance_tier == "standard"
    assert bill.bill.variable_consumption == D("220.00")
    # Pass-through: 12.35 x 1.10 = 13.585 -> 13.59 (half away from zero).
    assert bill.bill.pass_through == D("13.59")
    assert bill.bill.total == D("1048.39") + D("263.87") + D("220.00") + D("13.59")


def test_the_next_period_uses_the_new_version_and_the_new_tier(tmp_path: Path) -> None:
    config = _config(tmp_path)
    bill = config.bill("acme", dt.date(2026, 4, 1), {"api_calls": D(650000)}, D(100))
    assert bill.version.version == "2026.2"
    assert (bill.allowance_tier, bill.bill.customer_levy, bill.bill.facility_fee) == ("premium", D("1800.00"),
                                                                                      D("350.00"))
    # 650000 - 500000 = 150000: 100000 x 0.002 + 50000 x 0.001 = 250; pass-through 100 x 1.2.
    assert (bill.bill.variable_consumption, bill.bill.pass_through) == (D("250.00"), D("120.00"))


def test_usage_below_the_allowance_costs_nothing(tmp_path: Path) -> None:
    bill = _config(tmp_path).bill("globex", MARCH, {"api_calls": D(49999)}, D(0))
    assert (bill.bill.customer_levy, bill.bill.variable_consumption, bill.bill.total) == (D("500.00"), D("0.00"),
                                                                                         D("500.00"))


def test_a_tenant_starting_mid_month_gets_its_first_tier_allowance(tmp_path: Path) -> None:
    tenants = TENANTS + "  initech:\n    tiers: [{tier: premium, effective_from: 2026-02-15, effective_to: null}]\n"
    bill = _config(tmp_path, tenants=tenants).bill("initech", dt.date(2026, 2, 1), {"api_calls": D(500001)}, D(0))
    # 14 of 28 February days at 1500; no tier on Feb 1, so the first tier of the period (premium) gives the allowance.
    assert (bill.bill.customer_levy, bill.allowance_tier, bill.bill.variable_consumption) == (D("750.00"), "premium",
                                                                                              D("0.00"))


def test_both_files_missing_is_nothing_to_bill(tmp_path: Path) -> None:
    config = load_billing_config(tmp_path)
    assert (config.versions, dict(config.tenants), config.billable_tenants(MARCH)) == ((), {}, [])


@pytest.mark.parametrize("rate_card, tenants, where, rule", [
    (RATE_CARD.replace("effective_to: 2026-03-15\n    currency", "effective_to: 2026-03-20\n    currency"), TENANTS,
     "rate_card.yaml: versions[1]", "overlaps versions[0]"),
    (RATE_CARD.replace("effective_from: 2026-03-15\n", "effective_from: 2026-05-02\n"), TENANTS,
     "rate_card.yaml: period 2026-04", "no rate-card version is in force on 2026-04-01"),
    (RATE_CARD, TENANTS.replace("{tier: standard, effective_from: 2026-01-01, effective_to: null}",
                                "{tier: gold, effective_from: 2026-01-01, effective_to: null}"),
     "tenants.yaml: tenants.globex.tiers[0]", "unknown tier 'gold'"),
    (RATE_CARD.replace("premium: 1500.00}", "premium: 1500.00, gold: 9.00}"), TENANTS,
     "rate_card.yaml: versions[0].customer_levy.gold", "unknown tier 'gold'"),
    (RATE_CARD, TENANTS.replace("module_id: reporting", "module_id: billing-engine"),
     "tenants.yaml: tenants.acme.modules[1]", "unknown module 'billing-engine'"),
    (RATE_CARD, TENANTS.replace("premium: {included: {api_calls: 500000}}",
                                "premium: {included: {api_calls: 500000, sms: 10}}"),
     "tenants.yaml: tiers.premium.included.sms", "unknown metric 'sms'"),
    (RATE_CARD.replace("{up_to: 250000, unit_price: 0.0008}", "{up_to: 90000, unit_price: 0.0008}"), TENANTS,
     "rate_card.yaml: versions[0].variable.api_calls.tiers[1]", "tiers must be ascending"),
    (RATE_CARD.replace("{up_to: null, unit_price: 0.001}", "{up_to: 900000, unit_price: 0.001}"), TENANTS,
     "rate_card.yaml: versions[1].variable.api_calls.tiers[1]", "the last tier must be open"),
    (RATE_CARD.replace("reporting: 100.00", "reporting: -100.00"), TENANTS,
     "rate_card.yaml: versions[1].facility_fee", "'reporting' must not be negative"),
    (RATE_CARD.replace("unit_price: 0.0005", "unit_price: -0.0005"), TENANTS,
     "rate_card.yaml: versions[0].variable.api_calls.tiers[2]", "'unit_price' must not be negative"),
    (RATE_CARD, TENANTS.replace("effective_from: 2026-03-15, effective_to: null}",
                                "effective_from: 2026-03-01, effective_to: null}"),
     "tenants.yaml: tenants.acme.tiers[1]", "overlaps tenants.acme.tiers[0]"),
    (RATE_CARD.replace("customer_levy: {standard: 600.00, premium: 1800.00}", "customer_levy: {standard: 600.00}"),
     TENANTS, "rate_card.yaml: versions[1].customer_levy", "no levy for tier 'premium'"),
    (RATE_CARD.replace("currency: USD", "currency: EUR", 1), TENANTS,
     "rate_card.yaml: versions[0]", "currency must be USD"),
    ("versions: []\n", TENANTS, "tenants.yaml: tiers.standard.included.api_calls", "unknown metric 'api_calls'"),
    (RATE_CARD, TENANTS.replace("    tiers: [{tier: standard, effective_from: 2026-01-01, effective_to: null}]",
                                "    tiers: [{tier: standard, effective_from: 2026-01-01, effective_to: 9999-12-31}]"),
     "tenants.yaml: tenants.globex.tiers[0]", "9999-12-31 is beyond the last billing period"),
    ("versions: []\n", "tiers: {standard: {}}\ntenants:\n  acme:\n    tiers: [{tier: standard, effective_from: "
     "2026-02-03, effective_to: null}]\n", "rate_card.yaml: period 2026-02", "no rate-card version"),
])
def test_invalid_config_names_file_entry_and_rule(tmp_path: Path, rate_card: str, tenants: str, where: str,
                                                  rule: str) -> None:
    message = _error(tmp_path, rate_card, tenants)
    assert f"{tmp_path}/{where}" in message
    assert rule in message


def test_a_version_ending_in_the_future_is_checked_only_when_a_run_reaches_the_gap(tmp_path: Path) -> None:
    config = _config(tmp_path, RATE_CARD.replace("effective_from: 2026-03-15\n    effective_to: null",
                                                 "effective_from: 2026-03-15\n    effective_to: 2027-01-01"))
    config.check_periods(dt.date(2026, 12, 1), dt.date(2027, 1, 1))
    with pytest.raises(ConfigError, match="period 2027-01: no rate-card version is in force on 2027-01-01"):
        config.check_periods(dt.date(2026, 12, 1), dt.date(2027, 2, 1))
