"""``costattr grants``: the statements that make the audit tables append-only for a role (spec NFR-024).

The audit tables (the Cost Explorer landing, the Snowflake credit attribution, the external API costs, their
registers of computations and the rate card as loaded) are only ever appended to by costattr. Revoking
UPDATE, DELETE and TRUNCATE from the roles that can write them makes that a guarantee of the warehouse,
not only of the code: no role but the schema's owner can change what was attributed.
"""

from __future__ import annotations

import re

AUDIT_TABLES = (
    "metering.aws_cost_daily",
    "metering.snowflake_credit_daily",
    "metering.snowflake_credit_daily_computations",
    "metering.external_api_costs",
    "metering.external_api_costs_computations",
    "config.billing_config_loads",
    "config.rate_card_versions",
    "config.rate_card_customer_levy",
    "config.rate_card_facility_fee",
    "config.rate_card_variable_tiers",
)
# A Snowflake identifier: unquoted (letters, digits, _ and $, not first), or double-quoted.
_ROLE = re.compile(r'^(?:[A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")+")$')


def revoke_statements(role: str) -> list[str]:
    """One ``REVOKE UPDATE, DELETE, TRUNCATE`` per audit table, for ``role`` (a Snowflake role name)."""
    if not _ROLE.match(role):
        raise ValueError(f"--role {role!r}: not a Snowflake role name (letters, digits, _ and $, or a "
                         "double-quoted name)")
    return [f"REVOKE UPDATE, DELETE, TRUNCATE ON TABLE {table.upper()} FROM ROLE {role}" for table in AUDIT_TABLES]
