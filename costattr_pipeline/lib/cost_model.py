"""``cost_model.yaml``: Koku-style cost models (contract section 3), validated, hashed, and priced exactly.

A cost model turns Kubernetes usage, which carries no price, into cost (seed 003, Koku's cost
models). The file holds one model, or a list under ``cost_models:``; each model is Koku's JSON
shape written as YAML. ``source_type`` OCP models price clusters (``source_uuids`` are cluster
ids; none = every cluster without a model of its own); AWS, SNOWFLAKE and DATABRICKS models take a
markup only.

Every model version is identified by its content hash (:attr:`CostModel.content_hash`), recorded
append-only in ``config.cost_model_history`` and carried by every cost row it priced.

:func:`reference_pod_costs` is the pure Decimal, row-by-row statement of the usage rates: the
property tests compare the SQL of ``metering.k8s_project_daily_cost`` with it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, RootModel, WithJsonSchema, field_validator, model_validator

from costattr_pipeline.lib.config_model import (Amount, ConfigModel, Entries, Name, Text, bad_entry, bad_value,
                                                validate_file)
from costattr_pipeline.lib.errors import ConfigError
from costattr_pipeline.lib.yaml_loading import load_config_file

COST_MODEL_FILE = "cost_model.yaml"
CURRENCY = "USD"

# Usage rates: rate x the row's quantity (pod rows: cpu and memory; storage rows: volume).
CPU_USAGE_METRICS = {
    "cpu_core_usage_per_hour": "cpu_core_usage_hours",
    "cpu_core_request_per_hour": "cpu_core_request_hours",
    "cpu_core_effective_usage_per_hour": "cpu_core_effective_hours",
}
MEMORY_USAGE_METRICS = {
    "memory_gb_usage_per_hour": "memory_gb_usage_hours",
    "memory_gb_request_per_hour": "memory_gb_request_hours",
    "memory_gb_effective_usage_per_hour": "memory_gb_effective_hours",
}
STORAGE_USAGE_METRICS = {
    "storage_gb_usage_per_month": "storage_gb_usage_months",
    "storage_gb_request_per_month": "storage_gb_request_months",
}
# Node and cluster costs: spread over the namespaces by effective usage over capacity, the rest unallocated.
NODE_METRICS = ("node_cost_per_month", "node_core_cost_per_month", "node_core_cost_per_hour")
CLUSTER_METRICS = ("cluster_cost_per_month", "cluster_core_cost_per_hour")
NETWORK_METRIC = "network_cost_per_gb"  # data transferred in + out (kubernetes/network_usage), per GB
PVC_METRIC = "pvc_cost_per_month"
VM_METRIC = "vm_cost_per_month"
USAGE_METRICS = (*CPU_USAGE_METRICS, *MEMORY_USAGE_METRICS, *STORAGE_USAGE_METRICS, NETWORK_METRIC)
METRICS = (*USAGE_METRICS, *NODE_METRICS, *CLUSTER_METRICS, PVC_METRIC, VM_METRIC)
# Tag rates on volume labels (storage rows); every other metric's tag rates read pod labels (VMs: vm_labels).
VOLUME_LABEL_METRICS = (*STORAGE_USAGE_METRICS, PVC_METRIC)
COST_TYPES = ("Infrastructure", "Supplementary")
SOURCE_TYPES = ("OCP", "AWS", "SNOWFLAKE", "DATABRICKS")
DISTRIBUTIONS = ("cpu", "memory")
# Rates are kept to 9 decimal places and markups to 4: with usage kept to 6, every product is exact
# in DECIMAL(38, 15) on DuckDB and Snowflake.
RATE_PLACES = 9
MARKUP_PLACES = 4


def _places(places: int):
    def check(value: Decimal) -> Decimal:
        if value != value.quantize(Decimal(1).scaleb(-places)):
            raise bad_value(f"has more than {places} decimal places, got {value}")
        return value
    return check


def _signed_decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
        raise bad_value(f"must be a number, got {value!r}")
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise bad_value(f"must be a number, got {value!r}") from None
    if not number.is_finite():
        raise bad_value("must be a finite number")
    return number


def _metric_name(value: Any) -> str:
    if not isinstance(value, str) or value not in METRICS:
        raise bad_value(f"is not a cost model metric: {value!r} (known: {', '.join(METRICS)})")
    return value


def _tag_value(value: Any) -> str:
    # A label value YAML read as a number or a boolean (`version: 2`, `enabled: true`) is matched as its text.
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, (str, int, Decimal)) or not str(value).strip():
        raise bad_value("must be a non-empty text")
    return str(value)


Rate = Annotated[Amount, AfterValidator(_places(RATE_PLACES)),
                 WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0}, {"type": "string"}]})]
Percent = Annotated[Decimal, BeforeValidator(_signed_decimal), AfterValidator(_places(MARKUP_PLACES)),
                    WithJsonSchema({"anyOf": [{"type": "number", "minimum": -100}, {"type": "string"}]})]
MetricName = Annotated[str, BeforeValidator(_metric_name), WithJsonSchema({"enum": list(METRICS)})]
TagValueText = Annotated[str, BeforeValidator(_tag_value), WithJsonSchema({"type": ["string", "number", "boolean"]})]


class Metric(ConfigModel):
    """What a rate prices."""

    name: MetricName = Field(description="One of Koku's metrics, e.g. cpu_core_usage_per_hour, node_cost_per_month.")


class TieredRate(ConfigModel):
    """A rate per unit of the metric; ``usage_start``/``usage_end`` bound a graduated tier."""

    value: Rate = Field(description="USD per unit of the metric (at most 9 decimals).")
    unit: Literal["USD"] = Field("USD", description="Currency of the rate (USD).")
    usage_start: Rate | None = Field(None, description="Quantity of a row from which this tier applies (null: 0).")
    usage_end: Rate | None = Field(None, description="Quantity of a row up to which this tier applies (null: open).")

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> TieredRate:
        if self.usage_start is not None and self.usage_end is not None and self.usage_end <= self.usage_start:
            raise bad_entry(f"usage_end {self.usage_end} must be greater than usage_start {self.usage_start}")
        return self


class TagValue(ConfigModel):
    """The rate of one label value; ``default: true`` prices a value no entry names."""

    tag_value: TagValueText = Field(description="Label value matched exactly.")
    value: Rate = Field(description="USD per unit of the metric for this label value.")
    unit: Literal["USD"] = Field("USD", description="Currency of the rate (USD).")
    default: bool = Field(False, description="true: this rate applies when the label key is there with a value no "
                                             "entry names (at most one default per tag rate).")
    description: str | None = Field(None, description="What the value stands for.")


class TagRates(ConfigModel):
    """Rates by the value of one label key (pod labels; volume labels and storage class for PVC metrics)."""

    tag_key: Text = Field(description="Label key, e.g. env, app; `storageclass` also matches a PVC's storage class.")
    tag_values: Entries[TagValue] = Field(description="The rate of each value; at most one has default: true.")

    @field_validator("tag_values")
    @classmethod
    def _one_default_and_distinct_values(cls, values: tuple[TagValue, ...]) -> tuple[TagValue, ...]:
        if not values:
            raise bad_value("must name at least one tag value")
        defaults = [index for index, value in enumerate(values) if value.default]
        if len(defaults) > 1:
            raise bad_entry("more than one tag value has default: true (the first is {first})", (defaults[1],),
                            refer={"first": (defaults[0],)})
        seen: dict[str, int] = {}
        for index, value in enumerate(values):
            if value.tag_value in seen:
                raise bad_entry(f"tag value {value.tag_value!r} is listed twice (first at {{first}})", (index,),
                                refer={"first": (seen[value.tag_value],)})
            seen[value.tag_value] = index
        return values


class CostModelRate(ConfigModel):
    """One rate of a cost model: tiered (per unit) or by tag, of one cost type."""

    metric: Metric
    tiered_rates: Entries[TieredRate] | None = Field(None, description="Per-unit rates; give this or tag_rates.")
    tag_rates: TagRates | None = Field(None, description="Rates by label value; give this or tiered_rates.")
    cost_type: Literal["Infrastructure", "Supplementary"] = Field(
        description="Infrastructure (what running the cluster costs) or Supplementary (overhead, licences); "
                    "kept apart on every cost row.")
    description: str | None = Field(None, description="What the rate stands for.")

    @model_validator(mode="after")
    def _tiered_or_tag(self) -> CostModelRate:
        if (self.tiered_rates is None) == (self.tag_rates is None):
            raise bad_entry("give exactly one of 'tiered_rates' or 'tag_rates'", note=self.metric.name)
        tiers = self.tiered_rates or ()
        if self.metric.name == NETWORK_METRIC and self.tag_rates is not None:
            raise bad_entry("network_cost_per_gb takes tiered rates: network rows carry no labels",
                            note=self.metric.name)
        if self.tiered_rates is not None and not tiers:
            raise bad_entry("'tiered_rates' must hold at least one rate", note=self.metric.name)
        if len(tiers) > 1 and self.metric.name not in USAGE_METRICS:
            raise bad_entry(f"{self.metric.name} takes one rate: tiers apply to usage metrics only",
                            note=self.metric.name)
        if len(tiers) == 1 and self.metric.name not in USAGE_METRICS and (
                tiers[0].usage_start is not None or tiers[0].usage_end is not None):
            raise bad_entry(f"{self.metric.name} takes one rate without usage_start/usage_end", note=self.metric.name)
        ranges = sorted(range(len(tiers)), key=lambda index: tiers[index].usage_start or Decimal(0))
        for before, after in zip(ranges, ranges[1:]):
            end = tiers[before].usage_end
            if end is None or (tiers[after].usage_start or Decimal(0)) < end:
                raise bad_entry("tier range overlaps {other}", ("tiered_rates", after),
                                refer={"other": ("tiered_rates", before)})
        return self

    def tiers(self) -> tuple[TieredRate, ...]:
        return self.tiered_rates or ()


class Markup(ConfigModel):
    """A percentage added to (or, negative, taken from) the cost, kept in its own column."""

    value: Percent = Field(Decimal(0), description="Percent, e.g. 10 = +10 %; -100 to take all of it off.")
    unit: Literal["percent"] = Field("percent", description="Always percent.")

    @field_validator("value")
    @classmethod
    def _not_below_minus_100(cls, value: Decimal) -> Decimal:
        if value < -100:
            raise bad_value(f"must be -100 or more (a discount cannot exceed the cost), got {value}")
        return value

    @property
    def fraction(self) -> Decimal:
        """The markup as a fraction of the cost (10 -> 0.1), exact."""
        return self.value / 100


class DistributionInfo(ConfigModel):
    """Which costs the distribution (part 2) moves to user namespaces; each is on unless switched off."""

    distribution_type: Literal["cpu", "memory"] | None = Field(None, description="As `distribution` (Koku's "
                                                                                  "second spelling).")
    platform_cost: bool = Field(True, description="Distribute platform namespaces' cost.")
    worker_cost: bool = Field(True, description="Distribute Worker unallocated cost.")
    storage_unattributed: bool = Field(True, description="Distribute storage no claim holds.")
    network_unattributed: bool = Field(True, description="Distribute network traffic no pod claims.")


class CostModel(ConfigModel):
    """One cost model: OCP rates for clusters, or a markup on a cloud source's cost."""

    name: Text = Field("cost model", description="Name shown with the costs it priced.")
    description: str | None = Field(None, description="What the model is for.")
    source_type: Literal["OCP", "AWS", "SNOWFLAKE", "DATABRICKS"] = Field(
        "OCP", description="OCP: rates for Kubernetes clusters; AWS, SNOWFLAKE, DATABRICKS: a markup only.")
    source_uuids: Entries[Name] = Field((), description="OCP: the cluster ids it prices; empty = every cluster "
                                                        "that no other model names.")
    rates: Entries[CostModelRate] = Field((), description="The rates (OCP only).")
    markup: Markup = Field(Markup(), description="Markup percent, kept apart from the raw cost.")
    distribution: Literal["cpu", "memory"] = Field("cpu", description="Usage that spreads node and cluster costs "
                                                                      "(and distributes costs): cpu or memory.")
    distribution_info: DistributionInfo = Field(DistributionInfo(), description="What distribution moves.")
    currency: Literal["USD"] = Field("USD", description="Currency of the rates (USD).")

    @model_validator(mode="after")
    def _rates_fit_the_source(self) -> CostModel:
        if self.source_type != "OCP" and self.rates:
            raise bad_entry(f"a cost model of source_type {self.source_type} takes a markup only: remove its rates",
                            ("rates", 0))
        info = self.distribution_info.distribution_type
        if info is not None and info != self.distribution:
            raise bad_entry(f"distribution_info.distribution_type {info!r} differs from distribution "
                            f"{self.distribution!r}")
        seen: dict[tuple[str, str, bool], int] = {}
        for index, rate in enumerate(self.rates):
            key = (rate.metric.name, rate.cost_type, rate.tag_rates is not None)
            if key in seen:
                kind = "tag rate" if key[2] else "tiered rate"
                raise bad_entry(f"a second {kind} of {rate.metric.name} ({rate.cost_type}); the first is {{first}}",
                                ("rates", index), refer={"first": ("rates", seen[key])})
            seen[key] = index
        return self

    @property
    def content_hash(self) -> str:
        """sha256 of the model's canonical JSON (key order and number spelling do not change it)."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]

    def model_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, default=str)


class CostModelList(ConfigModel):
    """Several cost models, each with its name, source type and sources."""

    cost_models: Entries[CostModel] = Field(description="The cost models.")

    @field_validator("cost_models")
    @classmethod
    def _one_model_per_source(cls, models: tuple[CostModel, ...]) -> tuple[CostModel, ...]:
        claimed: dict[tuple[str, str | None], int] = {}
        for index, model in enumerate(models):
            sources = model.source_uuids if model.source_type == "OCP" and model.source_uuids else (None,)
            for source in sources:
                key = (model.source_type, source)
                if key in claimed:
                    what = f"cluster {source!r}" if source else f"every {model.source_type} source"
                    raise bad_entry(f"{what} already has a cost model: {{first}}", (index,),
                                    refer={"first": (claimed[key],)})
                claimed[key] = index
        return models


class CostModelFile(RootModel[CostModelList | CostModel]):
    """cost_model.yaml: one cost model, or a list of them under `cost_models:` (Koku's shape, as YAML)."""


@dataclass(frozen=True)
class CostModels:
    """The validated models of cost_model.yaml (none when the file is absent)."""

    models: tuple[CostModel, ...] = ()
    source: str = COST_MODEL_FILE

    @property
    def ocp(self) -> tuple[CostModel, ...]:
        return tuple(model for model in self.models if model.source_type == "OCP")

    def model_for_cluster(self, cluster_id: str) -> CostModel | None:
        """The OCP model naming the cluster, else the one naming no cluster, else none."""
        named = [model for model in self.ocp if cluster_id in model.source_uuids]
        every = [model for model in self.ocp if not model.source_uuids]
        return (named or every or [None])[0]

    def uses_metric(self, metric: str) -> list[CostModel]:
        return [model for model in self.ocp if any(rate.metric.name == metric for rate in model.rates)]


def parse_cost_models(data: Any, source: str = COST_MODEL_FILE) -> CostModels:
    """Validate the parsed YAML of cost_model.yaml: one model, or a list under ``cost_models:``."""
    if isinstance(data, Mapping) and "cost_models" in data:
        return CostModels(validate_file(CostModelList, data, source).cost_models, source)
    return CostModels((validate_file(CostModel, data, source),), source)


def load_cost_models(config_dir: Path) -> CostModels:
    """The cost models of the config folder; none when cost_model.yaml is absent."""
    models = load_config_file(Path(config_dir) / COST_MODEL_FILE, parse_cost_models)
    return CostModels() if models is None else models


# The optional exports a metric reads: a model pricing a metric whose export is missing is a config error.
# (pod_usage and storage_usage are the cluster's own exports: without them the landing assets' WARN says so.)
SOURCE_OF_METRIC = {VM_METRIC: "vm_usage", NETWORK_METRIC: "network_usage"}


def required_sources(models: CostModels) -> dict[str, tuple[int, str]]:
    """The optional exports the OCP models' rates read: name -> (model index, metric) of the first rate reading it."""
    needed: dict[str, tuple[int, str]] = {}
    for index, model in enumerate(models.models):
        for rate in model.rates if model.source_type == "OCP" else ():
            if rate.metric.name in SOURCE_OF_METRIC:
                needed.setdefault(SOURCE_OF_METRIC[rate.metric.name], (index, rate.metric.name))
    return needed


def check_sources_present(models: CostModels, present: set[str]) -> None:
    """A rate on a metric whose export is missing is a config error (it would silently price nothing)."""
    for name, (index, metric) in required_sources(models).items():
        if name not in present:
            where = f"cost_models[{index}]" if len(models.models) > 1 else None
            raise ConfigError(models.source, where, f"a rate prices {metric} but there is no "
                                                    f"kubernetes/{name}.csv/.parquet to price")



# --- the reference: usage rates on one row, in Decimal ----------------------------------------------


def graduated(quantity: Decimal, tiers: tuple[TieredRate, ...]) -> Decimal:
    """Cost of ``quantity`` through graduated tiers: each tier's rate on the part of it inside the tier."""
    cost = Decimal(0)
    for tier in tiers:
        start = tier.usage_start or Decimal(0)
        end = quantity if tier.usage_end is None else min(quantity, tier.usage_end)
        cost += max(Decimal(0), end - start) * tier.value
    return cost


def rate_for_labels(labels: Mapping[str, str], tag_rates: TagRates) -> Decimal | None:
    """The tag rate of a row's labels: the value's rate, else the default when the key is there; None: no tag rate."""
    value = labels.get(tag_rates.tag_key)
    if value is None:
        return None
    exact = [entry.value for entry in tag_rates.tag_values if entry.tag_value == value]
    default = [entry.value for entry in tag_rates.tag_values if entry.default]
    return (exact or default or [None])[0]


def reference_usage_cost(model: CostModel, metric: str, cost_type: str, quantity: Decimal,
                         labels: Mapping[str, str]) -> Decimal:
    """Cost of one row's ``quantity`` of a usage metric: the tag rate when it applies, else the tiered rate."""
    tag = next((rate.tag_rates for rate in model.rates if rate.metric.name == metric and rate.cost_type == cost_type
                and rate.tag_rates is not None), None)
    tag_rate = rate_for_labels(labels, tag) if tag is not None else None
    if tag_rate is not None:
        return quantity * tag_rate
    tiers = next((rate.tiers() for rate in model.rates if rate.metric.name == metric and rate.cost_type == cost_type
                  and rate.tiered_rates is not None), ())
    return graduated(quantity, tiers)


def effective(usage: Decimal, request: Decimal) -> Decimal:
    """Koku's effective usage: max(usage, request) per row."""
    return max(usage, request)


def reference_pod_costs(model: CostModel, row: Mapping[str, Any]) -> dict[tuple[str, str], Decimal]:
    """The usage-rate cost of one pod row, per (cost_type, 'cpu' | 'memory'), exactly."""
    labels = row.get("labels") or {}
    quantities = {
        "cpu_core_usage_hours": row["cpu_core_usage_hours"], "cpu_core_request_hours": row["cpu_core_request_hours"],
        "cpu_core_effective_hours": effective(row["cpu_core_usage_hours"], row["cpu_core_request_hours"]),
        "memory_gb_usage_hours": row["memory_gb_usage_hours"],
        "memory_gb_request_hours": row["memory_gb_request_hours"],
        "memory_gb_effective_hours": effective(row["memory_gb_usage_hours"], row["memory_gb_request_hours"]),
    }
    costs: dict[tuple[str, str], Decimal] = {}
    for cost_type in COST_TYPES:
        for column, metrics in (("cpu", CPU_USAGE_METRICS), ("memory", MEMORY_USAGE_METRICS)):
            costs[(cost_type, column)] = sum(
                (reference_usage_cost(model, metric, cost_type, quantities[quantity], labels)
                 for metric, quantity in metrics.items()), Decimal(0))
    return costs
