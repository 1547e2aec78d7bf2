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
import functools
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from costattr_pipeline.lib.config_model import (Amount, ConfigModel, DatedEntry, Entries, Name, NullMeans, Table, Text,
                                                bad_entry, bad_value, reject_overlaps, validate_files)
from costattr_pipeline.lib.dated import Dated, Window, in_force
from costattr_pipeline.lib.errors import ConfigError
from costattr_pipeline.lib.tariff import (Bill, PriceTier, assemble_bill, days_in_month, prorated, variable_charge,
                                          with_markup)
from costattr_pipeline.lib.yaml_loading import parse_yaml, read_config_file

RATE_CARD_FILE = "rate_card.yaml"
TENANTS_FILE = "tenants.yaml"
# Costs (AWS, Snowflake, Databricks, external APIs) are in USD and costattr has no exchange
# rates, so a bill in another currency could not add its pass-through to its fees.
BILLING_CURRENCY = "USD"
FIRST_UNBILLABLE_DAY = dt.date(9999, 11, 1)


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
    namespaces: Mapping[str, str] = field(default_factory=dict)  # Kubernetes namespace -> tenant id
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

    def known_periods(self) -> list[dt.date]:
        """The periods the files themselves make reachable (``costattr validate`` without a range).

        That is every period from the first tenant entry to the last day either file mentions,
        plus the period after it, which stands for every later one (nothing changes after that
        day). That later period is left out when no version is in force in it: an open-ended tenant
        after the last version's end is only an error once a run reaches that period.
        """
        entries = [entry for plan in self.tenants.values() for entry in plan.tiers + plan.modules]
        if not entries:
            return []
        windows = [entry.window for entry in entries] + [version.window for version in self.versions]
        last = max([window.start for window in windows]
                   + [window.end - dt.timedelta(days=1) for window in windows if window.end is not None])
        first = min(entry.window.start for entry in entries)
        return [period_start for period_start in months(first, next_month(last) + dt.timedelta(days=1))
                if not (period_start > last and self.version_in_force(period_start) is None)]

    def period_problems(self, periods: Iterable[dt.date]) -> list[tuple[dt.date, ConfigError]]:
        """Every period of ``periods`` that cannot be billed, with why (a run over it would be refused)."""
        problems = []
        for period_start in periods:
            try:
                self.check_period(period_start)
            except ConfigError as error:
                problems.append((period_start, error))
        return problems

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


# --- parsing: the two files' models, validated together -----------------------------------------


class PriceBand(ConfigModel):
    """One band of a graduated price."""

    up_to: Annotated[Amount | None, NullMeans("the open last tier")] = Field(
        description="Upper bound of the band (billable quantity); null for the open last band. Required.")
    unit_price: Amount = Field(description="USD per unit of billable quantity in this band.")


class GraduatedPrice(ConfigModel):
    """How a metric's billable quantity is priced: bands from the lowest to the open last one."""

    tiers: Entries[PriceBand] = Field(description="Bands in ascending order of up_to; only the last is open.")

    @field_validator("tiers")
    @classmethod
    def _ascending_with_an_open_last_band(cls, bands: tuple[PriceBand, ...]) -> tuple[PriceBand, ...]:
        if not bands:
            raise bad_value("must list at least one tier")
        previous = Decimal(0)
        for position, band in enumerate(bands):
            last = position == len(bands) - 1
            if band.up_to is None and not last:
                raise bad_entry("only the last tier may be open (up_to: null)", (position,))
            if band.up_to is not None and last:
                raise bad_entry(f"the last tier must be open (up_to: null), got up_to {band.up_to}", (position,))
            if band.up_to is not None:
                if band.up_to <= previous:
                    raise bad_entry(f"tiers must be ascending: up_to {band.up_to} is not above the previous bound "
                                    f"{previous}", (position,))
                previous = band.up_to
        return bands


class BilledEntry(DatedEntry):
    """A dated entry of the billing files, whose days fall in billing periods (calendar months)."""

    @model_validator(mode="after")
    def _in_a_billable_month(self) -> BilledEntry:
        # The periods after an entry are checked too, and datetime has no month after 9999-12.
        for day in (self.effective_from, self.effective_to):
            if day is not None and day >= FIRST_UNBILLABLE_DAY:
                raise bad_entry(f"{day} is beyond the last billing period (dates must be before "
                                f"{FIRST_UNBILLABLE_DAY}; effective_to: null keeps a window open)")
        return self


