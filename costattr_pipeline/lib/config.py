"""``settings.yaml``: a pydantic model, with dated histories.

The shape is fixed by the contract (section 3). The model is the settings object
the pipeline reads: validation happens before any asset writes, and every error
names the file, the entry and the rule (see :mod:`costattr_pipeline.lib.config_model`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema, field_validator

from costattr_pipeline.lib.config_model import (Amount, ConfigModel, DatedEntry, Entries, IsoDate, MicroDollars, Name,
                                                Share, Table, Text,
                                                bad_value, reject_overlaps, validate_file)
from costattr_pipeline.lib.table_sources import RELATION_NAME
from costattr_pipeline.lib.dated import Dated, fill_gaps, in_force
from costattr_pipeline.lib.yaml_loading import load_config_file

SETTINGS_FILE = "settings.yaml"
DEFAULT_PARTITIONS_START = dt.date(2024, 1, 1)
DEFAULT_UNATTRIBUTED_THRESHOLD = Decimal("0.02")
USD = "USD"


def _currency_code(value: Any) -> str:
    if not isinstance(value, str) or len(value.strip()) != 3 or not value.strip().isalpha():
        raise bad_value(f"must be a 3-letter ISO currency code, got {value!r}")
    if value.strip().upper() == USD:
        raise bad_value("USD needs no rate: amounts in USD are not converted")
    return value.strip().upper()


_MEMORY = re.compile(r"\s*\d+(\.\d+)?\s*(%|[KMGTkmgt][iI]?[bB]?|[bB])\s*")


def _table_name(value: Any) -> str:
    """``schema.table`` or ``database.schema.table``, unquoted (a source table read in place in production)."""
    if not isinstance(value, str) or not RELATION_NAME.fullmatch(value.strip()):
        raise bad_value(f"must be schema.table or database.schema.table (unquoted names), got {value!r}")
    return value.strip()


TableName = Annotated[str, BeforeValidator(_table_name),
                      WithJsonSchema({"type": "string", "pattern": RELATION_NAME.pattern})]


def _memory_limit(value: Any) -> str | None:
    """A size DuckDB takes (``4GB``, ``500MiB``, ``80%``): caught here rather than when a run opens the warehouse."""
    if value is not None and (not isinstance(value, str) or not _MEMORY.fullmatch(value)):
        raise bad_value(f"must be a size such as 4GB, 500MiB or 80%, got {value!r}")
    return value.strip() if value is not None else None


def _positive_whole(value: Any) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise bad_value(f"must be a positive whole number, got {value!r}")
    return value


class ThresholdEntry(DatedEntry):
    """The unattributed-cost share above which a day alerts, for a window of days."""

    value: Share = Field(description="Share of the day's AWS cost without a tenant tag (0 to 1, e.g. 0.02 = 2 %); "
                                     "a day alerts when its share is strictly greater.")


class CreditPrice(DatedEntry):
    """The USD price of one Snowflake credit for a window of days, for every warehouse or for one."""

    price: MicroDollars = Field(description="USD per credit (at most 6 decimals).")
    warehouse: Name | None = Field(None, description="Warehouse this price is for; omitted = every warehouse "
                                                     "without its own price.")

    @property
    def value(self) -> CreditPrice:
        """What is in force in the window: the price and the warehouse it is for (the entry itself)."""
        return self


class FxRate(DatedEntry):
    """How many USD one unit of a currency is worth, for a window of days."""

    currency: Annotated[str, BeforeValidator(_currency_code),
                        WithJsonSchema({"type": "string", "pattern": "^[A-Za-z]{3}$"})] = Field(
        description="ISO 4217 code of the currency converted, e.g. EUR.")
    rate: Amount = Field(description="USD per unit of the currency (exact decimal), e.g. 1.08.")

    @field_validator("rate")
    @classmethod
    def _positive(cls, rate: Decimal) -> Decimal:
        if rate == 0:
            raise bad_value("must be more than 0")
        return rate


class AwsSettings(ConfigModel):
    """How Cost Explorer groups are read."""

    tenant_tag: Text = Field("tenant_id", description="Cost allocation tag holding the tenant id.")
    module_tag: Text = Field("module_id", description="Cost allocation tag holding the module id.")
    metric: Text = Field("UnblendedCost", description="Cost Explorer metric to read.")


class SnowflakeSettings(ConfigModel):
    """How Snowflake credits are attributed and priced."""

    tenant_tag: Text = Field("TENANT_ID", description="Object tag on warehouses and users, and key in query tags.")
    idle_policy: Literal["proportional", "separate"] = Field(
        "proportional", description="proportional: idle credits follow each tenant's share of the queries; "
                                    "separate: idle credits stay apart, with no tenant.")
    credit_price_usd: Entries[CreditPrice] = Field(
        (), description="Dated credit prices; a row with `warehouse` overrides the general price for it. Windows of "
                        "the same warehouse (or of the general price) must not overlap.")
    tag_database: Text = Field("COST_MANAGEMENT", description="Database of the tenant object tag: tags of the same "
                                                              "name in other databases attribute nothing.")
    tag_schema: Text = Field("TAGS", description="Schema of the tenant object tag.")

    @field_validator("credit_price_usd")
    @classmethod
    def _one_price_per_warehouse_and_day(cls, prices: tuple[CreditPrice, ...]) -> tuple[CreditPrice, ...]:
        reject_overlaps(prices, scope=lambda price: price.warehouse)
        return prices


class DatabricksSettings(ConfigModel):
    """Which custom tags of Databricks usage attribute it."""

    product_tag: Text = Field("data_product_id", description="Custom tag holding the data product id.")
    tenant_tag: Text = Field("tenant_id", description="Custom tag holding the tenant id.")


class UnitCostSettings(ConfigModel):
    """How unit-cost tags are named."""

    category_prefix: Text = Field("costattr", description="Prefix of the tag categories (`<prefix>:<unit type>`).")


FocusCostColumn = Literal["EffectiveCost", "BilledCost"]


class FocusProviderSettings(ConfigModel):
    """How one provider's FOCUS rows are attributed, where it differs from the `focus` section."""

    tenant_tag: Text | None = Field(None, description="Key in the Tags column holding the tenant id.")
    module_tag: Text | None = Field(None, description="Key in the Tags column holding the module id.")
    tenant_column: Text | None = Field(None, description="A custom column (x_ prefix) holding the tenant id; "
                                                         "when set, a non-empty value wins over the tag.")
    module_column: Text | None = Field(None, description="A custom column (x_ prefix) holding the module id; "
                                                         "when set, a non-empty value wins over the tag.")
    cost_column: FocusCostColumn | None = Field(None, description="The FOCUS cost that counts: EffectiveCost "
                                                                  "(amortized) or BilledCost (as invoiced).")


