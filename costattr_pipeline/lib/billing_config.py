"""``rate_card.yaml`` and ``tenants.yaml``: typed, validated together, with the bill of a period.

The shapes are fixed by the contract (section 3). The two files are validated
together because each names the other's keys: the rate card prices the tiers
that tenants.yaml defines, tenants.yaml activates the modules the rate card
prices and grants allowances on the metrics it prices. Every error names the
file, the entry and the rule, and is raised before anything is written.

A billing period is a calendar month. The rate-card version in force on the
period's first day binds the whole period, so a version that starts mid-month
first applies to the next period.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from costattr_pipeline.lib.config import _Reader, reject_overlaps
from costattr_pipeline.lib.dated import Dated, Window, in_force
from costattr_pipeline.lib.errors import ConfigError
from costattr_pipeline.lib.tariff import (Bill, PriceTier, assemble_bill, days_in_month, prorated, variable_charge,
                                          with_markup)
from costattr_pipeline.lib.yaml_loading import load_yaml

RATE_CARD_FILE = "rate_card.yaml"
TENANTS_FILE = "tenants.yaml"
# Costs (AWS, Snowflake, Databricks, external APIs) are in USD and costattr has no exchange
# rates, so a bill in another currency could not add its pass-through to its fees.
BILLING_CURRENCY = "USD"


@dataclass(frozen=True)
class RateCardVersion:
    """One dated version of the rate card; ``index`` is its position in ``versions`` (for messages)."""

    version: str
    window: Window
    currency: str
    customer_levy: Mapping[str, Decimal]
    facility_fee: Mapping[str, Decimal]
    variable: Mapping[str, tuple[PriceTier, ...]]
    pass_through_markup_pct: Decimal
    index: int = 0


@dataclass(frozen=True)
class TenantPlan:
    """A tenant's dated tier history and dated module activations."""

    tenant_id: str
    tiers: tuple[Dated[str], ...] = ()
    modules: tuple[Dated[str], ...] = ()


@dataclass(frozen=True)
class TenantBill:
    """A tenant's bill for one period, with what it was computed from."""

    tenant_id: str
    period_start: dt.date
    version: RateCardVersion
    bill: Bill
    allowance_tier: str | None


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def months(start: dt.date, end: dt.date) -> list[dt.date]:
    """First days of the calendar months that the day window ``[start, end)`` touches."""
    result = []
    cursor = month_start(start)
    while cursor < end:
        result.append(cursor)
        cursor = next_month(cursor)
    return result


def overlap_days(window: Window, start: dt.date, end: dt.date) -> int:
    """Days of ``window`` inside ``[start, end)``."""
    first = max(window.start, start)
    last = end if window.end is None else min(window.end, end)
    return max(0, (last - first).days)


