"""Pure building blocks of costattr: no Dagster objects live here.

Parsers, config models, money arithmetic and SQL text are kept apart from the
orchestration layer so that unit and property tests can hit them directly.
"""