@dataclass(frozen=True)
class FocusAttribution:
    """What attributes one provider's rows: every key resolved against the section's defaults."""

    tenant_tag: str
    module_tag: str
    tenant_column: str | None
    module_column: str | None
    cost_column: str


class FocusCostExplorerOverlap(ConfigModel):
    """Which source counts for AWS billing accounts that both Cost Explorer and a FOCUS dataset hold."""

    billing_account_ids: Entries[Name] = Field(
        (), description="The AWS billing (payer) accounts whose cost Cost Explorer fetches; FOCUS rows of "
                        "provider AWS with one of these BillingAccountId are the same money.")
    counted: Literal["cost_explorer", "focus"] = Field(
        "cost_explorer", description="cost_explorer: those FOCUS rows are kept but not counted; focus: they "
                                     "count, and Cost Explorer's cost of every day they cover does not.")


class FocusSettings(ConfigModel):
    """How FOCUS cost and usage datasets (source folder focus/) are attributed and counted."""

    tenant_tag: Text = Field("tenant_id", description="Key in the FOCUS Tags column holding the tenant id.")
    module_tag: Text = Field("module_id", description="Key in the FOCUS Tags column holding the module id.")
    tenant_column: Text | None = Field(None, description="A custom column (x_ prefix) holding the tenant id; "
                                                         "when set, a non-empty value wins over the tag.")
    module_column: Text | None = Field(None, description="A custom column (x_ prefix) holding the module id; "
                                                         "when set, a non-empty value wins over the tag.")
    cost_column: FocusCostColumn = Field("EffectiveCost", description="The FOCUS cost that counts: EffectiveCost "
                                                                      "(amortized, the default) or BilledCost.")
    providers: Table[Name, FocusProviderSettings] = Field(
        {}, description="Per provider (ProviderName as the data writes it, case-insensitive): the keys that differ.")
    cost_explorer_overlap: FocusCostExplorerOverlap = FocusCostExplorerOverlap()

    def attribution_for(self, provider: str) -> FocusAttribution:
        """The attribution of ``provider``'s rows: its own keys where given, else the section's."""
        own = next((entry for name, entry in self.providers.items() if name.lower() == provider.lower()),
                   FocusProviderSettings())
        return FocusAttribution(
            tenant_tag=own.tenant_tag or self.tenant_tag, module_tag=own.module_tag or self.module_tag,
            tenant_column=own.tenant_column or self.tenant_column,
            module_column=own.module_column or self.module_column,
            cost_column=own.cost_column or self.cost_column)


