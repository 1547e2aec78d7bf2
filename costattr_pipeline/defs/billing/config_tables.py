"""Loading the validated billing config into the append-only, effective-dated ``config.*`` tables."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa

from costattr_pipeline.lib import arrow_tables
from costattr_pipeline.lib.billing_config import BillingConfig
from costattr_pipeline.resources.warehouse import WarehouseSession

AMOUNT = pa.decimal128(38, 12)
LOADS_SCHEMA = pa.schema([("config_hash", pa.string()), ("rate_card_file", pa.string()),
                          ("tenants_file", pa.string()), ("loaded_at", pa.timestamp("us"))])


def _versions(config: BillingConfig) -> dict[str, pa.Table]:
    versions, levies, fees, bands = [], [], [], []
    for version in config.versions:
        versions.append({"version": version.version, "effective_from": version.window.start,
                         "effective_to": version.window.end, "currency": version.currency,
                         "pass_through_markup_pct": version.pass_through_markup_pct})
        levies += [{"version": version.version, "tier": tier, "amount": amount}
                   for tier, amount in sorted(version.customer_levy.items())]
        fees += [{"version": version.version, "module_id": module, "amount": amount}
                 for module, amount in sorted(version.facility_fee.items())]
        for metric, tiers in sorted(version.variable.items()):
            lower = Decimal(0)
            for number, tier in enumerate(tiers, start=1):
                bands.append({"version": version.version, "metric": metric, "tier_number": number,
                              "lower_bound": lower, "up_to": tier.up_to, "unit_price": tier.unit_price})
                lower = tier.up_to if tier.up_to is not None else lower
    return {
        "config.rate_card_versions": arrow_tables.from_rows(versions, pa.schema([
            ("version", pa.string()), ("effective_from", pa.date32()), ("effective_to", pa.date32()),
            ("currency", pa.string()), ("pass_through_markup_pct", AMOUNT)])),
        "config.rate_card_customer_levy": arrow_tables.from_rows(levies, pa.schema([
            ("version", pa.string()), ("tier", pa.string()), ("amount", AMOUNT)])),
        "config.rate_card_facility_fee": arrow_tables.from_rows(fees, pa.schema([
            ("version", pa.string()), ("module_id", pa.string()), ("amount", AMOUNT)])),
        "config.rate_card_variable_tiers": arrow_tables.from_rows(bands, pa.schema([
            ("version", pa.string()), ("metric", pa.string()), ("tier_number", pa.int32()),
            ("lower_bound", AMOUNT), ("up_to", AMOUNT), ("unit_price", AMOUNT)])),
    }


def _tenants(config: BillingConfig) -> dict[str, pa.Table]:
    allowances = [{"tier": tier, "metric": metric, "included": included}
                  for tier, metrics in sorted(config.tiers.items()) for metric, included in sorted(metrics.items())]
    tiers = [{"tenant_id": plan.tenant_id, "tier": entry.value, "effective_from": entry.window.start,
              "effective_to": entry.window.end}
             for plan in config.tenants.values() for entry in plan.tiers]
    modules = [{"tenant_id": plan.tenant_id, "module_id": entry.value, "effective_from": entry.window.start,
                "effective_to": entry.window.end}
               for plan in config.tenants.values() for entry in plan.modules]
    dated = [("effective_from", pa.date32()), ("effective_to", pa.date32())]
    return {
        "config.tier_allowances": arrow_tables.from_rows(allowances, pa.schema([
            ("tier", pa.string()), ("metric", pa.string()), ("included", AMOUNT)])),
        "config.tenant_tiers": arrow_tables.from_rows(tiers, pa.schema([
            ("tenant_id", pa.string()), ("tier", pa.string()), *dated])),
        "config.tenant_modules": arrow_tables.from_rows(modules, pa.schema([
            ("tenant_id", pa.string()), ("module_id", pa.string()), *dated])),
    }


def record_config(session: WarehouseSession, config: BillingConfig, loaded_at: dt.datetime) -> bool:
    """Append the config's content (once per content hash) and mark it current; True when anything changed.

    Re-running with the same files writes nothing, so a re-run leaves the tables identical. Must run
    inside the caller's transaction, with the bills it computed.
    """
    current = session.scalar("SELECT config_hash FROM config.billing_config_loads "
                             "ORDER BY loaded_at DESC, config_hash LIMIT 1")
    if current == config.content_hash:
        return False
    known = session.scalar("SELECT COUNT(*) FROM config.billing_config_loads WHERE config_hash = :config_hash",
                           {"config_hash": config.content_hash})
    if not known:
        content_hash = arrow_tables.scalar(config.content_hash, pa.string())
        for table_name, rows in {**_versions(config), **_tenants(config)}.items():
            if rows.num_rows:
                hashes = pa.repeat(content_hash, rows.num_rows)
                session.insert_arrow(table_name, rows.add_column(0, "config_hash", hashes))
    session.insert_arrow("config.billing_config_loads", arrow_tables.from_rows([{
        "config_hash": config.content_hash, "rate_card_file": config.rate_card_source,
        "tenants_file": config.tenants_source, "loaded_at": loaded_at}], LOADS_SCHEMA))
    return True
