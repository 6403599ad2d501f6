"""HealthStrip: the selected session's health over the last hours, one cell a slice of
time (the history below explains each mark; `?` lists the glyphs)."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.widget import Widget

from guardian.view import HistoryRow
from tui.health_strip import GLYPHS, RECOVERED, health_strip

HOURS = 12


class HealthStrip(Widget):
    DEFAULT_CSS = """
    HealthStrip { height: 1; padding: 0 1; }
    """

    def __init__(self, clock: Callable[[], float], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.clock = clock
        self.rows: list[HistoryRow] = []
        self.cells: list[str] = []

    def show(self, rows: list[HistoryRow]) -> None:
        self.rows = rows
        self.refresh()

    def render(self) -> Text:
        label = Text(f"last {HOURS}h ", style="dim")
        room = max(self.content_size.width - len(label) - 4, 0)
        self.cells = health_strip(self.rows, self.clock(), HOURS * 3600, room)
        for state in self.cells:
            kind, recovered, _ = state.partition(RECOVERED)
            glyph, style = GLYPHS[kind]
            label.append(glyph, style="bold green underline" if recovered else style)
        label.append(" now", style="dim")
        return label