class UsageSourceSettings(ConfigModel):
    """Production (target prod): the Snowflake tables the product metering is read from, in place.

    Never a table of costattr's own schema (METERING of the database costattr writes to): unquoted names are
    case-insensitive, so the product's METERING.USAGE_EVENTS there would be costattr's landing table itself.
    """

    usage_events: TableName = Field("PRODUCT.METERING.USAGE_EVENTS",
                                    description="The product's usage events table ([database.]schema.table).")
    external_api_costs: TableName = Field("PRODUCT.METERING.EXTERNAL_API_COSTS",
                                          description="The external API costs table ([database.]schema.table).")


class KubernetesCluster(ConfigModel):
    """A cluster running on a cloud: how its nodes' cloud cost is recognized in that cloud's data."""

    aws_tenant_tag_value: Text | None = Field(
        None, description="The value of the AWS tenant tag (aws.tenant_tag) its nodes carry in Cost Explorer: that "
                          "AWS cost is the cluster's, moved to its namespaces instead of counted as a tenant.")


class KubernetesSettings(ConfigModel):
    """How Kubernetes namespaces are attributed to tenants and modules."""

    tenant_label: Text = Field("tenant_id", description="Pod label naming a namespace's tenant (tenants.yaml "
                                                        "`namespaces` wins over it).")
    module_label: Text = Field("module_id", description="Pod label naming a namespace's module.")
    clusters: Table[Name, KubernetesCluster] = Field(
        {}, description="Clusters on a cloud, by cluster id: the tenant tag value their nodes carry.")


class WarehouseSettings(ConfigModel):
    """DuckDB resource limits, so a large backfill stays within the machine."""

    memory_limit: Annotated[str | None, BeforeValidator(_memory_limit),
                            WithJsonSchema({"anyOf": [{"type": "string", "pattern": _MEMORY.pattern},
                                                      {"type": "null"}]})] = Field(
        None, description="DuckDB memory_limit: a size such as 4GB, 500MiB, or a share of the memory such as 80%.")
    threads: Annotated[int | None, BeforeValidator(_positive_whole),
                       WithJsonSchema({"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]})] = Field(
        None, description="DuckDB threads (a positive whole number).")


class Settings(ConfigModel):
    """settings.yaml: partitions, the unattributed-cost threshold, and how each source is attributed."""

    partitions_start: IsoDate = Field(DEFAULT_PARTITIONS_START, description="First day of the daily partitions.")
    unattributed_threshold: Entries[ThresholdEntry] = Field(
        (), description="Dated thresholds that must not overlap; days no window covers use 0.02.")
    aws: AwsSettings = AwsSettings()
    snowflake: SnowflakeSettings = SnowflakeSettings()
    databricks: DatabricksSettings = DatabricksSettings()
    unit_costs: UnitCostSettings = UnitCostSettings()
    warehouse: WarehouseSettings = WarehouseSettings()
    usage_source: UsageSourceSettings = UsageSourceSettings()
    focus: FocusSettings = FocusSettings()
    kubernetes: KubernetesSettings = KubernetesSettings()
    fx_to_usd: Entries[FxRate] = Field(
        (), description="Dated exchange rates to USD; a non-USD amount is converted with the rate in force on its "
                        "day. Windows of the same currency must not overlap.")

    @field_validator("fx_to_usd")
    @classmethod
    def _one_rate_per_currency_and_day(cls, rates: tuple[FxRate, ...]) -> tuple[FxRate, ...]:
        reject_overlaps(rates, scope=lambda rate: rate.currency)
        return rates

    @field_validator("partitions_start", mode="before")
    @classmethod
    def _null_is_the_default_start(cls, value: Any) -> Any:
        return DEFAULT_PARTITIONS_START if value is None else value

    @field_validator("unattributed_threshold")
    @classmethod
    def _one_threshold_per_day(cls, entries: tuple[ThresholdEntry, ...]) -> tuple[ThresholdEntry, ...]:
        reject_overlaps(entries)
        return entries

    def threshold_history(self) -> list[Dated[Decimal]]:
        """The configured thresholds with every uncovered day at the 2 % default."""
        return fill_gaps([Dated(entry.window, entry.value) for entry in self.unattributed_threshold],
                         DEFAULT_UNATTRIBUTED_THRESHOLD)

    def threshold_on(self, day: dt.date) -> Decimal:
        entry = in_force(self.threshold_history(), day)
        assert entry is not None  # fill_gaps covers every day
        return entry.value


def parse_settings(data: Any, source: str = SETTINGS_FILE) -> Settings:
    """Validate the parsed YAML of settings.yaml into :class:`Settings`."""
    return validate_file(Settings, data, source)


def load_settings(config_dir: Path) -> Settings:
    """Load ``settings.yaml`` from the config folder; a missing file means all defaults."""
    settings = load_config_file(Path(config_dir) / SETTINGS_FILE, parse_settings)
    return Settings() if settings is None else settings