@dataclass(frozen=True)
class BillingConfig:
    """The rate card and the tenants, validated against each other."""

    versions: tuple[RateCardVersion, ...] = ()
    tiers: Mapping[str, Mapping[str, Decimal]] = field(default_factory=dict)  # tier -> metric -> included
    tenants: Mapping[str, TenantPlan] = field(default_factory=dict)
    rate_card_source: str = RATE_CARD_FILE
    tenants_source: str = TENANTS_FILE
    content_hash: str = ""
    # Periods already checked -> their binding version: a bill checks its period, and a period has
    # a thousand tenants' bills, each check scanning every tenant (the config never changes).
    _checked_periods: dict[dt.date, "RateCardVersion | None"] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False)

    def version_in_force(self, day: dt.date) -> RateCardVersion | None:
        for version in self.versions:
            if version.window.contains(day):
                return version
        return None

    def billable_tenants(self, period_start: dt.date) -> list[str]:
        """Tenants with a tier or an active module on at least one day of the period."""
        end = next_month(period_start)
        return sorted(tenant_id for tenant_id, plan in self.tenants.items()
                      if any(overlap_days(entry.window, period_start, end) for entry in plan.tiers + plan.modules))

    def allowance_tier(self, plan: TenantPlan, period_start: dt.date) -> str | None:
        """The tier whose allowance applies: the tier in force on period_start.

        A tenant that starts mid-period has no tier on period_start; it gets the allowance
        of its first tier in the period (decision, docs/billing.md), never none at all.
        """
        entry = in_force(plan.tiers, period_start)
        if entry is not None:
            return entry.value
        end = next_month(period_start)
        in_period = sorted((entry for entry in plan.tiers if overlap_days(entry.window, period_start, end)),
                           key=lambda entry: entry.window.start)
        return in_period[0].value if in_period else None

    def check_period(self, period_start: dt.date) -> RateCardVersion | None:
        """Raise ConfigError unless every billable tenant of the period can be billed.

        Returns the binding version (None when nobody is billable).
        """
        if period_start in self._checked_periods:
            return self._checked_periods[period_start]
        tenants = self.billable_tenants(period_start)
        if not tenants:
            return None
        version = self.version_in_force(period_start)
        label = f"period {period_start:%Y-%m}"
        if version is None:
            raise ConfigError(self.rate_card_source, label,
                              f"no rate-card version is in force on {period_start}, the period start, but tenant "
                              f"{tenants[0]!r} is billable in it ({self.tenants_source}: tenants.{tenants[0]})")
        end = next_month(period_start)
        where = f"versions[{version.index}]"
        for tenant_id in tenants:
            plan = self.tenants[tenant_id]
            for entry in plan.tiers:
                if overlap_days(entry.window, period_start, end) and entry.value not in version.customer_levy:
                    raise ConfigError(self.rate_card_source, f"{where}.customer_levy",
                                      f"version {version.version!r} binds {label} but has no levy for tier "
                                      f"{entry.value!r}, which tenant {tenant_id!r} has in that period")
            for entry in plan.modules:
                if overlap_days(entry.window, period_start, end) and entry.value not in version.facility_fee:
                    raise ConfigError(self.rate_card_source, f"{where}.facility_fee",
                                      f"version {version.version!r} binds {label} but has no facility fee for "
                                      f"module {entry.value!r}, which tenant {tenant_id!r} has active in that period")
        self._checked_periods[period_start] = version
        return version

    def check_periods(self, start: dt.date, end: dt.date) -> None:
        """Check every period that the day window ``[start, end)`` touches."""
        for period_start in months(start, end):
            self.check_period(period_start)

    def check_known_periods(self) -> None:
        """Check the periods the files themselves make reachable (``costattr validate`` has no run range).

        That is every period from the first tenant entry to the last day either file mentions,
        plus the period after it, which stands for every later one (nothing changes after that
        day). That later period is skipped when no version is in force in it: an open-ended tenant
        after the last version's end is only an error once a run reaches that period.
        """
        entries = [entry for plan in self.tenants.values() for entry in plan.tiers + plan.modules]
        if not entries:
            return
        windows = [entry.window for entry in entries] + [version.window for version in self.versions]
        last = max([window.start for window in windows]
                   + [window.end - dt.timedelta(days=1) for window in windows if window.end is not None])
        first = min(entry.window.start for entry in entries)
        for period_start in months(first, next_month(last) + dt.timedelta(days=1)):
            if period_start > last and self.version_in_force(period_start) is None:
                continue
            self.check_period(period_start)

    def bill(self, tenant_id: str, period_start: dt.date, usage: Mapping[str, Decimal],
             external_cost: Decimal) -> TenantBill:
        """The tenant's bill for the period from its usage per metric and external API cost (contract 4)."""
        version = self.check_period(period_start)
        plan = self.tenants[tenant_id]
        if version is None:
            raise ConfigError(self.tenants_source, f"tenants.{tenant_id}",
                              f"not billable in period {period_start:%Y-%m} (no tier and no module in force)")
        end = next_month(period_start)
        month_days = days_in_month(period_start)
        levy = prorated([(version.customer_levy[entry.value], overlap_days(entry.window, period_start, end))
                         for entry in plan.tiers], month_days)
        fees = prorated([(version.facility_fee[entry.value], overlap_days(entry.window, period_start, end))
                         for entry in plan.modules], month_days)
        tier = self.allowance_tier(plan, period_start)
        allowances = self.tiers.get(tier, {}) if tier else {}
        consumption = variable_charge(usage, allowances, version.variable)
        pass_through = with_markup(external_cost, version.pass_through_markup_pct)
        return TenantBill(tenant_id, period_start, version, assemble_bill(levy, fees, consumption, pass_through), tier)


