"""EngineService: everything the TUI asks, answered by the engine as plain rows.

The TUI never knows whether the engine runs in-process (no watcher: this window holds the
lock, so it guards and recovers) or in the watcher. Blocking methods are called from
worker threads; `poll` is async and runs its blocking part in a thread.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import AbstractContextManager
from dataclasses import replace

from guardian.errors import RestoreUsageError, ServiceError, TmuxError, WatcherBusyError
from guardian.operations.engine import Engine
from guardian.operations.restore import RestoreReport, restore
from guardian.operations.sessions import (
    forget_session,
    journal_restore,
    reset_session,
    toggle_pause,
)
from guardian.operations.snapshot import take_snapshot
from guardian.tmux.names import unvis_session_name
from guardian.tmux.targets import ServerTarget
from guardian.view.details import checkpoint_rows, history_rows, session_detail
from guardian.view.handover import Handover
from guardian.view.overview import OverviewReader
from guardian.view.rows import (
    CheckpointRow,
    HistoryRow,
    Overview,
    RestorePreview,
    SessionDetail,
    SessionRow,
)
from guardian.watch.guard import GuardOptions
from guardian.watch.locks import guard_holder, watch_locks
from guardian.watch.monitor import Monitor
from guardian.watch.status import watcher_live_state
from recovery.programs import Mode

NOT_GUARDING = "this window could not take the lock"


def recovery_of(health: str, kill_frozen_server: bool) -> str:
    """What recovering a session of this health does, in a clause (`: thaw ...`)."""
    if health == "frozen":
        if kill_frozen_server:
            return ": thaw its server (SIGCONT), else kill and rebuild it"
        return (
            ": thaw its server (SIGCONT); if it stays frozen, killing it is off "
            "(kill_frozen_server): r restores it from a checkpoint"
        )
    if health in ("healthy", "not running", "server stopped"):
        return f" (it is {health}: nothing to repair; r restores from a checkpoint)"
    return ""


class EngineService:
    """The one service object the TUI is handed."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.interval = engine.settings.interval
        self._monitor: Monitor | None = None
        self._locks: AbstractContextManager[None] | None = None
        self._reader = OverviewReader(engine)
        self._comebacks: tuple[object, dict[str, str]] = (None, {})
        self._handover = Handover(engine)

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Guard in-process only when no watcher holds the lock (never both recovering)."""
        locks = watch_locks(self.engine.state_dir, self.engine.servers, who="ui")
        try:
            locks.__enter__()
        except WatcherBusyError:
            return
        self._locks = locks
        self._monitor = Monitor(self.engine, GuardOptions(recover=True))

    def stop(self) -> None:
        if self._monitor is not None:
            self._monitor.release()
            self._monitor = None
        if self._locks is not None:
            self._locks.__exit__(None, None, None)
            self._locks = None

    def _hand_over_if_asked(self) -> None:
        """A watcher started with `--take-over` asks: this window stops guarding."""
        if self._monitor is not None and self._handover.asked():
            self.stop()

    @property
    def guarding(self) -> bool:
        return self._monitor is not None

    # -- reading -------------------------------------------------------------------------

    async def poll(self) -> Overview:
        self._hand_over_if_asked()
        if self._monitor is None and not self._handover.waiting():
            self.start()  # the watcher may have stopped: then this window guards
        monitor = self._monitor
        if monitor is not None:
            await monitor.poll_once()
            return await asyncio.to_thread(self._reader.from_monitor, monitor)
        return await asyncio.to_thread(self._reader.from_watcher)

    def detail(self, row: SessionRow) -> SessionDetail:
        state = self._reader.states.get(row.socket_path)
        detail = session_detail(self.engine, state, row)
        if detail.checkpoint_id is None or not detail.panes:
            return detail
        # Planned again only when the checkpoint changes (or every 30 s: a conversation
        # may be deleted meanwhile), not at every poll.
        key = (row.socket_path, row.name, detail.checkpoint_id, int(time.monotonic() // 30))
        if self._comebacks[0] != key:
            self._comebacks = (key, self.comebacks(row))
        said = self._comebacks[1]
        panes = tuple(
            replace(p, comeback=said.get(f"{p.window.split(':')[0]}.{p.pane}", ""))
            for p in detail.panes
        )
        return replace(detail, panes=panes)

    def checkpoints(self, row: SessionRow) -> list[CheckpointRow]:
        return checkpoint_rows(self.engine, row)

    def history(self, session: str | None = None, limit: int = 200) -> list[HistoryRow]:
        return history_rows(self.engine, session, limit)

    # -- acting --------------------------------------------------------------------------

    def _target(self, socket_path: str) -> ServerTarget:
        return next(t for t in self.engine.servers if t.socket_path == socket_path)

    def _engine_for(self, row: SessionRow) -> Engine:
        return Engine(self.engine.settings, self.engine.state_dir, (self._target(row.socket_path),))

    def snapshot(self, row: SessionRow | None) -> str:
        saved = unchanged = 0
        targets = [self._target(row.socket_path)] if row else list(self.engine.servers)
        for target in targets:
            names = [unvis_session_name(row.name)] if row else None
            try:
                report = take_snapshot(self.engine, target, names, reason="tui")
            except TmuxError as exc:
                raise ServiceError(f"nothing saved: {exc}") from None
            saved += sum(1 for s in report.sessions if s.status == "saved")
            unchanged += sum(1 for s in report.sessions if s.status == "unchanged")
        what = f"'{row.name}'" if row else "all sessions"
        return f"snapshot of {what}: {saved} saved, {unchanged} unchanged"

    def _restore(
        self,
        row: SessionRow,
        checkpoint_id: str | None,
        *,
        dry_run: bool,
        choices: dict[str, Mode] | None = None,
    ) -> RestoreReport:
        engine = self._engine_for(row)
        try:
            return restore(
                engine,
                None if checkpoint_id else [row.name],
                checkpoint_id=checkpoint_id,
                names_as_tmux_reports=True,
                dry_run=dry_run,
                replace=True,
                explicit_server=True,
                choices=choices,
            )
        except RestoreUsageError as exc:
            raise ServiceError(str(exc)) from None

    def restore_preview(
        self, row: SessionRow, checkpoint_id: str, choices: dict[str, Mode] | None = None
    ) -> RestorePreview:
        report = self._restore(row, checkpoint_id, dry_run=True, choices=choices)
        failed = [i.message for i in report.items if i.status == "failed"]
        if failed:
            raise ServiceError(failed[0])
        lines = [line for item in report.items for line in item.plan] + report.notes
        panes = [pane for item in report.items for pane in item.panes]
        return RestorePreview(tuple(lines), tuple(panes))

    def restore(
        self, row: SessionRow, checkpoint_id: str, choices: dict[str, Mode] | None = None
    ) -> str:
        report = self._restore(row, checkpoint_id, dry_run=False, choices=choices)
        journal_restore(self._engine_for(row), report)
        for item in report.items:
            if item.status == "failed":
                raise ServiceError(f"restore of '{item.session}' failed: {item.message}")
        return f"restored '{row.name}' from {checkpoint_id}"

    def comebacks(self, row: SessionRow) -> dict[str, str]:
        """`WINDOW.PANE` -> how it would come back from the newest checkpoint now."""
        try:
            report = self._restore(row, None, dry_run=True)
        except (ServiceError, TmuxError, OSError):
            return {}
        return {p.where: p.how for item in report.items for p in item.panes}

    def recover(self, row: SessionRow) -> str:
        """Reset it and have it recovered: by this window's own monitor at once (the UI
        polls again now), or by the watcher at its next poll; or say why nobody will."""
        watcher = None if self.guarding else self._watcher_of(row.socket_path)
        if not self.guarding and watcher is None:
            raise ServiceError(f"nobody guards '{row.name}': no watcher runs and {NOT_GUARDING}")
        if watcher is not None and not watcher.get("recovers", True):
            raise ServiceError(
                f"watcher pid {watcher['watcher_pid']} runs with --no-recover: it will not "
                f"recover '{row.name}'; stop it (this window then guards) or restart it "
                "without --no-recover"
            )
        reset_session(self.engine, row.socket_path, row.name, ask_watcher=True)
        how = recovery_of(row.health, self.engine.settings.kill_frozen_server)
        if watcher is None:
            return f"recovering '{row.name}' now in this window{how}"
        return (
            f"asked {watcher['who']} to recover '{row.name}' at its next "
            f"poll (every {watcher.get('interval') or self.interval:g} s){how}"
        )

    def _watcher_of(self, socket_path: str) -> dict[str, object] | None:
        """The watcher guarding this server: its pid, whether it recovers, its interval."""
        target = self._target(socket_path)
        holder = guard_holder(self.engine.state_dir, target)
        if holder is None:
            return None
        live = watcher_live_state(self.engine, target) or {}
        who = f"watcher pid {holder.pid}"
        if holder.who == "ui":
            who = f"the tmux-guardian UI (pid {holder.pid}) that guards it"
        return {
            "watcher_pid": holder.pid,
            "who": who,
            **{k: live[k] for k in ("recovers", "interval") if k in live},
        }

    def forget(self, row: SessionRow) -> str:
        forget_session(self.engine, row.socket_path, row.name)
        return f"forgot '{row.name}': it will not be recovered or restored"

    def toggle_pause(self, row: SessionRow) -> str:
        paused = toggle_pause(self.engine, row.socket_path, row.name)
        return f"'{row.name}': guarding {'paused' if paused else 'resumed'}"
