"""How values look in the UI: health badges (colour AND a word), ages, times."""

from __future__ import annotations

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


def age(seconds_ago: float | None) -> str:
    if seconds_ago is None:
        return "never"
    seconds = max(0, int(seconds_ago))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"