# --- parsing -------------------------------------------------------------------------------------


def _name(value: Any) -> str:
    """A key that YAML may have read as a number (``version: 2026.1``) kept as its text."""
    return str(value).strip()


def _price_tiers(reader: _Reader) -> tuple[PriceTier, ...]:
    reader.only_keys({"tiers"})
    entries = reader.entries("tiers")
    if not entries:
        reader.fail("'tiers' must list at least one tier")
    tiers: list[PriceTier] = []
    for position, entry in enumerate(entries):
        entry.only_keys({"up_to", "unit_price"})
        if "up_to" not in entry.data:
            entry.fail("'up_to' is required (null for the open last tier)")
        up_to = None if entry.data["up_to"] is None else entry.decimal("up_to")
        last = position == len(entries) - 1
        if up_to is None and not last:
            entry.fail("only the last tier may be open (up_to: null)")
        if up_to is not None and last:
            entry.fail(f"the last tier must be open (up_to: null), got up_to {up_to}")
        if up_to is not None:
            previous = tiers[-1].up_to if tiers else Decimal(0)
            if up_to <= previous:  # type: ignore[operator]
                entry.fail(f"tiers must be ascending: up_to {up_to} is not above the previous bound {previous}")
        tiers.append(PriceTier(up_to, entry.decimal("unit_price")))
    return tuple(tiers)


def _amounts(reader: _Reader) -> dict[str, Decimal]:
    return {_name(key): reader.decimal(key) for key in reader.data}


def parse_rate_card(data: Any, source: str = RATE_CARD_FILE) -> list[RateCardVersion]:
    """Validate the rate card on its own (shapes, prices, tiers, overlapping versions)."""
    root = _Reader(source, "", data)
    root.only_keys({"versions"})
    versions: list[RateCardVersion] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(root.entries("versions")):
        entry.only_keys({"version", "effective_from", "effective_to", "currency", "customer_levy", "facility_fee",
                         "variable", "pass_through_markup_pct"})
        if entry.data.get("version") is None or not _name(entry.data["version"]):
            entry.fail("'version' is required")
        name = _name(entry.data["version"])
        if name in seen:
            entry.fail(f"version {name!r} is already defined by versions[{seen[name]}]")
        seen[name] = index
        currency = entry.text("currency", BILLING_CURRENCY)
        if currency != BILLING_CURRENCY:
            entry.fail(f"currency must be {BILLING_CURRENCY} (every cost is in USD and there are no exchange rates), "
                       f"got {currency!r}")
        variable_section = entry.section("variable")
        variable = {_name(metric): _price_tiers(variable_section.section(metric)) for metric in variable_section.data}
        markup = entry.decimal("pass_through_markup_pct") if "pass_through_markup_pct" in entry.data else Decimal(0)
        versions.append(RateCardVersion(
            version=name, window=entry.window(), currency=currency,
            customer_levy=_amounts(entry.section("customer_levy")),
            facility_fee=_amounts(entry.section("facility_fee")),
            variable=variable, pass_through_markup_pct=markup, index=index,
        ))
    reject_overlaps(source, "versions", [Dated(version.window, version) for version in versions])
    return versions


