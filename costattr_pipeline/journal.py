"""What each ``costattr run`` set out to do and how far it got, beside the warehouse.

Every asset publishes its window in one transaction, so a run that is killed (``kill -9``, a reboot,
an out-of-memory kill) never leaves a half-written table; but it can leave upstream assets new and
downstream assets old, with nothing in the warehouse saying so. The journal says so: a request (the
days of one command) is recorded before its first step and after each asset, in
``<warehouse>.journal.json``, replaced atomically. A request still marked *running* when the next
command holds the warehouse lock was interrupted (the lock is released by the kernel when its
holder dies), so that command reports it and runs its days again first (runs are idempotent), and
``costattr status`` shows it.

The journal is a plain file rather than a table so that it records even a run whose warehouse
transaction failed, and so that reading it never waits for the warehouse.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from costattr_pipeline.runner import Progress, RunStarted, StepFinished

KEPT_REQUESTS = 50

RUNNING, SUCCEEDED, FAILED, INTERRUPTED = "running", "succeeded", "failed", "interrupted"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass
class RunPlan:
    """One Dagster run of the request: its partition range, the assets it materializes, those done."""

    first: str
    last: str
    assets: list[str]
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def pending(self) -> list[str]:
        return [asset for asset in self.assets if asset not in self.done]


@dataclass
class Request:
    """The days of one command and what became of them."""

    start: str
    end: str
    command: str
    started_at: str
    pid: int
    state: str = RUNNING
    finished_at: str | None = None
    error: str | None = None
    runs: list[RunPlan] = field(default_factory=list)

    @property
    def window(self) -> tuple[dt.date, dt.date]:
        return dt.date.fromisoformat(self.start), dt.date.fromisoformat(self.end)

    def describe(self) -> str:
        """One line: the days, the state, and for an unfinished request the assets it did not publish."""
        line = f"[{self.start}, {self.end}) {self.command}, started {self.started_at}: {self.state}"
        if self.finished_at:
            line += f" at {self.finished_at}"
        done = sum(len(run.done) for run in self.runs)
        planned = sum(len(run.assets) for run in self.runs)
        if self.runs:
            line += f", {done} of {planned} assets published"
        if self.error:
            line += f": {self.error}"
        return line

    def pending_lines(self) -> list[str]:
        return [f"partitions {run.first}...{run.last}: not published: {', '.join(run.pending)}"
                for run in self.runs if run.pending] if self.state != SUCCEEDED else []


def journal_path(warehouse: Path | str) -> Path:
    return Path(f"{warehouse}.journal.json")


def read_requests(warehouse: Path | str) -> list[Request]:
    """The recorded requests, oldest first (none when the warehouse was never run by the CLI)."""
    path = journal_path(warehouse)
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError):  # a journal that cannot be read says nothing; it is rewritten
        return []
    requests = []
    for entry in entries:
        runs = [RunPlan(**run) for run in entry.pop("runs", [])]
        requests.append(Request(**entry, runs=runs))
    return requests


def _write(warehouse: Path | str, requests: list[Request]) -> None:
    path = journal_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps([asdict(request) for request in requests[-KEPT_REQUESTS:]], indent=1),
                         encoding="utf-8")
    os.replace(temporary, path)


def take_interrupted(warehouse: Path | str) -> list[Request]:
    """The requests left *running* by a process that died, now marked *interrupted*.

    Call it holding the warehouse lock: no live costattr process is then running a request on it.
    """
    requests = read_requests(warehouse)
    interrupted = [request for request in requests if request.state == RUNNING]
    for request in interrupted:
        request.state = INTERRUPTED
    if interrupted:
        _write(warehouse, requests)
    return interrupted


class Journal:
    """Records one request as it goes: call it with each progress event, then ``finish``.

    Create it holding the warehouse lock (see :func:`take_interrupted`).
    """

    def __init__(self, warehouse: Path | str, start: dt.date, end: dt.date, command: str):
        self.warehouse = warehouse
        self.request = Request(start.isoformat(), end.isoformat(), command, _now(), os.getpid())
        # The caller holds the warehouse lock: no other process writes the journal meanwhile.
        self.requests = [*read_requests(warehouse), self.request]
        self._save()

    def _save(self) -> None:
        try:
            _write(self.warehouse, self.requests)
        except OSError:  # a full disk fails the run itself with its own message; the journal is best effort
            pass

    def __call__(self, event: Progress) -> None:
        if isinstance(event, RunStarted):
            self.request.runs.append(RunPlan(event.first, event.last, list(event.keys)))
            self._save()
        elif isinstance(event, StepFinished) and self.request.runs:
            run = self.request.runs[-1]
            (run.done if event.succeeded else run.failed).extend(event.assets)
            self._save()

    def finish(self, error: str | None = None) -> None:
        self.request.state = FAILED if error else SUCCEEDED
        self.request.error = error
        self.request.finished_at = _now()
        self._save()
