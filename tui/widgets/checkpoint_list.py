"""CheckpointList: the selected session's checkpoints, newest first, with verification."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.widgets import DataTable

from guardian.view import CheckpointRow
from tui.formatting import age, plain


class CheckpointList(DataTable[object]):
    def __init__(self, clock: Callable[[], float], **kwargs: object) -> None:
        super().__init__(cursor_type="row", **kwargs)  # type: ignore[arg-type]
        self.clock = clock
        self.checkpoint_rows: list[CheckpointRow] = []

    def on_mount(self) -> None:
        self.add_column("checkpoint", key="when")
        self.add_column("w/p", key="size")
        self.add_column("ok", key="ok")
        self.add_column("why", key="reason")

    def show(self, rows: list[CheckpointRow]) -> None:
        self.clear()
        self.checkpoint_rows = rows
        now = self.clock()
        for row in rows:
            ok = Text("✔ ok", style="green") if row.verified else Text("✖ bad", style="bold red")
            self.add_row(
                age(now - row.created_at),
                f"{row.windows}/{row.panes}",
                ok,
                plain(row.reason or row.error),
                key=row.id,
            )

    @property
    def selected(self) -> CheckpointRow | None:
        if not self.checkpoint_rows or not 0 <= self.cursor_row < len(self.checkpoint_rows):
            return None
        return self.checkpoint_rows[self.cursor_row]
