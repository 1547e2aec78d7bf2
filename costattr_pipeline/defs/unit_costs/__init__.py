"""Unit-cost splits: each day's whole cost across products, environments, customers; and tag strings."""

# Owners shown in the UI for the unit-cost splits.
# (docs/decisions.md: owners).
OWNERS = ["team:finops"]
