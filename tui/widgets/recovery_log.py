"""RecoveryLog: the journal, newest first, for all sessions or the selected one."""

from __future__ import annotations

import time

from textual.widgets import DataTable

from guardian.view import HistoryRow
from tui.formatting import plain


class RecoveryLog(DataTable[object]):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", **kwargs)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        self.add_column("time", key="time")
        self.add_column("session", key="session")
        self.add_column("what", key="what")
        self.add_column("outcome", key="outcome")

    def show(self, rows: list[HistoryRow]) -> None:
        self.clear()
        for row in rows:
            style = {True: "green", False: "bold red", None: ""}[row.ok]
            self.add_row(
                time.strftime("%H:%M:%S", time.localtime(row.at)),
                plain(row.session),
                plain(row.what),
                plain(row.outcome, style=style),
            )
