"""Realistic, deterministic sample data in the contract's source formats (``costattr demo``).

Each source has its own module with a ``generate(source_dir, period, rng)``
function; :func:`generate_sample` runs them all and writes the config folder.
"""

from costattr_pipeline.sample.generate import DemoPeriod, default_period, generate_sample

__all__ = ["DemoPeriod", "default_period", "generate_sample"]