class RateCardVersionEntry(BilledEntry):
    """One dated version of the rate card; it binds every period whose first day it covers."""

    version: Name = Field(description='Name of the version, e.g. "2026.1" (unique in the file).')
    currency: Text = Field(BILLING_CURRENCY, description="Must be USD: every cost is in USD and there are no "
                                                         "exchange rates.", json_schema_extra={"enum": ["USD"]})
    customer_levy: Table[Name, Amount] = Field({}, description="Amount per period, by tier (prorated by day).")
    facility_fee: Table[Name, Amount] = Field({}, description="Amount per period, by module (prorated by active day).")
    variable: Table[Name, GraduatedPrice] = Field({}, description="Graduated prices per metric, on the quantity "
                                                                 "above the tier's allowance.")
    pass_through_markup_pct: Amount = Field(Decimal(0), description="Markup on external API costs, in percent.")

    @model_validator(mode="after")
    def _billed_in_usd(self) -> RateCardVersionEntry:
        if self.currency != BILLING_CURRENCY:
            raise bad_entry(f"currency must be {BILLING_CURRENCY} (every cost is in USD and there are no exchange "
                            f"rates), got {self.currency!r}")
        return self

    def to_version(self, index: int) -> RateCardVersion:
        return RateCardVersion(
            version=self.version, window=self.window, currency=self.currency, customer_levy=self.customer_levy,
            facility_fee=self.facility_fee, pass_through_markup_pct=self.pass_through_markup_pct, index=index,
            variable={metric: tuple(PriceTier(band.up_to, band.unit_price) for band in price.tiers)
                      for metric, price in self.variable.items()})


class RateCardFile(ConfigModel):
    """rate_card.yaml: the dated versions of the three-part tariff."""

    versions: Entries[RateCardVersionEntry] = Field((), description="Versions must not overlap; the one in force "
                                                                    "on a period's first day binds the period.")

    @field_validator("versions")
    @classmethod
    def _unique_and_not_overlapping(cls, versions: tuple[RateCardVersionEntry, ...]
                                    ) -> tuple[RateCardVersionEntry, ...]:
        first_index: dict[str, int] = {}
        for index, version in enumerate(versions):
            if version.version in first_index:
                raise bad_entry(f"version {version.version!r} is already defined by "
                                f"versions[{first_index[version.version]}]", (index,))
            first_index[version.version] = index
        reject_overlaps(versions)
        return versions

    @property
    def metrics(self) -> set[str]:
        return {metric for version in self.versions for metric in version.variable}

    @property
    def modules(self) -> set[str]:
        return {module for version in self.versions for module in version.facility_fee}


class TierAllowances(ConfigModel):
    """A tier tenants can be on."""

    included: Table[Name, Amount] = Field({}, description="Quantity included per period, by metric; usage above "
                                                          "it is billable.")


class TierAssignment(BilledEntry):
    """The tier a tenant is on during a window."""

    tier: Text = Field(description="A tier defined under `tiers`.")


class ModuleActivation(BilledEntry):
    """A module a tenant has active during a window."""

    module_id: Text = Field(description="A module some rate-card version has a facility fee for.")


class TenantEntry(ConfigModel):
    """A tenant's dated tiers and module activations."""

    tiers: Entries[TierAssignment] = Field((), description="Tier history; windows must not overlap.")
    modules: Entries[ModuleActivation] = Field((), description="Module activations; the same module's windows must "
                                                               "not overlap.")

    @field_validator("tiers")
    @classmethod
    def _one_tier_a_day(cls, tiers: tuple[TierAssignment, ...]) -> tuple[TierAssignment, ...]:
        reject_overlaps(tiers)
        return tiers

    @field_validator("modules")
    @classmethod
    def _one_activation_per_module_and_day(cls, modules: tuple[ModuleActivation, ...]
                                           ) -> tuple[ModuleActivation, ...]:
        reject_overlaps(modules, scope=lambda activation: activation.module_id)
        return modules


class TenantsFile(ConfigModel):
    """tenants.yaml: the tiers with their allowances, and each tenant's tiers and modules over time."""

    tiers: Table[Name, TierAllowances] = Field({}, description="Tiers by name (each priced by the rate card's "
                                                               "customer_levy).")
    tenants: Table[Name, TenantEntry] = Field({}, description="Tenants by id.")
    namespaces: Table[Name, Name] = Field({}, description="Kubernetes namespaces mapped to their tenant directly "
                                                          "(wins over the pod label settings kubernetes.tenant_label).")

    @model_validator(mode="after")
    def _tenants_on_known_tiers(self) -> TenantsFile:
        for tenant_id, tenant in self.tenants.items():
            for index, entry in enumerate(tenant.tiers):
                if entry.tier not in self.tiers:
                    raise bad_entry(f"unknown tier {entry.tier!r} (tiers: {', '.join(sorted(self.tiers)) or 'none'})",
                                    ("tenants", tenant_id, "tiers", index))
        return self


