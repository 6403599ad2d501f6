"""SessionDetail: the selected session's panes, and how it differs from its checkpoint.

Drawn for the width it has: programs cut at a word, directories shortened from the middle
(their tail tells panes apart), notes wrapped at words."""

from __future__ import annotations

import os

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widget import Widget

from guardian.view import SessionDetail as Detail
from tui.formatting import as_of, fit, plain, shorten_path


class SessionDetail(Widget):
    DEFAULT_CSS = """
    SessionDetail { height: auto; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.detail: Detail | None = None

    def show(self, detail: Detail | None) -> None:
        self.detail = detail
        self.refresh(layout=True)

    def render(self) -> RenderableType:
        detail = self.detail
        if detail is None:
            return Text("no session selected", style="dim")
        width = max(self.content_size.width, 20)
        home = os.environ.get("HOME")
        names = [f"{p.window}.{p.pane}" + ("*" if p.active else "") for p in detail.panes]
        first = max((len(n) for n in names), default=4)
        room = max(width - first - 2, 10)
        table = Table.grid(padding=(0, 1, 0, 0))
        table.add_column("pane", no_wrap=True, style="bold")
        table.add_column("program", no_wrap=True)
        table.add_column("cwd", no_wrap=True)
        programs = [fit(p.program, room * 2 // 5) for p in detail.panes]
        room -= max((len(p) for p in programs), default=0) + 1
        comebacks: list[Text] = []
        for name, program, pane in zip(names, programs, detail.panes, strict=True):
            cwd = shorten_path(pane.cwd, room, home)
            table.add_row(
                plain(name), plain(program, style="bold red" if pane.dead else ""), plain(cwd)
            )
            if pane.comeback and not pane.comeback.startswith("shell"):
                # what its strategy makes of it (`claude: resumes ... (exact)`), one line
                how = pane.comeback.split("; ", 1)[0]
                said = f"{pane.window.split(':')[0]}.{pane.pane} ↳ {how}"
                comebacks.append(plain(fit(said, width), style="dim"))
        row = detail.row
        parts: list[RenderableType] = []
        if row.stale:  # never stale data shown as live
            said = f"{as_of(row.as_of)}: {row.stale}; the panes below are as they were then"
            parts.append(plain(said, style="bold yellow"))
        parts += [plain(line, style="yellow") for line in row.evidence]
        if detail.row.given_up:
            parts.append(plain(f"given up: {detail.row.given_up}", style="bold red"))
        parts.append(table)
        parts += comebacks  # how each program comes back from the newest checkpoint
        if not row.stale:  # (how it differs now is unknown while it does not answer)
            parts.append(_differences(detail))
        return Group(*parts)


def _differences(detail: Detail) -> Text:
    if detail.differences:
        label = "vs checkpoint: " if detail.checkpoint_id else ""
        return plain(label + "; ".join(detail.differences), style="italic")
    return Text("same as its newest checkpoint", style="dim")
