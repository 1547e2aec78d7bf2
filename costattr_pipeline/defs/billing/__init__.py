"""Billing: the three-part tariff per tenant and month, and unit economics (gross margin per tenant)."""
