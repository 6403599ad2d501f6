"""What the UI asks of the engine, as plain data (the UI never talks to tmux itself)."""

from __future__ import annotations

from typing import Any

from guardian.engine import Engine
from guardian.errors import TmuxError


def session_rows(engine: Engine) -> list[dict[str, Any]]:
    """One row per live session of every guarded server, with its newest checkpoint id."""
    rows: list[dict[str, Any]] = []
    store = engine.store
    for target in engine.servers:
        try:
            state = engine.adapter(target).read_server(probe_processes=False)
        except TmuxError:
            continue
        for session in state.sessions:
            entries = store.entries(target.socket_path, session.name)
            rows.append(
                {
                    "server": target.label,
                    "name": session.name,
                    "health": "healthy",
                    "attached": session.attached > 0,
                    "windows": len(session.windows),
                    "panes": session.pane_count,
                    "last_checkpoint": entries[0].id if entries else None,
                    "last_checkpoint_at": entries[0].created_at.isoformat() if entries else None,
                }
            )
    return rows
