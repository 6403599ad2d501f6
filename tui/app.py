"""The Textual UI. For now a read-only session list; the full UI is its own issue."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header

if TYPE_CHECKING:
    from guardian.engine import Engine

SessionRows = Callable[[], list[dict[str, Any]]]


class GuardianApp(App[int]):
    """Shows every guarded session; data comes from the function it is handed."""

    TITLE = "tmux-guardian"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("g", "refresh", "Refresh", id="refresh"),
    ]

    def __init__(self, rows: SessionRows) -> None:
        super().__init__()
        self._rows = rows

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="sessions", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("session", "health", "attached", "windows/panes", "last checkpoint")
        self.action_refresh()

    def action_refresh(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for row in self._rows():
            table.add_row(
                row["name"],
                row["health"],
                "attached" if row["attached"] else "detached",
                f"{row['windows']}/{row['panes']}",
                row["last_checkpoint"] or "never",
            )


def run_app(engine: Engine) -> int:
    from guardian.service import session_rows

    GuardianApp(lambda: session_rows(engine)).run()
    return 0
