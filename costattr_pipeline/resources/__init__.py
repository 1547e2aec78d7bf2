"""Dagster resources: the warehouse, the source readers and the config folder, one key each.

``definitions.py`` picks an implementation per target (``local`` or ``prod``);
assets only ever see the key.
"""
