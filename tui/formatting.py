"""How values look in the UI: health badges (colour AND a word), ages, times."""

from __future__ import annotations

import time

from rich.text import Text

from recovery.may_run.text import visible

BADGES: dict[str, tuple[str, str]] = {
    "healthy": ("● healthy", "bold green"),
    "crashed": ("✖ crashed", "bold red"),
    "frozen": ("❄ frozen", "bold cyan"),
    "corrupted": ("▲ corrupted", "bold magenta"),
    "disconnected": ("⚡ disconnected", "bold yellow"),
    "server stopped": ("■ stopped", "dim"),
    "ignored": ("○ ignored", "dim"),
    "not running": ("○ not running", "dim"),
}


def plain(value: str, style: str = "") -> Text:
    """A name, path, command or message as text: never markup (`a[/]` is a name, not a
    closing tag), its control characters shown (`^[`), never sent to the terminal."""
    return Text(visible(value), style=style)


def badge(health: str, *, paused: bool = False, given_up: bool = False) -> Text:
    label, style = BADGES.get(health, (health, ""))
    text = Text(label, style=style)
    if given_up:
        text.append(" given up", style="bold white on red")
    elif paused:
        text.append(" paused", style="italic")
    return text


def clock_time(at: float) -> str:
    """`HH:MM:SS`, local time."""
    return time.strftime("%H:%M:%S", time.localtime(at))


def as_of(at: float | None) -> str:
    """`as of 10:02:11` (or `never read` when the server never answered this UI)."""
    return f"as of {clock_time(at)}" if at is not None else "never read"


def age(seconds_ago: float | None) -> str:
    if seconds_ago is None:
        return "never"
    seconds = max(0, int(seconds_ago))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def fit(text: str, width: int) -> str:
    """`text` in at most `width` cells, cut at a word boundary with `…` (never mid-word
    unless its first word alone is wider than `width`)."""
    if width <= 0:
        return ""
    if len(text) <= width:
        return text
    if width == 1:
        return "…"
    cut = text[: width - 1]
    space = cut.rfind(" ")
    if text[width - 1] != " " and space > 0:  # the cut ends inside a word: drop it
        cut = cut[:space]
    return cut.rstrip(" ,;:-…") + "…"


def _home(path: str, home: str | None) -> str:
    if home and home != "/" and (path == home or path.startswith(home.rstrip("/") + "/")):
        return "~" + path[len(home.rstrip("/")) :]
    return path


def _tail(parts: list[str], room: int) -> list[str]:
    """The last components of `parts` that fit in `room` cells joined by `/`."""
    kept: list[str] = []
    for part in reversed(parts):
        if len("/".join([part, *kept])) > room:
            break
        kept.insert(0, part)
    return kept


def shorten_path(path: str, width: int, home: str | None = None) -> str:
    """A directory in at most `width` cells, shortened from the middle: its head (`~`,
    or its first component) and as many of its last components as fit (`~/…/app/tests`,
    `/var/…/data/base`); the informative tail is what is kept."""
    path = _home(path, home)
    if len(path) <= width:
        return path
    parts = path.split("/")
    head = "/" + parts[1] + "/" if not parts[0] and len(parts) > 2 else parts[0] + "/"
    rest = parts[2:] if not parts[0] else parts[1:]
    kept = _tail(rest, width - len(head) - 2)
    if kept:
        return head + "…/" + "/".join(kept)
    kept = _tail(rest, width - 2)
    if kept:
        return "…/" + "/".join(kept)
    return "…" + parts[-1][-(width - 1) :] if width > 1 else "…"[:width]


def path_tail(path: str, width: int, home: str | None = None) -> str:
    """The end of a directory, what tells panes apart: the whole path when it fits,
    else its last components (`…/app/tests`), at most `width` cells."""
    path = _home(path, home)
    if len(path) <= width:
        return path
    kept = _tail([p for p in path.split("/") if p], width - 2)
    if kept:
        return "…/" + "/".join(kept)
    return "…" + path.rstrip("/").rsplit("/", 1)[-1][-(width - 1) :] if width > 1 else "…"[:width]
