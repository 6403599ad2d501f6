"""SessionTable: one row per guarded session, with its health badge."""

from __future__ import annotations

from collections.abc import Callable

from textual.coordinate import Coordinate
from textual.widgets import DataTable

from guardian.view import SessionRow
from tui.formatting import age, badge, plain


def row_key(row: SessionRow) -> str:
    return f"{row.socket_path}\t{row.name}"


class SessionTable(DataTable[object]):
    """Sessions across guarded servers. Keeps the cursor on the same session across updates."""

    def __init__(self, clock: Callable[[], float], **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self.clock = clock
        self.rows_by_key: dict[str, SessionRow] = {}

    def on_mount(self) -> None:
        self.add_column("session", key="name")
        self.add_column("health", key="health")
        self.add_column("client", key="attached")
        self.add_column("w/p", key="size")
        self.add_column("checkpoint", key="checkpoint")
        self.add_column("last recovery", key="recovery")

    def show(self, rows: list[SessionRow]) -> None:
        selected = self.selected_key
        self.clear()
        self.rows_by_key = {}
        now = self.clock()
        for row in rows:
            key = row_key(row)
            self.rows_by_key[key] = row
            checkpoint = age(now - row.last_checkpoint_at) if row.last_checkpoint_at else "never"
            self.add_row(
                plain(row.name),
                badge(row.health, paused=row.paused, given_up=row.given_up is not None),
                "attached" if row.attached else "detached",
                f"{row.windows}/{row.panes}",
                checkpoint,
                plain(row.last_recovery or "-"),
                key=key,
            )
        if selected in self.rows_by_key:
            self.move_cursor(row=self.get_row_index(selected), animate=False)

    @property
    def selected_key(self) -> str | None:
        if not self.rows_by_key or self.cursor_row < 0 or self.cursor_row >= self.row_count:
            return None
        return str(self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value)

    @property
    def selected(self) -> SessionRow | None:
        key = self.selected_key
        return self.rows_by_key.get(key) if key else None
