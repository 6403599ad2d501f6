"""SessionDetail: the selected session's panes, and how it differs from its checkpoint."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from guardian.view import SessionDetail as Detail
from tui.formatting import plain


class SessionDetail(Static):
    def show(self, detail: Detail | None) -> None:
        if detail is None:
            self.update(Text("no session selected", style="dim"))
            return
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column("pane", no_wrap=True, style="bold")
        table.add_column("program", ratio=1, no_wrap=True, overflow="ellipsis")
        table.add_column("cwd", ratio=2, no_wrap=True, overflow="ellipsis")
        comebacks: list[Text] = []
        for pane in detail.panes:
            program = plain(pane.program, style="bold red" if pane.dead else "")
            where = plain(f"{pane.window}.{pane.pane}" + ("*" if pane.active else ""))
            table.add_row(where, program, plain(pane.cwd))
            if pane.comeback and not pane.comeback.startswith("shell"):
                # what its strategy makes of it (`claude: resumes ... (exact)`), one line
                how = pane.comeback.split("; ", 1)[0]
                said = plain(f"{pane.window.split(':')[0]}.{pane.pane} ↳ {how}", style="dim")
                said.no_wrap, said.overflow = True, "ellipsis"
                comebacks.append(said)
        parts: list[object] = []
        for line in detail.row.evidence:
            parts.append(plain(line, style="yellow"))
        if detail.row.given_up:
            parts.append(plain(f"given up: {detail.row.given_up}", style="bold red"))
        parts.append(table)
        parts += comebacks  # how each program comes back from the newest checkpoint
        if detail.differences:
            label = "vs checkpoint: " if detail.checkpoint_id else ""
            parts.append(plain(label + "; ".join(detail.differences), style="italic"))
        else:
            parts.append(Text("same as its newest checkpoint", style="dim"))
        self.update(Group(*parts))  # type: ignore[arg-type]
