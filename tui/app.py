"""The Textual UI: session health, recovery history, checkpoints, manual actions.

The app is handed one service object (guardian.service.EngineService, or a fake in tests)
and never talks to tmux itself. Polling and every action run in workers, so a frozen tmux
server never freezes the UI.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, ClassVar, Protocol

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from guardian.view import (
    CheckpointRow,
    HistoryRow,
    Overview,
    ServiceError,
    SessionDetail,
    SessionRow,
)
from tui.screens.confirm import ConfirmScreen
from tui.widgets.checkpoint_list import CheckpointList
from tui.widgets.recovery_log import RecoveryLog
from tui.widgets.session_detail import SessionDetail as DetailPanel
from tui.widgets.session_table import SessionTable

if TYPE_CHECKING:
    from guardian.operations.engine import Engine


class GuardianService(Protocol):
    """What the UI needs; EngineService provides it, tests hand in a fake."""

    interval: float

    def start(self) -> None: ...
    def stop(self) -> None: ...
    async def poll(self) -> Overview: ...
    def detail(self, row: SessionRow) -> SessionDetail: ...
    def checkpoints(self, row: SessionRow) -> list[CheckpointRow]: ...
    def history(self, session: str | None = None, limit: int = 200) -> list[HistoryRow]: ...
    def snapshot(self, row: SessionRow | None) -> str: ...
    def restore_preview(self, row: SessionRow, checkpoint_id: str) -> list[str]: ...
    def restore(self, row: SessionRow, checkpoint_id: str) -> str: ...
    def recover(self, row: SessionRow) -> str: ...
    def forget(self, row: SessionRow) -> str: ...
    def toggle_pause(self, row: SessionRow) -> str: ...


class GuardianApp(App[int]):
    """One screen a person understands at a glance."""

    TITLE = "tmux-guardian"
    CSS_PATH = "app.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "snapshot", "Snapshot", id="snapshot"),
        Binding("S", "snapshot_all", "Snapshot all", id="snapshot-all", show=False),
        Binding("r", "restore", "Restore", id="restore"),
        Binding("R", "recover", "Recover", id="recover"),
        Binding("f", "forget", "Forget", id="forget"),
        Binding("p", "pause", "Pause", id="pause"),
        Binding("/", "filter", "Filter", id="filter"),
        Binding("h", "toggle_history", "History: all/one", id="history-scope", show=False),
        Binding("q", "quit", "Quit", id="quit"),
    ]

    def __init__(self, service: GuardianService, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.service = service
        self.clock = clock
        self.overview: Overview | None = None
        self.filter_text = ""
        self.history_all = False

    # -- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="◆")
        yield Input(placeholder="filter sessions (Enter keeps, Esc clears)", id="filter")
        yield Static("starting…", id="guard-line")
        yield SessionTable(self.clock, id="sessions")
        with Horizontal(id="middle"):
            yield DetailPanel(id="detail")
            yield CheckpointList(self.clock, id="checkpoints")
        yield RecoveryLog(id="history")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#sessions").border_title = "sessions"
        self.query_one("#detail").border_title = "panes"
        self.query_one("#checkpoints").border_title = "checkpoints"
        self.query_one("#history").border_title = "recovery history"
        self.query_one(SessionTable).focus()
        self.service.start()
        self.monitor()

    def on_unmount(self) -> None:
        self.service.stop()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Snapshot session", "Checkpoint the selected session now", self.action_snapshot
        )
        yield SystemCommand(
            "Snapshot all", "Checkpoint every guarded session now", self.action_snapshot_all
        )
        yield SystemCommand(
            "Restore from checkpoint",
            "Rebuild the selected session from the selected checkpoint",
            self.action_restore,
        )
        yield SystemCommand(
            "Recover now", "Reset a given-up session and recover it", self.action_recover
        )
        yield SystemCommand(
            "Forget session", "Stop guarding the selected session", self.action_forget
        )
        yield SystemCommand(
            "Pause or resume guarding", "No recovery while paused", self.action_pause
        )

    # -- live updates --------------------------------------------------------------------

    @work(group="monitor", exclusive=True)
    async def monitor(self) -> None:
        while True:
            started = time.monotonic()
            try:
                overview = await self.service.poll()
            except Exception as exc:  # keep the UI alive whatever the engine does
                self.query_one("#guard-line", Static).update(f"cannot read tmux: {exc}")
            else:
                self.show_overview(overview)
            elapsed = time.monotonic() - started
            await asyncio.sleep(max(0.1, self.service.interval - elapsed))

    def show_overview(self, overview: Overview) -> None:
        self.overview = overview
        line = overview.guard + (
            "  |  " + "; ".join(overview.problems) if overview.problems else ""
        )
        self.query_one("#guard-line", Static).update(line)
        rows = [r for r in overview.sessions if self.filter_text.lower() in r.name.lower()]
        table = self.query_one(SessionTable)
        table.show(rows)
        self.load_selection()

    @on(DataTable.RowHighlighted, "#sessions")
    def session_highlighted(self) -> None:
        self.load_selection()

    def load_selection(self) -> None:
        self.load_details(self.query_one(SessionTable).selected, self.history_all)

    @work(group="details", exclusive=True, thread=True)
    def load_details(self, row: SessionRow | None, history_all: bool) -> None:
        """Reading checkpoints and the journal is file I/O: never on the UI thread."""
        detail = self.service.detail(row) if row else None
        checkpoints = self.service.checkpoints(row) if row else []
        history = self.service.history(None if history_all or row is None else row.name)
        self.call_from_thread(self._show_details, detail, checkpoints, history)

    def _show_details(
        self,
        detail: SessionDetail | None,
        checkpoints: list[CheckpointRow],
        history: list[HistoryRow],
    ) -> None:
        self.query_one(DetailPanel).show(detail)
        listing = self.query_one(CheckpointList)
        keep = listing.cursor_row
        listing.show(checkpoints)
        if 0 < keep < len(checkpoints):
            listing.move_cursor(row=keep, animate=False)
        self.query_one(RecoveryLog).show(history)
        scope = "all sessions" if self.history_all or detail is None else detail.row.name
        self.query_one("#history").border_title = f"recovery history: {scope}"

    # -- actions -------------------------------------------------------------------------

    @property
    def selected(self) -> SessionRow | None:
        return self.query_one(SessionTable).selected

    def _need_session(self) -> SessionRow | None:
        row = self.selected
        if row is None:
            self.notify("no session selected", severity="warning")
        return row

    @work(group="actions", thread=True)
    def perform(self, label: str, call: Callable[[], str]) -> None:
        """Every action runs off the UI thread; its result or its failure is one line."""
        try:
            message = call()
        except ServiceError as exc:
            self.call_from_thread(self.notify, f"{label} failed: {exc}", severity="error")
        except Exception as exc:
            self.call_from_thread(
                self.notify, f"{label} failed: {type(exc).__name__}: {exc}", severity="error"
            )
        else:
            self.call_from_thread(self.notify, message)
        self.call_from_thread(self.load_selection)

    def action_snapshot(self) -> None:
        row = self._need_session()
        if row is not None:
            self.perform("snapshot", lambda: self.service.snapshot(row))

    def action_snapshot_all(self) -> None:
        self.perform("snapshot", lambda: self.service.snapshot(None))

    def action_restore(self) -> None:
        row = self._need_session()
        checkpoint = self.query_one(CheckpointList).selected
        if row is None:
            return
        if checkpoint is None:
            self.notify("no checkpoint of this session to restore from", severity="warning")
            return
        if not checkpoint.verified:
            self.notify(
                f"checkpoint {checkpoint.id} does not verify: {checkpoint.error}", severity="error"
            )
            return
        self.prepare_restore(row, checkpoint)

    @work(group="actions", thread=True)
    def prepare_restore(self, row: SessionRow, checkpoint: CheckpointRow) -> None:
        try:
            lines = self.service.restore_preview(row, checkpoint.id)
        except ServiceError as exc:
            self.call_from_thread(self.notify, f"restore failed: {exc}", severity="error")
            return
        title = f"Restore '{row.name}' from checkpoint {checkpoint.id}?"
        self.call_from_thread(self._confirm_restore, title, lines, row, checkpoint.id)

    def _confirm_restore(
        self, title: str, lines: list[str], row: SessionRow, checkpoint_id: str
    ) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self.perform("restore", lambda: self.service.restore(row, checkpoint_id))

        self.push_screen(ConfirmScreen(title, lines, yes="Restore"), answered)

    def action_recover(self) -> None:
        row = self._need_session()
        if row is not None:
            self.perform("recover", lambda: self.service.recover(row))

    def action_forget(self) -> None:
        row = self._need_session()
        if row is None:
            return
        lines = [
            f"'{row.name}' will no longer be recovered, checkpointed or restored.",
            "Its checkpoints stay on disk; `tmux-guardian recover` guards it again.",
        ]

        def answered(yes: bool | None) -> None:
            if yes:
                self.perform("forget", lambda: self.service.forget(row))

        self.push_screen(ConfirmScreen(f"Forget '{row.name}'?", lines, yes="Forget"), answered)

    def action_pause(self) -> None:
        row = self._need_session()
        if row is not None:
            self.perform("pause", lambda: self.service.toggle_pause(row))

    def action_toggle_history(self) -> None:
        self.history_all = not self.history_all
        self.load_selection()

    def action_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.add_class("visible")
        field.focus()

    @on(Input.Changed, "#filter")
    def filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value
        if self.overview is not None:
            self.show_overview(self.overview)

    @on(Input.Submitted, "#filter")
    def filter_done(self) -> None:
        self.query_one(SessionTable).focus()

    def on_key(self, event: object) -> None:
        key = getattr(event, "key", None)
        field = self.query_one("#filter", Input)
        if key == "escape" and field.has_focus:
            field.value = ""
            field.remove_class("visible")
            self.query_one(SessionTable).focus()


def run_app(engine: Engine) -> int:
    from guardian.view import EngineService

    GuardianApp(EngineService(engine)).run()
    return 0
