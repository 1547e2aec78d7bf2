"""Effective-dated histories: half-open windows ``[effective_from, effective_to)``.

Every dated config entry (thresholds, credit prices, rate-card versions, tenant
tiers) goes through these helpers, so overlaps are detected the same way
everywhere and "the value in force on a day" has one definition.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Window:
    """A half-open date window; ``end`` None means open-ended."""

    start: dt.date
    end: dt.date | None

    def contains(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)

    def overlaps(self, other: Window) -> bool:
        starts_before_other_ends = other.end is None or self.start < other.end
        other_starts_before_self_ends = self.end is None or other.start < self.end
        return starts_before_other_ends and other_starts_before_self_ends

    def __str__(self) -> str:
        return f"[{self.start}, {self.end or 'open'})"


@dataclass(frozen=True)
class Dated(Generic[T]):
    """A value with the window in which it is in force."""

    window: Window
    value: T


class Windowed(Protocol):
    """Anything in force during a window: a :class:`Dated` value or a dated config entry."""

    @property
    def window(self) -> Window: ...


W = TypeVar("W", bound=Windowed)


def find_overlap(entries: Sequence[W], scope: Callable[[W], Hashable] = lambda _: None) -> tuple[int, int] | None:
    """Indexes of the first two entries of the same scope whose windows overlap, or None."""
    for i, first in enumerate(entries):
        for j in range(i + 1, len(entries)):
            second = entries[j]
            if scope(first) == scope(second) and first.window.overlaps(second.window):
                return i, j
    return None


def in_force(entries: Iterable[Dated[T]], day: dt.date) -> Dated[T] | None:
    """The entry whose window holds ``day`` (entries are assumed not to overlap)."""
    for entry in entries:
        if entry.window.contains(day):
            return entry
    return None


def fill_gaps(entries: Sequence[Dated[T]], default: T, since: dt.date = dt.date(1970, 1, 1)) -> list[Dated[T]]:
    """Complete a non-overlapping history so every day from ``since`` has a value.

    Days that no entry covers take ``default``; used where the contract defines
    a default (the 2 % unattributed threshold) rather than an error.
    """
    ordered = sorted(entries, key=lambda entry: entry.window.start)
    result: list[Dated[T]] = []
    cursor: dt.date | None = since
    for entry in ordered:
        if cursor is not None and entry.window.start > cursor:
            result.append(Dated(Window(cursor, entry.window.start), default))
        result.append(entry)
        cursor = entry.window.end
    if cursor is not None:
        result.append(Dated(Window(cursor, None), default))
    return result
