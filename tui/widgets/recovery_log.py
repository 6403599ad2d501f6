"""RecoveryLog: the journal, newest first, for all sessions or the selected one.

Its columns share the width it has: the time and session keep theirs, what happened and
its outcome split the rest, each cut at a word (never an outcome shrunk to one letter)."""

from __future__ import annotations

from textual import events
from textual.widgets import DataTable

from guardian.view import HistoryRow
from tui.formatting import clock_time, fit, plain


class RecoveryLog(DataTable[object]):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", show_header=False, **kwargs)  # type: ignore[arg-type]
        self.history: list[HistoryRow] = []

    def show(self, rows: list[HistoryRow]) -> None:
        self.history = rows
        self.clear(columns=True)
        width = max(self.content_size.width or self.app.size.width - 2, 40)
        session = min(max((len(r.session) for r in rows), default=7), 14)
        rest = width - 8 - session - 4 * 2 - 2  # a cell of padding each side; a scrollbar
        what = rest * 11 // 20
        self.add_column("time", key="time", width=8)
        self.add_column("session", key="session", width=session)
        self.add_column("what", key="what", width=what)
        self.add_column("outcome", key="outcome", width=rest - what)
        for row in rows:
            style = {True: "green", False: "bold red", None: ""}[row.ok]
            self.add_row(
                clock_time(row.at),
                plain(fit(row.session, session)),
                plain(fit(row.what, what)),
                plain(fit(row.outcome, rest - what), style=style),
            )

    def on_resize(self, event: events.Resize) -> None:
        if self.history:
            self.show(self.history)
