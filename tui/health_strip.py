"""A session's health over the last hours as a strip of cells, built from its journal
records (pure): healthy, each failure kind, recoveries that worked or failed."""

from __future__ import annotations

from collections.abc import Iterable

from guardian.view import HistoryRow

GLYPHS: dict[str, tuple[str, str]] = {
    "unknown": ("·", "dim"),
    "healthy": ("▁", "green"),
    "recovered": ("↺", "bold green"),
    "disconnected": ("⚡", "bold yellow"),
    "corrupted": ("▲", "bold magenta"),
    "frozen": ("❄", "bold cyan"),
    "crashed": ("✖", "bold red"),
    "failed": ("✗", "bold red"),
}
"""Each state a glyph AND a colour: readable without colour (NO_COLOR). A failure that
was recovered within its slice keeps its kind's glyph, underlined in green
(`crashed+recovered`): what happened stays visible, and that it was repaired."""
RECOVERED = "+recovered"
RANK = {state: rank for rank, state in enumerate(GLYPHS)}
PERSONS = ("pause", "resume", "reset", "forget")


def is_recovery(row: HistoryRow) -> bool:
    """A repair, a rebuild or a person's restore; not a person's bookkeeping."""
    if row.kind != "action":
        return False
    return not any(row.what.startswith(f"{what} (by a person)") for what in PERSONS)


def health_strip(rows: Iterable[HistoryRow], now: float, span: float, cells: int) -> list[str]:
    """The state of each of `cells` equal slices of the last `span` seconds, oldest first:
    the worst health seen in the slice, or the recovery made in it (which says most).
    Before the first record it knows of, a session's health is unknown."""
    if cells <= 0:
        return []
    start = now - span
    size = span / cells
    ordered = sorted(rows, key=lambda r: r.at)
    health = "unknown"
    for row in ordered:  # the health the window starts with
        if row.at < start and row.kind == "verdict" and row.health:
            health = row.health
    strip: list[str] = []
    events = [r for r in ordered if start <= r.at <= now]
    at = 0
    repaired = False
    for cell in range(cells):
        end = start + (cell + 1) * size
        seen = health
        while at < len(events) and (events[at].at < end or cell == cells - 1):
            row = events[at]
            at += 1
            if row.kind == "verdict" and row.health:
                health = row.health
                seen = worst(seen, health)
            elif is_recovery(row):
                seen = worst(seen, "recovered" if row.ok is not False else "failed")
                repaired = repaired or row.ok is not False
        strip.append(seen + RECOVERED if repaired and seen not in NOT_FAILURES else seen)
        repaired = False
    return strip


NOT_FAILURES = ("unknown", "healthy", "recovered", "failed")


def worst(a: str, b: str) -> str:
    """The state that says more: a failed recovery over a failure over health."""
    return a if RANK.get(a, 0) >= RANK.get(b, 0) else b
