"""Unit-cost splits: each day's whole cost across products, environments, customers; and tag strings."""
