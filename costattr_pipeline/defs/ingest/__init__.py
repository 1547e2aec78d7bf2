"""Landing: each source's rows as delivered (Cost Explorer, Snowflake and Databricks usage, usage events, FOCUS)."""

# Owners shown in the UI for the landing assets: the team that runs the source connections.
# (docs/decisions.md: owners).
OWNERS = ["team:data-platform"]
