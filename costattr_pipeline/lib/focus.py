"""FOCUS cost and usage datasets (contract 2.6): found, version-detected, validated and normalized.

A FOCUS dataset is what AWS Data Exports, Azure Cost Management, Google Cloud and OCI export in the
FinOps Foundation's format. Under ``<source>/focus/`` each **export** (one delivery) is either a file
directly in the folder or every data file of one sub-folder (the part files a provider writes for one
delivery: AWS's ``BILLING_PERIOD=2026-05/*.parquet``, Azure's run folders). Its identity is a hash of
its files' names and bytes: landing the same export twice adds nothing.

Each file's columns say which FOCUS version it is (:func:`detect_version`); the version's mandatory
columns must be there, every FOCUS column present must hold its type, and the rows costattr counts
must carry what it reads (charge and billing periods, currency, billing account, provider, costs).
Everything is checked before anything is written, and a problem is one line naming the file, the
CSV line or Parquet row, and the rule (:func:`stage_export`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import duckdb

from costattr_pipeline.lib.errors import SourceError
from costattr_pipeline.lib.source_files import Column, Rule, stage_table_file
from costattr_pipeline.lib.sql import bind_script

FOCUS_FOLDER = "focus"
DATA_SUFFIXES = (".csv", ".csv.gz", ".parquet")
MONEY = "DECIMAL(38, 18)"
VERSIONS = ("0.5", "1.0", "1.1", "1.2", "1.3")


@dataclass(frozen=True)
class FocusColumn:
    """A column of the FOCUS cost and usage dataset: its id, the DuckDB type it reads as, the version
    that introduced it, and whether costattr needs a value on every row it counts."""

    name: str
    type: str = "VARCHAR"
    since: str = "1.0"
    needs_value: bool = False


# Every FOCUS column costattr reads (1.0 to 1.3), with the type its values must parse as.
CATALOGUE = (
    FocusColumn("AvailabilityZone"),
    FocusColumn("BilledCost", MONEY, needs_value=True),
    FocusColumn("BillingAccountId", needs_value=True),
    FocusColumn("BillingAccountName"),
    FocusColumn("BillingAccountType", since="1.1"),
    FocusColumn("BillingCurrency", needs_value=True),
    FocusColumn("BillingPeriodEnd", "TIMESTAMP", needs_value=True),
    FocusColumn("BillingPeriodStart", "TIMESTAMP", needs_value=True),
    FocusColumn("CapacityReservationId", since="1.1"),
    FocusColumn("CapacityReservationStatus", since="1.1"),
    FocusColumn("ChargeCategory"),
    FocusColumn("ChargeClass"),
    FocusColumn("ChargeDescription"),
    FocusColumn("ChargeFrequency"),
    FocusColumn("ChargePeriodEnd", "TIMESTAMP", needs_value=True),
    FocusColumn("ChargePeriodStart", "TIMESTAMP", needs_value=True),
    FocusColumn("CommitmentDiscountCategory"),
    FocusColumn("CommitmentDiscountId"),
    FocusColumn("CommitmentDiscountName"),
    FocusColumn("CommitmentDiscountQuantity", MONEY, since="1.1"),
    FocusColumn("CommitmentDiscountStatus"),
    FocusColumn("CommitmentDiscountType"),
    FocusColumn("CommitmentDiscountUnit", since="1.1"),
    FocusColumn("ConsumedQuantity", MONEY),
    FocusColumn("ConsumedUnit"),
    FocusColumn("ContractedCost", MONEY),
    FocusColumn("ContractedUnitPrice", MONEY),
    FocusColumn("EffectiveCost", MONEY, needs_value=True),
    FocusColumn("InvoiceId", since="1.2"),
    FocusColumn("InvoiceIssuerName"),
    FocusColumn("ListCost", MONEY),
    FocusColumn("ListUnitPrice", MONEY),
    FocusColumn("PricingCategory"),
    FocusColumn("PricingCurrency", since="1.2"),
    FocusColumn("PricingQuantity", MONEY),
    FocusColumn("PricingUnit"),
    FocusColumn("ProviderName"),
    FocusColumn("PublisherName"),
    FocusColumn("RegionId"),
    FocusColumn("RegionName"),
    FocusColumn("ResourceId"),
    FocusColumn("ResourceName"),
    FocusColumn("ResourceType"),
    FocusColumn("ServiceCategory"),
    FocusColumn("ServiceName"),
    FocusColumn("ServiceSubcategory", since="1.1"),
    FocusColumn("SkuId"),
    FocusColumn("SkuMeter", since="1.1"),
    FocusColumn("SkuPriceId"),
    FocusColumn("SubAccountId"),
    FocusColumn("SubAccountName"),
    FocusColumn("SubAccountType", since="1.1"),
    FocusColumn("Tags", "JSON"),
    FocusColumn("ServiceProviderName", since="1.3"),
    FocusColumn("HostProviderName", since="1.3"),
    # FOCUS 0.5 named two of them differently; they are read as ChargeCategory and EffectiveCost.
    FocusColumn("ChargeType", since="0.5"),
    FocusColumn("AmortizedCost", MONEY, since="0.5"),
)
_BY_NAME = {column.name.lower(): column for column in CATALOGUE}

# The columns each version's specification makes mandatory (1.3 replaced ProviderName and PublisherName
# by ServiceProviderName; 0.5: what costattr reads).
_MANDATORY_1_0 = ("BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd",
                  "BillingPeriodStart", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargePeriodEnd",
                  "ChargePeriodStart", "ContractedCost", "EffectiveCost", "InvoiceIssuerName", "ListCost",
                  "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "ServiceCategory", "ServiceName")
MANDATORY = {
    "0.5": ("BilledCost", "BillingAccountId", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart",
            "ChargePeriodEnd", "ChargePeriodStart", "ChargeType", "ProviderName"),
    "1.0": _MANDATORY_1_0,
    "1.1": _MANDATORY_1_0,
    "1.2": _MANDATORY_1_0,
    "1.3": tuple(name for name in _MANDATORY_1_0 if name not in ("ProviderName", "PublisherName"))
           + ("ServiceProviderName",),
}
# The columns a version introduced, newest first: the newest one a file has names its version.
_INTRODUCED = (
    ("1.3", ("ServiceProviderName", "HostProviderName", "ContractApplied", "AllocatedMethodId",
             "AllocatedMethodDetails", "AllocatedResourceId", "AllocatedResourceName", "AllocatedTags")),
    ("1.2", ("InvoiceId", "PricingCurrency", "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost",
             "PricingCurrencyListUnitPrice")),
    ("1.1", ("BillingAccountType", "SubAccountType", "CapacityReservationId", "CapacityReservationStatus",
             "CommitmentDiscountQuantity", "CommitmentDiscountUnit", "ServiceSubcategory", "SkuMeter",
             "SkuPriceDetails")),
    ("1.0", ("ChargeCategory",)),
    ("0.5", ("ChargeType",)),
)
# Every column id FOCUS defines (the introduced lists add the 1.3 ones costattr does not read).
FOCUS_COLUMN_IDS = frozenset({column.name.lower() for column in CATALOGUE}
                             | {name.lower() for _, names in _INTRODUCED for name in names})
_VERSION_COLUMNS = ("focusversion", "x_focusversion")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Row rules of the rows costattr counts (over the typed, lower-case columns), checked in the same pass.
CURRENCY_CODE = Rule("NOT regexp_matches(upper(trim(billingcurrency)), '^[A-Z]{3}$')",
                     "column 'BillingCurrency' must be a 3-letter ISO 4217 code (costattr converts it to USD with "
                     "settings.yaml fx_to_usd), got {billingcurrency!r}")
CHARGE_PERIOD_ORDER = Rule("chargeperiodend < chargeperiodstart",
                           "ChargePeriodEnd {chargeperiodend} is before ChargePeriodStart {chargeperiodstart}")
BILLING_PERIOD_ORDER = Rule("billingperiodend <= billingperiodstart",
                            "BillingPeriodEnd {billingperiodend} is not after BillingPeriodStart {billingperiodstart}")
TAGS_OBJECT = Rule("tags IS NOT NULL AND json_type(tags) <> 'OBJECT'",
                   "column 'Tags' must be a JSON object of tag keys and values, got {tags}")
PROVIDER_PRESENT = Rule("NULLIF(trim(COALESCE(serviceprovidername, providername)), '') IS NULL",
                        "the provider (ServiceProviderName, else ProviderName) is empty")
CATEGORY_PRESENT = Rule("NULLIF(trim(COALESCE(chargecategory, chargetype)), '') IS NULL",
                        "column 'ChargeCategory' is empty")
EFFECTIVE_COST_PRESENT = Rule("COALESCE(effectivecost, amortizedcost) IS NULL",
                              "column 'EffectiveCost' is empty (FOCUS 0.5: AmortizedCost)")
ROW_RULES = (CURRENCY_CODE, CHARGE_PERIOD_ORDER, BILLING_PERIOD_ORDER, TAGS_OBJECT, PROVIDER_PRESENT, CATEGORY_PRESENT,
             EFFECTIVE_COST_PRESENT)


def detect_version(columns: Sequence[str], declared: str | None = None) -> str:
    """The FOCUS version of a file: the one it declares (a FocusVersion column), else the newest
    version whose introduced columns it has."""
    if declared is not None:
        major_minor = ".".join(declared.strip().split(".")[:2])
        if major_minor not in VERSIONS:
            raise ValueError(f"FocusVersion {declared!r} is not a FOCUS version costattr reads "
                             f"({', '.join(VERSIONS)})")
        return major_minor
    present = {column.lower() for column in columns}
    for version, introduced in _INTRODUCED:
        if any(name.lower() in present for name in introduced):
            return version
    raise ValueError("neither ChargeCategory (FOCUS 1.0 and later) nor ChargeType (FOCUS 0.5): "
                     "this is not a FOCUS cost and usage dataset")


def columns_for(version: str, extra: Sequence[str] = ()) -> list[Column]:
    """What :func:`stage_table_file` checks for a file of ``version``: the version's mandatory
    columns and Tags required, every catalogue column typed when present, and ``extra`` (custom columns) as text."""
    # Tags too: a FOCUS export is a source here to be attributed by its tags (settings focus.tenant_tag), and
    # an export without the column would read as all cost without a tenant.
    mandatory = {name.lower() for name in MANDATORY[version]} | {"tags"}
    columns = [Column(column.name, column.type, required=column.name.lower() in mandatory,
                      nullable=not (column.needs_value and column.name.lower() in mandatory))
               for column in CATALOGUE]
    return columns + [Column(name, "VARCHAR", required=True) for name in extra]


@dataclass(frozen=True)
class FocusExport:
    """One delivery: a file directly under ``focus/``, or the data files of one folder below it."""

    name: str                   # relative to focus/: the file's name, or the folder's path
    files: tuple[Path, ...]
    root: Path                  # the focus/ folder

    def display_name(self, path: Path) -> str:
        return f"{FOCUS_FOLDER}/{path.relative_to(self.root).as_posix()}"

    @property
    def fingerprint(self) -> str:
        """Names, sizes and modification times: an unchanged export is recognized without reading it."""
        return json.dumps([[path.relative_to(self.root).as_posix(), path.stat().st_size, path.stat().st_mtime_ns]
                           for path in self.files])

    @property
    def exported_at(self) -> dt.datetime:
        """When the provider delivered it: the latest modification time of its files (UTC)."""
        latest = max(path.stat().st_mtime_ns for path in self.files)
        return dt.datetime.fromtimestamp(latest // 1000 / 1_000_000, dt.timezone.utc).replace(tzinfo=None)

    @cached_property
    def load_id(self) -> str:
        """A hash of every file's name (relative to the export) and bytes."""
        digest = hashlib.sha256()
        for path in self.files:
            digest.update(path.relative_to(self.root).as_posix().encode() + b"\0")
            with path.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
        return digest.hexdigest()


