"""Typed errors that tell a user what to fix: the file, the row or key, and the rule."""

from __future__ import annotations

from collections.abc import Iterable


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


class ServiceError(RuntimeError):
    """A production service could not be reached, or refused the credentials: one line naming the service,
    its endpoint and what it said. Secrets are never part of it (see :func:`without_secrets`)."""

    def __init__(self, service: str, endpoint: str, said: str):
        self.service = service
        self.endpoint = endpoint
        self.said = said
        super().__init__(f"{service} at {endpoint}: {said}")


def without_secrets(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` on one line with every secret value in it replaced by ``***`` (a driver may echo a URL or a token)."""
    line = " ".join(str(text).split())
    for secret in secrets:
        if secret and len(secret) >= 4:
            line = line.replace(secret, "***")
    return line
