"""Typed errors that tell a user what to fix: the file, the row or key, and the rule."""

from __future__ import annotations


class CostattrInputError(ValueError):
    """Bad input (a source file or a config file); nothing has been written.

    The message is one line: ``<file>: <where>: <rule>`` so that a CLI user or a
    Dagster UI reader can go straight to the offending entry.
    """

    def __init__(self, source: str, where: str | None, rule: str):
        self.source = source
        self.where = where
        self.rule = rule
        location = f"{source}: {where}" if where else source
        super().__init__(f"{location}: {rule}")


class ConfigError(CostattrInputError):
    """A config YAML file breaks a rule of the contract (overlap, unknown key, bad value)."""


class SourceError(CostattrInputError):
    """A source export (Cost Explorer JSON, CSV, Parquet) is malformed."""
