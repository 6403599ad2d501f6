"""The UI's overview of every guarded session after a poll: from this window's own monitor
when it guards, else from the watcher's live state; plus sessions that only have
checkpoints (closed, or not rebuilt yet), so a person can restore them."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from guardian.errors import TmuxError
from guardian.operations.engine import Engine
from guardian.tmux.targets import ServerTarget
from guardian.view.rows import Overview, SessionRow
from guardian.watch.locks import guard_holder
from guardian.watch.monitor import Monitor
from guardian.watch.status import read_status
from recovery.journal import Journal
from recovery.models import ServerState
from recovery.shared import SharedStore, shared_key

Recoveries = dict[tuple[str, str], str]


# A person's bookkeeping is journaled as an action, but it recovers nothing.
NOT_RECOVERIES = frozenset(
    f"{what} (by a person)" for what in ("pause", "resume", "reset", "forget")
)


def last_recoveries(engine: Engine) -> Recoveries:
    """The last recovery per session (a repair, a rebuild, a person's restore), from ONE
    read of the journal per poll."""
    last: Recoveries = {}
    for entry in Journal(engine.state_dir).read(limit=1000):
        if entry.kind == "action" and entry.action not in NOT_RECOVERIES:
            outcome = (entry.outcome or "").split(":", 1)[0]
            last[(entry.server, entry.session)] = f"{entry.at.astimezone():%H:%M:%S} {outcome}"
    return last


def who_guards(engine: Engine, target: ServerTarget, last_poll_age: float | None) -> str:
    """Who guards a server this UI does not: a watcher, another UI, or nobody."""
    holder = guard_holder(engine.state_dir, target)
    where = target.socket_path
    if holder is None:
        return f"nobody guards {where}: no watcher runs"
    if holder.who == "ui":
        return f"a tmux-guardian UI (pid {holder.pid}) guards {where} while it is open"
    age = f", last poll {last_poll_age:.1f}s ago" if last_poll_age is not None else ""
    return f"watcher pid {holder.pid} guards {where}{age}"


class OverviewReader:
    """Builds Overviews; remembers the last good read of each server for the detail panel."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.states: dict[str, ServerState] = {}
        self.recoveries: Recoveries = {}
        self.unanswered: dict[str, str] = {}
        """Servers whose last read failed, and why: their sessions are shown as of the
        last read that worked (`states`), never as live."""

    def answered(self, target: ServerTarget, state: ServerState | None, why: str) -> None:
        if state is not None:
            self.states[target.socket_path] = state
            self.unanswered.pop(target.socket_path, None)
        else:
            self.unanswered[target.socket_path] = why

    def dated(self, rows: list[SessionRow]) -> list[SessionRow]:
        """Rows of a server that does not answer say since when they are what they are."""
        dated = []
        for row in rows:
            why = self.unanswered.get(row.socket_path)
            if why is None:
                dated.append(row)
                continue
            state = self.states.get(row.socket_path)
            dated.append(replace(row, as_of=state.read_at if state else None, stale=why))
        return dated

    def from_monitor(self, monitor: Monitor) -> Overview:
        self.recoveries = last_recoveries(self.engine)
        rows: list[SessionRow] = []
        problems: list[str] = []
        for guard in monitor.guards:
            probe = guard.last_probe
            if probe is not None:
                why = probe.message
                if probe.error == "not_answering":
                    why = f"its server does not answer: {why}"
                self.answered(guard.target, probe.state, why)
                if probe.state is None:
                    problems.append(f"{guard.target.label}: {probe.message}")
            rows += [self.row(guard.target, view.as_dict()) for view in guard.views]
            rows += self.saved_only(guard.target, {view.verdict.session for view in guard.views})
        paths = ", ".join(t.socket_path for t in self.engine.servers)
        return Overview(
            tuple(self.dated(rows)),
            f"this UI guards {paths}: no watcher runs",
            tuple(problems),
            time.time(),
        )

    def from_watcher(self) -> Overview:
        status = read_status(self.engine)
        self.recoveries = last_recoveries(self.engine)
        rows: list[SessionRow] = []
        problems: list[str] = []
        for target in self.engine.servers:
            try:
                self.answered(target, self.engine.adapter(target).read_server(), "")
            except TmuxError as exc:
                self.answered(target, None, f"its server does not answer: {exc}")
                problems.append(f"{target.label}: {exc}")
        for row in status.sessions:
            target = next(t for t in self.engine.servers if t.label == row["server"])
            rows.append(self.row(target, row))
        for target in self.engine.servers:
            shown = {r.name for r in rows if r.socket_path == target.socket_path}
            rows += self.saved_only(target, shown)
        ages = {s["server"]: s.get("last_poll_age") for s in status.servers}
        guard = "; ".join(
            who_guards(self.engine, target, ages.get(target.label))
            for target in self.engine.servers
        )
        return Overview(tuple(self.dated(rows)), guard, tuple(problems), time.time())

    def row(self, target: ServerTarget, data: dict[str, Any]) -> SessionRow:
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
            last_recovery=self.recoveries.get((target.socket_path, data["name"])),
        )

    def saved_only(self, target: ServerTarget, shown: set[str]) -> list[SessionRow]:
        """Sessions with checkpoints that are not running (closed, or not yet rebuilt):
        listed so that a person can restore them."""
        forgotten = SharedStore(self.engine.state_dir).load().forgotten
        rows = []
        for name in self.engine.store.saved_session_names(target.socket_path):
            if name in shown or shared_key(target.socket_path, name) in forgotten:
                continue
            if self.engine.is_ignored(name):
                continue
            not_running = {
                "name": name,
                "health": "not running",
                "attached": False,
                "windows": 0,
                "panes": 0,
            }
            rows.append(self.row(target, not_running))
        return rows
