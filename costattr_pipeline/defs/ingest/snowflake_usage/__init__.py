"""Snowflake ACCOUNT_USAGE: landed once per run for the attribution and the reports to read."""