class BillingFiles(ConfigModel):
    """rate_card.yaml and tenants.yaml together: each names the other's keys."""

    rate_card: RateCardFile
    tenants: TenantsFile

    @model_validator(mode="after")
    def _cross_references(self, info: ValidationInfo) -> BillingFiles:
        metrics, modules = self.rate_card.metrics, self.rate_card.modules
        for tier_name, tier in self.tenants.tiers.items():
            for metric in tier.included:
                if metric not in metrics:
                    raise bad_entry(f"unknown metric {metric!r}: no rate-card version prices it "
                                    f"(priced: {', '.join(sorted(metrics)) or 'none'})",
                                    ("tenants", "tiers", tier_name, "included", metric))
        tenants_source = ((info.context or {}).get("sources") or {}).get("tenants", TENANTS_FILE)
        for index, version in enumerate(self.rate_card.versions):
            for tier_name in version.customer_levy:
                if tier_name not in self.tenants.tiers:
                    raise bad_entry(f"unknown tier {tier_name!r} (tiers in {tenants_source}: "
                                    f"{', '.join(sorted(self.tenants.tiers)) or 'none'})",
                                    ("rate_card", "versions", index, "customer_levy", tier_name))
        for tenant_id, tenant in self.tenants.tenants.items():
            for index, activation in enumerate(tenant.modules):
                if activation.module_id not in modules:
                    raise bad_entry(f"unknown module {activation.module_id!r}: no rate-card version has a facility "
                                    f"fee for it (modules: {', '.join(sorted(modules)) or 'none'})",
                                    ("tenants", "tenants", tenant_id, "modules", index))
        return self


def parse_billing_config(rate_card: Any, tenants: Any, rate_card_source: str = RATE_CARD_FILE,
                         tenants_source: str = TENANTS_FILE, content_hash: str = "") -> BillingConfig:
    """Validate both files and their cross-references into a :class:`BillingConfig`."""
    files = validate_files(BillingFiles, {"rate_card": (rate_card, rate_card_source),
                                          "tenants": (tenants, tenants_source)})
    plans = {tenant_id: TenantPlan(tenant_id, tuple(Dated(entry.window, entry.tier) for entry in tenant.tiers),
                                   tuple(Dated(entry.window, entry.module_id) for entry in tenant.modules))
             for tenant_id, tenant in files.tenants.tenants.items()}
    config = BillingConfig(tuple(version.to_version(index) for index, version in enumerate(files.rate_card.versions)),
                           {name: tier.included for name, tier in files.tenants.tiers.items()}, plans,
                           dict(files.tenants.namespaces), rate_card_source, tenants_source, content_hash)
    # Whether each period can be billed is checked for the periods a run computes (check_periods), or by
    # `costattr validate` for every known period: a tenant billable before the first version does not
    # block runs over later periods.
    return config


def load_billing_config(config_dir: Path) -> BillingConfig:
    """Load and validate ``rate_card.yaml`` and ``tenants.yaml``; missing files are empty.

    With neither file there is nothing to bill. With tenants but no rate card, the first
    billable period has no version: an error.
    """
    rate_card_path = Path(config_dir) / RATE_CARD_FILE
    tenants_path = Path(config_dir) / TENANTS_FILE
    return _validated_files(read_config_file(rate_card_path), read_config_file(tenants_path), str(rate_card_path),
                            str(tenants_path))


@functools.lru_cache(maxsize=8)
def _validated_files(rate_card_bytes: bytes | None, tenants_bytes: bytes | None, rate_card_source: str,
                     tenants_source: str) -> BillingConfig:
    """Once per process per content (as ``load_config_file``): each billing asset of a run loads both files."""
    digest = hashlib.sha256(b"rate_card\0" + (rate_card_bytes or b"") + b"\0tenants\0"
                            + (tenants_bytes or b"")).hexdigest()[:16]
    return parse_billing_config(None if rate_card_bytes is None else parse_yaml(rate_card_bytes, rate_card_source),
                                None if tenants_bytes is None else parse_yaml(tenants_bytes, tenants_source),
                                rate_card_source, tenants_source, digest)


def tenant_usage(rows: Iterable[Mapping[str, Any]]) -> dict[tuple[str, dt.date], dict[str, Decimal]]:
    """Group aggregated (tenant_id, period_start, metric, quantity) rows into usage per tenant and period."""
    usage: dict[tuple[str, dt.date], dict[str, Decimal]] = {}
    for row in rows:
        usage.setdefault((row["tenant_id"], row["period_start"]), {})[row["metric"]] = Decimal(str(row["quantity"]))
    return usage
