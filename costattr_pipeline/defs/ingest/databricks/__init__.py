"""Databricks billing: usage priced at list price per data product, synced monthly into app.cost_items."""
