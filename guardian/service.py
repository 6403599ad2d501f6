"""What `status` and the UI ask of the engine, as plain data (the UI never runs tmux)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from guardian.engine import Engine
from guardian.monitor import GuardOptions, ServerGuard, live_state_path
from guardian.watcher import watcher_pid

READ_ONLY = GuardOptions(
    recover=False, prepare=False, checkpoints=False, journal=False, manifest=False
)


@dataclass
class StatusReport:
    sessions: list[dict[str, Any]] = field(default_factory=list)
    servers: list[dict[str, Any]] = field(default_factory=list)


def read_status(engine: Engine) -> StatusReport:
    """Every guarded session with its health: from the watcher's live state when a watcher
    runs and its last poll is fresh, else from one read-only poll of our own."""
    report = StatusReport()
    store = engine.store
    for target in engine.servers:
        live = _fresh_live_state(engine, target)
        if live is not None:
            sessions = live["sessions"]
            server = {
                "server": target.label,
                "running": live["server_error"] is None,
                "pid": live["server_pid"],
                "watcher_pid": live["watcher_pid"],
                "last_poll_age": round(time.time() - live["updated_at"], 2),
                "message": live["server_error"],
            }
        else:
            guard = ServerGuard(engine, target, READ_ONLY)
            guard.poll()
            probe = guard.last_probe
            sessions = [view.as_dict() for view in guard.views]
            running = probe is not None and probe.state is not None
            server = {
                "server": target.label,
                "running": running,
                "watcher_pid": None,
                "pid": probe.state.server.pid if running else None,  # type: ignore[union-attr]
                "message": probe.message if probe is not None and not running else None,
            }
        report.servers.append(server)
        for row in sessions:
            entries = store.entries(target.socket_path, row["name"])
            last = entries[0] if entries else None
            report.sessions.append(
                {
                    "server": target.label,
                    **row,
                    "last_checkpoint": last.id if last else None,
                    "last_checkpoint_at": last.created_at.isoformat() if last else None,
                }
            )
    return report


def _fresh_live_state(engine: Engine, target: Any) -> dict[str, Any] | None:
    if watcher_pid(engine.state_dir, target) is None:
        return None
    try:
        live = json.loads(live_state_path(engine.state_dir, target.socket_path).read_bytes())
    except (OSError, ValueError):
        return None
    if time.time() - float(live.get("updated_at", 0)) > max(3 * float(live["interval"]), 5.0):
        return None
    return live  # type: ignore[no-any-return]


def session_rows(engine: Engine) -> list[dict[str, Any]]:
    return read_status(engine).sessions


# -- the service the TUI is handed ------------------------------------------------------------
# Plain data out, every tmux call behind it. The TUI never knows whether the engine runs
# in-process (no watcher: we hold the lock, so we guard and recover) or in the watcher.


@dataclass(frozen=True)
class SessionRow:
    server: str
    socket_path: str
    name: str
    health: str
    evidence: tuple[str, ...] = ()
    attached: bool = False
    windows: int = 0
    panes: int = 0
    paused: bool = False
    given_up: str | None = None
    last_checkpoint_at: float | None = None
    last_recovery: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.socket_path, self.name)


@dataclass(frozen=True)
class PaneRow:
    window: str
    pane: str
    cwd: str
    program: str
    dead: bool
    active: bool


@dataclass(frozen=True)
class SessionDetail:
    row: SessionRow
    panes: tuple[PaneRow, ...]
    differences: tuple[str, ...]
    checkpoint_id: str | None


@dataclass(frozen=True)
class CheckpointRow:
    id: str
    created_at: float
    verified: bool
    windows: int = 0
    panes: int = 0
    reason: str = ""
    error: str = ""


@dataclass(frozen=True)
class HistoryRow:
    at: float
    session: str
    what: str
    outcome: str
    ok: bool | None


@dataclass(frozen=True)
class Overview:
    sessions: tuple[SessionRow, ...]
    guard: str
    """Who guards: "this window guards ..." or "watcher pid N, last poll 0.4 s ago"."""
    problems: tuple[str, ...] = ()
    at: float = 0.0


class ServiceError(Exception):
    """An action that did not happen; the message is one line for a notification."""


class EngineService:
    """Everything the TUI asks, answered by the engine. Blocking methods are called from
    worker threads; `poll` is async and runs its blocking part in a thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.interval = engine.settings.interval
        self._monitor: Any = None
        self._locks: Any = None
        self._states: dict[str, Any] = {}
        self._recoveries: dict[tuple[str, str], str] = {}

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Guard in-process only when no watcher holds the lock (never both recovering)."""
        from guardian.monitor import GuardOptions, Monitor
        from guardian.watcher import WatcherBusyError, watch_locks

        locks = watch_locks(self.engine.state_dir, self.engine.servers)
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

    @property
    def guarding(self) -> bool:
        return self._monitor is not None

    # -- reading -------------------------------------------------------------------------

    async def poll(self) -> Overview:
        import asyncio

        if self._monitor is None:
            self.start()  # the watcher may have stopped: then this window guards
        if self._monitor is not None:
            await self._monitor.poll_once()
            return await asyncio.to_thread(self._overview_from_monitor)
        return await asyncio.to_thread(self._overview_from_watcher)

    def _overview_from_monitor(self) -> Overview:
        self._read_recoveries()
        rows: list[SessionRow] = []
        problems: list[str] = []
        for guard in self._monitor.guards:
            probe = guard.last_probe
            if probe is not None and probe.state is not None:
                self._states[guard.target.socket_path] = probe.state
            elif probe is not None:
                problems.append(f"{guard.target.label}: {probe.message}")
            rows += [self._row(guard.target, view.as_dict()) for view in guard.views]
            rows += self._saved_only(guard.target, {view.verdict.session for view in guard.views})
        labels = ", ".join(t.label for t in self.engine.servers)
        return Overview(
            tuple(rows),
            f"guarding {labels} in this window (no watcher running)",
            tuple(problems),
            time.time(),
        )

    def _overview_from_watcher(self) -> Overview:
        from guardian.errors import TmuxError

        status = read_status(self.engine)
        self._read_recoveries()
        rows: list[SessionRow] = []
        problems: list[str] = []
        for target in self.engine.servers:
            try:
                self._states[target.socket_path] = self.engine.adapter(target).read_server()
            except TmuxError as exc:
                problems.append(f"{target.label}: {exc}")
        for row in status.sessions:
            target = next(t for t in self.engine.servers if t.label == row["server"])
            rows.append(self._row(target, row))
        for target in self.engine.servers:
            shown = {r.name for r in rows if r.socket_path == target.socket_path}
            rows += self._saved_only(target, shown)
        pids = [s for s in status.servers if s.get("watcher_pid")]
        guard = (
            f"watcher pid {pids[0]['watcher_pid']} guards, last poll "
            f"{pids[0]['last_poll_age']:.1f}s ago"
            if pids
            else "not guarded: no watcher"
        )
        return Overview(tuple(rows), guard, tuple(problems), time.time())

    def _row(self, target: Any, data: dict[str, Any]) -> SessionRow:
        entries = self.engine.store.entries(target.socket_path, data["name"])
        return SessionRow(
            server=target.label,
            socket_path=target.socket_path,
            name=data["name"],
            health=data["health"],
            evidence=tuple(data.get("evidence", ())),
            attached=bool(data["attached"]),
            windows=data["windows"],
            panes=data["panes"],
            paused=bool(data.get("paused")),
            given_up=data.get("given_up"),
            last_checkpoint_at=entries[0].created_at.timestamp() if entries else None,
            last_recovery=self._recoveries.get((target.socket_path, data["name"])),
        )

    def _read_recoveries(self) -> None:
        """The last action per session, from ONE read of the journal per poll."""
        from recovery.journal import Journal

        last: dict[tuple[str, str], str] = {}
        for entry in Journal(self.engine.state_dir).read(limit=1000):
            if entry.kind == "action":
                outcome = (entry.outcome or "").split(":", 1)[0]
                last[(entry.server, entry.session)] = f"{entry.at.astimezone():%H:%M:%S} {outcome}"
        self._recoveries = last

    def _saved_only(self, target: Any, shown: set[str]) -> list[SessionRow]:
        """Sessions with checkpoints that are not running (closed, or not yet rebuilt):
        listed so that a person can restore them."""
        from recovery.shared import SharedStore, shared_key

        forgotten = SharedStore(self.engine.state_dir).load().forgotten
        rows = []
        for name in self.engine.store.saved_session_names(target.socket_path):
            if name in shown or shared_key(target.socket_path, name) in forgotten:
                continue
            if self.engine.is_ignored(name):
                continue
            rows.append(
                self._row(
                    target,
                    {
                        "name": name,
                        "health": "not running",
                        "attached": False,
                        "windows": 0,
                        "panes": 0,
                    },
                )
            )
        return rows

    def detail(self, row: SessionRow) -> SessionDetail:
        from recovery.diff import describe_program, diff_sessions

        state = self._states.get(row.socket_path)
        session = state.session(row.name) if state is not None else None
        panes: list[PaneRow] = []
        if session is not None:
            for w in session.windows:
                for p in w.panes:
                    panes.append(
                        PaneRow(
                            f"{w.index}:{w.name}",
                            str(p.index),
                            p.cwd,
                            describe_program(p),
                            p.dead,
                            p.active,
                        )
                    )
        saved = self.engine.store.newest_verified(row.socket_path, row.name)
        differences: tuple[str, ...] = ()
        if saved is not None and session is not None:
            differences = tuple(diff_sessions(session, saved.session))
        elif saved is None:
            differences = ("no checkpoint yet",)
        else:
            differences = ("not running; the checkpoint can rebuild it",)
        return SessionDetail(row, tuple(panes), differences, saved.id if saved else None)

    def checkpoints(self, row: SessionRow) -> list[CheckpointRow]:
        from recovery.checkpoint import CheckpointError

        store = self.engine.store
        rows = []
        for entry in store.entries(row.socket_path, row.name):
            try:
                cp = store.load(entry)
            except CheckpointError as exc:
                rows.append(
                    CheckpointRow(entry.id, entry.created_at.timestamp(), False, error=str(exc))
                )
                continue
            rows.append(
                CheckpointRow(
                    cp.id,
                    cp.created_at.timestamp(),
                    True,
                    len(cp.session.windows),
                    cp.session.pane_count,
                    cp.reason,
                )
            )
        return rows

    def history(self, session: str | None = None, limit: int = 200) -> list[HistoryRow]:
        from recovery.journal import Journal

        rows = []
        for e in reversed(Journal(self.engine.state_dir).read(limit=limit, session=session)):
            what = e.action or (f"{e.health}" if e.health else e.kind)
            if e.evidence and not e.action:
                what += f": {'; '.join(e.evidence)}"
            outcome = e.outcome or ""
            ok = None if not outcome else not outcome.startswith("failed")
            rows.append(HistoryRow(e.at.timestamp(), e.session, what, outcome, ok))
        return rows

    # -- acting --------------------------------------------------------------------------

    def _target(self, socket_path: str) -> Any:
        return next(t for t in self.engine.servers if t.socket_path == socket_path)

    def snapshot(self, row: SessionRow | None) -> str:
        from guardian.errors import TmuxError
        from guardian.snapshot import take_snapshot
        from guardian.tmux import unvis_session_name

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

    def restore_preview(self, row: SessionRow, checkpoint_id: str) -> list[str]:
        from guardian.restore import RestoreUsageError, restore

        try:
            report = restore(
                self._engine_for(row),
                checkpoint_id=checkpoint_id,
                dry_run=True,
                replace=True,
                explicit_server=True,
            )
        except RestoreUsageError as exc:
            raise ServiceError(str(exc)) from None
        lines = [line for item in report.items for line in item.plan] + report.notes
        failed = [i.message for i in report.items if i.status == "failed"]
        if failed:
            raise ServiceError(failed[0])
        return lines

    def restore(self, row: SessionRow, checkpoint_id: str) -> str:
        from guardian.actions import journal_restore
        from guardian.restore import RestoreUsageError, restore

        engine = self._engine_for(row)
        try:
            report = restore(
                engine, checkpoint_id=checkpoint_id, replace=True, explicit_server=True
            )
        except RestoreUsageError as exc:
            raise ServiceError(str(exc)) from None
        journal_restore(engine, report)
        for item in report.items:
            if item.status == "failed":
                raise ServiceError(f"restore of '{item.session}' failed: {item.message}")
        return f"restored '{row.name}' from {checkpoint_id}"

    def _engine_for(self, row: SessionRow) -> Engine:
        return Engine(self.engine.settings, self.engine.state_dir, (self._target(row.socket_path),))

    def recover(self, row: SessionRow) -> str:
        from guardian.actions import reset_session

        reset_session(self.engine, row.socket_path, row.name, ask_watcher=True)
        who = "this window" if self.guarding else "the watcher"
        return f"'{row.name}' reset; {who} recovers it at the next poll"

    def forget(self, row: SessionRow) -> str:
        from guardian.actions import forget_session

        forget_session(self.engine, row.socket_path, row.name)
        return f"forgot '{row.name}': it will not be recovered or restored"

    def toggle_pause(self, row: SessionRow) -> str:
        from guardian.actions import toggle_pause

        paused = toggle_pause(self.engine, row.socket_path, row.name)
        return f"'{row.name}': guarding {'paused' if paused else 'resumed'}"
