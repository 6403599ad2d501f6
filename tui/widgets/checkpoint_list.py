"""CheckpointList: the checkpoint picker, the selected session's checkpoints newest first,
each with its verification; its lines wrap at words (nothing cut mid-word)."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from guardian.view import CheckpointRow
from tui.formatting import age, plain


class CheckpointList(OptionList):
    def __init__(self, clock: Callable[[], float], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.clock = clock
        self.checkpoint_rows: list[CheckpointRow] = []

    def show(self, rows: list[CheckpointRow]) -> None:
        keep = self.highlighted
        self.checkpoint_rows = rows
        self.clear_options()
        now = self.clock()
        self.add_options([Option(self.describe(row, now), id=row.id) for row in rows])
        if rows:
            self.highlighted = keep if keep is not None and keep < len(rows) else 0

    def describe(self, row: CheckpointRow, now: float) -> Text:
        text = Text(age(now - row.created_at), style="bold")
        if not row.verified:
            text.append("  ✖ does not verify: ", style="bold red")
            text.append(plain(row.error))
            return text
        text.append("  ✔", style="green")
        text.append(f" {row.windows} windows, {row.panes} panes")
        if row.reason:
            text.append(plain(f" · {row.reason}", style="dim"))
        return text

    @property
    def selected(self) -> CheckpointRow | None:
        index = self.highlighted
        if index is None or not 0 <= index < len(self.checkpoint_rows):
            return None
        return self.checkpoint_rows[index]