def parse_billing_config(rate_card: Any, tenants: Any, rate_card_source: str = RATE_CARD_FILE,
                         tenants_source: str = TENANTS_FILE, content_hash: str = "") -> BillingConfig:
    """Validate both files and their cross-references into a :class:`BillingConfig`."""
    versions = parse_rate_card(rate_card, rate_card_source)
    metrics = {metric for version in versions for metric in version.variable}
    modules = {module for version in versions for module in version.facility_fee}

    root = _Reader(tenants_source, "", tenants)
    root.only_keys({"tiers", "tenants"})
    tiers_section = root.section("tiers")
    tiers: dict[str, dict[str, Decimal]] = {}
    for tier_name in tiers_section.data:
        tier = tiers_section.section(tier_name)
        tier.only_keys({"included"})
        included = tier.section("included")
        for metric in included.data:
            if _name(metric) not in metrics:
                included.fail(f"unknown metric {_name(metric)!r}: no rate-card version prices it "
                              f"(priced: {', '.join(sorted(metrics)) or 'none'})", f"{included.where}.{metric}")
        tiers[_name(tier_name)] = _amounts(included)

    for version in versions:
        for tier_name in version.customer_levy:
            if tier_name not in tiers:
                raise ConfigError(rate_card_source, f"versions[{version.index}].customer_levy.{tier_name}",
                                  f"unknown tier {tier_name!r} (tiers in {tenants_source}: "
                                  f"{', '.join(sorted(tiers)) or 'none'})")

    plans: dict[str, TenantPlan] = {}
    tenants_section = root.section("tenants")
    for tenant_id in tenants_section.data:
        tenant = tenants_section.section(tenant_id)
        tenant.only_keys({"tiers", "modules"})
        tier_history: list[Dated[str]] = []
        for entry in tenant.entries("tiers"):
            entry.only_keys({"tier", "effective_from", "effective_to"})
            tier_name = entry.text("tier", "")
            if tier_name not in tiers:
                entry.fail(f"unknown tier {tier_name!r} (tiers: {', '.join(sorted(tiers)) or 'none'})")
            tier_history.append(Dated(entry.window(), tier_name))
        reject_overlaps(tenants_source, f"{tenant.where}.tiers", tier_history)
        module_history: list[Dated[str]] = []
        for entry in tenant.entries("modules"):
            entry.only_keys({"module_id", "effective_from", "effective_to"})
            module_id = entry.text("module_id", "")
            if module_id not in modules:
                entry.fail(f"unknown module {module_id!r}: no rate-card version has a facility fee for it "
                           f"(modules: {', '.join(sorted(modules)) or 'none'})")
            module_history.append(Dated(entry.window(), module_id))
        reject_overlaps(tenants_source, f"{tenant.where}.modules", module_history, scope=lambda entry: entry.value)
        plans[_name(tenant_id)] = TenantPlan(_name(tenant_id), tuple(tier_history), tuple(module_history))

    config = BillingConfig(tuple(versions), tiers, plans, rate_card_source, tenants_source, content_hash)
    config.check_known_periods()
    return config


def _read(path: Path) -> tuple[Any, bytes]:
    if not path.exists():
        return None, b""
    return load_yaml(path), path.read_bytes()


def load_billing_config(config_dir: Path) -> BillingConfig:
    """Load and validate ``rate_card.yaml`` and ``tenants.yaml``; missing files are empty.

    With neither file there is nothing to bill. With tenants but no rate card, the first
    billable period has no version: an error.
    """
    rate_card_path = Path(config_dir) / RATE_CARD_FILE
    tenants_path = Path(config_dir) / TENANTS_FILE
    rate_card, rate_card_bytes = _read(rate_card_path)
    tenants, tenants_bytes = _read(tenants_path)
    digest = hashlib.sha256(b"rate_card\0" + rate_card_bytes + b"\0tenants\0" + tenants_bytes).hexdigest()[:16]
    return parse_billing_config(rate_card, tenants, str(rate_card_path), str(tenants_path), digest)


def tenant_usage(rows: Iterable[Mapping[str, Any]]) -> dict[tuple[str, dt.date], dict[str, Decimal]]:
    """Group aggregated (tenant_id, period_start, metric, quantity) rows into usage per tenant and period."""
    usage: dict[tuple[str, dt.date], dict[str, Decimal]] = {}
    for row in rows:
        usage.setdefault((row["tenant_id"], row["period_start"]), {})[row["metric"]] = Decimal(str(row["quantity"]))
    return usage
