"""`status`: every guarded session with its health — from the running watcher's live-state
file when its last poll is fresh, else from one read-only poll of our own."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from guardian.operations.engine import Engine
from guardian.tmux.targets import ServerTarget
from guardian.watch.guard import GuardOptions, ServerGuard
from guardian.watch.live_state import live_state_path
from guardian.watch.locks import watcher_pid
from recovery.reading import read_bounded

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
                "recovers": live.get("recovers", True),
                "interval": live.get("interval"),
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
                "pid": probe.state.server.pid if probe and probe.state else None,
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


def watcher_live_state(engine: Engine, target: ServerTarget) -> dict[str, Any] | None:
    """The running watcher's last live state of this server, however old (a watcher
    blocked on a frozen server writes late); None when no watcher runs or none is read."""
    if watcher_pid(engine.state_dir, target) is None:
        return None
    try:
        data, _facts = read_bounded(live_state_path(engine.state_dir, target.socket_path), 1 << 24)
        live = json.loads(data)
    except (OSError, ValueError, RecursionError):
        return None
    return live if isinstance(live, dict) else None


def _fresh_live_state(engine: Engine, target: ServerTarget) -> dict[str, Any] | None:
    live = watcher_live_state(engine, target)
    try:
        if live is None or time.time() - float(live.get("updated_at", 0)) > max(
            3 * float(live["interval"]), 5.0
        ):
            return None
    except (ValueError, KeyError, TypeError):
        return None
    return live
