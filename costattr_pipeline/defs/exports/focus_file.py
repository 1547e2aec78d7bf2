"""``costattr export focus``: one month of ``metering.focus_export`` as a FOCUS file (Parquet or CSV).

Parquet carries explicit types (text, decimal(38, 18), UTC timestamps), so a tool reading it never
guesses: an account id of digits stays text. CSV writes timestamps as ISO-8601 with ``Z`` and
decimals as plain digits.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from costattr_pipeline.lib.billing_config import next_month
from costattr_pipeline.lib.config import load_settings
from costattr_pipeline.lib.errors import CostattrInputError
from costattr_pipeline.resources.targets import resources_for
from costattr_pipeline.target import Target

MONEY = pa.decimal128(38, 18)
TIMESTAMP = pa.timestamp("us", tz="UTC")
# The exported columns, in order, with their types (the table's cost_date is costattr's partition key).
EXPORT_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("AvailabilityZone", pa.string()), ("BilledCost", MONEY), ("BillingAccountId", pa.string()),
    ("BillingAccountName", pa.string()), ("BillingAccountType", pa.string()), ("BillingCurrency", pa.string()),
    ("BillingPeriodEnd", TIMESTAMP), ("BillingPeriodStart", TIMESTAMP), ("ChargeCategory", pa.string()),
    ("ChargeClass", pa.string()), ("ChargeDescription", pa.string()), ("ChargeFrequency", pa.string()),
    ("ChargePeriodEnd", TIMESTAMP), ("ChargePeriodStart", TIMESTAMP), ("ConsumedQuantity", MONEY),
    ("ConsumedUnit", pa.string()), ("ContractedCost", MONEY), ("ContractedUnitPrice", MONEY),
    ("EffectiveCost", MONEY), ("InvoiceId", pa.string()), ("InvoiceIssuerName", pa.string()), ("ListCost", MONEY),
    ("ListUnitPrice", MONEY), ("PricingCategory", pa.string()), ("PricingCurrency", pa.string()),
    ("PricingQuantity", MONEY), ("PricingUnit", pa.string()), ("ProviderName", pa.string()),
    ("PublisherName", pa.string()), ("RegionId", pa.string()), ("RegionName", pa.string()),
    ("ResourceId", pa.string()), ("ResourceName", pa.string()), ("ResourceType", pa.string()),
    ("ServiceCategory", pa.string()), ("ServiceName", pa.string()), ("ServiceSubcategory", pa.string()),
    ("SkuId", pa.string()), ("SkuPriceId", pa.string()), ("SubAccountId", pa.string()),
    ("SubAccountName", pa.string()), ("SubAccountType", pa.string()), ("Tags", pa.string()),
    ("x_TenantId", pa.string()), ("x_ModuleId", pa.string()), ("x_AttributionRule", pa.string()),
    ("x_RateCardVersion", pa.string()), ("x_CostattrResourceType", pa.string()), ("x_CountedCost", MONEY),
    ("x_SourceRecord", pa.string()), ("x_AllocatedMethodId", pa.string()), ("x_AllocatedMethodDetails", pa.string()),
    ("x_AllocatedResourceId", pa.string()), ("x_AllocatedResourceName", pa.string()),
)
SCHEMA = pa.schema([pa.field(name, kind) for name, kind in EXPORT_COLUMNS])


def parse_month(text: str) -> dt.date:
    """``YYYY-MM`` -> the month's first day."""
    try:
        return dt.datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise CostattrInputError("--month", None, f"not a month (YYYY-MM): {text!r}") from None


def month_rows(target: Target, month: dt.date) -> pa.Table:
    """The month's rows of metering.focus_export, typed as :data:`SCHEMA` (in a stable order)."""
    # EnvVar fields (the prod target's credentials) are resolved as Dagster resolves them for a run.
    warehouse = resources_for(target, load_settings(target.config_dir))["warehouse"].process_config_and_initialize()
    names = ", ".join(name for name, _ in EXPORT_COLUMNS)
    with warehouse.session() as session:
        if "focus_export" not in session.relations_in("metering"):
            return SCHEMA.empty_table()
        rows = session.query(
            f"SELECT {names} FROM metering.focus_export WHERE cost_date >= :start AND cost_date < :end "
            "ORDER BY cost_date, x_CostattrResourceType, x_SourceRecord, x_TenantId NULLS FIRST, x_ModuleId NULLS FIRST",
            {"start": month, "end": next_month(month)})
    # Cast by position (Snowflake's names come back lowercased), never through Python values: the cast keeps
    # a timestamp's instant (a naive one is UTC) and refuses a decimal it would round.
    return pa.Table.from_arrays([column.cast(kind) for (_, kind), column in zip(EXPORT_COLUMNS, rows.columns)],
                                schema=SCHEMA)


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def write_focus_month(target: Target, month: dt.date, out: Path) -> pa.Table:
    """Write the month's export to ``out`` (``.parquet`` or ``.csv``); return the rows written."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise CostattrInputError(str(out), None, "the export file must end in .parquet or .csv")
    rows = month_rows(target, month)
    if rows.num_rows == 0:
        raise CostattrInputError("metering.focus_export", month.strftime("%Y-%m"),
                                 "no rows for this month: run `costattr run` over the month first")
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".parquet":
        pq.write_table(rows, out)
    else:
        with out.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(rows.column_names)
            for row in rows.to_pylist():
                writer.writerow([_csv_cell(row[name]) for name in rows.column_names])
    return rows
