"""The person's actions on a session — snapshot, restore, recover, forget, pause — with
their confirmations, each run in a worker so a frozen tmux server never freezes the UI;
also listed in the command palette."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from textual import work
from textual.app import App, SystemCommand
from textual.notifications import SeverityLevel
from textual.screen import Screen

from guardian.view import CheckpointRow, RestorePreview, ServiceError, SessionRow
from recovery.may_run.text import visible
from recovery.programs import Mode
from tui.screens.confirm import ConfirmScreen
from tui.screens.restore import RestoreScreen
from tui.service import GuardianService
from tui.widgets.checkpoint_list import CheckpointList
from tui.widgets.session_table import SessionTable

# Actions of the main screen: none while a dialog is open or about to open, so a burst of
# keys (`rr` typed fast, a paste of `/rwork⏎`) never opens two dialogs.
MAIN_SCREEN_ONLY = frozenset(
    {"snapshot", "snapshot_all", "restore", "recover", "forget", "pause", "filter"}
)


class SessionActions(App[int]):
    """The app's actions; GuardianApp adds the layout and the live updates."""

    service: GuardianService
    opening_dialog = False
    """A dialog is being prepared in a worker (a restore's plan): not yet on screen."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        busy = len(self.screen_stack) > 1 or self.opening_dialog
        return not (busy and action in MAIN_SCREEN_ONLY)

    def tell(self, message: str, severity: SeverityLevel = "information") -> None:
        """A notification a person reads: plain text, never markup, control characters
        shown (a session may be called `a[/]` or hold an escape sequence)."""
        self.notify(visible(message), severity=severity, markup=False)

    def load_selection(self) -> None:
        """Show the selected session's details again (after an action changed them)."""
        raise NotImplementedError

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

    # -- actions -------------------------------------------------------------------------

    @property
    def selected(self) -> SessionRow | None:
        return self.query_one(SessionTable).selected

    def _need_session(self) -> SessionRow | None:
        row = self.selected
        if row is None:
            self.tell("no session selected", severity="warning")
        return row

    def wake_monitor(self) -> None:
        """Poll again now (an action asked for a recovery this window performs)."""
        raise NotImplementedError

    @work(group="actions", thread=True)
    def perform(
        self, label: str, call: Callable[[], str], after: Callable[[], None] | None = None
    ) -> None:
        """Every action runs off the UI thread; its result or its failure is one line."""
        try:
            message = call()
        except ServiceError as exc:
            self.call_from_thread(self.tell, f"{label} failed: {exc}", severity="error")
        except Exception as exc:
            self.call_from_thread(
                self.tell, f"{label} failed: {type(exc).__name__}: {exc}", severity="error"
            )
        else:
            self.call_from_thread(self.tell, message)
            if after is not None:
                self.call_from_thread(after)
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
            self.tell("no checkpoint of this session to restore from", severity="warning")
            return
        if not checkpoint.verified:
            self.tell(
                f"checkpoint {checkpoint.id} does not verify: {checkpoint.error}", severity="error"
            )
            return
        self.opening_dialog = True
        self.prepare_restore(row, checkpoint)

    @work(group="actions", thread=True)
    def prepare_restore(self, row: SessionRow, checkpoint: CheckpointRow) -> None:
        try:
            preview = self.service.restore_preview(row, checkpoint.id)
        except Exception as exc:
            self.call_from_thread(self._dialog_failed, f"restore failed: {exc}")
            return
        title = f"Restore '{row.name}' from checkpoint {checkpoint.id}?"
        self.call_from_thread(self._confirm_restore, title, preview, row, checkpoint)

    def _dialog_failed(self, message: str) -> None:
        self.opening_dialog = False
        self.tell(message, severity="error")

    def _confirm_restore(
        self, title: str, preview: RestorePreview, row: SessionRow, checkpoint: CheckpointRow
    ) -> None:
        self.opening_dialog = False
        checkpoint_id = checkpoint.id

        def answered(choices: dict[str, Mode] | None) -> None:
            if choices is not None:
                self.perform(
                    "restore", lambda: self.service.restore(row, checkpoint_id, choices or None)
                )

        screen = RestoreScreen(
            title,
            preview,
            lambda c: self.replan(screen, row, checkpoint_id, c),
            checkpoint.layout,
        )
        self.push_screen(screen, answered)

    @work(group="replan", exclusive=True, thread=True)
    def replan(
        self, screen: RestoreScreen, row: SessionRow, checkpoint_id: str, choices: dict[str, Mode]
    ) -> None:
        """The plan again with the person's choices: it shows what the rule lets happen."""
        try:
            preview = self.service.restore_preview(row, checkpoint_id, choices)
        except ServiceError as exc:
            self.call_from_thread(self.tell, f"restore failed: {exc}", severity="error")
            return
        if screen.is_attached:
            self.call_from_thread(screen.show, preview)

    def action_recover(self) -> None:
        row = self._need_session()
        if row is not None:
            # what the service says is what happens: recovered now in this window (a poll
            # now), asked of the watcher, or why nobody will
            self.perform("recover", lambda: self.service.recover(row), self.wake_monitor)

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
