"""The identity of one computation of an append-only audit table (spec NFR-024).

A window recomputed by a run is appended as a new version, never written over: each appended row, and
each day's entry in the table's register of computations, carries the computation's id, when it was
computed, the hash of the config it was computed with and the source loads it read. Readers see the
latest computation of each day (the ``V_*`` views); the as-of queries see the latest one at a given time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class Computation:
    computation_id: str
    computed_at: dt.datetime  # UTC, naive (as every timestamp of the warehouse)
    config_hash: str
    source_load_ids: str      # the loads (or relations read in place) the computation read, ';'-separated

    @classmethod
    def new(cls, config: str, sources: list[str] | tuple[str, ...], computation_id: str | None = None) -> Computation:
        """A computation now: ``config`` is the text of the config it depends on (hashed), ``sources`` what it read."""
        return cls(computation_id=computation_id or str(uuid.uuid4()),
                   computed_at=dt.datetime.now(dt.timezone.utc).replace(tzinfo=None),
                   config_hash=hashlib.sha256(config.encode("utf-8")).hexdigest()[:16],
                   source_load_ids=";".join(sorted(set(sources))))

    def params(self) -> dict[str, object]:
        """The SQL parameters of the append statements."""
        return {"computation_id": self.computation_id, "computed_at": self.computed_at,
                "config_hash": self.config_hash, "source_load_ids": self.source_load_ids}