def _is_data_file(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(DATA_SUFFIXES)


def find_exports(source_dir: Path) -> list[FocusExport]:
    """Every export under ``<source_dir>/focus`` (none when the folder is missing), by name."""
    root = Path(source_dir) / FOCUS_FOLDER
    if not root.is_dir():
        return []
    exports = [FocusExport(path.name, (path,), root) for path in sorted(root.iterdir()) if _is_data_file(path)]
    folders: dict[Path, list[Path]] = {}
    for path in sorted(root.rglob("*")):
        if path.parent != root and _is_data_file(path):
            folders.setdefault(path.parent, []).append(path)
    exports += [FocusExport(folder.relative_to(root).as_posix(), tuple(files), root)
                for folder, files in folders.items()]
    return sorted(exports, key=lambda export: export.name)


def _reader(path: Path) -> str:
    if path.name.lower().endswith(".parquet"):
        return "read_parquet(:path, hive_partitioning = false)"
    return "read_csv(:path, header = true, all_varchar = true, auto_detect = true, hive_partitioning = false)"


def file_columns(engine: duckdb.DuckDBPyConnection, path: Path, display_name: str) -> list[str]:
    """The column names of one data file, as written."""
    try:
        return [row[0] for row in engine.execute(
            bind_script(f"DESCRIBE SELECT * FROM {_reader(path)}", {"path": str(path)})).fetchall()]
    except duckdb.Error as error:
        raise SourceError(display_name, None, f"cannot be read: {str(error).splitlines()[0]}") from None


def _declared_version(engine: duckdb.DuckDBPyConnection, path: Path, column: str, display_name: str) -> str | None:
    quoted = '"' + column.replace('"', '""') + '"'
    values = engine.execute(bind_script(
        f"SELECT DISTINCT CAST({quoted} AS VARCHAR) FROM {_reader(path)} LIMIT 2", {"path": str(path)})).fetchall()
    if len(values) > 1:
        raise SourceError(display_name, None, f"column {column!r} holds more than one FOCUS version")
    return values[0][0] if values and values[0][0] else None


@dataclass(frozen=True)
class StagedFile:
    """A validated file of an export: the temp view of its typed rows, its version and its custom columns."""

    path: Path
    display_name: str
    view: str
    version: str
    custom_columns: tuple[str, ...]


def stage_file(engine: duckdb.DuckDBPyConnection, path: Path, display_name: str, view: str) -> StagedFile:
    """Detect the version of one file, validate it (columns, types, row rules) and stage it as ``view``."""
    names = file_columns(engine, path, display_name)
    declared = next((name for name in names if name.lower() in _VERSION_COLUMNS), None)
    try:
        version = detect_version(names, _declared_version(engine, path, declared, display_name) if declared else None)
    except ValueError as error:
        raise SourceError(display_name, None, str(error)) from None
    custom = tuple(name for name in names if name.lower() not in FOCUS_COLUMN_IDS
                   and name.lower() not in _VERSION_COLUMNS and _IDENTIFIER.match(name))
    stage_table_file(engine, path, columns_for(version, custom), view, display_name, rules=ROW_RULES)
    return StagedFile(path, display_name, view, version, custom)


def stage_export(engine: duckdb.DuckDBPyConnection, export: FocusExport, prefix: str = "focus_part") -> list[StagedFile]:
    """Validate every file of ``export`` (the first problem raises :class:`SourceError`) and stage each."""
    return [stage_file(engine, path, export.display_name(path), f"{prefix}_{index}")
            for index, path in enumerate(export.files)]


def with_custom_columns(staged: StagedFile) -> tuple[str, dict[str, object]]:
    """A query of the staged file's rows plus ``custom_columns``: a JSON object of the file's own
    columns (keys in lower case, values as text; NULL when it has none), and the parameters it binds."""
    if not staged.custom_columns:
        return f"SELECT *, CAST(NULL AS VARCHAR) AS custom_columns FROM {staged.view}", {}
    params = {f"custom_key_{index}": name.lower() for index, name in enumerate(staged.custom_columns)}
    keys = ", ".join(f":custom_key_{index}" for index in range(len(staged.custom_columns)))
    values = ", ".join(name.lower() for name in staged.custom_columns)
    return (f"SELECT *, CAST(to_json(map([{keys}], [{values}])) AS VARCHAR) AS custom_columns "
            f"FROM {staged.view}", params)


def validate_exports(source_dir: Path) -> None:
    """Check every FOCUS export under the source folder (``costattr validate``); nothing is kept."""
    engine = duckdb.connect()
    try:
        engine.execute("SET TimeZone = 'UTC'")
        for export in find_exports(source_dir):
            stage_export(engine, export)
    finally:
        engine.close()
