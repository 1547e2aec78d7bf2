"""Billing: the three-part tariff per tenant and month, and unit economics (gross margin per tenant)."""

# Owners shown in the UI for the bills and unit economics.
# (docs/decisions.md: owners).
OWNERS = ["team:finance-platform"]
