"""Hearing a server's or a pane's end as it happens, so the watcher looks at once instead
of at its next poll: the read-only control client's notifications and its EOF, and a pidfd
on the server's process and each pane's. An end heard is a prompt to look, never a verdict.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from guardian.errors import TmuxError
from guardian.tmux.adapter import TmuxAdapter
from guardian.tmux.exits import ExitWatch
from guardian.tmux.servers import process_state
from recovery.observations import ServerProbe

WAKING_NOTICES = frozenset(
    {"%exit", "%sessions-changed", "%session-changed", "%window-close", "%unlinked-window-close"}
)
"""A control client's notifications that may mean an end: each prompts a look."""


class Hearing:
    """One server's ears; `nudge(reason)` is called from their threads."""

    def __init__(self, adapter: TmuxAdapter, label: str, nudge: Callable[[str], None]) -> None:
        self.adapter = adapter

        def notice(name: str) -> None:
            if name in WAKING_NOTICES:
                nudge(f"{label}: {name}")

        adapter.keep_control_client(notice)
        self.exits = ExitWatch(lambda pid: nudge(f"{label}: process {pid} ended"))

    def after_poll(self, probe: ServerProbe) -> None:
        """Listen for the processes this poll saw."""
        if probe.state is not None:
            self.exits.watch(processes(probe))

    def all_quiet(self, server_pid: int | None) -> bool:
        """A heartbeat between full reads: the socket is there, the server is not stopped
        and answers its control client at once. Anything else calls for a full read."""
        socket_path = self.adapter.target.socket_path
        if server_pid is None or not os.path.exists(socket_path):
            return False
        control = self.adapter.control
        if control is None or process_state(server_pid) not in ("S", "R"):
            return False
        try:
            control.request([["display-message", "-p", "."]], self.adapter.timeout)
        except TmuxError:
            return False
        return True

    def close(self) -> None:
        self.adapter.close_control_client()
        self.exits.close()


def processes(probe: ServerProbe) -> set[int]:
    """The server's process and each live pane's: the ends worth hearing at once."""
    state = probe.state
    if state is None:
        return set()
    pids = {state.server.pid} if state.server.pid else set()
    for session in state.sessions:
        for window in session.windows:
            pids.update(p.process.pid for p in window.panes if p.process and not p.dead)
    return pids
