"""Which checkpoints to delete: the last N per session plus one per day for D days."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Dated:
    id: str
    created_at: datetime


def select_for_deletion(
    checkpoints: Sequence[Dated],
    *,
    now: datetime,
    keep_last: int,
    daily_days: int,
    protect: set[str] | str | None = None,
) -> list[str]:
    """Ids to delete. Keeps the newest `keep_last`, the newest of each of the last
    `daily_days` days, and `protect` (the newest checkpoint that verifies) whatever else."""
    newest_first = sorted(checkpoints, key=lambda c: (c.created_at, c.id), reverse=True)
    keep = {c.id for c in newest_first[:keep_last]}
    horizon = now - timedelta(days=daily_days)
    seen_days: set[object] = set()
    for c in newest_first:
        day = c.created_at.date()
        if c.created_at >= horizon and day not in seen_days:
            seen_days.add(day)
            keep.add(c.id)
    if isinstance(protect, str):
        keep.add(protect)
    elif protect:
        keep |= protect
    return [c.id for c in newest_first if c.id not in keep]
