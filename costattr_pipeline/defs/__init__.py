"""Dagster definitions, one folder per concern; ``costattr_pipeline.definitions`` assembles them."""
