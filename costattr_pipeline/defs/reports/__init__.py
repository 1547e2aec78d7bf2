"""Reports for people: the monthly cost report (one self-contained HTML page per month)."""

# Owners shown in the UI for the reports.
# (docs/decisions.md: owners).
OWNERS = ["team:finops"]
