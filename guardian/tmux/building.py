"""Sessions under construction: every restore builds a session under a temporary name that
says who builds it (`_tg-building-<pid>-<token>`) and gives it its real name only once it
is whole and verified. So "a session with this name exists" never hides a half-built one,
a snapshot never saves one, and the next watcher rolls back what a killed builder left.
"""

from __future__ import annotations

import os
import re
import secrets

from guardian.errors import TmuxError
from guardian.tmux.adapter import TmuxAdapter
from guardian.tmux.procfs import read_stat
from recovery.models import ServerState

PREFIX = "_tg-building-"
_NAME = re.compile(rf"^{PREFIX}(\d+)-[0-9a-f]+$")


def building_name() -> str:
    return f"{PREFIX}{os.getpid()}-{secrets.token_hex(4)}"


def is_building(name: str) -> bool:
    return name.startswith(PREFIX)


def abandoned(state: ServerState) -> list[tuple[str, str]]:
    """(session id, name) of sessions whose builder is gone (killed mid-rebuild)."""
    found = []
    for session in state.sessions:
        match = _NAME.match(session.name)
        if match is None:
            continue
        builder = read_stat(int(match.group(1)))
        if builder is None or builder.state in ("Z", "X"):
            found.append((session.session_id, session.name))
    return found


def roll_back_abandoned(adapter: TmuxAdapter, state: ServerState) -> list[str]:
    """Kill what a killed builder left half-built; the rebuild then starts over."""
    gone = abandoned(state)
    if gone:
        try:
            adapter.run_commands([["kill-session", "-t", session_id] for session_id, _ in gone])
        except TmuxError:
            return []
    return [name for _, name in gone]
