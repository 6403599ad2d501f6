"""HelpScreen (`?`): every key and what it does, including those the footer has no room
for at 80 columns (the checkpoint picker is reached with Tab)."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

KEYS: tuple[tuple[str, str], ...] = (
    ("↑ ↓", "select a session (or a checkpoint, a pane in a dialog)"),
    ("Tab", "move between the sessions and the checkpoint picker"),
    ("s", "snapshot the selected session now"),
    ("S", "snapshot every guarded session"),
    ("r", "restore the selected session from the selected checkpoint"),
    ("R", "recover now (also resets a session the watcher gave up on)"),
    ("f", "forget the session: never guarded, recovered or restored again"),
    ("p", "pause or resume guarding the session"),
    ("/", "filter sessions by name (Enter keeps, Esc clears)"),
    ("h", "history of this session, or of all sessions"),
    ("w", "next window in the layout pictures (live beside the checkpoint)"),
    ("ctrl+p", "every action, by name"),
    ("?", "this help"),
    ("q", "quit"),
)
STRIP = (
    "The strip under the sessions: the selected session's last 12 hours, oldest left. "
    "▁ healthy  ✖ crashed  ❄ frozen  ▲ corrupted  ⚡ disconnected  ↺ recovered  "
    "✗ recovery failed  · unknown; underlined: recovered in that slice. The history "
    "explains each mark."
)
IN_RESTORE: tuple[tuple[str, str], ...] = (
    ("r h s", "a pane comes back running, held at the prompt, or as a shell"),
    ("w", "the next window of the picture of what will be built"),
    ("y / n", "restore, or cancel"),
)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help-close"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Label(Text("Keys"), id="confirm-title")
            with VerticalScroll(id="confirm-body"):
                yield Static(_table(KEYS))
                yield Static(Text("\n" + STRIP))
                yield Static(Text("\nIn the restore dialog", style="bold"))
                yield Static(_table(IN_RESTORE))
            yield Static(Text("Esc closes", style="dim"))

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)


def _table(rows: tuple[tuple[str, str], ...]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for key, what in rows:
        table.add_row(key, what)
    return table
