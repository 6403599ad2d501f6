"""What the watcher shows of each server after a poll: one view per session, written as a
live-state file per server that `status`, the UI and scripts read."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recovery.breaker import BreakerState
from recovery.health import Verdict
from recovery.models import ServerState
from recovery.shared import SharedState, shared_key
from recovery.store import server_key


@dataclass
class SessionView:
    """What `status` and the TUI show of one session."""

    verdict: Verdict
    paused: bool = False
    given_up: str | None = None
    windows: int = 0
    panes: int = 0
    last_checkpoint: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.verdict.session,
            "health": self.verdict.health.value,
            "evidence": list(self.verdict.evidence),
            "attached": self.verdict.attached,
            "paused": self.paused,
            "given_up": self.given_up,
            "windows": self.windows,
            "panes": self.panes,
        }


def session_views(
    verdicts: list[Verdict],
    state: ServerState | None,
    shared: SharedState,
    breakers: dict[str, BreakerState],
) -> list[SessionView]:
    views = []
    for verdict in verdicts:
        key = shared_key(verdict.server, verdict.session)
        session = state.session(verdict.session) if state else None
        given = shared.given_up.get(key)
        breaker = breakers.get(key)
        views.append(
            SessionView(
                verdict,
                paused=key in shared.paused,
                given_up=given.reason if given else (breaker.given_up if breaker else None),
                windows=len(session.windows) if session else 0,
                panes=session.pane_count if session else 0,
            )
        )
    return views


def live_state_path(state_dir: Path, socket_path: str) -> Path:
    return state_dir / "live" / f"{server_key(socket_path)}.json"
