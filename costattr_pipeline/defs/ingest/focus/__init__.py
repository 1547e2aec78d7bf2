"""FOCUS cost and usage datasets of any provider, landed append-only by export."""
