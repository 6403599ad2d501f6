"""Hearing a server's or a pane's end as it happens, so the watcher looks at once instead
of at its next poll: the read-only control client's notifications and its EOF, and a pidfd
on the server's process and each pane's. An end heard is a prompt to look, never a verdict.
"""

from __future__ import annotations

from collections.abc import Callable

from guardian.tmux.adapter import TmuxAdapter
from guardian.tmux.exits import ExitWatch
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
