"""Snowflake credits attributed to tenants (contract section 4, FR-394) and the monthly query-cost reports.

Every asset here reads the ACCOUNT_USAGE relations the ``snowflake_usage`` resource gives: locally
the exports ``landing/snowflake_account_usage`` landed, in production the views themselves.
"""
