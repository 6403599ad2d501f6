"""The Textual UI: session health, recovery history, checkpoints, manual actions.

The app is handed one service object (guardian.view.EngineService, or a fake in tests)
and never talks to tmux itself. Polling and every action run in workers, so a frozen tmux
server never freezes the UI.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Input, OptionList, Static
from textual.worker import get_current_worker

from guardian.view import (
    CheckpointRow,
    HistoryRow,
    Overview,
    SessionDetail,
    SessionRow,
)
from tui.actions import SessionActions
from tui.formatting import as_of, plain
from tui.screens.help import HelpScreen
from tui.service import GuardianService
from tui.widgets.checkpoint_list import CheckpointList
from tui.widgets.health_strip import HealthStrip
from tui.widgets.layout_comparison import LayoutComparison
from tui.widgets.recovery_log import RecoveryLog
from tui.widgets.session_detail import SessionDetail as DetailPanel
from tui.widgets.session_table import SessionTable

if TYPE_CHECKING:
    from guardian.operations.engine import Engine


THEMES = {
    "dark": "textual-dark",
    "light": "textual-light",
    "terminal-dark": "ansi-dark",
    "terminal-light": "ansi-light",
}
"""config `ui_theme` -> Textual's theme."""


class GuardianApp(SessionActions):
    """One screen a person understands at a glance."""

    TITLE = "tmux-guardian"
    CSS_PATH = "app.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "snapshot", "Snapshot", id="snapshot"),
        Binding("S", "snapshot_all", "Snapshot all", id="snapshot-all", show=False),
        Binding("r", "restore", "Restore", id="restore"),
        Binding("R", "recover", "Recover", id="recover"),
        Binding("f", "forget", "Forget", id="forget", show=False),
        Binding("p", "pause", "Pause", id="pause"),
        Binding("/", "filter", "Filter", id="filter"),
        Binding("h", "toggle_history", "History: all/one", id="history-scope", show=False),
        Binding("w", "next_window", "Next window", id="next-window", show=False),
        # (the footer holds what fits at 80 columns; `?` lists every key)
        Binding("question_mark", "help", "Help", id="help", key_display="?"),
        Binding("q", "quit", "Quit", id="quit"),
    ]

    def __init__(
        self,
        service: GuardianService,
        *,
        clock: Callable[[], float] = time.time,
        theme: str = "dark",
    ) -> None:
        # terminal-*: Textual's ANSI themes, in the terminal's own palette
        super().__init__(ansi_color=theme.startswith("terminal-"))
        self.theme = THEMES.get(theme, "textual-dark")
        self.service = service
        self.clock = clock
        self.overview: Overview | None = None
        self.filter_text = ""
        self.history_all = False
        self.poll_now = asyncio.Event()
        self.detail: SessionDetail | None = None

    # -- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(_title("starting…"), id="guard-line")
        yield Static(id="problems")
        yield Input(placeholder="filter sessions (Enter keeps, Esc clears)", id="filter")
        yield SessionTable(self.clock, id="sessions")
        yield HealthStrip(self.clock, id="strip")
        with Horizontal(id="middle"):
            with Vertical(id="pictures"):
                yield LayoutComparison(self.clock, id="layouts")
                yield DetailPanel(id="detail")
            yield CheckpointList(self.clock, id="checkpoints")
        yield RecoveryLog(id="history")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#sessions").border_title = "sessions"
        self.query_one("#checkpoints").border_title = "checkpoints"
        self.query_one("#history").border_title = "recovery history"
        self.query_one(SessionTable).focus()
        self.service.start()
        self.monitor()

    def on_unmount(self) -> None:
        self.service.stop()

    # -- live updates --------------------------------------------------------------------

    @work(group="monitor", exclusive=True)
    async def monitor(self) -> None:
        while True:
            started = time.monotonic()
            problem = plain("")
            try:
                overview: Overview | None = await self.service.poll()
            except Exception as exc:  # keep the UI alive whatever the engine does
                overview, problem = None, plain(f"cannot read tmux: {exc}")
            if not self.query("#guard-line"):
                return  # the app is closing: its widgets are gone (a poll outlived them)
            if overview is None:
                self.show_problems([problem.plain])
            else:
                self.show_overview(overview)
            elapsed = time.monotonic() - started
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self.poll_now.wait(), max(0.1, self.service.interval - elapsed)
                )
            self.poll_now.clear()

    def wake_monitor(self) -> None:
        self.poll_now.set()

    def show_overview(self, overview: Overview) -> None:
        self.overview = overview
        self.query_one("#guard-line", Static).update(_title(overview.guard))
        self.show_problems(list(overview.problems))
        rows = [r for r in overview.sessions if self.filter_text.lower() in r.name.lower()]
        table = self.query_one(SessionTable)
        table.show(rows)
        table.border_title = _sessions_title(overview.sessions)
        self.load_selection()

    @on(DataTable.RowHighlighted, "#sessions")
    def session_highlighted(self) -> None:
        self.load_selection()

    def load_selection(self) -> None:
        tables = self.query(SessionTable)
        if tables:  # not while the app is closing
            self.load_details(tables.first().selected, self.history_all)

    @work(group="details", exclusive=True, thread=True)
    def load_details(self, row: SessionRow | None, history_all: bool) -> None:
        """Reading checkpoints and the journal is file I/O: never on the UI thread."""
        detail = self.service.detail(row) if row else None
        checkpoints = self.service.checkpoints(row) if row else []
        history = self.service.history(None if history_all or row is None else row.name)
        strip = self.service.history(row.name, 1000) if row else []
        if get_current_worker().is_cancelled:
            return  # a newer selection, or the app is closing: nothing to show it in
        self.call_from_thread(self._show_details, detail, checkpoints, history, strip)

    def _show_details(
        self,
        detail: SessionDetail | None,
        checkpoints: list[CheckpointRow],
        history: list[HistoryRow],
        strip: list[HistoryRow],
    ) -> None:
        if not self.is_running or self.screen is not self.screen_stack[0]:
            return  # closing, or a dialog is open: the next selection shows it
        self.detail = detail
        self.query_one(DetailPanel).show(detail)
        self.query_one(CheckpointList).show(checkpoints)
        self.draw_layouts()
        self.query_one(RecoveryLog).show(history)
        self.query_one(HealthStrip).show(strip)
        self.query_one(RecoveryLog).set_class(not history, "empty")
        scope = "all sessions" if self.history_all or detail is None else detail.row.name
        self.query_one("#history").border_title = plain(f"recovery history: {scope}")
        dated = as_of(detail.row.as_of) if detail is not None and detail.row.stale else ""
        # (the picker's differences are against the live session, old as well)
        self.query_one("#checkpoints").border_subtitle = f"live {dated}" if dated else ""

    def show_problems(self, problems: list[str]) -> None:
        """What is wrong beyond a session's health (a server that does not answer); the
        line takes no room when nothing is."""
        line = self.query_one("#problems", Static)
        line.update(plain("; ".join(problems), style="bold yellow"))
        line.set_class(bool(problems), "visible")

    def draw_layouts(self) -> None:
        """The live window beside the selected checkpoint's (after either changed)."""
        if not self.query(LayoutComparison):
            return  # the app is closing
        self.query_one(LayoutComparison).show(self.detail, self.query_one(CheckpointList).selected)

    @on(OptionList.OptionHighlighted, "#checkpoints")
    def checkpoint_highlighted(self) -> None:
        self.draw_layouts()

    def action_next_window(self) -> None:
        checkpoint = self.query_one(CheckpointList).selected
        windows = self.detail.layout if self.detail and self.detail.layout else ()
        if not windows and checkpoint is not None:
            windows = checkpoint.layout  # not running: the checkpoint's windows
        self.query_one(LayoutComparison).next_window(windows)
        self.draw_layouts()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

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


def _title(guard: str) -> Text:
    """The top line: the app's name and who guards (wraps at words, never cut)."""
    text = Text("◆ tmux-guardian", style="bold")
    text.append("  ")
    text.append(plain(guard, style="dim"))
    return text


def _sessions_title(rows: tuple[SessionRow, ...]) -> Text:
    """`sessions`, and for a server that does not answer since when its rows are old."""
    title = Text("sessions")
    seen: set[str] = set()
    for row in rows:
        if row.stale and row.server not in seen:
            seen.add(row.server)
            title.append(f" · {row.server} {as_of(row.as_of)}", style="bold yellow")
    return title


def run_app(engine: Engine) -> int:
    from guardian.view import EngineService

    GuardianApp(EngineService(engine), theme=engine.settings.ui_theme).run()
    return 0
