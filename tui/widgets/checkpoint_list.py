"""CheckpointList: the checkpoint picker, the selected session's checkpoints newest first:
each with its verification, what it holds (windows, panes, programs) and how it differs
from the one before it; its lines wrap at words (nothing cut mid-word)."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from guardian.view import CheckpointRow
from tui.checkpoint_diff import diff_layouts, holds
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
        options = []
        for i, row in enumerate(rows):
            before = next((r for r in rows[i + 1 :] if r.verified), None)
            options.append(Option(self.describe(row, before, now), id=row.id))
        self.add_options(options)
        if rows:
            self.highlighted = keep if keep is not None and keep < len(rows) else 0

    def describe(self, row: CheckpointRow, before: CheckpointRow | None, now: float) -> Text:
        text = Text(age(now - row.created_at), style="bold")
        if not row.verified:
            text.append("  ✖ does not verify: ", style="bold red")
            text.append(plain(row.error))
            return text
        text.append("  ✔ ok", style="green")
        if row.reason:
            text.append(plain(f" · {row.reason}", style="dim"))
        text.append("\n")
        text.append(plain(holds(row.layout)) if row.layout else Text(f"{row.panes} panes"))
        if before is not None and before.layout and row.layout:
            changes = diff_layouts(before.layout, row.layout)
            text.append("\n")
            said = "; ".join(changes) if changes else "same as the one before"
            text.append(plain(said, style="yellow" if changes else "dim"))
        return text

    @property
    def selected(self) -> CheckpointRow | None:
        index = self.highlighted
        if index is None or not 0 <= index < len(self.checkpoint_rows):
            return None
        return self.checkpoint_rows[index]
