"""What `status` and the UI ask of the engine, as plain data (the UI never runs tmux)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from guardian.engine import Engine
from guardian.errors import ServerAbsentError, ServerNotRunningError, TmuxError


@dataclass
class StatusReport:
    sessions: list[dict[str, Any]] = field(default_factory=list)
    servers: list[dict[str, Any]] = field(default_factory=list)


def read_status(engine: Engine) -> StatusReport:
    """Every live session of every guarded server with its newest checkpoint, and how
    each server answered (running, not running, or not answering)."""
    report = StatusReport()
    store = engine.store
    for target in engine.servers:
        try:
            state = engine.adapter(target).read_server(probe_processes=False)
        except (ServerAbsentError, ServerNotRunningError) as exc:
            report.servers.append({"server": target.label, "running": False, "message": str(exc)})
            continue
        except TmuxError as exc:
            report.servers.append({"server": target.label, "running": None, "message": str(exc)})
            continue
        report.servers.append({"server": target.label, "running": True, "pid": state.server.pid})
        for session in state.sessions:
            entries = store.entries(target.socket_path, session.name)
            last = entries[0] if entries else None
            report.sessions.append(
                {
                    "server": target.label,
                    "name": session.name,
                    "health": "ignored" if engine.is_ignored(session.name) else "healthy",
                    "attached": session.attached > 0,
                    "windows": len(session.windows),
                    "panes": session.pane_count,
                    "last_checkpoint": last.id if last else None,
                    "last_checkpoint_at": last.created_at.isoformat() if last else None,
                }
            )
    return report


def session_rows(engine: Engine) -> list[dict[str, Any]]:
    return read_status(engine).sessions
